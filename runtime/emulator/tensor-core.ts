/**
 * Tensor-core instructions of the PTX emulator: `mma.sync` (m16n8k16 / m16n8k8, f16 and bf16
 * multiplicands), `ldmatrix` and `stmatrix` (.m8n8 .b16).
 *
 * Register values are raw bits, as everywhere in the emulator core: a 32-bit register is a number in
 * [0, 2^32); an .f16x2 / bf16x2 register holds element 0 in bits 15..0 and element 1 in bits 31..16;
 * an .f32 register holds the float's bit pattern.
 *
 * Layout formulas are transcribed from the PTX ISA (section names cited at each one):
 *   groupID = laneid >> 2, threadID_in_group = laneid % 4, and for a fragment element ai the
 *   register is i >> 1 and the half inside it is i & 1 (elements are numbered low to high).
 */
import { bf16FromBits, decodeBits, encodeBits, f16FromBits, f16ToBits } from '../../dsl/float-rounding.js';

export type MmaShape = 'm16n8k16' | 'm16n8k8';

export interface MmaSpec {
  readonly shape: MmaShape;
  /** Type of A and B (the ISA requires .atype === .btype for these forms). */
  readonly aType: 'f16' | 'bf16';
  readonly cType: 'f16' | 'f32';
  readonly dType: 'f16' | 'f32';
}

/** Row/column of one fragment element inside its matrix. */
export interface FragmentCoord {
  readonly row: number;
  readonly col: number;
}

/** Registers per lane for each operand, and elements per register (2 for x2-packed, 1 for .f32). */
export interface MmaFragmentSizes {
  readonly aRegs: number;
  readonly bRegs: number;
  readonly cRegs: number;
  readonly dRegs: number;
  readonly cPerReg: 1 | 2;
  readonly dPerReg: 1 | 2;
}

export const WARP_SIZE = 32;

/** Matrix dimensions of a shape: A is M×K, B is K×N, C and D are M×N. */
export function mmaDims(shape: MmaShape): { readonly m: number; readonly n: number; readonly k: number } {
  return shape === 'm16n8k16' ? { m: 16, n: 8, k: 16 } : { m: 16, n: 8, k: 8 };
}

export function mmaFragmentSizes(spec: MmaSpec): MmaFragmentSizes {
  const k16 = spec.shape === 'm16n8k16';
  return {
    aRegs: k16 ? 4 : 2,
    bRegs: k16 ? 2 : 1,
    cRegs: spec.cType === 'f32' ? 4 : 2,
    dRegs: spec.dType === 'f32' ? 4 : 2,
    cPerReg: spec.cType === 'f32' ? 1 : 2,
    dPerReg: spec.dType === 'f32' ? 1 : 2,
  };
}

/**
 * Parses the modifiers after `mma` (e.g. sync.aligned.m16n8k16.row.col.f32.f16.f16.f32, whose types
 * are .dtype.atype.btype.ctype). Accepted, per "Multiply-and-Accumulate Instruction: mma" (syntax
 * plus its per-shape type restrictions: for .m16n8k8 and .m16n8k16 .dtype must equal .ctype, and
 * .atype must equal .btype; bf16 only with f32; only .row.col), for both shapes:
 *   .f16.f16.f16.f16, .f32.f16.f16.f32, .f32.bf16.bf16.f32
 */
export function parseMmaModifiers(mods: readonly string[]): MmaSpec {
  const form = `mma.${mods.join('.')}`;
  const fail = (why: string): never => {
    throw new Error(`unsupported mma form: ${form} (${why})`);
  };
  if (mods.length !== 9) fail('expected mma.sync.aligned.<shape>.row.col.<dtype>.<atype>.<btype>.<ctype>');
  const [sync, aligned, shape, alayout, blayout, dType, aType, bType, cType] = mods;
  if (sync !== 'sync' || aligned !== 'aligned') fail('.sync.aligned is required');
  if (shape !== 'm16n8k16' && shape !== 'm16n8k8') fail(`shape .${shape} is not emulated`);
  if (alayout !== 'row' || blayout !== 'col') fail('only .row.col is valid for this shape');
  if (aType !== bType) fail('.atype must equal .btype');
  if (aType !== 'f16' && aType !== 'bf16') fail(`multiplicand type .${aType} is not emulated`);
  if (dType !== cType) fail('.dtype must equal .ctype for this shape');
  if (cType !== 'f16' && cType !== 'f32') fail(`accumulator type .${cType} is not valid`);
  if (aType === 'bf16' && cType !== 'f32') fail('.bf16 requires .f32 accumulators');
  return {
    shape: shape as MmaShape,
    aType: aType as 'f16' | 'bf16',
    cType: cType as 'f16' | 'f32',
    dType: dType as 'f16' | 'f32',
  };
}

function checkIndex(what: string, v: number, limit: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= limit) throw new RangeError(`${what} ${v} out of range [0, ${limit})`);
}

/**
 * Element (lane, reg, half) of multiplicand A (M×K, .row).
 * "Matrix Fragments for mma.m16n8k16 with floating point type", A .f16/.bf16:
 *   row = groupID for ai with 0 <= i < 2 || 4 <= i < 6, else groupID + 8
 *   col = threadID_in_group*2 + (i & 1), + 8 when i >= 4
 * "Matrix Fragments for mma.m16n8k8", A .f16/.bf16:
 *   row = groupID for a0, a1, groupID + 8 for a2, a3;  col = threadID_in_group*2 + (i & 1)
 * With i = 2*reg + half both reduce to: row = g + 8*(reg & 1), col = 2t + half + 8*(reg >> 1)
 * (for m16n8k8 reg < 2, so the +8 column term never applies).
 */
export function fragmentCoordsA(spec: MmaSpec, lane: number, reg: number, half: number): FragmentCoord {
  checkIndex('lane', lane, WARP_SIZE);
  checkIndex('A register', reg, mmaFragmentSizes(spec).aRegs);
  checkIndex('half', half, 2);
  const g = lane >> 2;
  const t = lane & 3;
  return { row: g + 8 * (reg & 1), col: 2 * t + half + 8 * (reg >> 1) };
}

/**
 * Element (lane, reg, half) of multiplicand B (K×N, .col).
 * "Matrix Fragments for mma.m16n8k16 with floating point type", B .f16/.bf16:
 *   row = threadID_in_group*2 + (i & 1), + 8 when i >= 2;  col = groupID
 * "Matrix Fragments for mma.m16n8k8", B .f16/.bf16: row = threadID_in_group*2 + i;  col = groupID
 * With i = 2*reg + half: row = 2t + half + 8*reg, col = g.
 */
export function fragmentCoordsB(spec: MmaSpec, lane: number, reg: number, half: number): FragmentCoord {
  checkIndex('lane', lane, WARP_SIZE);
  checkIndex('B register', reg, mmaFragmentSizes(spec).bRegs);
  checkIndex('half', half, 2);
  return { row: 2 * (lane & 3) + half + 8 * reg, col: lane >> 2 };
}

/**
 * Element ci of the accumulator, same table for both shapes ("Matrix Fragments for mma.m16n8k16 with
 * floating point type" and "... for mma.m16n8k8", accumulators C/D):
 *   row = groupID for i < 2, groupID + 8 for i >= 2;  col = threadID_in_group*2 + (i & 1)
 * .f32: four registers, ci is register i (half must be 0). .f16: two .f16x2 registers, i = 2*reg + half.
 */
function accCoords(type: 'f16' | 'f32', lane: number, reg: number, half: number): FragmentCoord {
  checkIndex('lane', lane, WARP_SIZE);
  checkIndex('accumulator register', reg, type === 'f32' ? 4 : 2);
  checkIndex('half', half, type === 'f32' ? 1 : 2);
  const i = type === 'f32' ? reg : 2 * reg + half;
  return { row: (lane >> 2) + 8 * (i >> 1), col: 2 * (lane & 3) + (i & 1) };
}

/** Element (lane, reg, half) of C; D uses the same layout (the parser guarantees dType === cType). */
export function fragmentCoordsC(spec: MmaSpec, lane: number, reg: number, half: number): FragmentCoord {
  return accCoords(spec.cType, lane, reg, half);
}

function checkOperand(name: string, regs: readonly (readonly number[])[], nregs: number): void {
  if (regs.length !== WARP_SIZE) throw new Error(`mma: operand ${name} needs ${WARP_SIZE} lanes, got ${regs.length}`);
  for (let l = 0; l < WARP_SIZE; l++) {
    if (regs[l].length !== nregs) {
      throw new Error(`mma: operand ${name} needs ${nregs} registers per lane, lane ${l} has ${regs[l].length}`);
    }
  }
}

const half16 = (bits: number, half: number): number => (half === 0 ? bits : bits >>> 16) & 0xffff;

/**
 * D = A·B + C for one warp. Inputs and result are per-lane register bits, indexed [lane][reg].
 *
 * Numerics (the ISA leaves accumulation order, rounding and subnormal handling unspecified; this is
 * the emulator's documented choice, deterministic so kernels reproduce):
 * - each product a·b is exact (f16×f16 and bf16×bf16 need ≤ 22 significant bits, well inside float64);
 * - d[i][j] starts from c[i][j] and adds the products in increasing k, rounding to f32 after every
 *   addition. `Math.fround(acc + p)` is a single correct f32 rounding here: the float64 sum is exact
 *   whenever the two addends' bits span ≤ 53 bits, and otherwise |p| (or |acc|) is far below half an
 *   f32 ulp of the other, so the float64 rounding cannot create a false f32 midpoint;
 * - f16 accumulate/destination: the same f32 accumulation, rounded once to f16 (nearest even) at the end;
 * - subnormals are kept (no flush), NaN and ±Inf propagate as in IEEE arithmetic.
 */
/** Flat matrix indices of every (lane, register, half) fragment element, per MMA form: computed once. */
interface MmaTables {
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly c: Int32Array;
  readonly d: Int32Array;
}

const tables = new Map<string, MmaTables>();

function mmaTables(spec: MmaSpec): MmaTables {
  const key = `${spec.shape}.${spec.aType}.${spec.cType}.${spec.dType}`;
  let t = tables.get(key);
  if (t) return t;
  const sizes = mmaFragmentSizes(spec);
  const { n, k } = mmaDims(spec.shape);
  const a = new Int32Array(WARP_SIZE * sizes.aRegs * 2);
  const b = new Int32Array(WARP_SIZE * sizes.bRegs * 2);
  const c = new Int32Array(WARP_SIZE * sizes.cRegs * 2);
  const d = new Int32Array(WARP_SIZE * sizes.dRegs * 2);
  for (let lane = 0; lane < WARP_SIZE; lane++) {
    for (let r = 0; r < sizes.aRegs; r++) for (let h = 0; h < 2; h++) {
      const { row, col } = fragmentCoordsA(spec, lane, r, h);
      a[(lane * sizes.aRegs + r) * 2 + h] = row * k + col;
    }
    for (let r = 0; r < sizes.bRegs; r++) for (let h = 0; h < 2; h++) {
      const { row, col } = fragmentCoordsB(spec, lane, r, h);
      b[(lane * sizes.bRegs + r) * 2 + h] = row * n + col;
    }
    for (let r = 0; r < sizes.cRegs; r++) for (let h = 0; h < sizes.cPerReg; h++) {
      const { row, col } = accCoords(spec.cType, lane, r, h);
      c[(lane * sizes.cRegs + r) * 2 + h] = row * n + col;
    }
    for (let r = 0; r < sizes.dRegs; r++) for (let h = 0; h < sizes.dPerReg; h++) {
      const { row, col } = accCoords(spec.dType, lane, r, h);
      d[(lane * sizes.dRegs + r) * 2 + h] = row * n + col;
    }
  }
  tables.set(key, (t = { a, b, c, d }));
  return t;
}

/** f16 and bf16 bit patterns → values, by table: the warp-wide gather reads thousands per mma. */
const F16 = Float64Array.from({ length: 65536 }, (_, i) => f16FromBits(i));
const BF16 = Float64Array.from({ length: 65536 }, (_, i) => bf16FromBits(i));

export function mmaSync(
  spec: MmaSpec,
  a: readonly (readonly number[])[],
  b: readonly (readonly number[])[],
  c: readonly (readonly number[])[],
): number[][] {
  const sizes = mmaFragmentSizes(spec);
  checkOperand('a', a, sizes.aRegs);
  checkOperand('b', b, sizes.bRegs);
  checkOperand('c', c, sizes.cRegs);
  const { m, n, k } = mmaDims(spec.shape);
  const val = spec.aType === 'f16' ? F16 : BF16;
  const t = mmaTables(spec);

  // Gather the warp's fragments into whole matrices (row-major arrays of values).
  const A = new Float64Array(m * k);
  const B = new Float64Array(k * n);
  const C = new Float64Array(m * n);
  for (let lane = 0; lane < WARP_SIZE; lane++) {
    const la = a[lane]!;
    for (let r = 0; r < sizes.aRegs; r++) {
      const bits = la[r]!;
      const at = (lane * sizes.aRegs + r) * 2;
      A[t.a[at]!] = val[bits & 0xffff]!;
      A[t.a[at + 1]!] = val[bits >>> 16]!;
    }
    const lb = b[lane]!;
    for (let r = 0; r < sizes.bRegs; r++) {
      const bits = lb[r]!;
      const at = (lane * sizes.bRegs + r) * 2;
      B[t.b[at]!] = val[bits & 0xffff]!;
      B[t.b[at + 1]!] = val[bits >>> 16]!;
    }
    const lc = c[lane]!;
    for (let r = 0; r < sizes.cRegs; r++) {
      const at = (lane * sizes.cRegs + r) * 2;
      if (spec.cType === 'f32') C[t.c[at]!] = decodeBits('f32', lc[r]! >>> 0);
      else {
        C[t.c[at]!] = F16[lc[r]! & 0xffff]!;
        C[t.c[at + 1]!] = F16[lc[r]! >>> 16]!;
      }
    }
  }

  const D = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = C[i * n + j]!; // an f16 C value is exact in f32
      for (let kk = 0; kk < k; kk++) acc = Math.fround(acc + A[i * k + kk]! * B[kk * n + j]!);
      D[i * n + j] = acc;
    }
  }

  // Scatter D back into per-lane registers.
  const d: number[][] = [];
  for (let lane = 0; lane < WARP_SIZE; lane++) {
    const regs: number[] = [];
    for (let r = 0; r < sizes.dRegs; r++) {
      const at = (lane * sizes.dRegs + r) * 2;
      if (spec.dType === 'f32') regs.push(encodeBits('f32', D[t.d[at]!]!));
      else regs.push((f16ToBits(D[t.d[at]!]!) | (f16ToBits(D[t.d[at + 1]!]!) << 16)) >>> 0);
    }
    d.push(regs);
  }
  return d;
}

/**
 * Which element of an 8x8 b16 matrix lands in (lane, half) of that matrix's register.
 * "Warp-level matrix load instruction: ldmatrix" (Figure "ldmatrix fragment layout for one 8x8 Matrix
 * with 16-bit elements"): four consecutive threads share one row; lane l gets row l >> 2, columns
 * 2*(l % 4) and 2*(l % 4) + 1 (low half = lower column). With .trans the matrix is read column-major,
 * so the same register position holds the transposed element: row 2*(l % 4) + half, column l >> 2.
 * Rows are the 16-byte rows named by the row addresses; columns are b16 offsets inside a row.
 * stmatrix ("Warp-level matrix store instruction: stmatrix") uses the identical layout.
 */
export function ldmatrixCoords(lane: number, half: number, trans: boolean): FragmentCoord {
  checkIndex('lane', lane, WARP_SIZE);
  checkIndex('half', half, 2);
  const g = lane >> 2;
  const e = 2 * (lane & 3) + half;
  return trans ? { row: e, col: g } : { row: g, col: e };
}

function checkRowAddrs(count: 1 | 2 | 4, rowAddrs: readonly number[]): void {
  if (count !== 1 && count !== 2 && count !== 4) throw new Error(`ldmatrix/stmatrix: .x${String(count)} is not valid`);
  // The table in the ISA: matrix m's row r address comes from thread 8*m + r; higher threads are unused.
  if (rowAddrs.length < 8 * count) {
    throw new Error(`ldmatrix/stmatrix .x${count}: needs ${8 * count} row addresses, got ${rowAddrs.length}`);
  }
}

/**
 * ldmatrix.sync.aligned.m8n8.{x1,x2,x4}{.trans}.b16: returns [lane][0..count-1], register m holding
 * this lane's two elements of matrix m (low 16 bits = half 0). `rowAddrs[8*m + r]` is the byte
 * address of row r of matrix m (only the first 8*count entries are read); `read16(addr)` reads one
 * b16. Alignment (16-byte rows) is the caller's check.
 */
export function ldmatrix(
  count: 1 | 2 | 4,
  trans: boolean,
  rowAddrs: readonly number[],
  read16: (addr: number) => number,
): number[][] {
  checkRowAddrs(count, rowAddrs);
  const out: number[][] = [];
  for (let lane = 0; lane < WARP_SIZE; lane++) {
    const regs: number[] = [];
    for (let m = 0; m < count; m++) {
      let reg = 0;
      for (let h = 0; h < 2; h++) {
        const { row, col } = ldmatrixCoords(lane, h, trans);
        reg |= (read16(rowAddrs[8 * m + row] + 2 * col) & 0xffff) << (16 * h);
      }
      regs.push(reg >>> 0);
    }
    out.push(regs);
  }
  return out;
}

export interface MatrixWrite {
  readonly addr: number;
  /** b16 value (0..0xffff). */
  readonly value: number;
}

/**
 * stmatrix.sync.aligned.m8n8.{x1,x2,x4}{.trans}.b16: the inverse of ldmatrix with the same layout.
 * `regs[lane][m]` is lane's source register for matrix m. Returns every b16 write (each address of
 * the count 8x8 matrices exactly once, unless row addresses alias), ordered by matrix, lane, half.
 */
export function stmatrix(
  count: 1 | 2 | 4,
  trans: boolean,
  rowAddrs: readonly number[],
  regs: readonly (readonly number[])[],
): MatrixWrite[] {
  checkRowAddrs(count, rowAddrs);
  if (regs.length !== WARP_SIZE) throw new Error(`stmatrix: needs ${WARP_SIZE} lanes of registers, got ${regs.length}`);
  const writes: MatrixWrite[] = [];
  for (let m = 0; m < count; m++) {
    for (let lane = 0; lane < WARP_SIZE; lane++) {
      if (regs[lane].length < count) throw new Error(`stmatrix .x${count}: lane ${lane} has ${regs[lane].length} registers`);
      for (let h = 0; h < 2; h++) {
        const { row, col } = ldmatrixCoords(lane, h, trans);
        writes.push({ addr: rowAddrs[8 * m + row] + 2 * col, value: half16(regs[lane][m], h) });
      }
    }
  }
  return writes;
}
