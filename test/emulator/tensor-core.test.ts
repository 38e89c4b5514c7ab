import { describe, expect, it } from 'vitest';
import {
  bf16FromBits,
  bf16ToBits,
  decodeBits,
  encodeBits,
  f16FromBits,
  f16ToBits,
  roundBF16,
  roundF16,
} from '../../dsl/float-rounding.js';
import {
  fragmentCoordsA,
  fragmentCoordsB,
  fragmentCoordsC,
  ldmatrix,
  ldmatrixCoords,
  mmaDims,
  mmaFragmentSizes,
  mmaSync,
  parseMmaModifiers,
  stmatrix,
  type FragmentCoord,
  type MmaSpec,
} from '../../runtime/emulator/tensor-core.js';

const SPECS: readonly MmaSpec[] = [
  { shape: 'm16n8k16', aType: 'f16', cType: 'f32', dType: 'f32' },
  { shape: 'm16n8k16', aType: 'f16', cType: 'f16', dType: 'f16' },
  { shape: 'm16n8k16', aType: 'bf16', cType: 'f32', dType: 'f32' },
  { shape: 'm16n8k8', aType: 'f16', cType: 'f32', dType: 'f32' },
  { shape: 'm16n8k8', aType: 'f16', cType: 'f16', dType: 'f16' },
  { shape: 'm16n8k8', aType: 'bf16', cType: 'f32', dType: 'f32' },
];
const name = (s: MmaSpec): string => `${s.shape}.${s.dType}.${s.aType}.${s.aType}.${s.cType}`;

// Independent transcriptions of the ISA's formulas, written per element ai (i = 2*reg + half for
// packed registers, i = reg for .f32 accumulators), exactly in the tables' case form.
function isaA(s: MmaSpec, lane: number, i: number): FragmentCoord {
  const g = lane >> 2;
  const t = lane % 4;
  if (s.shape === 'm16n8k16') {
    // "Matrix Fragments for mma.m16n8k16 with floating point type", Multiplicand A .f16/.bf16
    const row = (i >= 0 && i < 2) || (i >= 4 && i < 6) ? g : g + 8;
    const col = i < 4 ? t * 2 + (i & 1) : t * 2 + (i & 1) + 8;
    return { row, col };
  }
  // "Matrix Fragments for mma.m16n8k8", Multiplicand A .f16/.bf16
  return { row: i < 2 ? g : g + 8, col: t * 2 + (i & 1) };
}
function isaB(s: MmaSpec, lane: number, i: number): FragmentCoord {
  const g = lane >> 2;
  const t = lane % 4;
  if (s.shape === 'm16n8k16') return { row: i < 2 ? t * 2 + (i & 1) : t * 2 + (i & 1) + 8, col: g };
  return { row: t * 2 + i, col: g };
}
function isaC(lane: number, i: number): FragmentCoord {
  const g = lane >> 2;
  const t = lane % 4;
  return { row: i < 2 ? g : g + 8, col: t * 2 + (i & 1) };
}

// Deterministic PRNG (mulberry32).
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Mat = number[][];
const zeros = (r: number, c: number): Mat => Array.from({ length: r }, () => new Array<number>(c).fill(0));
const matOf = (r: number, c: number, f: (i: number, j: number) => number): Mat =>
  Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => f(i, j)));

const pack2 = (lo: number, hi: number): number => ((lo & 0xffff) | ((hi & 0xffff) << 16)) >>> 0;

/** Distributes A, B, C (values already representable in their types) into per-lane fragments. */
function distribute(s: MmaSpec, A: Mat, B: Mat, C: Mat): { a: number[][]; b: number[][]; c: number[][] } {
  const sz = mmaFragmentSizes(s);
  const toBits = s.aType === 'f16' ? f16ToBits : bf16ToBits;
  const a: number[][] = [];
  const b: number[][] = [];
  const c: number[][] = [];
  for (let lane = 0; lane < 32; lane++) {
    const ar: number[] = [];
    for (let r = 0; r < sz.aRegs; r++) {
      const lo = fragmentCoordsA(s, lane, r, 0);
      const hi = fragmentCoordsA(s, lane, r, 1);
      ar.push(pack2(toBits(A[lo.row][lo.col]), toBits(A[hi.row][hi.col])));
    }
    a.push(ar);
    const br: number[] = [];
    for (let r = 0; r < sz.bRegs; r++) {
      const lo = fragmentCoordsB(s, lane, r, 0);
      const hi = fragmentCoordsB(s, lane, r, 1);
      br.push(pack2(toBits(B[lo.row][lo.col]), toBits(B[hi.row][hi.col])));
    }
    b.push(br);
    const cr: number[] = [];
    for (let r = 0; r < sz.cRegs; r++) {
      if (s.cType === 'f32') {
        const p = fragmentCoordsC(s, lane, r, 0);
        cr.push(encodeBits('f32', C[p.row][p.col]));
      } else {
        const lo = fragmentCoordsC(s, lane, r, 0);
        const hi = fragmentCoordsC(s, lane, r, 1);
        cr.push(pack2(f16ToBits(C[lo.row][lo.col]), f16ToBits(C[hi.row][hi.col])));
      }
    }
    c.push(cr);
  }
  return { a, b, c };
}

/** Gathers D fragments back into a matrix of values, checking each element is written once. */
function gather(s: MmaSpec, d: number[][]): Mat {
  const sz = mmaFragmentSizes(s);
  const D = zeros(16, 8);
  const seen = zeros(16, 8);
  expect(d.length).toBe(32);
  for (let lane = 0; lane < 32; lane++) {
    expect(d[lane].length).toBe(sz.dRegs);
    for (let r = 0; r < sz.dRegs; r++) {
      for (let h = 0; h < sz.dPerReg; h++) {
        const p = fragmentCoordsC(s, lane, r, h);
        const bits = d[lane][r];
        expect(Number.isInteger(bits) && bits >= 0 && bits < 2 ** 32).toBe(true);
        D[p.row][p.col] = s.dType === 'f32' ? decodeBits('f32', bits) : f16FromBits(h === 0 ? bits & 0xffff : bits >>> 16);
        seen[p.row][p.col]++;
      }
    }
  }
  expect(seen.flat().every((x) => x === 1)).toBe(true);
  return D;
}

function runMma(s: MmaSpec, A: Mat, B: Mat, C: Mat): Mat {
  const { a, b, c } = distribute(s, A, B, C);
  return gather(s, mmaSync(s, a, b, c));
}

/** The documented order, computed directly on matrices: from C, increasing k, f32 after each add. */
function documentedOrder(s: MmaSpec, A: Mat, B: Mat, C: Mat): Mat {
  const { k } = mmaDims(s.shape);
  return matOf(16, 8, (i, j) => {
    let acc = C[i][j];
    for (let kk = 0; kk < k; kk++) acc = Math.fround(acc + A[i][kk] * B[kk][j]);
    return s.dType === 'f16' ? roundF16(acc) : acc;
  });
}

describe('fragment coordinates (ISA layout tables)', () => {
  for (const s of SPECS) {
    const { m, n, k } = mmaDims(s.shape);
    const sz = mmaFragmentSizes(s);

    it(`${name(s)}: A covers each of the ${m}x${k} elements exactly once and matches the ISA formula`, () => {
      const seen = zeros(m, k);
      for (let lane = 0; lane < 32; lane++) {
        for (let r = 0; r < sz.aRegs; r++) {
          for (let h = 0; h < 2; h++) {
            const p = fragmentCoordsA(s, lane, r, h);
            expect(p).toEqual(isaA(s, lane, 2 * r + h));
            seen[p.row][p.col]++;
          }
        }
      }
      expect(seen.flat().every((x) => x === 1)).toBe(true);
    });

    it(`${name(s)}: B covers each of the ${k}x${n} elements exactly once and matches the ISA formula`, () => {
      const seen = zeros(k, n);
      for (let lane = 0; lane < 32; lane++) {
        for (let r = 0; r < sz.bRegs; r++) {
          for (let h = 0; h < 2; h++) {
            const p = fragmentCoordsB(s, lane, r, h);
            expect(p).toEqual(isaB(s, lane, 2 * r + h));
            seen[p.row][p.col]++;
          }
        }
      }
      expect(seen.flat().every((x) => x === 1)).toBe(true);
    });

    it(`${name(s)}: C/D covers each of the ${m}x${n} elements exactly once and matches the ISA formula`, () => {
      const seen = zeros(m, n);
      for (let lane = 0; lane < 32; lane++) {
        for (let r = 0; r < sz.cRegs; r++) {
          for (let h = 0; h < sz.cPerReg; h++) {
            const p = fragmentCoordsC(s, lane, r, h);
            expect(p).toEqual(isaC(lane, s.cType === 'f32' ? r : 2 * r + h));
            seen[p.row][p.col]++;
          }
        }
      }
      expect(seen.flat().every((x) => x === 1)).toBe(true);
    });
  }

  it('spot values for lane 5 (groupID 1, threadID_in_group 1)', () => {
    const k16: MmaSpec = SPECS[0];
    expect(fragmentCoordsA(k16, 5, 0, 1)).toEqual({ row: 1, col: 3 }); // a1
    expect(fragmentCoordsA(k16, 5, 1, 0)).toEqual({ row: 9, col: 2 }); // a2
    expect(fragmentCoordsA(k16, 5, 2, 0)).toEqual({ row: 1, col: 10 }); // a4
    expect(fragmentCoordsA(k16, 5, 3, 1)).toEqual({ row: 9, col: 11 }); // a7
    expect(fragmentCoordsB(k16, 5, 1, 1)).toEqual({ row: 11, col: 1 }); // b3
    expect(fragmentCoordsC(k16, 5, 2, 0)).toEqual({ row: 9, col: 2 }); // c2 (.f32)
    expect(fragmentCoordsC(SPECS[1], 5, 1, 1)).toEqual({ row: 9, col: 3 }); // c3 (.f16x2)
    expect(fragmentCoordsA(SPECS[3], 5, 1, 0)).toEqual({ row: 9, col: 2 }); // m16n8k8 a2
    expect(fragmentCoordsB(SPECS[3], 5, 0, 1)).toEqual({ row: 3, col: 1 }); // m16n8k8 b1
  });

  it('rejects out-of-range indices', () => {
    expect(() => fragmentCoordsA(SPECS[3], 0, 2, 0)).toThrow(RangeError); // m16n8k8 A has 2 regs
    expect(() => fragmentCoordsB(SPECS[0], 32, 0, 0)).toThrow(RangeError);
    expect(() => fragmentCoordsC(SPECS[0], 0, 0, 1)).toThrow(RangeError); // .f32 has no second half
  });
});

describe('mmaSync against a plain matrix product', () => {
  for (const [idx, s] of SPECS.entries()) {
    const { k } = mmaDims(s.shape);
    const round = s.aType === 'f16' ? roundF16 : roundBF16;

    it(`${name(s)}: small integers give the exact product`, () => {
      const r = rng(1234 + idx);
      const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
      const A = matOf(16, k, () => int(-8, 8));
      const B = matOf(k, 8, () => int(-8, 8));
      const C = matOf(16, 8, () => int(-100, 100));
      const D = runMma(s, A, B, C);
      const ref = matOf(16, 8, (i, j) => C[i][j] + A[i].reduce((acc, aik, kk) => acc + aik * B[kk][j], 0));
      expect(D).toEqual(ref);
    });

    it(`${name(s)}: random reals follow the documented order and stay within f32 tolerance`, () => {
      const r = rng(99 + idx);
      const A = matOf(16, k, () => round(r() * 4 - 2));
      const B = matOf(k, 8, () => round(r() * 4 - 2));
      const C = matOf(16, 8, () => (s.cType === 'f32' ? Math.fround(r() * 20 - 10) : roundF16(r() * 20 - 10)));
      const D = runMma(s, A, B, C);
      expect(D).toEqual(documentedOrder(s, A, B, C));
      for (let i = 0; i < 16; i++) {
        for (let j = 0; j < 8; j++) {
          let exact = C[i][j];
          let mag = Math.abs(C[i][j]);
          for (let kk = 0; kk < k; kk++) {
            exact += A[i][kk] * B[kk][j]; // float64: error far below the tolerance
            mag += Math.abs(A[i][kk] * B[kk][j]);
          }
          // k f32 roundings of partial sums bounded by mag, plus one f16 rounding for .f16 results.
          const tol = k * 2 ** -24 * mag + (s.dType === 'f16' ? 2 ** -11 * Math.abs(exact) : 0);
          expect(Math.abs(D[i][j] - exact)).toBeLessThanOrEqual(tol);
        }
      }
    });
  }

  it('f16 destination packs element 0 low and element 1 high', () => {
    const s = SPECS[1];
    const A = matOf(16, 16, (i, j) => (i === j ? 1 : 0));
    const B = matOf(16, 8, (i, j) => i * 8 + j); // D = B's top 16x8... A is identity so D = B
    const { a, b, c } = distribute(s, A, B, zeros(16, 8));
    const d = mmaSync(s, a, b, c);
    // lane 0 reg 0: (0,0) low, (0,1) high; lane 0 reg 1: (8,0), (8,1).
    expect(d[0][0]).toBe(pack2(f16ToBits(0), f16ToBits(1)));
    expect(d[0][1]).toBe(pack2(f16ToBits(64), f16ToBits(65)));
    expect(bf16FromBits(bf16ToBits(3))).toBe(3); // sanity of the bf16 helpers used by distribute
  });

  it('rejects operands of the wrong size', () => {
    const s = SPECS[0];
    const ok = distribute(s, zeros(16, 16), zeros(16, 8), zeros(16, 8));
    expect(() => mmaSync(s, ok.a.slice(1), ok.b, ok.c)).toThrow(/32 lanes/);
    expect(() => mmaSync(SPECS[3], ok.a, ok.b, ok.c)).toThrow(/registers per lane/);
  });
});

describe('mmaSync accumulation order', () => {
  const k16f32: MmaSpec = SPECS[0];
  const k16bf16: MmaSpec = SPECS[2];

  it('adds products in increasing k starting from C, rounding to f32 after each addition (bf16)', () => {
    // Row 0 of A: [2^24, 1, 1, ..., 1]; B all ones. Exact: 2^24 + 15. Each +1 ties back to 2^24.
    const A = matOf(16, 16, (i, j) => (i === 0 ? (j === 0 ? 2 ** 24 : 1) : 0));
    const B = matOf(16, 8, () => 1);
    const D = runMma(k16bf16, A, B, zeros(16, 8));
    expect(D[0][0]).toBe(2 ** 24); // not 2^24 + 15 (exact) nor 2^24 + 16 (reverse order)
    expect(D[0].every((x) => x === 2 ** 24)).toBe(true);
    expect(D[1][0]).toBe(0);
  });

  it('starts from C (f16 products reaching 2^24)', () => {
    // C = 2^24 absorbs every +1.
    const C = matOf(16, 8, () => 2 ** 24);
    const A = matOf(16, 16, () => 1);
    const B = matOf(16, 8, () => 1);
    expect(runMma(k16f32, A, B, C)[3][5]).toBe(2 ** 24);
    // 2048 * 8192 = 2^24 as the first product, then fifteen +1: stays 2^24.
    const A2 = matOf(16, 16, (_, j) => (j === 0 ? 2048 : 1));
    const B2 = matOf(16, 8, (kk) => (kk === 0 ? 8192 : 1));
    expect(runMma(k16f32, A2, B2, zeros(16, 8))[0][0]).toBe(2 ** 24);
    // Moving the big product last: 15 then + 2^24 = 2^24 + 15 → nearest f32 is 2^24 + 16.
    const A3 = matOf(16, 16, (_, j) => (j === 15 ? 2048 : 1));
    const B3 = matOf(16, 8, (kk) => (kk === 15 ? 8192 : 1));
    expect(runMma(k16f32, A3, B3, zeros(16, 8))[0][0]).toBe(2 ** 24 + 16);
  });

  it('cancellation after absorption: 0 + 1 + 2^24 - 2^24 = 0', () => {
    const A = matOf(16, 16, (_, j) => [1, 2 ** 24, -(2 ** 24)][j] ?? 0);
    const B = matOf(16, 8, () => 1);
    expect(runMma(k16bf16, A, B, zeros(16, 8))[0][0]).toBe(0);
  });

  it('f16 accumulate: f32 partial sums, one f16 rounding at the end', () => {
    const s = SPECS[1];
    // 1 + 2048 = 2049 (exact in f32), + 1 = 2050 → f16 2050. Per-step f16 rounding would give 2048.
    const A = matOf(16, 16, (_, j) => [1, 2048, 1][j] ?? 0);
    const B = matOf(16, 8, () => 1);
    expect(runMma(s, A, B, zeros(16, 8))[0][0]).toBe(2050);
    // 2048 + 1 = 2049 is an f16 tie → nearest even 2048.
    const A2 = matOf(16, 16, (_, j) => [2048, 1][j] ?? 0);
    expect(runMma(s, A2, B, zeros(16, 8))[0][0]).toBe(2048);
    // Overflow of the final rounding gives +Inf.
    const A3 = matOf(16, 16, () => 256);
    const B3 = matOf(16, 8, () => 256);
    expect(runMma(s, A3, B3, zeros(16, 8))[0][0]).toBe(Infinity);
  });

  it('NaN and Inf propagate', () => {
    const s = SPECS[0];
    const A = matOf(16, 16, (i, j) => (i === 0 && j === 2 ? Infinity : i === 1 && j === 0 ? NaN : 1));
    const B = matOf(16, 8, (kk, j) => (kk === 2 && j === 3 ? 0 : 1));
    const D = runMma(s, A, B, zeros(16, 8));
    expect(D[0][0]).toBe(Infinity);
    expect(D[0][3]).toBeNaN(); // Inf * 0
    expect(D[1].every((x) => Number.isNaN(x))).toBe(true);
    expect(D[2][0]).toBe(16);
  });
});

describe('ldmatrix / stmatrix (.m8n8 .b16)', () => {
  // Matrix m, row r lives at a 16-byte-aligned, non-contiguous address; element (m, r, c) is unique.
  const rowAddr = (m: number, r: number): number => 0x1000 + m * 0x400 + r * 0x60;
  const value = (m: number, r: number, c: number): number => (m << 8) | (r << 4) | c;
  const memory = new Map<number, number>();
  for (let m = 0; m < 4; m++) for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) memory.set(rowAddr(m, r) + 2 * c, value(m, r, c));
  const read16 = (addr: number): number => {
    const v = memory.get(addr);
    if (v === undefined) throw new Error(`unmapped read at ${addr}`);
    return v;
  };
  // Lanes beyond 8*count get addresses that would throw if read.
  const addrs = (count: number): number[] =>
    Array.from({ length: 32 }, (_, l) => (l < 8 * count ? rowAddr(l >> 3, l & 7) : 0xdead0));

  for (const count of [1, 2, 4] as const) {
    for (const trans of [false, true]) {
      it(`.x${count}${trans ? '.trans' : ''}: every lane's registers follow the ISA layout`, () => {
        const regs = ldmatrix(count, trans, addrs(count), read16);
        expect(regs.length).toBe(32);
        for (let l = 0; l < 32; l++) {
          expect(regs[l].length).toBe(count);
          for (let m = 0; m < count; m++) {
            // ISA Figure "ldmatrix fragment layout for one 8x8 Matrix with 16-bit elements":
            // lane l holds row l>>2, columns 2*(l%4), 2*(l%4)+1; .trans swaps row and column.
            const g = l >> 2;
            const c0 = 2 * (l % 4);
            const lo = trans ? value(m, c0, g) : value(m, g, c0);
            const hi = trans ? value(m, c0 + 1, g) : value(m, g, c0 + 1);
            expect(regs[l][m]).toBe(pack2(lo, hi));
          }
        }
      });

      it(`.x${count}${trans ? '.trans' : ''}: stmatrix round-trips ldmatrix`, () => {
        const regs = ldmatrix(count, trans, addrs(count), read16);
        const writes = stmatrix(count, trans, addrs(count), regs);
        expect(writes.length).toBe(count * 64);
        const written = new Map<number, number>();
        for (const w of writes) {
          expect(written.has(w.addr)).toBe(false);
          written.set(w.addr, w.value);
        }
        for (let m = 0; m < count; m++) {
          for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) expect(written.get(rowAddr(m, r) + 2 * c)).toBe(value(m, r, c));
        }
      });
    }
  }

  it('ldmatrixCoords matches the register packing', () => {
    expect(ldmatrixCoords(13, 1, false)).toEqual({ row: 3, col: 3 });
    expect(ldmatrixCoords(13, 1, true)).toEqual({ row: 3, col: 3 });
    expect(ldmatrixCoords(6, 0, true)).toEqual({ row: 4, col: 1 });
  });

  it('ldmatrix.x4 of a row-major 16x16 tile yields the m16n8k16 A fragment; .x2.trans of row-major B yields B', () => {
    const s = SPECS[0];
    const base = 0x8000;
    const mem = new Map<number, number>();
    const A = matOf(16, 16, (i, j) => i * 16 + j);
    for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) mem.set(base + i * 32 + j * 2, A[i][j]);
    // Usual addressing: lane l points at row l%16, column block 8*(l>>4).
    const aAddrs = Array.from({ length: 32 }, (_, l) => base + (l % 16) * 32 + (l >> 4) * 16);
    const aRegs = ldmatrix(4, false, aAddrs, (addr) => mem.get(addr) ?? -1);
    const bBase = 0x9000;
    const B = matOf(16, 8, (kk, j) => 1000 + kk * 8 + j); // K×N row-major, 16-byte rows
    for (let kk = 0; kk < 16; kk++) for (let j = 0; j < 8; j++) mem.set(bBase + kk * 16 + j * 2, B[kk][j]);
    const bAddrs = Array.from({ length: 32 }, (_, l) => bBase + (l % 16) * 16);
    const bRegs = ldmatrix(2, true, bAddrs, (addr) => mem.get(addr) ?? -1);
    for (let l = 0; l < 32; l++) {
      for (let r = 0; r < 4; r++) {
        const lo = fragmentCoordsA(s, l, r, 0);
        const hi = fragmentCoordsA(s, l, r, 1);
        expect(aRegs[l][r]).toBe(pack2(A[lo.row][lo.col], A[hi.row][hi.col]));
      }
      for (let r = 0; r < 2; r++) {
        const lo = fragmentCoordsB(s, l, r, 0);
        const hi = fragmentCoordsB(s, l, r, 1);
        expect(bRegs[l][r]).toBe(pack2(B[lo.row][lo.col], B[hi.row][hi.col]));
      }
    }
  });

  it('rejects too few row addresses', () => {
    expect(() => ldmatrix(4, false, addrs(2).slice(0, 16), read16)).toThrow(/32 row addresses/);
  });
});

describe('parseMmaModifiers', () => {
  const parse = (form: string): MmaSpec => parseMmaModifiers(form.split('.').slice(1));

  it('accepts the valid f16/bf16 forms of both shapes', () => {
    for (const shape of ['m16n8k16', 'm16n8k8'] as const) {
      expect(parse(`mma.sync.aligned.${shape}.row.col.f32.f16.f16.f32`)).toEqual({ shape, aType: 'f16', cType: 'f32', dType: 'f32' });
      expect(parse(`mma.sync.aligned.${shape}.row.col.f16.f16.f16.f16`)).toEqual({ shape, aType: 'f16', cType: 'f16', dType: 'f16' });
      expect(parse(`mma.sync.aligned.${shape}.row.col.f32.bf16.bf16.f32`)).toEqual({ shape, aType: 'bf16', cType: 'f32', dType: 'f32' });
    }
  });

  it('rejects other forms, naming the form', () => {
    const bad = [
      'mma.sync.aligned.m16n8k16.row.row.f32.f16.f16.f32',
      'mma.sync.aligned.m16n8k16.col.col.f32.f16.f16.f32',
      'mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32',
      'mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32',
      'mma.sync.aligned.m16n8k16.row.col.f16.bf16.bf16.f16',
      'mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f16',
      'mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f16', // .dtype must equal .ctype
      'mma.sync.aligned.m16n8k8.row.col.f16.f16.f16.f32',
      'mma.sync.aligned.m16n8k16.row.col.f32.f16.bf16.f32',
      'mma.sync.aligned.m8n8k4.row.col.f32.f16.f16.f32',
      'mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32',
      'mma.sync.aligned.m16n8k16.row.col.f64.f64.f64.f64',
      'mma.sync.m16n8k16.row.col.f32.f16.f16.f32',
      'mma.sync.aligned.m16n8k16.row.col.satfinite.s32.s8.s8.s32',
    ];
    for (const form of bad) expect(() => parse(form), form).toThrow(`unsupported mma form: ${form}`);
  });
});
