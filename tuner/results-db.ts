/**
 * The tuner's results database: every evaluated configuration of every tuning run, in one SQLite
 * file (default `.tilekit/results.db`; the caller passes the path). Schema, key and resume
 * semantics: docs/results-db.md.
 *
 * Synchronous (better-sqlite3): each `record` is one autocommitted statement in WAL mode with
 * `synchronous = FULL`, so a run killed at any point loses at most the configuration in flight.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { ConfigValue } from '../compiler/ir.js';

/** The schema version this code writes; a file with a higher version is refused. */
export const SCHEMA_VERSION = 1;

export type FailureReason = 'compile' | 'resources' | 'timeout' | 'mismatch' | 'crash';
export const FAILURE_REASONS: readonly FailureReason[] = ['compile', 'resources', 'timeout', 'mismatch', 'crash'];
export type Backend = 'gpu' | 'emulate' | 'model';
export const BACKENDS: readonly Backend[] = ['gpu', 'emulate', 'model'];
export type CostLabel = 'measured' | 'modeled';
export type RunStatus = 'running' | 'done' | 'interrupted';


/** What identifies one evaluation. Two evaluations with equal keys are the same measurement. */
export interface ResultKey {
  kernel: string;
  /** sha256 (hex) of the `.tile` text; see {@link sourceHash}. */
  sourceHash: string;
  /** The tunables and consts of the configuration; stored as {@link configKey}. */
  config: Readonly<Record<string, ConfigValue>>;
  /** Shape bucket, defined by the caller (e.g. `M=4096,N=4096,K=4096`). */
  bucket: string;
  /** `sm_80`, `sm_90a`, `gfx942`, … */
  target: string;
  /** `h100`, `h200`, `a100`, `mi300x`, or `none` (emulator, model). */
  device: string;
  backend: Backend;
  /** Versions of everything that produced the code, e.g. `{ tilekit: '0.1.0', ptxas: '13.0.88' }`. */
  toolchain: Readonly<Record<string, string>>;
}

/** Everything in a key but the configuration: one search space on one device. */
export type ResultScope = Omit<ResultKey, 'config'>;

/** How much the measured cost varied, e.g. `{ min, max }` or `{ q1, q3 }` in microseconds. */
export type Spread = Readonly<Record<string, number>>;

export interface OkResult {
  status: 'ok';
  costUs: number;
  label: CostLabel;
  spread?: Spread | null;
  /** The exact dimensions this was evaluated at (the bucket's representative). */
  shape: Readonly<Record<string, number>>;
  /** Resource report, model terms, emulator statistics: any JSON value. */
  metrics?: unknown;
}

export interface FailedResult {
  status: FailureReason;
  message: string;
  shape: Readonly<Record<string, number>>;
  metrics?: unknown;
}

export type ResultValue = OkResult | FailedResult;

export interface StoredResult {
  key: ResultKey;
  /** `configKey(key.config)`: the stored form of the configuration. */
  configKey: string;
  result: ResultValue;
  runId: number;
  /** ISO 8601 (UTC) time the result was recorded. */
  createdAt: string;
}

export interface RunStart {
  /** The command line (or any JSON value describing the invocation). */
  args: unknown;
  strategy: string;
  seed?: number | null;
}

export interface RunInfo {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  args: unknown;
  strategy: string;
  seed: number | null;
  status: RunStatus;
}

export interface ResultsQuery {
  kernel?: string;
  sourceHash?: string;
  bucket?: string;
  target?: string;
  device?: string;
  backend?: Backend;
  runId?: number;
  /** Only `ok` results. */
  okOnly?: boolean;
}

export interface OpenOptions {
  /** How long a write waits for another connection's write to finish (default 5000 ms). */
  busyTimeoutMs?: number;
}

/** Canonical JSON of a configuration (or toolchain) object: keys sorted, no whitespace. */
export function configKey(config: Readonly<Record<string, ConfigValue>>): string {
  const keys = Object.keys(config).sort();
  const parts = keys.map((k) => {
    const v = config[k];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new Error(`configuration value ${k} = ${v} is not a finite number`);
    } else if (typeof v !== 'string' && typeof v !== 'boolean') {
      throw new Error(`configuration value ${k} must be a number, string or boolean (got ${v === null ? 'null' : typeof v})`);
    }
    return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
  });
  return `{${parts.join(',')}}`;
}

/** Canonical JSON of toolchain versions (keys sorted). */
export function toolchainKey(toolchain: Readonly<Record<string, string>>): string {
  for (const [k, v] of Object.entries(toolchain)) {
    if (typeof v !== 'string') throw new Error(`toolchain version ${k} must be a string (got ${typeof v})`);
  }
  return configKey(toolchain);
}

/** sha256 (hex) of a kernel's `.tile` text: the `sourceHash` of a key. */
export function sourceHash(tileText: string): string {
  return createHash('sha256').update(tileText, 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Schema

/**
 * Kernel sources by their hash (tilekit tune records the text at the start of a run), so a pack
 * can rebuild any tuned configuration. Part of schema version 1 (the format is unreleased); it is
 * also created on open where a version 1 file predates it.
 */
const SOURCES_TABLE = `
CREATE TABLE IF NOT EXISTS sources (
  source_hash TEXT PRIMARY KEY,
  path        TEXT NOT NULL,
  text        TEXT NOT NULL,
  created_at  TEXT NOT NULL
) WITHOUT ROWID;
`;

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS tilekit_schema (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at  TEXT    NOT NULL,
  finished_at TEXT,
  args        TEXT    NOT NULL,
  strategy    TEXT    NOT NULL,
  seed        INTEGER,
  status      TEXT    NOT NULL CHECK (status IN ('running', 'done', 'interrupted')),
  host        TEXT    NOT NULL,
  pid         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
  kernel      TEXT    NOT NULL,
  source_hash TEXT    NOT NULL,
  bucket      TEXT    NOT NULL,
  target      TEXT    NOT NULL,
  device      TEXT    NOT NULL,
  backend     TEXT    NOT NULL CHECK (backend IN ('gpu', 'emulate', 'model')),
  toolchain   TEXT    NOT NULL,
  config      TEXT    NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('ok', 'compile', 'resources', 'timeout', 'mismatch', 'crash')),
  message     TEXT,
  cost_us     REAL,
  label       TEXT    CHECK (label IN ('measured', 'modeled')),
  spread      TEXT,
  metrics     TEXT,
  shape       TEXT    NOT NULL,
  created_at  TEXT    NOT NULL,
  run_id      INTEGER NOT NULL REFERENCES runs (id),
  PRIMARY KEY (kernel, source_hash, bucket, target, device, backend, toolchain, config),
  CHECK ((status = 'ok') = (cost_us IS NOT NULL AND label IS NOT NULL)),
  CHECK ((status = 'ok') = (message IS NULL))
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS results_by_run ON results (run_id);
CREATE INDEX IF NOT EXISTS results_by_target ON results (target, device, kernel);
${SOURCES_TABLE}
`;

/** MIGRATIONS[v] takes a database at schema version v to v + 1. */
const MIGRATIONS: readonly string[] = [SCHEMA_V1];

interface ResultRow {
  kernel: string;
  source_hash: string;
  bucket: string;
  target: string;
  device: string;
  backend: string;
  toolchain: string;
  config: string;
  status: string;
  message: string | null;
  cost_us: number | null;
  label: string | null;
  spread: string | null;
  metrics: string | null;
  shape: string;
  created_at: string;
  run_id: number;
}

interface RunRow {
  id: number;
  started_at: string;
  finished_at: string | null;
  args: string;
  strategy: string;
  seed: number | null;
  status: string;
  host: string;
  pid: number;
}

const SCOPE_WHERE =
  'kernel = @kernel AND source_hash = @source_hash AND bucket = @bucket AND target = @target AND device = @device AND backend = @backend AND toolchain = @toolchain';

type ScopeParams = Record<'kernel' | 'source_hash' | 'bucket' | 'target' | 'device' | 'backend' | 'toolchain', string>;
type KeyParams = ScopeParams & { config: string };

const now = (): string => new Date().toISOString();

function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Turns an SQLite/file-system error into one that names the file and says what to do. */
function describeOpenError(path: string, e: unknown): Error {
  const code = errorCode(e) ?? '';
  const detail = e instanceof Error ? e.message : String(e);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new Error(
      `results database ${path} is not a readable SQLite database (${detail}); ` +
        'move it aside or delete it (its results will be re-measured), or pass another path',
      { cause: e },
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_IOERR')) {
    return new Error(
      `cannot open results database ${path} for writing (${detail}); check that the file and its folder are writable, or pass another path`,
      { cause: e },
    );
  }
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY')) {
    return new Error(`results database ${path} is locked by another process (${detail}); wait for it to finish or pass another path`, {
      cause: e,
    });
  }
  if (e instanceof Error && e.message.startsWith('results database ')) return e;
  return new Error(`cannot open results database ${path}: ${detail}`, { cause: e });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) === 'EPERM'; // exists, owned by someone else
  }
}

function parseJson(text: string | null): unknown {
  return text === null ? undefined : (JSON.parse(text) as unknown);
}

function checkName(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new Error(`result key: ${what} must be a non-empty string`);
  return value;
}

function scopeParams(scope: ResultScope): ScopeParams {
  if (!BACKENDS.includes(scope.backend)) throw new Error(`result key: backend must be one of ${BACKENDS.join(', ')} (got ${String(scope.backend)})`);
  return {
    kernel: checkName('kernel', scope.kernel),
    source_hash: checkName('sourceHash', scope.sourceHash),
    bucket: checkName('bucket', scope.bucket),
    target: checkName('target', scope.target),
    device: checkName('device', scope.device),
    backend: scope.backend,
    toolchain: toolchainKey(scope.toolchain),
  };
}

function keyParams(key: ResultKey): KeyParams {
  return { ...scopeParams(key), config: configKey(key.config) };
}

function jsonOrNull(what: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const text = JSON.stringify(value);
  if (text === undefined) throw new Error(`${what} is not JSON-serializable`);
  return text;
}

function shapeJson(shape: Readonly<Record<string, number>>): string {
  if (typeof shape !== 'object' || shape === null) throw new Error('result shape must be an object of dimension sizes');
  for (const [k, v] of Object.entries(shape)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`result shape: ${k} = ${String(v)} is not a non-negative integer`);
  }
  return configKey(shape);
}

function toStored(row: ResultRow): StoredResult {
  const key: ResultKey = {
    kernel: row.kernel,
    sourceHash: row.source_hash,
    config: JSON.parse(row.config) as Record<string, ConfigValue>,
    bucket: row.bucket,
    target: row.target,
    device: row.device,
    backend: row.backend as Backend,
    toolchain: JSON.parse(row.toolchain) as Record<string, string>,
  };
  const shape = JSON.parse(row.shape) as Record<string, number>;
  const metrics = parseJson(row.metrics);
  let result: ResultValue;
  if (row.status === 'ok') {
    const ok: OkResult = {
      status: 'ok',
      costUs: row.cost_us as number,
      label: row.label as CostLabel,
      spread: (parseJson(row.spread) as Spread | undefined) ?? null,
      shape,
    };
    if (metrics !== undefined) ok.metrics = metrics;
    result = ok;
  } else {
    const failed: FailedResult = { status: row.status as FailureReason, message: row.message ?? '', shape };
    if (metrics !== undefined) failed.metrics = metrics;
    result = failed;
  }
  return { key, configKey: row.config, result, runId: row.run_id, createdAt: row.created_at };
}

function toRun(row: RunRow): RunInfo {
  return {
    id: row.id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    args: JSON.parse(row.args) as unknown,
    strategy: row.strategy,
    seed: row.seed,
    status: row.status as RunStatus,
  };
}

function prepareStatements(db: Database.Database) {
  return {
    upsert: db.prepare<[Record<string, unknown>]>(
      `INSERT INTO results (kernel, source_hash, bucket, target, device, backend, toolchain, config,
         status, message, cost_us, label, spread, metrics, shape, created_at, run_id)
       VALUES (@kernel, @source_hash, @bucket, @target, @device, @backend, @toolchain, @config,
         @status, @message, @cost_us, @label, @spread, @metrics, @shape, @created_at, @run_id)
       ON CONFLICT (kernel, source_hash, bucket, target, device, backend, toolchain, config) DO UPDATE SET
         status = excluded.status, message = excluded.message, cost_us = excluded.cost_us, label = excluded.label,
         spread = excluded.spread, metrics = excluded.metrics, shape = excluded.shape,
         created_at = excluded.created_at, run_id = excluded.run_id`,
    ),
    lookup: db.prepare<[KeyParams], ResultRow>(`SELECT * FROM results WHERE ${SCOPE_WHERE} AND config = @config`),
    known: db.prepare<[ScopeParams], ResultRow>(`SELECT * FROM results WHERE ${SCOPE_WHERE} ORDER BY config`),
    best: db.prepare<[ScopeParams], ResultRow>(
      `SELECT * FROM results WHERE ${SCOPE_WHERE} AND status = 'ok' ORDER BY cost_us, config LIMIT 1`,
    ),
    startRun: db.prepare<[Record<string, unknown>]>(
      `INSERT INTO runs (started_at, args, strategy, seed, status, host, pid)
       VALUES (@started_at, @args, @strategy, @seed, 'running', @host, @pid)`,
    ),
    finishRun: db.prepare<[string, string, number]>(`UPDATE runs SET status = ?, finished_at = ? WHERE id = ?`),
    interruptRun: db.prepare<[string, number]>(`UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ? AND status = 'running'`),
    run: db.prepare<[number], RunRow>(`SELECT * FROM runs WHERE id = ?`),
    runs: db.prepare<[], RunRow>(`SELECT * FROM runs ORDER BY id`),
  };
}

// ---------------------------------------------------------------------------------------------

export class ResultsDb {
  /** Runs found `running` whose process is gone, marked `interrupted` when this handle opened. */
  readonly interruptedRuns: readonly number[];
  private readonly ownRuns = new Set<number>();
  private readonly stmts: ReturnType<typeof prepareStatements>;

  private constructor(
    readonly path: string,
    private readonly db: Database.Database,
    interruptedRuns: readonly number[],
  ) {
    this.interruptedRuns = interruptedRuns;
    this.stmts = prepareStatements(db);
  }

  /**
   * Opens (creating the folder, the file and the schema where missing) the results database at
   * `path`. Runs left `running` by a process that no longer exists on this host are marked
   * `interrupted`. Throws an Error naming the path for an unwritable location, a file that is not
   * a SQLite database, or a database written by a newer Tilekit.
   */
  static open(path: string, options: OpenOptions = {}): ResultsDb {
    const memory = path === ':memory:';
    const full = memory ? path : resolve(path);
    if (!memory) {
      try {
        mkdirSync(dirname(full), { recursive: true });
      } catch (e) {
        throw new Error(
          `cannot create the folder ${dirname(full)} for results database ${full} (${e instanceof Error ? e.message : String(e)}); pass a writable path`,
          { cause: e },
        );
      }
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(full, { timeout: options.busyTimeoutMs ?? 5000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      const interrupted = migrate(db, full);
      return new ResultsDb(full, db, interrupted);
    } catch (e) {
      db?.close();
      throw describeOpenError(full, e);
    }
  }

  /** Records the start of a tuning run; returns its id (for `record` and `finishRun`). */
  startRun(info: RunStart): number {
    if (typeof info.strategy !== 'string' || info.strategy.length === 0) throw new Error('startRun: strategy must be a non-empty string');
    const seed = info.seed ?? null;
    if (seed !== null && !Number.isSafeInteger(seed)) throw new Error(`startRun: seed ${seed} is not a safe integer`);
    const r = this.stmts.startRun.run({
      started_at: now(),
      args: jsonOrNull('startRun: args', info.args) ?? 'null',
      strategy: info.strategy,
      seed,
      host: hostname(),
      pid: process.pid,
    });
    const id = Number(r.lastInsertRowid);
    this.ownRuns.add(id);
    return id;
  }

  /** Marks a run finished (`done`) or stopped early (`interrupted`). */
  finishRun(id: number, status: 'done' | 'interrupted'): void {
    if (status !== 'done' && status !== 'interrupted') throw new Error(`finishRun: status must be done or interrupted (got ${String(status)})`);
    const r = this.stmts.finishRun.run(status, now(), id);
    if (r.changes === 0) throw new Error(`finishRun: no run ${id} in ${this.path}`);
    this.ownRuns.delete(id);
  }

  run(id: number): RunInfo | undefined {
    const row = this.stmts.run.get(id);
    return row === undefined ? undefined : toRun(row);
  }

  runs(): RunInfo[] {
    return this.stmts.runs.all().map(toRun);
  }

  /**
   * Stores one evaluation, durably (its own transaction). Re-recording an existing key replaces
   * that row (the same candidate re-evaluated); no other row is touched.
   */
  record(runId: number, key: ResultKey, value: ResultValue): void {
    const params: Record<string, unknown> = {
      ...keyParams(key),
      shape: shapeJson(value.shape),
      metrics: jsonOrNull('result metrics', value.metrics),
      created_at: now(),
      run_id: runId,
    };
    if (value.status === 'ok') {
      if (typeof value.costUs !== 'number' || !Number.isFinite(value.costUs) || value.costUs < 0) {
        throw new Error(`record: costUs must be a finite non-negative number (got ${String(value.costUs)})`);
      }
      if (value.label !== 'measured' && value.label !== 'modeled') throw new Error(`record: label must be measured or modeled (got ${String(value.label)})`);
      Object.assign(params, { status: 'ok', message: null, cost_us: value.costUs, label: value.label, spread: jsonOrNull('result spread', value.spread) });
    } else {
      if (!FAILURE_REASONS.includes(value.status)) {
        throw new Error(`record: status must be ok or one of ${FAILURE_REASONS.join(', ')} (got ${String((value as { status: unknown }).status)})`);
      }
      Object.assign(params, { status: value.status, message: String(value.message ?? ''), cost_us: null, label: null, spread: null });
    }
    try {
      this.stmts.upsert.run(params);
    } catch (e) {
      if (errorCode(e) === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new Error(`record: no run ${runId} in ${this.path} (call startRun first)`, { cause: e });
      throw e;
    }
  }

  /** The stored result for exactly this key (resume: skip what is done). */
  lookup(key: ResultKey): StoredResult | undefined {
    const row = this.stmts.lookup.get(keyParams(key));
    return row === undefined ? undefined : toStored(row);
  }

  /** Everything evaluated in this scope (ok and failed), by canonical configuration. */
  known(scope: ResultScope): Map<string, StoredResult> {
    const out = new Map<string, StoredResult>();
    for (const row of this.stmts.known.all(scopeParams(scope))) out.set(row.config, toStored(row));
    return out;
  }

  /**
   * Stores a kernel's source text under its {@link sourceHash} (the hash a result key carries);
   * returns the hash. Recording the same text again keeps the first path.
   */
  recordSource(path: string, text: string): string {
    if (typeof text !== 'string') throw new Error('recordSource: text must be a string');
    const hash = sourceHash(text);
    this.db
      .prepare<[string, string, string, string]>('INSERT INTO sources (source_hash, path, text, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (source_hash) DO NOTHING')
      .run(hash, checkName('source path', path), text, now());
    return hash;
  }

  /** The source text recorded for a hash, if any. */
  source(hash: string): { path: string; text: string } | undefined {
    return this.db.prepare<[string], { path: string; text: string }>('SELECT path, text FROM sources WHERE source_hash = ?').get(hash);
  }

  /** The lowest-cost `ok` result in this scope (ties: the smaller canonical configuration). */
  best(scope: ResultScope): StoredResult | undefined {
    const row = this.stmts.best.get(scopeParams(scope));
    return row === undefined ? undefined : toStored(row);
  }

  /** Results matching every given field, ordered by kernel, bucket, target, device, backend, then cost (failures last). */
  query(filter: ResultsQuery = {}): StoredResult[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    const columns: [keyof ResultsQuery, string][] = [
      ['kernel', 'kernel'],
      ['sourceHash', 'source_hash'],
      ['bucket', 'bucket'],
      ['target', 'target'],
      ['device', 'device'],
      ['backend', 'backend'],
      ['runId', 'run_id'],
    ];
    for (const [field, column] of columns) {
      const v = filter[field];
      if (v === undefined) continue;
      where.push(`${column} = @${column}`);
      params[column] = v;
    }
    if (filter.okOnly === true) where.push(`status = 'ok'`);
    const sql =
      `SELECT * FROM results${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ` +
      `ORDER BY kernel, bucket, target, device, backend, source_hash, toolchain, cost_us IS NULL, cost_us, config`;
    return this.db.prepare<[Record<string, unknown>], ResultRow>(sql).all(params).map(toStored);
  }

  /**
   * Closes the handle. Runs this handle started and did not finish are marked `interrupted`.
   * Calling it again does nothing.
   */
  close(): void {
    if (!this.db.open) return;
    for (const id of this.ownRuns) this.stmts.interruptRun.run(now(), id);
    this.ownRuns.clear();
    this.db.close();
  }
}

/**
 * Creates or upgrades the schema and marks abandoned runs, in one write transaction (so two
 * processes opening a new file at once do not race). Returns the ids marked interrupted.
 */
function migrate(db: Database.Database, path: string): number[] {
  return db
    .transaction((): number[] => {
      const tables = db.prepare<[], { name: string }>(`SELECT name FROM sqlite_schema WHERE type = 'table'`).all().map((t) => t.name);
      let version = 0;
      if (tables.includes('tilekit_schema')) {
        version = db.prepare<[], { version: number }>('SELECT version FROM tilekit_schema WHERE id = 1').get()?.version ?? 0;
      } else if (tables.some((t) => !t.startsWith('sqlite_'))) {
        throw new Error(
          `results database ${path} is a SQLite file but not a Tilekit results database (tables: ${tables.join(', ')}); pass another path`,
        );
      }
      if (version > SCHEMA_VERSION) {
        throw new Error(
          `results database ${path} has schema version ${version}, but this Tilekit reads up to version ${SCHEMA_VERSION}; ` +
            'upgrade Tilekit, or pass another path',
        );
      }
      for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] as string);
      db.exec(SOURCES_TABLE);
      db.prepare('INSERT INTO tilekit_schema (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version').run(
        SCHEMA_VERSION,
      );
      const host = hostname();
      const abandoned = db
        .prepare<[string], RunRow>(`SELECT * FROM runs WHERE status = 'running' AND host = ?`)
        .all(host)
        .filter((r) => r.pid !== process.pid && !processAlive(r.pid))
        .map((r) => r.id);
      const mark = db.prepare<[string, number]>(`UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ? AND status = 'running'`);
      const at = now();
      for (const id of abandoned) mark.run(at, id);
      return abandoned;
    })
    .immediate();
}
