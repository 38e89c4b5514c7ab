/** The tuner's search strategies (docs/tuner-strategies.md). */
import { exhaustive } from './exhaustive.js';
import { guided } from './guided.js';
import { random } from './random.js';
import type { Strategy, StrategyName } from './types.js';

export * from './types.js';
export { MAX_SPACE_POINTS } from './space.js';

export const STRATEGY_NAMES: readonly StrategyName[] = ['exhaustive', 'random', 'guided'];

export function makeStrategy(name: StrategyName): Strategy {
  switch (name) {
    case 'exhaustive':
      return exhaustive;
    case 'random':
      return random;
    case 'guided':
      return guided;
    default:
      throw new RangeError(`unknown search strategy '${String(name)}' (expected ${STRATEGY_NAMES.join(', ')})`);
  }
}
