/**
 * L1 of the verification ladder: each shipped kernel, through the reference interpreter, against
 * its float64 reference, on random inputs at ragged shapes, in f16 and bf16, at several
 * configurations. Outputs are poisoned with NaN first so an unwritten element fails.
 */
import { describe, expect, it } from 'vitest';
import { type KernelArgs, type TensorArg, interpret } from '../../compiler/interpreter.js';
import type { DType } from '../../dsl/dtype.js';
import { attentionRef, gemmRef, mlpDownRef, mlpGateUpRef } from '../../kernels/reference.js';
import { buildShipped } from '../support/build.js';
import { expectClose } from '../support/compare.js';
import { makeRng, randomTensor, seedFromEnv } from '../support/random.js';

const TOL: Record<string, number> = { f16: 3e-3, bf16: 1e-2 };
const SEED = seedFromEnv(20261129);

function input(rng: ReturnType<typeof makeRng>, dtype: DType, shape: number[], scale = 1): TensorArg {
  return { dtype, shape, data: randomTensor(rng, shape.reduce((a, b) => a * b, 1), dtype, scale) };
}

function poisoned(dtype: DType, shape: number[]): TensorArg {
  return { dtype, shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(NaN) };
}

describe.each(['f16', 'bf16'] as const)('gemm %s', (dtype) => {
  const configs = [{}, { BM: 64, BN: 64, BK: 64, WARPS: 4 }, { BM: 64, BN: 128, BK: 32, WARPS: 8 }];
  it.each(configs)('M=77 N=45 K=50 config %o', (config) => {
    const seed = SEED + 1;
    const rng = makeRng(seed);
    const [M, N, K] = [77, 45, 50];
    const a = input(rng, dtype, [M, K]);
    const b = input(rng, dtype, [K, N]);
    const c = poisoned(dtype, [M, N]);
    interpret(buildShipped('gemm.tile', 'gemm', { dtype, ...config }), new Map([['a', a], ['b', b], ['c', c]]) as KernelArgs);
    expectClose(c.data, gemmRef(a.data, b.data, M, K, N), TOL[dtype]!, `gemm ${dtype} ${JSON.stringify(config)} seed=${seed}`);
  });
});

describe.each(['f16', 'bf16'] as const)('attention %s', (dtype) => {
  const cases = [
    { D: 64, causal: false, S: 100, T: 130, config: {} },
    { D: 64, causal: true, S: 100, T: 130, config: { BM: 128, BN: 32, WARPS: 8 } },
    { D: 128, causal: false, S: 100, T: 130, config: { BM: 64, BN: 32 } },
    { D: 128, causal: true, S: 100, T: 130, config: {} },
    // More queries than keys: the first S - T causal rows see no key and must output 0.
    { D: 64, causal: true, S: 130, T: 100, config: { BN: 128, WARPS: 8 } },
  ];
  it.each(cases)('B=2 H=4 HKV=2 S=$S T=$T D=$D causal=$causal config $config', ({ D, causal, S, T, config }) => {
    const seed = SEED + 2 + D + (causal ? 1 : 0);
    const rng = makeRng(seed);
    const [B, H, HKV] = [2, 4, 2];
    const q = input(rng, dtype, [B, H, S, D]);
    const k = input(rng, dtype, [B, HKV, T, D]);
    const v = input(rng, dtype, [B, HKV, T, D]);
    const o = poisoned(dtype, [B, H, S, D]);
    const scale = 1 / Math.sqrt(D);
    const ir = buildShipped('attention.tile', 'attention', { dtype, causal, D, ...config });
    interpret(ir, new Map<string, TensorArg | number>([['q', q], ['k', k], ['v', v], ['o', o], ['scale', scale]]));
    const ref = attentionRef(q.data, k.data, v.data, { B, H, HKV, S, T, D }, scale, causal);
    expectClose(o.data, ref, TOL[dtype]!, `attention ${dtype} D=${D} causal=${causal} S=${S} T=${T} seed=${seed}`);
    if (causal && S > T) {
      // Rows i < S - T see no key at all.
      for (let i = 0; i < S - T; i++) expect(o.data[i * D]).toBe(0);
    }
  });
});

describe.each(['f16', 'bf16'] as const)('mlp %s', (dtype) => {
  const [M, E, F] = [33, 64, 96];
  it.each([{}, { BM: 128, BF: 128, BK: 64, WARPS: 8 }])('mlp_gate_up M=33 E=64 F=96 config %o', (config) => {
    const seed = SEED + 3;
    const rng = makeRng(seed);
    const x = input(rng, dtype, [M, E]);
    const wg = input(rng, dtype, [E, F], 0.2);
    const wu = input(rng, dtype, [E, F], 0.2);
    const h = poisoned(dtype, [M, F]);
    interpret(buildShipped('mlp.tile', 'mlp_gate_up', { dtype, ...config }), new Map([['x', x], ['wg', wg], ['wu', wu], ['h', h]]) as KernelArgs);
    expectClose(h.data, mlpGateUpRef(x.data, wg.data, wu.data, M, E, F), TOL[dtype]!, `mlp_gate_up ${dtype} seed=${seed}`);
  });
  it.each([{}, { BM: 128, BN: 64, BK: 64, WARPS: 8 }])('mlp_down M=33 F=96 E=64 config %o', (config) => {
    const seed = SEED + 4;
    const rng = makeRng(seed);
    const h = input(rng, dtype, [M, F]);
    const wd = input(rng, dtype, [F, E], 0.2);
    const r = input(rng, dtype, [M, E]);
    const y = poisoned(dtype, [M, E]);
    interpret(buildShipped('mlp.tile', 'mlp_down', { dtype, ...config }), new Map([['h', h], ['wd', wd], ['r', r], ['y', y]]) as KernelArgs);
    expectClose(y.data, mlpDownRef(h.data, wd.data, r.data, M, F, E), TOL[dtype]!, `mlp_down ${dtype} seed=${seed}`);
  });
});
