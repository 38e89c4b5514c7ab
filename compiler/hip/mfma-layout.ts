/**
 * AMD MFMA register layouts (CDNA2/CDNA3, wave64), in the shared layout form of compiler/layout.ts.
 * From AMD's documented layouts (CDNA3 ISA, "Matrix fused multiply-add"; AMD's matrix instruction
 * calculator), for lane l of a wavefront:
 * - 32×32×8 (f16, bf16_1k): A[m = l % 32][k = 4·(l / 32) + j] and B[k = 4·(l / 32) + j][n = l % 32]
 *   in element j of the 4-vector; accumulator register r (0–15) holds
 *   C[8·(r / 4) + 4·(l / 32) + r % 4][l % 32].
 * - 16×16×16 (f16, bf16_1k): A[l % 16][4·(l / 16) + j], B[4·(l / 16) + j][l % 16]; register r
 *   (0–3) holds C[4·(l / 16) + r][l % 16].
 */
import { type BaseTerm, type Layout, make } from '../layout.js';

/** log2 of the lanes of a CDNA wavefront. */
export const AMD_LANE_BITS = 6;

export type MfmaSize = 16 | 32;

/** K of one MFMA step for 16-bit inputs. */
export function mfmaK(size: MfmaSize): number {
  return size === 32 ? 8 : 16;
}

/** Accumulator registers per lane of one fragment. */
export function mfmaAccRegs(size: MfmaSize): number {
  return size === 32 ? 16 : 4;
}

/** Row of accumulator register `r` within a fragment, for the lane group `g` (l / size). */
export function mfmaAccRow(size: MfmaSize, r: number, g: number): number {
  return size === 32 ? 8 * (r >> 2) + 4 * g + (r & 3) : 4 * g + r;
}

/**
 * The accumulator layout of an [M, N] dot result over `waves` wavefronts: waves tiled wm × wn
 * (as many along M as fragments allow), each holding mt × nt fragments of size × size.
 */
export function mfmaLayout(M: number, N: number, waves: number, size: MfmaSize): Layout | undefined {
  // The most square per-wave tile among the grids that fit (ties: more waves along M), so each
  // wave reads as few LDS operand bytes per MFMA as possible.
  let best: { wm: number; wn: number } | undefined;
  for (let wm = waves; wm >= 1; wm /= 2) {
    const wn = waves / wm;
    if (M % (size * wm) !== 0 || N % (size * wn) !== 0) continue;
    if (!best || Math.abs(Math.log2(M / wm / (N / wn))) < Math.abs(Math.log2(M / best.wm / (N / best.wn)))) best = { wm, wn };
  }
  if (!best) return undefined;
  const { wm, wn } = best;
  const mt = M / wm / size;
  const nt = N / wn / size;
  const per = mfmaAccRegs(size);
  const rows: number[] = [];
  const cols: number[] = [];
  for (let mi = 0; mi < mt; mi++) {
    for (let ni = 0; ni < nt; ni++) {
      for (let r = 0; r < per; r++) {
        rows.push(mi * size + mfmaAccRow(size, r, 0));
        cols.push(ni * size);
      }
    }
  }
  const colBits = Math.log2(size);
  const rowBase: BaseTerm[] = [{ from: 'lane', shift: colBits, bits: AMD_LANE_BITS - colBits, scale: 4 }];
  if (wm > 1) rowBase.push({ from: 'warp', shift: Math.log2(wn), bits: Math.log2(wm), scale: M / wm });
  const colBase: BaseTerm[] = [{ from: 'lane', shift: 0, bits: colBits, scale: 1 }];
  if (wn > 1) colBase.push({ from: 'warp', shift: 0, bits: Math.log2(wn), scale: N / wn });
  return make([M, N], [rows, cols], [rowBase, colBase], { M, N, wm, wn, mt, nt, mfma: size });
}
