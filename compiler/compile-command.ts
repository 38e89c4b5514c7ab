/**
 * `tilekit compile FILE --target sm_80|sm_90a|gfx942|gfx90a [-o DIR]`: builds one kernel in one
 * configuration and generates code for the target:
 * - NVIDIA: PTX, assembled with ptxas: `DIR/<kernel>.<target>.ptx`, `.cubin` and `.json` (the
 *   launch contract of compiler/ptx/kernel-abi.ts without the PTX text, the configuration and
 *   ptxas's resource report);
 * - AMD: HIP C++, compiled with clang-19: `.hip`, `.hsaco` (the ELF code object), `.s` (the
 *   assembly) and `.json` (compiler/hip/kernel-abi.ts without the source, clang's report).
 *
 * Also the shared steps "IR → PTX / HIP with diagnostics printed" that `tilekit run --backend
 * emulate` and `--backend hip-cpu` use.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, reportDiagnostics, type CliIO } from '../dsl/cli-io.js';
import { hasErrors, type Diagnostic } from '../dsl/diagnostic.js';
import type { SourceText } from '../dsl/source.js';
import { buildFromFile, type KernelOptions } from './ir-command.js';
import type { IRKernel } from './ir.js';
import { AMD_TARGETS, compileHip, DEFAULT_MFMA } from './hip/compile-hip.js';
import type { AmdTarget, CompiledHip } from './hip/kernel-abi.js';
import type { MfmaSize } from './hip/mfma-layout.js';
import { compilePtx } from './ptx/compile-ptx.js';
import type { CompiledPtx, NvidiaTarget } from './ptx/kernel-abi.js';
import { ToolchainError, ToolchainMissingError } from './toolchain/errors.js';
import { type AmdResourceReport, buildCodeObject } from './toolchain/clang.js';
import { assemble, type ResourceReport } from './toolchain/ptxas.js';

import { isAmdTarget, parseMfma, parseTarget } from './targets.js';

export { DEFAULT_TARGET, isAmdTarget, NVIDIA_TARGETS, parseMfma, parseTarget, type Target } from './targets.js';

/** Prints the code generator's diagnostics with the source line and a caret. */
function reportCodegenDiagnostics(io: CliIO, source: SourceText, diagnostics: readonly Diagnostic[]): void {
  reportDiagnostics(io, diagnostics.map((diagnostic) => ({ source, diagnostic })));
}

/**
 * Generates PTX for `ir` on `target`, printing every diagnostic (their spans point into FILE, whose
 * source also gives the PTX its `.loc` line info). Returns the compiled kernel, or the exit code to
 * stop with (1: the kernel cannot be compiled).
 */
export function compileToPtx(source: SourceText, ir: IRKernel, target: NvidiaTarget, io: CliIO): { compiled: CompiledPtx } | { exit: number } {
  const { compiled, diagnostics } = compilePtx(ir, target, source);
  reportCodegenDiagnostics(io, source, diagnostics);
  if (!compiled || hasErrors(diagnostics)) {
    if (!hasErrors(diagnostics)) io.err(`error: kernel '${ir.name}' could not be compiled for ${target}`);
    return { exit: EXIT_ERRORS };
  }
  return { compiled };
}

/** The same for HIP on an AMD target. */
export function compileToHip(source: SourceText, ir: IRKernel, target: AmdTarget, mfma: MfmaSize | undefined, io: CliIO): { compiled: CompiledHip } | { exit: number } {
  const { compiled, diagnostics } = compileHip(ir, target, { source, ...(mfma ? { mfma } : {}) });
  reportCodegenDiagnostics(io, source, diagnostics);
  if (!compiled || hasErrors(diagnostics)) {
    if (!hasErrors(diagnostics)) io.err(`error: kernel '${ir.name}' could not be compiled for ${target}`);
    return { exit: EXIT_ERRORS };
  }
  return { compiled };
}

/** `name [K=V,...]`, as the run and compile summaries print a kernel. */
export function kernelLabel(ir: IRKernel): string {
  const config = Object.entries(ir.config)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
  return `${ir.name}${config ? ` [${config}]` : ''}`;
}

export interface CompileOptions extends KernelOptions {
  /** `sm_80`, `sm_90a`, `gfx942` or `gfx90a` (required). */
  target: string;
  /** Output folder; default `.`. Created when missing. */
  outDir?: string;
  /** false (`--no-assemble`): write only the .ptx or .hip. */
  assemble?: boolean;
  /** AMD: the MFMA size, `16` or `32`. */
  mfma?: string;
}

/** What `<kernel>.<target>.json` holds. */
export interface CompiledManifest extends Omit<CompiledPtx, 'ptx'> {
  readonly kernel: string;
  readonly config: IRKernel['config'];
  /** ptxas's `-v` report for the entry. */
  readonly resources: ResourceReport | null;
  /** Wall time of the ptxas run, and its warnings. */
  readonly ptxas: { readonly ms: number; readonly warnings: readonly string[] };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function resourceLine(ir: IRKernel, compiled: CompiledPtx, r: ResourceReport | undefined, ptxasMs: number): string {
  const head = `${kernelLabel(ir)} for ${compiled.target}:`;
  const threads = `${compiled.threads} threads`;
  if (r === undefined) return `${head} ptxas printed no resource report for '${compiled.entry}'; ${threads}, ${compiled.dynamicSmem} bytes dynamic shared memory; ptxas ${ptxasMs.toFixed(0)} ms`;
  const spills = r.spillStoresBytes + r.spillLoadsBytes === 0 ? 'no spills' : `spills ${r.spillStoresBytes} bytes stored, ${r.spillLoadsBytes} bytes loaded`;
  return (
    `${head} ${plural(r.registers, 'register')}, ${spills}, ` +
    `shared memory ${r.sharedBytes} static + ${compiled.dynamicSmem} dynamic bytes, ${plural(r.barriers, 'barrier')}, ${threads}; ` +
    `ptxas ${ptxasMs.toFixed(0)} ms`
  );
}

/** What `<kernel>.<target>.json` holds for an AMD target. */
export interface CompiledHipManifest extends Omit<CompiledHip, 'source'> {
  readonly kernel: string;
  readonly config: IRKernel['config'];
  readonly mfma: MfmaSize;
  /** clang's report for the kernel. */
  readonly resources: AmdResourceReport | null;
  readonly clang: { readonly ms: number; readonly warnings: readonly string[] };
}

function amdResourceLine(ir: IRKernel, compiled: CompiledHip, r: AmdResourceReport | undefined, ms: number): string {
  const head = `${kernelLabel(ir)} for ${compiled.target}:`;
  const threads = `${compiled.threads} threads`;
  if (r === undefined) return `${head} clang reported no resources for '${compiled.entry}'; ${threads}, ${compiled.ldsBytes} bytes LDS; clang ${ms.toFixed(0)} ms`;
  const scratch = r.scratchBytes === 0 ? 'no scratch' : `scratch ${r.scratchBytes} bytes/lane (${r.vgprSpills} VGPR spills)`;
  return (
    `${head} ${plural(r.vgprs, 'VGPR')} + ${plural(r.agprs, 'AGPR')}, ${plural(r.sgprs, 'SGPR')}, ${scratch}, ` +
    `LDS ${r.ldsBytes} bytes, occupancy ${r.occupancyWavesPerSimd} waves/SIMD, ${threads}; clang ${ms.toFixed(0)} ms`
  );
}

export async function compileCommand(file: string, opts: CompileOptions, io: CliIO): Promise<number> {
  const target = parseTarget(opts.target);
  if (typeof target !== 'string') {
    io.err(`error: ${target.error}`);
    return EXIT_USAGE;
  }
  const mfma = parseMfma(opts.mfma);
  if (typeof mfma === 'object') {
    io.err(`error: ${mfma.error}`);
    return EXIT_USAGE;
  }
  if (mfma !== undefined && !isAmdTarget(target)) {
    io.err(`error: --mfma applies to AMD targets (${AMD_TARGETS.join(', ')}), not to ${target}`);
    return EXIT_USAGE;
  }
  const built = await buildFromFile(file, opts, io);
  if ('exit' in built) return built.exit;
  const { ir, source } = built;

  const dir = opts.outDir ?? '.';
  const base = join(dir, `${ir.name}.${target}`);
  const write = async (path: string, data: string | Uint8Array): Promise<boolean> => {
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(path, data);
      return true;
    } catch (e) {
      io.err(`error: cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  };
  if (isAmdTarget(target)) return compileAmd(source, ir, target, mfma, opts, base, write, io);

  const result = compileToPtx(source, ir, target, io);
  if ('exit' in result) return result.exit;
  const { compiled } = result;
  const ptxPath = `${base}.ptx`;
  if (!(await write(ptxPath, compiled.ptx))) return EXIT_USAGE;
  if (opts.assemble === false) {
    io.out(`${kernelLabel(ir)} for ${target}: ${compiled.threads} threads, ${compiled.dynamicSmem} bytes dynamic shared memory; wrote ${ptxPath}`);
    return EXIT_OK;
  }

  let assembled;
  try {
    assembled = await assemble(compiled.ptx, { arch: target, lineinfo: true });
  } catch (e) {
    if (e instanceof ToolchainMissingError) {
      io.err(`error: ${e.message}`);
      io.err(`(the PTX is in ${ptxPath}; --no-assemble writes only the PTX)`);
      return EXIT_ERRORS;
    }
    if (e instanceof ToolchainError) {
      // PTX that ptxas rejects is a code-generator bug; the message shows the line and how to reproduce it.
      io.err(e.format());
      io.err(`(the PTX is also in ${ptxPath})`);
      return EXIT_ERRORS;
    }
    throw e;
  }
  for (const w of assembled.warnings) io.err(`warning: ptxas: ${w}`);
  const report = assembled.report.find((r) => r.kind === 'entry' && r.function === compiled.entry) ?? assembled.report.find((r) => r.kind === 'entry');

  const { ptx: _ptx, ...contract } = compiled;
  const manifest: CompiledManifest = {
    kernel: ir.name,
    ...contract,
    config: ir.config,
    resources: report ?? null,
    ptxas: { ms: assembled.ms, warnings: assembled.warnings },
  };
  if (!(await write(`${base}.cubin`, assembled.cubin))) return EXIT_USAGE;
  if (!(await write(`${base}.json`, `${JSON.stringify(manifest, null, 2)}\n`))) return EXIT_USAGE;

  io.out(resourceLine(ir, compiled, report, assembled.ms));
  io.out(`wrote ${ptxPath}, ${base}.cubin, ${base}.json`);
  return EXIT_OK;
}

/** The AMD half of `compile`: HIP source, then clang's code object, assembly and report. */
async function compileAmd(
  source: SourceText,
  ir: IRKernel,
  target: AmdTarget,
  mfma: MfmaSize | undefined,
  opts: CompileOptions,
  base: string,
  write: (path: string, data: string | Uint8Array) => Promise<boolean>,
  io: CliIO,
): Promise<number> {
  const result = compileToHip(source, ir, target, mfma, io);
  if ('exit' in result) return result.exit;
  const { compiled } = result;
  const hipPath = `${base}.hip`;
  if (!(await write(hipPath, compiled.source))) return EXIT_USAGE;
  if (opts.assemble === false) {
    io.out(`${kernelLabel(ir)} for ${target}: ${compiled.threads} threads, ${compiled.ldsBytes} bytes LDS; wrote ${hipPath}`);
    return EXIT_OK;
  }
  let built;
  try {
    built = await buildCodeObject(compiled.source, { arch: target, fileName: `${ir.name}.${target}.hip` });
  } catch (e) {
    if (e instanceof ToolchainMissingError) {
      io.err(`error: ${e.message}`);
      io.err(`(the HIP source is in ${hipPath}; --no-assemble writes only the source)`);
      return EXIT_ERRORS;
    }
    if (e instanceof ToolchainError) {
      // HIP that clang rejects (other than for a target limit) is a code-generator bug.
      io.err(e.format());
      io.err(`(the HIP source is also in ${hipPath})`);
      return EXIT_ERRORS;
    }
    throw e;
  }
  for (const w of built.warnings) io.err(`warning: clang: ${w}`);
  const report = built.report.find((r) => r.kernel === compiled.entry) ?? built.report[0];
  const { source: _source, ...contract } = compiled;
  const manifest: CompiledHipManifest = {
    kernel: ir.name,
    ...contract,
    config: ir.config,
    mfma: mfma ?? DEFAULT_MFMA,
    resources: report ?? null,
    clang: { ms: built.ms, warnings: built.warnings },
  };
  if (!(await write(`${base}.hsaco`, built.codeObject ?? new Uint8Array()))) return EXIT_USAGE;
  if (!(await write(`${base}.s`, built.assembly ?? ''))) return EXIT_USAGE;
  if (!(await write(`${base}.json`, `${JSON.stringify(manifest, null, 2)}\n`))) return EXIT_USAGE;
  io.out(amdResourceLine(ir, compiled, report, built.ms));
  io.out(`wrote ${hipPath}, ${base}.hsaco, ${base}.s, ${base}.json`);
  return EXIT_OK;
}
