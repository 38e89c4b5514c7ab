/**
 * `tilekit run FILE --backend B --args ARGS.json --out OUT.json`: builds one kernel, runs it on
 * the arguments in ARGS.json and writes every tensor to OUT.json (runtime/args.ts has the format).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { buildFromFile, type KernelOptions } from '../compiler/ir-command.js';
import { gridOf, interpret, InterpretError } from '../compiler/interpreter.js';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, type CliIO } from '../dsl/cli-io.js';
import { formatJson, formatOutputs, parseArgs } from './args.js';

/** Every backend name `--backend` accepts; those not built yet name what brings them. */
export const BACKENDS: Readonly<Record<string, { available: true } | { available: false; comesWith: string }>> = {
  interpret: { available: true },
  emulate: { available: false, comesWith: 'the NVIDIA backend (tile IR to PTX)' },
  'hip-cpu': { available: false, comesWith: 'the HIP CPU harness' },
  gpu: { available: false, comesWith: 'the native GPU addon' },
};

export const DEFAULT_BACKEND = 'interpret';

export interface RunOptions extends KernelOptions {
  backend?: string;
  /** Path of ARGS.json. */
  args: string;
  /** Path OUT.json is written to. */
  out: string;
}

export async function runCommand(file: string, opts: RunOptions, io: CliIO): Promise<number> {
  const backend = opts.backend ?? DEFAULT_BACKEND;
  const b = Object.hasOwn(BACKENDS, backend) ? BACKENDS[backend] : undefined;
  if (!b) {
    io.err(`error: unknown backend '${backend}': expected one of ${Object.keys(BACKENDS).join(', ')}`);
    return EXIT_USAGE;
  }
  if (!b.available) {
    io.err(`error: backend '${backend}' is not available yet: it comes with ${b.comesWith}`);
    return EXIT_USAGE;
  }

  let json: unknown;
  try {
    json = JSON.parse(await readFile(opts.args, 'utf8'));
  } catch (e) {
    const why = e instanceof SyntaxError ? `invalid JSON: ${e.message}` : `cannot read: ${e instanceof Error ? e.message : String(e)}`;
    io.err(`error: ${opts.args}: ${why}`);
    return EXIT_USAGE;
  }

  const built = await buildFromFile(file, opts, io);
  if ('exit' in built) return built.exit;
  const { ir } = built;

  const parsed = parseArgs(json, ir.params);
  if (!parsed.args) {
    for (const e of parsed.errors) io.err(`error: ${opts.args}: ${e}`);
    return EXIT_USAGE;
  }

  let grid: number[];
  const start = performance.now();
  try {
    grid = gridOf(ir, parsed.args);
    interpret(ir, parsed.args);
  } catch (e) {
    // Only the interpreter's own failures are the kernel's fault; anything else is a tilekit bug.
    if (!(e instanceof InterpretError)) throw e;
    io.err(`error: kernel '${ir.name}' failed at run time: ${e.message}`);
    return EXIT_ERRORS;
  }
  const elapsed = performance.now() - start;

  const output = formatOutputs(parsed.args, ir.params, { backend, config: ir.config });
  try {
    await writeFile(opts.out, `${formatJson(output)}\n`);
  } catch (e) {
    io.err(`error: cannot write ${opts.out}: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_USAGE;
  }
  const config = Object.entries(ir.config)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
  io.out(`${ir.name}${config ? ` [${config}]` : ''}: grid [${grid.join(', ')}] ran on ${backend} in ${elapsed.toFixed(2)} ms; wrote ${opts.out}`);
  return EXIT_OK;
}
