/**
 * The benchmark GEMM (bench/cuda/gemm_mma.cu: ldmatrix + mma.sync m16n8k16, 64×64 tiles, 4 warps)
 * in the emulator against a float64 reference, clean under the sanitizer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emulate } from '../../runtime/emulator/emulate.js';
import { relL2 } from '../../runtime/compare.js';
import { makeRng, randomTensor } from '../../runtime/random.js';
import { gemmRef } from '../../kernels/reference.js';

const PTX = readFileSync(new URL('../../bench/cuda/gemm_mma.sm_80.ptx', import.meta.url), 'utf8');

describe('mma.sync GEMM in the emulator', () => {
  it('128×128×64 matches the float64 reference, with no findings', () => {
    const [M, N, K] = [128, 128, 64];
    const seed = 77;
    const rng = makeRng(seed);
    const a = randomTensor(rng, M * K, 'f16');
    const b = randomTensor(rng, K * N, 'f16');
    const r = emulate(PTX, 'gemm_mma', { grid: [N / 64, M / 64, 1], block: [128, 1, 1] }, [
      { type: 'ptr', dtype: 'f16', data: a },
      { type: 'ptr', dtype: 'f16', data: b },
      { type: 'ptr', dtype: 'f32', size: M * N },
      { type: 'i32', value: M },
      { type: 'i32', value: N },
      { type: 'i32', value: K },
    ]);
    expect(r.findings).toEqual([]);
    const err = relL2(r.buffers[2]!.data as number[], gemmRef(a, b, M, K, N));
    expect(err, `seed=${seed}`).toBeLessThan(1e-5);
    expect(r.stats.instructions.mma).toBeGreaterThan(0);
    expect(r.stats.shared.requests).toBeGreaterThan(0);
  });
});
