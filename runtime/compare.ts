/** Tolerance checks of kernel outputs against float64 references (relative L2 error). */
import type { DType } from '../dsl/dtype.js';

/**
 * ‖out − ref‖₂ / ‖ref‖₂ in float64. Infinity when the lengths differ or out has a NaN
 * (a NaN must never pass a tolerance); ‖out‖₂ when ref is all zeros.
 */
export function relL2(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (out.length !== ref.length) return Infinity;
  let diff = 0;
  let norm = 0;
  let outNorm = 0;
  for (let i = 0; i < out.length; i++) {
    const o = out[i];
    if (Number.isNaN(o)) return Infinity;
    diff += (o - ref[i]) ** 2;
    norm += ref[i] ** 2;
    outNorm += o ** 2;
  }
  return norm === 0 ? Math.sqrt(outNorm) : Math.sqrt(diff) / Math.sqrt(norm);
}

/** Throws unless relL2(out, ref) ≤ tol; the message carries context (seed, shape) and the worst elements. */
export function expectClose(out: ArrayLike<number>, ref: ArrayLike<number>, tol: number, context: string): void {
  const err = relL2(out, ref);
  if (err <= tol) return;
  let nans = 0;
  for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i])) nans++;
  const n = Math.min(out.length, ref.length);
  const absErr = (i: number): number => {
    const d = Math.abs(out[i] - ref[i]);
    return Number.isNaN(d) ? Infinity : d; // NaNs rank as worst
  };
  const worst = Array.from({ length: n }, (_, i) => i)
    .sort((i, j) => absErr(j) - absErr(i) || i - j)
    .slice(0, 5)
    .map((i) => `[${i}] out=${out[i]} ref=${ref[i]}`);
  const lengths = out.length === ref.length ? '' : `; length out=${out.length} ref=${ref.length}`;
  throw new Error(
    `${context}: relL2 ${err} exceeds tolerance ${tol}; NaNs in out: ${nans}${lengths}; worst: ${worst.join(', ')}`,
  );
}

/** Relative L2 tolerance per output dtype (the brief's f16 and bf16 bounds, f32 accumulation; integers and bool exact). */
export const OUTPUT_TOLERANCE: Readonly<Record<DType, number>> = {
  f16: 3e-3,
  bf16: 1e-2,
  f32: 1e-5,
  f8e4m3: 6e-2,
  f8e5m2: 1.2e-1,
  i32: 0,
  i64: 0,
  bool: 0,
};
