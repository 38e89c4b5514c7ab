/** tuner/space.ts and tuner/buckets.ts: the tuning space of a kernel, shapes and their buckets. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SourceText } from '../../dsl/source.js';
import { bucketOf, parseShapes, sizeBucket } from '../../runtime/shape-buckets.js';
import { tuneSpace } from '../../tuner/space.js';
import { kernelPath } from '../support/build.js';

function gemmSource(): SourceText {
  const path = kernelPath('gemm.tile');
  return new SourceText(path, readFileSync(path, 'utf8'));
}

describe('tuneSpace', () => {
  it("gemm's tunables are the dimensions; require constraints prune points; constants stay fixed", () => {
    const { space, diagnostics } = tuneSpace(gemmSource(), 'gemm', new Map([['dtype', 'bf16']]));
    expect(diagnostics).toEqual([]);
    expect(space!.dims.map((d) => d.name)).toEqual(['BM', 'BN', 'BK', 'WARPS', 'STAGES']);
    expect(space!.defaultPoint).toEqual({ BM: 128, BN: 128, BK: 32, WARPS: 8, STAGES: 3 });
    const all = space!.dims.reduce((n, d) => n * d.values.length, 1);
    const pts = space!.points();
    expect(pts.length).toBeGreaterThan(0);
    expect(pts.length).toBeLessThan(all);
    // BM * BN <= WARPS * 32 * 128: 256×256 is never valid; 256×128 only with 8 warps.
    expect(pts.some((p) => p.BM === 256 && p.BN === 256)).toBe(false);
    expect(space!.valid({ BM: 256, BN: 128, BK: 32, WARPS: 4, STAGES: 2 })).toBe(false);
    expect(space!.valid({ BM: 256, BN: 128, BK: 32, WARPS: 8, STAGES: 2 })).toBe(true);
    expect(Object.fromEntries(space!.overrides(space!.defaultPoint))).toEqual({ dtype: 'bf16', BM: '128', BN: '128', BK: '32', WARPS: '8', STAGES: '3' });
    expect(space!.sourceHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects an unknown kernel, an unknown constant and a bad constant value', () => {
    expect(tuneSpace(gemmSource(), 'nope').message).toContain("no kernel named 'nope'");
    expect(tuneSpace(gemmSource(), 'gemm', new Map([['BM', '64']])).diagnostics.map((d) => d.code)).toEqual(['TK3005']);
    expect(tuneSpace(gemmSource(), 'gemm', new Map([['dtype', 'f64']])).diagnostics.map((d) => d.code)).toEqual(['TK3006']);
  });
});

describe('shapes and buckets', () => {
  it('small sizes are exact buckets, larger ones power-of-two ranges', () => {
    expect(sizeBucket(1)).toBe('1');
    expect(sizeBucket(16)).toBe('16');
    expect(sizeBucket(17)).toBe('16-31');
    expect(sizeBucket(4096)).toBe('4096-8191');
    expect(sizeBucket(5000)).toBe('4096-8191');
    expect(bucketOf({ M: 1, N: 4096, K: 11008 }, ['M', 'N', 'K'])).toBe('M=1,N=4096-8191,K=8192-16383');
  });

  it('--shapes parses every shape and reports every problem', () => {
    expect(parseShapes('M=4096,N=4096,K=4096; M=1,N=4096,K=4096', ['M', 'N', 'K'])).toEqual({
      shapes: [
        { M: 4096, N: 4096, K: 4096 },
        { M: 1, N: 4096, K: 4096 },
      ],
      errors: [],
    });
    const bad = parseShapes('M=4096,N=0;X=3,M=2,M=5;', ['M', 'N', 'K']);
    expect(bad.shapes).toEqual([]);
    expect(bad.errors).toEqual([
      "--shapes, shape 1 ('M=4096,N=0'): N=0 is not a positive size",
      "--shapes, shape 1 ('M=4096,N=0'): missing K",
      "--shapes, shape 2 ('X=3,M=2,M=5'): the kernel has no shape symbol 'X' (it has M, N, K)",
      "--shapes, shape 2 ('X=3,M=2,M=5'): 'M' is given twice",
      "--shapes, shape 2 ('X=3,M=2,M=5'): missing N, K",
      "--shapes, shape 3 (''): empty",
    ]);
  });
});
