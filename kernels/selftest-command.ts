/**
 * `tilekit selftest`: every shipped kernel at ragged shapes, on seeded random inputs, through each
 * backend this machine can run, against its float64 reference. One line per case as it finishes,
 * then a summary; exit 1 when any case fails. Each line names the rung of the verification
 * ladder the case reached: L1 the interpreter matches the reference; L3 the PTX the NVIDIA backend
 * emits assembles with ptxas (L2) and, run in the PTX emulator, matches with the sanitizer clean;
 * L3 for `hip-cpu`: the HIP the AMD backend emits compiles for gfx942 with clang-19 (L2) and, built
 * for the host and run by the CPU harness, matches. L4 for `gpu`: compiled for the attached device
 * and run on it through the native addon, it matches (run only where a GPU driver and device are).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildKernelIR } from '../compiler/compile.js';
import { type KernelArgs, interpret } from '../compiler/interpreter.js';
import type { IRKernel } from '../compiler/ir.js';
import { compileHip } from '../compiler/hip/compile-hip.js';
import { compilePtx } from '../compiler/ptx/compile-ptx.js';
import { buildCodeObject, findClang } from '../compiler/toolchain/clang.js';
import { assemble, findPtxas } from '../compiler/toolchain/ptxas.js';
import { runOnEmulator } from '../runtime/emulate-backend.js';
import { findClangxx, runOnHipCpu } from '../runtime/hip-cpu/hip-cpu-backend.js';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, reportDiagnostics, type CliIO } from '../dsl/cli-io.js';
import { SourceText } from '../dsl/source.js';
import { relL2 } from '../runtime/compare.js';
import { selftestCases } from './selftest.js';
import { isAmdTarget } from '../compiler/compile-command.js';
import { runOnGpu, targetForDevice } from '../runtime/gpu-backend.js';
import type { Device } from '../runtime/gpu/device.js';
import { GpuError } from '../runtime/gpu/errors.js';

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
  backends?: readonly Backend[];
}

export const SELFTEST_BACKENDS = ['interpret', 'emulate', 'hip-cpu', 'gpu'] as const;
export type Backend = (typeof SELFTEST_BACKENDS)[number];

/** What this machine has: ptxas for L2 of the PTX path; clang-19 (device) and clang++-19 (harness) for the AMD path. */
interface Tools {
  readonly ptxas: boolean;
  readonly clang: boolean;
  /** The attached device, when the gpu backend runs. */
  readonly gpu?: Device;
}

/** The first line of an error's message. */
function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

/** One backend's run of a case: the error against the reference, findings, the rung reached. */
async function runCase(
  backend: Backend,
  ir: IRKernel,
  src: SourceText,
  make: () => { args: KernelArgs; reference: Float64Array },
  output: string,
  tolerance: number,
  tools: Tools,
): Promise<{ err: number; ok: boolean; rung: string; note: string }> {
  const { args, reference } = make();
  let findings = 0;
  let note = '';
  let rung = 'L1';
  const failed = (why: string, at = 'L0') => ({ err: Infinity, ok: false, rung: at, note: why });
  if (backend === 'interpret') interpret(ir, args);
  else if (backend === 'emulate') {
    const r = compilePtx(ir, 'sm_80', src);
    if (!r.compiled) return failed(`does not compile: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
    rung = 'L3';
    if (tools.ptxas) {
      try {
        await assemble(r.compiled.ptx, { arch: 'sm_80' });
      } catch (e) {
        return failed(`ptxas rejects it: ${firstLine(e)}`, 'L1');
      }
    } else note = 'ptxas not found: L2 not checked';
    findings = runOnEmulator(r.compiled, ir, args).findings.length;
    if (findings > 0) note = `${findings} sanitizer finding(s): run it with \`tilekit run --backend emulate\``;
  } else if (backend === 'gpu') {
    const device = tools.gpu!;
    const target = targetForDevice(device.info)!;
    const r = isAmdTarget(target) ? compileHip(ir, target, { source: src }) : compilePtx(ir, target, src);
    if (!r.compiled) return failed(`does not compile for ${target}: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
    rung = 'L4';
    note = `${device.info.name}, ${target}`;
    try {
      const image = 'source' in r.compiled ? (await buildCodeObject(r.compiled.source, { arch: r.compiled.target })).codeObject : undefined;
      runOnGpu(device, r.compiled, ir, args, image);
    } catch (e) {
      return failed(`the GPU run failed: ${firstLine(e)}`, 'L2');
    }
  } else {
    const r = compileHip(ir, 'gfx942', { source: src });
    if (!r.compiled) return failed(`does not compile: ${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('; ')}`);
    rung = 'L3';
    try {
      const built = await buildCodeObject(r.compiled.source, { arch: 'gfx942', emit: ['assembly'] });
      const scratch = built.report.find((x) => x.kernel === ir.name)?.scratchBytes ?? 0;
      if (scratch > 0) note = `gfx942: ${scratch} bytes/lane of scratch (register spills)`;
    } catch (e) {
      return failed(`clang-19 rejects it for gfx942: ${firstLine(e)}`, 'L1');
    }
    try {
      await runOnHipCpu(r.compiled, ir, args);
    } catch (e) {
      return failed(`the HIP CPU harness failed: ${firstLine(e)}`, 'L2');
    }
  }
  const out = args.get(output);
  const err = out && typeof out !== 'number' ? relL2(out.data, reference) : Infinity;
  const ok = err <= tolerance && findings === 0;
  return { err, ok, rung: ok ? rung : backend === 'interpret' ? 'L0' : 'L2', note };
}

export async function selftestCommand(opts: SelftestOptions, io: CliIO): Promise<number> {
  const cases = selftestCases().filter((c) => !opts.kernels?.length || opts.kernels.includes(c.kernel));
  if (cases.length === 0) {
    io.err(`error: no selftest case for kernel ${opts.kernels?.join(', ')}; kernels: ${[...new Set(selftestCases().map((c) => c.kernel))].join(', ')}`);
    return EXIT_USAGE;
  }
  const tools: Tools = { ptxas: findPtxas() !== undefined, clang: findClang() !== undefined && findClangxx() !== undefined };
  const notes: string[] = [];
  if (!tools.ptxas) notes.push('ptxas not found: PTX is emulated without assembling it');
  // The AMD path needs clang-19 for both the device compile and the host harness: no silent L3 without it.
  let backends: Backend[] = opts.backends?.length ? [...opts.backends] : [...SELFTEST_BACKENDS];
  // The gpu backend runs where a driver and a device Tilekit generates code for are; asked for explicitly, their absence is an error.
  let gpu: Device | undefined;
  if (backends.includes('gpu')) {
    const found = await openSelftestGpu();
    if ('device' in found) gpu = found.device;
    else if (opts.backends?.includes('gpu')) {
      io.err(`error: --backend gpu: ${found.why}`);
      return EXIT_ERRORS;
    } else {
      backends = backends.filter((b) => b !== 'gpu');
      notes.push(`gpu not run: ${found.why.split(':')[0]}`);
    }
  }
  try {
    return await runSelftest(opts, io, cases, backends, { ...tools, ...(gpu ? { gpu } : {}) }, notes);
  } finally {
    gpu?.dispose();
  }
}

/** GPU 0, if there is a driver and it is a device Tilekit generates code for. */
async function openSelftestGpu(): Promise<{ device: Device } | { why: string }> {
  const { Device: GpuDevice } = await import('../runtime/gpu/device.js');
  let device: Device;
  try {
    device = GpuDevice.open(0);
  } catch (e) {
    if (e instanceof GpuError) return { why: e.message };
    throw e;
  }
  if (targetForDevice(device.info) === undefined) {
    device.dispose();
    return { why: `${device.info.name} (${device.info.arch}) is not a device Tilekit generates code for` };
  }
  return { device };
}

async function runSelftest(opts: SelftestOptions, io: CliIO, cases: ReturnType<typeof selftestCases>, backendsIn: readonly Backend[], tools: Tools, notes: string[]): Promise<number> {
  let backends = [...backendsIn];
  if (!tools.clang) {
    const why = 'clang-19 not found (apt-get install clang-19 lld-19): the AMD backend (hip-cpu) is not checked';
    if (opts.backends?.includes('hip-cpu')) {
      io.err(`error: ${why}`);
      return EXIT_ERRORS;
    }
    backends = backends.filter((b) => b !== 'hip-cpu');
    notes.push(why);
  }
  const dir = shippedKernelsDir();
  io.out(`tilekit selftest: ${cases.length} cases × ${backends.join(' + ')}, seed ${opts.seed}${notes.map((n) => ` (${n})`).join('')}`);
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
      const r = await runCase(backend, ir, src, () => c.make(seed), c.output, c.tolerance, tools);
      runs++;
      if (!r.ok) failed++;
      const ms = (performance.now() - t0).toFixed(0);
      const tail = [r.note, r.ok ? '' : `replay: --seed ${opts.seed} (case seed ${seed})`].filter(Boolean).join('; ');
      io.out(
        `${c.kernel.padEnd(12)} ${consts.padEnd(34)} ${c.shape.padEnd(36)} ${backend.padEnd(10)} ${r.err.toExponential(2).padStart(9)} ${c.tolerance.toExponential(0).padStart(7)}  ${r.rung}    ${r.ok ? 'ok  ' : 'FAIL'} ${ms.padStart(7)}${tail ? `  (${tail})` : ''}`,
      );
    }
  }
  io.out(
    `${runs - failed} passed, ${failed} failed (default configuration of each kernel; emulate: PTX for sm_80 in the PTX emulator, sanitizer on; ` +
      `hip-cpu: HIP for gfx942, compiled by clang-19, run on CPU threads; gpu: compiled for the attached device and run there)`,
  );
  return failed === 0 ? EXIT_OK : EXIT_ERRORS;
}
