/**
 * `tilekit selftest`: every shipped kernel at ragged shapes, on seeded random inputs, through each
 * backend this machine can run, against its float64 reference. One line per case as it finishes,
 * then a summary; exit 1 when any case fails. Each line names the rung of the verification
 * ladder the case reached (L0 checked, L1 interpreter matches the reference).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKernelIR } from '../compiler/compile.js';
import { interpret } from '../compiler/interpreter.js';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, reportDiagnostics, type CliIO } from '../dsl/cli-io.js';
import { SourceText } from '../dsl/source.js';
import { relL2 } from '../runtime/compare.js';
import { selftestCases } from './selftest.js';

/** The folder holding the shipped `.tile` files, from the source tree or from dist/. */
export function shippedKernelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'kernels', 'gemm.tile'))) return join(dir, 'kernels');
    if (existsSync(join(dir, 'gemm.tile'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the shipped kernels (kernels/gemm.tile) next to tilekit');
}

export interface SelftestOptions {
  seed: number;
  /** Only cases of these kernels. */
  kernels?: readonly string[];
}

export async function selftestCommand(opts: SelftestOptions, io: CliIO): Promise<number> {
  const cases = selftestCases().filter((c) => !opts.kernels?.length || opts.kernels.includes(c.kernel));
  if (cases.length === 0) {
    io.err(`error: no selftest case for kernel ${opts.kernels?.join(', ')}; kernels: ${[...new Set(selftestCases().map((c) => c.kernel))].join(', ')}`);
    return EXIT_USAGE;
  }
  const dir = shippedKernelsDir();
  io.out(`tilekit selftest: ${cases.length} cases, seed ${opts.seed}, backends: interpret (the only one on this machine so far)`);
  io.out(`${'kernel'.padEnd(12)} ${'constants'.padEnd(34)} ${'shape'.padEnd(36)} ${'rel L2'.padStart(9)} ${'tol'.padStart(7)}  rung  result   ms`);
  let failed = 0;
  for (const [i, c] of cases.entries()) {
    const path = join(dir, c.file);
    const src = new SourceText(path, readFileSync(path, 'utf8'));
    const consts = Object.entries(c.consts).map(([k, v]) => `${k}=${v}`).join(',');
    const t0 = performance.now();
    const { ir, diagnostics } = buildKernelIR(src, c.kernel, new Map(Object.entries(c.consts)));
    if (!ir) {
      reportDiagnostics(io, diagnostics.map((diagnostic) => ({ source: src, diagnostic })));
      io.out(`${c.kernel.padEnd(12)} ${consts.padEnd(34)} ${c.shape.padEnd(36)} ${'-'.padStart(9)} ${'-'.padStart(7)}  -     FAIL (does not build)`);
      failed++;
      continue;
    }
    const seed = opts.seed + i;
    const { args, reference } = c.make(seed);
    interpret(ir, args);
    const out = args.get(c.output);
    const err = out && typeof out !== 'number' ? relL2(out.data, reference) : Infinity;
    const ok = err <= c.tolerance;
    if (!ok) failed++;
    const ms = (performance.now() - t0).toFixed(0);
    io.out(
      `${c.kernel.padEnd(12)} ${consts.padEnd(34)} ${c.shape.padEnd(36)} ${err.toExponential(2).padStart(9)} ${c.tolerance.toExponential(0).padStart(7)}  ${ok ? 'L1' : 'L0'}    ${ok ? 'ok  ' : 'FAIL'} ${ms.padStart(5)}${ok ? '' : `  (replay: --seed ${opts.seed}, case seed ${seed})`}`,
    );
  }
  io.out(`${cases.length - failed} passed, ${failed} failed (interpreter, default configuration of each kernel)`);
  return failed === 0 ? EXIT_OK : EXIT_ERRORS;
}
