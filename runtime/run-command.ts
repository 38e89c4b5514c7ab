/**
 * `tilekit run FILE --backend B --args ARGS.json --out OUT.json`: builds one kernel, runs it on
 * the arguments in ARGS.json and writes every tensor to OUT.json (runtime/args.ts has the format).
 *
 * Backends: `interpret` (the reference interpreter), `emulate` (compiled to PTX for `--target`,
 * run in the PTX emulator with the sanitizer on; findings exit 3, as in `tilekit emulate`) and
 * `hip-cpu` (compiled to HIP for an AMD `--target`, built for the host by clang++ and run with
 * real threads: runtime/hip-cpu/) and `gpu` (compiled for the attached device — PTX through the
 * driver's JIT, or a HIP code object from clang-19 — and launched through runtime/gpu).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { compileToHip, compileToPtx, DEFAULT_TARGET, isAmdTarget, kernelLabel, NVIDIA_TARGETS, parseMfma, parseTarget, type Target } from '../compiler/compile-command.js';
import { AMD_TARGETS } from '../compiler/hip/compile-hip.js';
import { buildFromFile, type KernelOptions } from '../compiler/ir-command.js';
import { gridOf, interpret, InterpretError } from '../compiler/interpreter.js';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, type CliIO } from '../dsl/cli-io.js';
import { formatJson, formatOutputs, parseArgs, type OutputFile } from './args.js';
import { AbiArgsError } from './abi-args.js';
import { runOnEmulator } from './emulate-backend.js';
import { HipCpuError, runOnHipCpu } from './hip-cpu/hip-cpu-backend.js';
import { EXIT_FINDINGS } from './emulator/emulate-command.js';
import { formatFinding } from './emulator/findings.js';
import { EmulatorInputError, type Finding } from './emulator/types.js';
import type { MfmaSize } from '../compiler/hip/mfma-layout.js';
import { buildCodeObject } from '../compiler/toolchain/clang.js';
import { ToolchainError, ToolchainMissingError } from '../compiler/toolchain/errors.js';
import type { Device as GpuDevice } from './gpu/device.js';
import { GpuError } from './gpu/errors.js';

/** Every backend name `--backend` accepts. */
export const BACKENDS = ['interpret', 'emulate', 'hip-cpu', 'gpu'] as const;
type Backend = (typeof BACKENDS)[number];

export const DEFAULT_BACKEND = 'interpret';

export interface RunOptions extends KernelOptions {
  backend?: string;
  /** `--backend emulate`: `sm_80` (default) or `sm_90a`; `--backend hip-cpu`: `gfx942` (default) or `gfx90a`. */
  target?: string;
  /** `--backend hip-cpu`: the MFMA size, `16` or `32`. */
  mfma?: string;
  /** Path of ARGS.json. */
  args: string;
  /** Path OUT.json is written to. */
  out: string;
}

export async function runCommand(file: string, opts: RunOptions, io: CliIO): Promise<number> {
  const backend = (opts.backend ?? DEFAULT_BACKEND) as Backend;
  if (!BACKENDS.includes(backend)) {
    io.err(`error: unknown backend '${backend}': expected one of ${BACKENDS.join(', ')}`);
    return EXIT_USAGE;
  }
  let target: Target = backend === 'hip-cpu' ? 'gfx942' : DEFAULT_TARGET;
  if (opts.target !== undefined) {
    const t = parseTarget(opts.target);
    if (typeof t !== 'string') {
      io.err(`error: ${t.error}`);
      return EXIT_USAGE;
    }
    if (backend === 'interpret') {
      io.err(`error: --target applies to --backend emulate, hip-cpu and gpu, not to '${backend}'`);
      return EXIT_USAGE;
    }
    if (backend !== 'gpu' && isAmdTarget(t) !== (backend === 'hip-cpu')) {
      io.err(`error: --target ${t} does not fit --backend ${backend}: emulate runs NVIDIA targets (${NVIDIA_TARGETS.join(', ')}), hip-cpu AMD ones (${AMD_TARGETS.join(', ')})`);
      return EXIT_USAGE;
    }
    target = t;
  }
  const mfma = parseMfma(opts.mfma);
  if (typeof mfma === 'object' || (mfma !== undefined && backend !== 'hip-cpu' && backend !== 'gpu')) {
    io.err(`error: ${typeof mfma === 'object' ? mfma.error : `--mfma applies to --backend hip-cpu and gpu only, not to '${backend}'`}`);
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

  // The device first: without one there is nothing to compile for.
  let gpu: GpuDevice | undefined;
  if (backend === 'gpu') {
    const opened = await openGpu(opts.target === undefined ? undefined : target, io);
    if ('exit' in opened) return opened.exit;
    ({ device: gpu, target } = opened);
  }
  try {
    return await runBuilt(file, opts, json, backend, target, mfma, gpu, io);
  } finally {
    gpu?.dispose();
  }
}

/** Opens GPU 0 and picks its target (or checks the one given); prints why not and exits 1 otherwise. */
async function openGpu(given: Target | undefined, io: CliIO): Promise<{ device: GpuDevice; target: Target } | { exit: number }> {
  const { Device } = await import('./gpu/device.js');
  const { targetForDevice } = await import('./gpu-backend.js');
  let device: GpuDevice;
  try {
    device = Device.open(0);
  } catch (e) {
    if (!(e instanceof GpuError)) throw e;
    io.err(`error: --backend gpu: ${e.message}`);
    return { exit: EXIT_ERRORS };
  }
  const own = targetForDevice(device.info);
  // sm_80 code runs on Hopper too; sm_90a code only there; AMD code only on its own architecture.
  const fits = given === own || (given === 'sm_80' && own === 'sm_90a');
  if (own === undefined || (given !== undefined && !fits)) {
    device.dispose();
    io.err(`error: --backend gpu: ${device.info.name} (${device.info.arch}) ${own === undefined ? 'is not a device Tilekit generates code for (sm_80 and newer NVIDIA, gfx942, gfx90a)' : `cannot run ${given} code (it runs ${own})`}`);
    return { exit: EXIT_ERRORS };
  }
  return { device, target: given ?? own };
}

async function runBuilt(file: string, opts: RunOptions, json: unknown, backend: Backend, target: Target, mfma: MfmaSize | undefined, gpu: GpuDevice | undefined, io: CliIO): Promise<number> {
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
  const compiled = backend === 'interpret' ? undefined : isAmdTarget(target) ? compileToHip(built.source, ir, target, mfma, io) : compileToPtx(built.source, ir, target, io);
  if (compiled !== undefined && 'exit' in compiled) return compiled.exit;
  const start = performance.now();
  try {
    if (gpu !== undefined && compiled !== undefined) {
      const { runOnGpu } = await import('./gpu-backend.js');
      const image = 'source' in compiled.compiled ? (await buildCodeObject(compiled.compiled.source, { arch: compiled.compiled.target })).codeObject : undefined;
      grid = runOnGpu(gpu, compiled.compiled, ir, parsed.args, image).grid;
    } else if (compiled !== undefined && 'ptx' in compiled.compiled) {
      const run = runOnEmulator(compiled.compiled, ir, parsed.args);
      grid = run.grid;
      findings = run.findings;
      threadInstructions = run.stats.threadInstructions;
    } else if (compiled !== undefined && 'source' in compiled.compiled) {
      grid = (await runOnHipCpu(compiled.compiled, ir, parsed.args)).grid;
    } else {
      grid = gridOf(ir, parsed.args);
      interpret(ir, parsed.args);
    }
  } catch (e) {
    // The arguments do not fit the compiled kernel, the emulator cannot run its PTX, the HIP harness
    // cannot build or run it, or the interpreter stops the kernel: the kernel's failure, not tilekit's.
    if (e instanceof HipCpuError && e.kind === 'toolchain') {
      io.err(`error: ${e.message}`);
      return EXIT_ERRORS;
    }
    if (e instanceof ToolchainError || e instanceof ToolchainMissingError) {
      io.err(`error: ${e.message}`);
      return EXIT_ERRORS;
    }
    if (!(e instanceof AbiArgsError || e instanceof EmulatorInputError || e instanceof InterpretError || e instanceof HipCpuError || e instanceof GpuError)) throw e;
    io.err(`error: kernel '${ir.name}' failed ${compiled ? `on ${backend} (${target})` : 'at run time'}: ${e.message}`);
    return EXIT_ERRORS;
  }
  const elapsed = performance.now() - start;

  const formatted = formatOutputs(parsed.args, ir.params, { backend, config: ir.config });
  const output: OutputFile & { target?: Target; findings?: Finding[] } = !compiled
    ? formatted
    : { outputs: formatted.outputs, backend, target, config: formatted.config, ...(findings ? { findings } : {}) };
  try {
    await writeFile(opts.out, `${formatJson(output)}\n`);
  } catch (e) {
    io.err(`error: cannot write ${opts.out}: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_USAGE;
  }
  const where = compiled ? `${backend} (${target})` : backend;
  const summary = `${kernelLabel(ir)}: grid [${grid.join(', ')}] ran on ${where} in ${elapsed.toFixed(2)} ms`;
  if (findings === undefined) {
    io.out(`${summary}; wrote ${opts.out}`);
    return EXIT_OK;
  }
  for (const f of findings) io.err(`${formatFinding(f)}\n`);
  io.out(`${summary}, ${threadInstructions} thread-instructions, ${findings.length} sanitizer finding${findings.length === 1 ? '' : 's'}; wrote ${opts.out}`);
  return findings.length > 0 ? EXIT_FINDINGS : EXIT_OK;
}
