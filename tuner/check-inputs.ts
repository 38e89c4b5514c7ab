/**
 * The correctness check every measuring backend runs before it trusts a candidate (the emulate
 * backend on the CPU, the gpu backend on the device): seeded random inputs at a small ragged shape,
 * outputs poisoned with NaN, the reference interpreter's results as the oracle (user kernels have
 * no hand-written reference), every stored tensor compared by relative L2 (`OUTPUT_TOLERANCE`).
 * docs/cost-model.md ("Proxy statistics from the emulator", step 1) gives the shapes and values.
 */
import { type KernelArgs, interpret, type TensorArg } from '../compiler/interpreter.js';
import type { IRKernel } from '../compiler/ir.js';
import { walkOps } from '../compiler/ir.js';
import { abiParams } from '../compiler/kernel-abi.js';
import type { DType } from '../dsl/dtype.js';
import { roundToDType } from '../dsl/float-rounding.js';
import { OUTPUT_TOLERANCE, relL2 } from '../runtime/compare.js';
import { makeRng, randomTensor, type Rng } from '../runtime/random.js';
import type { ProblemShape } from './work.js';

/** A candidate's check: passed with its largest error, or why not. */
export type Check = { ok: true; maxRelL2: number } | { ok: false; reason: 'mismatch' | 'crash'; message: string };

/** Sizes the correctness check gives tiled shape symbols, in order of first appearance: distinct, odd, ≤ 96. */
export const CHECK_SIZES: readonly number[] = [37, 45, 51, 29, 61, 43, 53, 23, 59, 31];
/** …and symbols no access tiles (batch, head counts: one program each). */
export const CHECK_SMALL_SIZES: readonly number[] = [2, 3, 5, 7];
/** Scalar parameters in both runs: floats 0.125, integers 1. */
export const CHECK_FLOAT_SCALAR = 0.125;
export const CHECK_INT_SCALAR = 1;
/** Per tensor: whether the body loads it, stores it, and the largest tile extent along each axis. */
export function accessesOf(ir: IRKernel): Map<string, { loaded: boolean; stored: boolean; extents: number[] }> {
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

/** Seeded values of a dtype: normal samples rounded to it, small non-zero integers, or 0/1. */
export function randomInput(rng: Rng, dtype: DType, n: number): Float64Array {
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

export function cloneArgs(args: KernelArgs): KernelArgs {
  return new Map([...args].map(([k, v]) => [k, typeof v === 'number' ? v : { ...v, shape: [...v.shape], data: v.data.slice() }]));
}

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

export const shapeText = (s: ProblemShape): string =>
  Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** Seeded inputs at checkShape(ir), and what the interpreter makes of them: the oracle's side of a check. */
export function checkInputs(ir: IRKernel, seed: number): { at: string; args: KernelArgs; expected: KernelArgs } | Extract<Check, { ok: false }> {
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
export function compareOutputs(ir: IRKernel, args: KernelArgs, expected: KernelArgs, at: string): Check {
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
