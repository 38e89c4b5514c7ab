/**
 * Reading kernel packs (docs/pack-format.md): load a pack folder or `.tgz`, verify it (schema,
 * every file's size and sha256, no unlisted file, every dispatched binary present, known targets),
 * summarize it, and pick a configuration for a shape the way a runtime should.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { NVIDIA_TARGETS } from '../../compiler/compile-command.js';
import { AMD_TARGETS } from '../../compiler/hip/compile-hip.js';
import { sizeBucket } from '../shape-buckets.js';
import { isGridProgram } from './grid-program.js';
import { type DispatchEntry, type DispatchTable, listTree, PACK_FORMAT, PACK_VERSION, type PackManifest } from './format.js';

/** A pack's files by `/`-separated relative path. */
export type PackTree = ReadonlyMap<string, Buffer>;

/** Reads a gzipped ustar archive: regular files by path (folders skipped). Throws on a malformed archive. */
export function readTgz(data: Buffer): Map<string, Buffer> {
  const tar = gunzipSync(data);
  const out = new Map<string, Buffer>();
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (start: number, len: number): string => {
      const s = h.subarray(start, start + len);
      const end = s.indexOf(0);
      return s.subarray(0, end < 0 ? len : end).toString('utf8');
    };
    const sum = parseInt(str(148, 8).trim() || '0', 8);
    let actual = 0;
    for (let i = 0; i < 512; i++) actual += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== actual) throw new Error(`archive header at byte ${off} has a bad checksum`);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    // POSIX ustar ('ustar\0'): a name prefix at 345; GNU ('ustar  ') keeps times there instead.
    const prefix = h.subarray(257, 263).toString('latin1') === 'ustar\0' ? str(345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${str(0, 100)}` : str(0, 100));
    longName = undefined;
    const body = tar.subarray(off + 512, off + 512 + size);
    if (body.length !== size) throw new Error(`archive entry ${name} is truncated`);
    if (type === '0' || type === '7') out.set(name, Buffer.from(body));
    else if (type === 'L') longName = body.toString('utf8').replace(/\0+$/, '');
    else if (type !== '5' && type !== 'x' && type !== 'g') throw new Error(`archive entry ${name} is not a regular file or folder (type '${type}')`);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The files of a pack folder, or of a `.tgz` (its single top folder stripped). */
export function loadPack(path: string): PackTree {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  if (statSync(path).isDirectory()) return new Map(listTree(path).map((p) => [p, readFileSync(join(path, p))]));
  const files = readTgz(readFileSync(path));
  const tops = new Set([...files.keys()].map((p) => p.split('/')[0]!));
  if (tops.size === 1 && !files.has('manifest.json')) {
    const top = [...tops][0]!;
    return new Map([...files].map(([p, b]) => [p.slice(top.length + 1), b]));
  }
  return files;
}

export type VerifyResult = { ok: true; manifest: PackManifest } | { ok: false; file: string; problem: string };

const KNOWN_TARGETS: readonly string[] = [...NVIDIA_TARGETS, ...AMD_TARGETS];
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a pack; the first problem names its file (`manifest.json` for schema problems). */
export function verifyPack(tree: PackTree): VerifyResult {
  const bad = (file: string, problem: string): VerifyResult => ({ ok: false, file, problem });
  const raw = tree.get('manifest.json');
  if (!raw) return bad('manifest.json', 'missing: not a Tilekit pack');
  let m: unknown;
  try {
    m = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    return bad('manifest.json', `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const M = 'manifest.json';
  if (!isObj(m)) return bad(M, 'not a JSON object');
  if (m.format !== PACK_FORMAT) return bad(M, `format is ${JSON.stringify(m.format)}, expected "${PACK_FORMAT}"`);
  if (m.version !== PACK_VERSION) return bad(M, `version ${JSON.stringify(m.version)} is not one this Tilekit reads (it reads version ${PACK_VERSION})`);
  for (const f of ['created', 'tilekit'] as const) if (typeof m[f] !== 'string') return bad(M, `${f} must be a string`);
  if (!isObj(m.toolchains)) return bad(M, 'toolchains must be an object');
  if (!Array.isArray(m.kernels)) return bad(M, 'kernels must be an array');
  if (!Array.isArray(m.files)) return bad(M, 'files must be an array');

  const listed = new Map<string, { sha256: string; size: number }>();
  for (const [i, f] of (m.files as unknown[]).entries()) {
    if (!isObj(f) || typeof f.path !== 'string' || typeof f.sha256 !== 'string' || typeof f.size !== 'number') return bad(M, `files[${i}] needs path, sha256 and size`);
    if (f.path.startsWith('/') || f.path.split('/').includes('..') || f.path === 'manifest.json') return bad(M, `files[${i}]: path ${f.path} is not a file inside the pack`);
    listed.set(f.path, { sha256: f.sha256, size: f.size });
  }
  for (const [ki, k] of (m.kernels as unknown[]).entries()) {
    const where = `kernels[${ki}]`;
    if (!isObj(k) || typeof k.name !== 'string' || typeof k.sourceHash !== 'string') return bad(M, `${where} needs name and sourceHash`);
    if (!isObj(k.signature) || !Array.isArray(k.signature.params)) return bad(M, `${where} (${k.name}) needs a signature with params`);
    if (!isObj(k.grid) || typeof k.grid.expr !== 'string' || !Array.isArray(k.grid.reads)) return bad(M, `${where} (${k.name}) needs grid.expr and grid.reads`);
    if (!Array.isArray(k.binaries) || !Array.isArray(k.dispatch)) return bad(M, `${where} (${k.name}) needs binaries and dispatch arrays`);
    const ids = new Set<string>();
    for (const [bi, b] of (k.binaries as unknown[]).entries()) {
      const bw = `${where}.binaries[${bi}]`;
      if (!isObj(b) || typeof b.id !== 'string' || typeof b.target !== 'string' || typeof b.entry !== 'string') return bad(M, `${bw} needs id, target and entry`);
      if (!KNOWN_TARGETS.includes(b.target)) return bad(M, `${bw}: unknown target '${b.target}' (Tilekit knows ${KNOWN_TARGETS.join(', ')})`);
      if (!Array.isArray(b.params) || typeof b.threadsPerBlock !== 'number' || !isObj(b.config)) return bad(M, `${bw} (${b.id}) needs params, threadsPerBlock and config`);
      if (!isGridProgram(b.grid)) return bad(M, `${bw} (${b.id}) needs grid: a launch-grid program (ops and yield)`);
      if (typeof b.dynamicSmemBytes !== 'number' && typeof b.ldsBytes !== 'number') return bad(M, `${bw} (${b.id}) needs dynamicSmemBytes or ldsBytes`);
      if (!isObj(b.files) || typeof b.files.code !== 'string' || typeof b.files.binary !== 'string') return bad(M, `${bw} (${b.id}) needs files.code and files.binary`);
      for (const p of [b.files.code, b.files.binary]) if (!listed.has(p)) return bad(p, `named by ${k.name} binary ${b.id} but not listed in files`);
      ids.add(`${b.target}/${b.id}`);
    }
    for (const [di, d] of (k.dispatch as unknown[]).entries()) {
      const dw = `${where}.dispatch[${di}]`;
      if (!isObj(d) || typeof d.target !== 'string' || typeof d.device !== 'string' || !Array.isArray(d.entries) || typeof d.default !== 'string') {
        return bad(M, `${dw} needs target, device, entries and default`);
      }
      if (!KNOWN_TARGETS.includes(d.target)) return bad(M, `${dw}: unknown target '${d.target}'`);
      for (const [ei, e] of (d.entries as unknown[]).entries()) {
        if (!isObj(e) || typeof e.bucket !== 'string' || typeof e.config !== 'string' || !isObj(e.shape) || !isObj(e.chosenBy)) return bad(M, `${dw}.entries[${ei}] needs bucket, shape, config and chosenBy`);
        if (!ids.has(`${d.target}/${e.config}`)) return bad(M, `${dw} (${k.name} ${d.target}) bucket ${e.bucket} names binary ${e.config}, which the kernel does not have`);
      }
      if (!ids.has(`${d.target}/${d.default}`)) return bad(M, `${dw} (${k.name} ${d.target}) default names binary ${d.default}, which the kernel does not have`);
    }
  }
  for (const [path, want] of listed) {
    const data = tree.get(path);
    if (!data) return bad(path, 'listed in the manifest but missing');
    if (data.length !== want.size) return bad(path, `size ${data.length} bytes, the manifest says ${want.size}`);
    const got = createHash('sha256').update(data).digest('hex');
    if (got !== want.sha256) return bad(path, `sha256 ${got} does not match the manifest's ${want.sha256}: the file was changed or damaged`);
  }
  for (const path of [...tree.keys()].sort()) {
    if (path !== 'manifest.json' && !listed.has(path)) return bad(path, 'in the pack but not listed in the manifest');
  }
  return { ok: true, manifest: m as unknown as PackManifest };
}

/**
 * The dispatch entry for a shape, as a runtime should pick it: the entry whose bucket holds the
 * shape; else the nearest (sum over shape symbols of |log2(size) − log2(entry's shape size)|,
 * ties to the smaller product of sizes, then the smaller bucket text); else undefined (use the
 * table's default).
 */
export function selectEntry(table: DispatchTable, shape: Readonly<Record<string, number>>): { entry?: DispatchEntry; how: 'bucket' | 'nearest' | 'default' } {
  const holds = (e: DispatchEntry): boolean =>
    e.bucket.split(',').every((part) => {
      const [d, range] = part.split('=') as [string, string];
      return shape[d] !== undefined && sizeBucket(shape[d]) === range;
    });
  const exact = table.entries.find(holds);
  if (exact) return { entry: exact, how: 'bucket' };
  let best: { e: DispatchEntry; dist: number; prod: number } | undefined;
  for (const e of table.entries) {
    let dist = 0;
    let prod = 1;
    for (const [d, rep] of Object.entries(e.shape)) {
      dist += Math.abs(Math.log2(Math.max(1, shape[d] ?? 1)) - Math.log2(Math.max(1, rep)));
      prod *= rep;
    }
    if (!best || dist < best.dist - 1e-12 || (Math.abs(dist - best.dist) <= 1e-12 && (prod < best.prod || (prod === best.prod && e.bucket < best.e.bucket)))) best = { e, dist, prod };
  }
  return best ? { entry: best.e, how: 'nearest' } : { how: 'default' };
}

export interface PackSummary {
  kernels: {
    name: string;
    sourceHash: string;
    targets: string[];
    devices: string[];
    tables: { target: string; device: string; consts: Record<string, unknown>; default: string; buckets: { bucket: string; config: string; chosenBy: string }[] }[];
  }[];
  files: number;
  bytes: number;
  created: string;
  tilekit: string;
  toolchains: PackManifest['toolchains'];
}

export function summarizePack(m: PackManifest): PackSummary {
  return {
    kernels: m.kernels.map((k) => ({
      name: k.name,
      sourceHash: k.sourceHash,
      targets: [...new Set(k.dispatch.map((d) => d.target))],
      devices: [...new Set(k.dispatch.map((d) => d.device))],
      tables: k.dispatch.map((d) => ({
        target: d.target,
        device: d.device,
        consts: { ...d.consts },
        default: d.default,
        buckets: d.entries.map((e) => ({
          bucket: e.bucket,
          config: e.config,
          chosenBy: `${e.chosenBy.costUs.toFixed(2)} µs ${e.chosenBy.label} on ${e.chosenBy.device} (${e.chosenBy.backend}, run ${e.chosenBy.runId})`,
        })),
      })),
    })),
    files: m.files.length,
    bytes: m.files.reduce((n, f) => n + f.size, 0),
    created: m.created,
    tilekit: m.tilekit,
    toolchains: m.toolchains,
  };
}

export function formatSummary(s: PackSummary): string {
  const lines = [`Tilekit pack (tilekit ${s.tilekit}, created ${s.created}): ${s.kernels.length} kernel(s), ${s.files} files, ${s.bytes} bytes`];
  for (const [t, v] of Object.entries(s.toolchains)) lines.push(`  toolchain ${t}: ${Object.entries(v).map(([k, x]) => `${k} ${x}`).join(', ')}`);
  for (const k of s.kernels) {
    lines.push(`kernel ${k.name} (source ${k.sourceHash.slice(0, 12)}): targets ${k.targets.join(', ')}; devices ${k.devices.join(', ')}`);
    for (const t of k.tables) {
      const consts = Object.entries(t.consts).map(([a, b]) => `${a}=${String(b)}`).join(',');
      lines.push(`  ${t.target} on ${t.device}${consts ? ` [${consts}]` : ''}: ${t.buckets.length} bucket(s), default ${t.default}`);
      const w = Math.max(0, ...t.buckets.map((b) => b.bucket.length));
      const wc = Math.max(0, ...t.buckets.map((b) => b.config.length));
      for (const b of t.buckets) lines.push(`    ${b.bucket.padEnd(w)}  ${b.config.padEnd(wc)}  ${b.chosenBy}`);
    }
  }
  return lines.join('\n');
}
