/**
 * The vocabulary every search strategy shares (docs/tuner-strategies.md): a discrete configuration
 * space, the outcome of evaluating one point, budgets, and what a search returns.
 */

/** One tunable: a name and its finite, ordered candidate values. */
export interface Dimension {
  readonly name: string;
  readonly values: readonly number[];
}

/** One configuration: a value for every dimension of the space. */
export type Point = Readonly<Record<string, number>>;

/** The product of the dimensions' values, minus the points `valid` rejects (constraints known before evaluating). */
export interface SearchSpace {
  readonly dims: readonly Dimension[];
  valid(p: Point): boolean;
}

/** What evaluating a point gave: a cost to minimise (e.g. µs), or a failure found only by trying (spills, launch error). */
export type Outcome = { readonly ok: true; readonly cost: number } | { readonly ok: false; readonly reason: string };

/** When to stop: after this many evaluations in this run, and/or this much wall time. Neither: when the space is exhausted. */
export interface Budget {
  readonly evaluations?: number;
  readonly seconds?: number;
}

export interface Best {
  readonly point: Point;
  readonly cost: number;
}

export interface HistoryEntry {
  readonly point: Point;
  readonly outcome: Outcome;
}

/**
 * Why a search ended: every valid point has an outcome (`exhausted`), the evaluation or time
 * budget ran out, or `signal` was aborted.
 */
export type StopReason = 'exhausted' | 'evaluations' | 'seconds' | 'aborted';

export type Evaluate = (p: Point) => Promise<Outcome>;

export interface RunOptions {
  readonly budget: Budget;
  /** Everything a strategy does (which points, in which order) is a function of the seed and the outcomes. */
  readonly seed: number;
  /**
   * Outcomes from an earlier run, keyed by `pointKey`: learned from, never asked again, and not
   * counted against the budget. Passed in the earlier run's evaluation order (a Map keeps insertion
   * order), a resumed run asks exactly what the uninterrupted run would have asked next. Keys that
   * are not valid points of the space are ignored.
   */
  readonly known?: ReadonlyMap<string, Outcome>;
  /** Called as each evaluation of this run completes (not for `known` points), with the best so far (known points included). */
  readonly onResult?: (p: Point, o: Outcome, best: Best | undefined) => void;
  /** Milliseconds, for the `seconds` budget; `performance.now` unless given (tests pass a fake clock). */
  readonly now?: () => number;
  /** Checked before each batch: an aborted signal ends the search with what it has (the batch in flight finishes). */
  readonly signal?: AbortSignal;
  /**
   * How many points to evaluate at once (default 1). Points are chosen in batches of this size and
   * their outcomes recorded in the order chosen, so the same seed and parallelism give the same
   * result whatever order the evaluations finish in; a different parallelism may choose differently.
   */
  readonly parallel?: number;
}

export interface SearchResult {
  /** The lowest cost among successful outcomes of this run and the `known` ones; undefined when none succeeded. */
  readonly best?: Best;
  /** How many times this run called `evaluate`. */
  readonly evaluated: number;
  /** This run's evaluations, in order (`known` points are not repeated here). */
  readonly history: readonly HistoryEntry[];
  /** How many `known` outcomes were valid points of the space (and so were reused). */
  readonly reused: number;
  readonly stopped: StopReason;
}

export type StrategyName = 'exhaustive' | 'random' | 'guided';

export interface Strategy {
  readonly name: StrategyName;
  /**
   * Runs the search. `evaluate` is called at most once per point, with at most `parallel` calls in
   * flight; an exception from it (or from `valid` or `onResult`) ends the search and propagates — outcomes
   * reported through `onResult` up to then can be passed back as `known` to resume.
   */
  run(space: SearchSpace, evaluate: Evaluate, opts: RunOptions): Promise<SearchResult>;
}

/**
 * The canonical text of a point: `name=value` pairs sorted by name, comma-separated
 * (`BK=32,BM=128,BN=64`). Sorted rather than in the space's dimension order so that the key never
 * depends on the order an object's properties were created in.
 */
export function pointKey(p: Point): string {
  return Object.keys(p)
    .sort()
    .map((k) => `${k}=${String(p[k])}`)
    .join(',');
}
