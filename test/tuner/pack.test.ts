/**
 * Kernel packs end to end: GEMM tuned (offline model) for sm_90a on h100 at two shapes, packed,
 * verified (folder and .tgz), inspected; the manifest checked against the results database and the
 * compiler; damaged and unknown-version packs rejected naming the file; the usage failures.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildKernelIR } from '../../compiler/compile.js';
import { gridOf } from '../../compiler/interpreter.js';
import { compilePtx } from '../../compiler/ptx/compile-ptx.js';
import { findPtxas } from '../../compiler/toolchain/ptxas.js';
import type { CliIO } from '../../dsl/cli-io.js';
import { SourceText } from '../../dsl/source.js';
import type { DispatchTable, PackManifest } from '../../runtime/pack/format.js';
import { PackDispatcher } from '../../runtime/pack/dispatcher.js';
import { PackLauncher } from '../../runtime/pack/gpu-launcher.js';
import { Buffer as GpuBuffer, Device } from '../../runtime/gpu/index.js';
import { readFakeState, readLaunches, useFakeCuda } from '../support/fake-cuda.js';
import { selectEntry } from '../../runtime/pack/reader.js';
import { writeTgz } from '../../tuner/pack.js';
import { ResultsDb, sourceHash } from '../../tuner/results-db.js';
import { tuneCommand } from '../../tuner/tune-command.js';
import { kernelPath } from '../support/build.js';
import { cli } from '../support/cli.js';
import { requireTool } from '../support/toolchains.js';

const hasPtxas = requireTool('ptxas', findPtxas());
const fake = useFakeCuda();
const gemm = kernelPath('gemm.tile');
const BIG = 'M=4096-8191,K=4096-8191,N=4096-8191';
const DECODE = 'M=1,K=4096-8191,N=4096-8191';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));
const quiet = (): CliIO & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, out: (t) => lines.push(t), err: (t) => lines.push(t) };
};

describe.skipIf(!hasPtxas)('tilekit pack: GEMM for sm_90a on h100', () => {
  let root: string;
  let db: string;
  let out: string;
  let manifest: PackManifest;

  beforeAll(async () => {
    root = tmp('tilekit-pack-');
    db = join(root, 'results.db');
    out = join(root, 'pack');
    const io = quiet();
    const code = await tuneCommand(gemm, { target: 'sm_90a', device: 'h100', shapes: 'M=4096,N=4096,K=4096;M=1,N=4096,K=4096', budget: '4', seed: 2, db }, io);
    expect(code, io.lines.join('\n')).toBe(0);
    const r = await cli('pack', '--db', db, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('packed gemm');
    manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as PackManifest;
  }, 120_000);

  it('verifies as a folder and as a .tgz; inspect lists both buckets', async () => {
    const dir = await cli('pack', 'verify', out);
    expect(dir.code, dir.err).toBe(0);
    expect(dir.out).toContain('ok');
    const tgz = await cli('pack', 'verify', `${out}.tgz`);
    expect(tgz.code, tgz.err).toBe(0);
    // An archive re-made with the system's tar (GNU format) reads too.
    const gnu = join(tmp('tilekit-pack-gnu-'), 'gnu.tgz');
    if (spawnSync('tar', ['-czf', gnu, '-C', root, 'pack']).status === 0) expect((await cli('pack', 'verify', gnu)).code).toBe(0);
    const text = await cli('pack', 'inspect', `${out}.tgz`);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain('kernel gemm');
    expect(text.out).toContain('sm_90a on h100');
    expect(text.out).toContain(BIG);
    expect(text.out).toContain(DECODE);
    expect(text.out).toMatch(/µs modeled on h100 \(model, run 1\)/);
    const json = await cli('pack', 'inspect', out, '--format', 'json');
    expect(json.code).toBe(0);
    const s = JSON.parse(json.out) as { kernels: { tables: { buckets: { bucket: string }[] }[] }[]; files: number };
    expect(s.kernels[0]!.tables[0]!.buckets.map((b) => b.bucket).sort()).toEqual([DECODE, BIG].sort());
    expect(s.files).toBe(manifest.files.length);
  });

  it('round trip: the dispatch table is the database best per bucket; binaries are ELF; contracts are the compiler’s', () => {
    expect(manifest).toMatchObject({ format: 'tilekit-pack', version: 2, tilekit: '0.1.0' });
    expect(manifest.toolchains.sm_90a).toHaveProperty('ptxas');
    const [k] = manifest.kernels;
    expect(k!.name).toBe('gemm');
    expect(k!.grid).toEqual({ expr: '[cdiv(M, BM), cdiv(N, BN)]', reads: ['M', 'N'] });
    expect(k!.signature.shapeSymbols).toEqual(['M', 'K', 'N']);
    expect(k!.dispatch).toHaveLength(1);
    const table = k!.dispatch[0]!;
    expect(table).toMatchObject({ target: 'sm_90a', device: 'h100', consts: { dtype: 'f16' }, default: 'dtype-f16_BM128_BN128_BK32_WARPS8_STAGES3' });
    const d = ResultsDb.open(db);
    try {
      const src = d.source(k!.sourceHash)!;
      expect(sourceHash(src.text)).toBe(k!.sourceHash);
      expect(table.entries.map((e) => e.bucket).sort()).toEqual([DECODE, BIG].sort());
      for (const e of table.entries) {
        const best = d.best({ kernel: 'gemm', sourceHash: k!.sourceHash, bucket: e.bucket, target: 'sm_90a', device: 'h100', backend: 'model', toolchain: e.chosenBy.toolchain })!;
        expect(best.result.status).toBe('ok');
        const bin = k!.binaries.find((b) => b.id === e.config)!;
        expect(bin.config).toEqual(best.key.config);
        expect(e.chosenBy).toMatchObject({ label: 'modeled', device: 'h100', backend: 'model', runId: best.runId, costUs: best.result.status === 'ok' ? best.result.costUs : -1 });
      }
      const source = new SourceText(src.path, src.text);
      for (const b of k!.binaries) {
        const cubin = readFileSync(join(out, b.files.binary));
        expect([...cubin.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
        expect(b.files.binary).toBe(`gemm/sm_90a/${b.id}.cubin`);
        const ir = buildKernelIR(source, 'gemm', new Map(Object.entries(b.config).map(([x, v]) => [x, String(v)]))).ir!;
        const compiled = compilePtx(ir, 'sm_90a', source).compiled!;
        expect(b.params).toEqual(compiled.params);
        expect(b.entry).toBe(compiled.entry);
        expect(b.threadsPerBlock).toBe(compiled.threads);
        expect(b.dynamicSmemBytes).toBe(compiled.dynamicSmem);
        expect(readFileSync(join(out, b.files.code), 'utf8')).toBe(compiled.ptx);
        expect(b.alignment).toBe('none: edges masked, vector accesses checked at run time');
      }
    } finally {
      d.close();
    }
    // A shape no bucket holds takes the nearest bucket; an empty table, the default.
    expect(selectEntry(table, { M: 2, N: 4096, K: 4096 }).entry?.bucket).toBe(DECODE);
    expect(selectEntry(table, { M: 5000, N: 5000, K: 5000 })).toMatchObject({ how: 'bucket', entry: { bucket: BIG } });
    expect(selectEntry(table, { M: 2048, N: 4096, K: 4096 })).toMatchObject({ how: 'nearest', entry: { bucket: BIG } });
  });

  it('one flipped byte in a cubin fails verify naming that file, in the folder and in a re-made .tgz', async () => {
    const copy = join(tmp('tilekit-pack-bad-'), 'pack');
    cpSync(out, copy, { recursive: true });
    const bin = manifest.kernels[0]!.binaries[0]!.files.binary;
    const data = readFileSync(join(copy, bin));
    data[100] = data[100]! ^ 0xff;
    writeFileSync(join(copy, bin), data);
    const dir = await cli('pack', 'verify', copy);
    expect(dir.code).toBe(1);
    expect(dir.err).toContain(`${bin}: sha256`);
    writeTgz(copy, `${copy}.tgz`);
    const tgz = await cli('pack', 'verify', `${copy}.tgz`);
    expect(tgz.code).toBe(1);
    expect(tgz.err).toContain(`${bin}: sha256`);
    // An extra file is named too.
    const extra = join(tmp('tilekit-pack-extra-'), 'pack');
    cpSync(out, extra, { recursive: true });
    writeFileSync(join(extra, 'gemm', 'stray.txt'), 'x');
    const e = await cli('pack', 'verify', extra);
    expect(e.code).toBe(1);
    expect(e.err).toContain('gemm/stray.txt: in the pack but not listed in the manifest');
  });

  it('a manifest of an unknown version, or a binary without its launch grid, fails verify', async () => {
    const copy = join(tmp('tilekit-pack-v9-'), 'pack');
    cpSync(out, copy, { recursive: true });
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify({ ...manifest, version: 9 }));
    const r = await cli('pack', 'verify', copy);
    expect(r.code).toBe(1);
    expect(r.err).toContain('manifest.json: version 9 is not one this Tilekit reads');
    const [k] = manifest.kernels;
    const noGrid = { ...manifest, kernels: [{ ...k!, binaries: k!.binaries.map(({ grid: _g, ...b }) => b) }] };
    writeFileSync(join(copy, 'manifest.json'), JSON.stringify(noGrid));
    const g = await cli('pack', 'verify', copy);
    expect(g.code).toBe(1);
    expect(g.err).toMatch(/manifest\.json: kernels\[0\]\.binaries\[0\] \(\S+\) needs grid/);
  });

  it('the dispatcher plans a launch from the pack alone: binary, reason, grid (as the interpreter computes it), block, shared memory, images', () => {
    const d = PackDispatcher.open(`${out}.tgz`);
    const table = manifest.kernels[0]!.dispatch[0]!;
    const decode = d.plan({ kernel: 'gemm', target: 'sm_90a', shape: { M: 1, N: 4096, K: 4096 } });
    expect(decode).toMatchObject({ kernel: 'gemm', target: 'sm_90a', device: 'h100', how: 'bucket', entry: { bucket: DECODE } });
    expect(decode.binary.id).toBe(table.entries.find((e) => e.bucket === DECODE)!.config);
    const src = new SourceText(gemm, readFileSync(gemm, 'utf8'));
    for (const shape of [{ M: 1, N: 4096, K: 4096 }, { M: 3000, N: 5000, K: 77 }, { M: 2048, N: 4096, K: 4096 }]) {
      const p = d.plan({ kernel: 'gemm', target: 'sm_90a', device: 'h100', consts: { dtype: 'f16' }, shape });
      const ir = buildKernelIR(src, 'gemm', new Map(Object.entries(p.binary.config).map(([x, v]) => [x, String(v)]))).ir!;
      const args = new Map(ir.params.map((q) => [q.name, q.kind === 'tensor' ? { dtype: q.dtype, shape: q.dims.map((x) => (typeof x === 'number' ? x : shape[x as 'M']!)), data: new Float64Array(0) } : 0]));
      expect(p.grid).toEqual([...gridOf(ir, args), 1]);
      expect(p.block).toEqual([p.binary.threadsPerBlock, 1, 1]);
      expect(p.sharedBytes).toBe(p.binary.dynamicSmemBytes);
      expect(p.code.toString('utf8')).toContain(`.entry ${p.binary.entry}`);
      expect([...p.image.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
      expect(p.params.map((q) => q.name).slice(0, 3)).toEqual(['a', 'b', 'c']);
    }
    expect(d.plan({ kernel: 'gemm', target: 'sm_90a', shape: { M: 2048, N: 4096, K: 4096 } }).how).toBe('nearest');
  });

  it.each([
    [{ kernel: 'attention' }, "the pack has no kernel 'attention' (it has gemm)"],
    [{ target: 'gfx942' }, 'kernel gemm has no binaries for gfx942 (the pack has sm_90a)'],
    [{ device: 'h200' }, 'kernel gemm for sm_90a was tuned for h100, not h200'],
    [{ consts: { dtype: 'bf16' } }, 'kernel gemm for sm_90a has no table with constants dtype=bf16 (it has [dtype=f16])'],
    [{ shape: { M: 1, N: 4096 } }, 'kernel gemm: the shape needs K as a whole number ≥ 0 (got nothing)'],
  ] as const)('the dispatcher refuses %j: %s', (change, message) => {
    const d = PackDispatcher.open(out);
    expect(() => d.plan({ kernel: 'gemm', target: 'sm_90a', shape: { M: 1, N: 4096, K: 4096 }, ...change })).toThrow(message);
  });

  it('a serving runtime launches from the pack (fake CUDA driver: what reaches the driver, no kernel runs)', () => {
    const device = Device.open(0);
    const launcher = new PackLauncher(device, PackDispatcher.open(`${out}.tgz`), 'code');
    try {
      const [M, N, K] = [1, 4096, 4096];
      const a = GpuBuffer.alloc(device, M * K * 2);
      const b = GpuBuffer.alloc(device, K * N * 2);
      const c = GpuBuffer.alloc(device, M * N * 2);
      const before = readLaunches(fake.launchLog).length;
      const plan = launcher.launch({ kernel: 'gemm', target: 'sm_90a', shape: { M, N, K }, tensors: { a, b, c } });
      launcher.launch({ kernel: 'gemm', target: 'sm_90a', shape: { M, N, K }, tensors: { a, b, c } }); // the module is loaded once
      const [l, again] = readLaunches(fake.launchLog).slice(before);
      expect(plan.how).toBe('bucket');
      expect(l).toMatchObject({ kernel: plan.binary.entry, grid: [...plan.grid], block: [...plan.block], sharedBytes: plan.sharedBytes });
      const hex = (v: number, n: number) => Buffer.from(new BigUint64Array([BigInt(v)]).buffer).subarray(0, n).toString('hex');
      const ptr = (x: GpuBuffer) => hex(Number(x.devicePointer), 8);
      expect(l!.params).toEqual([ptr(a), ptr(b), ptr(c), hex(M, 4), hex(K, 4), hex(N, 4), hex(K, 8), hex(N, 8), hex(N, 8)]);
      expect(again).toEqual(l);
      expect(readFakeState(fake.stateFile).modules).toBe(1);
      expect(() => launcher.launch({ kernel: 'gemm', target: 'sm_90a', shape: { M, N, K }, tensors: { a, b } })).toThrow("no device buffer for tensor 'c'");
      for (const x of [a, b, c]) x.dispose();
    } finally {
      launcher.dispose();
      device.dispose();
    }
  });

  it('tilekit pack select prints the launch (text and JSON); a call the pack cannot serve exits 1, bad flags 2', async () => {
    const text = await cli('pack', 'select', out, '--kernel', 'gemm', '--target', 'sm_90a', '--shape', 'M=1,N=4096,K=4096');
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/^gemm on sm_90a \(h100\): binary \S+, from its bucket M=1,K=4096-8191,N=4096-8191, chosen by [\d.]+ µs modeled on h100 \(model\)/);
    expect(text.out).toMatch(/launch gemm: grid \[\d+, \d+, 1\], block \[\d+, 1, 1\], \d+ bytes dynamic shared memory/);
    expect(text.out).toContain('parameters: a: f16*, b: f16*, c: f16*, M: u32');
    const json = await cli('pack', 'select', `${out}.tgz`, '--kernel', 'gemm', '--target', 'sm_90a', '--shape', 'M=100,N=100,K=100', '--format', 'json');
    expect(json.code, json.err).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ kernel: 'gemm', how: 'nearest', grid: [expect.any(Number), expect.any(Number), 1] });
    const miss = await cli('pack', 'select', out, '--kernel', 'gemm', '--target', 'sm_80', '--shape', 'M=1,N=1,K=1');
    expect(miss.code).toBe(1);
    expect(miss.err).toContain('no binaries for sm_80');
    const bad = await cli('pack', 'select', out, '--kernel', 'gemm', '--target', 'sm_90a', '--shape', 'M=one,N=1,K=1');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--shape: 'M=one' is not a number");
    const damaged = await cli('pack', 'select', tmp('tilekit-pack-none-'), '--kernel', 'gemm', '--target', 'sm_90a', '--shape', 'M=1,N=1,K=1');
    expect(damaged.code).toBe(1);
    expect(damaged.err).toContain('manifest.json: missing');
  });

  it('refuses to overwrite a non-empty folder unless --force', async () => {
    const again = await cli('pack', '--db', db, '--out', out);
    expect(again.code).toBe(1);
    expect(again.err).toContain('is not empty: pass --force');
    const forced = await cli('pack', '--db', db, '--out', out, '--force');
    expect(forced.code, forced.err).toBe(0);
    expect((await cli('pack', 'verify', out)).code).toBe(0);
  }, 60_000);
});

describe('tilekit pack: failures that need no toolchain', () => {
  it('a database with no results exits 1 and says so', async () => {
    const root = tmp('tilekit-pack-empty-');
    const db = join(root, 'results.db');
    ResultsDb.open(db).close();
    const r = await cli('pack', '--db', db, '--out', join(root, 'pack'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('no successful tuning results in');
    expect(r.err).toContain('run `tilekit tune` first');
    const missing = await cli('pack', '--db', join(root, 'none.db'), '--out', join(root, 'pack'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no results database at');
  });

  it('results whose source was never recorded: exit 1, saying to tune again', async () => {
    const root = tmp('tilekit-pack-nosrc-');
    const db = join(root, 'results.db');
    const d = ResultsDb.open(db);
    const run = d.startRun({ args: null, strategy: 'guided' });
    d.record(
      run,
      { kernel: 'gemm', sourceHash: sourceHash('x'), config: { BM: 64 }, bucket: 'M=1', target: 'sm_90a', device: 'h100', backend: 'model', toolchain: { tilekit: '0.1.0' } },
      { status: 'ok', costUs: 1, label: 'modeled', shape: { M: 1 } },
    );
    d.finishRun(run, 'done');
    d.close();
    const r = await cli('pack', '--db', db, '--out', join(root, 'pack'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('the source of kernel gemm');
  });

  it('usage: --out is needed, targets must be known; verify of a non-pack fails', async () => {
    expect((await cli('pack')).code).toBe(2);
    const t = await cli('pack', '--out', join(tmp('tilekit-pack-u-'), 'p'), '--targets', 'sm_70');
    expect(t.code).toBe(2);
    const v = await cli('pack', 'verify', tmp('tilekit-pack-nothing-'));
    expect(v.code).toBe(1);
    expect(v.err).toContain('manifest.json: missing');
  });

  it('nearest-bucket fallback: distance in log2 sizes, ties to the smaller bucket, else the default', () => {
    const entry = (bucket: string, shape: Record<string, number>) => ({
      bucket,
      shape,
      config: bucket,
      chosenBy: { label: 'modeled' as const, device: 'h100', backend: 'model', costUs: 1, runId: 1, toolchain: {} },
    });
    const table: DispatchTable = { target: 'sm_90a', device: 'h100', consts: {}, default: 'def', entries: [entry('M=1', { M: 1 }), entry('M=64-127', { M: 64 })] };
    expect(selectEntry(table, { M: 8 })).toMatchObject({ how: 'nearest', entry: { bucket: 'M=1' } }); // tie 3 vs 3: the smaller
    expect(selectEntry(table, { M: 9 })).toMatchObject({ how: 'nearest', entry: { bucket: 'M=64-127' } });
    expect(selectEntry(table, { M: 100 })).toMatchObject({ how: 'bucket', entry: { bucket: 'M=64-127' } });
    expect(selectEntry({ ...table, entries: [] }, { M: 100 })).toEqual({ how: 'default' });
  });
});
