/**
 * Arithmetic semantics of the PTX emulator: integer, floating-point, half-precision, comparison/selection
 * and conversion instructions. `makeAluOp(opcode, modifiers)` decodes the modifiers once and returns a
 * closure specialised for them; the core calls `exec` per thread with the source operands' raw bits.
 *
 * Value representation (fixed by the core): every register value is its raw bit pattern — a number in
 * [0, 2^32) for types of 32 bits or fewer (16-bit in [0, 2^16), 8-bit in [0, 256)), a bigint in [0, 2^64)
 * for 64-bit types, a boolean for predicates. `srcTypes[i]` / `dstTypes[i]` name the PTX type of each
 * operand, so the core knows which representation to hand over (e.g. the shift amount of `shl.b64` and
 * the field position of `bfe.u64` are `u32` numbers; the destination of `mul.wide.u32` is a `u64` bigint).
 * Results narrower than a wider destination register (cvt.s8.s32 into a .b32) come back in the
 * instruction type's width; extending them to the register (sign for signed types, zero otherwise) is
 * the core's job, as is truncating a wider source register to the instruction type.
 *
 * Exactness: IEEE operations (add/sub/mul/fma/div/sqrt/rcp in every rounding mode, cvt) are bit-exact.
 * f32 uses float64 plus an exact error term (TwoSum, or a residual check for div/sqrt) and one rounding
 * step (`roundFmt`); f64 with .rz/.rm/.rp, and f64 fma outside a safe exponent range, use exact BigInt
 * arithmetic (`roundBig`); f64 .rn add/sub/mul/div/sqrt are native, and fma.rn.f64 uses the
 * Boldo–Melquiond round-to-odd emulation. NaN results are canonical: f32 0x7fffffff, f16/bf16 0x7fff,
 * f64 0x7fffffffffffffff (our choice; the ISA leaves the f64 payload unspecified).
 *
 * Approximate instructions — what we return, against the bound the ISA promises:
 *
 * | instruction                     | computed as                                         | our error              | ISA bound                    |
 * | ------------------------------- | --------------------------------------------------- | ---------------------- | ---------------------------- |
 * | rcp.approx{.ftz}.f32            | correctly rounded 1/x                               | 0.5 ulp                | 1 ulp                        |
 * | sqrt.approx{.ftz}.f32           | correctly rounded sqrt(x)                           | 0.5 ulp                | 2^-23 relative               |
 * | rsqrt.approx{.ftz}.f32          | 1/Math.sqrt(x) in f64, rounded to f32               | ≤ 0.5 ulp + 2^-51 rel  | 2^-22.9 relative             |
 * | div.approx{.ftz}.f32            | correctly rounded a/b; for 2^126 < |b| < 2^128 a    | 0.5 ulp                | 2 ulp for |b| in [2^-126,    |
 * |                                 | signed zero (NaN if a = ±Inf), as the ISA describes |                        | 2^126]                       |
 * | div.full{.ftz}.f32              | correctly rounded a/b                               | 0.5 ulp                | 2 ulp                        |
 * | sin/cos.approx{.ftz}.f32        | Math.sin/Math.cos in f64, rounded to f32            | ≤ 0.5 ulp + 1 ulp(f64) | 2^-20.5 absolute in ±2π      |
 * | lg2.approx{.ftz}.f32            | Math.log2 in f64, rounded to f32                    | ≤ 0.5 ulp + 1 ulp(f64) | 2^-22 abs in (0.5,2), else   |
 * |                                 |                                                     |                        | 2^-22 relative               |
 * | ex2.approx{.ftz}.f32            | 2 ** x in f64, rounded to f32                       | ≤ 0.5 ulp + 1 ulp(f64) | 2 ulp                        |
 * | tanh.approx.f32                 | Math.tanh in f64, rounded to f32                    | ≤ 0.5 ulp + 1 ulp(f64) | 2^-11 relative               |
 * | ex2.approx.f16/.f16x2           | 2 ** x in f64, rounded to f16                       | ≤ 0.5 ulp (f16)        | 2^-9.9 relative              |
 * | ex2.approx.ftz.bf16/.bf16x2     | 2 ** x in f64, rounded to bf16                      | ≤ 0.5 ulp (bf16)       | 2^-7 relative                |
 * | tanh.approx.f16/.f16x2          | Math.tanh in f64, rounded to f16                    | ≤ 0.5 ulp (f16)        | 2^-10.987 absolute           |
 * | tanh.approx.bf16/.bf16x2        | Math.tanh in f64, rounded to bf16                   | ≤ 0.5 ulp (bf16)       | 2^-8 absolute                |
 * | rcp.approx.ftz.f64              | 1/x of the 1.11.20 upper word, rounded to nearest   | 0.5 ulp of 20-bit      | "gross approximation"        |
 * |                                 | 1.11.20, low word zero (as the ISA describes)       | mantissa               |                              |
 * | rsqrt.approx.ftz.f64            | same scheme with 1/sqrt                             | 0.5 ulp of 20-bit man. | unspecified                  |
 * | rsqrt.approx.f64                | 1/Math.sqrt(x) in f64                               | ≤ 1.5 ulp (f64)        | unspecified                  |
 *
 * Behaviour the ISA leaves unspecified, and what we do:
 * - integer div by zero: quotient all ones (unsigned max, -1 signed); rem by zero returns the dividend.
 *   s32/s64 MIN / -1 wraps to MIN, MIN rem -1 is 0.
 * - min/max: -0 < +0 (the ISA says so); both NaN → canonical NaN.
 * - .relu maps -0 to +0 (max(x, +0) with +0 > -0); fp8 (e4m3/e5m2) NaN encodes as 0x7f.
 * - neg/abs on floats are sign-bit operations (NaN payloads pass through, unlike arithmetic).
 *
 * Not supported (throw EmulatorInputError): carry-chain forms (add.cc, addc, sub.cc, subc, mad.cc, madc —
 * they need the core's carry flag), three-input min/max, lop3 with a predicate output, f32x2 arithmetic,
 * cvt.rs / cvt.pack / fp4 / fp6 / ue8m0 formats, fma.oob, mul.wide.u64.
 */
import { bf16ToBits, f16FromBits, f16ToBits, f8e4m3FromBits, f8e4m3ToBits, f8e5m2FromBits, f8e5m2ToBits } from '../../dsl/float-rounding.js';
import { EmulatorInputError } from './types.js';

export type RegValue = number | bigint | boolean;

export interface AluOp {
  readonly dsts: number;
  readonly srcs: number;
  /** Statistics class: 'int', 'fp32', 'fp64', 'fp16', 'sfu', 'cvt', 'pred'. */
  readonly cls: string;
  /** PTX type of each source operand (which representation exec expects), in operand order. */
  readonly srcTypes: readonly string[];
  /** PTX type of each destination. */
  readonly dstTypes: readonly string[];
  exec(srcs: readonly RegValue[]): RegValue | readonly RegValue[];
}

type N = number;
type Exec = (s: readonly RegValue[]) => RegValue | readonly RegValue[];

// ---------------------------------------------------------------------------------------------------------
// Bit views and constants

const SCRATCH = new ArrayBuffer(8);
const F64 = new Float64Array(SCRATCH);
const U64 = new BigUint64Array(SCRATCH);
const F32 = new Float32Array(SCRATCH, 0, 1);
const U32 = new Uint32Array(SCRATCH); // U32[0] aliases F32[0]
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // U32 index of a double's high word
const LO = 1 - HI;

const NAN32 = 0x7fffffff;
const NAN16 = 0x7fff;
const NAN64 = 0x7fffffffffffffffn;
const MASK64 = 0xffffffffffffffffn;
const SIGN64 = 0x8000000000000000n;
const F32_MIN_NORMAL = 2 ** -126;
const F64_MIN_NORMAL = 2 ** -1022;

const f32 = (bits: N): N => {
  U32[0] = bits;
  return F32[0];
};
/** Bits of x rounded to f32 (nearest even), canonical NaN. */
const f32bits = (x: N): N => {
  if (x !== x) return NAN32;
  F32[0] = x;
  return U32[0];
};
const f64 = (bits: bigint): N => {
  U64[0] = bits;
  return F64[0];
};
const f64bits = (x: N): bigint => {
  if (x !== x) return NAN64;
  F64[0] = x;
  return U64[0];
};
const ftz32 = (b: N): N => ((b & 0x7f800000) === 0 ? (b & 0x80000000) >>> 0 : b);
const ftz16 = (b: N): N => ((b & 0x7c00) === 0 ? b & 0x8000 : b);
const ftzBF16 = (b: N): N => ((b & 0x7f80) === 0 ? b & 0x8000 : b);

// f16 decoding is a table lookup (the core calls it per lane per instruction); bf16 is the top half of an f32.
const F16_VALUES = new Float64Array(65536);
for (let b = 0; b < 65536; b++) F16_VALUES[b] = f16FromBits(b);
const h16 = (b: N): N => F16_VALUES[b];
const hbf = (b: N): N => f32(b << 16);
const e16 = (x: N): N => (x !== x ? NAN16 : f16ToBits(x));
const ebf = (x: N): N => (x !== x ? NAN16 : bf16ToBits(x));

// Exact powers of two 2^-1074 .. 2^1023 (Math.pow is not guaranteed exact).
const POW2 = new Float64Array(2098);
POW2[1074] = 1;
for (let k = 1; k <= 1023; k++) POW2[1074 + k] = POW2[1073 + k] * 2;
for (let k = -1; k >= -1074; k--) POW2[1074 + k] = POW2[1075 + k] / 2;
const pow2 = (k: N): N => POW2[k + 1074];

/** Unbiased exponent of a positive finite double (-1023 for double subnormals, below every emin used here). */
function exponentOf(a: N): N {
  F64[0] = a;
  return ((U32[HI] >>> 20) & 0x7ff) - 1023;
}

// ---------------------------------------------------------------------------------------------------------
// Rounding

const RN = 0;
const RZ = 1;
const RM = 2;
const RP = 3;
const RNA = 4;

/** A binary floating-point format with gradual underflow: fraction bits, minimum normal exponent, largest finite. */
interface Fmt {
  readonly man: N;
  readonly emin: N;
  readonly emax: N;
  readonly max: N;
}
const fmt = (man: N, emin: N, emax: N): Fmt => ({ man, emin, emax, max: (2 - pow2(-man)) * pow2(emax) });
const FMT_F64 = fmt(52, -1022, 1023);
const FMT_F32 = fmt(23, -126, 127);
const FMT_F16 = fmt(10, -14, 15);
const FMT_BF16 = fmt(7, -126, 127);
const FMT_TF32 = fmt(10, -126, 127);
const FMT_F64HI = fmt(20, -1022, 1023); // the 1.11.20 upper word of rcp/rsqrt.approx.ftz.f64

/** Rounding direction on the magnitude: 0 nearest-even, 1 toward zero, 2 away from zero, 3 nearest-away. */
function magnitudeDir(mode: N, neg: boolean): N {
  if (mode === RN) return 0;
  if (mode === RNA) return 3;
  if (mode === RZ) return 1;
  return (mode === RM) === neg ? 2 : 1;
}

/**
 * Round the exact value x = hi + lo to format f in the given mode, returning the result as a double
 * (±Inf on overflow unless the direction is toward zero, which gives ±max). Requirements: hi = x, or hi is
 * x rounded to nearest double and lo has the sign of x - hi (only its sign is used: the double grid is so
 * much finer than f's that lo matters only when hi sits exactly on an f value or an f midpoint).
 */
function roundFmt(hi: N, lo: N, f: Fmt, mode: N): N {
  if (hi !== hi) return NaN;
  if (hi === 0 && lo === 0) return hi;
  const neg = hi < 0 || (hi === 0 && lo < 0);
  const a = neg ? -hi : hi;
  if (a === Infinity) return hi;
  const l = neg ? -lo : lo; // > 0: |x| is above a
  const dir = magnitudeDir(mode, neg);
  const e = a === 0 ? f.emin : Math.max(exponentOf(a), f.emin);
  const q = pow2(e - f.man); // quantum of |x|'s binade (clamped at the subnormal range)
  const r = a / q; // exact: scaling by a power of two
  let n = Math.floor(r);
  const frac = r - n; // exact: r < 2^(man+1)
  let v: N;
  if (dir === 0) {
    if (frac > 0.5 || (frac === 0.5 && (l > 0 || (l === 0 && n % 2 === 1)))) n += 1;
    v = n * q;
  } else if (dir === 3) {
    if (frac > 0.5 || (frac === 0.5 && l >= 0)) n += 1;
    v = n * q;
  } else if (dir === 2) {
    if (frac > 0 || l > 0) n += 1;
    v = n * q;
  } else {
    v = n * q;
    // exactly on a grid point but just below it: the predecessor (half a quantum below a binade's bottom)
    if (frac === 0 && l < 0) v -= n === 2 ** f.man && e > f.emin ? q / 2 : q;
  }
  if (v > f.max) v = dir === 1 ? f.max : Infinity;
  return neg ? -v : v;
}

/** IEEE sign of an exact zero sum x + y: same-signed zeros keep their sign, otherwise +0 (-0 rounding down). */
function zeroSum(x: N, y: N, mode: N): N {
  if (x === 0 && y === 0 && 1 / x === 1 / y) return x;
  return mode === RM ? -0 : 0;
}

// TwoSum: s = fl(a + b) and the exact error, for doubles whose sum does not overflow.
let twoErr = 0;
function twoSum(a: N, b: N): N {
  const s = a + b;
  const bb = s - a;
  twoErr = a - (s - bb) + (b - bb);
  return s;
}

// Dekker's TwoProduct error term (exact when neither the split nor the partial products over/underflow).
const SPLIT = 134217729; // 2^27 + 1
function twoProdErr(a: N, b: N, p: N): N {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** a + b rounded to f (operands exactly representable in f ⊆ double). */
function addFmt(x: N, y: N, f: Fmt, mode: N): N {
  const s = twoSum(x, y);
  if (s === 0 && twoErr === 0) return zeroSum(x, y, mode);
  return roundFmt(s, twoErr, f, mode);
}

/** a * b + c rounded once to f, for formats of at most 26 significant bits (the product is exact in double). */
function fmaFmt(x: N, y: N, z: N, f: Fmt, mode: N): N {
  const p = x * y;
  const s = twoSum(p, z);
  if (s === 0 && twoErr === 0) return zeroSum(p, z, mode);
  return roundFmt(s, twoErr, f, mode);
}

/** a / b rounded to f32 in a directed mode: the f64 quotient plus the sign of the residual a - q*b. */
function div32(x: N, y: N, mode: N): N {
  const q = x / y;
  if (mode === RN || q !== q || q === 0 || q === Infinity || q === -Infinity) return q;
  const t = q * y; // exact whenever q has ≤ 29 significant bits, which is when the residual's sign matters
  const lo = t === x ? 0 : x > t === y > 0 ? 1 : -1;
  return roundFmt(q, lo, FMT_F32, mode);
}

function sqrt32(x: N, mode: N): N {
  const s = Math.sqrt(x);
  if (mode === RN || !(s > 0) || s === Infinity) return s;
  const t = s * s;
  return roundFmt(s, t === x ? 0 : x > t ? 1 : -1, FMT_F32, mode);
}

// ---- exact BigInt arithmetic (f64 directed rounding, fma.f64 fallback) ----

interface BigF {
  readonly neg: boolean;
  readonly m: bigint;
  readonly e: N;
}
function bigOf(x: N): BigF {
  F64[0] = x;
  const raw = U64[0];
  const neg = raw >> 63n === 1n;
  const field = Number((raw >> 52n) & 0x7ffn);
  const frac = raw & 0xfffffffffffffn;
  return field === 0 ? { neg, m: frac, e: -1074 } : { neg, m: frac | (1n << 52n), e: field - 1075 };
}
const bitLen = (m: bigint): N => m.toString(2).length;

/** Round (m + sticky·ε)·2^e (m > 0; when sticky, m must carry ≥ f.man + 3 bits) to f. */
function roundBig(neg: boolean, m: bigint, e: N, sticky: boolean, f: Fmt, mode: N): N {
  const dir = magnitudeDir(mode, neg);
  const top = e + bitLen(m) - 1;
  let v: N;
  if (top > f.emax) v = dir === 1 ? f.max : Infinity;
  else {
    const qe = Math.max(top, f.emin) - f.man;
    const shift = qe - e;
    let n: bigint;
    let cls: N; // discarded part: 0 none, 1 below half, 2 exactly half, 3 above half
    if (shift <= 0) {
      n = m << BigInt(-shift);
      cls = sticky ? 1 : 0;
    } else {
      const sb = BigInt(shift);
      n = m >> sb;
      const rem = m - (n << sb);
      const half = 1n << (sb - 1n);
      cls = rem === 0n ? (sticky ? 1 : 0) : rem < half ? 1 : rem > half ? 3 : sticky ? 3 : 2;
    }
    let k = Number(n);
    if (dir === 0) {
      if (cls === 3 || (cls === 2 && k % 2 === 1)) k += 1;
    } else if (dir === 3) {
      if (cls >= 2) k += 1;
    } else if (dir === 2 && cls > 0) k += 1;
    v = k * pow2(qe);
    if (v > f.max) v = dir === 1 ? f.max : Infinity;
  }
  return neg ? -v : v;
}

function exactSum(pNeg: boolean, pm: bigint, pe: N, c: BigF): { neg: boolean; m: bigint; e: N } {
  const e = Math.min(pe, c.e);
  const a = (pNeg ? -pm : pm) << BigInt(pe - e);
  const b = (c.neg ? -c.m : c.m) << BigInt(c.e - e);
  const s = a + b;
  return { neg: s < 0n, m: s < 0n ? -s : s, e };
}

/** Finite, nonzero x and y. */
function exactAdd(x: N, y: N, mode: N): N {
  const a = bigOf(x);
  const r = exactSum(a.neg, a.m, a.e, bigOf(y));
  return r.m === 0n ? zeroSum(x, y, mode) : roundBig(r.neg, r.m, r.e, false, FMT_F64, mode);
}
function exactMul(x: N, y: N, mode: N): N {
  const a = bigOf(x);
  const b = bigOf(y);
  return roundBig(a.neg !== b.neg, a.m * b.m, a.e + b.e, false, FMT_F64, mode);
}
/** Finite x, y, z with x*y ≠ 0 and z ≠ 0. */
function exactFma(x: N, y: N, z: N, mode: N): N {
  const a = bigOf(x);
  const b = bigOf(y);
  const r = exactSum(a.neg !== b.neg, a.m * b.m, a.e + b.e, bigOf(z));
  return r.m === 0n ? zeroSum(x * y, z, mode) : roundBig(r.neg, r.m, r.e, false, FMT_F64, mode);
}
function exactDiv(x: N, y: N, mode: N): N {
  const a = bigOf(x);
  const b = bigOf(y);
  const k = Math.max(0, FMT_F64.man + 4 - (bitLen(a.m) - bitLen(b.m)));
  const num = a.m << BigInt(k);
  const q = num / b.m;
  return roundBig(a.neg !== b.neg, q, a.e - b.e - k, q * b.m !== num, FMT_F64, mode);
}
function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLen(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
/** Finite x > 0. */
function exactSqrt(x: N, mode: N): N {
  const a = bigOf(x);
  let m = a.m;
  let e = a.e;
  if (e & 1) {
    m <<= 1n;
    e -= 1;
  }
  const k = Math.max(0, Math.ceil((2 * (FMT_F64.man + 4) - bitLen(m)) / 2));
  m <<= BigInt(2 * k);
  e -= 2 * k;
  const s = isqrt(m);
  return roundBig(false, s, e / 2, s * s !== m, FMT_F64, mode);
}

// ---- f64 operations in every mode ----

function add64(x: N, y: N, mode: N): N {
  if (mode === RN || !Number.isFinite(x) || !Number.isFinite(y)) return x + y;
  if (x === 0 || y === 0) return x === 0 && y === 0 ? zeroSum(x, y, mode) : x === 0 ? y : x;
  return exactAdd(x, y, mode);
}
function mul64(x: N, y: N, mode: N): N {
  if (mode === RN || !Number.isFinite(x) || !Number.isFinite(y) || x === 0 || y === 0) return x * y;
  return exactMul(x, y, mode);
}
function div64(x: N, y: N, mode: N): N {
  if (mode === RN || !Number.isFinite(x) || !Number.isFinite(y) || x === 0 || y === 0) return x / y;
  return exactDiv(x, y, mode);
}
function sqrt64(x: N, mode: N): N {
  if (mode === RN || !(x > 0) || x === Infinity) return Math.sqrt(x);
  return exactSqrt(x, mode);
}
const BM_HI = 2 ** 990;
const BM_LO = 2 ** -900;
function fma64(x: N, y: N, z: N, mode: N): N {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return x * y + z; // Inf·0 and Inf - Inf are NaN, as IEEE
  if (!Number.isFinite(z)) return z; // a finite product (even one past the f64 range) plus ±Inf or NaN
  if (x === 0 || y === 0) {
    const p = x * y;
    return z === 0 ? zeroSum(p, z, mode) : z;
  }
  if (z === 0) return mul64(x, y, mode); // the product is nonzero, so +z cannot change it or its sign
  if (mode === RN) {
    const p = x * y;
    const ap = Math.abs(p);
    const az = Math.abs(z);
    if (Math.abs(x) < BM_HI && Math.abs(y) < BM_HI && ap < BM_HI && ap > BM_LO && az < BM_HI && az > BM_LO) {
      // Boldo–Melquiond: fma = RN(th + RO(tl + pl)) with p + pl = x*y and th + tl = z + p exactly.
      const pl = twoProdErr(x, y, p);
      const th = twoSum(z, p);
      const tl = twoErr;
      let v = twoSum(tl, pl);
      if (twoErr !== 0) {
        F64[0] = v;
        if ((U32[LO] & 1) === 0) {
          // round to odd: step to the odd neighbour on the side of the discarded error
          U64[0] = twoErr > 0 === v > 0 ? U64[0] + 1n : U64[0] - 1n;
          v = F64[0];
        }
      }
      return th + v;
    }
  }
  return exactFma(x, y, z, mode);
}

// ---------------------------------------------------------------------------------------------------------
// Modifier decoding

const INT_TYPES = new Set(['u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64']);
const BIT_TYPES = new Set(['b8', 'b16', 'b32', 'b64']);
const HALF_TYPES = new Set(['f16', 'f16x2', 'bf16', 'bf16x2']);
const TYPE_NAMES = new Set([
  ...INT_TYPES, ...BIT_TYPES, ...HALF_TYPES,
  'f32', 'f64', 'pred', 'u16x2', 's16x2', 'tf32', 'e4m3x2', 'e5m2x2', 'e4m3', 'e5m2', 'f32x2',
  'e2m1x2', 'e2m3x2', 'e3m2x2', 'ue8m0x2', 'e2m1x4', 'e4m3x4', 'e5m2x4', 'e2m3x4', 'e3m2x4', 'f64x2',
]);

/** The modifiers of one instruction: builders take what they understand; anything left over is unsupported. */
class Mods {
  readonly types: readonly string[];
  private readonly left: string[];
  constructor(
    private readonly opcode: string,
    private readonly all: readonly string[],
  ) {
    this.types = all.filter((x) => TYPE_NAMES.has(x));
    this.left = all.filter((x) => !TYPE_NAMES.has(x));
  }
  fail(): never {
    throw new EmulatorInputError(`unsupported instruction: ${[this.opcode, ...this.all].join('.')}`);
  }
  take(x: string): boolean {
    const i = this.left.indexOf(x);
    if (i < 0) return false;
    this.left.splice(i, 1);
    return true;
  }
  /** The one of `options` present (undefined if none; two present leaves one over, which fails later). */
  pick<T extends string>(options: readonly T[]): T | undefined {
    for (const o of options) if (this.take(o)) return o;
    return undefined;
  }
  /** Exactly one type modifier. */
  type1(): string {
    if (this.types.length !== 1) this.fail();
    return this.types[0];
  }
  type2(): readonly [string, string] {
    if (this.types.length !== 2) this.fail();
    return [this.types[0], this.types[1]];
  }
  finish(): void {
    if (this.left.length > 0) this.fail();
  }
}

const FRND = ['rn', 'rz', 'rm', 'rp'] as const;
const MODE_OF: Readonly<Record<string, N>> = { rn: RN, rz: RZ, rm: RM, rp: RP, rna: RNA };
/** Float rounding modifier; defaults to .rn (the ISA's default where the modifier is optional). */
function frnd(m: Mods, allowed: readonly string[] = FRND): N {
  const r = m.pick(['rn', 'rz', 'rm', 'rp', 'rna']);
  if (r === undefined) return RN;
  if (!allowed.includes(r)) m.fail();
  return MODE_OF[r];
}

function mk(cls: string, srcTypes: readonly string[], dstTypes: readonly string[], exec: Exec): AluOp {
  return { dsts: dstTypes.length, srcs: srcTypes.length, cls, srcTypes, dstTypes, exec };
}

// ---------------------------------------------------------------------------------------------------------
// Integer helpers

/** Width of a scalar type, or of one lane of a packed x2 type. */
const bits = (t: string): N => Number(t.replace(/^[a-z]+/, '').replace(/x2$/, ''));
/** Register width of a type (packed x2 types are two lanes; tf32 travels as b32). */
const regBits = (t: string): N => (t === 'tf32' ? 32 : t.endsWith('x2') ? 2 * bits(t) : bits(t));
const isSigned = (t: string): boolean => t[0] === 's';
const sext8 = (x: N): N => (x << 24) >> 24;
const sext16 = (x: N): N => (x << 16) >> 16;
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
/** A u32 operand that the core may have handed over as a bigint (e.g. an immediate typed by the instruction). */
const u32of = (v: RegValue): N => (typeof v === 'bigint' ? Number(v & 0xffffffffn) : (v as N));
const clampS32 = (x: N): N => (x > 2147483647 ? 2147483647 : x < -2147483648 ? -2147483648 : x);
const maskN = (n: N): N => (n <= 0 ? 0 : n >= 32 ? 0xffffffff : 0xffffffff >>> (32 - n));

function mulhiU32(a: N, b: N): N {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const m1 = a1 * b0;
  const m2 = a0 * b1;
  const carry = ((a0 * b0) / 65536 + (m1 % 65536) + (m2 % 65536)) / 65536;
  return (a1 * b1 + Math.floor(m1 / 65536) + Math.floor(m2 / 65536) + Math.floor(carry)) >>> 0;
}
function mulhiS32(a: N, b: N): N {
  return (mulhiU32(a, b) - ((a | 0) < 0 ? b : 0) - ((b | 0) < 0 ? a : 0)) >>> 0;
}

function popc32(x: N): N {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
function brev32(x: N): N {
  x = ((x >>> 1) & 0x55555555) | ((x & 0x55555555) << 1);
  x = ((x >>> 2) & 0x33333333) | ((x & 0x33333333) << 2);
  x = ((x >>> 4) & 0x0f0f0f0f) | ((x & 0x0f0f0f0f) << 4);
  x = ((x >>> 8) & 0x00ff00ff) | ((x & 0x00ff00ff) << 8);
  return ((x >>> 16) | (x << 16)) >>> 0;
}
const hiWord = (x: bigint): N => Number(x >> 32n);
const loWord = (x: bigint): N => Number(x & 0xffffffffn);
const join64 = (hi: N, lo: N): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

// 1- to 4-operand exec shapes over numbers and bigints (casts document the representation contract).
const n1 = (f: (a: N) => RegValue): Exec => (s) => f(s[0] as N);
const n2 = (f: (a: N, b: N) => RegValue): Exec => (s) => f(s[0] as N, s[1] as N);
const n3 = (f: (a: N, b: N, c: N) => RegValue): Exec => (s) => f(s[0] as N, s[1] as N, s[2] as N);
const b1 = (f: (a: bigint) => RegValue): Exec => (s) => f(s[0] as bigint);
const b2 = (f: (a: bigint, b: bigint) => RegValue): Exec => (s) => f(s[0] as bigint, s[1] as bigint);
const b3 = (f: (a: bigint, b: bigint, c: bigint) => RegValue): Exec => (s) => f(s[0] as bigint, s[1] as bigint, s[2] as bigint);

/** Apply a 16-bit lane operation to both halves of 32-bit operands (lane 0 = bits 15:0). */
const x2of1 = (f: (a: N) => N) => (a: N): N => (f(a & 0xffff) | (f(a >>> 16) << 16)) >>> 0;
const x2of2 = (f: (a: N, b: N) => N) => (a: N, b: N): N => (f(a & 0xffff, b & 0xffff) | (f(a >>> 16, b >>> 16) << 16)) >>> 0;
const x2of3 = (f: (a: N, b: N, c: N) => N) => (a: N, b: N, c: N): N =>
  (f(a & 0xffff, b & 0xffff, c & 0xffff) | (f(a >>> 16, b >>> 16, c >>> 16) << 16)) >>> 0;

// ---------------------------------------------------------------------------------------------------------
// Integer arithmetic

function intAddSub(m: Mods, t: string, sub: boolean): AluOp {
  const sat = m.take('sat');
  if (sat && t !== 's32') m.fail();
  const sg = sub ? -1 : 1;
  switch (t) {
    case 'u16':
    case 's16':
      return mk('int', [t, t], [t], n2((a, b) => (a + sg * b) & 0xffff));
    case 'u32':
    case 's32':
      if (sat) return mk('int', [t, t], [t], n2((a, b) => clampS32((a | 0) + sg * (b | 0)) >>> 0));
      return mk('int', [t, t], [t], sub ? n2((a, b) => (a - b) >>> 0) : n2((a, b) => (a + b) >>> 0));
    case 'u64':
    case 's64':
      return mk('int', [t, t], [t], sub ? b2((a, b) => u64(a - b)) : b2((a, b) => u64(a + b)));
    case 'u16x2':
    case 's16x2':
      return mk('int', ['b32', 'b32'], ['b32'], n2(x2of2((a, b) => (a + sg * b) & 0xffff)));
  }
  return m.fail();
}

/** mul/mad .lo/.hi/.wide on integers; `mad` adds a third operand of the result type. */
function intMulMad(m: Mods, t: string, mad: boolean): AluOp {
  const mode = m.pick(['lo', 'hi', 'wide']);
  const sat = m.take('sat');
  if (!INT_TYPES.has(t) || mode === undefined || (sat && !(mad && mode === 'hi' && t === 's32'))) m.fail();
  const w = bits(t);
  const sgn = isSigned(t);
  const rt = mode === 'wide' ? `${t[0]}${2 * w}` : t;
  const srcT = mad ? [t, t, rt] : [t, t];
  let f: Exec;
  if (w === 16) {
    const ext = sgn ? sext16 : (x: N) => x;
    const prod =
      mode === 'lo'
        ? (a: N, b: N) => Math.imul(a, b) & 0xffff
        : mode === 'hi'
          ? (a: N, b: N) => ((ext(a) * ext(b)) >> 16) & 0xffff
          : (a: N, b: N) => (ext(a) * ext(b)) >>> 0;
    const mask = mode === 'wide' ? 0xffffffff : 0xffff;
    f = mad ? n3((a, b, c) => ((prod(a, b) + c) & mask) >>> 0) : n2(prod);
  } else if (w === 32) {
    if (mode === 'wide') {
      const prod = sgn ? (a: N, b: N) => BigInt(a | 0) * BigInt(b | 0) : (a: N, b: N) => BigInt(a) * BigInt(b);
      f = mad ? (s) => u64(prod(s[0] as N, s[1] as N) + (s[2] as bigint)) : n2((a, b) => u64(prod(a, b)));
    } else {
      const prod = mode === 'lo' ? (a: N, b: N) => Math.imul(a, b) >>> 0 : sgn ? mulhiS32 : mulhiU32;
      if (sat) f = n3((a, b, c) => clampS32((prod(a, b) | 0) + (c | 0)) >>> 0);
      else f = mad ? n3((a, b, c) => (prod(a, b) + c) >>> 0) : n2(prod);
    }
  } else if (w === 64) {
    if (mode === 'wide') m.fail();
    const prod =
      mode === 'lo'
        ? (a: bigint, b: bigint) => u64(a * b)
        : sgn
          ? (a: bigint, b: bigint) => u64((s64(a) * s64(b)) >> 64n)
          : (a: bigint, b: bigint) => (a * b) >> 64n;
    f = mad ? b3((a, b, c) => u64(prod(a, b) + c)) : b2(prod);
  } else return m.fail();
  return mk('int', srcT, [rt], f);
}

function mul24(m: Mods, t: string, mad: boolean): AluOp {
  const mode = m.pick(['lo', 'hi']);
  const sat = m.take('sat');
  if (mode === undefined || (t !== 'u32' && t !== 's32') || (sat && !(mad && mode === 'hi' && t === 's32'))) m.fail();
  const ext = t === 's32' ? (x: N) => (x << 8) >> 8 : (x: N) => x & 0xffffff;
  // the 48-bit product is exact in a double; .hi is bits 47..16
  const prod =
    mode === 'lo' ? (a: N, b: N) => Math.imul(ext(a), ext(b)) >>> 0 : (a: N, b: N) => Math.floor((ext(a) * ext(b)) / 65536) >>> 0;
  if (!mad) return mk('int', [t, t], [t], n2(prod));
  if (sat) return mk('int', [t, t, t], [t], n3((a, b, c) => clampS32((prod(a, b) | 0) + (c | 0)) >>> 0));
  return mk('int', [t, t, t], [t], n3((a, b, c) => (prod(a, b) + c) >>> 0));
}

function intDivRem(m: Mods, t: string, rem: boolean): AluOp {
  if (!INT_TYPES.has(t)) m.fail();
  const w = bits(t);
  const sgn = isSigned(t);
  if (w === 64) {
    const f = sgn
      ? rem
        ? (a: bigint, b: bigint) => (b === 0n ? a : u64(s64(a) % s64(b)))
        : (a: bigint, b: bigint) => (b === 0n ? MASK64 : u64(s64(a) / s64(b)))
      : rem
        ? (a: bigint, b: bigint) => (b === 0n ? a : a % b)
        : (a: bigint, b: bigint) => (b === 0n ? MASK64 : a / b);
    return mk('int', [t, t], [t], b2(f));
  }
  if (w !== 16 && w !== 32) return m.fail();
  const ext = w === 16 ? (sgn ? sext16 : (x: N) => x) : sgn ? (x: N) => x | 0 : (x: N) => x;
  const mask = w === 16 ? 0xffff : 0xffffffff;
  // doubles are exact here: |a|, |b| < 2^32, and trunc(fl(a/b)) = trunc(a/b) at this size
  const f = rem
    ? (a: N, b: N) => (b === 0 ? a : ((ext(a) % ext(b)) & mask) >>> 0)
    : (a: N, b: N) => (b === 0 ? mask : (Math.trunc(ext(a) / ext(b)) & mask) >>> 0);
  return mk('int', [t, t], [t], n2(f));
}

function intAbsNeg(m: Mods, t: string, neg: boolean): AluOp {
  switch (t) {
    case 's16':
      return mk('int', [t], [t], n1(neg ? (a) => -sext16(a) & 0xffff : (a) => Math.abs(sext16(a)) & 0xffff));
    case 's32':
      return mk('int', [t], [t], n1(neg ? (a) => -(a | 0) >>> 0 : (a) => Math.abs(a | 0) >>> 0));
    case 's64':
      return mk('int', [t], [t], b1(neg ? (a) => u64(-a) : (a) => u64(s64(a) < 0n ? -s64(a) : a)));
  }
  return m.fail();
}

function intMinMax(m: Mods, t: string, max: boolean): AluOp {
  const relu = m.take('relu');
  if (relu && t !== 's32' && t !== 's16x2') m.fail();
  const pick = (x: N, y: N): boolean => (max ? x > y : x < y); // true → first
  switch (t) {
    case 'u16':
    case 'u32':
      return mk('int', [t, t], [t], n2((a, b) => (pick(a, b) ? a : b)));
    case 's16':
      return mk('int', [t, t], [t], n2((a, b) => (pick(sext16(a), sext16(b)) ? a : b)));
    case 's32':
      if (relu) return mk('int', [t, t], [t], n2((a, b) => Math.max(0, pick(a | 0, b | 0) ? a | 0 : b | 0)));
      return mk('int', [t, t], [t], n2((a, b) => (pick(a | 0, b | 0) ? a : b)));
    case 'u64':
      return mk('int', [t, t], [t], b2((a, b) => ((max ? a > b : a < b) ? a : b)));
    case 's64':
      return mk('int', [t, t], [t], b2((a, b) => ((max ? s64(a) > s64(b) : s64(a) < s64(b)) ? a : b)));
    case 'u16x2':
      return mk('int', ['b32', 'b32'], ['b32'], n2(x2of2((a, b) => (pick(a, b) ? a : b))));
    case 's16x2': {
      const lane = (a: N, b: N): N => {
        const r = pick(sext16(a), sext16(b)) ? a : b;
        return relu && r & 0x8000 ? 0 : r;
      };
      return mk('int', ['b32', 'b32'], ['b32'], n2(x2of2(lane)));
    }
  }
  return m.fail();
}

function sad(m: Mods, t: string): AluOp {
  if (!INT_TYPES.has(t)) m.fail();
  const w = bits(t);
  const sgn = isSigned(t);
  if (w === 64) {
    const ext = sgn ? s64 : (x: bigint) => x;
    return mk('int', [t, t, t], [t], b3((a, b, c) => {
      const d = ext(a) - ext(b);
      return u64(c + (d < 0n ? -d : d));
    }));
  }
  if (w !== 16 && w !== 32) return m.fail();
  const ext = w === 16 ? (sgn ? sext16 : (x: N) => x) : sgn ? (x: N) => x | 0 : (x: N) => x;
  const mask = w === 16 ? 0xffff : 0xffffffff;
  return mk('int', [t, t, t], [t], n3((a, b, c) => ((c + Math.abs(ext(a) - ext(b))) % 4294967296 & mask) >>> 0));
}

function shift(m: Mods, t: string, left: boolean): AluOp {
  const w = bits(t);
  const sgn = !left && isSigned(t);
  if ((left && t[0] !== 'b') || !(INT_TYPES.has(t) || BIT_TYPES.has(t))) m.fail();
  // Shift amounts above the width clamp to the width: 0 for shl/shr.u, sign fill for shr.s.
  if (w === 16) {
    const f = left
      ? (a: N, b: N) => (b >= 16 ? 0 : (a << b) & 0xffff)
      : sgn
        ? (a: N, b: N) => (sext16(a) >> Math.min(b, 15)) & 0xffff
        : (a: N, b: N) => (b >= 16 ? 0 : a >>> b);
    return mk('int', [t, 'u32'], [t], n2(f));
  }
  if (w === 32) {
    const f = left
      ? (a: N, b: N) => (b >= 32 ? 0 : (a << b) >>> 0)
      : sgn
        ? (a: N, b: N) => ((a | 0) >> Math.min(b, 31)) >>> 0
        : (a: N, b: N) => (b >= 32 ? 0 : a >>> b);
    return mk('int', [t, 'u32'], [t], n2(f));
  }
  if (w === 64) {
    const f = left
      ? (a: bigint, b: N) => (b >= 64 ? 0n : u64(a << BigInt(b)))
      : sgn
        ? (a: bigint, b: N) => u64(s64(a) >> BigInt(Math.min(b, 63)))
        : (a: bigint, b: N) => (b >= 64 ? 0n : a >> BigInt(b));
    return mk('int', [t, 'u32'], [t], (s) => f(s[0] as bigint, u32of(s[1])));
  }
  return m.fail();
}

function logic(m: Mods, t: string, op: 'and' | 'or' | 'xor'): AluOp {
  if (t === 'pred') {
    const f = op === 'and' ? (a: boolean, b: boolean) => a && b : op === 'or' ? (a: boolean, b: boolean) => a || b : (a: boolean, b: boolean) => a !== b;
    return mk('pred', [t, t], [t], (s) => f(s[0] as boolean, s[1] as boolean));
  }
  switch (t) {
    case 'b16':
    case 'b32':
      return mk('int', [t, t], [t], n2(op === 'and' ? (a, b) => (a & b) >>> 0 : op === 'or' ? (a, b) => (a | b) >>> 0 : (a, b) => (a ^ b) >>> 0));
    case 'b64':
      return mk('int', [t, t], [t], b2(op === 'and' ? (a, b) => a & b : op === 'or' ? (a, b) => a | b : (a, b) => a ^ b));
  }
  return m.fail();
}

function notOp(m: Mods, t: string, cnot: boolean): AluOp {
  switch (t) {
    case 'pred':
      if (cnot) m.fail();
      return mk('pred', [t], [t], (s) => !(s[0] as boolean));
    case 'b16':
      return mk('int', [t], [t], n1(cnot ? (a) => (a === 0 ? 1 : 0) : (a) => ~a & 0xffff));
    case 'b32':
      return mk('int', [t], [t], n1(cnot ? (a) => (a === 0 ? 1 : 0) : (a) => ~a >>> 0));
    case 'b64':
      return mk('int', [t], [t], b1(cnot ? (a) => (a === 0n ? 1n : 0n) : (a) => a ^ MASK64));
  }
  return m.fail();
}

function bitCount(m: Mods, t: string, kind: 'popc' | 'clz' | 'brev'): AluOp {
  if (t === 'b32') {
    const f = kind === 'popc' ? popc32 : kind === 'clz' ? Math.clz32 : brev32;
    return mk('int', [t], [kind === 'brev' ? t : 'u32'], n1(f));
  }
  if (t === 'b64') {
    if (kind === 'popc') return mk('int', [t], ['u32'], b1((a) => popc32(hiWord(a)) + popc32(loWord(a))));
    if (kind === 'clz') return mk('int', [t], ['u32'], b1((a) => (hiWord(a) !== 0 ? Math.clz32(hiWord(a)) : 32 + Math.clz32(loWord(a)))));
    return mk('int', [t], [t], b1((a) => join64(brev32(loWord(a)), brev32(hiWord(a)))));
  }
  return m.fail();
}

function bfind(m: Mods, t: string): AluOp {
  const shiftamt = m.take('shiftamt');
  const sgn = isSigned(t);
  const fin = (msb: N, pos: N): N => (pos < 0 ? 0xffffffff : shiftamt ? msb - pos : pos);
  if (t === 'u32' || t === 's32') {
    return mk('int', [t], ['u32'], n1((a) => {
      const x = sgn && a & 0x80000000 ? ~a >>> 0 : a;
      return fin(31, 31 - Math.clz32(x));
    }));
  }
  if (t === 'u64' || t === 's64') {
    return mk('int', [t], ['u32'], b1((a) => {
      const x = sgn && a & SIGN64 ? a ^ MASK64 : a;
      const hi = hiWord(x);
      return fin(63, hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(loWord(x)));
    }));
  }
  return m.fail();
}

function bfe(m: Mods, t: string): AluOp {
  const sgn = isSigned(t);
  if (t === 'u32' || t === 's32') {
    return mk('int', [t, 'u32', 'u32'], [t], (s) => {
      const a = s[0] as N;
      const pos = u32of(s[1]) & 0xff;
      const len = u32of(s[2]) & 0xff;
      const n = pos > 31 ? 0 : Math.min(len, 32 - pos);
      const field = n === 0 ? 0 : (a >>> pos) & maskN(n);
      const sbit = sgn && len > 0 ? (a >>> Math.min(pos + len - 1, 31)) & 1 : 0;
      return (sbit ? field | ~maskN(n) : field) >>> 0;
    });
  }
  if (t === 'u64' || t === 's64') {
    return mk('int', [t, 'u32', 'u32'], [t], (s) => {
      const a = s[0] as bigint;
      const pos = u32of(s[1]) & 0xff;
      const len = u32of(s[2]) & 0xff;
      const n = BigInt(pos > 63 ? 0 : Math.min(len, 64 - pos));
      const mask = (1n << n) - 1n;
      const field = (a >> BigInt(pos)) & mask;
      const sbit = sgn && len > 0 ? (a >> BigInt(Math.min(pos + len - 1, 63))) & 1n : 0n;
      return sbit ? field | (MASK64 ^ mask) : field;
    });
  }
  return m.fail();
}

function bfi(m: Mods, t: string): AluOp {
  if (t === 'b32') {
    return mk('int', [t, t, 'u32', 'u32'], [t], (s) => {
      const a = s[0] as N;
      const b = s[1] as N;
      const pos = u32of(s[2]) & 0xff;
      const len = u32of(s[3]) & 0xff;
      const n = pos > 31 ? 0 : Math.min(len, 32 - pos);
      if (n === 0) return b;
      const mask = (maskN(n) << pos) >>> 0;
      return ((b & ~mask) | ((a << pos) & mask)) >>> 0;
    });
  }
  if (t === 'b64') {
    return mk('int', [t, t, 'u32', 'u32'], [t], (s) => {
      const a = s[0] as bigint;
      const b = s[1] as bigint;
      const pos = u32of(s[2]) & 0xff;
      const len = u32of(s[3]) & 0xff;
      const n = pos > 63 ? 0 : Math.min(len, 64 - pos);
      if (n === 0) return b;
      const mask = ((1n << BigInt(n)) - 1n) << BigInt(pos);
      return (b & (MASK64 ^ mask)) | ((a << BigInt(pos)) & mask);
    });
  }
  return m.fail();
}

/** Byte selector of prmt per destination byte i, by mode (generic: 4-bit nibble, bit 3 = sign replicate). */
const PRMT_SELECT: Readonly<Record<string, (c: N, i: N) => N>> = {
  generic: (c, i) => (c >>> (4 * i)) & 15,
  f4e: (c, i) => (c & 3) + i,
  b4e: (c, i) => ((c & 3) + 8 - i) & 7,
  rc8: (c) => c & 3,
  ecl: (c, i) => Math.max(i, c & 3),
  ecr: (c, i) => Math.min(i, c & 3),
  rc16: (c, i) => (c & 1) * 2 + (i & 1),
};
function prmt(m: Mods, t: string): AluOp {
  if (t !== 'b32') m.fail();
  const sel = PRMT_SELECT[m.pick(['f4e', 'b4e', 'rc8', 'ecl', 'ecr', 'rc16']) ?? 'generic'];
  return mk('int', [t, t, t], [t], n3((a, b, c) => {
    let d = 0;
    for (let i = 0; i < 4; i++) {
      const s = sel(c, i);
      const k = s & 7;
      let byte = k < 4 ? (a >>> (8 * k)) & 0xff : (b >>> (8 * (k - 4))) & 0xff;
      if (s & 8) byte = byte & 0x80 ? 0xff : 0;
      d |= byte << (8 * i);
    }
    return d >>> 0;
  }));
}

function lop3(m: Mods, t: string): AluOp {
  if (t !== 'b32') m.fail();
  // LUT index = a·4 + b·2 + c (ta = 0xF0, tb = 0xCC, tc = 0xAA)
  return mk('int', [t, t, t, t], [t], (s) => {
    const a = s[0] as N;
    const b = s[1] as N;
    const c = s[2] as N;
    const lut = u32of(s[3]);
    let r = 0;
    if (lut & 1) r |= ~a & ~b & ~c;
    if (lut & 2) r |= ~a & ~b & c;
    if (lut & 4) r |= ~a & b & ~c;
    if (lut & 8) r |= ~a & b & c;
    if (lut & 16) r |= a & ~b & ~c;
    if (lut & 32) r |= a & ~b & c;
    if (lut & 64) r |= a & b & ~c;
    if (lut & 128) r |= a & b & c;
    return r >>> 0;
  });
}

function shf(m: Mods, t: string): AluOp {
  const dir = m.pick(['l', 'r']);
  const mode = m.pick(['wrap', 'clamp']);
  if (t !== 'b32' || dir === undefined || mode === undefined) m.fail();
  const amount = mode === 'wrap' ? (c: N) => c & 31 : (c: N) => Math.min(c, 32);
  // {b:a} is the 64-bit source; shf.l keeps the upper 32 bits after the shift, shf.r the lower
  const f =
    dir === 'l'
      ? (a: N, b: N, c: N) => {
          const n = amount(c);
          return n === 0 ? b : n === 32 ? a : ((b << n) | (a >>> (32 - n))) >>> 0;
        }
      : (a: N, b: N, c: N) => {
          const n = amount(c);
          return n === 0 ? a : n === 32 ? b : ((b << (32 - n)) | (a >>> n)) >>> 0;
        };
  return mk('int', [t, t, 'u32'], [t], n3(f));
}

function bmsk(m: Mods, t: string): AluOp {
  const mode = m.pick(['wrap', 'clamp']);
  if (t !== 'b32' || mode === undefined) m.fail();
  const lim = mode === 'wrap' ? (x: N) => x & 31 : (x: N) => Math.min(x, 32);
  return mk('int', ['u32', 'u32'], [t], n2((a, b) => {
    const pos = lim(a);
    return pos >= 32 ? 0 : (maskN(lim(b)) << pos) >>> 0;
  }));
}

function szext(m: Mods, t: string): AluOp {
  const mode = m.pick(['wrap', 'clamp']);
  if ((t !== 'u32' && t !== 's32') || mode === undefined) m.fail();
  const lim = mode === 'wrap' ? (x: N) => x & 31 : (x: N) => Math.min(x, 32);
  const sgn = t === 's32';
  return mk('int', [t, 'u32'], [t], n2((a, b) => {
    const n = lim(b);
    if (n === 0) return 0;
    if (n === 32) return a;
    return sgn ? ((a << (32 - n)) >> (32 - n)) >>> 0 : a & maskN(n);
  }));
}

function dp4a2a(m: Mods, four: boolean): AluOp {
  const half = four ? undefined : m.pick(['lo', 'hi']);
  const [at, bt] = m.type2();
  if ((at !== 'u32' && at !== 's32') || (bt !== 'u32' && bt !== 's32') || (!four && half === undefined)) m.fail();
  const as = at === 's32';
  const bs = bt === 's32';
  const ct = as || bs ? 's32' : 'u32';
  const byte = (x: N, i: N, sg: boolean): N => (sg ? sext8(x >>> (8 * i)) : (x >>> (8 * i)) & 0xff);
  const hword = (x: N, i: N, sg: boolean): N => (sg ? sext16(x >>> (16 * i)) : (x >>> (16 * i)) & 0xffff);
  const base = half === 'hi' ? 2 : 0;
  const f = four
    ? (a: N, b: N, c: N) => {
        let d = c | 0;
        for (let i = 0; i < 4; i++) d += byte(a, i, as) * byte(b, i, bs);
        return d >>> 0;
      }
    : (a: N, b: N, c: N) => {
        let d = c | 0;
        for (let i = 0; i < 2; i++) d += hword(a, i, as) * byte(b, base + i, bs);
        return d >>> 0;
      };
  return mk('int', [at, bt, ct], [ct], n3(f));
}

// ---------------------------------------------------------------------------------------------------------
// Floating point: f32 / f64

/** f32 result bits from a double value: .sat clamp to [0, 1] (NaN → +0), nearest-even, canonical NaN, .ftz. */
function fin32(v: N, ftz: boolean, sat: boolean): N {
  if (sat) v = v > 0 ? (v < 1 ? v : 1) : 0;
  const b = f32bits(v);
  return ftz ? ftz32(b) : b;
}

type Fn2 = (x: N, y: N) => N;
type Fn3 = (x: N, y: N, z: N) => N;

/** An f32 operation over values: inputs decoded (and flushed with .ftz), result finished by fin32. */
function f32op1(ftz: boolean, sat: boolean, f: (x: N) => N): Exec {
  if (!ftz && !sat) return n1((a) => f32bits(f(f32(a))));
  return n1((a) => fin32(f(f32(ftz ? ftz32(a) : a)), ftz, sat));
}
function f32op2(ftz: boolean, sat: boolean, f: Fn2): Exec {
  if (!ftz && !sat) return n2((a, b) => f32bits(f(f32(a), f32(b))));
  return n2((a, b) => fin32(f(f32(ftz ? ftz32(a) : a), f32(ftz ? ftz32(b) : b)), ftz, sat));
}
function f32op3(ftz: boolean, sat: boolean, f: Fn3): Exec {
  if (!ftz && !sat) return n3((a, b, c) => f32bits(f(f32(a), f32(b), f32(c))));
  return n3((a, b, c) => fin32(f(f32(ftz ? ftz32(a) : a), f32(ftz ? ftz32(b) : b), f32(ftz ? ftz32(c) : c)), ftz, sat));
}
const f64op1 = (f: (x: N) => N): Exec => b1((a) => f64bits(f(f64(a))));
const f64op2 = (f: Fn2): Exec => b2((a, b) => f64bits(f(f64(a), f64(b))));
const f64op3 = (f: Fn3): Exec => b3((a, b, c) => f64bits(f(f64(a), f64(b), f64(c))));

function floatAddSubMul(m: Mods, t: string, op: 'add' | 'sub' | 'mul'): AluOp {
  if (HALF_TYPES.has(t)) return halfArith(m, t, op);
  const mode = frnd(m);
  if (t === 'f32') {
    const ftz = m.take('ftz');
    const sat = m.take('sat');
    let f: Fn2;
    if (op === 'mul') f = mode === RN ? (x, y) => x * y : (x, y) => roundFmt(x * y, 0, FMT_F32, mode);
    else if (mode === RN) f = op === 'add' ? (x, y) => x + y : (x, y) => x - y; // f64 then f32: innocuous double rounding
    else f = op === 'add' ? (x, y) => addFmt(x, y, FMT_F32, mode) : (x, y) => addFmt(x, -y, FMT_F32, mode);
    return mk('fp32', [t, t], [t], f32op2(ftz, sat, f));
  }
  if (t === 'f64') {
    const f: Fn2 = op === 'mul' ? (x, y) => mul64(x, y, mode) : op === 'add' ? (x, y) => add64(x, y, mode) : (x, y) => add64(x, -y, mode);
    return mk('fp64', [t, t], [t], f64op2(f));
  }
  return m.fail();
}

function floatFma(m: Mods, t: string, isMad: boolean): AluOp {
  if (HALF_TYPES.has(t) && !isMad) return halfFma(m, t);
  const mode = frnd(m);
  if (t === 'f32') {
    const ftz = m.take('ftz');
    const sat = m.take('sat');
    return mk('fp32', [t, t, t], [t], f32op3(ftz, sat, (x, y, z) => fmaFmt(x, y, z, FMT_F32, mode)));
  }
  if (t === 'f64') return mk('fp64', [t, t, t], [t], f64op3((x, y, z) => fma64(x, y, z, mode)));
  return m.fail();
}

function floatDiv(m: Mods, t: string): AluOp {
  if (t === 'f64') {
    const mode = frnd(m);
    return mk('fp64', [t, t], [t], f64op2((x, y) => div64(x, y, mode)));
  }
  if (t !== 'f32') return m.fail();
  const kind = m.pick(['approx', 'full']);
  const mode = kind ? RN : frnd(m); // .approx/.full take no rounding modifier: one left over fails
  const ftz = m.take('ftz');
  if (kind === 'approx') {
    // a * (1/b): for 2^126 < |b| < 2^128 the reciprocal underflows, giving ±0 (NaN for infinite a)
    const f = (x: N, y: N): N => {
      const ay = Math.abs(y);
      if (ay > 2 ** 126 && ay < Infinity && x === x) {
        if (x === Infinity || x === -Infinity) return NaN;
        return (x < 0 || Object.is(x, -0)) !== y < 0 ? -0 : 0;
      }
      return x / y;
    };
    return mk('sfu', [t, t], [t], f32op2(ftz, false, f));
  }
  return mk('fp32', [t, t], [t], f32op2(ftz, false, (x, y) => div32(x, y, mode)));
}

function floatRcpSqrt(m: Mods, t: string, kind: 'rcp' | 'sqrt' | 'rsqrt'): AluOp {
  const approx = m.take('approx');
  const ftz = m.take('ftz');
  if (t === 'f64') {
    if (kind === 'rsqrt' || approx) {
      if (!approx) m.fail();
      if (ftz) return mk('sfu', [t], [t], b1((a) => approxFtz64(a, kind === 'rcp' ? (x) => 1 / x : (x) => 1 / Math.sqrt(x))));
      if (kind !== 'rsqrt') m.fail();
      return mk('sfu', [t], [t], f64op1((x) => 1 / Math.sqrt(x)));
    }
    const mode = frnd(m);
    return mk('fp64', [t], [t], f64op1(kind === 'rcp' ? (x) => div64(1, x, mode) : (x) => sqrt64(x, mode)));
  }
  if (t !== 'f32') return m.fail();
  if (kind === 'rsqrt' || approx) {
    if (!approx) m.fail();
    const f = kind === 'rcp' ? (x: N) => 1 / x : kind === 'sqrt' ? Math.sqrt : (x: N) => 1 / Math.sqrt(x);
    return mk('sfu', [t], [t], f32op1(ftz, false, f));
  }
  const mode = frnd(m);
  return mk('fp32', [t], [t], f32op1(ftz, false, kind === 'rcp' ? (x) => div32(1, x, mode) : (x) => sqrt32(x, mode)));
}

/** rcp/rsqrt.approx.ftz.f64: operate on the 1.11.20 upper word, flush subnormals, zero the low word. */
function approxFtz64(a: bigint, f: (x: N) => N): bigint {
  let hi = Number(a >> 32n);
  if ((hi & 0x7ff00000) === 0) hi = (hi & 0x80000000) >>> 0;
  const r = roundFmt(f(f64(BigInt(hi) << 32n)), 0, FMT_F64HI, RN);
  if (r !== r) return 0x7fffffff00000000n; // the ISA's canonical NaN for these two instructions
  if (r !== 0 && Math.abs(r) < F64_MIN_NORMAL) return r < 0 ? SIGN64 : 0n;
  return f64bits(r);
}

const SFU_F32: Readonly<Record<string, (x: N) => N>> = {
  sin: Math.sin,
  cos: Math.cos,
  lg2: Math.log2,
  ex2: (x) => 2 ** x,
  tanh: Math.tanh,
};
function sfu(m: Mods, t: string, op: string): AluOp {
  m.take('approx');
  if (HALF_TYPES.has(t)) return halfSfu(m, t, op);
  if (t !== 'f32') return m.fail();
  const ftz = op !== 'tanh' && m.take('ftz');
  return mk('sfu', [t], [t], f32op1(ftz, false, SFU_F32[op]));
}

/** min/max on f32/f64 bit patterns (ties of ±0 resolved by sign bits: min prefers -0, max prefers +0). */
function floatMinMax(m: Mods, t: string, max: boolean): AluOp {
  if (HALF_TYPES.has(t)) return halfMinMax(m, t, max);
  if (t === 'f64') {
    return mk('fp64', [t, t], [t], b2((a, b) => {
      const x = f64(a);
      const y = f64(b);
      if (x !== x) return y !== y ? NAN64 : b;
      if (y !== y) return a;
      return (max ? x > y : x < y) ? a : (max ? x < y : x > y) ? b : max ? a & b : a | b;
    }));
  }
  if (t !== 'f32') return m.fail();
  const ftz = m.take('ftz');
  const nan = m.take('NaN');
  const xorsign = m.take('xorsign');
  const abs = m.take('abs');
  if (xorsign !== abs) m.fail();
  const pick = minMaxBits(max, nan, xorsign, 0x80000000, NAN32, f32);
  return mk('fp32', [t, t], [t], n2(ftz ? (a, b) => ftz32(pick(ftz32(a), ftz32(b))) : pick));
}

/** The ISA's min/max over 16/32-bit float bit patterns, given a decoder and the sign bit. */
function minMaxBits(max: boolean, nan: boolean, xorsign: boolean, sign: N, canon: N, dec: (b: N) => N): Fn2 {
  return (a, b) => {
    let s = 0;
    if (xorsign) {
      s = (a ^ b) & sign;
      a = (a & ~sign) >>> 0;
      b = (b & ~sign) >>> 0;
    }
    const x = dec(a);
    const y = dec(b);
    let r: N;
    if (x !== x || y !== y) {
      if (nan || (x !== x && y !== y)) return canon;
      r = x !== x ? b : a;
    } else r = (max ? x > y : x < y) ? a : (max ? x < y : x > y) ? b : max ? a & b : a | b;
    return (r | s) >>> 0;
  };
}

function floatAbsNeg(m: Mods, t: string, neg: boolean): AluOp {
  if (t === 'f64') return mk('fp64', [t], [t], b1(neg ? (a) => a ^ SIGN64 : (a) => a & NAN64));
  const ftz = m.take('ftz');
  const op16 = (flush: (b: N) => N) => (a: N) => (neg ? flush(a) ^ 0x8000 : flush(a) & 0x7fff);
  switch (t) {
    case 'f32': {
      const flush = ftz ? ftz32 : (b: N) => b;
      return mk('fp32', [t], [t], n1(neg ? (a) => (flush(a) ^ 0x80000000) >>> 0 : (a) => flush(a) & 0x7fffffff));
    }
    case 'f16':
    case 'f16x2': {
      const f = op16(ftz ? ftz16 : (b) => b);
      return mk('fp16', [t], [t], n1(t === 'f16' ? f : x2of1(f)));
    }
    case 'bf16':
    case 'bf16x2': {
      if (ftz) m.fail();
      const f = op16((b) => b);
      return mk('fp16', [t], [t], n1(t === 'bf16' ? f : x2of1(f)));
    }
  }
  return m.fail();
}

function copysign(m: Mods, t: string): AluOp {
  if (t === 'f32') return mk('fp32', [t, t], [t], n2((a, b) => ((b & 0x7fffffff) | (a & 0x80000000)) >>> 0));
  if (t === 'f64') return mk('fp64', [t, t], [t], b2((a, b) => (b & NAN64) | (a & SIGN64)));
  return m.fail();
}

function testp(m: Mods, t: string): AluOp {
  const op = m.pick(['finite', 'infinite', 'number', 'notanumber', 'normal', 'subnormal']);
  if (op === undefined || (t !== 'f32' && t !== 'f64')) return m.fail();
  const minNormal = t === 'f32' ? F32_MIN_NORMAL : F64_MIN_NORMAL;
  const test: Readonly<Record<string, (x: N) => boolean>> = {
    finite: Number.isFinite,
    infinite: (x) => x === Infinity || x === -Infinity,
    number: (x) => x === x,
    notanumber: (x) => x !== x,
    normal: (x) => Number.isFinite(x) && Math.abs(x) >= minNormal,
    subnormal: (x) => x !== 0 && Math.abs(x) < minNormal,
  };
  const f = test[op];
  return mk('pred', [t], ['pred'], t === 'f32' ? n1((a) => f(f32(a))) : b1((a) => f(f64(a))));
}

// ---------------------------------------------------------------------------------------------------------
// Half precision (f16, bf16 and their x2 packs; lane 0 is bits 15:0)

interface HalfKind {
  readonly dec: (b: N) => N;
  readonly enc: (x: N) => N; // nearest-even from a double, canonical NaN
  readonly fmt: Fmt;
  readonly flush: (b: N) => N;
}
const F16K: HalfKind = { dec: h16, enc: e16, fmt: FMT_F16, flush: ftz16 };
const BF16K: HalfKind = { dec: hbf, enc: ebf, fmt: FMT_BF16, flush: ftzBF16 };
const halfKind = (t: string): HalfKind => (t === 'f16' || t === 'f16x2' ? F16K : BF16K);
const isX2 = (t: string): boolean => t.endsWith('x2');

/** A half result from a double value: .sat clamp (NaN → +0) or .relu (negative and -0 → +0), encode, .ftz. */
function halfFinish(k: HalfKind, v: N, ftz: boolean, sat: boolean, relu: boolean): N {
  if (sat) v = v > 0 ? (v < 1 ? v : 1) : 0;
  else if (relu && !(v > 0) && v === v) v = 0;
  const r = k.enc(v);
  return ftz ? k.flush(r) : r;
}
const halfReader = (k: HalfKind, ftz: boolean): ((b: N) => N) => (ftz ? (b) => k.dec(k.flush(b)) : k.dec);

function halfArith(m: Mods, t: string, op: 'add' | 'sub' | 'mul'): AluOp {
  const k = halfKind(t);
  if (frnd(m, ['rn']) !== RN) m.fail();
  const ftz = k === F16K && m.take('ftz');
  const sat = k === F16K && m.take('sat');
  // exact operands: the f64 sum/product rounds innocuously (53 ≥ 2·11 + 2), then one rounding to the format
  const g: Fn2 = op === 'add' ? (x, y) => x + y : op === 'sub' ? (x, y) => x - y : (x, y) => x * y;
  const rd = halfReader(k, ftz);
  const f2 = (a: N, b: N): N => halfFinish(k, g(rd(a), rd(b)), ftz, sat, false);
  return mk('fp16', [t, t], [t], n2(isX2(t) ? x2of2(f2) : f2));
}

function halfFma(m: Mods, t: string): AluOp {
  const k = halfKind(t);
  if (frnd(m, ['rn']) !== RN) m.fail();
  const ftz = k === F16K && m.take('ftz');
  const sat = k === F16K && m.take('sat');
  const relu = m.take('relu');
  if (sat && relu) m.fail();
  const rd = halfReader(k, ftz);
  const f3 = (a: N, b: N, c: N): N => halfFinish(k, fmaFmt(rd(a), rd(b), rd(c), k.fmt, RN), ftz, sat, relu);
  return mk('fp16', [t, t, t], [t], n3(isX2(t) ? x2of3(f3) : f3));
}

function halfMinMax(m: Mods, t: string, max: boolean): AluOp {
  const k = halfKind(t);
  const ftz = k === F16K && m.take('ftz');
  const nan = m.take('NaN');
  const xorsign = m.take('xorsign');
  const abs = m.take('abs');
  if (xorsign !== abs) m.fail();
  const pick = minMaxBits(max, nan, xorsign, 0x8000, NAN16, k.dec);
  const lane = ftz ? (a: N, b: N) => k.flush(pick(k.flush(a), k.flush(b))) : pick;
  return mk('fp16', [t, t], [t], n2(isX2(t) ? x2of2(lane) : lane));
}

const SFU_HALF: Readonly<Record<string, (x: N) => N>> = { ex2: (x) => 2 ** x, tanh: Math.tanh };
function halfSfu(m: Mods, t: string, op: string): AluOp {
  const k = halfKind(t);
  const f = SFU_HALF[op];
  if (f === undefined) m.fail();
  // ex2 on bf16 exists only as ex2.approx.ftz.bf16; f16 ex2 and all tanh have no .ftz
  const ftz = op === 'ex2' && k === BF16K && m.take('ftz');
  if (op === 'ex2' && k === BF16K && !ftz) m.fail();
  const rd = halfReader(k, ftz);
  const f1 = (a: N): N => halfFinish(k, f(rd(a)), ftz, false, false);
  return mk('sfu', [t], [t], n1(isX2(t) ? x2of1(f1) : f1));
}

// ---------------------------------------------------------------------------------------------------------
// Comparison and selection

type Cmp = (x: N, y: N) => boolean;
const FLOAT_CMP: Readonly<Record<string, Cmp>> = {
  eq: (x, y) => x === y,
  ne: (x, y) => x < y || x > y,
  lt: (x, y) => x < y,
  le: (x, y) => x <= y,
  gt: (x, y) => x > y,
  ge: (x, y) => x >= y,
  equ: (x, y) => !(x < y || x > y),
  neu: (x, y) => x !== y,
  ltu: (x, y) => !(x >= y),
  leu: (x, y) => !(x > y),
  gtu: (x, y) => !(x <= y),
  geu: (x, y) => !(x < y),
  num: (x, y) => x === x && y === y,
  nan: (x, y) => x !== x || y !== y,
};
const CMP_OPS = Object.keys(FLOAT_CMP).concat(['lo', 'ls', 'hi', 'hs']);
const UNSIGNED_CMP: Readonly<Record<string, string | undefined>> = { lo: 'lt', ls: 'le', hi: 'gt', hs: 'ge' };
const BOOL_OPS = ['and', 'or', 'xor'] as const;

/** A comparison over two raw operands of type t (the lane comparisons for x2 types are built separately). */
function comparator(m: Mods, t: string, cmp: string, ftz: boolean): (a: RegValue, b: RegValue) => boolean {
  if (t === 'f32') {
    const c = FLOAT_CMP[cmp] ?? m.fail();
    return ftz ? (a, b) => c(f32(ftz32(a as N)), f32(ftz32(b as N))) : (a, b) => c(f32(a as N), f32(b as N));
  }
  if (t === 'f64') {
    const c = FLOAT_CMP[cmp] ?? m.fail();
    return (a, b) => c(f64(a as bigint), f64(b as bigint));
  }
  if (t === 'f16' || t === 'bf16') {
    const c = FLOAT_CMP[cmp] ?? m.fail();
    const k = halfKind(t);
    return ftz ? (a, b) => c(k.dec(k.flush(a as N)), k.dec(k.flush(b as N))) : (a, b) => c(k.dec(a as N), k.dec(b as N));
  }
  if (ftz || !(INT_TYPES.has(t) || BIT_TYPES.has(t)) || bits(t) === 8) m.fail();
  // lo/ls/hi/hs are unsigned; lt/le/gt/ge follow the type's signedness; unordered ops do not apply
  const unsignedOp = UNSIGNED_CMP[cmp];
  const op = unsignedOp ?? cmp;
  if (!['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op)) m.fail();
  const signed = unsignedOp === undefined && isSigned(t);
  const rel = (d: N): boolean => (op === 'eq' ? d === 0 : op === 'ne' ? d !== 0 : op === 'lt' ? d < 0 : op === 'le' ? d <= 0 : op === 'gt' ? d > 0 : d >= 0);
  const w = bits(t);
  if (w === 64) {
    const ext = signed ? s64 : (x: bigint) => x;
    return (a, b) => {
      const x = ext(a as bigint);
      const y = ext(b as bigint);
      return rel(x < y ? -1 : x > y ? 1 : 0);
    };
  }
  const ext = signed ? (w === 16 ? sext16 : (x: N) => x | 0) : (x: N) => x;
  return (a, b) => rel(ext(a as N) - ext(b as N));
}

function setp(m: Mods, t: string): AluOp {
  const cmp = m.pick(CMP_OPS) ?? m.fail();
  const bop = m.pick(BOOL_OPS);
  const ftz = m.take('ftz');
  if (ftz && t !== 'f32' && t !== 'f16' && t !== 'f16x2') m.fail();
  const combine = bop === 'and' ? (x: boolean, c: boolean) => x && c : bop === 'or' ? (x: boolean, c: boolean) => x || c : (x: boolean, c: boolean) => x !== c;
  const srcT = bop ? [t, t, 'pred'] : [t, t];
  if (isX2(t) && HALF_TYPES.has(t)) {
    const c = comparator(m, t === 'f16x2' ? 'f16' : 'bf16', cmp, ftz);
    // p is the comparison of the low halves, q of the high halves
    if (!bop) {
      return mk('pred', srcT, ['pred', 'pred'], (s) => {
        const a = s[0] as N;
        const b = s[1] as N;
        return [c(a & 0xffff, b & 0xffff), c(a >>> 16, b >>> 16)];
      });
    }
    return mk('pred', srcT, ['pred', 'pred'], (s) => {
      const a = s[0] as N;
      const b = s[1] as N;
      const p = s[2] as boolean;
      return [combine(c(a & 0xffff, b & 0xffff), p), combine(c(a >>> 16, b >>> 16), p)];
    });
  }
  const c = comparator(m, t, cmp, ftz);
  if (!bop) return mk('pred', srcT, ['pred', 'pred'], (s) => {
    const r = c(s[0], s[1]);
    return [r, !r];
  });
  return mk('pred', srcT, ['pred', 'pred'], (s) => {
    const r = c(s[0], s[1]);
    const p = s[2] as boolean;
    return [combine(r, p), combine(!r, p)];
  });
}

function set(m: Mods): AluOp {
  const [dt, st] = m.type2();
  const cmp = m.pick(CMP_OPS) ?? m.fail();
  const bop = m.pick(BOOL_OPS);
  const ftz = m.take('ftz');
  const combine = bop === 'and' ? (x: boolean, c: boolean) => x && c : bop === 'or' ? (x: boolean, c: boolean) => x || c : (x: boolean, c: boolean) => x !== c;
  const srcT = bop ? [st, st, 'pred'] : [st, st];
  // the value written for true, per lane: all ones for integers, 1.0 for floats
  const trueOf: Readonly<Record<string, N>> = { u32: 0xffffffff, s32: 0xffffffff, f32: 0x3f800000, u16: 0xffff, s16: 0xffff, f16: 0x3c00, bf16: 0x3f80 };
  if (isX2(st) && HALF_TYPES.has(st)) {
    const lt = dt === 'f16x2' ? 'f16' : dt === 'bf16x2' ? 'bf16' : dt === 'u32' || dt === 's32' ? 'u16' : undefined;
    if (lt === undefined) m.fail();
    const one = trueOf[lt];
    const c = comparator(m, st === 'f16x2' ? 'f16' : 'bf16', cmp, ftz);
    return mk('pred', srcT, [dt], (s) => {
      const a = s[0] as N;
      const b = s[1] as N;
      const p = bop ? (s[2] as boolean) : false;
      const lane = (r: boolean): N => ((bop ? combine(r, p) : r) ? one : 0);
      return (lane(c(a & 0xffff, b & 0xffff)) | (lane(c(a >>> 16, b >>> 16)) << 16)) >>> 0;
    });
  }
  const one = trueOf[dt] ?? m.fail();
  const c = comparator(m, st, cmp, ftz);
  if (!bop) return mk('pred', srcT, [dt], (s) => (c(s[0], s[1]) ? one : 0));
  return mk('pred', srcT, [dt], (s) => (combine(c(s[0], s[1]), s[2] as boolean) ? one : 0));
}

function selp(m: Mods, t: string): AluOp {
  if (t === 'pred' || !TYPE_NAMES.has(t)) m.fail();
  return mk('pred', [t, t, 'pred'], [t], (s) => (s[2] ? s[0] : s[1]));
}

function slct(m: Mods): AluOp {
  const [dt, ct] = m.type2();
  const ftz = m.take('ftz');
  if (ct === 's32') {
    if (ftz) m.fail();
    return mk('pred', [dt, dt, ct], [dt], (s) => ((s[2] as N) & 0x80000000 ? s[1] : s[0]));
  }
  if (ct !== 'f32') m.fail();
  // c ≥ 0 (so -0 selects a); NaN selects b; .ftz flushes a subnormal c to ±0, which selects a
  return mk('pred', [dt, dt, ct], [dt], (s) => (f32(ftz ? ftz32(s[2] as N) : (s[2] as N)) >= 0 ? s[0] : s[1]));
}

// ---------------------------------------------------------------------------------------------------------
// cvt

interface FloatT {
  readonly dec: (v: RegValue) => N;
  readonly enc: (x: N) => RegValue; // of an exactly representable value
  readonly fmt: Fmt;
  readonly nan: RegValue;
}
const FLOAT_T: Readonly<Record<string, FloatT>> = {
  f64: { dec: (v) => f64(v as bigint), enc: f64bits, fmt: FMT_F64, nan: NAN64 },
  f32: { dec: (v) => f32(v as N), enc: f32bits, fmt: FMT_F32, nan: NAN32 },
  f16: { dec: (v) => h16(v as N), enc: e16, fmt: FMT_F16, nan: NAN16 },
  bf16: { dec: (v) => hbf(v as N), enc: ebf, fmt: FMT_BF16, nan: NAN16 },
};

/** Round-to-integral in float (cvt.rni/rzi/rmi/rpi with a float destination): keeps the sign of zero. */
function rint(x: N, mode: string): N {
  let r: N;
  if (mode === 'rzi') r = Math.trunc(x);
  else if (mode === 'rmi') r = Math.floor(x);
  else if (mode === 'rpi') r = Math.ceil(x);
  else {
    const f = Math.floor(x);
    const d = x - f;
    r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  }
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

/** Integer source: its value as a number (≤ 32 bits) or bigint (64 bits). */
function intReader(t: string): (v: RegValue) => N | bigint {
  const w = bits(t);
  const sg = isSigned(t);
  if (w === 64) return sg ? (v) => s64(v as bigint) : (v) => v as bigint;
  if (w === 32) return sg ? (v) => (v as N) | 0 : (v) => (v as N) >>> 0;
  if (w === 16) return sg ? (v) => sext16(v as N) : (v) => (v as N) & 0xffff;
  return sg ? (v) => sext8(v as N) : (v) => (v as N) & 0xff;
}
/** Integer destination from an exact integer: wrap (or clamp with sat) to the width. */
function intWriter(t: string, sat: boolean): (x: N | bigint) => RegValue {
  const w = bits(t);
  const sg = isSigned(t);
  const lo = sg ? -(2n ** BigInt(w - 1)) : 0n;
  const hi = sg ? 2n ** BigInt(w - 1) - 1n : 2n ** BigInt(w) - 1n;
  if (w === 64) {
    if (!sat) return (x) => u64(BigInt(x));
    return (x) => {
      const v = BigInt(x);
      return u64(v < lo ? lo : v > hi ? hi : v);
    };
  }
  const mask = w === 32 ? 0xffffffff : (1 << w) - 1;
  const nlo = Number(lo);
  const nhi = Number(hi);
  if (!sat) return (x) => (typeof x === 'bigint' ? Number(x & BigInt(mask)) : (x & mask) >>> 0);
  return (x) => {
    const v = typeof x === 'bigint' ? (x < lo ? nlo : x > hi ? nhi : Number(x)) : x < nlo ? nlo : x > nhi ? nhi : x;
    return (v & mask) >>> 0;
  };
}

const F8 = {
  e4m3x2: { enc: f8e4m3ToBits, dec: f8e4m3FromBits },
  e5m2x2: { enc: f8e5m2ToBits, dec: f8e5m2FromBits },
} as const;

function cvt(m: Mods): AluOp {
  const [dt, at] = m.type2();
  const ftz = m.take('ftz');
  const sat = m.take('sat');
  const relu = m.take('relu');
  const satfinite = m.take('satfinite');
  const irnd = m.pick(['rni', 'rzi', 'rmi', 'rpi']);
  const rnd = m.pick(['rn', 'rz', 'rm', 'rp', 'rna']);
  const mode = rnd === undefined ? RN : MODE_OF[rnd];
  const fail = (): never => m.fail();
  const dInt = INT_TYPES.has(dt);
  const aInt = INT_TYPES.has(at);
  const dF = FLOAT_T[dt];
  const aF = FLOAT_T[at];
  if ((relu || satfinite) && !(dt === 'f16' || dt === 'bf16' || dt === 'f16x2' || dt === 'bf16x2' || dt === 'tf32' || dt in F8)) fail();
  if (ftz && dt !== 'f32' && at !== 'f32') fail();
  if (rnd === 'rna' && dt !== 'tf32') fail();

  // ---- packed and special destinations ----
  if ((dt === 'f16x2' || dt === 'bf16x2') && at === 'f32') {
    if (irnd || sat || ftz || (mode !== RN && mode !== RZ)) fail();
    const k = halfKind(dt);
    const one = (a: N): N => halfFromValue(k, f32(a), mode, relu, satfinite);
    return mk('cvt', ['f32', 'f32'], [dt], n2((a, b) => ((one(a) << 16) | one(b)) >>> 0)); // a → upper half
  }
  if (dt === 'tf32') {
    if (at !== 'f32' || irnd || sat || ftz || mode === RM || mode === RP) fail();
    return mk('cvt', ['f32'], ['b32'], n1((a) => {
      let v = roundFmt(f32(a), 0, FMT_TF32, mode);
      if (v !== v) return NAN32;
      if (relu && !(v > 0)) v = 0;
      if (satfinite && Math.abs(v) === Infinity) v = v > 0 ? FMT_TF32.max : -FMT_TF32.max;
      return f32bits(v);
    }));
  }
  if (dt in F8) {
    const f8 = F8[dt as keyof typeof F8];
    if (!satfinite || mode !== RN || irnd || sat || ftz) fail();
    const one = (x: N): N => (x !== x ? 0x7f : f8.enc(relu && !(x > 0) ? 0 : x)); // enc saturates (satfinite)
    if (at === 'f32') return mk('cvt', ['f32', 'f32'], ['b16'], n2((a, b) => (one(f32(a)) << 8) | one(f32(b))));
    if (at === 'f16x2') return mk('cvt', ['b32'], ['b16'], n1((a) => (one(h16(a >>> 16)) << 8) | one(h16(a & 0xffff))));
    return fail();
  }
  if (at in F8) {
    const f8 = F8[at as keyof typeof F8];
    if (dt !== 'f16x2' || mode !== RN || irnd || sat || ftz || satfinite) fail();
    const one = (b: N): N => {
      const x = f8.dec(b);
      return relu && !(x > 0) && x === x ? 0 : e16(x); // exact in f16
    };
    return mk('cvt', ['b16'], ['f16x2'], n1((a) => ((one((a >>> 8) & 0xff) << 16) | one(a & 0xff)) >>> 0));
  }

  // ---- int → int ----
  if (dInt && aInt) {
    if (irnd || rnd || ftz) fail();
    const rd = intReader(at);
    const wr = intWriter(dt, sat);
    return mk('cvt', [at], [dt], (s) => wr(rd(s[0])));
  }
  // ---- float → int: round to integral, NaN → 0 (or the 64-bit/f64 sign-bit pattern), clamp ----
  if (dInt && aF) {
    if (rnd) fail();
    const r = irnd ?? 'rzi'; // the ISA's examples omit it (cvt.s32.f64 j,r); truncation is the C meaning
    const wr = intWriter(dt, true);
    const w = bits(dt);
    const nanBits = at !== 'f64' && w !== 64 ? 0 : w === 64 ? SIGN64 : 2 ** (w - 1);
    const dec = ftz ? (v: RegValue) => f32(ftz32(v as N)) : aF.dec;
    return mk('cvt', [at], [dt], (s) => {
      const x = dec(s[0]);
      if (x !== x) return nanBits;
      const i = rint(x, r);
      if (w === 64) return wr(i >= 2 ** 64 ? 2n ** 64n : i <= -(2 ** 64) ? -(2n ** 64n) : BigInt(i));
      return wr(i + 0);
    });
  }
  // ---- int → float ----
  if (dF && aInt) {
    if (irnd || sat) fail();
    const rd = intReader(at);
    if (dt === 'f32' && mode === RN && bits(at) <= 32 && !ftz) return mk('cvt', [at], [dt], (s) => f32bits(rd(s[0]) as N));
    return mk('cvt', [at], [dt], (s) => {
      const x = rd(s[0]);
      let hi: N;
      let lo = 0;
      if (typeof x === 'bigint') {
        hi = Number(x); // nearest; the remainder (< 2^11) is exact
        lo = Number(x - BigInt(hi));
      } else hi = x;
      const v = roundFmt(hi, lo, dF.fmt, mode);
      return dt === 'f32' && ftz ? ftz32(f32bits(v)) : dF.enc(v);
    });
  }
  // ---- float → float ----
  if (dF && aF) {
    if (irnd && dt !== at) fail();
    const dec = at === 'f32' && ftz ? (v: RegValue) => f32(ftz32(v as N)) : aF.dec;
    if (dt === 'bf16' || dt === 'f16') {
      const k = halfKind(dt);
      return mk('cvt', [at], [dt], (s) => halfFromValue(k, dec(s[0]), mode, relu, satfinite, irnd, sat));
    }
    return mk('cvt', [at], [dt], (s) => {
      let v = dec(s[0]);
      if (irnd) v = rint(v, irnd);
      else v = roundFmt(v, 0, dF.fmt, mode);
      if (sat) v = v > 0 ? (v < 1 ? v : 1) : 0;
      if (v !== v) return dF.nan;
      const r = dF.enc(v);
      return dt === 'f32' && ftz ? ftz32(r as N) : r;
    });
  }
  return fail();
}

/** One f16/bf16 from a double value: rounding mode (or integral rounding), .relu, .satfinite, .sat; canonical NaN. */
function halfFromValue(k: HalfKind, x: N, mode: N, relu: boolean, satfinite: boolean, irnd?: string, sat = false): N {
  let v = irnd ? rint(x, irnd) : roundFmt(x, 0, k.fmt, mode);
  if (v !== v) return NAN16;
  if (relu && !(v > 0)) v = 0;
  if (satfinite && Math.abs(v) === Infinity) v = v > 0 ? k.fmt.max : -k.fmt.max;
  if (sat) v = v > 0 ? (v < 1 ? v : 1) : 0;
  return k.enc(v);
}

// ---------------------------------------------------------------------------------------------------------
// Dispatch

const FLOATS = new Set(['f32', 'f64', ...HALF_TYPES]);
type Builder = (m: Mods) => AluOp;
const BUILDERS: Readonly<Record<string, Builder>> = {
  add: (m) => (FLOATS.has(m.type1()) ? floatAddSubMul(m, m.type1(), 'add') : intAddSub(m, m.type1(), false)),
  sub: (m) => (FLOATS.has(m.type1()) ? floatAddSubMul(m, m.type1(), 'sub') : intAddSub(m, m.type1(), true)),
  mul: (m) => (FLOATS.has(m.type1()) ? floatAddSubMul(m, m.type1(), 'mul') : intMulMad(m, m.type1(), false)),
  mad: (m) => (FLOATS.has(m.type1()) ? floatFma(m, m.type1(), true) : intMulMad(m, m.type1(), true)),
  fma: (m) => floatFma(m, m.type1(), false),
  mul24: (m) => mul24(m, m.type1(), false),
  mad24: (m) => mul24(m, m.type1(), true),
  sad: (m) => sad(m, m.type1()),
  div: (m) => (FLOATS.has(m.type1()) ? floatDiv(m, m.type1()) : intDivRem(m, m.type1(), false)),
  rem: (m) => intDivRem(m, m.type1(), true),
  abs: (m) => (FLOATS.has(m.type1()) ? floatAbsNeg(m, m.type1(), false) : intAbsNeg(m, m.type1(), false)),
  neg: (m) => (FLOATS.has(m.type1()) ? floatAbsNeg(m, m.type1(), true) : intAbsNeg(m, m.type1(), true)),
  min: (m) => (FLOATS.has(m.type1()) ? floatMinMax(m, m.type1(), false) : intMinMax(m, m.type1(), false)),
  max: (m) => (FLOATS.has(m.type1()) ? floatMinMax(m, m.type1(), true) : intMinMax(m, m.type1(), true)),
  popc: (m) => bitCount(m, m.type1(), 'popc'),
  clz: (m) => bitCount(m, m.type1(), 'clz'),
  brev: (m) => bitCount(m, m.type1(), 'brev'),
  bfind: (m) => bfind(m, m.type1()),
  bfe: (m) => bfe(m, m.type1()),
  bfi: (m) => bfi(m, m.type1()),
  prmt: (m) => prmt(m, m.type1()),
  lop3: (m) => lop3(m, m.type1()),
  shf: (m) => shf(m, m.type1()),
  bmsk: (m) => bmsk(m, m.type1()),
  szext: (m) => szext(m, m.type1()),
  shl: (m) => shift(m, m.type1(), true),
  shr: (m) => shift(m, m.type1(), false),
  and: (m) => logic(m, m.type1(), 'and'),
  or: (m) => logic(m, m.type1(), 'or'),
  xor: (m) => logic(m, m.type1(), 'xor'),
  not: (m) => notOp(m, m.type1(), false),
  cnot: (m) => notOp(m, m.type1(), true),
  dp4a: (m) => dp4a2a(m, true),
  dp2a: (m) => dp4a2a(m, false),
  rcp: (m) => floatRcpSqrt(m, m.type1(), 'rcp'),
  sqrt: (m) => floatRcpSqrt(m, m.type1(), 'sqrt'),
  rsqrt: (m) => floatRcpSqrt(m, m.type1(), 'rsqrt'),
  sin: (m) => sfu(m, m.type1(), 'sin'),
  cos: (m) => sfu(m, m.type1(), 'cos'),
  lg2: (m) => sfu(m, m.type1(), 'lg2'),
  ex2: (m) => sfu(m, m.type1(), 'ex2'),
  tanh: (m) => sfu(m, m.type1(), 'tanh'),
  copysign: (m) => copysign(m, m.type1()),
  testp: (m) => testp(m, m.type1()),
  setp: (m) => setp(m, m.type1()),
  set: (m) => set(m),
  selp: (m) => selp(m, m.type1()),
  slct: (m) => slct(m),
  cvt: (m) => cvt(m),
  // carry-chain arithmetic needs the core's carry flag
  addc: (m) => m.fail(),
  subc: (m) => m.fail(),
  madc: (m) => m.fail(),
};

/**
 * The ALU semantics of `opcode.modifiers`, or undefined when the opcode is not an ALU instruction (the
 * core handles it). Throws EmulatorInputError for an ALU opcode with modifiers we do not support.
 */
export function makeAluOp(opcode: string, modifiers: readonly string[]): AluOp | undefined {
  if (!Object.hasOwn(BUILDERS, opcode)) return undefined;
  const m = new Mods(opcode, modifiers);
  const op = BUILDERS[opcode](m);
  m.finish();
  return op;
}

// ---------------------------------------------------------------------------------------------------------
// Immediates

/**
 * A parsed immediate as the bit representation of operand type `type`. Integer immediates wrap to the
 * type's width (two's complement); an integer used with a float type is converted by value. Float
 * immediates (0f…/0d… or decimal; `float32` means it was written as 0f… and is exactly an f32) become
 * the bits of the type's format, rounded to nearest even when narrower; with a bit-size or integer type
 * they become the IEEE bits of their width (f32 for 32-bit, f64 for 64-bit, f16 for 16-bit).
 */
export function immediateBits(value: number | bigint, kind: 'int' | 'float32' | 'float64', type: string): RegValue {
  if (type === 'pred') return value !== 0 && value !== 0n;
  const fl = FLOAT_T[type];
  if (fl !== undefined) {
    const x = Number(value);
    if (x !== x) return type === 'f32' && kind === 'float32' ? f32bitsRaw(x) : fl.nan;
    return fl.enc(roundFmt(x, 0, fl.fmt, RN));
  }
  const w = regBits(type);
  if (!(w === 8 || w === 16 || w === 32 || w === 64) || !TYPE_NAMES.has(type)) {
    throw new EmulatorInputError(`unsupported immediate type .${type}`);
  }
  if (kind !== 'int') {
    const x = Number(value);
    if (w === 64) return f64bits(x);
    if (w === 32) return kind === 'float32' ? f32bitsRaw(x) : f32bits(x);
    if (w === 16) return e16(x);
    throw new EmulatorInputError(`float immediate for .${type}`);
  }
  const v = typeof value === 'bigint' ? value : BigInt(Math.trunc(value));
  return w === 64 ? u64(v) : Number(BigInt.asUintN(w, v));
}

/** f32 bits without canonicalising NaN (an 0f7fc00000 immediate keeps the encoding the engine gives it). */
function f32bitsRaw(x: N): N {
  F32[0] = x;
  return U32[0];
}
