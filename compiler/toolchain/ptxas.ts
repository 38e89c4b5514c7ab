/**
 * The ptxas wrapper: finds NVIDIA's PTX assembler, runs it on PTX text, and turns its `-v` resource
 * report and its error messages into values (docs/toolchains.md, "## ptxas").
 *
 * One of the two places in compiler/ that start processes (with clang.ts); everything here is async
 * and never goes through a shell, so PTX text and paths need no escaping. The error classes are in
 * errors.ts, shared with clang.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ToolchainError, ToolchainMissingError } from './errors.js';
import { isExecutableFile, keepFailedRun, runTool, shellQuote } from './process.js';

// ---------------------------------------------------------------------------------------------
// Finding ptxas

/** `(string & {})` keeps the two usual targets as editor suggestions while allowing any `sm_XX`. */
export type PtxasArch = 'sm_80' | 'sm_90a' | (string & {});

const PTXAS_EXE = process.platform === 'win32' ? 'ptxas.exe' : 'ptxas';
const DEFAULT_CUDA = '/usr/local/cuda';

const PTXAS_HINT =
  'Install the CUDA toolkit (https://developer.nvidia.com/cuda-downloads; ptxas is in its bin/ folder) ' +
  'and put its bin/ on PATH or set CUDA_HOME, or set TILEKIT_PTXAS to the path of a ptxas executable.';

/** One place findPtxas looks, in order; `path` is absent where the variable naming it is unset. */
export interface PtxasCandidate {
  readonly source: 'TILEKIT_PTXAS' | 'PATH' | 'CUDA_HOME' | 'CUDA_PATH' | 'default';
  readonly path?: string;
  /** How the candidate reads in a "not found" message. */
  readonly describe: string;
}

/**
 * The places findPtxas looks, in its order; exported so the order itself is testable.
 * @param defaultCuda the last resort's CUDA root (a parameter so tests can point it at nothing).
 */
export function ptxasCandidates(env: NodeJS.ProcessEnv = process.env, defaultCuda = DEFAULT_CUDA): PtxasCandidate[] {
  const out: PtxasCandidate[] = [];
  const explicit = env.TILEKIT_PTXAS;
  out.push(
    explicit ? { source: 'TILEKIT_PTXAS', path: explicit, describe: `TILEKIT_PTXAS=${explicit}` } : { source: 'TILEKIT_PTXAS', describe: 'TILEKIT_PTXAS (not set)' },
  );
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  if (dirs.length === 0) out.push({ source: 'PATH', describe: 'PATH (empty)' });
  for (const d of dirs) out.push({ source: 'PATH', path: join(d, PTXAS_EXE), describe: `PATH: ${join(d, PTXAS_EXE)}` });
  for (const v of ['CUDA_HOME', 'CUDA_PATH'] as const) {
    const root = env[v];
    out.push(root ? { source: v, path: join(root, 'bin', PTXAS_EXE), describe: `$${v}/bin/${PTXAS_EXE} = ${join(root, 'bin', PTXAS_EXE)}` } : { source: v, describe: `$${v}/bin/${PTXAS_EXE} (${v} not set)` });
  }
  out.push({ source: 'default', path: join(defaultCuda, 'bin', PTXAS_EXE), describe: join(defaultCuda, 'bin', PTXAS_EXE) });
  return out;
}

/**
 * The ptxas to run: `TILEKIT_PTXAS` if set — taken as given, even if it does not exist, so a typo is
 * reported rather than silently replaced by another ptxas — else the first executable `ptxas` on
 * PATH, in `$CUDA_HOME/bin`, `$CUDA_PATH/bin`, `/usr/local/cuda/bin`.
 */
export function findPtxas(env: NodeJS.ProcessEnv = process.env, defaultCuda = DEFAULT_CUDA): string | undefined {
  if (env.TILEKIT_PTXAS) return env.TILEKIT_PTXAS;
  for (const c of ptxasCandidates(env, defaultCuda)) if (c.source !== 'TILEKIT_PTXAS' && c.path !== undefined && isExecutableFile(c.path)) return c.path;
  return undefined;
}

/** findPtxas's answer, or a ToolchainMissingError saying where it looked and how to get ptxas. */
export function requirePtxas(env: NodeJS.ProcessEnv = process.env, defaultCuda = DEFAULT_CUDA): string {
  return resolvePtxas(undefined, env, defaultCuda);
}

function resolvePtxas(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, defaultCuda = DEFAULT_CUDA): string {
  if (explicit !== undefined) {
    if (isExecutableFile(explicit)) return explicit;
    throw new ToolchainMissingError('ptxas', [`ptxasPath option: ${explicit} (not an executable file)`], PTXAS_HINT);
  }
  const found = findPtxas(env, defaultCuda);
  if (found !== undefined && isExecutableFile(found)) return found;
  const searched = ptxasCandidates(env, defaultCuda).map((c) => c.describe);
  if (found !== undefined) searched[0] = `TILEKIT_PTXAS=${found} (not an executable file; the other places are not tried while it is set)`;
  throw new ToolchainMissingError('ptxas', found !== undefined ? searched.slice(0, 1) : searched, PTXAS_HINT);
}

// ---------------------------------------------------------------------------------------------
// The resource report

/** What `ptxas -v` says about one compiled function. Byte counts are per thread unless noted. */
export interface ResourceReport {
  /** The PTX name (mangled for C++ kernels). */
  readonly function: string;
  /** `entry`: a kernel (`.entry`); `function`: a `.func` ptxas printed properties for. */
  readonly kind: 'entry' | 'function';
  /**
   * For a `.func` listed under a kernel (ptxas prints a non-inlined callee's properties after its
   * caller's section), that kernel; absent for kernels and for functions compiled on their own (`-c`).
   */
  readonly caller?: string;
  /** `sm_80`, `sm_90a`, …: from "Compiling entry function 'f' for 'sm_80'". */
  readonly arch: string;
  /** Registers per thread. ptxas prints it for kernels only: 0 for a `.func`. */
  readonly registers: number;
  readonly spillStoresBytes: number;
  readonly spillLoadsBytes: number;
  /** This function's own stack frame (local arrays and spill slots). */
  readonly stackFrameBytes: number;
  /** Kernels: stack frame of the deepest call chain from this kernel; 0 when ptxas omits it. */
  readonly cumulativeStackBytes: number;
  /** Static shared memory per CTA (`__shared__` / `.shared` declared with a size); not dynamic smem. */
  readonly sharedBytes: number;
  /** Constant memory per bank: `cmem[0]` is the kernel parameters on sm_8x (sm_90 does not print it). */
  readonly constantBytes: Readonly<Record<number, number>>;
  /** Named barriers used (`bar.sync` ids). */
  readonly barriers: number;
  /** ptxas's own "Compile time = … ms" for this function, when printed. */
  readonly compileMs?: number;
}

interface MutableReport {
  function: string;
  kind: 'entry' | 'function';
  caller?: string;
  arch: string;
  registers: number;
  spillStoresBytes: number;
  spillLoadsBytes: number;
  stackFrameBytes: number;
  cumulativeStackBytes: number;
  sharedBytes: number;
  constantBytes: Record<number, number>;
  barriers: number;
  compileMs?: number;
}

const RE_COMPILING = /^ptxas info\s*:\s*Compiling (entry function|function) '([^']+)' for '([^']+)'/;
const RE_PROPERTIES = /^ptxas info\s*:\s*Function properties for (.+?)\s*$/;
const RE_FRAME = /^\s*(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/;
const RE_USED = /^ptxas info\s*:\s*Used (\d+) registers?(.*)$/;
const RE_TIME = /^ptxas info\s*:\s*Compile time = ([\d.]+) ms/;

function newReport(fn: string, kind: 'entry' | 'function', arch: string): MutableReport {
  return { function: fn, kind, arch, registers: 0, spillStoresBytes: 0, spillLoadsBytes: 0, stackFrameBytes: 0, cumulativeStackBytes: 0, sharedBytes: 0, constantBytes: {}, barriers: 0 };
}

/** The comma-separated tail of "Used 80 registers, used 1 barriers, 9728 bytes smem, 388 bytes cmem[0]". */
function applyUsedItems(r: MutableReport, tail: string): void {
  for (const raw of tail.split(',')) {
    const item = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = /^used (\d+) barriers?$/.exec(item))) r.barriers = Number(m[1]);
    else if ((m = /^(\d+) bytes smem$/.exec(item))) r.sharedBytes = Number(m[1]);
    else if ((m = /^(\d+) bytes cmem\[(\d+)\]$/.exec(item))) r.constantBytes[Number(m[2])] = (r.constantBytes[Number(m[2])] ?? 0) + Number(m[1]);
    else if ((m = /^(\d+) bytes cumulative stack size$/.exec(item))) r.cumulativeStackBytes = Number(m[1]);
    // Anything else (older releases' "lmem", textures, samplers) is not part of the report.
  }
}

/**
 * Parses the `-v` output of ptxas 12/13 (its stderr; nvcc `-Xptxas -v` output works too) into one
 * report per kernel and per `.func` with a properties block, in the order printed. Pure.
 *
 * @param defaultArch the arch for functions printed before any "Compiling entry function" line.
 */
export function parsePtxasReport(stderr: string, defaultArch = ''): ResourceReport[] {
  const out: MutableReport[] = [];
  let arch = defaultArch;
  let current: MutableReport | undefined; // the record later lines (Used, Compile time) belong to
  let awaitingFrame: MutableReport | undefined; // the record the next "N bytes stack frame" line fills
  let lastEntry: MutableReport | undefined;
  const seenProperties = new Set<MutableReport>();
  for (const line of stderr.split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = RE_COMPILING.exec(line))) {
      arch = m[3]!;
      current = newReport(m[2]!, m[1] === 'entry function' ? 'entry' : 'function', arch);
      out.push(current);
      if (current.kind === 'entry') lastEntry = current;
    } else if ((m = RE_PROPERTIES.exec(line))) {
      const name = m[1]!;
      if (current === undefined || current.function !== name || seenProperties.has(current)) {
        // A properties block without its own "Compiling" line: a `.func`. Whole-program ptxas prints
        // callees after their kernel; if a "Compile time" follows, it was compiled alone instead.
        current = newReport(name, 'function', arch);
        if (lastEntry !== undefined) current.caller = lastEntry.function;
        out.push(current);
      }
      seenProperties.add(current);
      awaitingFrame = current;
    } else if ((m = RE_FRAME.exec(line))) {
      if (awaitingFrame !== undefined) {
        awaitingFrame.stackFrameBytes = Number(m[1]);
        awaitingFrame.spillStoresBytes = Number(m[2]);
        awaitingFrame.spillLoadsBytes = Number(m[3]);
        awaitingFrame = undefined;
      }
    } else if ((m = RE_USED.exec(line))) {
      if (current !== undefined) {
        current.registers = Number(m[1]);
        applyUsedItems(current, m[2]!);
      }
    } else if ((m = RE_TIME.exec(line))) {
      if (current !== undefined) {
        current.compileMs = Number(m[1]);
        if (current.kind === 'function') delete current.caller;
      }
    }
  }
  return out;
}

/** One error or warning line of ptxas: "ptxas k.ptx, line 40; error   : Unknown symbol '%r9'". */
export interface PtxasDiagnostic {
  readonly severity: 'error' | 'fatal' | 'warning';
  readonly message: string;
  /** The PTX file ptxas named, when it named one. */
  readonly file?: string;
  /** 1-based PTX line, when ptxas gave one. */
  readonly line?: number;
}

const RE_DIAG_AT = /^ptxas (.+), line (\d+); (error|fatal|warning)\s*: ?(.*)$/;
const RE_DIAG = /^ptxas (error|fatal|warning)\s*: ?(.*)$/;

/** The error, fatal and warning lines of ptxas output (indented continuation lines joined). Pure. */
export function parsePtxasDiagnostics(text: string): PtxasDiagnostic[] {
  const out: { severity: PtxasDiagnostic['severity']; message: string; file?: string; line?: number }[] = [];
  let last: (typeof out)[number] | undefined;
  for (const line of text.split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = RE_DIAG_AT.exec(line))) {
      last = { severity: m[3] as PtxasDiagnostic['severity'], message: m[4]!.trim(), file: m[1]!, line: Number(m[2]) };
      out.push(last);
    } else if ((m = RE_DIAG.exec(line))) {
      last = { severity: m[1] as PtxasDiagnostic['severity'], message: m[2]!.trim() };
      out.push(last);
    } else if (last !== undefined && /^\s+\S/.test(line) && !RE_FRAME.test(line)) {
      last.message += ` ${line.trim()}`;
    } else {
      last = undefined;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running ptxas

export interface AssembleOptions {
  /** `-arch=`: `sm_80`, `sm_90a` (wgmma/TMA need the `a`), … */
  readonly arch: PtxasArch;
  /** `-lineinfo`: keep PTX line info for profilers. Default false. */
  readonly lineinfo?: boolean;
  /** `--warn-on-spills`: a "Registers are spilled" warning per spilling function. Default true. */
  readonly warnOnSpills?: boolean;
  /** `-O<n>`; ptxas's default is 3. */
  readonly optLevel?: number;
  /** Kill ptxas after this long. Default 60 000 ms. */
  readonly timeoutMs?: number;
  /** The ptxas to run instead of findPtxas()'s. */
  readonly ptxasPath?: string;
  /** More ptxas arguments, placed before `-o` (e.g. `['--maxrregcount', '64']`). */
  readonly extraArgs?: readonly string[];
}

export interface PtxasResult {
  /** The ELF cubin. */
  readonly cubin: Uint8Array;
  readonly report: ResourceReport[];
  /** ptxas warnings, "line N: …" where ptxas gave a line (the temp file is gone, so no path). */
  readonly warnings: string[];
  /** Everything ptxas printed. */
  readonly log: string;
  /** The command that ran (its temp files are removed after success). */
  readonly command: string;
  /** Wall time of the ptxas process. */
  readonly ms: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** 1-based column and text of the first quoted token of `message` found on `lineText`. */
function locateToken(message: string, lineText: string): { column: number; token: string } | undefined {
  for (const m of message.matchAll(/'([^']+)'/g)) {
    const at = lineText.indexOf(m[1]!);
    if (at >= 0) return { column: at + 1, token: m[1]! };
  }
  return undefined;
}

/**
 * Assembles PTX to a cubin with `ptxas -arch=<arch> -v [--warn-on-spills] [-lineinfo] -O<n>`.
 * Raises ToolchainMissingError when there is no ptxas, ToolchainError when it fails or times out
 * (the input is then kept on disk and `command` reproduces the failure).
 */
export async function assemble(ptx: string, opts: AssembleOptions): Promise<PtxasResult> {
  const ptxas = resolvePtxas(opts.ptxasPath);
  const optLevel = opts.optLevel ?? 3;
  if (!Number.isInteger(optLevel) || optLevel < 0) throw new RangeError(`optLevel must be a non-negative integer, got ${optLevel}`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const warnOnSpills = opts.warnOnSpills ?? true;
  const lineinfo = opts.lineinfo ?? false;
  const extraArgs = opts.extraArgs ?? [];

  // Same input, same folder name (a failure is kept once, not once per try); different inputs
  // never share one. The run itself uses a private folder so identical concurrent calls don't clash.
  const hash = createHash('sha256')
    .update(JSON.stringify([ptx, opts.arch, optLevel, lineinfo, warnOnSpills, extraArgs, ptxas]))
    .digest('hex')
    .slice(0, 16);
  const runDir = await mkdtemp(join(tmpdir(), `tilekit-ptxas-${hash}-`));
  const argsIn = (dir: string): string[] => [
    `-arch=${opts.arch}`,
    '-v',
    ...(warnOnSpills ? ['--warn-on-spills'] : []),
    ...(lineinfo ? ['-lineinfo'] : []),
    `-O${optLevel}`,
    ...extraArgs,
    '-o',
    join(dir, 'kernel.cubin'),
    join(dir, 'kernel.ptx'),
  ];
  const commandIn = (dir: string): string => [ptxas, ...argsIn(dir)].map(shellQuote).join(' ');

  await writeFile(join(runDir, 'kernel.ptx'), ptx);
  const t0 = performance.now();
  const r = await runTool(ptxas, argsIn(runDir), timeoutMs);
  const ms = performance.now() - t0;

  if (r.errorCode === 'ENOENT' || r.errorCode === 'EACCES') {
    await rm(runDir, { recursive: true, force: true });
    throw new ToolchainMissingError('ptxas', [`${ptxas} (could not be started: ${r.errorCode})`], PTXAS_HINT);
  }

  let cubin: Uint8Array | undefined;
  if (r.exitCode === 0) {
    try {
      cubin = new Uint8Array(await readFile(join(runDir, 'kernel.cubin')));
    } catch {
      cubin = undefined;
    }
  }
  const printed = r.stdout + r.stderr;

  if (r.exitCode !== 0 || cubin === undefined || cubin.length === 0) {
    const kept = await keepFailedRun(runDir, `tilekit-ptxas-${hash}`, 'kernel.ptx');
    const stderr = r.stderr.split(runDir).join(kept); // messages name the kept file, not the moved one
    const diagnostics = parsePtxasDiagnostics(stderr);
    const located = diagnostics.find((d) => d.severity !== 'warning' && d.line !== undefined);
    const firstError = diagnostics.find((d) => d.severity !== 'warning');
    const ptxLine = located?.line;
    const ptxText = ptxLine !== undefined ? ptx.split(/\r?\n/)[ptxLine - 1] : undefined;
    const token = located !== undefined && ptxText !== undefined ? locateToken(located.message, ptxText) : undefined;
    const what = r.timedOut
      ? `ptxas timed out after ${timeoutMs} ms and was killed`
      : r.exitCode === 0
        ? 'ptxas exited 0 but wrote no cubin'
        : r.exitCode === null
          ? `ptxas did not finish (${r.errorCode ?? 'killed'}${r.errorMessage ? `: ${r.errorMessage}` : ''})`
          : `ptxas failed (exit ${r.exitCode})`;
    const because = (located ?? firstError)?.message;
    throw new ToolchainError({
      tool: 'ptxas',
      summary: `${what}${because !== undefined ? `: ${because}` : ''}${ptxLine !== undefined ? ` (PTX line ${ptxLine})` : ''}`,
      exitCode: r.exitCode,
      stderr,
      command: commandIn(kept),
      timedOut: r.timedOut,
      diagnostics,
      inputPath: join(kept, 'kernel.ptx'),
      ...(ptxLine !== undefined ? { file: join(kept, 'kernel.ptx'), line: ptxLine } : {}),
      ...(ptxText !== undefined ? { lineText: ptxText } : {}),
      ...(token !== undefined ? { column: token.column, token: token.token } : {}),
      // ptxas's parser names the token where it gave up, one past a missing `;`.
      ...(ptxLine !== undefined && because !== undefined && /Parsing error near/.test(because)
        ? { notes: ["a syntax error is reported at the token after the mistake (a missing ';' shows on the next line)"] }
        : {}),
    });
  }

  const warnings = parsePtxasDiagnostics(printed)
    .filter((d) => d.severity === 'warning')
    .map((d) => (d.line !== undefined ? `line ${d.line}: ${d.message}` : d.message));
  const command = commandIn(runDir);
  await rm(runDir, { recursive: true, force: true });
  return { cubin, report: parsePtxasReport(printed, opts.arch), warnings, log: printed, command, ms };
}

/** The ptxas release, e.g. `13.0.88`, from `ptxas --version` ("Cuda compilation tools, release 13.0, V13.0.88"). */
export async function ptxasVersion(path?: string): Promise<string> {
  const ptxas = resolvePtxas(path);
  const r = await runTool(ptxas, ['--version'], 10_000);
  if (r.exitCode !== 0) {
    throw new ToolchainError({
      tool: 'ptxas',
      summary: r.timedOut ? 'ptxas --version timed out' : `ptxas --version failed (exit ${r.exitCode ?? r.errorCode ?? 'killed'})`,
      exitCode: r.exitCode,
      stderr: r.stderr,
      command: `${shellQuote(ptxas)} --version`,
      timedOut: r.timedOut,
    });
  }
  const m = /release [\d.]+, V(\d+(?:\.\d+)*)/.exec(r.stdout);
  if (m) return m[1]!;
  const lines = r.stdout.trim().split(/\r?\n/);
  return lines[lines.length - 1] ?? '';
}
