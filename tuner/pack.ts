/**
 * Kernel packs (`tilekit pack`): what a serving runtime needs to launch tuned kernels without
 * Tilekit — per kernel, target and device a dispatch table (shape bucket → configuration, and how
 * it was chosen), the binaries rebuilt from the source text recorded in the results database, the
 * launch contract of each binary, and a manifest listing every file with its sha256. Format:
 * docs/pack-format.md (runtime/pack/format.ts). Verification and inspection: runtime/pack/reader.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isAmdTarget, parseMfma, parseTarget } from '../compiler/compile-command.js';
import type { ConfigValue } from '../compiler/ir.js';
import { abiParams } from '../compiler/kernel-abi.js';
import type { MfmaSize } from '../compiler/hip/mfma-layout.js';
import { ToolchainMissingError } from '../compiler/toolchain/errors.js';
import { parseProgram } from '../dsl/parser.js';
import { SourceText } from '../dsl/source.js';
import { gridProgramOf } from '../runtime/pack/grid-program.js';
import { compileCandidate, type TuneTarget } from './compile-candidate.js';
import { configKey, ResultsDb, type StoredResult } from './results-db.js';
import {
  ALIGNMENT_CONTRACT,
  type DispatchEntry,
  type DispatchTable,
  FALLBACK_RULE,
  listTree,
  PACK_FORMAT,
  PACK_VERSION,
  type PackBinary,
  type PackFile,
  type PackKernel,
  type PackManifest,
  TILEKIT_VERSION,
} from '../runtime/pack/format.js';
import { tuneSpace } from './space.js';

// ---------------------------------------------------------------------------------------------

export interface PackOptions {
  db: string;
  out: string;
  kernels?: readonly string[];
  targets?: readonly string[];
  force?: boolean;
}

export type PackOutcome = { ok: true; manifest: PackManifest; dir: string; tgz: string; notes: string[] } | { ok: false; message: string };

/** A readable, stable file stem for a configuration: constants, then tunables, e.g. `dtype-f16_BM128_BN128`. */
export function configId(config: Readonly<Record<string, ConfigValue>>, tunables: readonly string[]): string {
  const clean = (v: ConfigValue): string => String(v).replace(/[^A-Za-z0-9.]/g, '');
  const consts = Object.keys(config)
    .filter((k) => !tunables.includes(k))
    .sort()
    .map((k) => `${k}-${clean(config[k]!)}`);
  const tun = tunables.filter((k) => k in config).map((k) => `${k}${clean(config[k]!)}`);
  return [...consts, ...tun].join('_') || 'default';
}

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** Which shape symbols and scalars an expression's text names. */
function namesIn(text: string, names: readonly string[]): string[] {
  const idents = new Set(text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []);
  return names.filter((n) => idents.has(n));
}

interface Group {
  kernel: string;
  sourceHash: string;
  target: string;
  device: string;
  constsKey: string;
  consts: Record<string, ConfigValue>;
  /** bucket → best result */
  best: Map<string, StoredResult>;
}

/** Measured beats modeled (they are not comparable); then the lower cost; then the smaller configuration text. */
function better(a: StoredResult, b: StoredResult): boolean {
  if (a.result.status !== 'ok' || b.result.status !== 'ok') return a.result.status === 'ok';
  if (a.result.label !== b.result.label) return a.result.label === 'measured';
  if (a.result.costUs !== b.result.costUs) return a.result.costUs < b.result.costUs;
  return a.configKey < b.configKey;
}

function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || (statSync(dir).isDirectory() && readdirSync(dir).length === 0);
}

export async function buildPack(opts: PackOptions): Promise<PackOutcome> {
  const fail = (message: string): PackOutcome => ({ ok: false, message });
  const out = resolve(opts.out);
  for (const t of opts.targets ?? []) {
    const p = parseTarget(t);
    if (typeof p !== 'string') return fail(`--targets: ${p.error}`);
  }
  if (!existsSync(opts.db)) return fail(`no results database at ${opts.db}: run \`tilekit tune\` first, or name one with --db`);
  if (!isEmptyDir(out) && !opts.force) return fail(`${out} is not empty: pass --force to replace it, or choose another --out`);
  if (existsSync(out) && !statSync(out).isDirectory()) return fail(`${out} is a file, not a folder: choose another --out`);

  const db = ResultsDb.open(opts.db);
  try {
    let rows = db.query({ okOnly: true });
    if (opts.kernels?.length) rows = rows.filter((r) => opts.kernels!.includes(r.key.kernel));
    if (opts.targets?.length) rows = rows.filter((r) => opts.targets!.includes(r.key.target));
    const what = [opts.kernels?.length ? `kernels ${opts.kernels.join(', ')}` : '', opts.targets?.length ? `targets ${opts.targets.join(', ')}` : ''].filter(Boolean).join(' and ');
    if (rows.length === 0) return fail(`no successful tuning results in ${opts.db}${what ? ` for ${what}` : ''}: run \`tilekit tune\` first`);

    // One source per kernel: the one with the most recent result (an edited kernel is a new space).
    const notes: string[] = [];
    const latest = new Map<string, StoredResult>();
    for (const r of rows) {
      const l = latest.get(r.key.kernel);
      if (!l || r.createdAt > l.createdAt) latest.set(r.key.kernel, r);
    }
    const skipped = rows.filter((r) => r.key.sourceHash !== latest.get(r.key.kernel)!.key.sourceHash);
    for (const k of new Set(skipped.map((r) => r.key.kernel))) notes.push(`kernel ${k}: results of older sources skipped (packing source ${latest.get(k)!.key.sourceHash.slice(0, 12)})`);
    rows = rows.filter((r) => r.key.sourceHash === latest.get(r.key.kernel)!.key.sourceHash);

    // Sources and their spaces.
    const spaces = new Map<string, { source: SourceText; tunables: string[] }>();
    for (const [kernel, r] of latest) {
      const src = db.source(r.key.sourceHash);
      if (!src) {
        return fail(
          `the source of kernel ${kernel} (sha256 ${r.key.sourceHash.slice(0, 12)}…) is not in ${opts.db}: ` +
            'run `tilekit tune` on it again with this Tilekit (it records the source) and pack again',
        );
      }
      const source = new SourceText(src.path, src.text);
      const sp = tuneSpace(source, kernel);
      if (!sp.space) return fail(`kernel ${kernel} in the recorded source ${src.path} does not build a tuning space: ${sp.message ?? sp.diagnostics.map((d) => d.message).join('; ')}`);
      spaces.set(kernel, { source, tunables: sp.space.dims.map((d) => d.name) });
    }

    // Group: kernel, target, device, constants → best per bucket.
    const groups = new Map<string, Group>();
    for (const r of rows) {
      const { tunables } = spaces.get(r.key.kernel)!;
      const consts: Record<string, ConfigValue> = {};
      for (const [k, v] of Object.entries(r.key.config)) if (!tunables.includes(k)) consts[k] = v;
      const constsKey = configKey(consts);
      const gk = [r.key.kernel, r.key.target, r.key.device, constsKey].join('\u0000');
      let g = groups.get(gk);
      if (!g) groups.set(gk, (g = { kernel: r.key.kernel, sourceHash: r.key.sourceHash, target: r.key.target, device: r.key.device, constsKey, consts, best: new Map() }));
      const cur = g.best.get(r.key.bucket);
      if (!cur || better(r, cur)) g.best.set(r.key.bucket, r);
    }

    // Build every chosen configuration and each table's default.
    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const kernels: PackKernel[] = [];
    const toolchains: Record<string, Record<string, string>> = {};
    for (const [kernel, { source, tunables }] of [...spaces].sort(([a], [b]) => a.localeCompare(b))) {
      const binaries = new Map<string, PackBinary>();
      const dispatch: DispatchTable[] = [];
      let signature: PackKernel['signature'] | undefined;
      const build = async (config: Record<string, ConfigValue>, target: string, mfma: MfmaSize | undefined): Promise<string | { error: string }> => {
        const id = configId(config, tunables);
        if (binaries.has(`${target}/${id}`)) return id;
        const consts = new Map<string, string>();
        const point: Record<string, number> = {};
        for (const [k, v] of Object.entries(config)) {
          if (tunables.includes(k)) point[k] = Number(v);
          else consts.set(k, String(v));
        }
        const sp = tuneSpace(source, kernel, consts);
        if (!sp.space) return { error: `kernel ${kernel}: constants ${configKey(Object.fromEntries(consts))} do not build: ${sp.message ?? sp.diagnostics.map((d) => d.message).join('; ')}` };
        const c = await compileCandidate(sp.space, point, target as TuneTarget, { allowSpills: true, ...(mfma ? { mfma } : {}) });
        if (!c.ok) return { error: `kernel ${kernel}, configuration ${id} for ${target} does not rebuild (${c.reason}): ${c.message}` };
        const dir = join(kernel, target);
        mkdirSync(join(out, dir), { recursive: true });
        const code = `${dir}/${id}.${isAmdTarget(c.target) ? 'hip' : 'ptx'}`.split(sep).join('/');
        const binary = `${dir}/${id}.${isAmdTarget(c.target) ? 'hsaco' : 'cubin'}`.split(sep).join('/');
        writeFileSync(join(out, code), 'source' in c.compiled ? c.compiled.source : c.compiled.ptx);
        writeFileSync(join(out, binary), c.binary);
        binaries.set(`${target}/${id}`, {
          id,
          target,
          config,
          entry: c.compiled.entry,
          params: c.compiled.params,
          threadsPerBlock: c.compiled.threads,
          grid: gridProgramOf(c.ir),
          ...('ldsBytes' in c.compiled ? { ldsBytes: c.compiled.ldsBytes } : { dynamicSmemBytes: c.compiled.dynamicSmem }),
          alignment: ALIGNMENT_CONTRACT,
          files: { code, binary },
        });
        signature ??= {
          params: c.ir.params.map((p) => (p.kind === 'tensor' ? { kind: 'tensor', name: p.name, dtype: p.dtype, dims: [...p.dims] } : { kind: 'scalar', name: p.name, dtype: p.dtype })),
          shapeSymbols: abiParams(c.ir).dimNames,
        };
        return id;
      };
      const mine = [...groups.values()].filter((g) => g.kernel === kernel).sort((a, b) => a.target.localeCompare(b.target) || a.device.localeCompare(b.device) || a.constsKey.localeCompare(b.constsKey));
      for (const g of mine) {
        const entries: DispatchEntry[] = [];
        for (const [bucket, r] of [...g.best].sort(([a], [b]) => a.localeCompare(b))) {
          if (r.result.status !== 'ok') continue;
          const args = db.run(r.runId)?.args as { mfma?: string } | null | undefined;
          const m = parseMfma(args?.mfma);
          const id = await build({ ...r.key.config }, g.target, typeof m === 'number' ? m : undefined);
          if (typeof id !== 'string') return fail(id.error);
          const toolchain = { ...r.key.toolchain };
          toolchains[g.target] = { ...(toolchains[g.target] ?? {}), ...toolchain };
          entries.push({
            bucket,
            shape: { ...r.result.shape },
            config: id,
            chosenBy: { label: r.result.label, device: r.key.device, backend: r.key.backend, costUs: r.result.costUs, runId: r.runId, toolchain },
          });
        }
        const sp = tuneSpace(source, kernel, new Map(Object.entries(g.consts).map(([k, v]) => [k, String(v)])));
        if (!sp.space) return fail(`kernel ${kernel}: its default configuration does not build`);
        const def = await build({ ...g.consts, ...sp.space.defaultPoint }, g.target, undefined);
        if (typeof def !== 'string') return fail(def.error);
        dispatch.push({ target: g.target, device: g.device, consts: g.consts, entries, default: def });
      }
      const decl = parseProgram(source).program.kernels.find((k) => k.name.name === kernel);
      const gridText = decl ? source.text.slice(decl.gridSpan.start, decl.gridSpan.end) : '';
      const names = [...(signature?.shapeSymbols ?? []), ...(signature?.params.filter((p) => p.kind === 'scalar').map((p) => p.name) ?? [])];
      kernels.push({
        name: kernel,
        sourceHash: latest.get(kernel)!.key.sourceHash,
        sourcePath: source.path,
        signature: signature ?? { params: [], shapeSymbols: [] },
        grid: { expr: gridText.replace(/^grid\s*/, ''), reads: namesIn(gridText.replace(/^grid\s*/, ''), names) },
        binaries: [...binaries.values()],
        dispatch,
      });
    }
    const files: PackFile[] = listTree(out).map((path) => {
      const data = readFileSync(join(out, path));
      return { path, sha256: sha256(data), size: data.length };
    });
    const manifest: PackManifest = {
      format: PACK_FORMAT,
      version: PACK_VERSION,
      created: new Date().toISOString(),
      tilekit: TILEKIT_VERSION,
      toolchains,
      fallback: FALLBACK_RULE,
      kernels,
      files,
    };
    writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const tgz = `${out.replace(/[\\/]+$/, '')}.tgz`;
    writeTgz(out, tgz);
    return { ok: true, manifest, dir: out, tgz, notes };
  } catch (e) {
    if (e instanceof ToolchainMissingError) return fail(e.message);
    throw e;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// .tgz: a minimal POSIX ustar writer (regular files and folders only), gzip from node:zlib.

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function ustarHeader(name: string, size: number, type: '0' | '5', mtime: number): Buffer {
  const h = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`path too long for a ustar archive: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(type === '5' ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** The tree under `dir` as a gzipped ustar archive at `file`, under a top folder named like `dir`. */
export function writeTgz(dir: string, file: string): void {
  const top = basename(resolve(dir));
  const mtime = Math.floor(Date.now() / 1000);
  const parts: Buffer[] = [ustarHeader(`${top}/`, 0, '5', mtime)];
  const dirs = new Set<string>();
  for (const path of listTree(dir)) {
    for (let d = dirname(path); d !== '.' && !dirs.has(d); d = dirname(d)) dirs.add(d);
  }
  for (const d of [...dirs].sort()) parts.push(ustarHeader(`${top}/${d}/`, 0, '5', mtime));
  for (const path of listTree(dir)) {
    const data = readFileSync(join(dir, path));
    parts.push(ustarHeader(`${top}/${path}`, data.length, '0', mtime), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  writeFileSync(file, gzipSync(Buffer.concat(parts)));
}
