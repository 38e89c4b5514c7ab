/**
 * The HIP prelude (compiler/hip/prelude.ts): the one source builds header-free for offline
 * compiles, and with the HIP headers where they exist. No ROCm is installed here, so a stand-in
 * `hip/hip_runtime.h` that defines the attribute macros the way HIP's does (`__global__`,
 * `__device__`, `__shared__` as macros) checks the guarded include and that nothing in the prelude
 * clashes with them.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileHip } from '../../compiler/hip/compile-hip.js';
import { HIP_PRELUDE, HIP_PRIMITIVES } from '../../compiler/hip/prelude.js';
import { buildCodeObject, findClang } from '../../compiler/toolchain/clang.js';
import { SourceText } from '../../dsl/source.js';
import { buildText, kernelPath } from '../support/build.js';
import { requireTool } from '../support/toolchains.js';

const hasClang = requireTool('clang-19', findClang());

function gemmHip(): string {
  const path = kernelPath('gemm.tile');
  const src = new SourceText(path, readFileSync(path, 'utf8'));
  return compileHip(buildText(src, 'gemm', {}), 'gfx942', { source: src }).compiled!.source;
}

/** A stand-in for ROCm's header: the same macro definitions HIP's own headers make. */
function fakeHipInclude(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tilekit-fake-hip-'));
  mkdirSync(join(dir, 'hip'));
  writeFileSync(
    join(dir, 'hip', 'hip_runtime.h'),
    [
      '#pragma once',
      '#define TILEKIT_TEST_HIP_HEADER 1',
      '#define __global__ __attribute__((global))',
      '#define __device__ __attribute__((device))',
      '#define __host__ __attribute__((host))',
      '#define __shared__ __attribute__((shared))',
      '#define __launch_bounds__(n) __attribute__((amdgpu_flat_work_group_size(1, n)))',
      '__device__ inline void __syncthreads() { __builtin_amdgcn_s_barrier(); }',
      '',
    ].join('\n'),
  );
  return dir;
}

describe('the prelude', () => {
  it('defines every primitive generated kernels may call', () => {
    for (const p of HIP_PRIMITIVES) expect(HIP_PRELUDE, p).toMatch(new RegExp(`\\b${p}\\b`));
  });
});

describe.skipIf(!hasClang)('the same HIP source builds with and without HIP headers', () => {
  const probe = '\n#ifndef TILEKIT_TEST_HIP_HEADER\n#error "hip/hip_runtime.h was not included"\n#endif\n';

  it('with hip/hip_runtime.h on the include path, it is included and the kernel compiles', async () => {
    const r = await buildCodeObject(gemmHip() + probe, { arch: 'gfx942', emit: ['assembly'], extraArgs: ['-I', fakeHipInclude()] });
    expect(r.report.map((x) => x.kernel)).toContain('gemm');
  }, 60_000);

  it('without it (-nogpuinc), the prelude defines what it needs; TILEKIT_NO_HIP_RUNTIME skips the include', async () => {
    await expect(buildCodeObject(gemmHip() + probe, { arch: 'gfx942', emit: ['assembly'] })).rejects.toThrow(/was not included/);
    await expect(
      buildCodeObject(gemmHip() + probe, { arch: 'gfx942', emit: ['assembly'], extraArgs: ['-I', fakeHipInclude()], defines: { TILEKIT_NO_HIP_RUNTIME: '1' } }),
    ).rejects.toThrow(/was not included/);
    const plain = await buildCodeObject(gemmHip(), { arch: 'gfx942', emit: ['assembly'] });
    expect(plain.report.map((x) => x.kernel)).toContain('gemm');
  }, 60_000);
});
