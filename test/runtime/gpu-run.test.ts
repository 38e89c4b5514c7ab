/**
 * `tilekit run --backend gpu` without a GPU: against the FAKE CUDA driver (which runs no kernel and
 * proves nothing about results) it checks what reaches the driver — the module's entry, the grid
 * the kernel's grid clause computes, the block, the dynamic shared memory (raised above 48 KB), and
 * every ABI parameter's bytes — and that outputs are read back (still the NaN they were poisoned
 * with, since nothing ran). gpu-run-no-driver.test.ts covers a machine with no driver.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gridOf } from '../../compiler/interpreter.js';
import { compilePtx } from '../../compiler/ptx/compile-ptx.js';
import { targetForDevice } from '../../runtime/gpu-backend.js';
import type { DeviceInfo } from '../../runtime/gpu/index.js';
import { readLaunches, useFakeCuda } from '../support/fake-cuda.js';
import { buildShipped, kernelPath } from '../support/build.js';
import { cli } from '../support/cli.js';
import { makeRng, randomTensor } from '../support/random.js';

const SEED = 20261129;
const fake = useFakeCuda();

/** Little-endian hex of a u32 / u64, as the fake logs parameter bytes. */
const hex = (v: number, bytes: number): string => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
  return Buffer.from(b.subarray(0, bytes)).toString('hex');
};

function gemmArgs(M: number, N: number, K: number): string {
  const rng = makeRng(SEED);
  const path = join(fake.dir, `args-${M}-${N}-${K}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      args: {
        a: { dtype: 'f16', shape: [M, K], data: Array.from(randomTensor(rng, M * K, 'f16')) },
        b: { dtype: 'f16', shape: [K, N], data: Array.from(randomTensor(rng, K * N, 'f16')) },
        c: { dtype: 'f16', shape: [M, N] },
      },
    }),
  );
  return path;
}

describe('tilekit run --backend gpu (fake CUDA driver: marshalling only, no kernel runs)', () => {
  it('launches the compiled PTX with the grid, block, shared memory and ABI parameters the compiler and interpreter define', async () => {
    const [M, N, K] = [77, 130, 45];
    const out = join(fake.dir, 'out.json');
    const before = readLaunches(fake.launchLog).length;
    const r = await cli('run', kernelPath('gemm.tile'), '--backend', 'gpu', '--config', 'BM=64,BN=128', '--args', gemmArgs(M, N, K), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^gemm \[.*\]: grid \[2, 2\] ran on gpu \(sm_90a\)/);
    const launches = readLaunches(fake.launchLog).slice(before);
    expect(launches).toHaveLength(1);
    const ir = buildShipped('gemm.tile', 'gemm', { BM: 64, BN: 128 });
    const compiled = compilePtx(ir, 'sm_90a').compiled!;
    const shape = { M, N, K };
    const grid = gridOf(ir, new Map(ir.params.map((p) => [p.name, p.kind === 'tensor' ? { dtype: p.dtype, shape: p.dims.map((d) => (typeof d === 'number' ? d : shape[d as 'M'])), data: new Float64Array(0) } : 0])));
    const l = launches[0]!;
    expect(l.kernel).toBe(compiled.entry);
    expect(l.grid).toEqual([grid[0], grid[1], 1]);
    expect(l.block).toEqual([compiled.threads, 1, 1]);
    expect(l.sharedBytes).toBe(compiled.dynamicSmem);
    // a, b, c pointers, then M, K, N as u32, then each tensor's row stride as u64.
    expect(compiled.params.map((p) => p.name)).toEqual(['a', 'b', 'c', 'M', 'K', 'N', 'a_stride0', 'b_stride0', 'c_stride0']);
    expect(l.params).toHaveLength(9);
    for (const p of l.params.slice(0, 3)) expect(p).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(l.params.slice(0, 3)).size).toBe(3);
    expect(l.params.slice(3)).toEqual([hex(M, 4), hex(K, 4), hex(N, 4), hex(K, 8), hex(N, 8), hex(N, 8)]);
    // Nothing ran, so c comes back as the NaN it was uploaded with: the download happened, the fake wrote nothing.
    const written = JSON.parse(readFileSync(out, 'utf8')) as { outputs: { c: { data: unknown[] } }; backend: string; target: string };
    expect(written).toMatchObject({ backend: 'gpu', target: 'sm_90a' });
    expect(written.outputs.c.data.every((x) => x === 'NaN' || x === null)).toBe(true);
  });

  it('raises the dynamic shared memory limit above 48 KB; sm_80 code runs on the sm_90a device; AMD code does not', async () => {
    const before = readLaunches(fake.launchLog).length;
    const big = await cli('run', kernelPath('gemm.tile'), '--backend', 'gpu', '--config', 'BM=128,BN=256,STAGES=4', '--target', 'sm_80', '--args', gemmArgs(64, 64, 64), '--out', join(fake.dir, 'o2.json'));
    expect(big.code, big.err).toBe(0);
    expect(big.out).toContain('ran on gpu (sm_80)');
    expect(readLaunches(fake.launchLog).slice(before)[0]!.sharedBytes).toBeGreaterThan(48 * 1024);
    const amd = await cli('run', kernelPath('gemm.tile'), '--backend', 'gpu', '--target', 'gfx942', '--args', gemmArgs(16, 16, 16), '--out', join(fake.dir, 'o3.json'));
    expect(amd.code).toBe(1);
    expect(amd.err).toContain('Tilekit fake CUDA device (sm_90) cannot run gfx942 code (it runs sm_90a)');
  });

  it('selftest --backend gpu on the fake driver fails every case: nothing ran, and no pass is claimed', async () => {
    const r = await cli('selftest', '--kernel', 'mlp_down', '--backend', 'gpu');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/mlp_down .* gpu +(NaN|Infinity) .* FAIL/);
    expect(r.out).toContain('Tilekit fake CUDA device, sm_90a');
    expect(r.out).toContain('0 passed, 2 failed');
  });

  it('maps devices to targets', () => {
    const info = (api: 'cuda' | 'hip', arch: string): DeviceInfo => ({ api, arch }) as DeviceInfo;
    expect(targetForDevice(info('cuda', 'sm_90'))).toBe('sm_90a');
    expect(targetForDevice(info('cuda', 'sm_89'))).toBe('sm_80');
    expect(targetForDevice(info('cuda', 'sm_100'))).toBe('sm_80');
    expect(targetForDevice(info('cuda', 'sm_75'))).toBeUndefined();
    expect(targetForDevice(info('hip', 'gfx942'))).toBe('gfx942');
    expect(targetForDevice(info('hip', 'gfx1100'))).toBeUndefined();
  });
});
