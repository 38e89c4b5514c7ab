/**
 * The shipped kernels' verification cases: ragged shapes, seeded random inputs, the float64
 * reference, and the tolerance. `tilekit selftest` runs them through every backend this machine
 * has and reports the rung of the verification ladder each reached.
 */
import type { KernelArgs, TensorArg } from '../compiler/interpreter.js';
import type { DType } from '../dsl/dtype.js';
import { OUTPUT_TOLERANCE } from '../runtime/compare.js';
import { makeRng, randomTensor, type Rng } from '../runtime/random.js';
import { attentionRef, gemmRef, mlpDownRef, mlpGateUpRef } from './reference.js';

export interface SelftestCase {
  /** File under kernels/. */
  readonly file: string;
  readonly kernel: string;
  /** Constants for this case (the configuration comes from the caller). */
  readonly consts: Readonly<Record<string, string>>;
  /** Human-readable shape, e.g. `M=77 N=45 K=50`. */
  readonly shape: string;
  /** The output tensor checked against the reference. */
  readonly output: string;
  readonly tolerance: number;
  /** Fresh inputs (output poisoned with NaN) and the float64 reference for them. */
  make(seed: number): { args: KernelArgs; reference: Float64Array };
}

/** Relative L2 tolerances of the brief: f16 and bf16 outputs, f32 accumulation. */
export const TOLERANCE: Readonly<Record<'f16' | 'bf16', number>> = { f16: OUTPUT_TOLERANCE.f16, bf16: OUTPUT_TOLERANCE.bf16 };

function tensor(rng: Rng, dtype: DType, shape: number[], scale = 1): TensorArg {
  return { dtype, shape, data: randomTensor(rng, shape.reduce((a, b) => a * b, 1), dtype, scale) };
}

/** An output tensor filled with NaN, so an element the kernel never writes fails the check. */
export function poisoned(dtype: DType, shape: number[]): TensorArg {
  return { dtype, shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(NaN) };
}

/** GEMM c = a·b at a shape (default: ragged and unaligned, M=77 N=45 K=50). */
export function gemmCase(dtype: 'f16' | 'bf16', M = 77, N = 45, K = 50): SelftestCase {
  return {
    file: 'gemm.tile',
    kernel: 'gemm',
    consts: { dtype },
    shape: `M=${M} N=${N} K=${K}`,
    output: 'c',
    tolerance: TOLERANCE[dtype],
    make(seed) {
      const rng = makeRng(seed);
      const a = tensor(rng, dtype, [M, K]);
      const b = tensor(rng, dtype, [K, N]);
      const args: KernelArgs = new Map([['a', a], ['b', b], ['c', poisoned(dtype, [M, N])]]);
      return { args, reference: gemmRef(a.data, b.data, M, K, N) };
    },
  };
}

/** Attention with grouped-query heads (H=4 over HKV=2). */
export function attentionCase(dtype: 'f16' | 'bf16', D: number, causal: boolean, S = 100, T = 130, B = 2): SelftestCase {
  const [H, HKV] = [4, 2];
  return {
    file: 'attention.tile',
    kernel: 'attention',
    consts: { dtype, D: String(D), causal: String(causal) },
    shape: `B=${B} H=${H} HKV=${HKV} S=${S} T=${T} D=${D}`,
    output: 'o',
    tolerance: TOLERANCE[dtype],
    make(seed) {
      const rng = makeRng(seed);
      const q = tensor(rng, dtype, [B, H, S, D]);
      const k = tensor(rng, dtype, [B, HKV, T, D]);
      const v = tensor(rng, dtype, [B, HKV, T, D]);
      const scale = 1 / Math.sqrt(D);
      const args: KernelArgs = new Map<string, TensorArg | number>([
        ['q', q],
        ['k', k],
        ['v', v],
        ['o', poisoned(dtype, [B, H, S, D])],
        ['scale', scale],
      ]);
      return { args, reference: attentionRef(q.data, k.data, v.data, { B, H, HKV, S, T, D }, scale, causal) };
    },
  };
}

export function mlpCase(dtype: 'f16' | 'bf16', which: 'mlp_gate_up' | 'mlp_down', M = 33, E = 64, F = 96): SelftestCase {
  const common = { file: 'mlp.tile', kernel: which, consts: { dtype }, shape: `M=${M} E=${E} F=${F}`, tolerance: TOLERANCE[dtype] };
  if (which === 'mlp_gate_up') {
    return {
      ...common,
      output: 'h',
      make(seed) {
        const rng = makeRng(seed);
        const x = tensor(rng, dtype, [M, E]);
        const wg = tensor(rng, dtype, [E, F], 0.2);
        const wu = tensor(rng, dtype, [E, F], 0.2);
        const args: KernelArgs = new Map([['x', x], ['wg', wg], ['wu', wu], ['h', poisoned(dtype, [M, F])]]);
        return { args, reference: mlpGateUpRef(x.data, wg.data, wu.data, M, E, F) };
      },
    };
  }
  return {
    ...common,
    output: 'y',
    make(seed) {
      const rng = makeRng(seed);
      const h = tensor(rng, dtype, [M, F]);
      const wd = tensor(rng, dtype, [F, E], 0.2);
      const r = tensor(rng, dtype, [M, E]);
      const args: KernelArgs = new Map([['h', h], ['wd', wd], ['r', r], ['y', poisoned(dtype, [M, E])]]);
      return { args, reference: mlpDownRef(h.data, wd.data, r.data, M, F, E) };
    },
  };
}

export function selftestCases(): SelftestCase[] {
  const cases: SelftestCase[] = [];
  for (const dtype of ['f16', 'bf16'] as const) {
    cases.push(gemmCase(dtype));
    for (const D of [64, 128]) for (const causal of [false, true]) cases.push(attentionCase(dtype, D, causal));
    // More queries than keys: the first S - T causal rows see no key and must output 0.
    cases.push(attentionCase(dtype, 64, true, 130, 100));
    cases.push(mlpCase(dtype, 'mlp_gate_up'), mlpCase(dtype, 'mlp_down'));
  }
  return cases;
}
