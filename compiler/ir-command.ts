/**
 * `tilekit ir FILE`: prints the IR of one kernel in one configuration. Also the shared front half
 * of the commands that build a kernel (`run`): reading `--config`/`--const`, choosing the source
 * that defines the kernel, and building its IR with diagnostics printed.
 */
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, reportDiagnostics, type CliIO } from '../dsl/cli-io.js';
import { hasErrors, type Diagnostic } from '../dsl/diagnostic.js';
import { loadSourceFile } from '../dsl/load-source.js';
import { parseProgram } from '../dsl/parser.js';
import type { SourceText } from '../dsl/source.js';
import { buildKernelIR } from './compile.js';
import type { IRKernel } from './ir.js';
import { printKernel } from './print.js';

/** The flags every command that builds one kernel takes. */
export interface KernelOptions {
  kernel?: string;
  /** Each entry is one `--config` occurrence: `K=V` or `K=V,K=V`. */
  config?: readonly string[];
  const?: readonly string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads the `K=V,K=V` lists of one flag (given once or repeated); every malformed entry is an error. */
export function parseAssignments(flag: string, lists: readonly string[]): { values: Map<string, string>; errors: string[] } {
  const values = new Map<string, string>();
  const errors: string[] = [];
  for (const list of lists) {
    for (const raw of list.split(',')) {
      const entry = raw.trim();
      if (entry === '') continue; // a trailing comma is harmless
      const eq = entry.indexOf('=');
      const name = eq < 0 ? '' : entry.slice(0, eq).trim();
      const value = eq < 0 ? '' : entry.slice(eq + 1).trim();
      if (!NAME.test(name) || value === '') {
        errors.push(`${flag}: expected NAME=VALUE, found '${entry}'`);
      } else if (values.has(name)) {
        errors.push(`${flag}: '${name}' is given twice (${values.get(name)} and ${value})`);
      } else {
        values.set(name, value);
      }
    }
  }
  return { values, errors };
}

/** `--config` and `--const` merged into the one map the compiler takes; a name in both is an error. */
export function parseOverrides(opts: KernelOptions): { overrides: Map<string, string>; errors: string[] } {
  const config = parseAssignments('--config', opts.config ?? []);
  const consts = parseAssignments('--const', opts.const ?? []);
  const errors = [...config.errors, ...consts.errors];
  const overrides = new Map(config.values);
  for (const [name, value] of consts.values) {
    if (overrides.has(name)) errors.push(`'${name}' is given in both --config and --const`);
    else overrides.set(name, value);
  }
  return { overrides, errors };
}

/**
 * The source that defines the kernel: a `.tile` file has one; a `.ts` file has one per template,
 * so pick the template whose program declares `kernelName` (or the only kernel when unnamed).
 */
function selectSource(
  file: string,
  sources: readonly SourceText[],
  kernelName: string | undefined,
): { source: SourceText } | { message: string; parseErrors: { source: SourceText; diagnostic: Diagnostic }[] } {
  if (sources.length === 1) return { source: sources[0]! };
  const found: { source: SourceText; name: string }[] = [];
  const parseErrors: { source: SourceText; diagnostic: Diagnostic }[] = [];
  for (const source of sources) {
    const { program, diagnostics } = parseProgram(source);
    for (const diagnostic of diagnostics) if (diagnostic.severity === 'error') parseErrors.push({ source, diagnostic });
    for (const k of program.kernels) found.push({ source, name: k.name.name });
  }
  const names = found.map((f) => f.name).join(', ') || 'none';
  if (kernelName === undefined) {
    if (found.length === 1) return { source: found[0]!.source };
    return { message: `${file} defines ${found.length} kernels (${names}); choose one with --kernel`, parseErrors };
  }
  const match = found.find((f) => f.name === kernelName);
  // Parse errors elsewhere in the file only matter when they may hide the kernel asked for.
  return match ? { source: match.source } : { message: `no kernel named '${kernelName}' in ${file}; it defines: ${names}`, parseErrors };
}

/**
 * Loads FILE and builds one kernel's IR, printing every diagnostic to io.err.
 * Returns the IR, or the exit code to stop with.
 */
export async function buildFromFile(file: string, opts: KernelOptions, io: CliIO): Promise<{ ir: IRKernel; source: SourceText } | { exit: number }> {
  const { overrides, errors } = parseOverrides(opts);
  if (errors.length > 0) {
    for (const e of errors) io.err(`error: ${e}`);
    return { exit: EXIT_USAGE };
  }
  const loaded = await loadSourceFile(file);
  if (loaded.sources.length === 0) {
    const { errors: n } = reportDiagnostics(io, loaded.diagnostics);
    if (n === 0) io.err(`error: ${file} defines no kernel`);
    return { exit: EXIT_ERRORS };
  }
  const chosen = selectSource(file, loaded.sources, opts.kernel);
  if ('message' in chosen) {
    reportDiagnostics(io, [...loaded.diagnostics, ...chosen.parseErrors]);
    io.err(`error: ${chosen.message}`);
    return { exit: EXIT_ERRORS };
  }
  const source = chosen.source;
  // Problems found while extracting other templates of a host file are not this kernel's.
  const loadDiags = loaded.diagnostics.filter((d) => d.source === source || !loaded.sources.includes(d.source));
  const built = buildKernelIR(source, opts.kernel, overrides);
  reportDiagnostics(io, [...loadDiags, ...built.diagnostics.map((diagnostic) => ({ source, diagnostic }))]);
  if (!built.ir || hasErrors(built.diagnostics) || loadDiags.some((d) => d.source === source && d.diagnostic.severity === 'error')) {
    if (!hasErrors(built.diagnostics) && !loadDiags.some((d) => d.diagnostic.severity === 'error')) {
      io.err(`error: kernel ${opts.kernel ? `'${opts.kernel}' ` : ''}could not be built`);
    }
    return { exit: EXIT_ERRORS };
  }
  return { ir: built.ir, source };
}

export async function irCommand(file: string, opts: KernelOptions, io: CliIO): Promise<number> {
  const built = await buildFromFile(file, opts, io);
  if ('exit' in built) return built.exit;
  io.out(printKernel(built.ir).replace(/\n$/, ''));
  return EXIT_OK;
}
