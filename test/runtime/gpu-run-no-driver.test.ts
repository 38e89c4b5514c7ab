/**
 * `tilekit run --backend gpu` on a machine with no GPU driver (CI): exit 1, naming what was looked
 * for, before anything is compiled. Its own file, so no earlier test of this process has loaded a
 * (fake) driver.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelPath } from '../support/build.js';
import { NO_CUDA_LIBRARY, NO_HIP_LIBRARY, pointAtNoGpuDriver } from '../support/fake-cuda.js';
import { cli } from '../support/cli.js';

let restore: () => void;
beforeAll(() => {
  restore = pointAtNoGpuDriver();
});
afterAll(() => restore());

describe('tilekit run --backend gpu with no driver', () => {
  it('exits 1 naming the libraries it looked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tilekit-gpu-nodriver-'));
    const args = join(dir, 'args.json');
    writeFileSync(args, JSON.stringify({ args: { a: { dtype: 'f16', shape: [2, 2], data: [1, 2, 3, 4] }, b: { dtype: 'f16', shape: [2, 2], data: [1, -1, 0.5, 2] }, c: { dtype: 'f16', shape: [2, 2] } } }));
    const r = await cli('run', kernelPath('gemm.tile'), '--backend', 'gpu', '--args', args, '--out', join(dir, 'out.json'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: --backend gpu: no GPU driver found');
    expect(r.err).toContain(NO_CUDA_LIBRARY);
    expect(r.err).toContain(NO_HIP_LIBRARY);
  });
});
