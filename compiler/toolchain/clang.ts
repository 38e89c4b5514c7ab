/**
 * The clang wrapper: compiles HIP source device-only for an AMD GPU (gfx942, gfx90a) with LLVM 19's
 * clang and lld, and turns the code object's resource usage and clang's diagnostics into values
 * (docs/toolchains.md, "## clang (AMD)"). The AMD sibling of ptxas.ts.
 *
 * Nothing goes through a shell, so source text and paths need no escaping. No ROCm install is
 * needed: `-nogpulib -nogpuinc` compile header-free source (compiler/hip/prelude.ts) on its own.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { ToolchainError, ToolchainMissingError, type ToolDiagnostic } from './errors.js';
import { isExecutableFile, keepFailedRun, runTool, shellCommand, shellQuote, type RunOutcome } from './process.js';

// ---------------------------------------------------------------------------------------------
// Finding clang and its linker

/** `(string & {})` keeps the two usual targets as editor suggestions while allowing any target ID (`gfx90a:xnack+`). */
export type AmdArch = 'gfx942' | 'gfx90a' | (string & {});

const CLANG_EXE = 'clang-19';
const DEFAULT_LLVM = '/usr/lib/llvm-19';

const CLANG_HINT =
  "Install LLVM 19's clang and lld: on Debian/Ubuntu `apt-get install clang-19 lld-19` (clang-19 then is on PATH, " +
  'and lld in /usr/lib/llvm-19/bin next to clang), or set TILEKIT_CLANG to a clang 19+ whose linker (lld) is next to it or on PATH.';

/** One place findClang looks, in order; `path` is absent where the variable naming it is unset. */
export interface ClangCandidate {
  readonly source: 'TILEKIT_CLANG' | 'PATH' | 'default';
  readonly path?: string;
  /** How the candidate reads in a "not found" message. */
  readonly describe: string;
}

/**
 * The places findClang looks, in its order; exported so the order itself is testable.
 * @param llvmRoot the last resort's LLVM root (a parameter so tests can point it at nothing).
 */
export function clangCandidates(env: NodeJS.ProcessEnv = process.env, llvmRoot = DEFAULT_LLVM): ClangCandidate[] {
  const out: ClangCandidate[] = [];
  const explicit = env.TILEKIT_CLANG;
  out.push(
    explicit ? { source: 'TILEKIT_CLANG', path: explicit, describe: `TILEKIT_CLANG=${explicit}` } : { source: 'TILEKIT_CLANG', describe: 'TILEKIT_CLANG (not set)' },
  );
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  if (dirs.length === 0) out.push({ source: 'PATH', describe: 'PATH (empty)' });
  for (const d of dirs) out.push({ source: 'PATH', path: join(d, CLANG_EXE), describe: `PATH: ${join(d, CLANG_EXE)}` });
  out.push({ source: 'default', path: join(llvmRoot, 'bin', 'clang'), describe: join(llvmRoot, 'bin', 'clang') });
  return out;
}

/**
 * The clang to run: `TILEKIT_CLANG` if set — taken as given, even if it does not exist, so a typo is
 * reported rather than silently replaced by another clang — else the first executable `clang-19`
 * on PATH, else `/usr/lib/llvm-19/bin/clang`. Says nothing about the linker: see findLld.
 */
export function findClang(env: NodeJS.ProcessEnv = process.env, llvmRoot = DEFAULT_LLVM): string | undefined {
  if (env.TILEKIT_CLANG) return env.TILEKIT_CLANG;
  for (const c of clangCandidates(env, llvmRoot)) if (c.source !== 'TILEKIT_CLANG' && c.path !== undefined && isExecutableFile(c.path)) return c.path;
  return undefined;
}

/** What clang says about the linker it would run for an AMDGPU code object. */
export interface LinkerProbe {
  /** The linker's absolute path, when clang found one that exists. */
  readonly path?: string;
  /** The program clang named (`lld` for Debian's clang-19, `ld.lld` upstream), as it printed it. */
  readonly named?: string;
  /** Why there is no path, for a "not found" message. */
  readonly problem?: string;
}

const linkerCache = new Map<string, string>();

/**
 * Asks clang itself which linker a device-only AMDGPU compile runs (`clang -###` prints the jobs
 * without running them), since where it looks differs between builds: upstream clang runs `ld.lld`,
 * Debian's clang-19 runs `lld -flavor gnu`; each is looked for next to clang and on PATH — and
 * `--ld-path` is ignored for this link, so a wrapper cannot point clang at another linker.
 * Synchronous (one process start, ~40 ms); a found linker is cached per clang and PATH.
 */
export function probeLinker(clangPath: string, env: NodeJS.ProcessEnv = process.env): LinkerProbe {
  const key = `${clangPath}\0${env.PATH ?? ''}`;
  const cached = linkerCache.get(key);
  if (cached !== undefined) return { path: cached, named: cached };
  const nul = process.platform === 'win32' ? 'NUL' : '/dev/null';
  const r = spawnSync(clangPath, ['-###', ...deviceArgs('gfx942', 3), '-c', nul, '-o', nul], { encoding: 'utf8', env, timeout: 10_000, windowsHide: true });
  if (r.error !== undefined) return { problem: `${clangPath} -### could not run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})` };
  // The link job is the line with lld's AMDGPU emulation; its first quoted word is the program.
  const job = r.stderr.split(/\r?\n/).find((l) => l.includes('"elf64_amdgpu"'));
  const named = job !== undefined ? /^\s*"([^"]+)"/.exec(job)?.[1] : undefined;
  if (named === undefined) return { problem: `${clangPath} -### printed no AMDGPU link step (exit ${r.status ?? r.signal})` };
  if (!/[\\/]/.test(named)) return { named, problem: `clang runs \`${named}\` for AMDGPU code objects and found none next to itself or on PATH` };
  if (!isExecutableFile(named)) return { named, problem: `clang runs ${named}, which is not an executable file` };
  linkerCache.set(key, named);
  return { path: named, named };
}

/** The linker clang will run for a code object (lld), or undefined when it has none. */
export function findLld(clangPath: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return probeLinker(clangPath, env).path;
}

function lldMissing(clangPath: string, problem: string): ToolchainMissingError {
  let installed = clangPath;
  try {
    installed = realpathSync(clangPath);
  } catch {
    // keep the path as given
  }
  return new ToolchainMissingError('lld', [problem, `(clang's own folder: ${dirname(installed)})`], `${CLANG_HINT} lld is needed to link the ELF code object; assembly alone does not need it.`);
}

/** findClang's answer with a linker clang can run, or a ToolchainMissingError saying where it looked and how to get them. */
export function requireClang(env: NodeJS.ProcessEnv = process.env, llvmRoot = DEFAULT_LLVM): string {
  const clang = resolveClang(undefined, env, llvmRoot);
  const probe = probeLinker(clang, env);
  if (probe.path === undefined) throw lldMissing(clang, probe.problem ?? 'no linker');
  return clang;
}

function resolveClang(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, llvmRoot = DEFAULT_LLVM): string {
  if (explicit !== undefined) {
    if (isExecutableFile(explicit)) return explicit;
    throw new ToolchainMissingError('clang', [`clangPath option: ${explicit} (not an executable file)`], CLANG_HINT);
  }
  const found = findClang(env, llvmRoot);
  if (found !== undefined && isExecutableFile(found)) return found;
  const searched = clangCandidates(env, llvmRoot).map((c) => c.describe);
  if (found !== undefined) searched[0] = `TILEKIT_CLANG=${found} (not an executable file; the other places are not tried while it is set)`;
  throw new ToolchainMissingError('clang', found !== undefined ? searched.slice(0, 1) : searched, CLANG_HINT);
}

// ---------------------------------------------------------------------------------------------
// The resource report

/** What both of clang's reports (the assembly's kernel info and the resource remarks) say about a kernel. */
export interface AmdResourceUsage {
  /** The kernel's symbol (`extern "C"` name, or the mangled C++ name). */
  readonly kernel: string;
  /** Architectural VGPRs per lane (`; NumVgprs`, remark "VGPRs"). */
  readonly vgprs: number;
  /** Accumulation VGPRs (MFMA operands; gfx90a/gfx942 share one file with the VGPRs). */
  readonly agprs: number;
  /** SGPRs per wave, including the ones reserved for VCC, flat scratch, XNACK. */
  readonly sgprs: number;
  /** Spills (counts of registers spilled). VGPRs spill to scratch; SGPRs to VGPR lanes, or scratch. */
  readonly vgprSpills: number;
  readonly sgprSpills: number;
  /** Private (scratch) memory per lane: local arrays indexed at run time, spills, call stack. */
  readonly scratchBytes: number;
  /** The stack size is not known at compile time (recursion, dynamic alloca): scratchBytes is a lower bound. */
  readonly dynamicStack: boolean;
  /** Static LDS (`__shared__`) per work-group. */
  readonly ldsBytes: number;
  /** Waves per SIMD the registers and LDS allow (at most 8 on gfx90a/gfx942); 0 when not printed. */
  readonly occupancyWavesPerSimd: number;
}

/** One kernel's resource usage from a compile: the assembly's `.amdgpu_metadata` and `; Kernel info` comments. */
export interface AmdResourceReport extends AmdResourceUsage {
  /** The target ID the code was compiled for: `gfx942`, `gfx90a`, `gfx90a:xnack+`. */
  readonly arch: string;
  /**
   * VGPRs allocated in the unified register file: vgprs rounded up to 4, plus agprs, when AGPRs are
   * used (metadata `.vgpr_count`). This, not vgprs, is what bounds occupancy on gfx90a/gfx942.
   */
  readonly totalVgprs: number;
  readonly wavefrontSize: number;
  /** The largest work-group the code allows (`amdgpu_flat_work_group_size`; 1024 by default). */
  readonly maxFlatWorkgroupSize: number;
}

/** One kernel's usage from `-Rpass-analysis=kernel-resource-usage` remarks, with where clang placed it. */
export interface AmdResourceRemark extends AmdResourceUsage {
  /** The kernel's position as clang reported it (a `#line` directive's file, e.g. a `.tile` file). */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

type YamlValue = string | number | boolean;

/** `; Kernel info:` / `; Function info:` comment blocks of AMDGPU assembly, by symbol. */
function kernelInfoComments(asm: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let symbol: string | undefined;
  let block: Map<string, string> | undefined;
  for (const line of asm.split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = /; -- Begin function (\S+)/.exec(line))) {
      symbol = m[1]!;
      block = undefined;
    } else if (/^; (Kernel|Function) info:/.test(line)) {
      block = new Map();
      if (symbol !== undefined) out.set(symbol, block);
    } else if (block !== undefined) {
      if (!line.startsWith(';')) block = undefined;
      else if ((m = /^;\s*([A-Za-z_][\w:]*?)\s*:\s*(.*?)\s*$/.exec(line))) block.set(m[1]!, m[2]!);
    }
  }
  return out;
}

function yamlScalar(raw: string): YamlValue {
  const v = raw.trim();
  if (/^-?\d+$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replace(/''/g, "'");
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1);
  return v;
}

/** The `.amdgpu_metadata` YAML: the target and each kernel's top-level keys (nested `.args` are skipped). */
function metadataKernels(asm: string): { target?: string; kernels: Map<string, YamlValue>[] } {
  const start = asm.indexOf('.amdgpu_metadata');
  const end = asm.indexOf('.end_amdgpu_metadata', start + 1);
  if (start < 0 || end < 0) return { kernels: [] };
  const kernels: Map<string, YamlValue>[] = [];
  let target: string | undefined;
  let inKernels = false;
  let itemIndent = -1; // the column of a kernel's "- " (LLVM writes 2)
  let current: Map<string, YamlValue> | undefined;
  for (const line of asm.slice(start, end).split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = /^amdhsa\.target:\s*(.*)$/.exec(line))) {
      target = String(yamlScalar(m[1]!));
      inKernels = false;
    } else if (/^amdhsa\.kernels:/.test(line)) {
      inKernels = true;
    } else if (/^\S/.test(line)) {
      inKernels = false;
    } else if (inKernels && (m = /^( *)- (\.[\w.]+):\s*(.*)$/.exec(line)) && (itemIndent < 0 || m[1]!.length === itemIndent)) {
      itemIndent = m[1]!.length;
      current = new Map();
      kernels.push(current);
      if (m[3] !== '') current.set(m[2]!, yamlScalar(m[3]!));
    } else if (inKernels && current !== undefined && (m = /^( *)(\.[\w.]+):\s*(.*)$/.exec(line)) && m[1]!.length === itemIndent + 2) {
      if (m[3] !== '') current.set(m[2]!, yamlScalar(m[3]!));
    }
  }
  return target !== undefined ? { target, kernels } : { kernels };
}

function num(v: YamlValue | string | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const m = /^\s*(\d+)/.exec(v);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/**
 * The resource report of AMDGPU assembly (`clang -S` for amdgcn-amd-amdhsa): one entry per kernel
 * in the `.amdgpu_metadata` YAML, in its order, completed by the kernel's `; Kernel info:` comments
 * (architectural VGPRs, occupancy), which only the assembly has. Pure.
 */
export function parseAmdgpuMetadata(asm: string): AmdResourceReport[] {
  const { target, kernels } = metadataKernels(asm);
  const comments = kernelInfoComments(asm);
  const arch = target?.replace(/^amdgcn-amd-amdhsa--/, '') ?? /\.amdgcn_target\s+"amdgcn-amd-amdhsa--([^"]+)"/.exec(asm)?.[1] ?? '';
  return kernels.map((k) => {
    const name = String(k.get('.name') ?? '');
    const symbol = String(k.get('.symbol') ?? name).replace(/\.kd$/, '');
    const c = comments.get(symbol) ?? comments.get(name) ?? new Map<string, string>();
    const totalVgprs = num(k.get('.vgpr_count')) ?? num(c.get('TotalNumVgprs')) ?? 0;
    return {
      kernel: name,
      arch,
      vgprs: num(c.get('NumVgprs')) ?? totalVgprs,
      agprs: num(k.get('.agpr_count')) ?? num(c.get('NumAgprs')) ?? 0,
      totalVgprs,
      sgprs: num(k.get('.sgpr_count')) ?? num(c.get('NumSgprs')) ?? 0,
      vgprSpills: num(k.get('.vgpr_spill_count')) ?? 0,
      sgprSpills: num(k.get('.sgpr_spill_count')) ?? 0,
      scratchBytes: num(k.get('.private_segment_fixed_size')) ?? num(c.get('ScratchSize')) ?? 0,
      dynamicStack: k.get('.uses_dynamic_stack') === true,
      ldsBytes: num(k.get('.group_segment_fixed_size')) ?? num(c.get('LDSByteSize')) ?? 0,
      occupancyWavesPerSimd: num(c.get('Occupancy')) ?? 0,
      wavefrontSize: num(k.get('.wavefront_size')) ?? 64,
      maxFlatWorkgroupSize: num(k.get('.max_flat_workgroup_size')) ?? 1024,
    };
  });
}

const REMARK_FLAG = 'Rpass-analysis=kernel-resource-usage';

/** Remark item name → field. */
const REMARK_FIELDS: Readonly<Record<string, keyof AmdResourceUsage>> = {
  SGPRs: 'sgprs',
  VGPRs: 'vgprs',
  AGPRs: 'agprs',
  'ScratchSize [bytes/lane]': 'scratchBytes',
  'Dynamic Stack': 'dynamicStack',
  'Occupancy [waves/SIMD]': 'occupancyWavesPerSimd',
  'SGPRs Spill': 'sgprSpills',
  'VGPRs Spill': 'vgprSpills',
  'LDS Size [bytes/block]': 'ldsBytes',
};

/**
 * The `-Rpass-analysis=kernel-resource-usage` remarks in clang's stderr: one entry per
 * "Function Name: k" remark, filled from the item remarks after it ("SGPRs: 14", one per remark, or
 * several joined by " / "); items clang did not print are 0. Other output (snippets, notes such as
 * "could not determine the original source location", warnings) is skipped. Pure.
 */
export function parseResourceRemarks(stderr: string): AmdResourceRemark[] {
  type Mutable = { -readonly [K in keyof AmdResourceRemark]: AmdResourceRemark[K] };
  const out: Mutable[] = [];
  let current: Mutable | undefined;
  for (const d of parseClangDiagnostics(stderr)) {
    if (d.severity !== 'remark' || d.flag !== REMARK_FLAG) continue;
    const name = /^Function Name:\s*(.+)$/.exec(d.message.trim());
    if (name) {
      current = {
        kernel: name[1]!.trim(),
        file: d.file ?? '',
        line: d.line ?? 0,
        column: d.column ?? 0,
        vgprs: 0,
        agprs: 0,
        sgprs: 0,
        vgprSpills: 0,
        sgprSpills: 0,
        scratchBytes: 0,
        dynamicStack: false,
        ldsBytes: 0,
        occupancyWavesPerSimd: 0,
      };
      out.push(current);
      continue;
    }
    if (current === undefined) continue;
    for (const item of d.message.split(' / ')) {
      const m = /^\s*(.+?):\s*(\S+)\s*$/.exec(item);
      const field = m ? REMARK_FIELDS[m[1]!] : undefined;
      if (m === null || field === undefined) continue;
      if (field === 'dynamicStack') current.dynamicStack = /^true$/i.test(m[2]!);
      else if (field !== 'kernel' && /^\d+$/.test(m[2]!)) current[field] = Number(m[2]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

/** One clang (or lld) message: `k.hip:3:43: error: expected ';' at end of declaration`. */
export interface ClangDiagnostic extends ToolDiagnostic {
  /** The `[-W…]` / `[-R…]` option named after the message, without the dash and brackets. */
  readonly flag?: string;
  /** The lines clang printed under it (the source line, the caret line, a fix-it), verbatim. */
  readonly snippet: readonly string[];
}

const RE_CLANG_AT = /^(.+?):(\d+):(\d+): (fatal error|error|warning|note|remark): (.*)$/;
const RE_CLANG_TOOL = /^([^\s:]+): (fatal error|error|warning|note|remark): (.*)$/;
const RE_SNIPPET = /^\s*(\d+ )?\|/;

function severityOf(s: string): ClangDiagnostic['severity'] {
  return s === 'fatal error' ? 'fatal' : (s as ClangDiagnostic['severity']);
}

function splitFlag(message: string): { message: string; flag?: string } {
  const m = /^(.*?) \[-([^\]\s]+)\]$/.exec(message);
  return m ? { message: m[1]!, flag: m[2]! } : { message };
}

/**
 * clang's diagnostics (`-fno-color-diagnostics` form) in the order printed: located ones
 * (`file:line:col: error: …`) with their source excerpt, and tool-level ones (`clang: error: …`,
 * `ld.lld: error: …`) without a file. Summary lines ("2 errors generated …") are skipped. Pure.
 */
export function parseClangDiagnostics(text: string): ClangDiagnostic[] {
  const out: { severity: ClangDiagnostic['severity']; message: string; file?: string; line?: number; column?: number; flag?: string; snippet: string[] }[] = [];
  let last: (typeof out)[number] | undefined;
  for (const line of text.split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = RE_CLANG_AT.exec(line))) {
      last = { severity: severityOf(m[4]!), ...splitFlag(m[5]!), file: m[1]!, line: Number(m[2]), column: Number(m[3]), snippet: [] };
      out.push(last);
    } else if ((m = RE_CLANG_TOOL.exec(line))) {
      last = { severity: severityOf(m[2]!), ...splitFlag(m[3]!), snippet: [] };
      out.push(last);
    } else if (last !== undefined && RE_SNIPPET.test(line)) {
      last.snippet.push(line);
    } else {
      last = undefined;
    }
  }
  return out;
}

/** The source line and marker line of clang's excerpt (`   14 |   c[t] = t + nope;` / `      |              ^`). */
function excerpt(d: ClangDiagnostic): { lineText: string; marker?: string } | undefined {
  const at = d.snippet.findIndex((l) => /^\s*\d+ \|/.test(l));
  if (at < 0) return undefined;
  const lineText = /^\s*\d+ \| ?(.*)$/.exec(d.snippet[at]!)![1]!;
  const next = d.snippet[at + 1];
  const marker = next !== undefined ? /^\s*\| ?(.*)$/.exec(next)?.[1] : undefined;
  return marker !== undefined && /[\^~]/.test(marker) ? { lineText, marker: marker.trimEnd() } : { lineText };
}

/** `kernel.hip:14:21`, naming a file in `dir` by its name only; undefined for a tool-level message. */
function locationOf(d: ClangDiagnostic, dir: string): string | undefined {
  if (d.file === undefined) return undefined;
  const file = d.file.startsWith(`${dir}/`) ? d.file.slice(dir.length + 1) : d.file;
  return `${file}:${d.line}:${d.column}`;
}

/** `kernel.hip:14:21: message [-Wflag]`. */
function describe(d: ClangDiagnostic, dir: string): string {
  const where = locationOf(d, dir);
  return `${where !== undefined ? `${where}: ` : ''}${d.message}${d.flag !== undefined ? ` [-${d.flag}]` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Compiling

export type HipEmit = 'object' | 'assembly';

export interface BuildCodeObjectOptions {
  /** `--offload-arch=`: `gfx942` (MI300), `gfx90a` (MI200), or any target ID clang knows. */
  readonly arch: AmdArch;
  /** `-O<n>`, 0–3. Default 3. */
  readonly optLevel?: number;
  /**
   * What to return: the ELF code object, the assembly, or both (the default). The assembly is
   * compiled either way, since the report comes from it.
   */
  readonly emit?: readonly HipEmit[];
  /** Kill clang after this long. Default 120 000 ms. */
  readonly timeoutMs?: number;
  /** The clang to run instead of findClang()'s. */
  readonly clangPath?: string;
  /** `-D<name>=<value>` for each entry. */
  readonly defines?: Readonly<Record<string, string>>;
  /** More clang arguments, placed before the input (e.g. `['-mcumode']`, `['-Rpass-analysis=kernel-resource-usage']`). */
  readonly extraArgs?: readonly string[];
  /** The source's file name in the temp folder (the one clang names when no `#line` applies). Default `kernel.hip`. */
  readonly fileName?: string;
}

export interface CodeObjectResult {
  /** The ELF code object (`e_machine` EM_AMDGPU), when `emit` includes 'object'. */
  readonly codeObject?: Buffer;
  /** The AMDGPU assembly, when `emit` includes 'assembly'. */
  readonly assembly?: string;
  /** One entry per kernel, from the assembly's metadata. */
  readonly report: AmdResourceReport[];
  /** clang's warnings, `kernel.hip:14:21: message [-Wflag]` (or the `#line` file's name and line). */
  readonly warnings: string[];
  /** What clang printed for the assembly compile, then the object compile's output where it differs. */
  readonly log: string;
  /** The commands that ran (their temp folder is removed after success). */
  readonly command: string;
  /** Wall time of the clang processes (they run at the same time). */
  readonly ms: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/**
 * The device-only compile's fixed arguments. `--no-gpu-bundle-output` gives a plain ELF code object
 * instead of an offload bundle; `-nogpulib -nogpuinc` need no ROCm device libraries or headers;
 * `-fuse-cuid=none` drops the per-compile ID clang hashes from the input's path, so the same source
 * gives the same bytes from any temp folder.
 */
function deviceArgs(arch: string, optLevel: number): string[] {
  return ['-x', 'hip', `--offload-arch=${arch}`, '--cuda-device-only', '-nogpulib', '-nogpuinc', '--no-gpu-bundle-output', '-fuse-cuid=none', '-fno-color-diagnostics', `-O${optLevel}`];
}

/**
 * Compiles HIP source for one AMD GPU: `clang -x hip --offload-arch=<arch> --cuda-device-only …`,
 * with `-S` for the assembly (always: the report comes from it) and, at the same time, with `-c`
 * for the ELF code object (clang links it with lld). Raises ToolchainMissingError when clang or its
 * linker is missing, ToolchainError when a compile fails or times out (the source is then kept on
 * disk and `command` reproduces the failure).
 */
export async function buildCodeObject(source: string, opts: BuildCodeObjectOptions): Promise<CodeObjectResult> {
  const optLevel = opts.optLevel ?? 3;
  if (!Number.isInteger(optLevel) || optLevel < 0 || optLevel > 3) throw new RangeError(`optLevel must be 0, 1, 2 or 3, got ${optLevel}`);
  const emit = opts.emit ?? ['object', 'assembly'];
  for (const e of emit) if (e !== 'object' && e !== 'assembly') throw new RangeError(`emit: expected 'object' or 'assembly', got ${JSON.stringify(e)}`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fileName = opts.fileName ?? 'kernel.hip';
  const stem = fileName.replace(/\.[^.]*$/, '') || fileName;
  if (!/^[^\\/]+$/.test(fileName) || fileName === '.' || fileName === '..' || fileName === `${stem}.s` || fileName === `${stem}.hsaco`) {
    throw new RangeError(`fileName must be a plain file name not ending in .s or .hsaco, got ${JSON.stringify(fileName)}`);
  }
  const defines = Object.entries(opts.defines ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name] of defines) if (!/^[A-Za-z_]\w*$/.test(name)) throw new RangeError(`defines: ${JSON.stringify(name)} is not a macro name`);
  const extraArgs = opts.extraArgs ?? [];
  const wantObject = emit.includes('object');
  const clang = resolveClang(opts.clangPath);
  if (wantObject) {
    const probe = probeLinker(clang);
    if (probe.path === undefined) throw lldMissing(clang, probe.problem ?? 'no linker');
  }

  // Same input, same kept-folder name (a failure is kept once, not once per try); the run itself
  // uses a private folder so identical concurrent calls don't clash.
  const hash = createHash('sha256')
    .update(JSON.stringify([source, opts.arch, optLevel, wantObject, defines, extraArgs, fileName, clang]))
    .digest('hex')
    .slice(0, 16);
  const keptName = `tilekit-clang-${hash}`;
  const runDir = await mkdtemp(join(tmpdir(), `${keptName}-`));
  const argsIn = (dir: string, mode: '-S' | '-c'): string[] => [
    ...deviceArgs(opts.arch, optLevel),
    ...defines.map(([k, v]) => `-D${k}=${v}`),
    ...extraArgs,
    mode,
    join(dir, fileName),
    '-o',
    join(dir, mode === '-S' ? `${stem}.s` : `${stem}.hsaco`),
  ];
  const asmArgs = (dir: string): string[] => argsIn(dir, '-S');
  const objArgs = (dir: string): string[] => argsIn(dir, '-c');

  await writeFile(join(runDir, fileName), source);
  // clang's intermediate files (the object before linking) go to the run folder, so a killed
  // compile leaves nothing behind in the shared temp dir.
  const env = { ...process.env, TMPDIR: runDir };
  const t0 = performance.now();
  const [asmRun, objRun] = await Promise.all([runTool(clang, asmArgs(runDir), timeoutMs, { env }), wantObject ? runTool(clang, objArgs(runDir), timeoutMs, { env }) : undefined]);
  const ms = performance.now() - t0;

  for (const r of [asmRun, objRun]) {
    if (r?.errorCode === 'ENOENT' || r?.errorCode === 'EACCES') {
      await rm(runDir, { recursive: true, force: true });
      throw new ToolchainMissingError('clang', [`${clang} (could not be started: ${r.errorCode})`], CLANG_HINT);
    }
  }

  const assembly = asmRun.exitCode === 0 ? await readFile(join(runDir, `${stem}.s`), 'utf8').catch(() => undefined) : undefined;
  if (asmRun.exitCode !== 0 || assembly === undefined || assembly === '') {
    throw await failure({ clang, run: asmRun, args: asmArgs, runDir, keptName, fileName, timeoutMs, output: 'assembly' });
  }
  let codeObject: Buffer | undefined;
  if (objRun !== undefined) {
    codeObject = objRun.exitCode === 0 ? await readFile(join(runDir, `${stem}.hsaco`)).catch(() => undefined) : undefined;
    const linkerGone = /unable to execute command: Executable "([^"]*lld)" doesn't exist/.exec(objRun.stderr);
    if (linkerGone !== null) {
      await rm(runDir, { recursive: true, force: true });
      throw lldMissing(clang, `clang could not run \`${linkerGone[1]}\` (its AMDGPU linker)`);
    }
    const isElf = codeObject !== undefined && ELF_MAGIC.every((b, i) => codeObject![i] === b);
    if (objRun.exitCode !== 0 || !isElf) {
      throw await failure({ clang, run: objRun, args: objArgs, runDir, keptName, fileName, timeoutMs, output: 'ELF code object' });
    }
  }

  const log = objRun === undefined || objRun.stderr === asmRun.stderr ? asmRun.stderr : asmRun.stderr + objRun.stderr;
  const warnings: string[] = [];
  for (const r of [asmRun, objRun]) {
    for (const d of parseClangDiagnostics(r?.stderr ?? '')) {
      const w = describe(d, runDir);
      if (d.severity === 'warning' && !warnings.includes(w)) warnings.push(w);
    }
  }
  const command = [...(wantObject ? [shellCommand(clang, objArgs(runDir))] : []), shellCommand(clang, asmArgs(runDir))].join(' && ');
  await rm(runDir, { recursive: true, force: true });
  return {
    ...(wantObject && codeObject !== undefined ? { codeObject } : {}),
    ...(emit.includes('assembly') ? { assembly } : {}),
    report: parseAmdgpuMetadata(assembly),
    warnings,
    log,
    command,
    ms,
  };
}

/** The ToolchainError for a failed clang run, after moving its folder to the kept name. */
async function failure(f: {
  clang: string;
  run: RunOutcome;
  args: (dir: string) => string[];
  runDir: string;
  keptName: string;
  fileName: string;
  timeoutMs: number;
  output: string;
}): Promise<ToolchainError> {
  const kept = await keepFailedRun(f.runDir, f.keptName, f.fileName);
  const r = f.run;
  const stderr = r.stderr.split(f.runDir).join(kept); // messages name the kept file, not the moved one
  const diagnostics = parseClangDiagnostics(stderr);
  const errors = diagnostics.filter((d) => d.severity === 'error' || d.severity === 'fatal');
  const first = errors[0];
  const at = first !== undefined && first.line !== undefined ? excerpt(first) : undefined;
  // The notes clang attached to the first error ("expanded from macro", "candidate function").
  const notes: string[] = [];
  if (first !== undefined) {
    for (const d of diagnostics.slice(diagnostics.indexOf(first) + 1)) {
      if (d.severity !== 'note') break;
      notes.push(describe(d, kept));
    }
  }
  const what = r.timedOut
    ? `clang timed out after ${f.timeoutMs} ms and was killed`
    : r.exitCode === 0
      ? `clang exited 0 but wrote no ${f.output}`
      : r.exitCode === null
        ? `clang did not finish (${r.errorCode ?? 'killed'}${r.errorMessage ? `: ${r.errorMessage}` : ''})`
        : `clang failed (exit ${r.exitCode})`;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more error${errors.length > 2 ? 's' : ''})` : '';
  const where = first !== undefined ? locationOf(first, kept) : undefined;
  return new ToolchainError({
    tool: 'clang',
    summary: `${what}${first !== undefined ? `: ${first.message}${where !== undefined ? ` (${where})` : ''}${more}` : ''}`,
    exitCode: r.exitCode,
    stderr,
    command: shellCommand(f.clang, f.args(kept)),
    timedOut: r.timedOut,
    diagnostics,
    inputPath: join(kept, f.fileName),
    ...(first?.file !== undefined && first.line !== undefined ? { file: first.file, line: first.line } : {}),
    ...(first?.column !== undefined ? { column: first.column } : {}),
    ...(at !== undefined ? { lineText: at.lineText } : {}),
    ...(at?.marker !== undefined ? { marker: at.marker } : {}),
    notes,
  });
}

/** The clang release, e.g. `19.1.7`, from `clang --version` ("Debian clang version 19.1.7 (3~deb12u1)"). */
export async function clangVersion(path?: string): Promise<string> {
  const clang = resolveClang(path);
  const r = await runTool(clang, ['--version'], 10_000);
  if (r.exitCode !== 0) {
    throw new ToolchainError({
      tool: 'clang',
      summary: r.timedOut ? 'clang --version timed out' : `clang --version failed (exit ${r.exitCode ?? r.errorCode ?? 'killed'})`,
      exitCode: r.exitCode,
      stderr: r.stderr,
      command: `${shellQuote(clang)} --version`,
      timedOut: r.timedOut,
    });
  }
  const m = /clang version (\d+(?:\.\d+)*)/.exec(r.stdout);
  if (m) return m[1]!;
  return r.stdout.trim().split(/\r?\n/)[0] ?? '';
}
