/**
 * The shipped kernels through the command line, exactly as an external tool drives them:
 * ARGS.json in (outputs without data, so they start as NaN), `tilekit run --backend interpret`,
 * OUT.json out, compared with the float64 reference.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../cli/tilekit.js';
import { selftestCases } from '../../kernels/selftest.js';
import { kernelPath } from '../support/build.js';
import { expectClose } from '../support/compare.js';
import { seedFromEnv } from '../support/random.js';

const SEED = seedFromEnv(424242);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tilekit-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// One f16 and one bf16 case per kernel keeps this end-to-end test short; the interpreter tests cover the rest.
const cases = selftestCases().filter((c, i, all) => all.findIndex((d) => d.kernel === c.kernel && d.consts.dtype === c.consts.dtype) === i);

describe('tilekit run --backend interpret on the shipped kernels', () => {
  it.each(cases.map((c, i) => ({ c, seed: SEED + i, name: `${c.kernel} ${JSON.stringify(c.consts)}` })))('$name', async ({ c, seed }) => {
    const { args, reference } = c.make(seed);
    const json: Record<string, unknown> = {};
    for (const [name, a] of args) {
      json[name] = typeof a === 'number' ? a : name === c.output ? { dtype: a.dtype, shape: a.shape } : { dtype: a.dtype, shape: a.shape, data: [...a.data] };
    }
    const argsFile = join(dir, `${c.kernel}-${seed}.args.json`);
    const outFile = join(dir, `${c.kernel}-${seed}.out.json`);
    await writeFile(argsFile, JSON.stringify({ args: json }));
    const consts = Object.entries(c.consts).map(([k, v]) => `${k}=${v}`).join(',');
    const err: string[] = [];
    const io: CliIO = { out: () => {}, err: (t) => err.push(t) };
    const code = await runCli(['run', kernelPath(c.file), '--kernel', c.kernel, '--const', consts, '--backend', 'interpret', '--args', argsFile, '--out', outFile], io);
    expect(code, err.join('\n')).toBe(0);
    const out = JSON.parse(await readFile(outFile, 'utf8')) as { outputs: Record<string, { data: (number | string)[] }>; backend: string; config: Record<string, unknown> };
    expect(out.backend).toBe('interpret');
    expect(out.config.dtype).toBe(c.consts.dtype);
    const data = out.outputs[c.output]!.data.map(Number);
    expectClose(data, reference, c.tolerance, `${c.kernel} via CLI seed=${seed}`);
  });
});
