/**
 * PTX ALU semantics: hand-checked values per instruction family (edge cases included), and randomized
 * checks of the IEEE operations against an independent exact reference (BigInt rationals).
 */
import { describe, expect, it } from 'vitest';
import { immediateBits, makeAluOp, type RegValue } from '../../runtime/emulator/alu.js';
import { EmulatorInputError } from '../../runtime/emulator/types.js';
import { makeRng, seedFromEnv } from '../support/random.js';

// ---- helpers ----

const buf = new ArrayBuffer(8);
const f32v = new Float32Array(buf, 0, 1);
const u32v = new Uint32Array(buf);
const f64v = new Float64Array(buf);
const u64v = new BigUint64Array(buf);

/** f32 bits of a double (rounded to nearest). */
const fb = (x: number): number => {
  f32v[0] = x;
  return u32v[0];
};
/** f32 value of bits. */
const fv = (b: number): number => {
  u32v[0] = b;
  return f32v[0];
};
const db = (x: number): bigint => {
  f64v[0] = x;
  return u64v[0];
};
const dv = (b: bigint): number => {
  u64v[0] = b;
  return f64v[0];
};

function op(inst: string) {
  const [opcode, ...mods] = inst.split('.');
  const o = makeAluOp(opcode, mods);
  if (o === undefined) throw new Error(`not an ALU op: ${inst}`);
  return o;
}
/** Execute `inst` (dotted, as written in PTX) on raw operands. */
function run(inst: string, ...srcs: RegValue[]): RegValue | readonly RegValue[] {
  const o = op(inst);
  expect(srcs.length, `${inst} operand count`).toBe(o.srcs);
  return o.exec(srcs);
}
/** f32 instruction on values: operands given as numbers (rounded to f32), result as f32 bits. */
const runF = (inst: string, ...xs: number[]): RegValue => run(inst, ...xs.map(fb)) as RegValue;
/** f64 instruction on values, result as a double. */
const runD = (inst: string, ...xs: number[]): number => dv(run(inst, ...xs.map(db)) as bigint);

const MASK64 = 2n ** 64n - 1n;
const NAN32 = 0x7fffffff;
const NEG0 = 0x80000000;
const F32_MAX = 0x7f7fffff;

// ---- exact reference: binary rationals n·2^e and correct-rounding checks ----

type Q = readonly [bigint, number]; // value n · 2^e

function exactOf(x: number): Q {
  const raw = db(x);
  const neg = raw >> 63n === 1n;
  const field = Number((raw >> 52n) & 0x7ffn);
  const frac = raw & 0xfffffffffffffn;
  const m = field === 0 ? frac : frac | (1n << 52n);
  const e = field === 0 ? -1074 : field - 1075;
  return [neg ? -m : m, e];
}
const align = (a: Q, b: Q): [bigint, bigint, number] => {
  const e = Math.min(a[1], b[1]);
  return [a[0] << BigInt(a[1] - e), b[0] << BigInt(b[1] - e), e];
};
const qAdd = (a: Q, b: Q): Q => {
  const [x, y, e] = align(a, b);
  return [x + y, e];
};
const qMul = (a: Q, b: Q): Q => [a[0] * b[0], a[1] + b[1]];
const qCmp = (a: Q, b: Q): number => {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
};
const qMid = (a: Q, b: Q): Q => {
  const s = qAdd(a, b);
  return [s[0], s[1] - 1];
};

interface Format {
  next(x: number): number; // next representable toward +Inf
  prev(x: number): number;
  isEven(x: number): boolean; // last mantissa bit 0
}
const F32: Format = {
  next: (x) => (x === 0 ? 2 ** -149 : x > 0 ? fv(fb(x) + 1) : fv(fb(x) - 1)),
  prev: (x) => (x === 0 ? -(2 ** -149) : x > 0 ? fv(fb(x) - 1) : fv(fb(x) + 1)),
  isEven: (x) => (fb(x) & 1) === 0,
};
const F64: Format = {
  next: (x) => (x === 0 ? 2 ** -1074 : x > 0 ? dv(db(x) + 1n) : dv(db(x) - 1n)),
  prev: (x) => (x === 0 ? -(2 ** -1074) : x > 0 ? dv(db(x) - 1n) : dv(db(x) + 1n)),
  isEven: (x) => (db(x) & 1n) === 0n,
};

/**
 * Whether r is the correctly rounded value of an exact quantity X in `mode`, given cmpX(v) = sign(X - v)
 * for binary rationals v (so irrational X, as a square root, can be checked too). Finite results only.
 */
function isCorrectlyRounded(r: number, mode: string, f: Format, cmpX: (v: Q) => number): boolean {
  const c = cmpX(exactOf(r));
  if (c === 0) return true; // exact
  const up = exactOf(f.next(r));
  const down = exactOf(f.prev(r));
  switch (mode) {
    case 'rm':
      return c > 0 && cmpX(up) < 0;
    case 'rp':
      return c < 0 && cmpX(down) > 0;
    case 'rz':
      return r > 0 || Object.is(r, 0) ? c > 0 && cmpX(up) < 0 : c < 0 && cmpX(down) > 0;
    default: {
      const lo = cmpX(qMid(down, exactOf(r)));
      const hi = cmpX(qMid(exactOf(r), up));
      if (lo < 0 || hi > 0) return false;
      return (lo === 0 || hi === 0) ? f.isEven(r) : true;
    }
  }
}
const cmpTo = (X: Q) => (v: Q): number => qCmp(X, v);

/** A random f32 with exponent in [-e, e] (and occasional close operands for cancellation). */
function randF32(next: () => number, e: number): number {
  const mant = 1 + Math.floor(next() * 2 ** 23) / 2 ** 23;
  const ex = Math.floor(next() * (2 * e + 1)) - e;
  return (next() < 0.5 ? -1 : 1) * mant * 2 ** ex;
}
function randF64(next: () => number, e: number): number {
  const mant = 1 + Math.floor(next() * 2 ** 26) / 2 ** 26 + Math.floor(next() * 2 ** 26) / 2 ** 52;
  const ex = Math.floor(next() * (2 * e + 1)) - e;
  return (next() < 0.5 ? -1 : 1) * mant * 2 ** ex;
}

// ---------------------------------------------------------------------------------------------------------

describe('decoding', () => {
  it('returns undefined for non-ALU opcodes', () => {
    for (const opc of ['ld', 'st', 'bra', 'mma', 'shfl', 'mov', 'bar', 'atom', 'ldmatrix', 'ret']) {
      expect(makeAluOp(opc, ['b32'])).toBeUndefined();
    }
  });

  it('throws EmulatorInputError for unsupported modifiers, naming the instruction', () => {
    for (const inst of ['rem.f32', 'shr.f32', 'sad.f64', 'mul.lo.u16x2', 'div.s8', 'add.cc.u32', 'addc.u32', 'mad.cc.lo.u32', 'mul.wide.u64', 'add.rz.f16', 'add.sat.u32', 'mul.u32', 'cvt.rs.f16x2.f32', 'add.bogus.f32', 'min.xorsign.f32', 'ex2.approx.bf16', 'fma.rn.oob.f16']) {
      const [opc, ...mods] = inst.split('.');
      expect(() => makeAluOp(opc, mods), inst).toThrow(EmulatorInputError);
    }
    expect(() => makeAluOp('add', ['cc', 'u32'])).toThrow('unsupported instruction: add.cc.u32');
  });

  it('reports operand counts, types and statistics classes', () => {
    const mad = op('mad.wide.u32');
    expect([mad.srcs, mad.dsts, mad.cls]).toEqual([3, 1, 'int']);
    expect(mad.srcTypes).toEqual(['u32', 'u32', 'u64']);
    expect(mad.dstTypes).toEqual(['u64']);
    const sp = op('setp.lt.and.f32');
    expect([sp.srcs, sp.dsts, sp.cls]).toEqual([3, 2, 'pred']);
    expect(sp.srcTypes).toEqual(['f32', 'f32', 'pred']);
    expect(op('shl.b64').srcTypes).toEqual(['b64', 'u32']);
    expect(op('bfe.s64').srcTypes).toEqual(['s64', 'u32', 'u32']);
    expect(op('selp.f32').srcTypes).toEqual(['f32', 'f32', 'pred']);
    expect(op('bfi.b32').srcs).toBe(4);
    expect(op('lop3.b32').srcs).toBe(4);
    expect(op('cvt.rn.f16x2.f32').srcs).toBe(2);
    expect(op('ex2.approx.f32').cls).toBe('sfu');
    expect(op('fma.rn.f64').cls).toBe('fp64');
    expect(op('add.f16x2').cls).toBe('fp16');
    expect(op('cvt.f32.f16').cls).toBe('cvt');
    expect(op('add.rn.f32').cls).toBe('fp32');
  });
});

describe('integer add/sub/mul/mad', () => {
  it('wraps on overflow', () => {
    expect(run('add.u32', 0xffffffff, 1)).toBe(0);
    expect(run('add.s32', 0x7fffffff, 1)).toBe(0x80000000);
    expect(run('sub.u32', 0, 1)).toBe(0xffffffff);
    expect(run('sub.s16', 0, 1)).toBe(0xffff);
    expect(run('add.u16', 0xffff, 2)).toBe(1);
    expect(run('add.u64', MASK64, 1n)).toBe(0n);
    expect(run('sub.s64', 0n, 1n)).toBe(MASK64);
  });

  it('saturates add.sat.s32 / sub.sat.s32', () => {
    expect(run('add.sat.s32', 0x7fffffff, 1)).toBe(0x7fffffff);
    expect(run('add.sat.s32', 0x80000000, 0xffffffff)).toBe(0x80000000);
    expect(run('sub.sat.s32', 0x80000000, 1)).toBe(0x80000000);
    expect(run('add.sat.s32', 5, 0xfffffffd)).toBe(2);
  });

  it('adds and subtracts 16x2 lanes independently', () => {
    expect(run('add.u16x2', 0x0001ffff, 0x00020001)).toBe(0x00030000);
    expect(run('sub.s16x2', 0x00000005, 0x00010006)).toBe(0xffffffff);
  });

  it('mul.lo / mul.hi, signed and unsigned, 16/32/64-bit', () => {
    expect(run('mul.lo.u32', 0x10000, 0x10000)).toBe(0);
    expect(run('mul.lo.s32', 0xffffffff, 3)).toBe(0xfffffffd);
    expect(run('mul.hi.u32', 0xffffffff, 0xffffffff)).toBe(0xfffffffe);
    expect(run('mul.hi.u32', 0x80000000, 2)).toBe(1);
    expect(run('mul.hi.s32', 0xffffffff, 0xffffffff)).toBe(0); // (-1)(-1) = 1
    expect(run('mul.hi.s32', 0x80000000, 0x80000000)).toBe(0x40000000); // 2^62
    expect(run('mul.hi.s32', 0xfffffffe, 3)).toBe(0xffffffff); // -6
    expect(run('mul.hi.u32', 0x12345678, 0x9abcdef0)).toBe(Number((0x12345678n * 0x9abcdef0n) >> 32n));
    expect(run('mul.hi.u16', 0xffff, 0xffff)).toBe(0xfffe);
    expect(run('mul.hi.s16', 0xffff, 0xffff)).toBe(0);
    expect(run('mul.lo.u16', 0x100, 0x100)).toBe(0);
    expect(run('mul.hi.u64', MASK64, MASK64)).toBe(MASK64 - 1n);
    expect(run('mul.hi.s64', MASK64, MASK64)).toBe(0n);
    expect(run('mul.hi.s64', MASK64, 5n)).toBe(MASK64); // -5 → high word all ones
    expect(run('mul.hi.s64', 2n ** 63n, 2n)).toBe(MASK64); // MIN·2 = -2^64
    expect(run('mul.lo.u64', 2n ** 63n, 2n)).toBe(0n);
  });

  it('mul.wide doubles the width', () => {
    expect(run('mul.wide.u32', 0xffffffff, 0xffffffff)).toBe(0xfffffffe00000001n);
    expect(run('mul.wide.s32', 0xffffffff, 2)).toBe(MASK64 - 1n);
    expect(run('mul.wide.s32', 0x80000000, 0x80000000)).toBe(2n ** 62n);
    expect(run('mul.wide.u16', 0xffff, 0xffff)).toBe(0xfffe0001);
    expect(run('mul.wide.s16', 0xffff, 0x7fff)).toBe(0xffff8001);
  });

  it('mad variants add the third operand', () => {
    expect(run('mad.lo.s32', 3, 4, 5)).toBe(17);
    expect(run('mad.lo.u32', 0xffffffff, 2, 3)).toBe(1);
    expect(run('mad.hi.u32', 0xffffffff, 0xffffffff, 2)).toBe(0);
    expect(run('mad.wide.u32', 0xffffffff, 0xffffffff, 0xffffffffn)).toBe(0xffffffff00000000n);
    expect(run('mad.wide.u32', 0xffffffff, 0xffffffff, 0x1ffffffffn)).toBe(0n); // wraps at 2^64
    expect(run('mad.wide.s32', 0xffffffff, 1, 0n)).toBe(MASK64);
    expect(run('mad.lo.u64', 2n, 3n, MASK64)).toBe(5n);
    expect(run('mad.hi.sat.s32', 0x40000000, 0x40000000, 0x7fffffff)).toBe(0x7fffffff);
    expect(run('mad.hi.sat.s32', 0x40000000, 0x40000000, 1)).toBe(0x10000001);
    expect(run('mad.wide.u16', 0xffff, 0xffff, 0xffff)).toBe(0xffff0000);
  });

  it('mul24 / mad24 use the low 24 bits', () => {
    expect(run('mul24.lo.u32', 0x1000000, 5)).toBe(0); // bit 24 ignored
    expect(run('mul24.lo.s32', 0x800000, 2)).toBe(0xff000000); // -2^23 · 2
    expect(run('mul24.hi.u32', 0xffffff, 0xffffff)).toBe(0xfffffe00); // bits 47..16 of 0xfffffe000001
    expect(run('mul24.hi.s32', 0xffffff, 0xffffff)).toBe(0); // (-1)(-1)
    expect(run('mul24.hi.s32', 0xffffff, 2)).toBe(0xffffffff); // -2 >> 16
    expect(run('mad24.lo.u32', 3, 4, 5)).toBe(17);
    expect(run('mad24.hi.sat.s32', 0x7fffff, 0x7fffff, 0x7fffffff)).toBe(0x7fffffff);
  });

  it('sad adds |a - b|', () => {
    expect(run('sad.u32', 3, 10, 100)).toBe(107);
    expect(run('sad.s32', 0xfffffffd, 4, 1)).toBe(8);
    expect(run('sad.u32', 0, 0xffffffff, 1)).toBe(0); // 1 + (2^32 - 1) wraps
    expect(run('sad.s64', MASK64, 1n, 0n)).toBe(2n);
  });
});

describe('integer div/rem/abs/neg/min/max', () => {
  it('divides truncating toward zero', () => {
    expect(run('div.u32', 7, 2)).toBe(3);
    expect(run('div.s32', 0xfffffff9, 2)).toBe(0xfffffffd); // -7/2 = -3
    expect(run('rem.s32', 0xfffffff9, 2)).toBe(0xffffffff); // -1
    expect(run('rem.s32', 7, 0xfffffffe)).toBe(1);
    expect(run('div.u32', 0xffffffff, 0xfffffffe)).toBe(1);
    expect(run('div.s64', 2n ** 64n - 7n, 2n)).toBe(MASK64 - 2n);
    expect(run('rem.u64', 10n, 4n)).toBe(2n);
    expect(run('div.s16', 0xfff9, 2)).toBe(0xfffd);
  });

  it('divides by zero as documented: quotient all ones, remainder the dividend', () => {
    expect(run('div.u32', 5, 0)).toBe(0xffffffff);
    expect(run('div.s32', 5, 0)).toBe(0xffffffff);
    expect(run('rem.u32', 5, 0)).toBe(5);
    expect(run('div.u64', 5n, 0n)).toBe(MASK64);
    expect(run('rem.s64', 5n, 0n)).toBe(5n);
    expect(run('div.u16', 5, 0)).toBe(0xffff);
  });

  it('MIN / -1 wraps', () => {
    expect(run('div.s32', 0x80000000, 0xffffffff)).toBe(0x80000000);
    expect(run('rem.s32', 0x80000000, 0xffffffff)).toBe(0);
    expect(run('div.s64', 2n ** 63n, MASK64)).toBe(2n ** 63n);
    expect(run('div.s16', 0x8000, 0xffff)).toBe(0x8000);
  });

  it('abs / neg wrap at MIN', () => {
    expect(run('abs.s32', 0x80000000)).toBe(0x80000000);
    expect(run('abs.s32', 0xfffffffb)).toBe(5);
    expect(run('neg.s32', 5)).toBe(0xfffffffb);
    expect(run('neg.s32', 0)).toBe(0);
    expect(run('neg.s16', 1)).toBe(0xffff);
    expect(run('abs.s16', 0x8000)).toBe(0x8000);
    expect(run('abs.s64', MASK64)).toBe(1n);
    expect(run('neg.s64', 1n)).toBe(MASK64);
  });

  it('min / max compare signed or unsigned by type', () => {
    expect(run('min.u32', 0xffffffff, 1)).toBe(1);
    expect(run('min.s32', 0xffffffff, 1)).toBe(0xffffffff);
    expect(run('max.u32', 0xffffffff, 1)).toBe(0xffffffff);
    expect(run('max.s32', 0xffffffff, 1)).toBe(1);
    expect(run('max.s16', 0x8000, 0x7fff)).toBe(0x7fff);
    expect(run('max.u16', 0x8000, 0x7fff)).toBe(0x8000);
    expect(run('min.s64', MASK64, 0n)).toBe(MASK64);
    expect(run('min.u64', MASK64, 0n)).toBe(0n);
    expect(run('max.relu.s32', 0xfffffffb, 0xfffffffd)).toBe(0);
    expect(run('max.relu.s32', 0xfffffffb, 3)).toBe(3);
    expect(run('min.u16x2', 0x0001ffff, 0x00020000)).toBe(0x00010000);
    expect(run('max.s16x2', 0x0001ffff, 0xffff0000)).toBe(0x00010000);
    expect(run('max.relu.s16x2', 0xfffe0005, 0xffff0003)).toBe(0x00000005);
  });
});

describe('bit operations', () => {
  it('popc / clz / brev / bfind', () => {
    expect(run('popc.b32', 0xffffffff)).toBe(32);
    expect(run('popc.b32', 0x80000001)).toBe(2);
    expect(run('popc.b64', MASK64)).toBe(64);
    expect(run('clz.b32', 0)).toBe(32);
    expect(run('clz.b32', 1)).toBe(31);
    expect(run('clz.b64', 0n)).toBe(64);
    expect(run('clz.b64', 1n)).toBe(63);
    expect(run('clz.b64', 2n ** 40n)).toBe(23);
    expect(run('brev.b32', 1)).toBe(0x80000000);
    expect(run('brev.b32', 0x12345678)).toBe(0x1e6a2c48);
    expect(run('brev.b64', 1n)).toBe(2n ** 63n);
    expect(run('brev.b64', 0x12345678n)).toBe(0x1e6a2c4800000000n);
    expect(run('bfind.u32', 0)).toBe(0xffffffff);
    expect(run('bfind.u32', 0x80000000)).toBe(31);
    expect(run('bfind.shiftamt.u32', 1)).toBe(31);
    expect(run('bfind.shiftamt.u32', 0)).toBe(0xffffffff);
    expect(run('bfind.s32', 0xffffffff)).toBe(0xffffffff); // -1: no non-sign bit
    expect(run('bfind.s32', 0xfffffff0)).toBe(3); // -16: most significant 0 is bit 3
    expect(run('bfind.s32', 0x7fffffff)).toBe(30);
    expect(run('bfind.u64', 2n ** 40n)).toBe(40);
    expect(run('bfind.s64', MASK64 - 0xffn)).toBe(7);
    expect(run('bfind.shiftamt.u64', 1n)).toBe(63);
  });

  it('bfe extracts, sign-extends, and handles pos/len past the msb', () => {
    expect(run('bfe.u32', 0xabcd1234, 8, 8)).toBe(0x12);
    expect(run('bfe.s32', 0x000080f0, 4, 8)).toBe(0x0f);
    expect(run('bfe.s32', 0x00000f80, 4, 8)).toBe(0xfffffff8);
    expect(run('bfe.u32', 0x00000f80, 4, 8)).toBe(0xf8);
    expect(run('bfe.s32', 0x80000000, 40, 4)).toBe(0xffffffff); // start past msb: replicated sign of a[31]
    expect(run('bfe.u32', 0x80000000, 40, 4)).toBe(0);
    expect(run('bfe.s32', 0x80000000, 28, 100)).toBe(0xfffffff8); // len clipped at the msb
    expect(run('bfe.s32', 0xffffffff, 4, 0)).toBe(0); // len 0 → 0
    expect(run('bfe.u32', 0x12345678, 0x104, 0x108)).toBe(0x67); // only the low 8 bits of pos/len count
    expect(run('bfe.u32', 0xdeadbeef, 0, 32)).toBe(0xdeadbeef);
    expect(run('bfe.u64', 0xf0n << 56n, 60, 8)).toBe(0xfn);
    expect(run('bfe.s64', 0xf0n << 56n, 60, 8)).toBe(MASK64);
    expect(run('bfe.s64', 0x7n << 60n, 60, 3)).toBe(MASK64);
  });

  it('bfi inserts a field, clipped at the msb', () => {
    expect(run('bfi.b32', 0xf, 0xffff0000, 4, 4)).toBe(0xffff00f0);
    expect(run('bfi.b32', 0xf, 0, 30, 4)).toBe(0xc0000000);
    expect(run('bfi.b32', 0xf, 0x1234, 4, 0)).toBe(0x1234);
    expect(run('bfi.b32', 0xf, 0x1234, 32, 4)).toBe(0x1234);
    expect(run('bfi.b32', 0xffffffff, 0, 0, 32)).toBe(0xffffffff);
    expect(run('bfi.b64', 0xffn, 0n, 60, 8)).toBe(0xfn << 60n);
  });

  it('prmt: generic selectors with sign replication, and every mode', () => {
    const a = 0x33221100;
    const b = 0x77665544;
    expect(run('prmt.b32', a, b, 0x7654)).toBe(0x77665544);
    expect(run('prmt.b32', a, b, 0x3210)).toBe(a);
    expect(run('prmt.b32', a, b, 0x0123)).toBe(0x00112233);
    expect(run('prmt.b32', 0x000080ff, 0, 0x0a98)).toBe(0xff00ffff);
    expect(run('prmt.b32.f4e', a, b, 1)).toBe(0x44332211);
    expect(run('prmt.b32.f4e', a, b, 3)).toBe(0x66554433);
    expect(run('prmt.b32.b4e', a, b, 0)).toBe(0x55667700);
    expect(run('prmt.b32.b4e', a, b, 1)).toBe(0x66770011);
    expect(run('prmt.b32.rc8', a, b, 2)).toBe(0x22222222);
    expect(run('prmt.b32.ecl', a, b, 1)).toBe(0x33221111);
    expect(run('prmt.b32.ecl', a, b, 3)).toBe(0x33333333);
    expect(run('prmt.b32.ecr', a, b, 2)).toBe(0x22221100);
    expect(run('prmt.b32.ecr', a, b, 0)).toBe(0);
    expect(run('prmt.b32.rc16', a, b, 0)).toBe(0x11001100);
    expect(run('prmt.b32.rc16', a, b, 1)).toBe(0x33223322);
    expect(run('prmt.b32.rc16', a, b, 6)).toBe(0x11001100); // only c[1:0] counts
  });

  it('shifts clamp amounts at the width', () => {
    expect(run('shl.b32', 1, 31)).toBe(0x80000000);
    expect(run('shl.b32', 1, 32)).toBe(0);
    expect(run('shl.b32', 1, 100)).toBe(0);
    expect(run('shr.u32', 0x80000000, 31)).toBe(1);
    expect(run('shr.u32', 0x80000000, 40)).toBe(0);
    expect(run('shr.b32', 0x80000000, 4)).toBe(0x08000000);
    expect(run('shr.s32', 0x80000000, 4)).toBe(0xf8000000);
    expect(run('shr.s32', 0x80000000, 40)).toBe(0xffffffff);
    expect(run('shr.s32', 0x40000000, 40)).toBe(0);
    expect(run('shl.b16', 1, 16)).toBe(0);
    expect(run('shr.s16', 0x8000, 20)).toBe(0xffff);
    expect(run('shl.b64', 1n, 63)).toBe(2n ** 63n);
    expect(run('shl.b64', 1n, 64)).toBe(0n);
    expect(run('shr.u64', 2n ** 63n, 63)).toBe(1n);
    expect(run('shr.s64', 2n ** 63n, 100)).toBe(MASK64);
    expect(run('shr.s64', 2n ** 63n, 1n)).toBe(3n << 62n); // amount tolerated as a bigint
  });

  it('shf funnel shifts with wrap and clamp', () => {
    const a = 0x89abcdef;
    const b = 0x01234567;
    expect(run('shf.l.wrap.b32', a, b, 8)).toBe(0x23456789);
    expect(run('shf.l.wrap.b32', a, b, 40)).toBe(0x23456789);
    expect(run('shf.l.clamp.b32', a, b, 40)).toBe(a);
    expect(run('shf.l.clamp.b32', a, b, 0)).toBe(b);
    expect(run('shf.r.wrap.b32', a, b, 8)).toBe(0x6789abcd);
    expect(run('shf.r.wrap.b32', a, b, 32)).toBe(a);
    expect(run('shf.r.clamp.b32', a, b, 40)).toBe(b);
  });

  it('logic ops on bits and predicates; lop3; cnot', () => {
    expect(run('and.b32', 0xff00ff00, 0x0ff00ff0)).toBe(0x0f000f00);
    expect(run('or.b16', 0xff00, 0x00ff)).toBe(0xffff);
    expect(run('xor.b64', MASK64, 1n)).toBe(MASK64 - 1n);
    expect(run('not.b32', 0)).toBe(0xffffffff);
    expect(run('not.b16', 0x00ff)).toBe(0xff00);
    expect(run('not.b64', 0n)).toBe(MASK64);
    expect(run('and.pred', true, false)).toBe(false);
    expect(run('or.pred', true, false)).toBe(true);
    expect(run('xor.pred', true, true)).toBe(false);
    expect(run('not.pred', false)).toBe(true);
    expect(run('cnot.b32', 0)).toBe(1);
    expect(run('cnot.b32', 5)).toBe(0);
    expect(run('cnot.b64', 0n)).toBe(1n);
    const [x, y, z] = [0xf0f0f0f0, 0xcccccccc, 0xaaaaaaaa];
    expect(run('lop3.b32', x, y, z, 0x96)).toBe((x ^ y ^ z) >>> 0);
    expect(run('lop3.b32', x, y, z, 0xe8)).toBe(((x & y) | (x & z) | (y & z)) >>> 0);
    expect(run('lop3.b32', 0x12345678, 0, 0, 0xf0)).toBe(0x12345678);
    expect(run('lop3.b32', 0x12345678, 0xff, 0xff00, 0x80)).toBe(0);
  });

  it('dp4a / dp2a', () => {
    expect(run('dp4a.u32.u32', 0x01020304, 0x01010101, 10)).toBe(20);
    expect(run('dp4a.s32.s32', 0xff000000, 0x02000000, 5)).toBe(3);
    expect(run('dp4a.u32.s32', 0xff000000, 0xff000000, 0)).toBe(0xffffff01); // 255 · -1
    expect(run('dp2a.lo.u32.u32', 0x00020003, 0x04030201, 0)).toBe(7);
    expect(run('dp2a.hi.u32.u32', 0x00020003, 0x04030201, 0)).toBe(17);
    expect(run('dp2a.lo.s32.s32', 0xffff0001, 0x0000ff01, 0)).toBe(2); // 1·1 + (-1)·(-1)
  });

  it('bmsk / szext', () => {
    expect(run('bmsk.clamp.b32', 4, 8)).toBe(0xff0);
    expect(run('bmsk.wrap.b32', 33, 2)).toBe(0x6);
    expect(run('bmsk.clamp.b32', 0, 40)).toBe(0xffffffff);
    expect(run('bmsk.clamp.b32', 40, 4)).toBe(0);
    expect(run('szext.clamp.s32', 0xff, 8)).toBe(0xffffffff);
    expect(run('szext.clamp.s32', 0x7f, 8)).toBe(0x7f);
    expect(run('szext.wrap.u32', 0x1ff, 8)).toBe(0xff);
    expect(run('szext.clamp.s32', 0x1234, 0)).toBe(0);
    expect(run('szext.clamp.u32', 0x1234, 40)).toBe(0x1234);
  });
});

describe('f32 arithmetic', () => {
  const one = 1;
  const e24 = 2 ** -24;

  it('rounds 1 + 2^-24 in every mode', () => {
    expect(runF('add.rn.f32', one, e24)).toBe(fb(1)); // tie → even
    expect(runF('add.rz.f32', one, e24)).toBe(fb(1));
    expect(runF('add.rm.f32', one, e24)).toBe(fb(1));
    expect(runF('add.rp.f32', one, e24)).toBe(fb(1 + 2 ** -23));
    expect(runF('add.rn.f32', one, 3 * e24)).toBe(fb(1 + 2 ** -22)); // tie → even (up)
    expect(runF('add.rm.f32', -1, -e24)).toBe(fb(-(1 + 2 ** -23)));
    expect(runF('add.rz.f32', -1, -e24)).toBe(fb(-1));
    expect(runF('add.rp.f32', -1, -e24)).toBe(fb(-1));
    expect(runF('sub.rp.f32', one, -e24)).toBe(fb(1 + 2 ** -23));
    expect(runF('add.f32', one, e24)).toBe(fb(1)); // no modifier = .rn
  });

  it('keeps the sticky bit the float64 sum loses (1 + 2^-60)', () => {
    expect(runF('add.rp.f32', 1, 2 ** -60)).toBe(fb(1 + 2 ** -23));
    expect(runF('add.rz.f32', 1, 2 ** -60)).toBe(fb(1));
    expect(runF('add.rm.f32', 1, -(2 ** -60))).toBe(fb(1 - 2 ** -24));
    expect(runF('add.rz.f32', 2 ** 100, -(2 ** -100))).toBe(fb(2 ** 100 - 2 ** 76));
  });

  it('signs exact zero sums by the rounding mode', () => {
    expect(runF('add.rn.f32', 1, -1)).toBe(0);
    expect(runF('add.rm.f32', 1, -1)).toBe(NEG0);
    expect(runF('sub.rz.f32', 1, 1)).toBe(0);
    expect(runF('add.rn.f32', -0, -0)).toBe(NEG0);
    expect(runF('add.rp.f32', -0, 0)).toBe(0);
    expect(runF('add.rm.f32', -0, 0)).toBe(NEG0);
    expect(runF('fma.rm.f32', 1, 1, -1)).toBe(NEG0);
  });

  it('mul in directed modes', () => {
    const a = 1 + 2 ** -23;
    expect(runF('mul.rz.f32', a, a)).toBe(fb(1 + 2 ** -22));
    expect(runF('mul.rp.f32', a, a)).toBe(fb(1 + 2 ** -22 + 2 ** -23));
    expect(runF('mul.rn.f32', a, a)).toBe(fb(1 + 2 ** -22));
    expect(runF('mul.rm.f32', -a, a)).toBe(fb(-(1 + 2 ** -22 + 2 ** -23)));
    expect(runF('mul.rz.f32', 2 ** 100, 2 ** 100)).toBe(F32_MAX); // overflow toward zero → max
    expect(runF('mul.rn.f32', 2 ** 100, 2 ** 100)).toBe(0x7f800000);
    expect(runF('mul.rp.f32', 2 ** -100, 2 ** -100)).toBe(1); // underflow upward → min subnormal
    expect(runF('mul.rn.f32', 2 ** -100, 2 ** -100)).toBe(0);
  });

  it('fma rounds once: a·b + c differs from mul then add', () => {
    const a = 1 + 2 ** -12;
    const c = -(1 + 2 ** -11);
    expect(runF('mul.rn.f32', a, a)).toBe(fb(1 + 2 ** -11)); // the 2^-24 is lost (tie to even)
    expect(runF('fma.rn.f32', a, a, c)).toBe(fb(2 ** -24));
    expect(runF('add.rn.f32', fv(runF('mul.rn.f32', a, a) as number), c)).toBe(0);
    expect(runF('mad.rn.f32', a, a, c)).toBe(fb(2 ** -24));
    expect(runF('mad.f32', a, a, c)).toBe(fb(2 ** -24));
    expect(runF('fma.rz.f32', 1 + 2 ** -23, 1 + 2 ** -23, 2 ** -60)).toBe(fb(1 + 2 ** -22));
    expect(runF('fma.rp.f32', 1 + 2 ** -23, 1 + 2 ** -23, 2 ** -60)).toBe(fb(1 + 2 ** -22 + 2 ** -23));
  });

  it('div / sqrt / rcp in every mode', () => {
    expect(runF('div.rn.f32', 1, 3)).toBe(fb(1 / 3));
    expect(runF('div.rn.f32', 1, 3)).toBe(0x3eaaaaab);
    expect(runF('div.rz.f32', 1, 3)).toBe(0x3eaaaaaa);
    expect(runF('div.rm.f32', 1, 3)).toBe(0x3eaaaaaa);
    expect(runF('div.rp.f32', 1, 3)).toBe(0x3eaaaaab);
    expect(runF('div.rm.f32', -1, 3)).toBe(0xbeaaaaab);
    expect(runF('div.rp.f32', 6, 3)).toBe(fb(2));
    expect(runF('div.rn.f32', 1, 0)).toBe(0x7f800000);
    expect(runF('div.rn.f32', -1, 0)).toBe(0xff800000);
    expect(runF('div.rn.f32', 0, 0)).toBe(NAN32);
    expect(runF('div.full.f32', 1, 3)).toBe(0x3eaaaaab);
    expect(runF('sqrt.rn.f32', 2)).toBe(0x3fb504f3);
    expect(runF('sqrt.rz.f32', 2)).toBe(0x3fb504f3);
    expect(runF('sqrt.rp.f32', 2)).toBe(0x3fb504f4);
    expect(runF('sqrt.rp.f32', 4)).toBe(fb(2));
    expect(runF('sqrt.rn.f32', -1)).toBe(NAN32);
    expect(runF('sqrt.rn.f32', -0)).toBe(NEG0);
    expect(runF('rcp.rn.f32', 3)).toBe(0x3eaaaaab);
    expect(runF('rcp.rz.f32', 3)).toBe(0x3eaaaaaa);
    expect(runF('rcp.rn.f32', -0)).toBe(0xff800000);
  });

  it('.ftz flushes subnormal inputs and results to signed zero', () => {
    expect(run('add.f32', 1, 0)).toBe(1);
    expect(run('add.ftz.f32', 1, 0)).toBe(0);
    expect(run('add.ftz.f32', 0x80000001, 0)).toBe(0); // -sub + +0 → -0 + +0 = +0
    expect(run('mul.ftz.f32', 0x80000001, fb(1))).toBe(NEG0);
    expect(runF('mul.f32', 2 ** -100, 2 ** -30)).toBe(0x00080000); // 2^-130
    expect(runF('mul.ftz.f32', 2 ** -100, 2 ** -30)).toBe(0);
    expect(runF('mul.ftz.f32', -(2 ** -100), 2 ** -30)).toBe(NEG0);
    expect(runF('mul.ftz.f32', 2 ** -63, 2 ** -63)).toBe(fb(2 ** -126)); // the smallest normal survives
    expect(run('fma.rn.ftz.f32', 0x00400000, fb(2 ** 30), 0)).toBe(0);
    expect(run('fma.rn.f32', 0x00400000, fb(2 ** 30), 0)).toBe(fb(2 ** -127 * 2 ** 30));
    expect(run('min.ftz.f32', 0x80000001, fb(1))).toBe(NEG0);
    expect(run('abs.ftz.f32', 0x80000001)).toBe(0);
    expect(run('neg.ftz.f32', 0x00000001)).toBe(NEG0);
    expect(run('neg.f32', 0x00000001)).toBe(0x80000001);
  });

  it('.sat clamps to [0, 1] and maps NaN to +0', () => {
    expect(runF('add.sat.f32', 0.75, 0.5)).toBe(fb(1));
    expect(runF('add.sat.f32', -3, 1)).toBe(0);
    expect(runF('mul.sat.f32', -0, 1)).toBe(0);
    expect(runF('add.sat.f32', Infinity, -Infinity)).toBe(0);
    expect(runF('fma.rn.sat.f32', 0.5, 0.5, 0.25)).toBe(fb(0.5));
  });

  it('returns the canonical NaN', () => {
    expect(run('add.f32', 0x7fc00001, fb(1))).toBe(NAN32);
    expect(run('mul.f32', 0xffc00000, fb(1))).toBe(NAN32);
    expect(runF('add.f32', Infinity, -Infinity)).toBe(NAN32);
    expect(runF('fma.rn.f32', Infinity, 0, 1)).toBe(NAN32);
    expect(runF('add.rz.f32', Infinity, 1)).toBe(0x7f800000);
  });

  it('min / max: NaN rules, -0 < +0, .NaN, .xorsign.abs', () => {
    expect(run('min.f32', 0x7fc00000, fb(1))).toBe(fb(1));
    expect(run('max.f32', fb(1), 0x7fc00000)).toBe(fb(1));
    expect(run('min.f32', 0x7fc00000, 0xffc00001)).toBe(NAN32);
    expect(run('min.NaN.f32', 0x7fc00000, fb(1))).toBe(NAN32);
    expect(run('max.NaN.f32', fb(1), 0x7f800001)).toBe(NAN32);
    expect(runF('min.f32', 0, -0)).toBe(NEG0);
    expect(runF('min.f32', -0, 0)).toBe(NEG0);
    expect(runF('max.f32', -0, 0)).toBe(0);
    expect(runF('max.f32', 0, -0)).toBe(0);
    expect(runF('min.f32', -1, 2)).toBe(fb(-1));
    expect(runF('max.f32', -1, 2)).toBe(fb(2));
    expect(runF('max.xorsign.abs.f32', -2, 3)).toBe(fb(-3));
    expect(runF('min.xorsign.abs.f32', -2, -3)).toBe(fb(2));
    expect(run('min.xorsign.abs.f32', 0xffc00000, fb(1))).toBe(fb(-1)); // NaN ignored; the result is not NaN, so the xor sign applies
    expect(runD('min.f64', -0, 0)).toBe(-0);
    expect(runD('max.f64', NaN, 3)).toBe(3);
    expect(run('max.f64', db(NaN), db(NaN))).toBe(0x7fffffffffffffffn);
  });

  it('abs / neg / copysign / testp', () => {
    expect(runF('abs.f32', -2)).toBe(fb(2));
    expect(runF('neg.f32', 2)).toBe(fb(-2));
    expect(runF('neg.f32', 0)).toBe(NEG0);
    expect(runF('copysign.f32', -1, 2)).toBe(fb(-2));
    expect(runF('copysign.f32', 1, -2)).toBe(fb(2));
    expect(runD('copysign.f64', -1, 2)).toBe(-2);
    expect(runD('abs.f64', -3)).toBe(3);
    expect(runD('neg.f64', 3)).toBe(-3);
    expect(run('testp.finite.f32', fb(1))).toBe(true);
    expect(run('testp.finite.f32', 0x7f800000)).toBe(false);
    expect(run('testp.infinite.f32', 0xff800000)).toBe(true);
    expect(run('testp.notanumber.f32', NAN32)).toBe(true);
    expect(run('testp.number.f32', NAN32)).toBe(false);
    expect(run('testp.subnormal.f32', 1)).toBe(true);
    expect(run('testp.normal.f32', 1)).toBe(false);
    expect(run('testp.normal.f32', 0)).toBe(false);
    expect(run('testp.normal.f64', db(1))).toBe(true);
    expect(run('testp.subnormal.f64', 1n)).toBe(true);
  });

  it('approximate functions: special values and accuracy', () => {
    expect(runF('ex2.approx.f32', 1)).toBe(fb(2));
    expect(runF('ex2.approx.f32', -Infinity)).toBe(0);
    expect(runF('ex2.approx.ftz.f32', -140)).toBe(0); // 2^-140 is subnormal
    expect(runF('ex2.approx.f32', -140)).toBe(fb(2 ** -140));
    expect(runF('lg2.approx.f32', 8)).toBe(fb(3));
    expect(runF('lg2.approx.f32', 0)).toBe(0xff800000);
    expect(runF('lg2.approx.f32', -1)).toBe(NAN32);
    expect(runF('sin.approx.f32', -0)).toBe(NEG0);
    expect(runF('cos.approx.f32', 0)).toBe(fb(1));
    expect(runF('sin.approx.f32', Infinity)).toBe(NAN32);
    expect(runF('tanh.approx.f32', 30)).toBe(fb(1));
    expect(runF('tanh.approx.f32', -Infinity)).toBe(fb(-1));
    expect(runF('rsqrt.approx.f32', 4)).toBe(fb(0.5));
    expect(runF('rsqrt.approx.f32', -0)).toBe(0xff800000);
    expect(runF('rcp.approx.f32', 3)).toBe(0x3eaaaaab);
    expect(runF('rcp.approx.ftz.f32', -Infinity)).toBe(NEG0);
    expect(runF('sqrt.approx.f32', 2)).toBe(0x3fb504f3);
    expect(runF('div.approx.f32', 1, 2 ** 127)).toBe(0); // |b| > 2^126: reciprocal flushes
    expect(runF('div.approx.f32', -1, 2 ** 127)).toBe(NEG0);
    expect(runF('div.approx.f32', Infinity, 2 ** 127)).toBe(NAN32);
    expect(runF('div.approx.f32', 1, 4)).toBe(fb(0.25));
    // within half an ulp (plus the f64 function's own error) of the true value
    for (const x of [0.1, 0.7, 1.3, 2.9, -3.1, 10.5]) {
      const s = fv(runF('sin.approx.f32', x) as number);
      expect(Math.abs(s - Math.sin(Math.fround(x)))).toBeLessThanOrEqual(2 ** -25);
      const t = fv(runF('tanh.approx.f32', x) as number);
      expect(t).toBe(Math.fround(Math.tanh(Math.fround(x))));
    }
  });

  it('f64 approximations: rcp/rsqrt.approx.ftz.f64 work on the upper word', () => {
    const r = run('rcp.approx.ftz.f64', db(3)) as bigint;
    expect(r & 0xffffffffn).toBe(0n);
    expect(Math.abs(dv(r) - 1 / 3)).toBeLessThanOrEqual(2 ** -22);
    expect(run('rcp.approx.ftz.f64', db(2 ** -1030))).toBe(db(Infinity)); // subnormal input flushed
    expect(run('rcp.approx.ftz.f64', db(NaN))).toBe(0x7fffffff00000000n);
    expect(run('rsqrt.approx.ftz.f64', db(-1))).toBe(0x7fffffff00000000n);
    expect(dv(run('rsqrt.approx.ftz.f64', db(4)) as bigint)).toBe(0.5);
    expect(runD('rsqrt.approx.f64', 4)).toBe(0.5);
  });
});

describe('f64 arithmetic', () => {
  it('directed rounding through exact BigInt arithmetic', () => {
    expect(runD('add.rp.f64', 1, 2 ** -60)).toBe(1 + 2 ** -52);
    expect(runD('add.rz.f64', 1, 2 ** -60)).toBe(1);
    expect(runD('add.rm.f64', -1, -(2 ** -60))).toBe(-(1 + 2 ** -52));
    expect(runD('add.rn.f64', 1, 2 ** -60)).toBe(1);
    expect(Object.is(runD('add.rm.f64', 1, -1), -0)).toBe(true);
    expect(Object.is(runD('sub.rn.f64', 1, 1), 0)).toBe(true);
    expect(runD('mul.rp.f64', 1 + 2 ** -52, 1 + 2 ** -52)).toBe(1 + 2 ** -51 + 2 ** -52);
    expect(runD('mul.rz.f64', 1 + 2 ** -52, 1 + 2 ** -52)).toBe(1 + 2 ** -51);
    expect(runD('mul.rz.f64', 2 ** 600, 2 ** 600)).toBe(Number.MAX_VALUE);
    expect(runD('mul.rp.f64', 2 ** -600, 2 ** -600)).toBe(2 ** -1074);
    expect(runD('div.rz.f64', 1, 3)).toBe(0.3333333333333333);
    expect(runD('div.rp.f64', 1, 3)).toBe(0.33333333333333337);
    expect(runD('div.rn.f64', 1, 3)).toBe(1 / 3);
    expect(runD('sqrt.rp.f64', 2)).toBe(Math.SQRT2); // the nearest double is above sqrt(2)
    expect(runD('sqrt.rm.f64', 2)).toBe(1.414213562373095);
    expect(runD('sqrt.rz.f64', 2)).toBe(1.414213562373095);
    expect(runD('rcp.rp.f64', 3)).toBe(0.33333333333333337);
    expect(runD('rcp.rn.f64', 0)).toBe(Infinity);
    expect(run('add.f64', db(Infinity), db(-Infinity))).toBe(0x7fffffffffffffffn);
  });

  it('fma rounds once (1 + 2^-30)^2 - (1 + 2^-29) = 2^-60', () => {
    const a = 1 + 2 ** -30;
    expect(runD('fma.rn.f64', a, a, -(1 + 2 ** -29))).toBe(2 ** -60);
    expect(runD('mul.rn.f64', a, a) - (1 + 2 ** -29)).toBe(0);
    expect(runD('fma.rz.f64', a, a, -(1 + 2 ** -29))).toBe(2 ** -60);
    expect(runD('fma.rn.f64', 2 ** 1000, 2 ** 1000, -Infinity)).toBe(-Infinity);
    expect(runD('fma.rn.f64', 2 ** -600, 2 ** -600, 1)).toBe(1);
    expect(runD('fma.rp.f64', 2 ** -600, 2 ** -600, 1)).toBe(1 + 2 ** -52);
    expect(runD('fma.rn.f64', 2 ** -600, 2 ** -500, 0)).toBe(0); // underflows to +0
    expect(Object.is(runD('fma.rn.f64', -1, 1, 1), 0)).toBe(true);
    expect(Object.is(runD('fma.rm.f64', -1, 1, 1), -0)).toBe(true);
  });

  it('agrees with the exact reference on random inputs in every mode', () => {
    const rng = makeRng(seedFromEnv(7));
    const bad: string[] = [];
    for (let i = 0; i < 300; i++) {
      const wide = i % 3 === 0 ? 1000 : 60; // some far outside the fma fast path's range
      const x = randF64(rng.next, wide);
      const y = randF64(rng.next, wide);
      const z = i % 5 === 0 ? -x * y * (1 + 2 ** -40) : randF64(rng.next, wide);
      for (const mode of ['rn', 'rz', 'rm', 'rp']) {
        const checks: [string, number, (v: Q) => number][] = [
          ['add', runD(`add.${mode}.f64`, x, y), cmpTo(qAdd(exactOf(x), exactOf(y)))],
          ['mul', runD(`mul.${mode}.f64`, x, y), cmpTo(qMul(exactOf(x), exactOf(y)))],
          ['fma', runD(`fma.${mode}.f64`, x, y, z), cmpTo(qAdd(qMul(exactOf(x), exactOf(y)), exactOf(z)))],
          // sign(x/y - v) = sign(x - v·y)·sign(y)
          ['div', runD(`div.${mode}.f64`, x, y), (v) => qCmp(exactOf(x), qMul(v, exactOf(y))) * Math.sign(y)],
          ['sqrt', runD(`sqrt.${mode}.f64`, Math.abs(x)), (v) => (v[0] < 0n ? 1 : qCmp(exactOf(Math.abs(x)), qMul(v, v)))],
        ];
        for (const [name, r, cmp] of checks) {
          if (!Number.isFinite(r) || Math.abs(r) === Number.MAX_VALUE || r === 0) continue; // overflow/underflow ends
          if (!isCorrectlyRounded(r, mode, F64, cmp)) bad.push(`${name}.${mode}(${x}, ${y}, ${z}) = ${r}`);
        }
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

describe('f32 randomized cross-checks', () => {
  it('add/mul/fma .rn agree with Math.fround and the exact reference on 10k inputs', () => {
    const rng = makeRng(seedFromEnv(1234));
    const add = op('add.rn.f32');
    const mul = op('mul.rn.f32');
    const fma = op('fma.rn.f32');
    const bad: string[] = [];
    for (let i = 0; i < 10000; i++) {
      const e = i % 4 === 0 ? 130 : 20;
      const a = Math.fround(randF32(rng.next, e));
      const b = Math.fround(i % 7 === 0 ? -a * (1 + 2 ** -20) : randF32(rng.next, e));
      const c = Math.fround(i % 11 === 0 ? -a * b : randF32(rng.next, e));
      const A = fb(a);
      const B = fb(b);
      const C = fb(c);
      const canon = (x: number): number => (Number.isNaN(x) ? NAN32 : fb(x));
      if (add.exec([A, B]) !== canon(a + b)) bad.push(`add ${a} ${b}`);
      if (mul.exec([A, B]) !== canon(a * b)) bad.push(`mul ${a} ${b}`);
      const r = fv(fma.exec([A, B, C]) as number);
      const X = qAdd(qMul(exactOf(a), exactOf(b)), exactOf(c));
      if (Number.isFinite(r) && Math.abs(r) !== fv(F32_MAX) && !isCorrectlyRounded(r, 'rn', F32, cmpTo(X))) bad.push(`fma ${a} ${b} ${c} → ${r}`);
      // where the f64 sum is exact, fround of it is the answer too
      const p = a * b;
      if (p + c - p === c && fb(p + c) !== fb(r)) bad.push(`fma/fround ${a} ${b} ${c}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('directed modes of add/sub/mul/fma/div/sqrt agree with the exact reference', () => {
    const rng = makeRng(seedFromEnv(99));
    const bad: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const a = Math.fround(randF32(rng.next, i % 5 === 0 ? 140 : 30));
      const b = Math.fround(randF32(rng.next, i % 5 === 0 ? 140 : 30));
      const c = Math.fround(randF32(rng.next, 30));
      for (const mode of ['rn', 'rz', 'rm', 'rp']) {
        const fx = (inst: string, ...xs: number[]): number => fv(runF(`${inst}.${mode}.f32`, ...xs) as number);
        const checks: [string, number, (v: Q) => number][] = [
          ['add', fx('add', a, b), cmpTo(qAdd(exactOf(a), exactOf(b)))],
          ['sub', fx('sub', a, b), cmpTo(qAdd(exactOf(a), exactOf(-b)))],
          ['mul', fx('mul', a, b), cmpTo(qMul(exactOf(a), exactOf(b)))],
          ['fma', fx('fma', a, b, c), cmpTo(qAdd(qMul(exactOf(a), exactOf(b)), exactOf(c)))],
          ['div', fx('div', a, b), (v) => qCmp(exactOf(a), qMul(v, exactOf(b))) * Math.sign(b)],
          ['rcp', fx('rcp', b), (v) => qCmp(exactOf(1), qMul(v, exactOf(b))) * Math.sign(b)],
          ['sqrt', fx('sqrt', Math.abs(a)), (v) => (v[0] < 0n ? 1 : qCmp(exactOf(Math.abs(a)), qMul(v, v)))],
        ];
        for (const [name, r, cmp] of checks) {
          if (!Number.isFinite(r) || Math.abs(r) === fv(F32_MAX) || r === 0) continue;
          if (!isCorrectlyRounded(r, mode, F32, cmp)) bad.push(`${name}.${mode}(${a}, ${b}, ${c}) = ${r}`);
        }
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

describe('comparison and selection', () => {
  it('setp returns [p, q] with q the complement', () => {
    expect(run('setp.lt.s32', 0xffffffff, 1)).toEqual([true, false]);
    expect(run('setp.lt.u32', 0xffffffff, 1)).toEqual([false, true]);
    expect(run('setp.lo.s32', 0xffffffff, 1)).toEqual([false, true]); // lo is unsigned
    expect(run('setp.hs.u64', MASK64, 1n)).toEqual([true, false]);
    expect(run('setp.gt.s64', MASK64, 1n)).toEqual([false, true]);
    expect(run('setp.eq.b16', 0xffff, 0xffff)).toEqual([true, false]);
    expect(run('setp.ge.s16', 0x8000, 0x7fff)).toEqual([false, true]);
    expect(run('setp.ne.b32', 1, 2)).toEqual([true, false]);
  });

  it('setp float comparisons: ordered vs unordered with NaN', () => {
    const nan = NAN32;
    const one = fb(1);
    const t = (cmp: string, a: number, b: number): RegValue => (run(`setp.${cmp}.f32`, a, b) as readonly RegValue[])[0];
    for (const c of ['eq', 'ne', 'lt', 'le', 'gt', 'ge']) expect(t(c, nan, one), c).toBe(false);
    for (const c of ['equ', 'neu', 'ltu', 'leu', 'gtu', 'geu', 'nan']) expect(t(c, nan, one), c).toBe(true);
    expect(t('num', nan, one)).toBe(false);
    expect(t('num', one, one)).toBe(true);
    expect(t('equ', one, one)).toBe(true);
    expect(t('ltu', one, fb(2))).toBe(true);
    expect(t('gtu', one, fb(2))).toBe(false);
    expect(t('ne', fb(0), NEG0)).toBe(false); // +0 == -0
    expect(t('eq', 1, 0)).toBe(false);
    expect((run('setp.eq.ftz.f32', 1, 0) as readonly RegValue[])[0]).toBe(true); // subnormal flushed
    expect((run('setp.gt.f64', db(2), db(1)) as readonly RegValue[])[0]).toBe(true);
    expect((run('setp.neu.f64', db(NaN), db(NaN)) as readonly RegValue[])[0]).toBe(true);
  });

  it('setp combining forms', () => {
    expect(run('setp.lt.and.s32', 1, 2, true)).toEqual([true, false]);
    expect(run('setp.lt.and.s32', 1, 2, false)).toEqual([false, false]);
    expect(run('setp.lt.or.s32', 3, 2, true)).toEqual([true, true]);
    expect(run('setp.lt.xor.s32', 1, 2, true)).toEqual([false, true]);
    expect(run('setp.gt.and.f32', fb(2), fb(1), true)).toEqual([true, false]);
  });

  it('setp on f16x2 / bf16x2 compares lanes: p low half, q high half', () => {
    expect(run('setp.lt.f16x2', 0x3c004000, 0x40003c00)).toEqual([false, true]); // lo: 2<1? hi: 1<2
    expect(run('setp.lt.and.f16x2', 0x3c004000, 0x40003c00, false)).toEqual([false, false]);
    expect(run('setp.equ.bf16x2', 0x7fc03f80, 0x3f803f80)).toEqual([true, true]);
    expect(run('setp.eq.f16', 0x3c00, 0x3c00)).toEqual([true, false]);
  });

  it('set writes all ones / 1.0', () => {
    expect(run('set.lt.u32.s32', 0xffffffff, 1)).toBe(0xffffffff);
    expect(run('set.lt.f32.s32', 0xffffffff, 1)).toBe(0x3f800000);
    expect(run('set.gt.u32.f32', fb(1), fb(2))).toBe(0);
    expect(run('set.lt.and.s32.u32', 1, 2, false)).toBe(0);
    expect(run('set.eq.f16x2.f16x2', 0x3c004000, 0x3c003c00)).toBe(0x3c000000);
    expect(run('set.eq.u32.f16x2', 0x3c004000, 0x3c003c00)).toBe(0xffff0000);
  });

  it('selp and slct', () => {
    expect(run('selp.b32', 1, 2, true)).toBe(1);
    expect(run('selp.b32', 1, 2, false)).toBe(2);
    expect(run('selp.f64', 1n, 2n, false)).toBe(2n);
    expect(run('slct.u32.s32', 1, 2, 0)).toBe(1);
    expect(run('slct.u32.s32', 1, 2, 0xffffffff)).toBe(2);
    expect(run('slct.b64.s32', 1n, 2n, 5)).toBe(1n);
    expect(run('slct.u32.f32', 1, 2, NEG0)).toBe(1); // -0 >= 0
    expect(run('slct.u32.f32', 1, 2, NAN32)).toBe(2); // NaN selects b
    expect(run('slct.u32.f32', 1, 2, 0x80000001)).toBe(2); // -subnormal < 0
    expect(run('slct.ftz.u32.f32', 1, 2, 0x80000001)).toBe(1); // flushed to -0
  });
});

describe('cvt', () => {
  it('float → int: integer rounding modes', () => {
    expect(runF('cvt.rni.s32.f32', 2.5)).toBe(2);
    expect(runF('cvt.rni.s32.f32', -2.5)).toBe(0xfffffffe);
    expect(runF('cvt.rni.s32.f32', 3.5)).toBe(4);
    expect(runF('cvt.rni.s32.f32', 2.5000002)).toBe(3);
    expect(runF('cvt.rzi.s32.f32', -2.7)).toBe(0xfffffffe);
    expect(runF('cvt.rmi.s32.f32', -2.5)).toBe(0xfffffffd);
    expect(runF('cvt.rmi.s32.f32', 2.5)).toBe(2);
    expect(runF('cvt.rpi.s32.f32', 2.1)).toBe(3);
    expect(runF('cvt.rpi.s32.f32', -2.9)).toBe(0xfffffffe);
    expect(run('cvt.rni.s32.f64', db(-0.5))).toBe(0);
    expect(run('cvt.s32.f64', db(-7.9))).toBe(0xfffffff9); // no modifier: truncate
  });

  it('float → int saturates; NaN → 0 (or the sign bit for f64 sources / 64-bit destinations)', () => {
    expect(runF('cvt.rzi.s32.f32', 3e9)).toBe(0x7fffffff);
    expect(runF('cvt.rzi.s32.f32', -3e9)).toBe(0x80000000);
    expect(runF('cvt.rzi.s32.f32', NaN)).toBe(0);
    expect(runF('cvt.rzi.u32.f32', -5)).toBe(0);
    expect(runF('cvt.rzi.u32.f32', 5e9)).toBe(0xffffffff);
    expect(runF('cvt.rzi.u8.f32', 300)).toBe(255);
    expect(runF('cvt.rzi.s8.f32', -300)).toBe(0x80);
    expect(runF('cvt.rni.s16.f32', Infinity)).toBe(0x7fff);
    expect(runF('cvt.rzi.s64.f32', NaN)).toBe(2n ** 63n);
    expect(run('cvt.rzi.s32.f64', db(NaN))).toBe(0x80000000);
    expect(run('cvt.rzi.u32.f64', db(NaN))).toBe(0x80000000);
    expect(run('cvt.rzi.s64.f64', db(1e19))).toBe(2n ** 63n - 1n);
    expect(run('cvt.rzi.s64.f64', db(-1e19))).toBe(2n ** 63n);
    expect(run('cvt.rzi.u64.f64', db(1e20))).toBe(MASK64);
    expect(run('cvt.rzi.u64.f64', db(2 ** 63))).toBe(2n ** 63n);
    expect(run('cvt.rni.s64.f64', db(-3.5))).toBe(MASK64 - 3n);
    expect(run('cvt.rzi.s32.f16', 0xc500)).toBe(0xfffffffb); // -5.0
    expect(run('cvt.rzi.ftz.s32.f32', 1)).toBe(0);
  });

  it('int → float rounds once (no double rounding through f64)', () => {
    expect(run('cvt.rn.f32.s32', 16777217)).toBe(0x4b800000);
    expect(run('cvt.rp.f32.s32', 16777217)).toBe(0x4b800001);
    expect(run('cvt.rm.f32.s32', 0xfeffffff)).toBe(fb(-16777218)); // -16777217
    expect(run('cvt.rz.f32.u32', 0xffffffff)).toBe(0x4f7fffff);
    expect(run('cvt.rn.f32.u32', 0xffffffff)).toBe(0x4f800000);
    expect(run('cvt.f32.s32', 0xffffffff)).toBe(fb(-1));
    const x = 2n ** 60n + 2n ** 36n + 1n; // f64 rounds this to the f32 midpoint, then f32 would tie to even
    expect(Math.fround(Number(x))).toBe(2 ** 60);
    expect(run('cvt.rn.f32.u64', x)).toBe(fb(2 ** 60 + 2 ** 37));
    expect(run('cvt.rn.f64.u64', MASK64)).toBe(db(2 ** 64));
    expect(run('cvt.rz.f64.u64', MASK64)).toBe(db(2 ** 64 - 2048));
    expect(run('cvt.rn.f64.s64', MASK64)).toBe(db(-1));
    expect(run('cvt.rn.f16.s32', 65520)).toBe(0x7c00);
    expect(run('cvt.rz.f16.u32', 65520)).toBe(0x7bff);
    expect(run('cvt.rn.bf16.s32', 257)).toBe(0x4380);
  });

  it('int → int: truncation, extension, saturation', () => {
    expect(run('cvt.s32.s8', 0x80)).toBe(0xffffff80);
    expect(run('cvt.u32.u8', 0x80)).toBe(0x80);
    expect(run('cvt.u8.u32', 0x1ff)).toBe(0xff);
    expect(run('cvt.sat.u8.s32', 0xfffffffb)).toBe(0);
    expect(run('cvt.sat.s8.s32', 200)).toBe(0x7f);
    expect(run('cvt.sat.s8.s32', 0xffffff00)).toBe(0x80);
    expect(run('cvt.s64.s32', 0xffffffff)).toBe(MASK64);
    expect(run('cvt.u64.u32', 0xffffffff)).toBe(0xffffffffn);
    expect(run('cvt.u32.u64', 2n ** 32n + 5n)).toBe(5);
    expect(run('cvt.sat.u32.s64', MASK64)).toBe(0);
    expect(run('cvt.sat.s32.u64', 2n ** 40n)).toBe(0x7fffffff);
    expect(run('cvt.sat.u16.s16', 0x8000)).toBe(0);
    expect(run('cvt.sat.u32.s32', 0x80000000)).toBe(0);
    expect(run('cvt.sat.s32.u32', 0x80000000)).toBe(0x7fffffff);
    expect(run('cvt.s16.s64', MASK64)).toBe(0xffff);
  });

  it('f32 → f16: ties to even, overflow to inf, satfinite, relu, NaN', () => {
    expect(runF('cvt.rn.f16.f32', 1 + 2 ** -11)).toBe(0x3c00);
    expect(runF('cvt.rn.f16.f32', 1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(runF('cvt.rn.f16.f32', 65519)).toBe(0x7bff);
    expect(runF('cvt.rn.f16.f32', 65520)).toBe(0x7c00);
    expect(runF('cvt.rn.f16.f32', -1e6)).toBe(0xfc00);
    expect(runF('cvt.rz.f16.f32', 1e6)).toBe(0x7bff);
    expect(runF('cvt.rm.f16.f32', 1 + 2 ** -20)).toBe(0x3c00);
    expect(runF('cvt.rp.f16.f32', 1 + 2 ** -20)).toBe(0x3c01);
    expect(runF('cvt.rn.satfinite.f16.f32', 1e6)).toBe(0x7bff);
    expect(runF('cvt.rn.satfinite.f16.f32', -Infinity)).toBe(0xfbff);
    expect(runF('cvt.rn.relu.f16.f32', -1)).toBe(0);
    expect(runF('cvt.rn.relu.f16.f32', NaN)).toBe(0x7fff);
    expect(runF('cvt.rn.f16.f32', NaN)).toBe(0x7fff);
    expect(runF('cvt.rn.f16.f32', 2 ** -25)).toBe(0); // tie with 0 → even
    expect(runF('cvt.rn.f16.f32', 2 ** -25 * 1.5)).toBe(1);
    expect(run('cvt.rn.ftz.f16.f32', 1)).toBe(0);
  });

  it('f16/bf16 → f32 is exact', () => {
    expect(run('cvt.f32.f16', 0x3c00)).toBe(0x3f800000);
    expect(run('cvt.f32.f16', 0x0001)).toBe(fb(2 ** -24));
    expect(run('cvt.f32.f16', 0xfc00)).toBe(0xff800000);
    expect(run('cvt.f32.f16', 0x7e01)).toBe(NAN32);
    expect(run('cvt.f32.bf16', 0x3f81)).toBe(0x3f810000);
    expect(run('cvt.f64.f16', 0xc000)).toBe(db(-2));
    expect(run('cvt.ftz.f32.f16', 0x0001)).toBe(fb(2 ** -24)); // a normal f32: .ftz does not touch it
  });

  it('f32 → bf16', () => {
    expect(run('cvt.rn.bf16.f32', 0x3f808000)).toBe(0x3f80); // tie → even
    expect(run('cvt.rn.bf16.f32', 0x3f818000)).toBe(0x3f82);
    expect(run('cvt.rn.bf16.f32', 0x3f808001)).toBe(0x3f81);
    expect(run('cvt.rz.bf16.f32', 0x3f81ffff)).toBe(0x3f81);
    expect(run('cvt.rn.bf16.f32', 0x7f7fffff)).toBe(0x7f80); // overflow → inf
    expect(run('cvt.rn.satfinite.bf16.f32', 0x7f7fffff)).toBe(0x7f7f);
    expect(run('cvt.rn.bf16.f32', NAN32)).toBe(0x7fff);
  });

  it('packs f16x2 / bf16x2 with a in the upper half', () => {
    expect(runF('cvt.rn.f16x2.f32', 1, 2)).toBe(0x3c004000);
    expect(runF('cvt.rn.bf16x2.f32', 1, 2)).toBe(0x3f804000);
    expect(runF('cvt.rz.f16x2.f32', 1e6, -1e6)).toBe(0x7bfffbff);
    expect(runF('cvt.rn.relu.satfinite.f16x2.f32', -3, 1e6)).toBe(0x00007bff);
  });

  it('tf32 and fp8', () => {
    expect(run('cvt.rna.tf32.f32', 0x3f801000)).toBe(0x3f802000); // tie → away
    expect(run('cvt.rn.tf32.f32', 0x3f801000)).toBe(0x3f800000); // tie → even
    expect(run('cvt.rna.tf32.f32', 0x3f800fff)).toBe(0x3f800000);
    expect(run('cvt.rz.tf32.f32', 0x3f803fff)).toBe(0x3f802000);
    expect(run('cvt.rna.tf32.f32', NAN32)).toBe(NAN32);
    expect(runF('cvt.rn.satfinite.e4m3x2.f32', 1, 448)).toBe(0x387e);
    expect(runF('cvt.rn.satfinite.e4m3x2.f32', 1000, -1000)).toBe(0x7efe);
    expect(runF('cvt.rn.satfinite.e4m3x2.f32', NaN, 0)).toBe(0x7f00);
    expect(runF('cvt.rn.satfinite.e5m2x2.f32', 1, -2)).toBe(0x3cc0);
    expect(runF('cvt.rn.satfinite.relu.e4m3x2.f32', -1, 2)).toBe(0x0040);
    expect(run('cvt.rn.satfinite.e4m3x2.f16x2', 0x3c004000)).toBe(0x3840);
    expect(run('cvt.rn.f16x2.e4m3x2', 0x3840)).toBe(0x3c004000);
    expect(run('cvt.rn.f16x2.e5m2x2', 0x3cc0)).toBe(0x3c00c000);
  });

  it('float ↔ float: f64/f32 rounding, integral rounding, sat, ftz', () => {
    expect(run('cvt.f64.f32', fb(1.5))).toBe(db(1.5));
    expect(run('cvt.f64.f32', NAN32)).toBe(0x7fffffffffffffffn);
    expect(run('cvt.rz.f32.f64', db(1 + 2 ** -30))).toBe(fb(1));
    expect(run('cvt.rp.f32.f64', db(1 + 2 ** -30))).toBe(fb(1 + 2 ** -23));
    expect(run('cvt.rn.f32.f64', db(1e300))).toBe(0x7f800000);
    expect(run('cvt.rz.f32.f64', db(1e300))).toBe(F32_MAX);
    expect(run('cvt.rm.f32.f64', db(-1e-300))).toBe(0x80000001);
    expect(run('cvt.rn.f32.f64', db(-1e-300))).toBe(NEG0);
    expect(runF('cvt.rni.f32.f32', 2.5)).toBe(fb(2));
    expect(runF('cvt.rni.f32.f32', -0.5)).toBe(NEG0);
    expect(runF('cvt.rmi.f32.f32', -0.5)).toBe(fb(-1));
    expect(runF('cvt.rpi.f32.f32', -0.5)).toBe(NEG0);
    expect(runF('cvt.rzi.f32.f32', 1e30)).toBe(fb(1e30));
    expect(run('cvt.rpi.f64.f64', db(1.1))).toBe(db(2));
    expect(run('cvt.rni.f16.f16', 0x3e00)).toBe(0x4000); // 1.5 → 2
    expect(runF('cvt.sat.f32.f32', 1.5)).toBe(fb(1));
    expect(runF('cvt.sat.f32.f32', NaN)).toBe(0);
    expect(run('cvt.ftz.f32.f32', 1)).toBe(0);
    expect(run('cvt.f32.f32', 1)).toBe(1);
  });
});

describe('half precision', () => {
  it('f16x2 adds lane-wise', () => {
    expect(run('add.f16x2', 0x40003c00, 0x34003800)).toBe(0x40803e00); // (1 + 0.5, 2 + 0.25)
    expect(run('sub.f16x2', 0x40003c00, 0x40003c00)).toBe(0);
    expect(run('mul.f16x2', 0x40003c00, 0xc0004000)).toBe(0xc4004000); // (1·2, 2·-2)
    expect(run('add.f16', 0x7bff, 0x7bff)).toBe(0x7c00);
    expect(run('add.rn.f16', 0x3c00, 0x1400)).toBe(0x3c01); // 1 + 2^-10
    expect(run('add.f16', 0x3c00, 0x1000)).toBe(0x3c00); // 1 + 2^-11: tie to even
    expect(run('add.sat.f16', 0x3c00, 0x3c00)).toBe(0x3c00);
    expect(run('add.sat.f16x2', 0xbc003c00, 0x00000000)).toBe(0x00003c00);
    expect(run('add.ftz.f16', 0x0001, 0x0000)).toBe(0);
    expect(run('add.f16', 0x0001, 0x0000)).toBe(0x0001);
    expect(run('add.f16', 0x7c00, 0xfc00)).toBe(0x7fff);
    expect(run('add.bf16x2', 0x3f803f80, 0x3f803f80)).toBe(0x40004000);
    expect(run('mul.rn.bf16', 0x3f81, 0x3f81)).toBe(0x3f82); // (1+2^-7)^2 = 1 + 2^-6 + 2^-14
  });

  it('bf16x2 fma rounds once per lane', () => {
    // lane 0: (1 + 2^-7)^2 - (1 + 2^-6) = 2^-14 exactly; lane 1: 1·1 + 1 = 2
    expect(run('fma.rn.bf16x2', 0x3f803f81, 0x3f803f81, 0x3f80bf82)).toBe(0x40003880);
    expect(run('fma.rn.bf16', 0x3f81, 0x3f81, 0xbf82)).toBe(0x3880);
    expect(run('fma.rn.f16', 0x3c01, 0x3c01, 0xbc02)).toBe(0x0010); // (1+2^-10)^2 - (1 + 2^-9) = 2^-20, subnormal
    expect(run('fma.rn.relu.f16', 0x3c00, 0xbc00, 0)).toBe(0);
    expect(run('fma.rn.relu.bf16x2', 0x3f80bf80, 0x3f803f80, 0)).toBe(0x3f800000);
    expect(run('fma.rn.sat.f16x2', 0x40004000, 0x40004000, 0x0000bc00)).toBe(0x3c003c00);
  });

  it('min / max / neg / abs on halves', () => {
    expect(run('min.f16', 0x7e00, 0x3c00)).toBe(0x3c00);
    expect(run('min.NaN.f16', 0x7e00, 0x3c00)).toBe(0x7fff);
    expect(run('max.f16x2', 0x3c00c000, 0x40008000)).toBe(0x40008000); // (max(-2, -0) = -0, max(1, 2) = 2)
    expect(run('min.f16x2', 0x00008000, 0x80000000)).toBe(0x80008000); // -0 < +0 in each lane
    expect(run('max.bf16', 0x3f80, 0x4000)).toBe(0x4000);
    expect(run('min.xorsign.abs.bf16', 0xbf80, 0x4000)).toBe(0xbf80);
    expect(run('neg.bf16', 0x3f80)).toBe(0xbf80);
    expect(run('neg.f16x2', 0x3c00bc00)).toBe(0xbc003c00);
    expect(run('abs.f16x2', 0xbc00bc00)).toBe(0x3c003c00);
    expect(run('abs.ftz.f16', 0x8001)).toBe(0);
  });

  it('ex2 / tanh on halves', () => {
    expect(run('ex2.approx.f16', 0x3c00)).toBe(0x4000);
    expect(run('ex2.approx.f16x2', 0x3c004000)).toBe(0x40004400); // (2^2, 2^1)
    expect(run('ex2.approx.f16', 0xfc00)).toBe(0);
    expect(run('ex2.approx.ftz.bf16', 0x0001)).toBe(0x3f80); // subnormal input → 2^0
    expect(run('ex2.approx.ftz.bf16x2', 0x3f804000)).toBe(0x40004080);
    expect(run('tanh.approx.f16', 0x8000)).toBe(0x8000);
    expect(run('tanh.approx.f16', 0x7c00)).toBe(0x3c00);
    expect(run('tanh.approx.bf16', 0x3f80)).toBe(0x3f43); // tanh(1) = 0.7616 → bf16
    expect(run('tanh.approx.f16x2', 0x00003c00)).toBe(0x00003a18); // tanh(1) = 0.76159 → f16 0x3a18
  });
});

describe('immediateBits', () => {
  it('integers wrap to the type width', () => {
    expect(immediateBits(-1, 'int', 's32')).toBe(0xffffffff);
    expect(immediateBits(-1, 'int', 'u64')).toBe(MASK64);
    expect(immediateBits(-1, 'int', 'b16')).toBe(0xffff);
    expect(immediateBits(5, 'int', 'u16')).toBe(5);
    expect(immediateBits(2 ** 40, 'int', 'u32')).toBe(0);
    expect(immediateBits(-(2n ** 63n), 'int', 's64')).toBe(2n ** 63n);
    expect(immediateBits(0x3c003c00, 'int', 'f16x2')).toBe(0x3c003c00);
    expect(immediateBits(1, 'int', 'pred')).toBe(true);
    expect(immediateBits(0, 'int', 'pred')).toBe(false);
  });

  it('floats become the bits of the type', () => {
    expect(immediateBits(1.5, 'float32', 'f32')).toBe(0x3fc00000);
    expect(immediateBits(0.1, 'float64', 'f32')).toBe(0x3dcccccd);
    expect(immediateBits(0.1, 'float64', 'f64')).toBe(0x3fb999999999999an);
    expect(immediateBits(Math.fround(0.1), 'float32', 'f64')).toBe(db(Math.fround(0.1)));
    expect(immediateBits(1, 'int', 'f32')).toBe(0x3f800000);
    expect(immediateBits(1, 'float32', 'b32')).toBe(0x3f800000);
    expect(immediateBits(1, 'float64', 'b64')).toBe(0x3ff0000000000000n);
    expect(immediateBits(1, 'float64', 'f16')).toBe(0x3c00);
    expect(immediateBits(1, 'float64', 'bf16')).toBe(0x3f80);
    expect(immediateBits(-Infinity, 'float32', 'f32')).toBe(0xff800000);
  });
});
