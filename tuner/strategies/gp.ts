/**
 * The guided strategy's surrogate: a Gaussian process over a finite candidate set, updated one
 * observation at a time.
 *
 * Inputs are the candidates' coordinates in [0, 1]^D (value index / (count − 1) per dimension);
 * the kernel is Matérn 5/2 with one length scale, unit signal variance on standardised targets and
 * a nugget. For observations o_1…o_n and candidates c, it keeps the Cholesky factor L of K(o, o) and
 * V = L⁻¹ K(o, c) row by row, so adding an observation costs O(n² + n·N) and a prediction for all N
 * candidates O(n·N): mean(c) = Vᵀ L⁻¹ y, variance(c) = 1 − Σ_i V_ic². The length scale and nugget
 * are chosen from a small grid by marginal likelihood, at a schedule fixed by the observation count,
 * so the model after a sequence of observations does not depend on when predictions were asked.
 */

/** Length scales (in the unit cube) and nuggets (relative to the standardised signal variance) tried at each refit. */
const LENGTH_SCALES = [0.25, 0.4, 0.6, 0.9, 1.4];
const NUGGETS = [1e-4, 1e-2, 0.1];
/** Refit at every observation up to this count, then when the count has grown by REFIT_GROWTH, until REFIT_UNTIL (each refit costs O(n³) per grid point). */
const REFIT_ALWAYS_UNTIL = 16;
const REFIT_GROWTH = 1.15;
const REFIT_UNTIL = 200;
const SQRT5 = Math.sqrt(5);

export interface Prediction {
  readonly mean: Float64Array;
  readonly sd: Float64Array;
}

export class CandidateGp {
  private readonly obs: number[] = [];
  private readonly L: Float64Array[] = [];
  private readonly V: Float64Array[] = [];
  private readonly sumsq: Float64Array;
  private lengthScale = LENGTH_SCALES[1]!;
  private nugget = NUGGETS[1]!;
  private lastFit = 0;

  /** `X` holds candidate c's coordinates at [c·D, c·D + D). */
  constructor(
    private readonly X: Float64Array,
    private readonly N: number,
    private readonly D: number,
  ) {
    this.sumsq = new Float64Array(N);
  }

  get count(): number {
    return this.obs.length;
  }

  /** The hyperparameters in use (for tests and diagnostics). */
  get hyper(): { lengthScale: number; nugget: number } {
    return { lengthScale: this.lengthScale, nugget: this.nugget };
  }

  /**
   * Adds candidate `c` as the next observation. `targets(n)` gives the targets of the first n
   * observations (in the order added), needed when this addition triggers a refit.
   */
  add(c: number, targets: () => Float64Array): void {
    this.obs.push(c);
    const n = this.obs.length;
    if (n >= 3 && n <= REFIT_UNTIL && (n <= REFIT_ALWAYS_UNTIL || n >= Math.ceil(this.lastFit * REFIT_GROWTH))) {
      this.lastFit = n;
      if (this.selectHyper(targets())) {
        this.rebuild();
        return;
      }
    }
    this.extend(n - 1);
  }

  /** Predictions for every candidate given the targets of the observations (in the order added). */
  predict(y: Float64Array): Prediction {
    const n = this.obs.length;
    const { mu, s } = standardise(y);
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let t = (y[i]! - mu) / s;
      const Li = this.L[i]!;
      for (let j = 0; j < i; j++) t -= Li[j]! * z[j]!;
      z[i] = t / Li[i]!;
    }
    const mean = new Float64Array(this.N);
    for (let i = 0; i < n; i++) {
      const Vi = this.V[i]!;
      const zi = z[i]!;
      for (let c = 0; c < this.N; c++) mean[c] += Vi[c]! * zi;
    }
    const sd = new Float64Array(this.N);
    for (let c = 0; c < this.N; c++) {
      mean[c] = mu + s * mean[c]!;
      sd[c] = s * Math.sqrt(Math.max(1 - this.sumsq[c]!, 1e-12));
    }
    return { mean, sd };
  }

  private kernel(a: number, b: number, ls: number): number {
    const { X, D } = this;
    let d2 = 0;
    for (let k = 0; k < D; k++) {
      const t = X[a * D + k]! - X[b * D + k]!;
      d2 += t * t;
    }
    const r = (SQRT5 * Math.sqrt(d2)) / ls;
    return (1 + r + (r * r) / 3) * Math.exp(-r);
  }

  /** Appends observation i (all before it already factored): L's row i, V's row i. */
  private extend(i: number): void {
    const o = this.obs[i]!;
    const row = new Float64Array(i + 1);
    let ss = 0;
    for (let j = 0; j < i; j++) {
      let t = this.kernel(o, this.obs[j]!, this.lengthScale);
      const Lj = this.L[j]!;
      for (let k = 0; k < j; k++) t -= Lj[k]! * row[k]!;
      row[j] = t / Lj[j]!;
      ss += row[j]! * row[j]!;
    }
    const diag = Math.sqrt(Math.max(1 + this.nugget - ss, 1e-10));
    row[i] = diag;
    this.L[i] = row;
    const v = new Float64Array(this.N);
    for (let c = 0; c < this.N; c++) v[c] = this.kernel(o, c, this.lengthScale);
    for (let j = 0; j < i; j++) {
      const r = row[j]!;
      const Vj = this.V[j]!;
      for (let c = 0; c < this.N; c++) v[c] -= r * Vj[c]!;
    }
    for (let c = 0; c < this.N; c++) {
      v[c] /= diag;
      this.sumsq[c] += v[c]! * v[c]!;
    }
    this.V[i] = v;
  }

  private rebuild(): void {
    this.L.length = 0;
    this.V.length = 0;
    this.sumsq.fill(0);
    for (let i = 0; i < this.obs.length; i++) this.extend(i);
  }

  /** Picks the grid point of highest marginal likelihood; whether it differs from the current one. */
  private selectHyper(y: Float64Array): boolean {
    const { mu, s } = standardise(y);
    const r = y.map((v) => (v - mu) / s);
    let best = -Infinity;
    let ls = this.lengthScale;
    let nug = this.nugget;
    for (const l of LENGTH_SCALES) {
      for (const g of NUGGETS) {
        const ll = this.logMarginal(r, l, g);
        if (ll > best) {
          best = ll;
          ls = l;
          nug = g;
        }
      }
    }
    const changed = ls !== this.lengthScale || nug !== this.nugget;
    this.lengthScale = ls;
    this.nugget = nug;
    return changed;
  }

  /** log p(r | ls, nugget) up to a constant, by a fresh Cholesky factorisation. */
  private logMarginal(r: Float64Array, ls: number, nug: number): number {
    const n = this.obs.length;
    const L = new Float64Array(n * n);
    let logDet = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let t = i === j ? 1 + nug : this.kernel(this.obs[i]!, this.obs[j]!, ls);
        for (let k = 0; k < j; k++) t -= L[i * n + k]! * L[j * n + k]!;
        if (i === j) {
          const d = Math.sqrt(Math.max(t, 1e-10));
          L[i * n + i] = d;
          logDet += Math.log(d);
        } else {
          L[i * n + j] = t / L[j * n + j]!;
        }
      }
    }
    let quad = 0;
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let t = r[i]!;
      for (let k = 0; k < i; k++) t -= L[i * n + k]! * z[k]!;
      z[i] = t / L[i * n + i]!;
      quad += z[i]! * z[i]!;
    }
    return -0.5 * quad - logDet;
  }
}

function standardise(y: Float64Array): { mu: number; s: number } {
  const n = y.length;
  let mu = 0;
  for (const v of y) mu += v;
  mu /= Math.max(n, 1);
  let v2 = 0;
  for (const v of y) v2 += (v - mu) * (v - mu);
  const s = n > 1 ? Math.sqrt(v2 / (n - 1)) : 0;
  return { mu, s: s > 1e-12 ? s : 1 };
}
