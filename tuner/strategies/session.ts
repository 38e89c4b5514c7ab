/**
 * What every strategy's run shares: the record of outcomes (known ones and this run's), the best
 * so far, the budget and abort checks before each batch, the progress callback and the result.
 * A strategy only decides which valid point (by its index in the SpaceTable) to ask next.
 *
 * With `parallel` > 1 the session asks a batch of points at once: the strategy picks them one after
 * another (seeing the earlier ones of the batch as `pending`), they are evaluated concurrently, and
 * their outcomes are recorded in the order they were picked once the whole batch is back. So the
 * points asked depend on the seed, the parallelism and the outcomes, never on which evaluation
 * finished first.
 */
import { SpaceTable } from './space.js';
import type { Best, Evaluate, HistoryEntry, Outcome, RunOptions, SearchResult, SearchSpace, StopReason } from './types.js';

export interface Observation {
  readonly index: number;
  readonly outcome: Outcome;
}

/** A successful outcome with a cost a search can rank (finite); anything else is treated as a failure. */
export function usableCost(o: Outcome): number | undefined {
  return o.ok && Number.isFinite(o.cost) ? o.cost : undefined;
}

export class SearchSession {
  readonly table: SpaceTable;
  /** Every outcome so far, `known` ones first (in the map's order), then this run's, in order. */
  readonly observations: Observation[] = [];
  /** 1 when a point has an outcome or is being evaluated in the current batch. */
  private readonly taken: Uint8Array;
  /** The current batch's points, in the order they were picked. */
  readonly pending: number[] = [];
  private readonly history: HistoryEntry[] = [];
  private best: (Best & { index: number }) | undefined;
  private evaluated = 0;
  private readonly reused: number;
  private readonly start: number;
  private readonly now: () => number;

  constructor(
    space: SearchSpace,
    private readonly evaluate: Evaluate,
    private readonly opts: RunOptions,
  ) {
    checkBudget(opts);
    this.table = new SpaceTable(space);
    this.taken = new Uint8Array(this.table.size);
    for (const [key, outcome] of opts.known ?? []) {
      const i = this.table.indexOf(key);
      if (i !== undefined && !this.taken[i]) this.record(i, outcome);
    }
    this.reused = this.observations.length;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** Whether point i has an outcome or is pending: a strategy never picks it again. */
  isDone(i: number): boolean {
    return this.taken[i] === 1;
  }

  /** Valid points without an outcome yet. */
  get remaining(): number {
    return this.table.size - this.observations.length;
  }

  /** How many points the next batch may hold: the parallelism, cut to the evaluation budget and the space. */
  batchSize(): number {
    const { evaluations } = this.opts.budget;
    const left = evaluations === undefined ? Infinity : evaluations - this.evaluated;
    return Math.max(0, Math.min(this.opts.parallel ?? 1, left, this.remaining));
  }

  /** Why no further evaluation may start, if none may. */
  mustStop(): StopReason | undefined {
    if (this.remaining === 0) return 'exhausted';
    if (this.opts.signal?.aborted) return 'aborted';
    const { evaluations, seconds } = this.opts.budget;
    if (evaluations !== undefined && this.evaluated >= evaluations) return 'evaluations';
    if (seconds !== undefined && this.now() - this.start >= seconds * 1000) return 'seconds';
    return undefined;
  }

  /** Adds valid point i (which must not be taken) to the current batch. */
  pick(i: number): void {
    if (this.taken[i]) throw new Error(`internal: strategy asked point ${this.table.keys[i]} twice`);
    this.taken[i] = 1;
    this.pending.push(i);
  }

  /**
   * Evaluates the current batch concurrently. `onResult` is called as each outcome arrives (so a
   * caller can persist it at once); the outcomes join the record in the order the points were
   * picked. An exception from an evaluation ends the search once the batch has settled.
   */
  async askPending(): Promise<void> {
    const batch = this.pending.splice(0);
    let provisional = this.best;
    const settled = await Promise.allSettled(
      batch.map(async (i) => {
        const point = this.table.points[i]!;
        const outcome = await this.evaluate(point);
        this.evaluated++;
        const cost = usableCost(outcome);
        if (cost !== undefined && (provisional === undefined || cost < provisional.cost)) provisional = { point, cost, index: i };
        this.opts.onResult?.(point, outcome, provisional && { point: provisional.point, cost: provisional.cost });
        return outcome;
      }),
    );
    settled.forEach((s, k) => {
      if (s.status !== 'fulfilled') return;
      const i = batch[k]!;
      this.history.push({ point: this.table.points[i]!, outcome: s.value });
      this.record(i, s.value);
    });
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
  }

  finish(stopped: StopReason): SearchResult {
    const best = this.bestSoFar();
    return { ...(best ? { best } : {}), evaluated: this.evaluated, history: this.history, reused: this.reused, stopped };
  }

  private bestSoFar(): Best | undefined {
    return this.best ? { point: this.best.point, cost: this.best.cost } : undefined;
  }

  private record(i: number, outcome: Outcome): void {
    this.taken[i] = 1;
    this.observations.push({ index: i, outcome });
    const cost = usableCost(outcome);
    if (cost !== undefined && (this.best === undefined || cost < this.best.cost)) {
      this.best = { point: this.table.points[i]!, cost, index: i };
    }
  }
}

function checkBudget(opts: RunOptions): void {
  const { evaluations, seconds } = opts.budget;
  if (opts.parallel !== undefined && !(Number.isInteger(opts.parallel) && opts.parallel >= 1)) throw new RangeError(`parallel must be an integer ≥ 1, got ${opts.parallel}`);
  if (evaluations !== undefined && !(evaluations >= 0)) throw new RangeError(`budget.evaluations must be ≥ 0, got ${evaluations}`);
  if (seconds !== undefined && !(seconds >= 0)) throw new RangeError(`budget.seconds must be ≥ 0, got ${seconds}`);
  if (!Number.isFinite(opts.seed)) throw new RangeError(`seed must be a finite number, got ${opts.seed}`);
}

/**
 * The loop every strategy runs: fill a batch by asking `next()` for points not taken yet, evaluate
 * it, and repeat until the budget, the space or the signal ends the search. `next` returns
 * undefined when it has nothing left to ask.
 */
export async function runSearch(session: SearchSession, next: () => number | undefined): Promise<SearchResult> {
  for (;;) {
    const stop = session.mustStop();
    if (stop) return session.finish(stop);
    for (let n = session.batchSize(); n > 0; n--) {
      const i = next();
      if (i === undefined) break;
      session.pick(i);
    }
    if (session.pending.length === 0) return session.finish('exhausted');
    await session.askPending();
  }
}
