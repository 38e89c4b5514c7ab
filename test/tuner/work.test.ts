import { describe, expect, it } from 'vitest';
import { SourceText } from '../../dsl/source.js';
import { estimateWork, hottestLoopTrips, WorkError } from '../../tuner/work.js';
import { buildShipped, buildText } from '../support/build.js';

const MiB = 1024 * 1024;

describe('estimateWork: gemm', () => {
  const ir = buildShipped('gemm.tile', 'gemm', { BM: 128, BN: 128, BK: 32 });
  const w = estimateWork(ir, { M: 4096, N: 4096, K: 4096 });

  it('has the 32×32 grid and exactly 2·4096³ tensor FLOPs in total', () => {
    expect(w.grid).toEqual([32, 32, 1]);
    expect(w.programs).toBe(1024);
    expect(w.total.mmaFlops).toBe(2 * 4096 ** 3);
    expect(w.perProgram.mmaFlops).toBe(2 * 128 * 128 * 4096);
    expect(w.perProgram.dots).toBe(4096 / 32);
    expect(w.mmaDtype).toBe('f16');
  });

  it('loads (BM·K + K·BN)·2 bytes and stores BM·BN·2 bytes per program', () => {
    expect(w.perProgram.loadBytes).toBe((128 * 4096 + 4096 * 128) * 2);
    expect(w.perProgram.storeBytes).toBe(128 * 128 * 2);
    expect(w.perProgram.loads).toBe(2 * 128);
    expect(w.perProgram.stores).toBe(1);
  });

  it('counts the k loop and evaluates one program (every program does the same work)', () => {
    expect(w.uniform).toBe(true);
    expect(w.programsEvaluated).toBe(1);
    expect(w.loops).toHaveLength(1);
    expect(w.loops[0]).toMatchObject({ name: 'k0', meanTrips: 128, minTrips: 128, maxTrips: 128, executionsPerProgram: 1, stages: 3 });
    expect(hottestLoopTrips(w)).toBe(128);
  });

  it('unique bytes: a and b read once, c written once; tile traffic is 32× that for a and b', () => {
    expect(w.uniqueReadBytes).toBe(2 * 32 * MiB);
    expect(w.uniqueWriteBytes).toBe(32 * MiB);
    expect(w.uniqueBytes).toBe(96 * MiB);
    const a = w.tensors.find((t) => t.name === 'a')!;
    expect(a.bytes).toBe(32 * MiB);
    expect(a.loadTraffic).toBe(32 * 32 * MiB);
    expect(w.tensors.find((t) => t.name === 'c')!.storeTraffic).toBe(32 * MiB);
  });

  it('counts the epilogue cast as elementwise work and nothing as transcendental', () => {
    expect(w.perProgram.elementwiseOps).toBeGreaterThanOrEqual(128 * 128);
    expect(w.perProgram.transcendentalOps).toBe(0);
  });

  it('rounds ragged grids up and counts full tiles at the edges (masking ignored)', () => {
    const r = estimateWork(ir, { M: 1000, N: 300, K: 100 });
    expect(r.grid).toEqual([8, 3, 1]);
    expect(r.loops[0]!.meanTrips).toBe(4); // ceil(100 / 32)
    expect(r.perProgram.mmaFlops).toBe(2 * 128 * 128 * 32 * 4);
    // The unique bytes never exceed the tensors' sizes.
    expect(r.uniqueBytes).toBe((1000 * 100 + 100 * 300 + 1000 * 300) * 2);
  });

  it('follows the dtype constant', () => {
    const bf = estimateWork(buildShipped('gemm.tile', 'gemm', { dtype: 'bf16' }), { M: 256, N: 256, K: 256 });
    expect(bf.mmaDtype).toBe('bf16');
  });

  it('names the missing shape symbols', () => {
    expect(() => estimateWork(ir, { M: 4096, N: 4096 })).toThrow(WorkError);
    expect(() => estimateWork(ir, { M: 4096, N: 4096 })).toThrow(/K/);
  });
});

describe('estimateWork: attention', () => {
  const shape = { B: 1, H: 8, HKV: 8, S: 8192, T: 8192, scale: 0.125 };
  const full = estimateWork(buildShipped('attention.tile', 'attention', { causal: false }), shape);
  const causal = estimateWork(buildShipped('attention.tile', 'attention', { causal: true }), shape);

  it('non-causal: 4·B·H·S·T·D FLOPs, every program alike', () => {
    expect(full.grid).toEqual([8192 / 64, 8, 1]);
    expect(full.total.mmaFlops).toBe(4 * 1 * 8 * 8192 * 8192 * 64);
    expect(full.uniform).toBe(true);
    expect(full.perProgram.transcendentalOps).toBeGreaterThan(0);
  });

  it('causal: about half the FLOPs, trip count growing with the program id', () => {
    const ratio = causal.total.mmaFlops / full.total.mmaFlops;
    expect(ratio).toBeCloseTo(0.5, 2);
    // Exactly: program i runs i + 1 key blocks (BM = BN = 64, S = T).
    const n = 8192 / 64;
    expect(causal.total.mmaFlops).toBe(((n * (n + 1)) / 2) * 8 * 2 * (2 * 64 * 64 * 64));
    expect(causal.uniform).toBe(false);
    // Only grid axis 0 reaches the loop bound: one program per query block is evaluated.
    expect(causal.programsEvaluated).toBe(n);
    expect(causal.loops[0]).toMatchObject({ minTrips: 1, maxTrips: n, meanTrips: (n + 1) / 2 });
    expect(causal.maxProgram.mmaFlops).toBe(full.perProgram.mmaFlops);
    // Every key block is still read by some program: the unique bytes match the full kernel's.
    expect(causal.uniqueBytes).toBe(full.uniqueBytes);
  });

  it('grouped-query attention reads fewer unique K/V bytes', () => {
    const gqa = estimateWork(buildShipped('attention.tile', 'attention'), { ...shape, HKV: 2 });
    expect(gqa.total.mmaFlops).toBe(full.total.mmaFlops);
    expect(gqa.uniqueReadBytes).toBeLessThan(full.uniqueReadBytes);
    const k = gqa.tensors.find((t) => t.name === 'k')!;
    expect(k.bytes).toBe(2 * 8192 * 64 * 2);
  });

  it('samples past 65536 distinct programs and still averages to one half', () => {
    const big = { B: 1, H: 1, HKV: 1, S: 1 << 23, T: 1 << 23, scale: 1 };
    const c = estimateWork(buildShipped('attention.tile', 'attention', { causal: true }), big);
    const f = estimateWork(buildShipped('attention.tile', 'attention', { causal: false }), big);
    expect(c.programsEvaluated).toBe(4096);
    expect(c.notes.join(' ')).toMatch(/sample/);
    expect(c.total.mmaFlops / f.total.mmaFlops).toBeCloseTo(0.5, 2);
  });
});

describe('estimateWork: mlp', () => {
  it('mlp_gate_up does two dots per step sharing one x tile', () => {
    const ir = buildShipped('mlp.tile', 'mlp_gate_up', { BM: 64, BF: 64, BK: 32 });
    const w = estimateWork(ir, { M: 512, E: 1024, F: 2048 });
    expect(w.total.mmaFlops).toBe(2 * (2 * 512 * 1024 * 2048));
    expect(w.perProgram.dots).toBe(2 * (1024 / 32));
    // x, wg and wu tiles each step: (BM·BK + 2·BK·BF)·2 bytes.
    expect(w.perProgram.loadBytes).toBe((1024 / 32) * (64 * 32 + 2 * 32 * 64) * 2);
    // silu is transcendental, once per output element.
    expect(w.perProgram.transcendentalOps).toBe(64 * 64);
  });

  it('mlp_down also reads the residual tile', () => {
    const ir = buildShipped('mlp.tile', 'mlp_down', { BM: 64, BN: 64, BK: 32 });
    const w = estimateWork(ir, { M: 256, F: 512, E: 256 });
    expect(w.perProgram.loadBytes).toBe((64 * 512 + 512 * 64) * 2 + 64 * 64 * 2);
    expect(w.uniqueReadBytes).toBe((256 * 512 + 512 * 256 + 256 * 256) * 2);
  });
});

describe('estimateWork: control flow', () => {
  const text = (body: string) =>
    buildText(
      new SourceText(
        'inline.tile',
        `kernel tri(a: f16[N, N], o: f16[N, N], n_extra: i32)
  tune { B in [16] = 16; }
  grid [cdiv(N, B)]
{
${body}
}`,
      ),
      'tri',
    );

  it('iterates a loop whose body has a loop bound depending on its induction variable', () => {
    const ir = text(`
  let p = program_id(0);
  var acc = zeros([B, B], f32);
  for i in range(0, N, B) {
    for j in range(0, i, B) {
      acc = dot(load(a[i : B, j : B]), load(a[j : B, i : B]), acc);
    }
  }
  store(o[p * B : B, 0 : B], acc as f16);`);
    const w = estimateWork(ir, { N: 128, n_extra: 0 });
    const n = 128 / 16;
    expect(w.uniform).toBe(true);
    expect(w.perProgram.dots).toBe((n * (n - 1)) / 2);
    const inner = w.loops.find((l) => l.name === 'j')!;
    expect(inner.executionsPerProgram).toBe(n);
    expect(inner.meanTrips).toBe((n - 1) / 2);
    expect(inner.maxTrips).toBe(n - 1);
  });

  it('evaluates scalar params in loop bounds and a runtime `if` on the program id', () => {
    const ir = text(`
  let p = program_id(0);
  var acc = zeros([B, B], f32);
  if p % 2 == 0 {
    for i in range(0, p + n_extra) {
      acc = dot(load(a[0 : B, 0 : B]), load(a[0 : B, 0 : B]), acc);
    }
  }
  store(o[p * B : B, 0 : B], acc as f16);`);
    const w = estimateWork(ir, { N: 64, n_extra: 3 });
    // Programs 0..3; even ones run p + 3 dots: 3 + 5.
    expect(w.uniform).toBe(false);
    expect(w.total.dots).toBe(3 + 5);
    expect(w.maxProgram.dots).toBe(5);
    expect(() => estimateWork(ir, { N: 64 })).toThrow(/bound/);
  });
});
