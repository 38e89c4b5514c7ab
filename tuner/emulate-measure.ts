/**
 * The tuner's `emulate` measurement backend: each compiled candidate's code runs on the CPU — PTX in
 * the PTX emulator (runtime/emulate-backend.ts), HIP in the HIP CPU harness (runtime/hip-cpu/) — which
 * checks it and, for PTX, feeds statistics to the cost model; nothing is timed, so every cost it
 * returns is still labeled *modeled*.
 *
 * 1. Correctness, once per candidate (it does not depend on the tuned shape): the check of
 *    tuner/check-inputs.ts with the candidate's code on the CPU. A mismatch or a sanitizer finding is a `mismatch`; an
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
import type { KernelArgs } from '../compiler/interpreter.js';
import type { IRKernel } from '../compiler/ir.js';
import type { CompiledHip } from '../compiler/hip/kernel-abi.js';
import type { CompiledPtx } from '../compiler/ptx/kernel-abi.js';
import { runOnEmulator } from '../runtime/emulate-backend.js';
import { runOnHipCpu } from '../runtime/hip-cpu/hip-cpu-backend.js';
import type { EmuStats, Finding } from '../runtime/emulator/types.js';
import { type Check, checkInputs, compareOutputs, errorText, makeArgs, shapeText, symbolExtents } from './check-inputs.js';
import type { Candidate } from './compile-candidate.js';
import { type ModeledCost, modelCost, type ProxyStats } from './cost-model.js';
import type { DeviceSpec } from './devices.js';
import { estimateWork, type ProblemShape } from './work.js';


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

function describeFinding(f: Finding): string {
  const where = f.source ? ` (${f.source.file}:${f.source.line})` : ` (PTX line ${f.ptxLine})`;
  return `${f.kind}: ${f.message}${where}`;
}

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
