/**
 * The HIP CPU harness's launcher: runs a compiled AMD kernel (compiler/hip/kernel-abi.ts, CompiledHip)
 * on the host, with real threads, on the tensors and scalars of a `tilekit run` argument map, and copies
 * every tensor back — the HIP counterpart of runtime/emulate-backend.ts.
 *
 * The kernel's `.hip` source is built for the host with `tk_hip_cpu.h` (next to this file, which defines
 * the prelude's primitives for threads of the CPU) and a generated `main.cpp` that reads every argument
 * from one binary file, launches, and writes the tensors back to another. Shapes, scalars, the grid, the
 * workgroup size and the LDS size all travel in that file, so one binary serves every shape of a compiled
 * kernel; binaries are cached by the hash of what they are built from.
 *
 * The argument list follows `compiled.params` (the ABI's order, read through runtime/abi-args.ts like the
 * emulator's): tensors are buffers of their dtype (f16 `_Float16`, bf16 `tk_bf16` bits, bool and fp8
 * `tk_u8`), shape symbols `tk_u32`, strides `tk_u64`, scalars f32 `float`, i32 `tk_i32`, i64 `tk_i64`.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gridOf, type KernelArgs, type TensorArg } from '../../compiler/interpreter.js';
import type { CompiledHip } from '../../compiler/hip/kernel-abi.js';
import type { IRKernel } from '../../compiler/ir.js';
import type { AbiParam } from '../../compiler/kernel-abi.js';
import type { DType } from '../../dsl/dtype.js';
import { readTensor, tensorBytes } from '../tensor-bytes.js';
import { isExecutableFile, runTool, type RunOutcome, shellQuote } from '../../compiler/toolchain/process.js';
import { AbiArgsError, abiValue } from '../abi-args.js';

// ---------------------------------------------------------------------------------------------
// Errors

export type HipCpuFailure = 'toolchain' | 'build' | 'run' | 'timeout';

/** The harness could not build or run a kernel: clang missing or failing, the binary failing or hanging. */
export class HipCpuError extends Error {
  override name = 'HipCpuError';
  readonly kind: HipCpuFailure;
  /** A shell command that reproduces the failure (its files are kept), when there is one. */
  readonly command?: string;
  /** The failing process's stderr (build: clang's; run: the harness's). */
  readonly stderr: string;
  /** Exit code; null when the process was killed or never started. */
  readonly exitCode: number | null;
  /** The folder kept for inspection (the build folder, or the run's argument file). */
  readonly keptDir?: string;

  constructor(init: { kind: HipCpuFailure; message: string; command?: string; stderr?: string; exitCode?: number | null; keptDir?: string }) {
    super(init.command !== undefined ? `${init.message}\n  reproduce: ${init.command}` : init.message);
    this.kind = init.kind;
    this.stderr = init.stderr ?? '';
    this.exitCode = init.exitCode ?? null;
    if (init.command !== undefined) this.command = init.command;
    if (init.keptDir !== undefined) this.keptDir = init.keptDir;
  }
}

// ---------------------------------------------------------------------------------------------
// Finding clang++

const LLVM19_CLANGXX = '/usr/lib/llvm-19/bin/clang++';
const CLANGXX_HINT =
  'The HIP CPU harness needs clang++ 19 (g++ ignores ext_vector_type): install the Debian/Ubuntu package clang-19 ' +
  '(apt-get install clang-19), or set TILEKIT_CLANGXX to a clang++ executable.';

/**
 * The clang++ the harness builds with: `TILEKIT_CLANGXX` if set (taken as given, so a typo is reported
 * rather than replaced), else `clang++-19` on PATH, else /usr/lib/llvm-19/bin/clang++; undefined if none.
 */
export function findClangxx(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TILEKIT_CLANGXX) return env.TILEKIT_CLANGXX;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, 'clang++-19');
    if (isExecutableFile(p)) return p;
  }
  return isExecutableFile(LLVM19_CLANGXX) ? LLVM19_CLANGXX : undefined;
}

function requireClangxx(explicit: string | undefined): string {
  const found = explicit ?? findClangxx();
  if (found !== undefined && isExecutableFile(found)) return found;
  const where =
    explicit !== undefined
      ? `the clangxx option: ${explicit} (not an executable file)`
      : found !== undefined
        ? `TILEKIT_CLANGXX=${found} (not an executable file)`
        : `looked for TILEKIT_CLANGXX (not set), clang++-19 on PATH, ${LLVM19_CLANGXX}`;
  throw new HipCpuError({ kind: 'toolchain', message: `clang++ not found: ${where}.\n${CLANGXX_HINT}` });
}

// ---------------------------------------------------------------------------------------------
// The ABI on the host

interface HostType {
  /** The C++ type main.cpp declares the argument with. */
  readonly cxx: string;
  /** Bytes per element (tensors) or of the value. */
  readonly size: number;
}

/** Tensor element types, by tile dtype. */
const TENSOR_TYPE: Readonly<Record<DType, HostType>> = {
  f32: { cxx: 'float', size: 4 },
  f16: { cxx: '_Float16', size: 2 },
  bf16: { cxx: 'tk_bf16', size: 2 },
  i32: { cxx: 'tk_i32', size: 4 },
  i64: { cxx: 'tk_i64', size: 8 },
  bool: { cxx: 'tk_u8', size: 1 },
  f8e4m3: { cxx: 'tk_u8', size: 1 },
  f8e5m2: { cxx: 'tk_u8', size: 1 },
};

/** Scalar parameter types the harness passes (the ABI's: f32, i32, i64). */
const SCALAR_TYPE: Readonly<Partial<Record<DType, HostType>>> = {
  f32: { cxx: 'float', size: 4 },
  i32: { cxx: 'tk_i32', size: 4 },
  i64: { cxx: 'tk_i64', size: 8 },
};

function hostType(p: AbiParam): HostType {
  switch (p.kind) {
    case 'tensor':
      return TENSOR_TYPE[p.dtype];
    case 'dim':
      return { cxx: 'tk_u32', size: 4 };
    case 'stride':
      return { cxx: 'tk_u64', size: 8 };
    case 'scalar': {
      const t = SCALAR_TYPE[p.dtype];
      if (t === undefined) throw new AbiArgsError(`parameter '${p.name}': ${p.dtype} scalars cannot be passed to the HIP CPU harness (it takes f32, i32 and i64 scalars)`);
      return t;
    }
  }
}

const C_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * main.cpp for a compiled kernel: includes the header and the kernel, reads the argument file (argv[1]),
 * launches, writes the tensors (argv[2]). Arguments are named p0, p1, … so no ABI name can clash with the
 * kernel's own identifiers. Exported for tests and for reproducing a build by hand.
 */
export function hipCpuMain(compiled: CompiledHip): string {
  if (!C_IDENT.test(compiled.entry)) throw new AbiArgsError(`kernel entry '${compiled.entry}' is not a C identifier`);
  const decls = compiled.params.map((p, i) => {
    const t = hostType(p);
    const read = p.kind === 'tensor' ? `args.tensor<${t.cxx}>(${i})` : `args.value<${t.cxx}>(${i})`;
    return `  ${p.kind === 'tensor' ? `${t.cxx}*` : t.cxx} p${i} = ${read};  // ${p.kind} ${p.name}`;
  });
  const call = compiled.params.map((_, i) => `p${i}`).join(', ');
  return [
    `// Generated by runtime/hip-cpu/hip-cpu-backend.ts: runs kernel '${compiled.entry}' on the CPU.`,
    `// usage: ./kernel ARGS.bin OUT.bin`,
    `#include "tk_hip_cpu.h"`,
    `#include "kernel.hip"`,
    ``,
    `int main(int argc, char** argv) {`,
    `  if (argc != 3) {`,
    `    std::fprintf(stderr, "usage: %s ARGS.bin OUT.bin\\n", argv[0]);`,
    `    return 2;`,
    `  }`,
    `  const tk_cpu::Args args(argv[1], ${compiled.params.length});`,
    ...decls,
    `  const int rc = tk_cpu_launch(args.grid, (int)args.threads, (int)args.ldsBytes, [=] { ${compiled.entry}(${call}); });`,
    `  if (rc != 0) return rc;`,
    `  return args.writeTensors(argv[2]);`,
    `}`,
    ``,
  ].join('\n');
}

interface Launch {
  readonly grid: readonly [number, number, number];
  readonly threads: number;
  readonly ldsBytes: number;
}

const pad8 = (n: number): number => (n + 7) & ~7;

interface Encoded {
  readonly input: Buffer;
  /** The tensors in parameter order, with their dtypes, as the output file returns them. */
  readonly tensors: readonly { readonly tensor: TensorArg; readonly dtype: DType }[];
}

const U32_MAX = 0xffff_ffff;

/** The argument file tk_cpu::Args reads (its layout is documented in tk_hip_cpu.h). */
function encodeInput(compiled: CompiledHip, ir: IRKernel, args: KernelArgs, launch: Launch): Encoded {
  const head = Buffer.alloc(32 + 16 * compiled.params.length);
  head.write('TKHIPIN1', 0, 'latin1');
  head.writeUInt32LE(compiled.params.length, 8);
  head.writeUInt32LE(launch.threads, 12);
  head.writeUInt32LE(launch.ldsBytes, 16);
  launch.grid.forEach((g, i) => head.writeUInt32LE(g, 20 + 4 * i));
  const payloads: Buffer[] = [];
  const tensors: { tensor: TensorArg; dtype: DType }[] = [];
  compiled.params.forEach((p, i) => {
    const type = hostType(p);
    const at = 32 + 16 * i;
    const v = abiValue(p, ir, args);
    head.writeUInt32LE('tensor' in v ? 0 : 1, at);
    head.writeUInt32LE(type.size, at + 4);
    if ('tensor' in v) {
      head.writeBigUInt64LE(BigInt(v.tensor.data.length), at + 8);
      const bytes = tensorBytes(v.param.dtype, v.tensor.data);
      payloads.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), Buffer.alloc(pad8(bytes.byteLength) - bytes.byteLength));
      tensors.push({ tensor: v.tensor, dtype: v.param.dtype });
      return;
    }
    const x = v.value;
    switch (p.kind) {
      case 'dim':
        if (!Number.isInteger(x) || x < 0 || x > U32_MAX) throw new AbiArgsError(`parameter '${p.name}': ${x} does not fit a u32 shape size`);
        head.writeUInt32LE(x, at + 8);
        return;
      case 'stride':
        if (!Number.isSafeInteger(x) || x < 0) throw new AbiArgsError(`parameter '${p.name}': ${x} is not a stride`);
        head.writeBigUInt64LE(BigInt(x), at + 8);
        return;
      case 'scalar':
        if (p.dtype === 'f32') head.writeFloatLE(x, at + 8);
        else if (!Number.isInteger(x)) throw new AbiArgsError(`parameter '${p.name}': ${x} is not an ${p.dtype}`);
        else if (p.dtype === 'i32') head.writeInt32LE(x | 0, at + 8);
        else head.writeBigInt64LE(BigInt(x), at + 8);
        return;
      case 'tensor':
        throw new Error('unreachable: tensor values carry a TensorArg');
    }
  });
  return { input: Buffer.concat([head, ...payloads]), tensors };
}

/** How a process that did not exit with 0 ended, in words. */
function failure(r: RunOutcome): string {
  if (r.signal !== undefined) return `was killed by ${r.signal}`;
  if (r.exitCode === null) return `could not start (${r.errorCode ?? 'unknown error'})`;
  return `exited with code ${r.exitCode}`;
}

/** clang's first diagnostics: from the first `error:` line, up to `max` lines. */
function firstErrorLines(stderr: string, max = 12): string {
  const lines = stderr.split(/\r?\n/);
  const first = lines.findIndex((l) => /\berror\b/.test(l));
  return lines
    .slice(Math.max(0, first), Math.max(0, first) + max)
    .join('\n')
    .trimEnd();
}

// ---------------------------------------------------------------------------------------------
// Building (cached)

/** The flags every harness binary is built with (part of the cache key). */
export const HIP_CPU_FLAGS: readonly string[] = ['-std=c++20', '-O2', '-pthread', '-DTILEKIT_HIP_CPU'];

const BUILD_TIMEOUT_MS = 300_000;
const DEFAULT_RUN_TIMEOUT_MS = 120_000;

let headerText: Promise<string> | undefined;

/** tk_hip_cpu.h's text (next to this module: the TS source under vitest, dist/ after the build copies it). */
export function hipCpuHeader(): Promise<string> {
  const path = fileURLToPath(new URL('./tk_hip_cpu.h', import.meta.url));
  headerText ??= readFile(path, 'utf8').catch((e: unknown) => {
    headerText = undefined; // let a later call try again
    throw new HipCpuError({
      kind: 'toolchain',
      message: `the HIP CPU harness header is missing: ${path} (${e instanceof Error ? e.message : String(e)}); \`npm run build\` copies it next to the compiled JS`,
    });
  });
  return headerText;
}

function defaultCacheDir(): string {
  return process.env.TILEKIT_CACHE_DIR ?? join(tmpdir(), 'tilekit-hip-cpu');
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The harness binary for `compiled`: from the cache, or built into it. */
async function harnessBinary(compiled: CompiledHip, clangxx: string, cacheDir: string): Promise<{ path: string; cached: boolean }> {
  const header = await hipCpuHeader();
  const main = hipCpuMain(compiled);
  const key = createHash('sha256')
    .update(header)
    .update('\0')
    .update(compiled.source)
    .update('\0')
    .update(main)
    .update('\0')
    .update([clangxx, ...HIP_CPU_FLAGS].join(' '))
    .digest('hex');
  const binary = join(cacheDir, `${compiled.entry}-${key.slice(0, 32)}`);
  if (await isFile(binary)) return { path: binary, cached: true };

  await mkdir(cacheDir, { recursive: true });
  // Built in a folder of its own and renamed into place, so concurrent builders never see half a binary.
  const dir = await mkdtemp(join(cacheDir, `build-${compiled.entry}-`));
  await Promise.all([writeFile(join(dir, 'tk_hip_cpu.h'), header), writeFile(join(dir, 'kernel.hip'), compiled.source), writeFile(join(dir, 'main.cpp'), main)]);
  const argv = [...HIP_CPU_FLAGS, '-o', 'kernel', 'main.cpp'];
  const command = `cd ${shellQuote(dir)} && ${[clangxx, ...argv].map(shellQuote).join(' ')}`;
  const r = await runTool(clangxx, argv, BUILD_TIMEOUT_MS, { cwd: dir });
  if (r.exitCode !== 0 || r.timedOut) {
    const why = r.timedOut ? `timed out after ${BUILD_TIMEOUT_MS / 1000} s` : failure(r);
    throw new HipCpuError({
      kind: 'build',
      message: `clang++ ${why} building kernel '${compiled.entry}' for the HIP CPU harness:\n${firstErrorLines(r.stderr) || '(no output)'}\n  build folder kept: ${dir}`,
      command,
      stderr: r.stderr,
      exitCode: r.exitCode,
      keptDir: dir,
    });
  }
  await rename(join(dir, 'kernel'), binary);
  await rm(dir, { recursive: true, force: true });
  return { path: binary, cached: false };
}

// ---------------------------------------------------------------------------------------------
// Running

export interface HipCpuRun {
  /** The grid the kernel's `grid` clause computed (as `gridOf` returns it: 1 to 3 sizes). */
  readonly grid: number[];
  /** The binary came from the cache (no clang run). */
  readonly cached: boolean;
  /** Milliseconds spent building (0 when cached). */
  readonly buildMs: number;
  /** Milliseconds the harness process ran (writing and reading the argument files included). */
  readonly runMs: number;
}

export interface HipCpuOptions {
  /** Where binaries are cached; default TILEKIT_CACHE_DIR, else <tmpdir>/tilekit-hip-cpu. */
  readonly cacheDir?: string;
  /** Kill the harness after this long (a deadlocked kernel); default 120 000 ms. */
  readonly timeoutMs?: number;
  /** The clang++ to build with instead of findClangxx()'s. */
  readonly clangxx?: string;
}

/**
 * Runs `compiled` (built from `ir`) on the CPU over the grid `ir`'s `grid` clause computes for `args`,
 * and writes every tensor buffer back into its TensorArg. Throws AbiArgsError when the arguments do not
 * fit, HipCpuError when clang is missing or fails, or the harness fails or runs past the timeout.
 */
export async function runOnHipCpu(compiled: CompiledHip, ir: IRKernel, args: KernelArgs, opts: HipCpuOptions = {}): Promise<HipCpuRun> {
  const grid = gridOf(ir, args);
  const launch: Launch = { grid: [grid[0] ?? 1, grid[1] ?? 1, grid[2] ?? 1], threads: compiled.threads, ldsBytes: compiled.ldsBytes };
  if (launch.grid.some((g) => !Number.isInteger(g) || g > 0x7fff_ffff)) throw new AbiArgsError(`grid [${grid.join(', ')}] is not a launchable grid`);
  const { input, tensors } = encodeInput(compiled, ir, args, launch);
  // An empty grid (a zero-sized tensor) launches nothing.
  if (launch.grid.some((g) => g < 1)) return { grid, cached: false, buildMs: 0, runMs: 0 };

  const clangxx = requireClangxx(opts.clangxx);
  const t0 = performance.now();
  const bin = await harnessBinary(compiled, clangxx, opts.cacheDir ?? defaultCacheDir());
  const buildMs = bin.cached ? 0 : performance.now() - t0;

  const t1 = performance.now();
  const dir = await mkdtemp(join(tmpdir(), `tilekit-hip-cpu-run-`));
  const inPath = join(dir, 'args.bin');
  const outPath = join(dir, 'out.bin');
  await writeFile(inPath, input);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  const r = await runTool(bin.path, [inPath, outPath], timeoutMs);
  const command = [bin.path, inPath, outPath].map(shellQuote).join(' ');
  if (r.timedOut) {
    throw new HipCpuError({
      kind: 'timeout',
      message:
        `kernel '${compiled.entry}' did not finish within the ${timeoutMs} ms timeout on the HIP CPU harness and was killed ` +
        `(a deadlock: a tk_barrier or wave collective some threads never reach?)`,
      command,
      stderr: r.stderr,
      keptDir: dir,
    });
  }
  if (r.exitCode !== 0) {
    const why = failure(r);
    throw new HipCpuError({
      kind: 'run',
      message: `kernel '${compiled.entry}' ${why} on the HIP CPU harness:\n${r.stderr.trimEnd() || '(no output)'}`,
      command,
      stderr: r.stderr,
      exitCode: r.exitCode,
      keptDir: dir,
    });
  }
  const out = await readFile(outPath);
  const expected = tensors.reduce((n, t) => n + pad8(t.tensor.data.length * TENSOR_TYPE[t.dtype].size), 0);
  if (out.length !== expected) {
    throw new HipCpuError({ kind: 'run', message: `kernel '${compiled.entry}': the harness wrote ${out.length} bytes of tensors, expected ${expected}`, command, keptDir: dir });
  }
  let at = 0;
  for (const t of tensors) {
    const bytes = t.tensor.data.length * TENSOR_TYPE[t.dtype].size;
    readTensor(t.tensor, t.dtype, out.subarray(at, at + bytes));
    at += pad8(bytes);
  }
  await rm(dir, { recursive: true, force: true });
  return { grid, cached: bin.cached, buildMs, runMs: performance.now() - t1 };
}
