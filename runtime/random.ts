/** Seeded, deterministic random numbers for kernel inputs (mulberry32 + Box–Muller): the same seed gives the same tensors. */
import type { DType } from '../dsl/dtype.js';
import { roundToDType } from '../dsl/float-rounding.js';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  normal(): number;
}

export function makeRng(seed: number): Rng {
  let s = seed >>> 0;
  let spare: number | undefined; // Box–Muller yields pairs; keep the second
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(1 - next())); // 1 - next() ∈ (0, 1]: no log(0)
    const th = 2 * Math.PI * next();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
  return { next, normal };
}

/** n normal samples × scale, each rounded to dtype so the inputs are exactly representable in it. */
export function randomTensor(rng: Rng, n: number, dtype: DType, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = roundToDType(dtype, rng.normal() * scale);
  return out;
}
