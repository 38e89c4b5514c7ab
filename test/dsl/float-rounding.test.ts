import { describe, expect, it } from 'vitest';
import {
  bf16FromBits,
  bf16ToBits,
  convert,
  decodeBits,
  encodeBits,
  f16FromBits,
  f16ToBits,
  f8e4m3FromBits,
  f8e4m3ToBits,
  f8e5m2FromBits,
  f8e5m2ToBits,
  roundBF16,
  roundF16,
  roundF8E4M3,
  roundF8E5M2,
  roundToDType,
} from '../../dsl/float-rounding.js';
import { makeRng, seedFromEnv } from '../support/random.js';

const BF16_MAX = (2 - 2 ** -7) * 2 ** 127;

/** Every bit pattern survives fromBits → toBits; NaN patterns stay NaN and come back as some NaN encoding. */
function checkRoundTrip(
  count: number,
  from: (b: number) => number,
  to: (x: number) => number,
  round: (x: number) => number,
  isNaNBits: (b: number) => boolean,
  skip: (b: number) => boolean = () => false,
): void {
  const bad: string[] = [];
  for (let b = 0; b < count; b++) {
    if (skip(b)) continue;
    const v = from(b);
    if (isNaNBits(b) !== Number.isNaN(v)) bad.push(`${b.toString(16)}: NaN class`);
    else if (Number.isNaN(v)) {
      if (!isNaNBits(to(v))) bad.push(`${b.toString(16)}: NaN encodes as ${to(v).toString(16)}`);
    } else if (to(v) !== b || !Object.is(round(v), v)) bad.push(`${b.toString(16)} -> ${v} -> ${to(v).toString(16)}`);
  }
  expect(bad.slice(0, 10)).toEqual([]);
}

describe('f16', () => {
  it('rounds ties to even', () => {
    expect(roundF16(1 + 2 ** -11)).toBe(1);
    expect(roundF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundF16(1 + 2 ** -11 + 2 ** -40)).toBe(1 + 2 ** -10); // just above the tie rounds up
    expect(roundF16(-(1 + 2 ** -11))).toBe(-1);
  });

  it('rounds once from float64, not via float32', () => {
    // Math.fround gives exactly the tie 1 + 2^-11, which would then round down to 1.
    const x = 1 + 2 ** -11 + 2 ** -30;
    expect(Math.fround(x)).toBe(1 + 2 ** -11);
    expect(roundF16(x)).toBe(1 + 2 ** -10);
  });

  it('handles subnormals', () => {
    expect(roundF16(2 ** -24)).toBe(2 ** -24);
    expect(f16ToBits(2 ** -24)).toBe(0x0001);
    expect(roundF16(2 ** -25)).toBe(0); // tie between 0 and 2^-24 → even (0)
    expect(roundF16(0.75 * 2 ** -24)).toBe(2 ** -24);
    expect(roundF16(1.5 * 2 ** -24)).toBe(2 * 2 ** -24); // tie → even mantissa 2
    expect(roundF16(2.5 * 2 ** -24)).toBe(2 * 2 ** -24);
    const largestSub = 1023 * 2 ** -24;
    expect(roundF16(largestSub)).toBe(largestSub);
    expect(f16ToBits(largestSub)).toBe(0x03ff);
    expect(f16FromBits(0x03ff)).toBe(largestSub);
    expect(f16FromBits(0x0400)).toBe(2 ** -14);
    expect(Object.is(roundF16(-(2 ** -26)), -0)).toBe(true); // underflow keeps the sign
    expect(roundF16(1e-300)).toBe(0);
    expect(roundF16(5e-324)).toBe(0);
  });

  it('overflows to infinity at max + half ulp', () => {
    expect(roundF16(65504)).toBe(65504);
    expect(roundF16(65519.99)).toBe(65504);
    expect(roundF16(65520)).toBe(Infinity);
    expect(roundF16(-65520)).toBe(-Infinity);
    expect(roundF16(1e300)).toBe(Infinity);
    expect(roundF16(-Infinity)).toBe(-Infinity);
    expect(f16ToBits(65504)).toBe(0x7bff);
    expect(f16ToBits(65520)).toBe(0x7c00);
    expect(f16ToBits(-Infinity)).toBe(0xfc00);
  });

  it('keeps signed zero and NaN', () => {
    expect(Object.is(roundF16(-0), -0)).toBe(true);
    expect(Object.is(roundF16(0), 0)).toBe(true);
    expect(f16ToBits(-0)).toBe(0x8000);
    expect(Object.is(f16FromBits(0x8000), -0)).toBe(true);
    expect(roundF16(NaN)).toBeNaN();
    expect(f16ToBits(NaN)).toBe(0x7e00);
  });

  it('round-trips all 65536 bit patterns', () => {
    checkRoundTrip(65536, f16FromBits, f16ToBits, roundF16, (b) => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0);
  });

  it('matches a brute-force nearest-neighbour reference on 100k random doubles', () => {
    // Independent table of the positive finite f16 values, in bit order (which is value order),
    // plus 65536 = 2^16 at index 0x7c00 standing for "rounds to infinity".
    const vals = new Float64Array(0x7c01);
    for (let i = 0; i < 0x7c00; i++) {
      const e = i >> 10;
      const m = i & 0x3ff;
      vals[i] = e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25);
    }
    vals[0x7c00] = 65536;
    const badTable: number[] = [];
    for (let i = 0; i < 0x7c00; i++) if (f16FromBits(i) !== vals[i]) badTable.push(i);
    expect(badTable).toEqual([]);
    const reference = (x: number): number => {
      const a = Math.abs(x);
      if (a >= 65536) return x < 0 ? -Infinity : Infinity;
      let lo = 0;
      let hi = 0x7c00; // vals[lo] <= a < vals[hi]
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (vals[mid] <= a) lo = mid;
        else hi = mid;
      }
      const dl = a - vals[lo];
      const dh = vals[hi] - a;
      const idx = dl < dh ? lo : dh < dl ? hi : lo % 2 === 0 ? lo : hi; // even index = even mantissa
      const v = idx === 0x7c00 ? Infinity : vals[idx];
      return x < 0 ? -v : v;
    };

    const seed = seedFromEnv(0x5eed16);
    const rng = makeRng(seed);
    const mantissa = (): number => rng.next() + rng.next() * 2 ** -32; // ~53 random bits in [0, 1)
    const bad: string[] = [];
    for (let n = 0; n < 100_000; n++) {
      let x: number;
      const kind = n % 4;
      if (kind < 2) {
        x = (1 + mantissa()) * 2 ** (Math.floor(rng.next() * 48) - 30); // 2^-30 .. 2^17
      } else {
        // Midpoints between neighbours, exactly or nudged by a relative 2^-50: the hard cases.
        const i = Math.floor(rng.next() * 0x7c00);
        const mid = (vals[i] + vals[i + 1]) / 2;
        x = kind === 2 ? mid : mid * (1 + (rng.next() < 0.5 ? -1 : 1) * 2 ** -50);
      }
      if (rng.next() < 0.5) x = -x;
      const got = roundF16(x);
      const want = reference(x);
      if (!Object.is(got, want)) bad.push(`x=${x}: got ${got}, want ${want}`);
    }
    expect(bad.slice(0, 5), `seed ${seed} (set TILEKIT_SEED to replay)`).toEqual([]);
  });
});

describe('bf16', () => {
  it('rounds ties to even', () => {
    expect(roundBF16(1 + 2 ** -8)).toBe(1);
    expect(roundBF16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6);
    expect(roundBF16(1 + 2 ** -8 + 2 ** -40)).toBe(1 + 2 ** -7);
    expect(bf16ToBits(1)).toBe(0x3f80);
  });

  it('handles subnormals', () => {
    expect(roundBF16(2 ** -133)).toBe(2 ** -133);
    expect(bf16ToBits(2 ** -133)).toBe(0x0001);
    expect(roundBF16(2 ** -134)).toBe(0);
    expect(roundBF16(0.75 * 2 ** -133)).toBe(2 ** -133);
    expect(bf16FromBits(0x007f)).toBe(127 * 2 ** -133);
  });

  it('overflows to infinity near 3.3895e38', () => {
    expect(BF16_MAX).toBeCloseTo(3.3895e38, -34);
    expect(roundBF16(BF16_MAX)).toBe(BF16_MAX);
    expect(bf16ToBits(BF16_MAX)).toBe(0x7f7f);
    expect(roundBF16(BF16_MAX + 2 ** 119)).toBe(Infinity); // max + half ulp
    expect(roundBF16(BF16_MAX + 2 ** 119 - 2 ** 100)).toBe(BF16_MAX);
    expect(roundBF16(3.4e38)).toBe(Infinity); // a finite float32 that bf16 cannot hold
    expect(roundBF16(-3.4e38)).toBe(-Infinity);
  });

  it('keeps signed zero and NaN', () => {
    expect(Object.is(roundBF16(-0), -0)).toBe(true);
    expect(bf16ToBits(-0)).toBe(0x8000);
    expect(roundBF16(NaN)).toBeNaN();
    expect(bf16ToBits(NaN)).toBe(0x7fc0);
  });

  it('agrees with float32 truncation on every pattern', () => {
    // bf16 bits are the top half of the float32 bits.
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const bad: number[] = [];
    for (let b = 0; b < 65536; b++) {
      u[0] = b << 16;
      const v = bf16FromBits(b);
      if (!Object.is(v, f[0]) && !(Number.isNaN(v) && Number.isNaN(f[0]))) bad.push(b);
    }
    expect(bad).toEqual([]);
  });

  it('round-trips all 65536 bit patterns', () => {
    checkRoundTrip(65536, bf16FromBits, bf16ToBits, roundBF16, (b) => (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0);
  });
});

describe('fp8', () => {
  it('e4m3fn: values, subnormals, NaN encodings', () => {
    expect(f8e4m3FromBits(0x7e)).toBe(448);
    expect(f8e4m3FromBits(0x78)).toBe(256); // exponent 1111 is finite in e4m3fn
    expect(f8e4m3FromBits(0x7f)).toBeNaN();
    expect(f8e4m3FromBits(0xff)).toBeNaN();
    expect(f8e4m3FromBits(0x01)).toBe(2 ** -9);
    expect(f8e4m3ToBits(1)).toBe(0x38);
    expect(roundF8E4M3(2 ** -10)).toBe(0);
    expect(roundF8E4M3(0.75 * 2 ** -9)).toBe(2 ** -9);
    expect(roundF8E4M3(1 + 2 ** -4)).toBe(1); // tie → even
    expect(roundF8E4M3(1 + 3 * 2 ** -4)).toBe(1.25);
    expect(Object.is(roundF8E4M3(-0), -0)).toBe(true);
    expect(f8e4m3ToBits(NaN)).toBe(0x7f);
  });

  it('e4m3fn saturates', () => {
    expect(roundF8E4M3(464)).toBe(448);
    expect(roundF8E4M3(1000)).toBe(448);
    expect(roundF8E4M3(-1e30)).toBe(-448);
    expect(roundF8E4M3(Infinity)).toBe(448);
    expect(roundF8E4M3(-Infinity)).toBe(-448);
    expect(f8e4m3ToBits(Infinity)).toBe(0x7e);
    expect(f8e4m3ToBits(-Infinity)).toBe(0xfe);
    expect(roundF8E4M3(NaN)).toBeNaN();
  });

  it('e5m2: values, infinities, saturation', () => {
    expect(f8e5m2FromBits(0x7b)).toBe(57344);
    expect(f8e5m2FromBits(0x7c)).toBe(Infinity);
    expect(f8e5m2FromBits(0xfc)).toBe(-Infinity);
    expect(f8e5m2FromBits(0x7d)).toBeNaN();
    expect(f8e5m2FromBits(0x01)).toBe(2 ** -16);
    expect(f8e5m2ToBits(1)).toBe(0x3c);
    expect(roundF8E5M2(2 ** -17)).toBe(0);
    expect(roundF8E5M2(1 + 2 ** -3)).toBe(1);
    expect(roundF8E5M2(1 + 3 * 2 ** -3)).toBe(1.5);
    expect(roundF8E5M2(61440)).toBe(57344);
    expect(roundF8E5M2(Infinity)).toBe(57344);
    expect(roundF8E5M2(-1e9)).toBe(-57344);
    expect(roundF8E5M2(NaN)).toBeNaN();
    // e5m2 is the top byte of f16.
    const bad: number[] = [];
    for (let b = 0; b < 256; b++) {
      const v = f8e5m2FromBits(b);
      const h = f16FromBits(b << 8);
      if (Number.isNaN(v) ? !Number.isNaN(h) : !Object.is(v, h)) bad.push(b);
    }
    expect(bad).toEqual([]);
  });

  it('round-trips all 256 patterns of each format', () => {
    checkRoundTrip(256, f8e4m3FromBits, f8e4m3ToBits, roundF8E4M3, (b) => (b & 0x7f) === 0x7f);
    // e5m2 ±Inf (0x7c/0xfc) saturate to ±max on the way back, so they are checked separately.
    const e5m2NaN = (b: number): boolean => (b & 0x7c) === 0x7c && (b & 3) !== 0;
    checkRoundTrip(256, f8e5m2FromBits, f8e5m2ToBits, roundF8E5M2, e5m2NaN, (b) => (b & 0x7f) === 0x7c);
    expect(f8e5m2ToBits(Infinity)).toBe(0x7b);
    expect(f8e5m2ToBits(-Infinity)).toBe(0xfb);
  });
});

describe('roundToDType / convert', () => {
  it('rounds each dtype', () => {
    expect(roundToDType('f32', 0.1)).toBe(Math.fround(0.1));
    expect(roundToDType('f16', 65520)).toBe(Infinity);
    expect(roundToDType('bf16', 1 + 2 ** -8)).toBe(1);
    expect(roundToDType('f8e4m3', 1000)).toBe(448);
    expect(roundToDType('f8e5m2', 1e6)).toBe(57344);
    expect(roundToDType('bool', 0)).toBe(0);
    expect(roundToDType('bool', -0.5)).toBe(1);
    expect(roundToDType('bool', NaN)).toBe(1);
    expect(roundToDType('i64', -2.7)).toBe(-2);
    expect(Object.is(roundToDType('i64', -0.5), 0)).toBe(true);
    expect(roundToDType('i64', NaN)).toBe(0);
  });

  it('wraps i32 like two\'s complement', () => {
    expect(roundToDType('i32', 2 ** 31)).toBe(-(2 ** 31));
    expect(roundToDType('i32', 2 ** 32 + 5.7)).toBe(5);
    expect(roundToDType('i32', -(2 ** 31) - 1)).toBe(2 ** 31 - 1);
    expect(roundToDType('i32', -3.9)).toBe(-3);
    expect(roundToDType('i32', NaN)).toBe(0);
    expect(Object.is(roundToDType('i32', -0.2), 0)).toBe(true);
  });

  it('convert saturates to the int range and maps NaN to 0', () => {
    expect(convert(3e9, 'i32')).toBe(2 ** 31 - 1);
    expect(convert(-3e9, 'i32')).toBe(-(2 ** 31));
    expect(convert(Infinity, 'i32')).toBe(2 ** 31 - 1);
    expect(convert(-Infinity, 'i32')).toBe(-(2 ** 31));
    expect(convert(NaN, 'i32')).toBe(0);
    expect(convert(NaN, 'i64')).toBe(0);
    expect(convert(-1.7, 'i32')).toBe(-1);
    expect(convert(1e30, 'i64')).toBe(2 ** 63);
    expect(convert(-1e30, 'i64')).toBe(-(2 ** 63));
    expect(convert(1 + 2 ** -11, 'f16')).toBe(1);
    expect(convert(2, 'bool')).toBe(1);
  });
});

describe('encodeBits / decodeBits', () => {
  it('encodes each dtype of at most 32 bits', () => {
    expect(encodeBits('f32', 1)).toBe(0x3f800000);
    expect(encodeBits('f32', -2)).toBe(0xc0000000);
    expect(decodeBits('f32', 0x3f800000)).toBe(1);
    expect(Object.is(decodeBits('f32', 0x80000000), -0)).toBe(true);
    expect(decodeBits('f32', 0x7fc00000)).toBeNaN();
    expect(encodeBits('i32', -1)).toBe(0xffffffff);
    expect(decodeBits('i32', 0xffffffff)).toBe(-1);
    expect(encodeBits('bool', 7)).toBe(1);
    expect(decodeBits('bool', 0)).toBe(0);
    expect(encodeBits('f16', 1)).toBe(0x3c00);
    expect(encodeBits('bf16', -1)).toBe(0xbf80);
    expect(encodeBits('f8e4m3', 448)).toBe(0x7e);
    expect(encodeBits('f8e5m2', 1)).toBe(0x3c);
    expect(decodeBits('f16', 0x3555)).toBe(f16FromBits(0x3555));
    expect(() => encodeBits('i64', 1)).toThrow(/i64/);
    expect(() => decodeBits('i64', 1)).toThrow(/i64/);
  });
});
