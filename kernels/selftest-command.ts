/**
 * `tilekit selftest`: every shipped kernel at ragged shapes, on seeded random inputs, through each
 * backend this machine can run, against its float64 reference. One line per case as it finishes,
 * then a summary; exit 1 when any case fails. Each line names the rung of the verification
 * ladder the case reached: L1 the interpreter matches the reference; L3 the PTX the NVIDIA backend
 * emits assembles with ptxas (L2) and, run in the PTX emulator, matches with the sanitizer clean.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKernelIR } from '../compiler/compile.js';
import { type KernelArgs, interpret } from '../compiler/interpreter.js';
import type { IRKernel } from '../compiler/ir.js';
import { compilePtx } from '../compiler/ptx/compile-ptx.js';
import { assemble, findPtxas } from '../compiler/toolchain/ptxas.js';
import { runOnEmulator } from '../runtime/emulate-backend.js';
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
  /** Only these backends (default: every one this machine has). */
  backends?: readonly ('interpret' | 'emulate')[];
}

type Backend = 'interpret' | 'emulate';

/** One backend's run of a case: the error against the reference, findings, the rung reached. */
async function runCase(
  backend: Backend,
  ir: IRKernel,
  src: SourceText,
  make: () => { args: KernelArgs; reference: Float64Array },
  output: string,
  tolerance: number,
  ptxas: boolean,
): Promise<{ err: number; ok: boolean; rung: string; note: string }> {
  const { args, reference } = make();
  let findings = 0;
  let note = '';
  let rung = 'L1';
  if (backend === 'interpret') interpret(ir, args);
  else {
    const r = compilePtx(ir, 'sm_80', src);
    if (!r.compiled) return { err: Infinity, ok: false, rung: 'L0', note: `does not compile: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}` };
    rung = 'L3';
    if (ptxas) {
      try {
        await assemble(r.compiled.ptx, { arch: 'sm_80' });
      } catch (e) {
        return { err: Infinity, ok: false, rung: 'L1', note: `ptxas rejects it: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
      }
    } else note = 'ptxas not found: L2 not checked';
    findings = runOnEmulator(r.compiled, ir, args).findings.length;
    if (findings > 0) note = `${findings} sanitizer finding(s): run it with \`tilekit run --backend emulate\``;
  }
  const out = args.get(output);
  const err = out && typeof out !== 'number' ? relL2(out.data, reference) : Infinity;
  const ok = err <= tolerance && findings === 0;
  return { err, ok, rung: ok ? rung : backend === 'emulate' ? 'L2' : 'L0', note };
}

export async function selftestCommand(opts: SelftestOptions, io: CliIO): Promise<number> {
  const cases = selftestCases().filter((c) => !opts.kernels?.length || opts.kernels.includes(c.kernel));
  if (cases.length === 0) {
    io.err(`error: no selftest case for kernel ${opts.kernels?.join(', ')}; kernels: ${[...new Set(selftestCases().map((c) => c.kernel))].join(', ')}`);
    return EXIT_USAGE;
  }
  const backends: Backend[] = opts.backends?.length ? [...opts.backends] : ['interpret', 'emulate'];
  const ptxas = findPtxas() !== undefined;
  const dir = shippedKernelsDir();
  io.out(`tilekit selftest: ${cases.length} cases × ${backends.join(' + ')}, seed ${opts.seed}${ptxas ? '' : ' (ptxas not found: PTX is emulated without assembling it)'}`);
  io.out(`${'kernel'.padEnd(12)} ${'constants'.padEnd(34)} ${'shape'.padEnd(36)} ${'backend'.padEnd(10)} ${'rel L2'.padStart(9)} ${'tol'.padStart(7)}  rung  result     ms`);
  let failed = 0;
  let runs = 0;
  for (const [i, c] of cases.entries()) {
    const path = join(dir, c.file);
    const src = new SourceText(path, readFileSync(path, 'utf8'));
    const consts = Object.entries(c.consts).map(([k, v]) => `${k}=${v}`).join(',');
    const { ir, diagnostics } = buildKernelIR(src, c.kernel, new Map(Object.entries(c.consts)));
    if (!ir) {
      reportDiagnostics(io, diagnostics.map((diagnostic) => ({ source: src, diagnostic })));
      io.out(`${c.kernel.padEnd(12)} ${consts.padEnd(34)} ${c.shape.padEnd(36)} ${'-'.padEnd(10)} ${'-'.padStart(9)} ${'-'.padStart(7)}  L0    FAIL (does not build)`);
      failed++;
      runs++;
      continue;
    }
    const seed = opts.seed + i;
    for (const backend of backends) {
      const t0 = performance.now();
      const r = await runCase(backend, ir, src, () => c.make(seed), c.output, c.tolerance, ptxas);
      runs++;
      if (!r.ok) failed++;
      const ms = (performance.now() - t0).toFixed(0);
      const tail = [r.note, r.ok ? '' : `replay: --seed ${opts.seed} (case seed ${seed})`].filter(Boolean).join('; ');
      io.out(
        `${c.kernel.padEnd(12)} ${consts.padEnd(34)} ${c.shape.padEnd(36)} ${backend.padEnd(10)} ${r.err.toExponential(2).padStart(9)} ${c.tolerance.toExponential(0).padStart(7)}  ${r.rung}    ${r.ok ? 'ok  ' : 'FAIL'} ${ms.padStart(7)}${tail ? `  (${tail})` : ''}`,
      );
    }
  }
  io.out(`${runs - failed} passed, ${failed} failed (default configuration of each kernel; emulate: PTX for sm_80 in the PTX emulator, sanitizer on)`);
  return failed === 0 ? EXIT_OK : EXIT_ERRORS;
}
