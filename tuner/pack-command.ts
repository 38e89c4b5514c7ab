/**
 * `tilekit pack --out DIR [--db PATH] [--kernels a,b] [--targets sm_90a,gfx942] [--force]`,
 * `tilekit pack verify DIR|FILE.tgz` and `tilekit pack inspect DIR|FILE.tgz [--format text|json]`:
 * kernel packs (tuner/pack.ts writes them; runtime/pack/reader.ts reads them; format: docs/pack-format.md).
 */
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, type CliIO } from '../dsl/cli-io.js';
import { buildPack } from './pack.js';
import { formatSummary, loadPack, summarizePack, verifyPack } from '../runtime/pack/reader.js';
import { DEFAULT_DB } from './tune-command.js';

export interface PackFlags {
  db?: string;
  out?: string;
  kernels?: string;
  targets?: string;
  force?: boolean;
}

const list = (text: string | undefined): string[] | undefined =>
  text === undefined
    ? undefined
    : text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);

export async function packCommand(flags: PackFlags, io: CliIO): Promise<number> {
  if (!flags.out) {
    io.err('error: --out DIR is needed: the folder to write the pack to (DIR.tgz is written next to it)');
    return EXIT_USAGE;
  }
  const kernels = list(flags.kernels);
  const targets = list(flags.targets);
  const r = await buildPack({ db: flags.db ?? DEFAULT_DB, out: flags.out, ...(kernels ? { kernels } : {}), ...(targets ? { targets } : {}), force: flags.force === true });
  if (!r.ok) {
    io.err(`error: ${r.message}`);
    return r.message.startsWith('--targets') ? EXIT_USAGE : EXIT_ERRORS;
  }
  for (const n of r.notes) io.err(`note: ${n}`);
  const m = r.manifest;
  const tables = m.kernels.reduce((n, k) => n + k.dispatch.length, 0);
  const binaries = m.kernels.reduce((n, k) => n + k.binaries.length, 0);
  io.out(`packed ${m.kernels.map((k) => k.name).join(', ')}: ${tables} dispatch table(s), ${binaries} binaries, ${m.files.length + 1} files in ${r.dir} and ${r.tgz}`);
  return EXIT_OK;
}

/** The pack at `path`, verified; or undefined after printing what is wrong. */
function verified(path: string, io: CliIO): ReturnType<typeof verifyPack> & { ok: true } | undefined {
  let r;
  try {
    r = verifyPack(loadPack(path));
  } catch (e) {
    io.err(`error: ${path}: cannot read the pack: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  if (!r.ok) {
    io.err(`error: ${path}: ${r.file}: ${r.problem}`);
    return undefined;
  }
  return r;
}

export function packVerifyCommand(path: string, io: CliIO): number {
  const r = verified(path, io);
  if (!r) return EXIT_ERRORS;
  io.out(`${path}: ok (${r.manifest.kernels.length} kernel(s), ${r.manifest.files.length} files verified)`);
  return EXIT_OK;
}

export function packInspectCommand(path: string, flags: { format?: string }, io: CliIO): number {
  const format = flags.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    io.err(`error: --format: unknown format '${format}': expected text or json`);
    return EXIT_USAGE;
  }
  const r = verified(path, io);
  if (!r) return EXIT_ERRORS;
  const s = summarizePack(r.manifest);
  io.out(format === 'json' ? JSON.stringify(s, null, 2) : formatSummary(s));
  return EXIT_OK;
}
