/**
 * The `tilekit` command line (docs/cli.md). Only argument parsing lives here: each command is a
 * function in its own layer, taking a CliIO, so everything runs in-process under tests.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { checkCommand } from '../dsl/check-command.js';
import { EXIT_ERRORS, EXIT_USAGE, processIO, type CliIO } from '../dsl/cli-io.js';
import type { Backend as SelftestBackend } from '../kernels/selftest-command.js';
import type { SelectFlags } from '../runtime/pack/select-command.js';
import type { PackFlags } from '../tuner/pack-command.js';
import type { ResultsOptions as ResultsFlags } from '../tuner/results-command.js';
import type { TuneOptions as TuneFlags } from '../tuner/tune-command.js';

// Listed here, not imported: the CLI loads each command's module only when it runs.
const SELFTEST_BACKENDS: readonly SelftestBackend[] = ['interpret', 'emulate', 'hip-cpu', 'gpu'];

export { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, processIO, type CliIO } from '../dsl/cli-io.js';

function wholeNumber(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(v);
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!/^\s*[\d.]+\s*$/.test(v) || !(n > 0)) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

/** Collects a repeatable flag's values in order. */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface KernelFlags {
  kernel?: string;
  config: string[];
  const: string[];
}

function addKernelFlags(cmd: Command): Command {
  return cmd
    .option('-k, --kernel <name>', 'the kernel to build (optional when the file defines one)')
    .option('--config <K=V,...>', 'tunable values, e.g. BM=64,BN=128 (repeatable)', collect, [])
    .option('--const <K=V,...>', 'constant values, e.g. dtype=bf16,causal=true (repeatable)', collect, []);
}

/**
 * Parses argv and runs one command; returns the exit code (0 ok, 1 errors in the kernel or at run time,
 * 2 bad usage, 3 sanitizer findings from `emulate` or `run --backend emulate`).
 */
export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  let code = 0;
  // Commander writes chunks that end in a newline; CliIO adds its own.
  const trim = (s: string): string => s.replace(/\n$/, '');
  const program = new Command('tilekit')
    .description('Tile-language GPU kernel compiler: check, inspect and run kernels')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(trim(s)), writeErr: (s) => io.err(trim(s)) })
    .showHelpAfterError('(run with --help for usage)');
  // Subcommands copy these settings when they are created, so set them first.
  program.showSuggestionAfterError(true);

  program
    .command('check')
    .description('check every kernel of each file in every configuration')
    .argument('<files...>', '.tile files, or .ts files with tile`…` templates')
    .action(async (files: string[]) => {
      code = await checkCommand(files, io);
    });

  // ir, run and compile load the compiler on demand: `check` does not need it.
  addKernelFlags(program.command('ir').description("print one kernel's IR in one configuration").argument('<file>', 'a .tile or .ts file')).action(
    async (file: string, flags: KernelFlags) => {
      const { irCommand } = await import('../compiler/ir-command.js');
      code = await irCommand(file, flags, io);
    },
  );

  addKernelFlags(program.command('run').description('run one kernel on the arguments in a JSON file').argument('<file>', 'a .tile or .ts file'))
    .option('-b, --backend <name>', 'interpret, emulate, hip-cpu or gpu', 'interpret')
    .option('--target <arch>', 'emulate: sm_80 (default) or sm_90a; hip-cpu: gfx942 (default) or gfx90a')
    .option('--mfma <size>', 'hip-cpu: MFMA instruction size, 16 (default) or 32')
    .requiredOption('--args <ARGS.json>', 'the arguments: tensors and scalars')
    .requiredOption('--out <OUT.json>', 'where every tensor is written after the run')
    .action(async (file: string, flags: KernelFlags & { backend: string; target?: string; mfma?: string; args: string; out: string }) => {
      const { runCommand } = await import('../runtime/run-command.js');
      code = await runCommand(file, flags, io);
    });

  addKernelFlags(
    program
      .command('compile')
      .description('compile one kernel: PTX assembled by ptxas (.ptx, .cubin, .json) or HIP compiled by clang-19 (.hip, .hsaco, .s, .json)')
      .argument('<file>', 'a .tile or .ts file'),
  )
    .requiredOption('--target <arch>', 'sm_80, sm_90a (NVIDIA) or gfx942, gfx90a (AMD)')
    .option('-o, --out-dir <dir>', 'where <kernel>.<target>.* are written', '.')
    .option('--no-assemble', 'write only the .ptx or .hip (do not run ptxas or clang)')
    .option('--mfma <size>', 'AMD: MFMA instruction size, 16 (16x16x16, default) or 32 (32x32x8)')
    .action(async (file: string, flags: KernelFlags & { target: string; outDir: string; assemble: boolean; mfma?: string }) => {
      const { compileCommand } = await import('../compiler/compile-command.js');
      code = await compileCommand(file, flags, io);
    });

  program
    .command('emulate')
    .description('run a PTX kernel on the CPU with sanitizer checks and memory statistics')
    .argument('<file>', 'a .ptx file')
    .requiredOption('-k, --kernel <name>', 'the .entry to run')
    .requiredOption('--grid <X[,Y,Z]>', 'CTAs in the grid')
    .requiredOption('--block <X[,Y,Z]>', 'threads in a CTA')
    .option('--smem <bytes>', 'dynamic shared memory per CTA')
    .option('--max-steps <n>', 'stop after this many thread-instructions (a hang is reported, not waited for)')
    .requiredOption('--args <ARGS.json>', 'the arguments, one per kernel parameter')
    .requiredOption('--out <OUT.json>', 'buffers, sanitizer findings and statistics after the run')
    .action(async (file: string, flags: { kernel: string; grid: string; block: string; smem?: string; maxSteps?: string; args: string; out: string }) => {
      const { emulateCommand } = await import('../runtime/emulator/emulate-command.js');
      code = await emulateCommand(file, flags, io);
    });

  program
    .command('tune')
    .description('search a kernel\'s configurations per shape: offline times are modeled (--backend model, emulate), --backend gpu measures')
    .argument('<file>', 'a .tile or .ts file')
    .option('-k, --kernel <name>', 'the kernel (needed when the file has several)')
    .requiredOption('--target <arch>', 'sm_80, sm_90a, gfx942 or gfx90a')
    .option('--device <name>', 'the card to model: h100, h200, a100 or mi300x (needed where a target runs on several)')
    .requiredOption('--shapes <list>', 'shapes to tune, e.g. "M=4096,N=4096,K=4096;M=1,N=4096,K=4096"')
    .option('--const <K=V,...>', 'constant values, e.g. dtype=bf16 (repeatable)', collect, [])
    .option('--strategy <name>', 'exhaustive, random or guided', 'guided')
    .option('--budget <n|ns>', 'per shape: N evaluations, or N seconds with an s (default: until the space is exhausted)')
    .option('--backend <name>', 'model (offline), emulate or gpu', 'model')
    .option('--seed <n>', 'seed of the search', wholeNumber, 1)
    .option('--db <path>', 'the results database', '.tilekit/results.db')
    .option('--mfma <size>', 'AMD: MFMA instruction size, 16 or 32')
    .option('--parallel <n>', 'configurations evaluated at once per shape (the guided search picks batches of this size)', wholeNumber, 4)
    .option('--compile-timeout <s>', 'seconds ptxas/clang may take on one configuration before it is killed (recorded as timeout)', positiveNumber, 120)
    .option('--launch-timeout <s>', '--backend gpu: seconds one launch may take before its process is killed (recorded as timeout)', positiveNumber, 60)
    .action(async (file: string, flags: TuneFlags) => {
      const { tuneCommand } = await import('../tuner/tune-command.js');
      code = await tuneCommand(file, flags, io);
    });

  program
    .command('results')
    .description('list what tuning runs recorded, best first; every time labeled measured or modeled')
    .option('-k, --kernel <name>', 'only this kernel')
    .option('--target <arch>', 'only this target')
    .option('--device <name>', 'only this device')
    .option('--format <f>', 'table, csv or json', 'table')
    .option('--db <path>', 'the results database', '.tilekit/results.db')
    .action(async (flags: ResultsFlags) => {
      const { resultsCommand } = await import('../tuner/results-command.js');
      code = resultsCommand(flags, io);
    });

  const pack = program
    .command('pack')
    .description('write a kernel pack: dispatch tables and rebuilt binaries of the tuned configurations, with a manifest (docs/pack-format.md)')
    .option('--db <path>', 'the results database', '.tilekit/results.db')
    .option('--out <dir>', 'the folder to write (DIR.tgz is written next to it)')
    .option('--kernels <a,b>', 'only these kernels')
    .option('--targets <t1,t2>', 'only these targets, e.g. sm_90a,gfx942')
    .option('--force', 'replace a non-empty --out folder')
    .action(async (flags: PackFlags) => {
      const { packCommand } = await import('../tuner/pack-command.js');
      code = await packCommand(flags, io);
    });
  pack
    .command('verify')
    .description("check a pack: its manifest, every file's size and sha256, every dispatched binary")
    .argument('<pack>', 'a pack folder or .tgz')
    .action(async (path: string) => {
      const { packVerifyCommand } = await import('../tuner/pack-command.js');
      code = packVerifyCommand(path, io);
    });
  pack
    .command('inspect')
    .description('summarize a pack: kernels, targets, devices, buckets and their configurations')
    .argument('<pack>', 'a pack folder or .tgz')
    .option('--format <f>', 'text or json', 'text')
    .action(async (path: string, flags: { format?: string }) => {
      const { packInspectCommand } = await import('../tuner/pack-command.js');
      code = packInspectCommand(path, flags, io);
    });

  pack
    .command('select')
    .description('what the runtime launches for one call: the binary a pack dispatches to for a shape, its grid, block and shared memory')
    .argument('<pack>', 'a pack folder or .tgz')
    .requiredOption('-k, --kernel <name>', 'the kernel')
    .requiredOption('--target <arch>', 'sm_80, sm_90a, gfx942 or gfx90a')
    .option('--device <name>', 'the device the table was tuned for (needed when the pack has several)')
    .option('--const <K=V,...>', 'constants of the table, e.g. dtype=bf16 (needed when the pack has several)', collect, [])
    .requiredOption('--shape <K=V,...>', 'every shape symbol, e.g. M=1,N=4096,K=4096')
    .option('--scalar <K=V,...>', 'scalar arguments the grid reads (repeatable)', collect, [])
    .option('--format <f>', 'text or json', 'text')
    .action(async (path: string, flags: SelectFlags) => {
      const { packSelectCommand } = await import('../runtime/pack/select-command.js');
      code = packSelectCommand(path, flags, io);
    });

  program
    .command('devices')
    .description('list the attached GPUs (CUDA driver or HIP runtime) through the native addon')
    .action(async () => {
      const { devicesCommand } = await import('../runtime/gpu/devices-command.js');
      code = await devicesCommand(io);
    });

  program
    .command('lsp')
    .description('the language server (LSP) for .tile files and tile`…` templates in .ts files, for any LSP editor')
    .option('--stdio', 'talk LSP over standard input and output (the only transport)')
    .action(async (flags: { stdio?: boolean }) => {
      if (!flags.stdio) {
        io.err('error: tilekit lsp needs --stdio: the server talks LSP over standard input and output');
        code = EXIT_USAGE;
        return;
      }
      const { serveStdio } = await import('../extension/lsp/server.js');
      serveStdio();
    });

  program
    .command('selftest')
    .description('run the shipped kernels at ragged shapes against their float64 references')
    .option('--seed <n>', 'seed of the random inputs', wholeNumber, 20261129)
    .option('-k, --kernel <name>', 'only this kernel (repeatable)', collect, [])
    .option('-b, --backend <name>', 'only this backend: interpret, emulate, hip-cpu or gpu (repeatable; gpu runs by default where a GPU is attached)', (v: string, prev: SelftestBackend[]) => {
      const b = SELFTEST_BACKENDS.find((x) => x === v);
      if (!b) throw new InvalidArgumentError(`expected one of ${SELFTEST_BACKENDS.join(', ')}`);
      return [...prev, b];
    }, [] as SelftestBackend[])
    .action(async (flags: { seed: number; kernel: string[]; backend: SelftestBackend[] }) => {
      const { selftestCommand } = await import('../kernels/selftest-command.js');
      code = await selftestCommand({ seed: flags.seed, kernels: flags.kernel, backends: flags.backend }, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE; // --help, or a usage error already printed
    // A bug in tilekit, not in the kernel: say so, with the stack to report.
    io.err(`tilekit: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return EXIT_ERRORS;
  }
  return code;
}
