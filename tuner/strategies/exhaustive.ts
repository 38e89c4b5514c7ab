/** Every valid point in lexicographic order of the dimensions (the first varies slowest), skipping known ones. */
import { SearchSession, runSearch } from './session.js';
import type { Strategy } from './types.js';

export const exhaustive: Strategy = {
  name: 'exhaustive',
  async run(space, evaluate, opts) {
    const session = new SearchSession(space, evaluate, opts);
    let i = 0;
    return runSearch(session, () => {
      while (i < session.table.size && session.isDone(i)) i++;
      return i < session.table.size ? i : undefined;
    });
  },
};
