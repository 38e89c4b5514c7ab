/**
 * A kernel launch (optionally timed) in a child process (launch-child.mjs), so a candidate that
 * hangs is killed at a deadline and one that crashes the process (a driver abort, a segfault in a
 * broken code object) is a typed failure — never the end of the tuning run that asked for it.
 *
 * The parent packs the parameters (kernel-args.ts, buffer pointers left as zero and patched by the
 * child), writes the image and each buffer's fill pattern to a temporary folder, and reads the
 * downloaded outputs back from it. Buffers are filled by repeating their pattern, so a 4096³ GEMM's
 * inputs need only a small seeded pattern, never gigabytes through a pipe.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GpuUsageError, NativeAddonError } from './errors.js';
import { packArgs, type ScalarArg } from './kernel-args.js';
import { addonCandidates, REBUILD_HINT, translateError } from './native.js';

/** A device buffer of `bytes`, filled by repeating `pattern`; `download` brings its contents back. */
export interface IsolatedBuffer {
  readonly bytes: number;
  readonly pattern: Uint8Array;
  readonly download?: boolean;
}

export interface IsolatedTiming {
  readonly warmup: number;
  /** At least this many timed runs… */
  readonly reps: number;
  /** …and more, up to maxReps, until this many milliseconds of wall time have passed. */
  readonly minMs: number;
  readonly maxReps: number;
  /** Bytes of the buffer overwritten before each timed run (0: no L2 flush). */
  readonly flushBytes: number;
}

export interface IsolatedLaunch {
  readonly device?: number;
  /** PTX text (NUL-terminated by the caller's choice of loader), cubin, fatbin or HIP code object. */
  readonly image: Uint8Array;
  readonly entry: string;
  readonly grid: readonly [number, number, number];
  readonly block: readonly [number, number, number];
  readonly sharedBytes: number;
  readonly args: readonly (IsolatedBuffer | ScalarArg)[];
  readonly time?: IsolatedTiming;
  readonly timeoutMs: number;
}

export type IsolatedResult =
  | {
      readonly ok: true;
      /** Device milliseconds per timed run (empty without `time`). */
      readonly samples: readonly number[];
      /** The downloaded contents, by argument index. */
      readonly outputs: ReadonlyMap<number, Uint8Array>;
    }
  /** `timeout`: killed at the deadline; `crash`: the process died; `error`: the driver or the addon reported `error` (a GpuError). */
  | { readonly ok: false; readonly reason: 'timeout' | 'crash'; readonly message: string }
  | { readonly ok: false; readonly reason: 'error'; readonly message: string; readonly error: Error };

/** Beside this file in the sources, and in dist/ (the build copies it). */
const CHILD = fileURLToPath(new URL('./launch-child.mjs', import.meta.url));

const isBuffer = (a: IsolatedBuffer | ScalarArg): a is IsolatedBuffer => 'pattern' in a;

export async function launchIsolated(req: IsolatedLaunch): Promise<IsolatedResult> {
  const addon = addonCandidates().find((p) => existsSync(p));
  if (!addon) throw new NativeAddonError(`the native addon is not built (looked for ${addonCandidates().join(', ')}): ${REBUILD_HINT}`);
  const dir = await mkdtemp(join(tmpdir(), 'tilekit-launch-'));
  try {
    const image = join(dir, 'image');
    await writeFile(image, req.image);
    const buffers: { bytes: number; init: string }[] = [];
    const pointers: { offset: number; buffer: number }[] = [];
    const download: { buffer: number; file: string; arg: number }[] = [];
    const packed = packArgs(req.args.map((a) => (isBuffer(a) ? { devicePointer: 0n } : a)));
    for (const [k, a] of req.args.entries()) {
      if (!isBuffer(a)) continue;
      if (a.pattern.length === 0) throw new GpuUsageError(`argument ${k}: a buffer's fill pattern is empty`);
      const init = join(dir, `fill-${k}.bin`);
      await writeFile(init, a.pattern);
      pointers.push({ offset: packed.offsets[k]!, buffer: buffers.length });
      if (a.download) download.push({ buffer: buffers.length, file: join(dir, `out-${k}.bin`), arg: k });
      buffers.push({ bytes: a.bytes, init });
    }
    const request = {
      addon,
      device: req.device ?? 0,
      image,
      entry: req.entry,
      grid: req.grid,
      block: req.block,
      sharedBytes: req.sharedBytes,
      buffers,
      params: Buffer.from(packed.bytes).toString('base64'),
      offsets: [...packed.offsets],
      pointers,
      download: download.map(({ buffer, file }) => ({ buffer, file })),
      ...(req.time ? { time: req.time } : {}),
    };
    const run = await runChild(JSON.stringify(request), req.timeoutMs);
    if (run.timedOut) return { ok: false, reason: 'timeout', message: `the launch did not finish within ${req.timeoutMs} ms and its process was killed (a hang?)` };
    const last = run.stdout.trim().split('\n').pop() ?? '';
    let reply: { ok: boolean; message?: string; samples?: number[]; tilekitKind?: string } | undefined;
    try {
      reply = JSON.parse(last) as typeof reply;
    } catch {
      reply = undefined;
    }
    if (!reply) {
      const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.code}`;
      return { ok: false, reason: 'crash', message: `the launch process ${how}${run.stderr.trim() ? `: ${run.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}` };
    }
    if (!reply.ok) {
      const err = Object.assign(new Error(reply.message ?? 'unknown error'), reply);
      const error = translateError(err) as Error;
      return { ok: false, reason: 'error', message: error.message, error };
    }
    const outputs = new Map<number, Uint8Array>();
    for (const d of download) outputs.set(d.arg, new Uint8Array(await readFile(d.file)));
    return { ok: true, samples: reply.samples ?? [], outputs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface ChildRun {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

function runChild(input: string, timeoutMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code, signal, timedOut });
    });
    child.stdin.on('error', () => {}); // a child that dies before reading its request: reported by 'close'
    child.stdin.end(input);
  });
}
