/**
 * `tilekit run FILE --backend B --args ARGS.json --out OUT.json`: builds one kernel, runs it on
 * the arguments in ARGS.json and writes every tensor to OUT.json (runtime/args.ts has the format).
 *
 * Backends: `interpret` (the reference interpreter) and `emulate` (compiled to PTX for `--target`,
 * run in the PTX emulator with the sanitizer on; findings exit 3, as in `tilekit emulate`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { compileToPtx, DEFAULT_TARGET, kernelLabel, parseTarget } from '../compiler/compile-command.js';
import { buildFromFile, type KernelOptions } from '../compiler/ir-command.js';
import { gridOf, interpret, InterpretError } from '../compiler/interpreter.js';
import type { NvidiaTarget } from '../compiler/ptx/kernel-abi.js';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, type CliIO } from '../dsl/cli-io.js';
import { formatJson, formatOutputs, parseArgs, type OutputFile } from './args.js';
import { AbiArgsError } from './abi-args.js';
import { runOnEmulator } from './emulate-backend.js';
import { EXIT_FINDINGS } from './emulator/emulate-command.js';
import { formatFinding } from './emulator/findings.js';
import { EmulatorInputError, type Finding } from './emulator/types.js';

/** Every backend name `--backend` accepts; those not built yet name what brings them. */
export const BACKENDS: Readonly<Record<string, { available: true } | { available: false; comesWith: string }>> = {
  interpret: { available: true },
  emulate: { available: true },
  'hip-cpu': { available: false, comesWith: 'the HIP CPU harness' },
  gpu: { available: false, comesWith: 'the native GPU addon' },
};

export const DEFAULT_BACKEND = 'interpret';

export interface RunOptions extends KernelOptions {
  backend?: string;
  /** `sm_80` (default) or `sm_90a`: the PTX target of `--backend emulate`. */
  target?: string;
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
  let target: NvidiaTarget = DEFAULT_TARGET;
  if (opts.target !== undefined) {
    const t = parseTarget(opts.target);
    if (typeof t !== 'string') {
      io.err(`error: ${t.error}`);
      return EXIT_USAGE;
    }
    if (backend !== 'emulate') {
      io.err(`error: --target applies to --backend emulate only, not to '${backend}'`);
      return EXIT_USAGE;
    }
    target = t;
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
  let findings: Finding[] | undefined;
  let threadInstructions = 0;
  const compiled = backend === 'emulate' ? await compileToPtx(file, ir, target, io) : undefined;
  if (compiled !== undefined && 'exit' in compiled) return compiled.exit;
  const start = performance.now();
  if (compiled !== undefined) {
    try {
      const run = runOnEmulator(compiled.compiled, ir, parsed.args);
      grid = run.grid;
      findings = run.findings;
      threadInstructions = run.stats.threadInstructions;
    } catch (e) {
      // The arguments do not fit the compiled kernel, or the emulator cannot run its PTX.
      if (!(e instanceof AbiArgsError || e instanceof EmulatorInputError || e instanceof InterpretError)) throw e;
      io.err(`error: kernel '${ir.name}' failed on the emulator (${target}): ${e.message}`);
      return EXIT_ERRORS;
    }
  } else {
    try {
      grid = gridOf(ir, parsed.args);
      interpret(ir, parsed.args);
    } catch (e) {
      // Only the interpreter's own failures are the kernel's fault; anything else is a tilekit bug.
      if (!(e instanceof InterpretError)) throw e;
      io.err(`error: kernel '${ir.name}' failed at run time: ${e.message}`);
      return EXIT_ERRORS;
    }
  }
  const elapsed = performance.now() - start;

  const formatted = formatOutputs(parsed.args, ir.params, { backend, config: ir.config });
  const output: OutputFile & { target?: NvidiaTarget; findings?: Finding[] } =
    findings === undefined ? formatted : { outputs: formatted.outputs, backend, target, config: formatted.config, findings };
  try {
    await writeFile(opts.out, `${formatJson(output)}\n`);
  } catch (e) {
    io.err(`error: cannot write ${opts.out}: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_USAGE;
  }
  const where = findings === undefined ? backend : `${backend} (${target})`;
  const summary = `${kernelLabel(ir)}: grid [${grid.join(', ')}] ran on ${where} in ${elapsed.toFixed(2)} ms`;
  if (findings === undefined) {
    io.out(`${summary}; wrote ${opts.out}`);
    return EXIT_OK;
  }
  for (const f of findings) io.err(`${formatFinding(f)}\n`);
  io.out(`${summary}, ${threadInstructions} thread-instructions, ${findings.length} sanitizer finding${findings.length === 1 ? '' : 's'}; wrote ${opts.out}`);
  return findings.length > 0 ? EXIT_FINDINGS : EXIT_OK;
}
