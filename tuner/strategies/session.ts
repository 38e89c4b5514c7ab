/**
 * What every strategy's run shares: the record of outcomes (known ones and this run's), the best
 * so far, the budget and abort checks before each evaluation, the progress callback and the result.
 * A strategy only decides which valid point (by its index in the SpaceTable) to ask next.
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
  private readonly done: Uint8Array;
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
    this.done = new Uint8Array(this.table.size);
    for (const [key, outcome] of opts.known ?? []) {
      const i = this.table.indexOf(key);
      if (i !== undefined && !this.done[i]) this.record(i, outcome);
    }
    this.reused = this.observations.length;
    this.now = opts.now ?? (() => performance.now());
    this.start = this.now();
  }

  isDone(i: number): boolean {
    return this.done[i] === 1;
  }

  /** Valid points without an outcome yet. */
  get remaining(): number {
    return this.table.size - this.observations.length;
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

  /** Evaluates valid point i (which must not have an outcome yet) and records the outcome. */
  async ask(i: number): Promise<Outcome> {
    if (this.done[i]) throw new Error(`internal: strategy asked point ${this.table.keys[i]} twice`);
    const point = this.table.points[i]!;
    const outcome = await this.evaluate(point);
    this.evaluated++;
    this.history.push({ point, outcome });
    this.record(i, outcome);
    this.opts.onResult?.(point, outcome, this.bestSoFar());
    return outcome;
  }

  finish(stopped: StopReason): SearchResult {
    const best = this.bestSoFar();
    return { ...(best ? { best } : {}), evaluated: this.evaluated, history: this.history, reused: this.reused, stopped };
  }

  private bestSoFar(): Best | undefined {
    return this.best ? { point: this.best.point, cost: this.best.cost } : undefined;
  }

  private record(i: number, outcome: Outcome): void {
    this.done[i] = 1;
    this.observations.push({ index: i, outcome });
    const cost = usableCost(outcome);
    if (cost !== undefined && (this.best === undefined || cost < this.best.cost)) {
      this.best = { point: this.table.points[i]!, cost, index: i };
    }
  }
}

function checkBudget(opts: RunOptions): void {
  const { evaluations, seconds } = opts.budget;
  if (evaluations !== undefined && !(evaluations >= 0)) throw new RangeError(`budget.evaluations must be ≥ 0, got ${evaluations}`);
  if (seconds !== undefined && !(seconds >= 0)) throw new RangeError(`budget.seconds must be ≥ 0, got ${seconds}`);
  if (!Number.isFinite(opts.seed)) throw new RangeError(`seed must be a finite number, got ${opts.seed}`);
}

/**
 * The loop every strategy runs: ask `next()` for a point without an outcome until the budget, the
 * space or the signal ends the search. `next` returns undefined when it has nothing left to ask.
 */
export async function runSearch(session: SearchSession, next: () => number | undefined): Promise<SearchResult> {
  for (;;) {
    const stop = session.mustStop();
    if (stop) return session.finish(stop);
    const i = next();
    if (i === undefined) return session.finish('exhausted');
    await session.ask(i);
  }
}
