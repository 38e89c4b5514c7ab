import { describe, expect, it } from 'vitest';
import { attentionRef, gemmRef, mlpDownRef, mlpGateUpRef, silu } from '../../kernels/reference.js';
import { expectClose, relL2 } from '../support/compare.js';
import { makeRng, randomTensor } from '../support/random.js';

const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);

describe('gemmRef', () => {
  it('multiplies 2×3 by 3×2', () => {
    const a = f64([1, 2, 3, 4, 5, 6]);
    const b = f64([7, 8, 9, 10, 11, 12]);
    // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
    expect(Array.from(gemmRef(a, b, 2, 3, 2))).toEqual([58, 64, 139, 154]);
  });

  it('rejects mismatched lengths', () => {
    expect(() => gemmRef(f64([1, 2]), f64([1]), 1, 2, 1)).toThrow(/gemmRef: b has length 1, expected K\*N = 2/);
  });
});

describe('attentionRef', () => {
  const dims1 = { B: 1, H: 1, HKV: 1, S: 1, T: 1, D: 3 };

  it('returns v when there is a single key', () => {
    const o = attentionRef(f64([1, -2, 3]), f64([4, 5, 6]), f64([0.5, -1, 2]), dims1, 0.3, false);
    expect(Array.from(o)).toEqual([0.5, -1, 2]);
  });

  it('gives the mean of v for uniform scores', () => {
    const T = 4;
    const D = 2;
    const k = new Float64Array(T * D).fill(1); // every score equal
    const v = f64([1, 10, 2, 20, 3, 30, 6, 60]);
    const o = attentionRef(f64([0.7, -0.2]), k, v, { B: 1, H: 1, HKV: 1, S: 1, T, D }, 1, false);
    expect(o[0]).toBeCloseTo(3, 12);
    expect(o[1]).toBeCloseTo(30, 12);
  });

  it('maps query heads to KV heads like repeat_interleave', () => {
    const B = 2;
    const H = 6;
    const HKV = 3;
    const S = 2;
    const T = 3;
    const D = 2;
    const rng = makeRng(7);
    const q = randomTensor(rng, B * H * S * D, 'f32');
    const k = randomTensor(rng, B * HKV * T * D, 'f32');
    // KV head g of batch b holds the constant 10·b + g in every row: the output reveals the head read.
    const v = new Float64Array(B * HKV * T * D);
    for (let i = 0; i < v.length; i++) v[i] = 10 * Math.floor(i / (HKV * T * D)) + (Math.floor(i / (T * D)) % HKV);
    const o = attentionRef(q, k, v, { B, H, HKV, S, T, D }, 0.5, false);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < S * D; i++) {
          expect(o[(b * H + h) * S * D + i]).toBeCloseTo(10 * b + Math.floor(h / 2), 12);
        }
      }
    }
  });

  it('causal with S=2, T=4 aligns bottom-right', () => {
    const D = 1;
    const q = f64([1, 2]);
    const k = f64([0.1, 0.2, 0.3, 0.4]);
    const v = f64([1, 2, 3, 4]);
    const scale = 0.5;
    const o = attentionRef(q, k, v, { B: 1, H: 1, HKV: 1, S: 2, T: 4, D }, scale, true);
    const softmaxAvg = (qi: number, keys: number): number => {
      const w = Array.from({ length: keys }, (_, j) => Math.exp(scale * qi * k[j]));
      const sum = w.reduce((s, x) => s + x, 0);
      return w.reduce((s, x, j) => s + (x / sum) * v[j], 0);
    };
    expect(o[0]).toBeCloseTo(softmaxAvg(1, 3), 14); // query 0 sees keys 0..2
    expect(o[1]).toBeCloseTo(softmaxAvg(2, 4), 14); // query 1 sees keys 0..3
  });

  it('causal with S=4, T=2 leaves rows that see no key at 0', () => {
    const D = 2;
    const rng = makeRng(3);
    const q = randomTensor(rng, 4 * D, 'f32');
    const k = randomTensor(rng, 2 * D, 'f32');
    const v = f64([5, 6, 7, 8]);
    const o = attentionRef(q, k, v, { B: 1, H: 1, HKV: 1, S: 4, T: 2, D }, 1, true);
    expect(Array.from(o.subarray(0, 2 * D))).toEqual([0, 0, 0, 0]);
    expect(Array.from(o.subarray(2 * D, 3 * D))).toEqual([5, 6]); // query 2 sees key 0 only
    expect(o[3 * D]).toBeGreaterThan(5);
    expect(o[3 * D]).toBeLessThan(7);
  });

  it('is stable for large scores', () => {
    const o = attentionRef(f64([1000]), f64([1000, 999]), f64([1, 0]), { B: 1, H: 1, HKV: 1, S: 1, T: 2, D: 1 }, 1, false);
    expect(o[0]).toBe(1); // exp(-1000) vanishes next to exp(0); no Infinity/Infinity
  });

  it('validates its arguments', () => {
    const dims = { B: 1, H: 3, HKV: 2, S: 1, T: 1, D: 1 };
    expect(() => attentionRef(f64([1, 1, 1]), f64([1, 1]), f64([1, 1]), dims, 1, false)).toThrow(/multiple of HKV/);
    expect(() => attentionRef(f64([1, 1]), f64([1]), f64([1]), dims1, 1, false)).toThrow(/q has length 2/);
  });
});

describe('MLP references', () => {
  it('silu sanity', () => {
    expect(silu(0)).toBe(0);
    expect(silu(1)).toBeCloseTo(1 / (1 + Math.exp(-1)), 15);
    expect(silu(40)).toBeCloseTo(40, 12);
    expect(silu(-40)).toBeCloseTo(0, 12);
    expect(silu(-1000)).toBe(-0); // exp overflow gives -1000/Infinity, not NaN
  });

  it('gate-up computes silu(x·wg) ⊙ (x·wu)', () => {
    // x [1,2], wg/wu [2,2]
    const h = mlpGateUpRef(f64([1, 2]), f64([1, 0, 0, -1]), f64([3, 4, 5, 6]), 1, 2, 2);
    expect(h[0]).toBeCloseTo(silu(1) * 13, 14);
    expect(h[1]).toBeCloseTo(silu(-2) * 16, 14);
  });

  it('down adds the residual', () => {
    // h [2,1], wd [1,2], r [2,2]
    const y = mlpDownRef(f64([2, 3]), f64([10, 100]), f64([1, 2, 3, 4]), 2, 1, 2);
    expect(Array.from(y)).toEqual([21, 202, 33, 304]);
    expect(() => mlpDownRef(f64([2, 3]), f64([10, 100]), f64([1]), 2, 1, 2)).toThrow(/r has length 1/);
  });
});

describe('test support', () => {
  it('makeRng is deterministic', () => {
    const a = makeRng(42);
    const b = makeRng(42);
    for (let i = 0; i < 10; i++) expect(a.normal()).toBe(b.normal());
    const u = makeRng(1);
    for (let i = 0; i < 1000; i++) {
      const x = u.next();
      expect(x >= 0 && x < 1).toBe(true);
    }
  });

  it('randomTensor values are representable in the dtype', () => {
    const t = randomTensor(makeRng(9), 64, 'f16', 3);
    const f16Bits = new Set(Array.from(t, (x) => x * 2 ** 24)); // every f16 in range is a multiple of 2^-24
    expect([...f16Bits].every(Number.isInteger)).toBe(true);
  });

  it('relL2 and expectClose report failures', () => {
    expect(relL2([1, 2], [1, 2])).toBe(0);
    expect(relL2([1, NaN], [1, 2])).toBe(Infinity);
    expect(relL2([1], [1, 2])).toBe(Infinity);
    expect(relL2([3, 4], [0, 0])).toBe(5);
    expect(() => expectClose([1, 2, NaN], [1, 2, 3], 1e-3, 'seed=5 M=3')).toThrow(
      /seed=5 M=3: relL2 Infinity exceeds tolerance 0.001; NaNs in out: 1; worst: \[2\] out=NaN ref=3/,
    );
    expect(() => expectClose([1, 2.001], [1, 2], 1e-2, 'ctx')).not.toThrow();
  });
});
