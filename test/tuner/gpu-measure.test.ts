/**
 * The tuner's `gpu` backend without a GPU, against the FAKE CUDA driver (which runs no kernel and
 * whose times mean nothing): the correctness check refuses a kernel that writes nothing (the fake's
 * launch leaves the NaN poison), the timing launch carries the real shape's grid and arguments and
 * returns device-event samples, and a launch that hangs or kills its process is a `timeout` or a
 * `crash` of that candidate alone. `tilekit tune --backend gpu` records every candidate, keyed by the
 * attached device, and never a time it did not measure.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gridOf } from '../../compiler/interpreter.js';
import { findPtxas } from '../../compiler/toolchain/ptxas.js';
import { SourceText } from '../../dsl/source.js';
import { type Candidate, compileCandidate } from '../../tuner/compile-candidate.js';
import { checkOnGpu, detectGpu, measureOnGpu, specNameOf, timeOnGpu } from '../../tuner/gpu-measure.js';
import { ResultsDb } from '../../tuner/results-db.js';
import { tuneSpace } from '../../tuner/space.js';
import { readLaunches, useFakeCuda } from '../support/fake-cuda.js';
import { kernelPath } from '../support/build.js';
import { cli } from '../support/cli.js';
import { requireTool } from '../support/toolchains.js';

const hasPtxas = requireTool('ptxas', findPtxas());
const gemm = kernelPath('gemm.tile');
const BIG = { M: 4096, N: 4096, K: 4096 };
const fake = useFakeCuda();
afterEach(() => {
  delete process.env.FAKE_CUDA_ON_LAUNCH;
});

async function gemmCandidate(): Promise<Extract<Candidate, { ok: true }>> {
  const { space } = tuneSpace(new SourceText(gemm, readFileSync(gemm, 'utf8')), 'gemm', new Map());
  const c = await compileCandidate(space!, space!.defaultPoint, 'sm_90a');
  if (!c.ok) throw new Error(c.message);
  return c;
}

const FAST = { warmup: 1, reps: 5, minMs: 0, maxReps: 5 };
const opts = { seed: 3, flushBytes: 1 << 20, timeoutMs: 30_000, image: 'ptx' as const, timing: FAST };

describe('device detection', () => {
  it('finds the (fake) device, keys results by its name, and refuses a target or --device it does not fit', async () => {
    const g = await detectGpu('sm_90a', undefined);
    if ('error' in g) throw new Error(g.error);
    expect(g).toMatchObject({ key: 'Tilekit fake CUDA device', flushBytes: 8 << 20 });
    expect(g.driver).toMatch(/^cuda \d+$/);
    expect(g.spec).toBeUndefined(); // a card Tilekit does not model: no modeled comparison
    expect(await detectGpu('gfx942', undefined)).toMatchObject({ usage: true, error: expect.stringContaining('runs sm_90a code, not gfx942') });
    expect(await detectGpu('sm_90a', 'h100')).toMatchObject({ usage: true, error: expect.stringContaining('--device h100: the attached device is Tilekit fake CUDA device') });
    expect(specNameOf('NVIDIA H200')).toBe('h200');
    expect(specNameOf('NVIDIA H100 80GB HBM3')).toBe('h100');
    expect(specNameOf('AMD Instinct MI300X')).toBe('mi300x');
    expect(specNameOf('NVIDIA L40S')).toBeUndefined();
  });
});

describe.skipIf(!hasPtxas)('the gpu backend on the fake driver', () => {
  it('the check fails a kernel whose outputs stay poisoned: a mismatch naming the NaNs, the shape and the seed', async () => {
    const r = await checkOnGpu(await gemmCandidate(), opts);
    expect(r).toMatchObject({ ok: false, reason: 'mismatch' });
    if (!r.ok) expect(r.message).toMatch(/output 'c' differs from the interpreter at M=37,K=45,N=51, seed 3: relL2 (?:NaN|Infinity) > 0\.003 \(f16\), 1887 of 1887 elements NaN \(never written\?\)/);
    // measureOnGpu never times a candidate that failed its check.
    const before = readLaunches(fake.launchLog).length;
    const m = await measureOnGpu(await gemmCandidate(), BIG, opts);
    expect(m).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(readLaunches(fake.launchLog).slice(before).every((l) => l.grid[0] === 1)).toBe(true); // only the small check launch
  }, 60_000);

  it('times at the real shape: its grid and ABI values reach the driver; samples come from device events', async () => {
    const c = await gemmCandidate();
    const before = readLaunches(fake.launchLog).length;
    const t = await timeOnGpu(c, BIG, opts);
    if (!t.ok) throw new Error(t.message);
    expect(t.timing.samples).toHaveLength(5);
    expect(t.timing.flushedL2).toBe(true);
    expect(Number.isFinite(t.timeUs)).toBe(true);
    const launches = readLaunches(fake.launchLog).slice(before);
    expect(launches).toHaveLength(6); // 1 warm-up + 5 timed
    const args = new Map(c.ir.params.map((p) => [p.name, p.kind === 'tensor' ? { dtype: p.dtype, shape: p.dims.map((d) => BIG[d as 'M']), data: new Float64Array(0) } : 0]));
    const grid = gridOf(c.ir, args);
    for (const l of launches) {
      expect(l.grid).toEqual([grid[0], grid[1], 1]);
      expect(l.params.slice(3, 6)).toEqual(['00100000', '00100000', '00100000']); // M, K, N = 4096 as u32
    }
    expect(t.grid).toEqual([grid[0], grid[1], 1]);
  }, 60_000);

  it('a launch that hangs is killed at the deadline (timeout); one that kills its process is a crash; a driver error is a crash naming the call', async () => {
    const c = await gemmCandidate();
    process.env.FAKE_CUDA_ON_LAUNCH = 'hang';
    const t0 = performance.now();
    const hung = await timeOnGpu(c, BIG, { ...opts, timeoutMs: 1500 });
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(hung).toMatchObject({ ok: false, reason: 'timeout', message: expect.stringContaining('did not finish within 1500 ms and its process was killed') });
    process.env.FAKE_CUDA_ON_LAUNCH = 'abort';
    const crashed = await timeOnGpu(c, BIG, opts);
    expect(crashed).toMatchObject({ ok: false, reason: 'crash', message: expect.stringContaining('killed by SIGABRT') });
    delete process.env.FAKE_CUDA_ON_LAUNCH;
    const missing = await timeOnGpu({ ...c, compiled: { ...c.compiled, entry: 'no_such_kernel' } } as Candidate, BIG, opts);
    expect(missing).toMatchObject({ ok: false, reason: 'crash' });
    if (!missing.ok) expect(missing.message).toMatch(/cuModuleGetFunction\(no_such_kernel\).*CUDA_ERROR_NOT_FOUND/);
  }, 60_000);

  it('tilekit tune --backend gpu records every candidate under the attached device and none as a time it did not measure', async () => {
    const db = join(fake.dir, 'results.db');
    const r = await cli('tune', gemm, '--target', 'sm_90a', '--shapes', 'M=256,N=256,K=256', '--backend', 'gpu', '--budget', '3', '--db', db);
    expect(r.out).toContain('on Tilekit fake CUDA device (gpu: times measured with device events');
    expect(r.code).toBe(1); // nothing passed its check on a driver that runs nothing
    expect(r.out).toContain('(none succeeded)');
    const d = ResultsDb.open(db);
    try {
      const all = d.query({ kernel: 'gemm' });
      expect(all).toHaveLength(3);
      for (const x of all) {
        expect(x.key).toMatchObject({ device: 'Tilekit fake CUDA device', backend: 'gpu', toolchain: { driver: expect.stringMatching(/^cuda /) } });
        // The fake loads PTX only, not ptxas's cubin: the load fails, recorded as that candidate's crash.
        expect(['crash', 'resources', 'compile']).toContain(x.result.status);
      }
    } finally {
      d.close();
    }
  }, 120_000);
});
