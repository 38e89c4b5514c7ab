/** Valid points in a seeded random order, without replacement, skipping known ones. */
import { permutation, rngFor } from './prng.js';
import { SearchSession, runSearch } from './session.js';
import type { Strategy } from './types.js';

const STREAM_ORDER = 1;

export const random: Strategy = {
  name: 'random',
  async run(space, evaluate, opts) {
    const session = new SearchSession(space, evaluate, opts);
    const order = permutation(rngFor(opts.seed, STREAM_ORDER), session.table.size);
    let k = 0;
    return runSearch(session, () => {
      while (k < order.length && session.isDone(order[k]!)) k++;
      return k < order.length ? order[k] : undefined;
    });
  },
};
