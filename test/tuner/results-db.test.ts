import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  configKey,
  ResultsDb,
  SCHEMA_VERSION,
  sourceHash,
  type ResultKey,
  type ResultScope,
  type ResultValue,
} from '../../tuner/results-db.js';

const require = createRequire(import.meta.url);
const sqliteUrl = pathToFileURL(require.resolve('better-sqlite3')).href;

const scope: ResultScope = {
  kernel: 'gemm',
  sourceHash: sourceHash('kernel gemm() {}\n'),
  bucket: 'M=4096,N=4096,K=4096',
  target: 'sm_90a',
  device: 'h200',
  backend: 'gpu',
  toolchain: { tilekit: '0.1.0', ptxas: '13.0.88' },
};
const shape = { M: 4096, N: 4096, K: 4096 };
const keyOf = (config: ResultKey['config'], over: Partial<ResultScope> = {}): ResultKey => ({ ...scope, ...over, config });
const ok = (costUs: number, extra: Partial<Extract<ResultValue, { status: 'ok' }>> = {}): ResultValue => ({
  status: 'ok',
  costUs,
  label: 'measured',
  shape,
  ...extra,
});

let dir: string;
let open: ResultsDb[] = [];
/** Opens a handle that is closed after the test. */
function openDb(path = join(dir, '.tilekit', 'results.db'), busyTimeoutMs?: number): ResultsDb {
  const db = ResultsDb.open(path, busyTimeoutMs === undefined ? {} : { busyTimeoutMs });
  open.push(db);
  return db;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tilekit-results-db-'));
});
afterEach(() => {
  for (const db of open) db.close();
  open = [];
  rmSync(dir, { recursive: true, force: true });
});

describe('configKey and sourceHash', () => {
  it('is canonical JSON with sorted keys', () => {
    expect(configKey({ BN: 64, BM: 128, causal: true, dtype: 'f16' })).toBe('{"BM":128,"BN":64,"causal":true,"dtype":"f16"}');
    expect(configKey({ b: 1, a: 2 })).toBe(configKey({ a: 2, b: 1 }));
    expect(JSON.parse(configKey({ x: 1.5, y: 'a"b' }))).toEqual({ x: 1.5, y: 'a"b' });
  });
  it('rejects values that have no canonical form', () => {
    expect(() => configKey({ BM: Number.NaN })).toThrow(/BM = NaN is not a finite number/);
    expect(() => configKey({ BM: [1] as unknown as number })).toThrow(/BM must be a number, string or boolean/);
  });
  it('hashes the .tile text with sha256', () => {
    expect(sourceHash('abc')).toBe(createHash('sha256').update('abc').digest('hex'));
  });
});

describe('ResultsDb: schema and file', () => {
  it('creates the folder and the file, in WAL mode, at the current schema version', () => {
    const path = join(dir, 'a', 'b', 'results.db');
    openDb(path);
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.prepare('SELECT version FROM tilekit_schema').pluck().get()).toBe(SCHEMA_VERSION);
      const tables = raw.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
      expect(tables).toEqual(expect.arrayContaining(['results', 'runs', 'tilekit_schema']));
    } finally {
      raw.close();
    }
  });

  it('reopens an existing database without losing anything', () => {
    const path = join(dir, 'r.db');
    const a = openDb(path);
    const run = a.startRun({ args: ['tune', 'gemm'], strategy: 'grid', seed: 7 });
    a.record(run, keyOf({ BM: 64 }), ok(10));
    a.finishRun(run, 'done');
    a.close();
    const b = openDb(path);
    expect(b.lookup(keyOf({ BM: 64 }))?.result).toMatchObject({ status: 'ok', costUs: 10 });
    expect(b.run(run)).toMatchObject({ status: 'done', strategy: 'grid', seed: 7, args: ['tune', 'gemm'] });
  });

  it('refuses a database written by a newer schema version, naming the path', () => {
    const path = join(dir, 'new.db');
    openDb(path).close();
    const raw = new Database(path);
    raw.prepare('UPDATE tilekit_schema SET version = ?').run(SCHEMA_VERSION + 1);
    raw.close();
    expect(() => ResultsDb.open(path)).toThrow(
      new RegExp(`${escape(path)} has schema version ${SCHEMA_VERSION + 1}, but this Tilekit reads up to version ${SCHEMA_VERSION}; upgrade Tilekit`),
    );
  });

  it('refuses a corrupt file with an error naming the path and what to do', () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff)));
    expect(() => ResultsDb.open(path)).toThrow(new RegExp(`results database ${escape(path)} is not a readable SQLite database .*delete it`));
    // The file is left as it was.
    expect(readFileSync(path).length).toBe(4096);
  });

  it('refuses a SQLite file that is not a results database', () => {
    const path = join(dir, 'other.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE users (id INTEGER)');
    raw.close();
    expect(() => ResultsDb.open(path)).toThrow(/not a Tilekit results database \(tables: users\); pass another path/);
  });

  it('reports an unwritable location with the path', () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const path = join(file, 'sub', 'results.db');
    expect(() => ResultsDb.open(path)).toThrow(new RegExp(`cannot create the folder .*results database ${escape(path)}.*pass a writable path`));
    // A folder where the file should be: SQLite cannot open it.
    const folder = join(dir, 'is-a-folder.db');
    mkdirSync(folder);
    expect(() => ResultsDb.open(folder)).toThrow(new RegExp(`results database ${escape(folder)}`));
  });
});

describe('ResultsDb: recording and reading results', () => {
  it('round-trips ok and failed results with all their fields', () => {
    const db = openDb();
    const run = db.startRun({ args: [], strategy: 'random', seed: 1 });
    const metrics = { registers: 168, smem: 98304, occupancy: 0.25 };
    db.record(run, keyOf({ BM: 128, BN: 128 }), ok(812.5, { spread: { min: 800, max: 830 }, metrics }));
    db.record(run, keyOf({ BM: 256, BN: 128 }), { status: 'resources', message: 'TK4001: 256 KiB shared memory > 227 KiB', shape });

    const a = db.lookup(keyOf({ BN: 128, BM: 128 }));
    expect(a).toMatchObject({
      configKey: '{"BM":128,"BN":128}',
      runId: run,
      key: { ...scope, config: { BM: 128, BN: 128 } },
      result: { status: 'ok', costUs: 812.5, label: 'measured', spread: { min: 800, max: 830 }, shape, metrics },
    });
    expect(Date.parse(a?.createdAt ?? '')).not.toBeNaN();
    expect(db.lookup(keyOf({ BM: 256, BN: 128 }))?.result).toEqual({
      status: 'resources',
      message: 'TK4001: 256 KiB shared memory > 227 KiB',
      shape,
    });
    expect(db.lookup(keyOf({ BM: 64, BN: 128 }))).toBeUndefined();
  });

  it('re-recording a key replaces it; other keys are untouched', () => {
    const db = openDb();
    const run1 = db.startRun({ args: [], strategy: 'grid' });
    db.record(run1, keyOf({ BM: 64 }), ok(100));
    db.record(run1, keyOf({ BM: 128 }), { status: 'timeout', message: 'over 10 s', shape });
    const before = db.lookup(keyOf({ BM: 64 }));
    const run2 = db.startRun({ args: [], strategy: 'grid' });
    db.record(run2, keyOf({ BM: 128 }), ok(90, { label: 'measured' }));
    db.record(run2, keyOf({ BM: 256 }), ok(95));
    expect(db.known(scope).size).toBe(3);
    expect(db.lookup(keyOf({ BM: 128 }))).toMatchObject({ runId: run2, result: { status: 'ok', costUs: 90 } });
    expect(db.lookup(keyOf({ BM: 64 }))).toEqual(before);
  });

  it('a different source hash or toolchain is a different key; old results stay', () => {
    const db = openDb();
    const run = db.startRun({ args: [], strategy: 'grid' });
    db.record(run, keyOf({ BM: 64 }), ok(100));
    const edited = { sourceHash: sourceHash('kernel gemm() { /* edited */ }\n') };
    const newPtxas = { toolchain: { tilekit: '0.1.0', ptxas: '13.1.0' } };
    expect(db.lookup(keyOf({ BM: 64 }, edited))).toBeUndefined();
    expect(db.lookup(keyOf({ BM: 64 }, newPtxas))).toBeUndefined();
    expect(db.known({ ...scope, ...edited }).size).toBe(0);
    expect(db.best({ ...scope, ...newPtxas })).toBeUndefined();
    db.record(run, keyOf({ BM: 64 }, newPtxas), ok(80));
    expect(db.lookup(keyOf({ BM: 64 }))?.result).toMatchObject({ costUs: 100 });
    expect(db.lookup(keyOf({ BM: 64 }, newPtxas))?.result).toMatchObject({ costUs: 80 });
    // Toolchain key order does not matter; other scope fields are part of the key too.
    expect(db.lookup(keyOf({ BM: 64 }, { toolchain: { ptxas: '13.0.88', tilekit: '0.1.0' } }))?.result).toMatchObject({ costUs: 100 });
    for (const over of [{ bucket: 'M=128,N=128,K=128' }, { target: 'sm_80' }, { device: 'h100' }, { backend: 'model' as const }]) {
      expect(db.lookup(keyOf({ BM: 64 }, over))).toBeUndefined();
    }
  });

  it('known returns failures with their reasons; best is the cheapest ok result', () => {
    const db = openDb();
    const run = db.startRun({ args: [], strategy: 'grid' });
    db.record(run, keyOf({ BM: 32 }), { status: 'compile', message: 'TK2001: BM must divide M', shape });
    db.record(run, keyOf({ BM: 64 }), ok(120));
    db.record(run, keyOf({ BM: 128 }), ok(70));
    db.record(run, keyOf({ BM: 256 }), { status: 'mismatch', message: 'relative L2 0.3 > 1e-2', shape, metrics: { l2: 0.3 } });
    db.record(run, keyOf({ BM: 512 }), { status: 'crash', message: 'illegal address', shape });
    const known = db.known(scope);
    expect([...known.keys()].sort()).toEqual(['{"BM":128}', '{"BM":256}', '{"BM":32}', '{"BM":512}', '{"BM":64}']);
    expect(known.get(configKey({ BM: 32 }))?.result).toEqual({ status: 'compile', message: 'TK2001: BM must divide M', shape });
    expect(known.get(configKey({ BM: 256 }))?.result).toMatchObject({ status: 'mismatch', metrics: { l2: 0.3 } });
    expect(db.best(scope)).toMatchObject({ configKey: '{"BM":128}', result: { costUs: 70 } });
    expect(db.best({ ...scope, bucket: 'none' })).toBeUndefined();
  });

  it('best is undefined when every configuration failed', () => {
    const db = openDb();
    const run = db.startRun({ args: [], strategy: 'grid' });
    db.record(run, keyOf({ BM: 32 }), { status: 'resources', message: 'too many registers', shape });
    expect(db.best(scope)).toBeUndefined();
    expect(db.known(scope).size).toBe(1);
  });

  it('stores kernel sources by their hash; a version 1 file without the sources table gets one on open', () => {
    const path = join(dir, 'src.db');
    const db = openDb(path);
    const text = 'kernel k() grid [1] {}\n';
    expect(db.recordSource('/k/k.tile', text)).toBe(sourceHash(text));
    expect(db.recordSource('/elsewhere/k.tile', text)).toBe(sourceHash(text));
    expect(db.source(sourceHash(text))).toEqual({ path: '/k/k.tile', text });
    expect(db.source(sourceHash('other'))).toBeUndefined();
    db.close();
    const raw = new Database(path);
    raw.exec('DROP TABLE sources');
    raw.close();
    const again = openDb(path);
    expect(again.source(sourceHash(text))).toBeUndefined();
    again.recordSource('/k/k.tile', text);
    expect(again.source(sourceHash(text))?.text).toBe(text);
  });

  it('query filters by kernel, target, device, bucket, run and status', () => {
    const db = openDb();
    const run1 = db.startRun({ args: [], strategy: 'grid' });
    const run2 = db.startRun({ args: [], strategy: 'grid' });
    db.record(run1, keyOf({ BM: 64 }), ok(100));
    db.record(run1, keyOf({ BM: 128 }), { status: 'timeout', message: 't', shape });
    db.record(run1, keyOf({ BM: 32 }), ok(150));
    db.record(run2, keyOf({ BM: 64 }, { target: 'gfx942', device: 'mi300x' }), ok(90));
    db.record(run2, keyOf({ BM: 64 }, { kernel: 'softmax', bucket: 'N=4096' }), ok(5, { label: 'modeled' }));
    expect(db.query()).toHaveLength(5);
    expect(db.query({ kernel: 'gemm', target: 'sm_90a' }).map((r) => r.configKey)).toEqual(['{"BM":64}', '{"BM":32}', '{"BM":128}']);
    expect(db.query({ kernel: 'gemm', target: 'sm_90a', okOnly: true })).toHaveLength(2);
    expect(db.query({ device: 'mi300x' }).map((r) => r.result)).toEqual([expect.objectContaining({ costUs: 90 })]);
    expect(db.query({ bucket: 'N=4096' }).map((r) => r.key.kernel)).toEqual(['softmax']);
    expect(db.query({ runId: run2 })).toHaveLength(2);
    expect(db.query({ kernel: 'nope' })).toEqual([]);
  });

  it('rejects malformed values with a clear error', () => {
    const db = openDb();
    const run = db.startRun({ args: [], strategy: 'grid' });
    expect(() => db.record(run, keyOf({ BM: 64 }), ok(-1))).toThrow(/costUs must be a finite non-negative number/);
    expect(() => db.record(run, keyOf({ BM: 64 }), ok(Number.POSITIVE_INFINITY))).toThrow(/costUs/);
    expect(() => db.record(run, keyOf({ BM: 64 }, { backend: 'cpu' as 'gpu' }), ok(1))).toThrow(/backend must be one of gpu, emulate, model/);
    expect(() => db.record(run, keyOf({ BM: 64 }, { kernel: '' }), ok(1))).toThrow(/kernel must be a non-empty string/);
    expect(() => db.record(run, keyOf({ BM: 64 }), { status: 'oops' as 'crash', message: '', shape })).toThrow(/status must be ok or one of/);
    expect(() => db.record(run, keyOf({ BM: 64 }), ok(1, { shape: { M: 1.5 } }))).toThrow(/shape: M = 1.5/);
    expect(() => db.record(run + 100, keyOf({ BM: 64 }), ok(1))).toThrow(/no run \d+ .*call startRun first/);
    expect(db.known(scope).size).toBe(0);
  });
});

describe('ResultsDb: runs', () => {
  it('records a run from start to finish', () => {
    const db = openDb();
    const id = db.startRun({ args: ['tune', 'gemm.tile', '--budget', '50'], strategy: 'evolution', seed: 42 });
    expect(db.run(id)).toMatchObject({ id, status: 'running', finishedAt: null, strategy: 'evolution', seed: 42 });
    db.finishRun(id, 'done');
    const run = db.run(id);
    expect(run).toMatchObject({ status: 'done', args: ['tune', 'gemm.tile', '--budget', '50'] });
    expect(Date.parse(run?.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(run?.startedAt ?? ''));
    expect(db.runs().map((r) => r.id)).toEqual([id]);
    expect(() => db.finishRun(id + 1, 'done')).toThrow(/no run/);
  });

  it('a run its handle closes without finishing is interrupted; a finished one stays done', () => {
    const path = join(dir, 'r.db');
    const a = openDb(path);
    const unfinished = a.startRun({ args: [], strategy: 'grid' });
    const finished = a.startRun({ args: [], strategy: 'grid' });
    a.finishRun(finished, 'done');
    a.close();
    const b = openDb(path);
    expect(b.run(unfinished)?.status).toBe('interrupted');
    expect(b.run(finished)?.status).toBe('done');
  });

  it('a live run of another open handle is not marked interrupted', () => {
    const path = join(dir, 'r.db');
    const a = openDb(path);
    const id = a.startRun({ args: [], strategy: 'grid' });
    const b = openDb(path);
    expect(b.interruptedRuns).toEqual([]);
    expect(b.run(id)?.status).toBe('running');
  });
});

describe('ResultsDb: durability and concurrency', () => {
  let childModuleDir: string;
  let childModuleUrl: string;
  beforeAll(() => {
    // The child process runs the real module: transpiled here (vitest runs TypeScript, node 20 does
    // not), with its better-sqlite3 import pointed at this checkout's copy.
    childModuleDir = mkdtempSync(join(tmpdir(), 'tilekit-results-db-module-'));
    const source = readFileSync(fileURLToPath(new URL('../../tuner/results-db.ts', import.meta.url)), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText.replace(/from 'better-sqlite3'/, `from '${sqliteUrl}'`);
    const file = join(childModuleDir, 'results-db.mjs');
    writeFileSync(file, js);
    childModuleUrl = pathToFileURL(file).href;
  });
  afterAll(() => rmSync(childModuleDir, { recursive: true, force: true }));

  it('a second handle sees the first one’s records at once, and both can write', () => {
    const path = join(dir, 'r.db');
    const a = openDb(path);
    const b = openDb(path);
    const runA = a.startRun({ args: [], strategy: 'grid' });
    a.record(runA, keyOf({ BM: 64 }), ok(100));
    expect(b.lookup(keyOf({ BM: 64 }))?.result).toMatchObject({ costUs: 100 });
    const runB = b.startRun({ args: [], strategy: 'grid' });
    b.record(runB, keyOf({ BM: 128 }), ok(90));
    expect(a.known(scope).size).toBe(2);
    expect(a.best(scope)?.configKey).toBe('{"BM":128}');
  });

  it('a killed process loses nothing it recorded, and its run is reported interrupted', () => {
    const path = join(dir, '.tilekit', 'results.db');
    const script = `
      import { ResultsDb } from ${JSON.stringify(childModuleUrl)};
      const [path, scopeJson] = process.argv.slice(1);
      const scope = JSON.parse(scopeJson);
      const db = ResultsDb.open(path);
      const run = db.startRun({ args: ['tune'], strategy: 'grid', seed: 3 });
      for (const BM of [16, 32, 64]) db.record(run, { ...scope, config: { BM } }, { status: 'ok', costUs: BM, label: 'measured', shape: { M: 1 } });
      process.stdout.write(JSON.stringify({ run }) + '\\n');
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, path, JSON.stringify(scope)], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).toBe('');
    expect(child.signal).toBe('SIGKILL');
    const { run } = JSON.parse(child.stdout) as { run: number };
    const db = openDb(path);
    expect(db.interruptedRuns).toEqual([run]);
    expect(db.run(run)).toMatchObject({ status: 'interrupted', strategy: 'grid', seed: 3 });
    expect([...db.known(scope).keys()].sort()).toEqual(['{"BM":16}', '{"BM":32}', '{"BM":64}']);
    expect(db.best(scope)?.result).toMatchObject({ costUs: 16 });
    // Reported once: the next open finds nothing new to mark.
    expect(openDb(path).interruptedRuns).toEqual([]);
  });

  it('a write waits (busy timeout) while another process holds the write lock', async () => {
    const path = join(dir, 'r.db');
    const db = openDb(path);
    const run = db.startRun({ args: [], strategy: 'grid' });
    const impatient = openDb(path, 20); // opened before the lock: opening takes the write lock briefly
    const holdMs = 400;
    const script = `
      import Database from ${JSON.stringify(sqliteUrl)};
      const db = new Database(process.argv[1]);
      db.exec('BEGIN IMMEDIATE');
      process.stdout.write('locked\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ${holdMs});
      db.exec('COMMIT');
      db.close();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    await new Promise<void>((res, rej) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && res());
      child.on('exit', () => rej(new Error('lock holder exited before locking')));
    });
    // With a short timeout the write gives up; with the default it waits for the lock.
    expect(() => impatient.record(run, keyOf({ BM: 1 }), ok(1))).toThrow(/locked/);
    const t0 = performance.now();
    db.record(run, keyOf({ BM: 64 }), ok(100));
    const waited = performance.now() - t0;
    expect(await exited).toBe(0);
    expect(waited).toBeGreaterThan(holdMs / 4);
    expect(db.lookup(keyOf({ BM: 64 }))?.result).toMatchObject({ costUs: 100 });
    expect(db.lookup(keyOf({ BM: 1 }))).toBeUndefined();
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
