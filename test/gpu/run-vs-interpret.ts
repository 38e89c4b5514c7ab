/**
 * `tilekit run --backend B` against `tilekit run --backend interpret` on the same ARGS.json, for
 * every shipped kernel at the selftest's small ragged shapes (seeded inputs, outputs poisoned with
 * NaN): the stored output compared by relative L2 at the selftest's tolerance. The GPU check runs
 * it with `gpu` (bundled with the CLI, test/gpu/bundle.mjs); CI runs it with `emulate`, so the
 * comparison itself is tested where there is no GPU.
 *
 * Usage (bundled): node run-vs-interpret.mjs BACKEND [--kernel NAME]... [--seed N] [--kernels-dir DIR]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliIO } from '../../cli/tilekit.js';
import type { KernelArgs } from '../../compiler/interpreter.js';
import { shippedKernelsDir } from '../../kernels/selftest-command.js';
import { selftestCases } from '../../kernels/selftest.js';
import { relL2 } from '../../runtime/compare.js';

const jsonNumber = (x: number): number | string => (Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : x);

/** ARGS.json for `tilekit run` (runtime/args.ts): every tensor with its data, scalars as numbers. */
function argsJson(args: KernelArgs): string {
  const out: Record<string, unknown> = {};
  for (const [name, v] of args) out[name] = typeof v === 'number' ? v : { dtype: v.dtype, shape: v.shape, data: Array.from(v.data, jsonNumber) };
  return JSON.stringify({ args: out });
}

function readOutput(path: string, name: string): Float64Array {
  const o = JSON.parse(readFileSync(path, 'utf8')) as { outputs: Record<string, { data: (number | string)[] }> };
  return Float64Array.from(o.outputs[name]!.data, (x) => (typeof x === 'number' ? x : Number(x)));
}

export interface RunVsInterpretOptions {
  readonly backend: string;
  readonly kernels?: readonly string[];
  readonly seed?: number;
}

/** Prints one line per case and `N passed, N failed`; returns the exit code (1 when any case fails). */
export async function runVsInterpret(opts: RunVsInterpretOptions, io: CliIO): Promise<number> {
  const seed = opts.seed ?? 20261129;
  const dir = mkdtempSync(join(tmpdir(), 'tilekit-run-vs-interpret-'));
  const kernels = shippedKernelsDir();
  const quiet: CliIO = { out: () => {}, err: (t) => io.err(`    ${t}`) };
  let passed = 0;
  let failed = 0;
  for (const [i, c] of selftestCases().entries()) {
    if (opts.kernels?.length && !opts.kernels.includes(c.kernel)) continue;
    const { args } = c.make(seed + i);
    const argsPath = join(dir, `args-${i}.json`);
    writeFileSync(argsPath, argsJson(args));
    const consts = Object.entries(c.consts).map(([k, v]) => `${k}=${v}`).join(',');
    const run = (backend: string, out: string): Promise<number> =>
      runCli(['run', join(kernels, c.file), '--kernel', c.kernel, '--const', consts, '--backend', backend, '--args', argsPath, '--out', out], quiet);
    const ref = join(dir, `interpret-${i}.json`);
    const got = join(dir, `${opts.backend}-${i}.json`);
    const codes = [await run('interpret', ref), await run(opts.backend, got)];
    const err = codes.every((x) => x === 0) ? relL2(readOutput(got, c.output), readOutput(ref, c.output)) : Infinity;
    const ok = err <= c.tolerance;
    if (ok) passed++;
    else failed++;
    io.out(`${c.kernel.padEnd(12)} ${consts.padEnd(34)} ${c.shape.padEnd(36)} ${opts.backend} vs interpret: rel L2 ${err.toExponential(2)} (tol ${c.tolerance})  ${ok ? 'ok' : `FAIL${codes.some((x) => x !== 0) ? ` (exit codes ${codes.join(', ')})` : ''} (seed ${seed + i})`}`);
  }
  io.out(`${passed} passed, ${failed} failed`);
  return failed === 0 && passed > 0 ? 0 : 1;
}
