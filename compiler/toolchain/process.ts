/**
 * What the toolchain wrappers (ptxas.ts, clang.ts) share about running an external tool: finding an
 * executable, starting it without a shell under a timeout, and keeping a failed run's folder under a
 * stable name so the error's command reproduces it.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A regular file this process may execute (a directory or a non-executable file is not). */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** POSIX-shell quoting, only where needed, so a reproducing command stays readable. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.=:,+@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command line as a shell would need it typed. */
export function shellCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(shellQuote).join(' ');
}

export interface RunOutcome {
  stdout: string;
  stderr: string;
  /** null when the process did not exit normally (killed, timed out, or never started). */
  exitCode: number | null;
  timedOut: boolean;
  /** errno of a failed start (ENOENT, EACCES), of a stdio overflow, or ESIGNAL. */
  errorCode?: string;
  errorMessage?: string;
  /** The signal that ended the process, when one did (a crash: SIGSEGV, SIGABRT). */
  signal?: string;
}

/**
 * Runs `file args…` (no shell), killing it after `timeoutMs`; never rejects.
 * `env`: the child's environment (default: this process's); `cwd`: its working folder.
 */
export function runTool(file: string, args: readonly string[], timeoutMs: number, opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let partialStderr = '';
    const options = { encoding: 'utf8' as const, maxBuffer: 64 * 1024 * 1024, windowsHide: true, ...(opts.env !== undefined ? { env: opts.env } : {}), ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}) };
    const child = execFile(file, args, options, (err, stdout, stderr) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err === null) return resolve({ stdout, stderr, exitCode: 0, timedOut: false });
      if (typeof err.code === 'number') return resolve({ stdout, stderr, exitCode: err.code, timedOut: false });
      resolve({
        stdout,
        stderr,
        exitCode: null,
        timedOut: false,
        errorCode: typeof err.code === 'string' ? err.code : 'ESIGNAL',
        errorMessage: err.message,
        ...(err.signal ? { signal: err.signal } : {}),
      });
    });
    child.stderr?.on('data', (d: string | Buffer) => (partialStderr += String(d)));
    // Our own timer, not execFile's `timeout`: that one waits for the pipes to close, and a wrapper
    // script's orphaned children (a `sleep`, a tool not started with exec) can hold them open.
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ stdout: '', stderr: partialStderr, exitCode: null, timedOut: true });
    }, timeoutMs);
  });
}

/**
 * Moves a failed run's folder to the stable `$TMPDIR/<keptName>` the error's command names. The
 * name carries a hash of the input and every option, so an existing folder of that name (an
 * earlier or concurrent failure) holding `inputName` reproduces the same failure: reuse it.
 */
export async function keepFailedRun(runDir: string, keptName: string, inputName: string): Promise<string> {
  const kept = join(tmpdir(), keptName);
  try {
    await rename(runDir, kept);
    return kept;
  } catch {
    try {
      if ((await stat(join(kept, inputName))).isFile()) {
        await rm(runDir, { recursive: true, force: true });
        return kept;
      }
    } catch {
      // fall through: keep the private folder
    }
    return runDir;
  }
}
