/**
 * Distributed layouts: how a tile's elements are spread over the threads of a block (CTA or
 * workgroup) and their registers. Shared by both backends: a lane is one of `2^laneBits` threads
 * of a warp (32 on NVIDIA) or wavefront (64 on AMD). Every layout has the same form — the coordinate of register `i` of a thread along
 * axis `a` is `base[a](thread) + offsets[a][i]`, where `base[a]` sums bit fields of the lane and
 * warp index — so elementwise ops, loads, stores, broadcasts and reductions are written once for
 * all of them:
 * - `mma`: the accumulator of `mma.sync` m16n8 (NVIDIA; compiler/hip/mfma-layout.ts has AMD's) (warps tiled wm × wn over the tile; per 16×8
 *   fragment, lane (g = lane/4, t = lane%4) holds rows g and g+8, columns 2t and 2t+1);
 * - `blocked`: consecutive threads own consecutive elements along the last axis (coalesced);
 * - slices and collapses of either (a reduction's result, a broadcast's source);
 * - `scalar`: one register, the same in every thread.
 */

/** A bit field of the thread index: `((lane or warp) >> shift) & (2^bits − 1)`, times `scale`. */
export interface BaseTerm {
  readonly from: 'lane' | 'warp';
  readonly shift: number;
  readonly bits: number;
  readonly scale: number;
}

/**
 * The warp grid of a matrix-instruction accumulator: wm × wn warps over an M × N tile, each with
 * mt × nt fragments. `mfma`: the fragment edge of an AMD MFMA layout (absent for mma.sync m16n8).
 */
export interface MmaGrid {
  readonly M: number;
  readonly N: number;
  readonly wm: number;
  readonly wn: number;
  readonly mt: number;
  readonly nt: number;
  readonly mfma?: 16 | 32;
}

export interface Layout {
  readonly key: string;
  readonly shape: readonly number[];
  readonly nregs: number;
  /** offsets[axis][reg]. */
  readonly offsets: readonly (readonly number[])[];
  /** base[axis]: the terms summed into the thread's base coordinate. */
  readonly base: readonly (readonly BaseTerm[])[];
  /** For mma layouts: the warp grid and fragment counts, which dot lowering needs. */
  readonly mma?: MmaGrid;
}

function log2(n: number): number {
  return Math.round(Math.log2(n));
}

export function isPow2(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function keyOf(shape: readonly number[], offsets: readonly (readonly number[])[], base: readonly (readonly BaseTerm[])[]): string {
  return JSON.stringify([shape, offsets, base]);
}

export function make(shape: readonly number[], offsets: number[][], base: BaseTerm[][], mma?: Layout['mma']): Layout {
  const l: Layout = { key: keyOf(shape, offsets, base), shape, nregs: offsets[0]?.length ?? 1, offsets, base };
  return mma ? { ...l, mma } : l;
}

export const SCALAR: Layout = { key: 'scalar', shape: [], nregs: 1, offsets: [], base: [] };

/** The warp grid for an [M, N] mma tile: as many warps along M as 16-row fragments allow. */
export function mmaWarps(M: number, N: number, warps: number): { wm: number; wn: number } | undefined {
  for (let wm = warps; wm >= 1; wm /= 2) {
    const wn = warps / wm;
    if (M % (16 * wm) === 0 && N % (8 * wn) === 0) return { wm, wn };
  }
  return undefined;
}

export function mmaLayout(M: number, N: number, warps: number): Layout | undefined {
  const w = mmaWarps(M, N, warps);
  if (!w) return undefined;
  const { wm, wn } = w;
  const mt = M / wm / 16;
  const nt = N / wn / 8;
  const rows: number[] = [];
  const cols: number[] = [];
  for (let mi = 0; mi < mt; mi++) {
    for (let ni = 0; ni < nt; ni++) {
      for (let c = 0; c < 4; c++) {
        rows.push(mi * 16 + 8 * (c >> 1));
        cols.push(ni * 8 + (c & 1));
      }
    }
  }
  const rowBase: BaseTerm[] = [{ from: 'lane', shift: 2, bits: 3, scale: 1 }];
  if (wm > 1) rowBase.push({ from: 'warp', shift: log2(wn), bits: log2(wm), scale: M / wm });
  const colBase: BaseTerm[] = [{ from: 'lane', shift: 0, bits: 2, scale: 2 }];
  if (wn > 1) colBase.push({ from: 'warp', shift: 0, bits: log2(wn), scale: N / wn });
  return make([M, N], [rows, cols], [rowBase, colBase], { M, N, wm, wn, mt, nt });
}

/** log2 of the lanes per warp on NVIDIA (32); AMD wavefronts pass 6 (64 lanes). */
export const NVIDIA_LANE_BITS = 5;

/** Terms for thread-index bits [lo, lo + bits) of tid = warp·2^laneBits + lane, scaled. */
function tidBits(lo: number, bits: number, scale: number, laneBits: number): BaseTerm[] {
  const terms: BaseTerm[] = [];
  const laneEnd = Math.min(lo + bits, laneBits);
  if (lo < laneBits && laneEnd > lo) terms.push({ from: 'lane', shift: lo, bits: laneEnd - lo, scale });
  const wLo = Math.max(lo, laneBits);
  if (lo + bits > wLo) terms.push({ from: 'warp', shift: wLo - laneBits, bits: lo + bits - wLo, scale: scale * 2 ** (wLo - lo) });
  return terms;
}

/** Elements each thread holds contiguously along the last axis of a blocked layout (one vector access). */
export const BLOCKED_VEC = 4;

/**
 * Threads spread over the last axis first (coalesced), each holding runs of `BLOCKED_VEC`
 * contiguous elements (so a load or store can be one vector access), then over the axis before;
 * what is left repeats. Tile sizes must be powers of two.
 */
export function blockedLayout(shape: readonly number[], threads: number, laneBits = NVIDIA_LANE_BITS): Layout | undefined {
  if (shape.length === 0) return SCALAR;
  if (shape.length > 2 || !shape.every(isPow2)) return undefined;
  const C = shape[shape.length - 1]!;
  const vec = Math.min(BLOCKED_VEC, C);
  const tc = Math.min(C / vec, threads);
  const kc = C / (tc * vec);
  // Column offsets of a thread's registers: runs of `vec`, `tc · vec` apart.
  const colOffsets: number[] = [];
  for (let k = 0; k < kc; k++) for (let e = 0; e < vec; e++) colOffsets.push(k * tc * vec + e);
  const colBase = tidBits(0, log2(tc), vec, laneBits);
  if (shape.length === 1) return make([C], [colOffsets], [colBase]);
  const R = shape[0]!;
  const tr = Math.min(R, threads / tc);
  const kr = R / tr;
  const rows: number[] = [];
  const cols: number[] = [];
  for (let r = 0; r < kr; r++) {
    for (const c of colOffsets) {
      rows.push(r * tr);
      cols.push(c);
    }
  }
  return make([R, C], [rows, cols], [tidBits(log2(tc), log2(tr), 1, laneBits), colBase]);
}

/**
 * Groups of registers that hold `n` consecutive elements along the last axis, starting at a
 * multiple of `n`: candidates for one vector access. Returns the first register of each group.
 */
export function vectorRuns(l: Layout, n: number): number[] | undefined {
  if (l.shape.length === 0 || l.nregs % n !== 0) return undefined;
  const last = l.offsets[l.shape.length - 1]!;
  const runs: number[] = [];
  for (let i = 0; i < l.nregs; i += n) {
    if (last[i]! % n !== 0) return undefined;
    for (let e = 1; e < n; e++) {
      if (last[i + e] !== last[i]! + e) return undefined;
      for (let a = 0; a < l.shape.length - 1; a++) if (l.offsets[a]![i + e] !== l.offsets[a]![i]) return undefined;
    }
    runs.push(i);
  }
  // The thread's base along the last axis must keep runs aligned.
  const base = l.base[l.shape.length - 1] ?? [];
  if (base.some((t) => t.scale % n !== 0)) return undefined;
  return runs;
}

/**
 * The layout of a size-1 version of `axes` of `l` (a broadcast's source): those axes lose their
 * base terms and offsets, and registers that become identical merge. `regMap[i]` is the
 * collapsed register that register `i` of `l` reads.
 */
export function collapse(l: Layout, axes: readonly number[]): { layout: Layout; regMap: number[] } {
  if (l.shape.length === 0) return { layout: l, regMap: [0] };
  const shape = l.shape.map((d, a) => (axes.includes(a) ? 1 : d));
  const seen = new Map<string, number>();
  const offsets: number[][] = shape.map(() => []);
  const regMap: number[] = [];
  for (let i = 0; i < l.nregs; i++) {
    const coord = l.offsets.map((o, a) => (axes.includes(a) ? 0 : o[i]!));
    const k = coord.join(',');
    let j = seen.get(k);
    if (j === undefined) {
      j = seen.size;
      seen.set(k, j);
      coord.forEach((c, a) => offsets[a]!.push(c));
    }
    regMap.push(j);
  }
  const base = l.base.map((b, a) => (axes.includes(a) ? [] : [...b]));
  return { layout: make(shape, offsets, base), regMap };
}

/** Removes a size-1 axis (the inverse of expand_dims). */
export function removeAxis(l: Layout, axis: number): Layout {
  if (l.shape[axis] !== 1) throw new Error(`removeAxis: axis ${axis} of [${l.shape}] is not 1`);
  const shape = l.shape.filter((_, a) => a !== axis);
  if (shape.length === 0) return SCALAR;
  return make(
    shape,
    l.offsets.filter((_, a) => a !== axis).map((o) => [...o]),
    l.base.filter((_, a) => a !== axis).map((b) => [...b]),
  );
}

/** The layout a reduction of `l` along `axis` produces. */
export function sliceLayout(l: Layout, axis: number): { layout: Layout; regMap: number[] } {
  const c = collapse(l, [axis]);
  return { layout: removeAxis(c.layout, axis), regMap: c.regMap };
}

/** Thread-index bits that no axis uses: threads differing only there hold the same elements. */
export function replicationMask(l: Layout, threads: number, laneBits = NVIDIA_LANE_BITS): number {
  let used = 0;
  for (const terms of l.base) {
    for (const t of terms) {
      const lo = t.from === 'lane' ? t.shift : t.shift + laneBits;
      for (let b = 0; b < t.bits; b++) used |= 1 << (lo + b);
    }
  }
  return (threads - 1) & ~used;
}
