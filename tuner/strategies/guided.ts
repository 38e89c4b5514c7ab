/**
 * Model-guided search (docs/tuner-strategies.md): a space-filling start, then Bayesian
 * optimisation over the enumerated valid points — a Gaussian process on log cost (gp.ts) scores
 * every point by expected improvement, discounted by a nearest-neighbour estimate of the chance the
 * point fails; every few steps the choice is restricted to one-step neighbours of the best points.
 * Points picked for the current batch but not yet evaluated repel the next picks of that batch
 * (local penalization), so a batch spreads instead of piling onto one optimum of the model.
 *
 * Every choice is a function of the seed and the sequence of observations (known ones included),
 * never of time or of how the calls were split between runs.
 */
import { CandidateGp } from './gp.js';
import { below, rngFor } from './prng.js';
import { type Observation, SearchSession, runSearch, usableCost } from './session.js';
import type { SpaceTable } from './space.js';
import type { Strategy } from './types.js';

/** Space-filling start: this many observations (fewer when the space is smaller). */
const DESIGN_MIN = 8;
const DESIGN_MAX = 20;
/** Each design point is the farthest from those observed among this many random valid points. */
const DESIGN_CANDIDATES = 32;
/** Every LOCAL_PERIOD-th choice is among one-step neighbours of the TOP_K best points. */
const LOCAL_PERIOD = 3;
const TOP_K = 3;
/** Width (unit cube) of the penalty around a pending point in the expected-improvement score. */
const PENDING_WIDTH = 0.15;
/** Width (unit cube) of the kernel that spreads an observed failure to its neighbours, and the prior's weight. */
const FAIL_WIDTH = 0.2;
const FAIL_PRIOR_WEIGHT = 1;
/** Guided search scores at most this many candidates: larger spaces are searched on a seeded sample of their valid points. */
export const MAX_CANDIDATES = 16384;

const STREAM_POOL = 11;
const STREAM_DESIGN = 12;

export const guided: Strategy = {
  name: 'guided',
  async run(space, evaluate, opts) {
    const session = new SearchSession(space, evaluate, opts);
    const search = new GuidedSearch(session, opts.seed);
    return runSearch(session, () => search.next());
  },
};

class GuidedSearch {
  private readonly table: SpaceTable;
  /** Candidate k is table point pool[k]; candidateOf inverts it (−1: not a candidate). */
  private readonly pool: Int32Array;
  private readonly candidateOf: Int32Array;
  private readonly N: number;
  private readonly D: number;
  /** Candidate coordinates in the unit cube. */
  private readonly X: Float64Array;
  private readonly gp: CandidateGp;
  /** Costs of successful observations, in the order given to the GP. */
  private readonly costs: number[] = [];
  /** Per candidate: Σ weight and Σ weight·failed over observations, and the distance to the nearest one. */
  private readonly failW: Float64Array;
  private readonly failWF: Float64Array;
  private readonly nearest: Float64Array;
  private failures = 0;
  private seen = 0;
  private readonly designSize: number;

  constructor(
    private readonly session: SearchSession,
    private readonly seed: number,
  ) {
    this.table = session.table;
    this.D = this.table.dims.length;
    this.pool = candidatePool(session, seed);
    this.N = this.pool.length;
    this.candidateOf = new Int32Array(this.table.size).fill(-1);
    this.pool.forEach((t, k) => (this.candidateOf[t] = k));
    this.X = new Float64Array(this.N * this.D);
    for (let k = 0; k < this.N; k++) {
      for (let d = 0; d < this.D; d++) {
        const count = this.table.dims[d]!.values.length;
        this.X[k * this.D + d] = count > 1 ? this.table.idx[this.pool[k]! * this.D + d]! / (count - 1) : 0;
      }
    }
    this.gp = new CandidateGp(this.X, this.N, this.D);
    this.failW = new Float64Array(this.N);
    this.failWF = new Float64Array(this.N);
    this.nearest = new Float64Array(this.N).fill(Infinity);
    this.designSize = Math.min(this.N, Math.max(DESIGN_MIN, Math.min(DESIGN_MAX, 2 * this.D + 4)));
  }

  next(): number | undefined {
    const obs = this.session.observations;
    while (this.seen < obs.length) this.observe(obs[this.seen++]!);
    const open = this.openCandidates();
    if (open.length === 0) return undefined;
    const pick =
      this.seen < this.designSize ? this.designPoint(open) : this.costs.length === 0 ? this.farthest(open) : this.modelPoint(open);
    return this.pool[pick];
  }

  private observe(o: Observation): void {
    const k = this.candidateOf[o.index]!; // every observed point is a candidate (known ones join a sampled pool)
    const cost = usableCost(o.outcome);
    const failed = cost === undefined ? 1 : 0;
    this.failures += failed;
    const { X, D } = this;
    for (let c = 0; c < this.N; c++) {
      let d2 = 0;
      for (let d = 0; d < D; d++) {
        const t = X[c * D + d]! - X[k * D + d]!;
        d2 += t * t;
      }
      const w = Math.exp(-d2 / (2 * FAIL_WIDTH * FAIL_WIDTH));
      this.failW[c] += w;
      this.failWF[c] += w * failed;
      const dist = Math.sqrt(d2);
      if (dist < this.nearest[c]!) this.nearest[c] = dist;
    }
    if (cost !== undefined) {
      this.costs.push(cost);
      this.gp.add(k, () => this.targets());
    }
  }

  /** The GP's targets: log cost when every cost is positive (tile timings), the costs themselves otherwise. */
  private targets(): Float64Array {
    const positive = this.costs.every((c) => c > 0);
    return Float64Array.from(this.costs, (c) => (positive ? Math.log(c) : c));
  }

  private openCandidates(): number[] {
    const open: number[] = [];
    for (let k = 0; k < this.N; k++) if (!this.session.isDone(this.pool[k]!)) open.push(k);
    return open;
  }

  /** Estimated probability that candidate c fails: failures near it, shrunk towards the overall rate. */
  private failProbability(c: number): number {
    const prior = (this.failures + 0.5) / (this.seen + 1);
    return (FAIL_PRIOR_WEIGHT * prior + this.failWF[c]!) / (FAIL_PRIOR_WEIGHT + this.failW[c]!);
  }

  /** Greedy maximin on a seeded sample: spreads the first observations over the space. */
  private designPoint(open: number[]): number {
    const rng = rngFor(this.seed, STREAM_DESIGN + 7919 * this.seen);
    let best = -1;
    let bestDist = -1;
    const pending = this.pendingCandidates();
    for (let t = 0; t < DESIGN_CANDIDATES; t++) {
      const c = open[below(rng, open.length)]!;
      const dist = Math.min(this.nearest[c]!, this.distanceTo(c, pending));
      if (dist > bestDist) {
        best = c;
        bestDist = dist;
      }
    }
    return best;
  }

  /** With no success to model yet: the open point farthest from everything tried, away from failures. */
  private farthest(open: number[]): number {
    const pending = this.pendingCandidates();
    let best = open[0]!;
    let bestScore = -Infinity;
    for (const c of open) {
      const score = Math.min(this.nearest[c]!, this.distanceTo(c, pending), 1e9) * (1 - this.failProbability(c));
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  }

  private modelPoint(open: number[]): number {
    const y = this.targets();
    const { mean, sd } = this.gp.predict(y);
    let fBest = Infinity;
    for (const v of y) fBest = Math.min(fBest, v);
    const local = this.seen % LOCAL_PERIOD === LOCAL_PERIOD - 1 ? this.neighboursOfBest() : [];
    const candidates = local.length > 0 ? local : open;
    const pending = this.pendingCandidates();
    let best = candidates[0]!;
    let bestScore = -Infinity;
    for (const c of candidates) {
      const score =
        logExpectedImprovement(fBest, mean[c]!, sd[c]!) + Math.log(Math.max(1 - this.failProbability(c), 1e-12)) + this.pendingPenalty(c, pending);
      if (score > bestScore) {
        best = c;
        bestScore = score;
      }
    }
    return best;
  }

  /** The current batch's points not yet evaluated, as candidate numbers. */
  private pendingCandidates(): number[] {
    return this.session.pending.map((t) => this.candidateOf[t]!);
  }

  /** Euclidean distance (unit cube) from candidate c to the nearest of `others`; Infinity when there are none. */
  private distanceTo(c: number, others: readonly number[]): number {
    let best = Infinity;
    for (const o of others) {
      let d2 = 0;
      for (let d = 0; d < this.D; d++) {
        const t = this.X[c * this.D + d]! - this.X[o * this.D + d]!;
        d2 += t * t;
      }
      best = Math.min(best, Math.sqrt(d2));
    }
    return best;
  }

  /** log of Π (1 − exp(−d²/2w²)) over pending points: −∞ on a pending point, 0 far from all of them. */
  private pendingPenalty(c: number, pending: readonly number[]): number {
    let s = 0;
    for (const p of pending) {
      const d = this.distanceTo(c, [p]);
      s += Math.log(Math.max(-Math.expm1((-d * d) / (2 * PENDING_WIDTH * PENDING_WIDTH)), 1e-300));
    }
    return s;
  }

  /** Open candidates one value step (in one dimension) from the TOP_K lowest-cost observations. */
  private neighboursOfBest(): number[] {
    const ranked = this.session.observations
      .map((o) => ({ index: o.index, cost: usableCost(o.outcome) }))
      .filter((o): o is { index: number; cost: number } => o.cost !== undefined)
      .sort((a, b) => a.cost - b.cost || a.index - b.index)
      .slice(0, TOP_K);
    const out = new Set<number>();
    for (const { index } of ranked) {
      const k = this.candidateOf[index]!;
      for (let c = 0; c < this.N; c++) {
        if (this.session.isDone(this.pool[c]!) || !this.oneStep(k, c)) continue;
        out.add(c);
      }
    }
    return [...out].sort((a, b) => a - b);
  }

  private oneStep(a: number, b: number): boolean {
    const { idx } = this.table;
    const pa = this.pool[a]! * this.D;
    const pb = this.pool[b]! * this.D;
    let steps = 0;
    for (let d = 0; d < this.D; d++) {
      const diff = Math.abs(idx[pa + d]! - idx[pb + d]!);
      if (diff > 1) return false;
      steps += diff;
    }
    return steps === 1;
  }
}

/** Every valid point, or for a larger space a seeded sample of them plus every known point. */
function candidatePool(session: SearchSession, seed: number): Int32Array {
  const size = session.table.size;
  if (size <= MAX_CANDIDATES) return Int32Array.from({ length: size }, (_, i) => i);
  const chosen = new Set<number>(session.observations.map((o) => o.index));
  const rng = rngFor(seed, STREAM_POOL);
  while (chosen.size < MAX_CANDIDATES) chosen.add(below(rng, size));
  return Int32Array.from([...chosen].sort((a, b) => a - b));
}

/** log of the expected improvement below fBest of a normal(mean, sd), stable far into the tail. */
export function logExpectedImprovement(fBest: number, mean: number, sd: number): number {
  const u = (fBest - mean) / sd;
  if (u > -6) {
    const h = u * normalCdf(u) + normalPdf(u);
    return Math.log(sd) + Math.log(Math.max(h, 1e-300));
  }
  // h(u) = φ(u) · (1/u² − 3/u⁴ + …) for u → −∞
  return Math.log(sd) - 0.5 * u * u - 0.5 * Math.log(2 * Math.PI) - 2 * Math.log(-u) + Math.log1p(-3 / (u * u));
}

function normalPdf(u: number): number {
  return Math.exp(-0.5 * u * u) / Math.sqrt(2 * Math.PI);
}

/** Φ(u) through erfc. */
function normalCdf(u: number): number {
  return 0.5 * erfc(-u / Math.SQRT2);
}

function erfc(x: number): number {
  // Numerical Recipes' erfcc (Chebyshev fit), relative error < 1.2e-7 everywhere
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851788 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
