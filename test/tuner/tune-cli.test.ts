/**
 * `tilekit tune` (offline: --backend model) and `tilekit results`, end to end: GEMM for sm_90a on
 * three shapes, an interrupted run resumed without redoing finished configurations, the usage
 * errors, and the results listing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPtxas } from '../../compiler/toolchain/ptxas.js';
import type { CliIO } from '../../dsl/cli-io.js';
import { ResultsDb } from '../../tuner/results-db.js';
import { tuneCommand } from '../../tuner/tune-command.js';
import { kernelPath } from '../support/build.js';
import { cli } from '../support/cli.js';
import { NO_CUDA_LIBRARY, pointAtNoGpuDriver } from '../support/fake-cuda.js';
import { requireTool } from '../support/toolchains.js';

const hasPtxas = requireTool('ptxas', findPtxas());
const gemm = kernelPath('gemm.tile');
const SHAPES = 'M=4096,N=4096,K=4096;M=1,N=4096,K=4096;M=77,N=512,K=1000';

function freshDb(): string {
  return join(mkdtempSync(join(tmpdir(), 'tilekit-tune-')), 'results.db');
}

describe.skipIf(!hasPtxas)('tilekit tune --backend model', () => {
  it('tunes GEMM for sm_90a on 3 shapes end to end: a best configuration per shape, labeled modeled, every result stored', async () => {
    const db = freshDb();
    const r = await cli('tune', gemm, '--target', 'sm_90a', '--device', 'h100', '--shapes', SHAPES, '--budget', '8', '--seed', '3', '--db', db);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('times are modeled, not measured');
    const rows = r.out.split('\n').filter((l) => /^M=\d+/.test(l));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/BM=\d+,BN=\d+,BK=\d+,WARPS=\d+,STAGES=\d+ +\d+\.\d µs/);
    expect(r.out).toContain('time on h100 (modeled)');
    const d = ResultsDb.open(db);
    try {
      const all = d.query({ kernel: 'gemm' });
      // 8 evaluations per shape, each recorded, each labeled modeled or a typed failure.
      expect(all).toHaveLength(24);
      for (const x of all) {
        expect(x.key).toMatchObject({ target: 'sm_90a', device: 'h100', backend: 'model' });
        if (x.result.status === 'ok') expect(x.result.label).toBe('modeled');
        else expect(['compile', 'resources', 'timeout']).toContain(x.result.status);
      }
      expect(new Set(all.map((x) => x.key.bucket))).toEqual(new Set(['M=4096-8191,K=4096-8191,N=4096-8191', 'M=1,K=4096-8191,N=4096-8191', 'M=64-127,K=512-1023,N=512-1023']));
    } finally {
      d.close();
    }
    const listed = await cli('results', '--db', db, '--kernel', 'gemm', '--format', 'csv');
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n')).toHaveLength(25);
    expect(listed.out).toContain('µs modeled');
  }, 240_000);

  it('an interrupted run resumes where it stopped: no finished configuration is evaluated again', async () => {
    const db = freshDb();
    const io = (): CliIO & { out_: string[] } => {
      const out_: string[] = [];
      return { out_, out: (t) => out_.push(t), err: (t) => out_.push(t) };
    };
    const abort = new AbortController();
    const first = io();
    const shapes = 'M=2048,N=2048,K=2048';
    // Stop the first run once it has recorded a few configurations.
    const watcher = setInterval(() => {
      const d = ResultsDb.open(db);
      const n = d.query({}).length;
      d.close();
      if (n >= 3) abort.abort();
    }, 50);
    const code1 = await tuneCommand(gemm, { target: 'sm_90a', device: 'h200', shapes, strategy: 'random', budget: '12', seed: 5, db, signal: abort.signal }, first);
    clearInterval(watcher);
    expect(code1).toBe(1);
    expect(first.out_.join('\n')).toContain('interrupted');
    const d1 = ResultsDb.open(db);
    const done1 = new Set(d1.query({}).map((x) => x.configKey));
    expect(d1.runs()[0]!.status).toBe('interrupted');
    d1.close();
    expect(done1.size).toBeGreaterThanOrEqual(3);
    expect(done1.size).toBeLessThan(12);

    const second = io();
    const code2 = await tuneCommand(gemm, { target: 'sm_90a', device: 'h200', shapes, strategy: 'random', budget: '12', seed: 5, db }, second);
    expect(code2, second.out_.join('\n')).toBe(0);
    const d2 = ResultsDb.open(db);
    try {
      const runs = d2.runs();
      expect(runs.map((x) => x.status)).toEqual(['interrupted', 'done']);
      const redone = d2.query({ runId: runs[1]!.id }).filter((x) => done1.has(x.configKey));
      expect(redone).toEqual([]);
      // The resumed run evaluated a full budget of new configurations, and reports the earlier ones as reused.
      expect(d2.query({ runId: runs[1]!.id })).toHaveLength(12);
    } finally {
      d2.close();
    }
    expect(second.out_.join('\n')).toMatch(new RegExp(`12 \\(\\+${done1.size} earlier\\)`));
  }, 240_000);
});

describe.skipIf(!hasPtxas)('tilekit tune: the compile timeout', () => {
  it('kills ptxas past --compile-timeout and records each such configuration as a timeout, not a crash', async () => {
    const db = freshDb();
    const r = await cli('tune', gemm, '--target', 'sm_90a', '--device', 'h100', '--shapes', 'M=256,N=256,K=256', '--budget', '3', '--compile-timeout', '0.001', '--db', db);
    expect(r.code).toBe(1); // nothing succeeded
    expect(r.out).toContain('(none succeeded)');
    const d = ResultsDb.open(db);
    try {
      const all = d.query({ kernel: 'gemm' });
      expect(all).toHaveLength(3);
      for (const x of all) expect(x.result).toMatchObject({ status: 'timeout', message: expect.stringContaining('timed out') });
    } finally {
      d.close();
    }
  }, 60_000);
});

describe('tune and results: usage errors exit 2 with what was expected', () => {
  const run = (...extra: string[]) => cli('tune', gemm, '--target', 'sm_90a', '--device', 'h100', '--shapes', 'M=64,N=64,K=64', ...extra);

  it.each([
    [['--backend', 'cuda'], "unknown backend 'cuda'"],
    [['--strategy', 'annealing'], "unknown strategy 'annealing'"],
    [['--budget', '10m'], "--budget: expected a number of evaluations (e.g. 200) or seconds (e.g. 90s), got '10m'"],
    [['--device', 'v100'], "unknown device 'v100'"],
    [['--device', 'a100'], '--device a100 does not run sm_90a code'],
    [['--mfma', '32'], '--mfma applies to AMD targets'],
    [['--parallel', '0'], '--parallel: expected a whole number ≥ 1, got 0'],
    [['--compile-timeout', 'soon'], 'expected a number > 0'],
  ])('%j', async (extra, message) => {
    const r = await run(...(extra as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  it('--backend gpu on a machine with no GPU driver exits 1 naming what it looked for', async () => {
    const restore = pointAtNoGpuDriver();
    try {
      const r = await run('--backend', 'gpu', '--db', freshDb());
      expect(r.code).toBe(1);
      expect(r.err).toContain('error: --backend gpu: no GPU driver found: looked for');
      expect(r.err).toContain(NO_CUDA_LIBRARY);
    } finally {
      restore();
    }
  });

  it('a target several devices run needs --device; bad shapes are all reported', async () => {
    const noDevice = await cli('tune', gemm, '--target', 'sm_80', '--shapes', 'M=64,N=64,K=64');
    expect(noDevice.code).toBe(2);
    expect(noDevice.err).toContain('--device is needed: sm_80 code runs on');
    const shapes = await cli('tune', gemm, '--target', 'sm_90a', '--device', 'h100', '--shapes', 'M=64,N=64;Q=1,M=2,N=3,K=4', '--db', freshDb());
    expect(shapes.code).toBe(2);
    expect(shapes.err).toContain('missing K');
    expect(shapes.err).toContain("no shape symbol 'Q'");
  });

  it('results: an unknown format exits 2; a missing database exits 1 and says how to make one', async () => {
    expect((await cli('results', '--format', 'xml', '--db', freshDb())).code).toBe(2);
    const missing = await cli('results', '--db', join(tmpdir(), 'tilekit-no-such-dir', 'r.db'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('run `tilekit tune` first');
  });
});
