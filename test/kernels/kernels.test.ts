/**
 * L1 of the verification ladder: each shipped kernel, through the reference interpreter, against
 * its float64 reference, on seeded random inputs at ragged shapes, in f16 and bf16, at several
 * configurations. Outputs are poisoned with NaN first, so an unwritten element fails.
 */
import { describe, expect, it } from 'vitest';
import { interpret } from '../../compiler/interpreter.js';
import { selftestCases } from '../../kernels/selftest.js';
import { buildShipped } from '../support/build.js';
import { expectClose } from '../support/compare.js';
import { seedFromEnv } from '../support/random.js';

const SEED = seedFromEnv(20261129);

/** Configurations beyond the default, per kernel; each satisfies the kernel's require constraints. */
const CONFIGS: Record<string, Record<string, number>[]> = {
  gemm: [{}, { BM: 64, BN: 64, BK: 64, WARPS: 4 }, { BM: 64, BN: 128, BK: 32, WARPS: 8 }],
  attention: [{}, { BM: 128, BN: 32, WARPS: 8, STAGES: 3 }],
  mlp_gate_up: [{}, { BM: 128, BF: 128, BK: 64, WARPS: 8 }],
  mlp_down: [{}, { BM: 128, BN: 64, BK: 64, WARPS: 8 }],
};

const runs = selftestCases().flatMap((c, i) => (CONFIGS[c.kernel] ?? [{}]).map((config) => ({ c, config, seed: SEED + i, name: `${c.kernel} ${JSON.stringify(c.consts)} ${c.shape} ${JSON.stringify(config)}` })));

describe('shipped kernels through the interpreter match their float64 references', () => {
  it.each(runs)('$name', ({ c, config, seed }) => {
    const ir = buildShipped(c.file, c.kernel, { ...c.consts, ...config });
    const { args, reference } = c.make(seed);
    interpret(ir, args);
    const out = args.get(c.output);
    if (!out || typeof out === 'number') throw new Error(`no output tensor ${c.output}`);
    expectClose(out.data, reference, c.tolerance, `${c.kernel} ${c.shape} consts=${JSON.stringify(c.consts)} config=${JSON.stringify(config)} seed=${seed}`);
    if (c.kernel === 'attention' && c.consts.causal === 'true' && out.shape[2]! > 100) {
      // S=130, T=100: query rows 0..29 of every head see no key.
      const [, , S, D] = out.shape as [number, number, number, number];
      for (let row = 0; row < S - 100; row++) expect(out.data.subarray(row * D, (row + 1) * D).every((x) => x === 0)).toBe(true);
    }
  });
});
