import { describe, expect, it } from 'vitest';
import {
  type Dimension,
  type Outcome,
  type Point,
  type SearchResult,
  type SearchSpace,
  type StrategyName,
  STRATEGY_NAMES,
  makeStrategy,
  pointKey,
} from '../../tuner/strategies/index.js';

// ---------------------------------------------------------------------------------------------
// Synthetic tuning problems: six tile-size dimensions, resource constraints leaving ~550–600
// valid points, deterministic per-point roughness and seeded failures (scattered and clustered).
// The objective is instant, so the searches run at full speed.
// ---------------------------------------------------------------------------------------------

interface Synthetic {
  readonly name: string;
  readonly space: SearchSpace;
  readonly cost: (p: Point) => Outcome;
}

const DIMS: readonly Dimension[] = [
  { name: 'BM', values: [32, 64, 128, 256] },
  { name: 'BN', values: [32, 64, 128, 256] },
  { name: 'BK', values: [16, 32, 64, 128] },
  { name: 'WARPS', values: [1, 2, 4, 8] },
  { name: 'STAGES', values: [2, 3, 4] },
  { name: 'SPLIT', values: [1, 2, 4] },
];

/** A value in [0, 1) fixed by the point and a salt: roughness and "random" failures that are the same on every call. */
function hash01(p: Point, salt: number): number {
  let h = 0x811c9dc5 ^ salt;
  for (const ch of pointKey(p)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  h = Math.imul(h, 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 2 ** 32;
}

const v = (p: Point, name: string): number => p[name]!;
const L = Math.log2;
const smem = (p: Point): number => (v(p, 'BM') + v(p, 'BN')) * v(p, 'BK') * 2 * v(p, 'STAGES');
const accPerThread = (p: Point): number => (v(p, 'BM') * v(p, 'BN')) / (v(p, 'WARPS') * 32);

/** Shared memory ≤ 64 KiB, 16–64 accumulators per thread, BK·SPLIT ≤ 128. */
function tileValid(p: Point): boolean {
  const acc = accPerThread(p);
  return smem(p) <= 64 * 1024 && acc >= 16 && acc <= 64 && v(p, 'BK') * v(p, 'SPLIT') <= 128;
}

/** A quadratic bowl in log2 of the values with interactions (warps follow the tile size, stages × BK, split × BM); 5 % failures. */
const bowl: Synthetic = {
  name: 'bowl',
  space: { dims: DIMS, valid: tileValid },
  cost(p) {
    if (hash01(p, 1) < 0.05) return { ok: false, reason: 'launch failed' };
    const a = L(v(p, 'BM')) - 6.3;
    const b = L(v(p, 'BN')) - 6.1;
    const k = L(v(p, 'BK')) - 5.2;
    const w = L(v(p, 'WARPS')) - 2.2;
    const s = v(p, 'STAGES') - 2.8;
    const q = L(v(p, 'SPLIT')) - 0.6;
    const lc =
      0.1 * a * a + 0.1 * b * b + 0.06 * a * b + 0.15 * k * k + 0.2 * (w - 0.4 * (a + b)) ** 2 + 0.08 * s * s + 0.05 * s * k + 0.12 * q * q + 0.04 * q * a;
    return { ok: true, cost: 100 * Math.exp(lc) * (1 + 0.04 * (hash01(p, 2) - 0.5)) };
  },
};

/**
 * A GEMM performance model (M=2048, N=K=4096 on 132 SMs): occupancy from shared memory, threads
 * and registers, wave quantisation, warp-tile, latency, pipeline and k-step efficiencies, a
 * roofline of compute against traffic, split-K reduction. Register spills fail (a clustered
 * region: many accumulators with a large BK), plus 3 % scattered failures.
 */
const roofline: Synthetic = {
  name: 'roofline',
  space: { dims: DIMS, valid: tileValid },
  cost(p) {
    const M = 2048;
    const N = 4096;
    const K = 4096;
    const SMS = 132;
    const [BM, BN, BK, WARPS, STAGES, SPLIT] = DIMS.map((d) => v(p, d.name)) as [number, number, number, number, number, number];
    const acc = accPerThread(p);
    if (acc + BK / 2 > 80) return { ok: false, reason: 'register spill' };
    if (hash01(p, 3) < 0.03) return { ok: false, reason: 'launch failed' };
    const threads = WARPS * 32;
    const regs = acc + 40 + BK / 4;
    const occ = Math.min(Math.floor((160 * 1024) / smem(p)), Math.floor(1536 / threads), Math.floor(65536 / (regs * threads)));
    const ctas = Math.ceil(M / BM) * Math.ceil(N / BN) * SPLIT;
    const slots = SMS * occ;
    const tail = ctas / (Math.ceil(ctas / slots) * slots);
    const effTile = Math.min(1, ((BM * BN) / WARPS / 4096) ** 0.3);
    const effLat = Math.min(1, (WARPS * occ) / 8) ** 0.5;
    const effPipe = 1 - 0.3 / STAGES;
    const effK = BK / (BK + 8);
    const compute = (2 * M * N * K) / (7.5e14 * effTile * effLat * effPipe * effK);
    const memory = (2 * (M * K * Math.ceil(N / BN) + N * K * Math.ceil(M / BM))) / 6e12;
    const reduce = SPLIT > 1 ? (M * N * 4 * SPLIT) / 3.3e12 : 0;
    const t = (Math.max(compute, memory) + 0.3 * Math.min(compute, memory)) / tail + reduce + 4e-6;
    return { ok: true, cost: t * 1e6 * (1 + 0.01 * (hash01(p, 4) - 0.5)) };
  },
};

/** Two basins: a wide one around large tiles and a narrow, deeper one around small split-K tiles; a failing corner and 8 % failures. */
const twoBasins: Synthetic = {
  name: 'two-basins',
  space: { dims: DIMS, valid: (p) => tileValid(p) && !(v(p, 'BM') === 256 && v(p, 'BN') === 256) },
  cost(p) {
    if (v(p, 'STAGES') === 4 && v(p, 'BK') === 128) return { ok: false, reason: 'too many resources' };
    if (hash01(p, 5) < 0.08) return { ok: false, reason: 'launch failed' };
    const x = [L(v(p, 'BM')), L(v(p, 'BN')), L(v(p, 'BK')), L(v(p, 'WARPS')), v(p, 'STAGES'), L(v(p, 'SPLIT'))];
    const wide = [7, 7, 5, 3, 3, 0];
    const narrow = [5, 6, 6, 1, 4, 1];
    const q = (c: number[], w: number): number => x.reduce((s, xi, i) => s + w * (xi - c[i]!) ** 2, 0);
    const lc = Math.min(q(wide, 0.08), q(narrow, 0.25) - 0.12) + 0.03 * (x[0]! - x[1]!) ** 2;
    return { ok: true, cost: 50 * Math.exp(lc) * (1 + 0.05 * (hash01(p, 6) - 0.5)) };
  },
};

/** A diagonal valley in tile area and K-step per warp, with a plateau of near-ties; a deadlocking configuration family and 6 % failures. */
const ridge: Synthetic = {
  name: 'ridge',
  space: { dims: DIMS, valid: (p) => tileValid(p) && v(p, 'WARPS') * v(p, 'STAGES') <= 24 },
  cost(p) {
    if (hash01(p, 7) < 0.06) return { ok: false, reason: 'launch failed' };
    if (v(p, 'WARPS') === 1 && v(p, 'STAGES') === 4) return { ok: false, reason: 'deadlock' };
    const area = L(v(p, 'BM')) + L(v(p, 'BN'));
    const perWarp = L(v(p, 'BK')) - L(v(p, 'WARPS'));
    const lc =
      0.15 * (area - 13) ** 2 +
      0.4 * Math.abs(perWarp - 3) +
      0.1 * (L(v(p, 'BM')) - L(v(p, 'BN')) - 1) ** 2 +
      0.05 * (v(p, 'STAGES') - 3) ** 2 +
      0.07 * L(v(p, 'SPLIT')) * (area - 12);
    return { ok: true, cost: 20 * Math.exp(lc) * (1 + 0.02 * (hash01(p, 8) - 0.5)) };
  },
};

const SYNTHETICS: readonly Synthetic[] = [bowl, roofline, twoBasins, ridge];

/** Every valid point of a space, lexicographic (first dimension slowest). */
function validPoints(space: SearchSpace): Point[] {
  const out: Point[] = [];
  const rec = (i: number, p: Record<string, number>): void => {
    if (i === space.dims.length) {
      if (space.valid(p)) out.push(p);
      return;
    }
    for (const val of space.dims[i]!.values) rec(i + 1, { ...p, [space.dims[i]!.name]: val });
  };
  rec(0, {});
  return out;
}

interface Truth {
  valid: number;
  failing: number;
  best: { key: string; cost: number };
  runnerUp: number;
}

const truths = new Map<Synthetic, Truth>();
function truth(s: Synthetic): Truth {
  let t = truths.get(s);
  if (!t) {
    const pts = validPoints(s.space);
    const ok = pts.flatMap((p) => {
      const o = s.cost(p);
      return o.ok ? [{ key: pointKey(p), cost: o.cost }] : [];
    });
    ok.sort((a, b) => a.cost - b.cost);
    t = { valid: pts.length, failing: pts.length - ok.length, best: ok[0]!, runnerUp: ok[1]!.cost };
    truths.set(s, t);
  }
  return t;
}

/** An objective over a synthetic problem that records every call. */
function counted(s: Synthetic): { evaluate: (p: Point) => Promise<Outcome>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    evaluate: async (p) => {
      calls.push(pointKey(p));
      return s.cost(p);
    },
  };
}

const keysOf = (r: SearchResult): string[] => r.history.map((h) => pointKey(h.point));
const knownFrom = (r: SearchResult): Map<string, Outcome> => new Map(r.history.map((h) => [pointKey(h.point), h.outcome]));

/** How many evaluations `name` needs to evaluate the optimum (the cap when it does not within it). */
async function evaluationsToOptimum(name: StrategyName, s: Synthetic, seed: number, cap: number, parallel = 1): Promise<number> {
  const target = truth(s).best.cost;
  const stop = new AbortController();
  let n = 0;
  let at = cap;
  await makeStrategy(name).run(s.space, async (p) => s.cost(p), {
    budget: { evaluations: cap },
    seed,
    parallel,
    signal: stop.signal,
    onResult: (_p, o) => {
      n++;
      if (o.ok && o.cost <= target) {
        at = n;
        stop.abort();
      }
    },
  });
  return at;
}

// ---------------------------------------------------------------------------------------------

describe('pointKey and makeStrategy', () => {
  it('pointKey is name-sorted and independent of property order', () => {
    expect(pointKey({ BM: 128, BK: 32, BN: 64 })).toBe('BK=32,BM=128,BN=64');
    expect(pointKey({ BN: 64, BM: 128, BK: 32 })).toBe(pointKey({ BK: 32, BM: 128, BN: 64 }));
  });

  it('makes each strategy by name and refuses others', () => {
    for (const name of STRATEGY_NAMES) expect(makeStrategy(name).name).toBe(name);
    expect(() => makeStrategy('annealing' as StrategyName)).toThrow(/unknown search strategy 'annealing'/);
  });

  it('rejects malformed spaces and budgets', async () => {
    const ev = async (): Promise<Outcome> => ({ ok: true, cost: 1 });
    const run = (dims: Dimension[], budget = {}) => makeStrategy('random').run({ dims, valid: () => true }, ev, { budget, seed: 1 });
    await expect(run([{ name: 'A', values: [] }])).rejects.toThrow(/no values/);
    await expect(run([{ name: 'A', values: [1] }, { name: 'A', values: [2] }])).rejects.toThrow(/twice/);
    await expect(run([{ name: 'A', values: [1, 1] }])).rejects.toThrow(/repeats/);
    await expect(run([{ name: 'A', values: [1] }], { evaluations: -1 })).rejects.toThrow(/budget.evaluations/);
  });
});

describe('the synthetic problems', () => {
  it.each(SYNTHETICS.map((s) => [s.name, s] as const))('%s: ~500 valid points, failures, a unique optimum', (_n, s) => {
    const t = truth(s);
    expect(t.valid).toBeGreaterThanOrEqual(450);
    expect(t.valid).toBeLessThanOrEqual(650);
    expect(t.failing).toBeGreaterThanOrEqual(15);
    expect(t.runnerUp).toBeGreaterThan(t.best.cost * 1.005); // the optimum is not decided by rounding
  });
});

describe.each(STRATEGY_NAMES.map((n) => [n]))('%s', (name) => {
  const strategy = makeStrategy(name);

  it('is deterministic for a seed', async () => {
    for (const s of SYNTHETICS) {
      const a = await strategy.run(s.space, async (p) => s.cost(p), { budget: { evaluations: 60 }, seed: 7 });
      const b = await strategy.run(s.space, async (p) => s.cost(p), { budget: { evaluations: 60 }, seed: 7 });
      expect(keysOf(b)).toEqual(keysOf(a));
      expect(b.best).toEqual(a.best);
      if (name !== 'exhaustive') {
        const c = await strategy.run(s.space, async (p) => s.cost(p), { budget: { evaluations: 60 }, seed: 8 });
        expect(keysOf(c)).not.toEqual(keysOf(a));
      }
    }
  });

  it('asks only valid points, each once, and reports a best that is the minimum seen', async () => {
    const s = ridge;
    const { evaluate, calls } = counted(s);
    const r = await strategy.run(s.space, evaluate, { budget: { evaluations: 120 }, seed: 3 });
    expect(r.evaluated).toBe(120);
    expect(r.stopped).toBe('evaluations');
    expect(new Set(calls).size).toBe(calls.length);
    expect(r.history.every((h) => s.space.valid(h.point))).toBe(true);
    const costs = r.history.flatMap((h) => (h.outcome.ok ? [h.outcome.cost] : []));
    expect(r.best?.cost).toBe(Math.min(...costs));
  });

  it('resumes from known outcomes: never re-asks them and continues as the uninterrupted run', async () => {
    for (const s of [bowl, twoBasins]) {
      const whole = await strategy.run(s.space, async (p) => s.cost(p), { budget: { evaluations: 90 }, seed: 11 });
      const first = await strategy.run(s.space, async (p) => s.cost(p), { budget: { evaluations: 35 }, seed: 11 });
      const known = knownFrom(first);
      const { evaluate, calls } = counted(s);
      const rest = await strategy.run(s.space, evaluate, { budget: { evaluations: 55 }, seed: 11, known });
      expect(calls.some((k) => known.has(k))).toBe(false);
      expect(rest.reused).toBe(35);
      expect(rest.evaluated).toBe(55);
      expect([...keysOf(first), ...keysOf(rest)]).toEqual(keysOf(whole));
      expect(rest.best).toEqual(whole.best);
    }
  });

  it('calls onResult once per evaluation with the best so far, known outcomes included', async () => {
    const s = bowl;
    const known = new Map<string, Outcome>([
      [pointKey({ BM: 64, BN: 64, BK: 32, WARPS: 4, STAGES: 3, SPLIT: 1 }), { ok: true, cost: 150 }],
      ['BK=1,BM=1', { ok: true, cost: 0.001 }], // not a point of the space: ignored
    ]);
    const seen: { key: string; best: number | undefined }[] = [];
    const r = await strategy.run(s.space, async (p) => s.cost(p), {
      budget: { evaluations: 40 },
      seed: 5,
      known,
      onResult: (p, o, best) => {
        expect(o).toEqual(s.cost(p));
        seen.push({ key: pointKey(p), best: best?.cost });
      },
    });
    expect(r.reused).toBe(1);
    expect(seen.map((e) => e.key)).toEqual(keysOf(r));
    let running = 150;
    r.history.forEach((h, i) => {
      if (h.outcome.ok) running = Math.min(running, h.outcome.cost);
      expect(seen[i]!.best).toBe(running);
    });
    expect(r.best?.cost).toBe(running);
  });

  it('stops at the time budget (fake clock), on abort, and at a zero budget', async () => {
    const s = roofline;
    let t = 1000;
    const slow = async (p: Point): Promise<Outcome> => {
      t += 250; // ms per evaluation
      return s.cost(p);
    };
    const timed = await strategy.run(s.space, slow, { budget: { seconds: 1 }, seed: 1, now: () => t });
    expect(timed.evaluated).toBe(4);
    expect(timed.stopped).toBe('seconds');

    const both = await strategy.run(s.space, slow, { budget: { seconds: 10, evaluations: 3 }, seed: 1, now: () => t });
    expect(both.evaluated).toBe(3);
    expect(both.stopped).toBe('evaluations');

    const stop = new AbortController();
    const aborted = await strategy.run(s.space, async (p) => s.cost(p), {
      budget: {},
      seed: 1,
      signal: stop.signal,
      onResult: () => stop.abort(),
    });
    expect(aborted.evaluated).toBe(1);
    expect(aborted.stopped).toBe('aborted');

    const none = await strategy.run(s.space, slow, { budget: { evaluations: 0 }, seed: 1 });
    expect(none).toEqual({ evaluated: 0, history: [], reused: 0, stopped: 'evaluations' });
  });

  it('evaluates every valid point once when the budget exceeds the space, and copes with every evaluation failing', async () => {
    const small: SearchSpace = {
      dims: [
        { name: 'BM', values: [16, 32, 64, 128] },
        { name: 'BN', values: [16, 32, 64, 128] },
        { name: 'WARPS', values: [1, 2, 4, 8] },
      ],
      valid: (p) => v(p, 'BM') * v(p, 'BN') >= v(p, 'WARPS') * 128,
    };
    const all = validPoints(small).map(pointKey);
    const costOf = (p: Point): Outcome => ({ ok: true, cost: 1 + (L(v(p, 'BM')) - 5) ** 2 + (L(v(p, 'BN')) - 6) ** 2 + L(v(p, 'WARPS')) });
    const full = await strategy.run(small, async (p) => costOf(p), { budget: { evaluations: 1000 }, seed: 2 });
    expect(full.stopped).toBe('exhausted');
    expect(keysOf(full).sort()).toEqual([...all].sort());
    expect(full.best).toEqual({ point: { BM: 32, BN: 64, WARPS: 1 }, cost: 1 });

    const failing = await strategy.run(small, async () => ({ ok: false, reason: 'no device' }), { budget: {}, seed: 2 });
    expect(failing.stopped).toBe('exhausted');
    expect(failing.best).toBeUndefined();
    expect(keysOf(failing).sort()).toEqual([...all].sort());

    const empty = await strategy.run({ dims: small.dims, valid: () => false }, async () => ({ ok: true, cost: 1 }), { budget: {}, seed: 2 });
    expect(empty).toEqual({ evaluated: 0, history: [], reused: 0, stopped: 'exhausted' });
  });

  it('evaluates batches of `parallel` points concurrently, with the same points whatever order they finish in', async () => {
    const s = twoBasins;
    const run = async (delaySalt: number) => {
      let inFlight = 0;
      let maxInFlight = 0;
      const calls: string[] = [];
      const r = await strategy.run(
        s.space,
        async (p) => {
          calls.push(pointKey(p));
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          // each evaluation takes a different, point-dependent time: completion order ≠ request order
          await new Promise((done) => setTimeout(done, Math.floor(hash01(p, delaySalt) * 4)));
          inFlight--;
          return s.cost(p);
        },
        { budget: { evaluations: 42 }, seed: 5, parallel: 4 },
      );
      return { r, calls, maxInFlight };
    };
    const a = await run(1);
    const b = await run(2);
    expect(a.maxInFlight).toBe(4);
    expect(a.r.evaluated).toBe(42); // the last batch is cut to the budget
    expect(new Set(a.calls).size).toBe(42);
    expect(keysOf(b.r)).toEqual(keysOf(a.r));
    expect(b.r.best).toEqual(a.r.best);
    expect(a.r.best?.cost).toBe(Math.min(...a.r.history.flatMap((h) => (h.outcome.ok ? [h.outcome.cost] : []))));
  });

  it('lets a batch in flight settle before an exception from evaluate propagates', async () => {
    const finished: string[] = [];
    let n = 0;
    const run = strategy.run(
      bowl.space,
      async (p) => {
        if (n++ === 1) throw new Error('device lost');
        await new Promise((done) => setTimeout(done, 5));
        finished.push(pointKey(p));
        return bowl.cost(p);
      },
      { budget: {}, seed: 4, parallel: 3 },
    );
    await expect(run).rejects.toThrow('device lost');
    expect(finished).toHaveLength(2);
    await expect(strategy.run(bowl.space, async (p) => bowl.cost(p), { budget: {}, seed: 1, parallel: 0 })).rejects.toThrow(RangeError);
  });

  it('treats a non-finite cost as a failure and propagates an exception from evaluate', async () => {
    const s = bowl;
    const r = await strategy.run(s.space, async (p) => (v(p, 'SPLIT') === 1 ? { ok: true, cost: NaN } : s.cost(p)), {
      budget: { evaluations: 50 },
      seed: 4,
    });
    expect(r.best && Number.isFinite(r.best.cost)).toBe(true);
    await expect(
      strategy.run(s.space, async () => {
        throw new Error('device lost');
      }, { budget: {}, seed: 4 }),
    ).rejects.toThrow('device lost');
  });
});

describe('exhaustive', () => {
  it('visits the valid points in lexicographic order and finds the optimum', async () => {
    for (const s of SYNTHETICS) {
      const r = await makeStrategy('exhaustive').run(s.space, async (p) => s.cost(p), { budget: {}, seed: 0 });
      expect(keysOf(r)).toEqual(validPoints(s.space).map(pointKey));
      expect(r.stopped).toBe('exhausted');
      expect(r.best && pointKey(r.best.point)).toBe(truth(s).best.key);
      expect(r.best?.cost).toBe(truth(s).best.cost);
    }
  });
});

describe('random', () => {
  it('samples without replacement until the space is covered', async () => {
    const s = twoBasins;
    const r = await makeStrategy('random').run(s.space, async (p) => s.cost(p), { budget: {}, seed: 9 });
    const keys = keysOf(r);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(validPoints(s.space).map(pointKey).sort());
    expect(keys).not.toEqual(validPoints(s.space).map(pointKey)); // not in enumeration order
  });
});

describe('guided', () => {
  const SEEDS = 20;
  const CAP = 400;

  it.each(SYNTHETICS.map((s) => [s.name, s] as const))(
    `%s: finds the optimum in ≤ 150 evaluations on average over ${SEEDS} seeds`,
    async (_n, s) => {
      const counts: number[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) counts.push(await evaluationsToOptimum('guided', s, seed, CAP));
      const mean = counts.reduce((a, b) => a + b, 0) / SEEDS;
      const t = truth(s);
      console.log(
        `guided on ${s.name} (${t.valid} valid, ${t.failing} failing): optimum after ${mean.toFixed(1)} evaluations on average (max ${Math.max(...counts)}) over ${SEEDS} seeds`,
      );
      expect(mean).toBeLessThanOrEqual(150);
      expect(Math.max(...counts)).toBeLessThan(CAP);
    },
  );

  it.each(SYNTHETICS.map((s) => [s.name, s] as const))(
    `%s: with batches of 4, finds the optimum in ≤ 150 evaluations on average over ${SEEDS} seeds`,
    async (_n, s) => {
      const counts: number[] = [];
      for (let seed = 1; seed <= SEEDS; seed++) counts.push(await evaluationsToOptimum('guided', s, seed, CAP, 4));
      const mean = counts.reduce((a, b) => a + b, 0) / SEEDS;
      console.log(`guided (parallel 4) on ${s.name}: optimum after ${mean.toFixed(1)} evaluations on average (max ${Math.max(...counts)}) over ${SEEDS} seeds`);
      expect(mean).toBeLessThanOrEqual(150);
      expect(Math.max(...counts)).toBeLessThan(CAP);
    },
  );

  it('learns from known outcomes of another strategy without re-asking them', async () => {
    const s = twoBasins;
    const earlier = await makeStrategy('random').run(s.space, async (p) => s.cost(p), { budget: { evaluations: 60 }, seed: 1 });
    const known = knownFrom(earlier);
    const { evaluate, calls } = counted(s);
    const r = await makeStrategy('guided').run(s.space, evaluate, { budget: { evaluations: 150 }, seed: 1, known });
    expect(r.reused).toBe(60);
    expect(calls.some((k) => known.has(k))).toBe(false);
    expect(r.best && pointKey(r.best.point)).toBe(truth(s).best.key);
  });

  it('searches a seeded sample of a space above 16384 valid points', async () => {
    const dims = ['A', 'B', 'C', 'D'].map((name) => ({ name, values: Array.from({ length: 12 }, (_, i) => i + 1) }));
    const space: SearchSpace = { dims, valid: () => true }; // 20736 points
    const cost = (p: Point): Outcome => ({ ok: true, cost: 1 + dims.reduce((s, d) => s + (v(p, d.name) - 6) ** 2, 0) });
    const { evaluate, calls } = counted({ name: 'big', space, cost });
    const r = await makeStrategy('guided').run(space, evaluate, { budget: { evaluations: 25 }, seed: 1 });
    expect(r.evaluated).toBe(25);
    expect(new Set(calls).size).toBe(25);
    expect(r.best!.cost).toBeLessThan(10);
  });

  it('ranks with log cost when costs are positive and with the raw cost otherwise', async () => {
    const s = bowl;
    const negated = await makeStrategy('guided').run(s.space, async (p) => {
      const o = s.cost(p);
      return o.ok ? { ok: true, cost: o.cost - 1000 } : o;
    }, { budget: { evaluations: 150 }, seed: 3 });
    expect(negated.best && pointKey(negated.best.point)).toBe(truth(s).best.key);
  });
});
