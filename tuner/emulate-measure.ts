/**
 * The tuner's `emulate` measurement backend: each compiled candidate's code runs on the CPU — PTX in
 * the PTX emulator (runtime/emulate-backend.ts), HIP in the HIP CPU harness (runtime/hip-cpu/) — which
 * checks it and, for PTX, feeds statistics to the cost model; nothing is timed, so every cost it
 * returns is still labeled *modeled*.
 *
 * 1. Correctness, once per candidate (it does not depend on the tuned shape): seeded random inputs
 *    at a small ragged shape (`checkShape`), outputs poisoned with NaN, the candidate's code on the
 *    CPU and the same IR in the reference interpreter (the oracle), every stored tensor compared by
 *    relative L2 (`OUTPUT_TOLERANCE`). A mismatch or a sanitizer finding is a `mismatch`; an
 *    emulator, harness or interpreter error (unsupported instruction, step limit, deadlock, bad
 *    arguments) is a `crash`.
 * 2. NVIDIA only — proxy statistics at the tuned shape's per-program behaviour (`proxyShape`): each
 *    shape symbol clamped so the launch has 1–2 programs per grid axis and a couple of loop
 *    iterations; the emulator's shared-memory and global-memory counts become the cost model's
 *    ProxyStats (`proxyStatsFrom`). The HIP harness counts nothing, so AMD costs use the clang
 *    report alone, as `--backend model` does.
 * 3. The cost: modelCost at the real shape's work, with those statistics.
 * docs/cost-model.md ("Proxy statistics from the emulator") has the choices and their limits.
 */
import { type KernelArgs, interpret, type TensorArg } from '../compiler/interpreter.js';
import type { IRKernel } from '../compiler/ir.js';
import { walkOps } from '../compiler/ir.js';
import { abiParams } from '../compiler/kernel-abi.js';
import type { CompiledHip } from '../compiler/hip/kernel-abi.js';
import type { CompiledPtx } from '../compiler/ptx/kernel-abi.js';
import type { DType } from '../dsl/dtype.js';
import { roundToDType } from '../dsl/float-rounding.js';
import { OUTPUT_TOLERANCE, relL2 } from '../runtime/compare.js';
import { runOnEmulator } from '../runtime/emulate-backend.js';
import { runOnHipCpu } from '../runtime/hip-cpu/hip-cpu-backend.js';
import type { EmuStats, Finding } from '../runtime/emulator/types.js';
import { makeRng, randomTensor, type Rng } from '../runtime/random.js';
import type { Candidate } from './compile-candidate.js';
import { type ModeledCost, modelCost, type ProxyStats } from './cost-model.js';
import type { DeviceSpec } from './devices.js';
import { estimateWork, type ProblemShape } from './work.js';


/** Sizes the correctness check gives tiled shape symbols, in order of first appearance: distinct, odd, ≤ 96. */
export const CHECK_SIZES: readonly number[] = [37, 45, 51, 29, 61, 43, 53, 23, 59, 31];
/** …and symbols no access tiles (batch, head counts: one program each). */
export const CHECK_SMALL_SIZES: readonly number[] = [2, 3, 5, 7];
/** Scalar parameters in both runs: floats 0.125, integers 1. */
export const CHECK_FLOAT_SCALAR = 0.125;
export const CHECK_INT_SCALAR = 1;
/** A proxy symbol no access tiles is clamped to this (its programs all behave alike). */
export const PROXY_UNTILED = 2;
/** …and one whose tile extent is unknown to this bound. */
export const PROXY_FALLBACK = 256;

/** What ran the candidate's code on the CPU. */
export type CheckedOn = 'ptx-emulator' | 'hip-cpu';

/** The PTX emulator's proxy launch at the tuned shape (NVIDIA candidates). */
export interface ProxyRun {
  readonly shape: ProblemShape;
  readonly stats: ProxyStats;
  readonly emuStats: EmuStats;
}

export type EmulateMeasurement =
  | { readonly ok: true; readonly cost: ModeledCost; readonly checkedOn: CheckedOn; readonly maxRelL2: number; readonly proxy?: ProxyRun }
  | { readonly ok: false; readonly reason: 'mismatch' | 'crash'; readonly message: string };

export interface EmulateOptions {
  readonly seed: number;
  readonly device: DeviceSpec;
  readonly target: Candidate['target'];
  /** Emulator step limit per run (its default when absent). */
  readonly maxSteps?: number;
}

type NvidiaCandidate = Extract<Candidate, { compiled: CompiledPtx }>;
type AmdCandidate = Extract<Candidate, { compiled: CompiledHip }>;
type Check = { ok: true; maxRelL2: number } | { ok: false; reason: 'mismatch' | 'crash'; message: string };

/** Per tensor: whether the body loads it, stores it, and the largest tile extent along each axis. */
function accessesOf(ir: IRKernel): Map<string, { loaded: boolean; stored: boolean; extents: number[] }> {
  const names = new Map<number, string>();
  walkOps(ir.body, (op) => {
    if (op.op === 'tensor') names.set(op.result.id, op.name);
  });
  const out = new Map<string, { loaded: boolean; stored: boolean; extents: number[] }>();
  for (const p of ir.params) if (p.kind === 'tensor') out.set(p.name, { loaded: false, stored: false, extents: p.dims.map(() => 0) });
  walkOps(ir.body, (op) => {
    if (op.op !== 'load' && op.op !== 'store') return;
    const a = out.get(names.get(op.tensor.id) ?? '');
    if (!a) return;
    if (op.op === 'load') a.loaded = true;
    else a.stored = true;
    op.indices.forEach((ix, axis) => {
      if (ix.size !== null && axis < a.extents.length) a.extents[axis] = Math.max(a.extents[axis]!, ix.size);
    });
  });
  return out;
}

/** The largest tile extent any access uses along an axis indexed by each shape symbol (0: none). */
export function symbolExtents(ir: IRKernel): Map<string, number> {
  const acc = accessesOf(ir);
  const out = new Map<string, number>();
  for (const d of abiParams(ir).dimNames) out.set(d, 0);
  for (const p of ir.params) {
    if (p.kind !== 'tensor') continue;
    p.dims.forEach((d, axis) => {
      if (typeof d === 'string') out.set(d, Math.max(out.get(d) ?? 0, acc.get(p.name)!.extents[axis]!));
    });
  }
  return out;
}

/** The correctness check's shape: tiled symbols take CHECK_SIZES in order, untiled ones CHECK_SMALL_SIZES. */
export function checkShape(ir: IRKernel): ProblemShape {
  const shape: Record<string, number> = {};
  let tiled = 0;
  let small = 0;
  for (const [sym, extent] of symbolExtents(ir)) {
    shape[sym] = extent > 0 ? CHECK_SIZES[tiled++ % CHECK_SIZES.length]! : CHECK_SMALL_SIZES[small++ % CHECK_SMALL_SIZES.length]!;
  }
  return shape;
}

/**
 * The proxy launch's shape: each symbol min(real, 2 × the largest tile extent along an axis it
 * indexes) — 1–2 programs per grid axis, 1–2 iterations of a loop over it — PROXY_UNTILED for a
 * symbol no access tiles.
 */
export function proxyShape(ir: IRKernel, real: ProblemShape): ProblemShape {
  const shape: Record<string, number> = {};
  for (const [sym, extent] of symbolExtents(ir)) {
    const r = real[sym];
    if (r === undefined) throw new Error(`the shape has no value for '${sym}'`);
    shape[sym] = Math.min(r, extent > 0 ? 2 * extent : PROXY_UNTILED);
  }
  return shape;
}

function randomInput(rng: Rng, dtype: DType, n: number): Float64Array {
  if (dtype === 'bool') return Float64Array.from({ length: n }, () => (rng.next() < 0.5 ? 1 : 0));
  if (dtype === 'i32' || dtype === 'i64') return Float64Array.from({ length: n }, () => Math.floor(rng.next() * 9) - 4 || 1);
  return randomTensor(rng, n, dtype);
}

/** Seeded inputs for every parameter at `shape`; a tensor the kernel only stores arrives full of NaN. */
export function makeArgs(ir: IRKernel, shape: ProblemShape, seed: number): KernelArgs {
  const rng = makeRng(seed);
  const acc = accessesOf(ir);
  const args: KernelArgs = new Map();
  for (const p of ir.params) {
    if (p.kind === 'scalar') {
      args.set(p.name, p.dtype === 'i32' || p.dtype === 'i64' || p.dtype === 'bool' ? CHECK_INT_SCALAR : roundToDType(p.dtype, CHECK_FLOAT_SCALAR));
      continue;
    }
    const dims = p.dims.map((d) => (typeof d === 'number' ? d : shape[d]!));
    const n = dims.reduce((a, b) => a * b, 1);
    const a = acc.get(p.name)!;
    const data = a.stored && !a.loaded ? new Float64Array(n).fill(NaN) : randomInput(rng, p.dtype, n);
    args.set(p.name, { dtype: p.dtype, shape: dims, data });
  }
  return args;
}

function cloneArgs(args: KernelArgs): KernelArgs {
  return new Map([...args].map(([k, v]) => [k, typeof v === 'number' ? v : { ...v, shape: [...v.shape], data: v.data.slice() }]));
}

function describeFinding(f: Finding): string {
  const where = f.source ? ` (${f.source.file}:${f.source.line})` : ` (PTX line ${f.ptxLine})`;
  return `${f.kind}: ${f.message}${where}`;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

const shapeText = (s: ProblemShape): string =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** Runs the candidate's PTX in the emulator; a throw or a step-limit finding is a crash, another finding a mismatch. */
function emulateOnce(c: NvidiaCandidate, args: KernelArgs, what: string, maxSteps: number | undefined): { ok: true; stats: EmuStats } | { ok: false; reason: 'mismatch' | 'crash'; message: string } {
  let run: ReturnType<typeof runOnEmulator>;
  try {
    run = runOnEmulator(c.compiled, c.ir, args, maxSteps !== undefined ? { maxSteps } : {});
  } catch (e) {
    return { ok: false, reason: 'crash', message: `the emulator could not run the PTX ${what}: ${errorText(e)}` };
  }
  const stuck = run.findings.find((f) => f.kind === 'step-limit' || f.kind === 'deadlock');
  if (stuck) return { ok: false, reason: 'crash', message: `the emulator stopped ${what}: ${describeFinding(stuck)}` };
  if (run.findings.length > 0) {
    const more = run.findings.length > 1 ? ` (and ${run.findings.length - 1} more)` : '';
    return { ok: false, reason: 'mismatch', message: `the sanitizer reported ${what}: ${describeFinding(run.findings[0]!)}${more}` };
  }
  return { ok: true, stats: run.stats };
}

/** Seeded inputs at checkShape(ir), and what the interpreter makes of them: the oracle's side of a check. */
function checkInputs(ir: IRKernel, seed: number): { at: string; args: KernelArgs; expected: KernelArgs } | Extract<Check, { ok: false }> {
  const shape = checkShape(ir);
  const at = `at ${shapeText(shape)}, seed ${seed}`;
  const args = makeArgs(ir, shape, seed);
  const expected = cloneArgs(args);
  try {
    interpret(ir, expected);
  } catch (e) {
    return { ok: false, reason: 'crash', message: `the reference interpreter failed ${at}: ${errorText(e)}` };
  }
  return { at, args, expected };
}

/** Every stored tensor of `args` against the interpreter's `expected`, by relative L2. */
function compareOutputs(ir: IRKernel, args: KernelArgs, expected: KernelArgs, at: string): Check {
  const acc = accessesOf(ir);
  let maxRelL2 = 0;
  for (const p of ir.params) {
    if (p.kind !== 'tensor' || !acc.get(p.name)!.stored) continue;
    const out = (args.get(p.name) as TensorArg).data;
    const ref = (expected.get(p.name) as TensorArg).data;
    const err = relL2(out, ref);
    const tol = OUTPUT_TOLERANCE[p.dtype];
    if (!(err <= tol)) {
      let nans = 0;
      for (const x of out) if (Number.isNaN(x)) nans++;
      return { ok: false, reason: 'mismatch', message: `output '${p.name}' differs from the interpreter ${at}: relL2 ${err} > ${tol} (${p.dtype})${nans ? `, ${nans} of ${out.length} elements NaN (never written?)` : ''}` };
    }
    maxRelL2 = Math.max(maxRelL2, err);
  }
  return { ok: true, maxRelL2 };
}

/** The correctness check of a PTX candidate: emulator vs interpreter at checkShape(ir). */
export function checkCorrectness(c: NvidiaCandidate, seed: number, maxSteps?: number): Check {
  const inputs = checkInputs(c.ir, seed);
  if ('ok' in inputs) return inputs;
  const run = emulateOnce(c, inputs.args, inputs.at, maxSteps);
  if (!run.ok) return run;
  return compareOutputs(c.ir, inputs.args, inputs.expected, inputs.at);
}

/** The correctness check of a HIP candidate: the HIP CPU harness vs the interpreter at checkShape(ir). */
export async function checkOnHipCpu(c: AmdCandidate, seed: number): Promise<Check> {
  const inputs = checkInputs(c.ir, seed);
  if ('ok' in inputs) return inputs;
  try {
    await runOnHipCpu(c.compiled, c.ir, inputs.args);
  } catch (e) {
    return { ok: false, reason: 'crash', message: `the HIP CPU harness could not run the kernel ${inputs.at}: ${errorText(e)}` };
  }
  return compareOutputs(c.ir, inputs.args, inputs.expected, inputs.at);
}

const TYPE_BYTES: Readonly<Record<string, number>> = { 8: 1, 16: 2, 32: 4, 64: 8, 128: 16 };

/**
 * The widest global access the PTX issues, in bytes per lane: `ld.global`/`st.global` (vector
 * width × element size) and `cp.async … shared.global` (its copy size). 4 when there is none.
 */
export function widestGlobalAccess(ptx: string): number {
  let widest = 0;
  for (const m of ptx.matchAll(/\b(?:ld|st)\.global((?:\.[a-z0-9:]+)+)/g)) {
    const mods = m[1]!.split('.');
    const vec = Number(mods.find((x) => /^v\d$/.test(x))?.slice(1) ?? 1);
    const type = mods.find((x) => /^[bfsu](8|16|32|64|128)$/.test(x));
    if (type) widest = Math.max(widest, vec * (TYPE_BYTES[type.slice(1)] ?? 0));
  }
  for (const m of ptx.matchAll(/\bcp\.async\.c[ag]\.shared(?:::cta)?\.global[^\s]*\s+\[[^\]]*\],\s*\[[^\]]*\],\s*(\d+)/g)) widest = Math.max(widest, Number(m[1]));
  return widest || 4;
}

/**
 * Emulator statistics as the cost model's ProxyStats. The ideal sectors per request are what a
 * fully coalesced warp request (32 lanes) of the widest global access in the PTX touches:
 * 32 × width / 32 bytes per sector — a lenient bound (see docs/cost-model.md).
 */
export function proxyStatsFrom(s: EmuStats, ptx: string): ProxyStats {
  const width = widestGlobalAccess(ptx);
  return {
    bankConflictRate: s.shared.wavefronts > 0 ? s.shared.conflictWavefronts / s.shared.wavefronts : 0,
    ...(s.global.requests > 0 ? { sectorsPerRequest: s.global.sectors / s.global.requests, idealSectorsPerRequest: (32 * width) / 32 } : {}),
  };
}

/** Correctness checks per candidate and seed (a candidate object is compiled once per tuning run, and checked once for all shapes). */
const checks = new WeakMap<object, Map<number, Promise<Check>>>();

function cachedCheck(c: Candidate, seed: number, maxSteps: number | undefined): Promise<Check> {
  let bySeed = checks.get(c);
  if (!bySeed) checks.set(c, (bySeed = new Map()));
  let r = bySeed.get(seed);
  if (!r) {
    r = 'ptx' in c.compiled ? Promise.resolve(checkCorrectness(c as NvidiaCandidate, seed, maxSteps)) : checkOnHipCpu(c as AmdCandidate, seed);
    bySeed.set(seed, r);
  }
  return r;
}

/**
 * Checks a compiled candidate against the interpreter on the CPU (cached per candidate); for PTX
 * also runs the proxy launch for `shape`; models the cost at `shape` with what that gave.
 */
export async function measureWithEmulator(candidate: Candidate, shape: ProblemShape, opts: EmulateOptions): Promise<EmulateMeasurement> {
  const check = await cachedCheck(candidate, opts.seed, opts.maxSteps);
  if (!check.ok) return check;
  const work = estimateWork(candidate.ir, shape);
  if (!('ptx' in candidate.compiled)) {
    const cost = modelCost({ device: opts.device, target: opts.target, work, resources: candidate.resources });
    return { ok: true, cost, checkedOn: 'hip-cpu', maxRelL2: check.maxRelL2 };
  }
  const c = candidate as NvidiaCandidate;
  const pshape = proxyShape(c.ir, shape);
  const run = emulateOnce(c, makeArgs(c.ir, pshape, opts.seed), `at the proxy shape ${shapeText(pshape)}, seed ${opts.seed}`, opts.maxSteps);
  if (!run.ok) return run;
  const stats = proxyStatsFrom(run.stats, c.compiled.ptx);
  const cost = modelCost({ device: opts.device, target: opts.target, work, resources: c.resources, stats });
  return { ok: true, cost, checkedOn: 'ptx-emulator', maxRelL2: check.maxRelL2, proxy: { shape: pshape, stats, emuStats: run.stats } };
}
