/**
 * Exact conversions between JavaScript numbers (float64) and the narrow
 * storage/arithmetic formats. Every narrow rounding is done in ONE step from the
 * float64 value (round to nearest, ties to even); going through Math.fround
 * first would double-round values that sit near a narrow-format midpoint.
 */
import type { DType } from '../dsl/dtype.js';

/** Binary format with an implicit leading 1 and gradual underflow. */
interface Format {
  readonly man: number; // explicit fraction bits
  readonly exp: number; // exponent field bits
  readonly bias: number;
  readonly max: number; // largest finite magnitude
  /** true: IEEE-like, all-ones exponent = Inf/NaN. false: e4m3fn-style, only S.1111.111 is NaN. */
  readonly ieee: boolean;
  /** true: overflow and ±Inf clamp to ±max (PTX cvt.rn.satfinite); false: overflow → ±Inf. */
  readonly saturate: boolean;
  readonly nanBits: number; // canonical (positive, quiet) NaN encoding
}

const F16: Format = { man: 10, exp: 5, bias: 15, max: 65504, ieee: true, saturate: false, nanBits: 0x7e00 };
const BF16: Format = {
  man: 7, exp: 8, bias: 127, max: (2 - 2 ** -7) * 2 ** 127, ieee: true, saturate: false, nanBits: 0x7fc0,
};
// fp8: PTX only converts to f8 with .satfinite, so saturation is the only behaviour a kernel can observe.
const E4M3: Format = { man: 3, exp: 4, bias: 7, max: 448, ieee: false, saturate: true, nanBits: 0x7f };
const E5M2: Format = { man: 2, exp: 5, bias: 15, max: 57344, ieee: true, saturate: true, nanBits: 0x7e };

// Exact powers of two 2^-1074 .. 2^1023 (halving/doubling is exact, Math.pow is not guaranteed to be).
const POW2 = new Float64Array(2098);
POW2[1074] = 1;
for (let k = 1; k <= 1023; k++) POW2[1074 + k] = POW2[1073 + k] * 2;
for (let k = -1; k >= -1074; k--) POW2[1074 + k] = POW2[1075 + k] / 2;
const pow2 = (k: number): number => POW2[k + 1074];

// Shared scratch views for reading float64 / float32 bit patterns.
const scratch = new ArrayBuffer(8);
const f64 = new Float64Array(scratch);
const u32 = new Uint32Array(scratch);
const f32 = new Float32Array(scratch);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // high word index (endianness)

/** Unbiased binary exponent of a positive finite double (-1023 for double subnormals, which is below every emin here). */
function exponentOf(a: number): number {
  f64[0] = a;
  return ((u32[HI] >>> 20) & 0x7ff) - 1023;
}

function roundTo(x: number, f: Format): number {
  if (x !== x) return NaN;
  if (x === 0) return x; // keeps -0
  const a = Math.abs(x);
  let v: number;
  if (a === Infinity) {
    v = f.saturate ? f.max : Infinity;
  } else {
    // Quantum of |x|'s binade, clamped at the subnormal range; a / q is exact (power-of-two scaling).
    const q = pow2(Math.max(exponentOf(a), 1 - f.bias) - f.man);
    const r = a / q;
    let n = Math.floor(r);
    const frac = r - n; // exact: r < 2^(man+1)
    if (frac > 0.5 || (frac === 0.5 && (n & 1) === 1)) n += 1;
    v = n * q;
    // Rounding with an unbounded exponent then comparing gives IEEE overflow: ≥ max + ulp/2 → Inf.
    if (v > f.max) v = f.saturate ? f.max : Infinity;
  }
  return x < 0 ? -v : v; // an underflow to 0 keeps the sign of x
}

function toBits(x: number, f: Format): number {
  const v = roundTo(x, f);
  if (v !== v) return f.nanBits;
  const sign = v < 0 || Object.is(v, -0) ? 1 << (f.exp + f.man) : 0;
  const a = Math.abs(v);
  if (a === 0) return sign;
  if (a === Infinity) return sign | (((1 << f.exp) - 1) << f.man);
  const e = exponentOf(a);
  const emin = 1 - f.bias;
  if (e < emin) return sign | (a / pow2(emin - f.man)); // subnormal: field 0, integer mantissa
  return sign | ((e + f.bias) << f.man) | (a / pow2(e - f.man) - (1 << f.man));
}

function fromBits(bits: number, f: Format): number {
  const mant = bits & ((1 << f.man) - 1);
  const field = (bits >>> f.man) & ((1 << f.exp) - 1);
  const neg = ((bits >>> (f.exp + f.man)) & 1) === 1;
  const allOnes = field === (1 << f.exp) - 1;
  let v: number;
  if (allOnes && f.ieee) v = mant === 0 ? Infinity : NaN;
  else if (allOnes && mant === (1 << f.man) - 1) v = NaN; // e4m3fn: only S.1111.111 is NaN
  else if (field === 0) v = mant * pow2(1 - f.bias - f.man);
  else v = (mant + (1 << f.man)) * pow2(field - f.bias - f.man);
  return neg ? -v : v;
}

// IEEE binary16: overflow → ±Infinity.
export const roundF16 = (x: number): number => roundTo(x, F16);
export const f16ToBits = (x: number): number => toBits(x, F16);
export const f16FromBits = (bits: number): number => fromBits(bits, F16);

// bfloat16 (float32 with 7 fraction bits): overflow → ±Infinity.
export const roundBF16 = (x: number): number => roundTo(x, BF16);
export const bf16ToBits = (x: number): number => toBits(x, BF16);
export const bf16FromBits = (bits: number): number => fromBits(bits, BF16);

// OCP fp8 e4m3fn: no infinities, max 448, NaN = 0x7f/0xff; saturating (satfinite).
export const roundF8E4M3 = (x: number): number => roundTo(x, E4M3);
export const f8e4m3ToBits = (x: number): number => toBits(x, E4M3);
export const f8e4m3FromBits = (bits: number): number => fromBits(bits, E4M3);

// fp8 e5m2: IEEE-like encodings (has Inf), max 57344; conversions saturate (satfinite).
export const roundF8E5M2 = (x: number): number => roundTo(x, E5M2);
export const f8e5m2ToBits = (x: number): number => toBits(x, E5M2);
export const f8e5m2FromBits = (bits: number): number => fromBits(bits, E5M2);

/**
 * The value an arithmetic result x takes when held in dtype d.
 * i32 wraps like two's complement (ToInt32: truncate, then mod 2^32; NaN/±Inf → 0).
 * i64 is only Math.trunc (NaN → 0): exact for |x| ≤ 2^53, no wrap — a known limitation of float64.
 */
export function roundToDType(d: DType, x: number): number {
  switch (d) {
    case 'f32':
      return Math.fround(x);
    case 'f16':
      return roundF16(x);
    case 'bf16':
      return roundBF16(x);
    case 'f8e4m3':
      return roundF8E4M3(x);
    case 'f8e5m2':
      return roundF8E5M2(x);
    case 'i32':
      return x | 0;
    case 'i64':
      return x !== x ? 0 : Math.trunc(x) + 0; // + 0 turns -0 into 0
    case 'bool':
      return x !== 0 ? 1 : 0; // NaN is truthy
  }
}

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
// 2^63 - 1 is not a double; the nearest representable bound is 2^63.
const I64_LIM = 2 ** 63;

/**
 * An explicit cast. To integers: truncate toward zero, saturate to the range,
 * NaN → 0 (PTX cvt.rzi.s32.f32 / .s64). Everything else as roundToDType.
 */
export function convert(x: number, to: DType, from?: DType): number {
  // Integer to integer keeps the low bits (C and PTX cvt.s32.s64); only float → int saturates.
  if ((to !== 'i32' && to !== 'i64') || from === 'i32' || from === 'i64' || from === 'bool') return roundToDType(to, x);
  if (x !== x) return 0;
  const t = Math.trunc(x) + 0;
  return to === 'i32' ? Math.min(I32_MAX, Math.max(I32_MIN, t)) : Math.min(I64_LIM, Math.max(-I64_LIM, t));
}

/** Storage bits (as an unsigned number) of x held in d; for dtypes of at most 32 bits. */
export function encodeBits(d: DType, x: number): number {
  switch (d) {
    case 'f32':
      f32[0] = x;
      return u32[0];
    case 'i32':
      return (x | 0) >>> 0;
    case 'bool':
      return x !== 0 ? 1 : 0;
    case 'f16':
      return f16ToBits(x);
    case 'bf16':
      return bf16ToBits(x);
    case 'f8e4m3':
      return f8e4m3ToBits(x);
    case 'f8e5m2':
      return f8e5m2ToBits(x);
    case 'i64':
      throw new Error('encodeBits: i64 is wider than 32 bits');
  }
}

/** Inverse of encodeBits. */
export function decodeBits(d: DType, bits: number): number {
  switch (d) {
    case 'f32':
      u32[0] = bits >>> 0;
      return f32[0];
    case 'i32':
      return bits | 0;
    case 'bool':
      return bits !== 0 ? 1 : 0;
    case 'f16':
      return f16FromBits(bits);
    case 'bf16':
      return bf16FromBits(bits);
    case 'f8e4m3':
      return f8e4m3FromBits(bits);
    case 'f8e5m2':
      return f8e5m2FromBits(bits);
    case 'i64':
      throw new Error('decodeBits: i64 is wider than 32 bits');
  }
}
