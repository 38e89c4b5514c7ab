export { makeRng, randomTensor, type Rng } from '../../runtime/random.js';

/** TILEKIT_SEED when set (so a failure can be replayed), else defaultSeed. */
export function seedFromEnv(defaultSeed: number): number {
  const raw = process.env.TILEKIT_SEED;
  if (raw === undefined || raw.trim() === '') return defaultSeed;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`TILEKIT_SEED must be an integer, got '${raw}'`);
  return seed;
}
