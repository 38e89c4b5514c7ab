/**
 * `tilekit results [--kernel NAME] [--target T] [--device D] [--format table|csv|json] [--db PATH]`:
 * what tuning runs recorded (tuner/results-db.ts), best first per kernel, shape bucket, target and
 * device. Every time carries its label: measured (with the device) or modeled.
 */
import { existsSync } from 'node:fs';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, type CliIO } from '../dsl/cli-io.js';
import { ResultsDb, type StoredResult } from './results-db.js';
import { DEFAULT_DB } from './tune-command.js';

export interface ResultsOptions {
  kernel?: string;
  target?: string;
  device?: string;
  format?: string;
  db?: string;
}

const FORMATS = ['table', 'csv', 'json'] as const;

function configText(r: StoredResult): string {
  return Object.entries(r.key.config)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
}

function costText(r: StoredResult): string {
  return r.result.status === 'ok' ? `${r.result.costUs.toFixed(2)} µs ${r.result.label}` : `${r.result.status}: ${r.result.message}`;
}

/** Best first within each (kernel, bucket, target, device, backend); failures after successes. */
function order(rows: StoredResult[]): StoredResult[] {
  const group = (r: StoredResult): string => [r.key.kernel, r.key.bucket, r.key.target, r.key.device, r.key.backend].join('\u0000');
  const cost = (r: StoredResult): number => (r.result.status === 'ok' ? r.result.costUs : Infinity);
  return [...rows].sort((a, b) => group(a).localeCompare(group(b)) || cost(a) - cost(b) || a.configKey.localeCompare(b.configKey));
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function resultsCommand(opts: ResultsOptions, io: CliIO): number {
  const format = opts.format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format)) {
    io.err(`error: --format: unknown format '${format}': expected ${FORMATS.join(', ')}`);
    return EXIT_USAGE;
  }
  const path = opts.db ?? DEFAULT_DB;
  if (!existsSync(path)) {
    io.err(`error: no results database at ${path}: run \`tilekit tune\` first, or name one with --db`);
    return EXIT_ERRORS;
  }
  let rows: StoredResult[];
  try {
    const db = ResultsDb.open(path);
    try {
      rows = order(db.query({ ...(opts.kernel ? { kernel: opts.kernel } : {}), ...(opts.target ? { target: opts.target } : {}), ...(opts.device ? { device: opts.device } : {}) }));
    } finally {
      db.close();
    }
  } catch (e) {
    io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_ERRORS;
  }
  if (format === 'json') {
    io.out(JSON.stringify(rows.map((r) => ({ ...r.key, config: r.key.config, result: r.result, runId: r.runId, createdAt: r.createdAt })), null, 2));
    return EXIT_OK;
  }
  const header = ['kernel', 'bucket', 'target', 'device', 'backend', 'configuration', 'result', 'run'];
  const cells = rows.map((r) => [r.key.kernel, r.key.bucket, r.key.target, r.key.device, r.key.backend, configText(r), costText(r), String(r.runId)]);
  if (format === 'csv') {
    io.out([header, ...cells].map((row) => row.map(csvCell).join(',')).join('\n'));
    return EXIT_OK;
  }
  if (rows.length === 0) {
    io.out(`no results in ${path}${opts.kernel ? ` for kernel '${opts.kernel}'` : ''}`);
    return EXIT_OK;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.out([line(header), ...cells.map(line)].join('\n'));
  return EXIT_OK;
}
