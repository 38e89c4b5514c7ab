/**
 * The tuner's `emulate` backend: a compiled candidate checked against the interpreter in the PTX
 * emulator (pass, a corrupted PTX as `mismatch`, an unrunnable one as `crash`), its proxy launch's
 * statistics turned into cost-model penalties; AMD candidates checked on the HIP CPU harness (pass,
 * a corrupted HIP as `mismatch`, a broken one as `crash`); `tilekit tune --backend emulate` end to
 * end for sm_90a and gfx942.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findClang } from '../../compiler/toolchain/clang.js';
import { findPtxas } from '../../compiler/toolchain/ptxas.js';
import { SourceText } from '../../dsl/source.js';
import type { EmuStats } from '../../runtime/emulator/types.js';
import { type Candidate, compileCandidate } from '../../tuner/compile-candidate.js';
import { modelCost } from '../../tuner/cost-model.js';
import { getDevice } from '../../tuner/devices.js';
import { checkShape, makeArgs } from '../../tuner/check-inputs.js';
import { measureWithEmulator, proxyShape, proxyStatsFrom, widestGlobalAccess } from '../../tuner/emulate-measure.js';
import { ResultsDb } from '../../tuner/results-db.js';
import { tuneSpace } from '../../tuner/space.js';
import { estimateWork } from '../../tuner/work.js';
import { kernelPath } from '../support/build.js';
import { cli } from '../support/cli.js';
import { requireTool } from '../support/toolchains.js';

const hasPtxas = requireTool('ptxas', findPtxas());
const hasClang = requireTool('clang-19', findClang());
const gemm = kernelPath('gemm.tile');
const BIG = { M: 4096, N: 4096, K: 4096 };

async function gemmCandidate(target: 'sm_80' | 'sm_90a' | 'gfx942', consts: Record<string, string> = {}): Promise<Extract<Candidate, { ok: true }>> {
  const { space } = tuneSpace(new SourceText(gemm, readFileSync(gemm, 'utf8')), 'gemm', new Map(Object.entries(consts)));
  const c = await compileCandidate(space!, space!.defaultPoint, target);
  if (!c.ok) throw new Error(c.message);
  return c;
}

/** The same candidate with its PTX edited (a fresh object, so nothing cached carries over). */
function withPtx(c: Extract<Candidate, { ok: true }>, edit: (ptx: string) => string): Candidate {
  if (!('ptx' in c.compiled)) throw new Error('not PTX');
  const ptx = edit(c.compiled.ptx);
  expect(ptx).not.toBe(c.compiled.ptx);
  return { ...c, compiled: { ...c.compiled, ptx } } as Candidate;
}

describe('shapes and inputs', () => {
  it('derives the check and proxy shapes from the shape symbols and tile extents; inputs are random, outputs NaN', async () => {
    const { buildShipped } = await import('../support/build.js');
    const ir = buildShipped('gemm.tile', 'gemm');
    expect(checkShape(ir)).toEqual({ M: 37, K: 45, N: 51 });
    // BM=BN=128, BK=32: two programs per grid axis, two K iterations.
    expect(proxyShape(ir, BIG)).toEqual({ M: 256, K: 64, N: 256 });
    expect(proxyShape(ir, { M: 1, N: 4096, K: 40 })).toEqual({ M: 1, K: 40, N: 256 });
    const args = makeArgs(ir, checkShape(ir), 7);
    const a = args.get('a') as { data: Float64Array };
    const c = args.get('c') as { data: Float64Array };
    expect(a.data.some((x) => x !== 0)).toBe(true);
    expect(c.data.every((x) => Number.isNaN(x))).toBe(true);
  });

  it('the ideal sectors per request follow the widest global access of the PTX', () => {
    expect(widestGlobalAccess('cp.async.cg.shared.global [%r1], [%rd2], 16, %r3;\n ld.global.b16 %h1, [%rd1];')).toBe(16);
    expect(widestGlobalAccess('ld.global.v2.f32 {%f1, %f2}, [%rd1];')).toBe(8);
    expect(widestGlobalAccess('st.global.b16 [%rd1], %h1;')).toBe(2);
    expect(widestGlobalAccess('mov.u32 %r1, 0;')).toBe(4);
  });
});

describe.skipIf(!hasPtxas)('measureWithEmulator', () => {
  const h100 = getDevice('h100');
  const a100 = getDevice('a100');

  it.each([
    ['sm_90a', h100, {}],
    ['sm_80', a100, { dtype: 'bf16' }],
  ] as const)('GEMM default config for %s passes the check; its proxy has no bank conflicts and finite sectors per request', async (target, device, consts) => {
    const c = await gemmCandidate(target, consts);
    const m = await measureWithEmulator(c, BIG, { seed: 1, device, target });
    if (!m.ok) throw new Error(m.message);
    expect(m.maxRelL2).toBeLessThan('dtype' in consts ? 1e-2 : 3e-3);
    expect(m.checkedOn).toBe('ptx-emulator');
    const proxy = m.proxy!;
    expect(proxy.stats.bankConflictRate).toBe(0);
    expect(Number.isFinite(proxy.stats.sectorsPerRequest)).toBe(true);
    expect(proxy.stats.sectorsPerRequest).toBeGreaterThan(0);
    expect(proxy.stats.idealSectorsPerRequest).toBe(16); // 16-byte cp.async
    expect(proxy.shape).toEqual({ M: 256, K: 64, N: 256 });
    expect(m.cost.label).toBe('modeled');
    expect(m.cost.feasible).toBe(true);
    expect(proxy.emuStats.shared.requests).toBeGreaterThan(0);
  }, 30_000);

  it('a corrupted PTX (B fragments loaded untransposed) is a mismatch naming the output, the error and the seed', async () => {
    const c = await gemmCandidate('sm_90a');
    const bad = withPtx(c, (p) => p.replaceAll('ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16', 'ldmatrix.sync.aligned.m8n8.x2.shared.b16'));
    const m = await measureWithEmulator(bad, BIG, { seed: 5, device: h100, target: 'sm_90a' });
    expect(m.ok).toBe(false);
    if (m.ok) return;
    expect(m.reason).toBe('mismatch');
    expect(m.message).toMatch(/output 'c' differs from the interpreter at M=37,K=45,N=51, seed 5: relL2 [\d.e+-]+ > 0\.003/);
  }, 30_000);

  it('PTX the emulator cannot run is a crash, and so is one that runs out of steps', async () => {
    const c = await gemmCandidate('sm_90a');
    const unsupported = withPtx(c, (p) => p.replace(/(\n\s*cp\.async\.commit_group;)/, '\n\twgmma.fence.sync.aligned;$1'));
    const m = await measureWithEmulator(unsupported, BIG, { seed: 1, device: h100, target: 'sm_90a' });
    expect(m).toMatchObject({ ok: false, reason: 'crash' });
    if (!m.ok) expect(m.message).toContain('the emulator could not run the PTX');
    const steps = await measureWithEmulator(withPtx(c, (p) => `${p}\n`), BIG, { seed: 1, device: h100, target: 'sm_90a', maxSteps: 50 });
    expect(steps).toMatchObject({ ok: false, reason: 'crash' });
    if (!steps.ok) expect(steps.message).toContain('step-limit');
  }, 30_000);

  it('the statistics change the modeled time: bank conflicts and poor coalescing model slower, same resources', async () => {
    const c = await gemmCandidate('sm_90a');
    const ptx = 'ptx' in c.compiled ? c.compiled.ptx : '';
    const emu = (conflictWavefronts: number, sectors: number): EmuStats => ({
      instructions: {},
      threadInstructions: 0,
      shared: { requests: 1000, wavefronts: 2000 + conflictWavefronts, conflictWavefronts },
      global: { requests: 100, sectors },
    });
    const work = estimateWork(c.ir, BIG);
    const time = (s: EmuStats) => modelCost({ device: h100, target: 'sm_90a', work, resources: c.resources, stats: proxyStatsFrom(s, ptx) }).timeUs;
    const clean = time(emu(0, 800));
    expect(proxyStatsFrom(emu(2000, 800), ptx).bankConflictRate).toBe(0.5);
    expect(time(emu(2000, 800))).toBeGreaterThan(clean * 1.2);
    expect(time(emu(0, 3200))).toBeGreaterThan(clean * 1.2);
  }, 30_000);
});

describe.skipIf(!hasPtxas)('tilekit tune --backend emulate', () => {
  it('tunes GEMM for sm_90a on h100, one shape, budget 3: results labeled modeled, stored under backend emulate with the proxy statistics', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'tilekit-tune-emu-')), 'results.db');
    const r = await cli('tune', gemm, '--target', 'sm_90a', '--device', 'h100', '--shapes', 'M=4096,N=4096,K=4096', '--backend', 'emulate', '--budget', '3', '--db', db);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('times are modeled, not measured');
    expect(r.out).toMatch(/BM=\d+,BN=\d+,BK=\d+,WARPS=\d+,STAGES=\d+ +\d+\.\d µs/);
    const d = ResultsDb.open(db);
    try {
      const all = d.query({ kernel: 'gemm' });
      expect(all).toHaveLength(3);
      const ok = all.filter((x) => x.result.status === 'ok');
      expect(ok.length).toBeGreaterThan(0);
      for (const x of all) {
        expect(x.key).toMatchObject({ target: 'sm_90a', device: 'h100', backend: 'emulate' });
        if (x.result.status !== 'ok') continue;
        expect(x.result.label).toBe('modeled');
        expect(x.result.metrics).toMatchObject({ emulator: { checkedOn: 'ptx-emulator', maxRelL2: expect.any(Number), proxyShape: expect.any(Object), stats: { bankConflictRate: expect.any(Number) } } });
      }
    } finally {
      d.close();
    }
  }, 90_000);

});

/** The same AMD candidate with its HIP source edited (a fresh object, so nothing cached carries over). */
function withHip(c: Extract<Candidate, { ok: true }>, edit: (src: string) => string): Candidate {
  if (!('source' in c.compiled)) throw new Error('not HIP');
  const source = edit(c.compiled.source);
  expect(source).not.toBe(c.compiled.source);
  return { ...c, compiled: { ...c.compiled, source } } as Candidate;
}

describe.skipIf(!hasClang)('measureWithEmulator on AMD: the HIP CPU harness', () => {
  const mi300x = getDevice('mi300x');

  it('GEMM default config for gfx942 passes the harness check; its cost is modeled from the clang report alone', async () => {
    const c = await gemmCandidate('gfx942');
    const m = await measureWithEmulator(c, BIG, { seed: 1, device: mi300x, target: 'gfx942' });
    if (!m.ok) throw new Error(m.message);
    expect(m.checkedOn).toBe('hip-cpu');
    expect(m.maxRelL2).toBeLessThan(3e-3);
    expect(m.proxy).toBeUndefined();
    expect(m.cost).toEqual(modelCost({ device: mi300x, target: 'gfx942', work: estimateWork(c.ir, BIG), resources: c.resources }));
  }, 60_000);

  it('a corrupted HIP (MFMA operands swapped) is a mismatch naming the output and the seed; one that does not build is a crash', async () => {
    const c = await gemmCandidate('gfx942');
    const swapped = withHip(c, (src) => src.replace(/tk_mfma_16x16x16_f16\((\w+), (\w+), /g, 'tk_mfma_16x16x16_f16($2, $1, '));
    const m = await measureWithEmulator(swapped, BIG, { seed: 4, device: mi300x, target: 'gfx942' });
    expect(m).toMatchObject({ ok: false, reason: 'mismatch' });
    if (!m.ok) expect(m.message).toMatch(/output 'c' differs from the interpreter at M=37,K=45,N=51, seed 4: relL2/);
    const broken = withHip(c, (src) => src.replace(/tk_mfma_16x16x16_f16\((\w+), /, 'tk_no_such_function($1, '));
    const b = await measureWithEmulator(broken, BIG, { seed: 4, device: mi300x, target: 'gfx942' });
    expect(b).toMatchObject({ ok: false, reason: 'crash' });
    if (!b.ok) expect(b.message).toContain('the HIP CPU harness could not run the kernel');
  }, 60_000);

  it('tilekit tune --backend emulate for gfx942: each result checked on the harness, labeled modeled', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'tilekit-tune-emu-amd-')), 'results.db');
    const r = await cli('tune', gemm, '--target', 'gfx942', '--shapes', 'M=4096,N=4096,K=4096', '--backend', 'emulate', '--budget', '2', '--db', db);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('times are modeled, not measured');
    const d = ResultsDb.open(db);
    try {
      const all = d.query({ kernel: 'gemm' });
      expect(all).toHaveLength(2);
      const ok = all.filter((x) => x.result.status === 'ok');
      expect(ok.length).toBeGreaterThan(0);
      for (const x of ok) {
        expect(x.key).toMatchObject({ target: 'gfx942', device: 'mi300x', backend: 'emulate' });
        expect(x.result.metrics).toMatchObject({ emulator: { checkedOn: 'hip-cpu', maxRelL2: expect.any(Number) } });
      }
    } finally {
      d.close();
    }
  }, 180_000);
});
