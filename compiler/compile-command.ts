/**
 * `tilekit compile FILE --target sm_80|sm_90a [-o DIR]`: builds one kernel in one configuration,
 * generates PTX for the target, assembles it with ptxas and writes
 * `DIR/<kernel>.<target>.ptx`, `.cubin` and `.json` (the launch contract of
 * compiler/ptx/kernel-abi.ts without the PTX text, the configuration and ptxas's resource report).
 *
 * Also the shared step "IR → PTX with diagnostics printed" that `tilekit run --backend emulate` uses.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, reportDiagnostics, type CliIO } from '../dsl/cli-io.js';
import { hasErrors, type Diagnostic } from '../dsl/diagnostic.js';
import { loadSourceFile } from '../dsl/load-source.js';
import { parseProgram } from '../dsl/parser.js';
import type { SourceText } from '../dsl/source.js';
import { buildFromFile, type KernelOptions } from './ir-command.js';
import type { IRKernel } from './ir.js';
import { compilePtx } from './ptx/compile-ptx.js';
import type { CompiledPtx, NvidiaTarget } from './ptx/kernel-abi.js';
import { ToolchainError, ToolchainMissingError } from './toolchain/errors.js';
import { assemble, type ResourceReport } from './toolchain/ptxas.js';

/** The targets the NVIDIA backend generates code for. */
export const NVIDIA_TARGETS: readonly NvidiaTarget[] = ['sm_80', 'sm_90a'];

export const DEFAULT_TARGET: NvidiaTarget = 'sm_80';

/** `--target` text → a target, or the usage error to print (exit 2). */
export function parseTarget(text: string): NvidiaTarget | { error: string } {
  const t = text.trim();
  const found = NVIDIA_TARGETS.find((n) => n === t);
  return found ?? { error: `--target: unknown target '${text}': expected one of ${NVIDIA_TARGETS.join(', ')}` };
}

/**
 * The tile source that defines kernel `name` in FILE (one per `tile` template in a `.ts` file),
 * for rendering the code generator's diagnostics; undefined when it cannot be found again.
 */
async function kernelSource(file: string, name: string): Promise<SourceText | undefined> {
  const { sources } = await loadSourceFile(file);
  if (sources.length <= 1) return sources[0];
  return sources.find((s) => parseProgram(s).program.kernels.some((k) => k.name.name === name));
}

/** Prints the code generator's diagnostics, with the source line and caret when the source is known. */
function reportCodegenDiagnostics(io: CliIO, source: SourceText | undefined, diagnostics: readonly Diagnostic[]): void {
  if (diagnostics.length === 0) return;
  if (source) {
    reportDiagnostics(io, diagnostics.map((diagnostic) => ({ source, diagnostic })));
    return;
  }
  for (const d of diagnostics) io.err(`${d.severity}[${d.code}]: ${d.message}${d.hint ? `\n  = hint: ${d.hint}` : ''}\n`);
}

/**
 * Generates PTX for `ir` on `target`, printing every diagnostic (their spans point into FILE, whose
 * source also gives the PTX its `.loc` line info). Returns the compiled kernel, or the exit code to
 * stop with (1: the kernel cannot be compiled).
 */
export async function compileToPtx(file: string, ir: IRKernel, target: NvidiaTarget, io: CliIO): Promise<{ compiled: CompiledPtx } | { exit: number }> {
  const source = await kernelSource(file, ir.name);
  const { compiled, diagnostics } = compilePtx(ir, target, source);
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
  /** `sm_80` or `sm_90a` (required). */
  target: string;
  /** Output folder; default `.`. Created when missing. */
  outDir?: string;
  /** false (`--no-ptxas`): write only the .ptx. */
  ptxas?: boolean;
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

export async function compileCommand(file: string, opts: CompileOptions, io: CliIO): Promise<number> {
  const target = parseTarget(opts.target);
  if (typeof target !== 'string') {
    io.err(`error: ${target.error}`);
    return EXIT_USAGE;
  }
  const built = await buildFromFile(file, opts, io);
  if ('exit' in built) return built.exit;
  const { ir } = built;
  const result = await compileToPtx(file, ir, target, io);
  if ('exit' in result) return result.exit;
  const { compiled } = result;

  const dir = opts.outDir ?? '.';
  const base = join(dir, `${ir.name}.${target}`);
  const ptxPath = `${base}.ptx`;
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
  if (!(await write(ptxPath, compiled.ptx))) return EXIT_USAGE;
  if (opts.ptxas === false) {
    io.out(`${kernelLabel(ir)} for ${target}: ${compiled.threads} threads, ${compiled.dynamicSmem} bytes dynamic shared memory; wrote ${ptxPath}`);
    return EXIT_OK;
  }

  let assembled;
  try {
    assembled = await assemble(compiled.ptx, { arch: target, lineinfo: true });
  } catch (e) {
    if (e instanceof ToolchainMissingError) {
      io.err(`error: ${e.message}`);
      io.err(`(the PTX is in ${ptxPath}; --no-ptxas writes only the PTX)`);
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
