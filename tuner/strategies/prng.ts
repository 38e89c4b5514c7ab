/** Seeded randomness for the strategies: runtime/random.ts's mulberry32, one independent stream per purpose. */
import { type Rng, makeRng } from '../../runtime/random.js';

/** A generator for `seed` and a purpose `stream`, so that two uses of one seed never share a sequence. */
export function rngFor(seed: number, stream: number): Rng {
  // splitmix32-style mixing of (seed, stream) into mulberry32's 32-bit state
  let h = (Math.trunc(seed) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return makeRng((h ^ (h >>> 16)) >>> 0);
}

/** An integer in [0, n). */
export function below(rng: Rng, n: number): number {
  return Math.floor(rng.next() * n);
}

/** 0 … n−1 in a seeded random order (Fisher–Yates). */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = below(rng, i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
