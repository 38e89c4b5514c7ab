/**
 * The CUDA C++ corpus through the PTX emulator: each kernel in ./corpus/*.cu, compiled by nvcc to
 * PTX for sm_80 and sm_90 (./corpus/build.sh; the .ptx files are committed), runs on seeded random
 * inputs at ragged sizes over several blocks and is compared with a plain TypeScript reference.
 * Integer results and float results the reference can reproduce operation for operation are
 * compared exactly; the rest within a relative tolerance justified where it is set.
 * Clean kernels must produce no sanitizer findings; each planted bug (bug_*.cu) must produce its
 * finding on the line marked `// BUG:` in its source.
 *
 * Buffers come back in pointer-parameter order; every corpus kernel takes its pointers first, so
 * res.buffers[k] is parameter k. Replay a failure with TILEKIT_SEED=<seed in the message>.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bf16FromBits, bf16ToBits, f16FromBits, f16ToBits, roundBF16, roundF16 } from '../../dsl/float-rounding.js';
import type { EmuArg, EmuResult, FindingKind, LaunchConfig } from '../../runtime/emulator/types.js';
import { makeRng, seedFromEnv, type Rng } from '../support/random.js';
import { bigs, describeFinding, expectClean, expectExact, f32, i32, nums, out, ptr, readPtx, runChecked, u32 } from '../support/emulator.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const ARCHES = ['sm_80', 'sm_90'] as const;
type Arch = (typeof ARCHES)[number];
const SEED = seedFromEnv(0x5eed_c0de);

// ---------------------------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------------------------

function loadPtx(base: string, arch: Arch): string {
  return readPtx(join(CORPUS, `${base}.${arch}.ptx`));
}

/** The 1-based line of the single `// BUG:` marker in corpus/<file>. */
function bugLine(file: string): number {
  const lines = readFileSync(join(CORPUS, file), 'utf8').split('\n');
  const hits = lines.flatMap((l, i) => (l.includes('// BUG:') ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`${file}: expected exactly one '// BUG:' marker, found ${hits.length}`);
  return hits[0];
}

/** Runs one launch; every run must have executed something. */
function run(base: string, arch: Arch, kernel: string, launch: LaunchConfig, args: readonly EmuArg[], label: string): EmuResult {
  return runChecked(loadPtx(base, arch), kernel, launch, args, label);
}

function expectFinding(res: EmuResult, kind: FindingKind, file: string, label: string): void {
  const line = bugLine(file);
  const hit = res.findings.some((f) => f.kind === kind && f.source?.line === line && f.source.file.endsWith(file));
  expect(hit, `${label}: expected a '${kind}' finding at ${file}:${line}; got [${res.findings.map(describeFinding).join('; ')}]`).toBe(true);
}

/** |got - want| <= tol * |want| element-wise (NaN never passes). */
function expectRel(got: readonly number[], want: readonly number[], tol: number, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * Math.abs(want[i]))) {
      count++;
      if (bad.length < 6) bad.push(`[${i}] got ${got[i]} want ${want[i]} rel ${err / Math.abs(want[i])}`);
    }
  }
  expect(count, `${label}: ${count} elements beyond rel ${tol}: ${bad.join(', ')}`).toBe(0);
}

// ---------------------------------------------------------------------------------------------
// Host arithmetic
// ---------------------------------------------------------------------------------------------

const fr = Math.fround;
const u32rand = (rng: Rng): number => Math.floor(rng.next() * 2 ** 32) >>> 0;
const intIn = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng.next() * (hi - lo + 1));

const f64v = new Float64Array(1);
const u64v = new BigUint64Array(f64v.buffer);
/** The adjacent double toward +inf (up) or -inf. */
function nextDouble(x: number, up: boolean): number {
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
  f64v[0] = x;
  u64v[0] += x > 0 === up ? 1n : -1n;
  return f64v[0];
}

/**
 * round(p + c) with p + c taken exactly, for doubles p and c (an fma's exact product and its
 * addend): TwoSum gives s + err = p + c; s rounds correctly unless it sits exactly on a midpoint
 * of the narrow format, where the sign of err decides.
 */
function roundSum(p: number, c: number, round: (x: number) => number): number {
  const s = p + c;
  if (!Number.isFinite(s) || !Number.isFinite(p) || !Number.isFinite(c)) return round(s);
  const pb = s - c;
  const err = p - pb + (c - (s - pb));
  if (err === 0) return round(s);
  const up = round(nextDouble(s, true));
  const down = round(nextDouble(s, false));
  return Object.is(up, down) ? round(s) : err > 0 ? up : down;
}
/** IEEE fma in f32: a * b is exact in a double for f32 operands. */
const fmaF32 = (a: number, b: number, c: number): number => roundSum(a * b, c, fr);

const isF16NaN = (bits: number): boolean => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
const isBF16NaN = (bits: number): boolean => (bits & 0x7f80) === 0x7f80 && (bits & 0x7f) !== 0;

/**
 * 16-bit results as bit patterns: exact, except that any NaN matches any NaN (the PTX ISA leaves
 * the NaN payload of f16/bf16 arithmetic and conversions to the implementation).
 */
function expect16(got: readonly number[], want: readonly number[], isNaN16: (b: number) => boolean, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const ok = isNaN16(want[i]) ? isNaN16(got[i]) : got[i] === want[i];
    if (!ok) {
      count++;
      if (bad.length < 6) bad.push(`[${i}] got 0x${got[i]?.toString(16)} want 0x${want[i].toString(16)}`);
    }
  }
  expect(count, `${label}: ${count} mismatches: ${bad.join(', ')}`).toBe(0);
}

const popc32 = (x: number): number => {
  let c = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) c++;
  return c;
};
const brev32 = (x: number): number => {
  let r = 0;
  for (let k = 0; k < 32; k++) r = (r << 1) | ((x >>> k) & 1);
  return r >>> 0;
};
const M64 = (1n << 64n) - 1n;
const brev64 = (x: bigint): bigint => {
  let r = 0n;
  for (let k = 0n; k < 64n; k++) r = (r << 1n) | ((x >> k) & 1n);
  return r;
};
const clz64 = (x: bigint): number => {
  let n = 0;
  for (let k = 63n; k >= 0n && ((x >> k) & 1n) === 0n; k--) n++;
  return n;
};
const popc64 = (x: bigint): number => popc32(Number(x & 0xffffffffn)) + popc32(Number(x >> 32n));
const bit = (x: number, k: number): number => (x >>> k) & 1;

/** PTX prmt.b32 (default mode): selector nibble bits 0-2 pick a byte of {b, a}, bit 3 replicates its sign. */
function prmt(a: number, b: number, c: number): number {
  const bytes = [a, a >>> 8, a >>> 16, a >>> 24, b, b >>> 8, b >>> 16, b >>> 24].map((v) => v & 0xff);
  let r = 0;
  for (let k = 0; k < 4; k++) {
    const sel = (c >>> (4 * k)) & 0xf;
    let byte = bytes[sel & 7];
    if (sel & 8) byte = byte & 0x80 ? 0xff : 0;
    r |= byte << (8 * k);
  }
  return r >>> 0;
}

/** PTX bfe.u32 / bfe.s32, from the ISA pseudocode (pos and len use their low 8 bits). */
function bfe32(a: number, b: number, c: number, signed: boolean): number {
  const pos = b & 0xff;
  const len = c & 0xff;
  const sbit = !signed || len === 0 ? 0 : bit(a, Math.min(pos + len - 1, 31));
  let d = 0;
  for (let i = 0; i <= 31; i++) d |= (i < len && pos + i <= 31 ? bit(a, pos + i) : sbit) << i;
  return d >>> 0;
}

/** PTX bfi.b32 f, a, b, c, d: insert the low d bits of a into b at bit c. */
function bfi32(a: number, b: number, c: number, d: number): number {
  const pos = c & 0xff;
  const len = d & 0xff;
  let f = b >>> 0;
  for (let i = 0; i < len && pos + i <= 31; i++) f = ((f & ~(1 << (pos + i))) | (bit(a, i) << (pos + i))) >>> 0;
  return f;
}

/** An f32 bit pattern as a number. */
const f32FromBits = (bits: number): number => {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, bits >>> 0);
  return v.getFloat32(0);
};

// ---------------------------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------------------------

describe.each(ARCHES)('CUDA corpus through the emulator (%s)', (arch) => {
  it('block_reduce_sum: warp shuffles + shared cross-warp step, one partial per block', () => {
    const seed = SEED + 1;
    const rng = makeRng(seed);
    const n = 1000;
    const [grid, block] = [3, 128];
    const x = Array.from({ length: n }, () => fr(rng.normal()));
    const label = `block_reduce_sum ${arch} n=${n} seed=${seed}`;
    const res = run('block_reduce', arch, 'block_reduce_sum', { grid: [grid, 1, 1], block: [block, 1, 1] }, [ptr('f32', x), out('f32', grid), i32(n)], label);
    expectClean(res, label);

    // The reference repeats the kernel's f32 operations in the same order (grid-stride
    // accumulation, then two shfl_down trees), and f32 addition is commutative, so the partials
    // match bit for bit.
    const warpReduce = (v: number[]): number => {
      let cur = v.slice();
      for (let off = 16; off > 0; off >>= 1) cur = cur.map((val, l) => fr(val + (l + off < 32 ? cur[l + off] : val)));
      return cur[0];
    };
    const want: number[] = [];
    for (let b = 0; b < grid; b++) {
      const v = Array.from({ length: block }, (_, t) => {
        let s = 0;
        for (let i = b * block + t; i < n; i += block * grid) s = fr(s + x[i]);
        return s;
      });
      const sums = Array.from({ length: block / 32 }, (_, w) => warpReduce(v.slice(32 * w, 32 * w + 32)));
      want.push(warpReduce(Array.from({ length: 32 }, (_, l) => (l < sums.length ? sums[l] : 0))));
    }
    expectExact(nums(res, 1), want, label);
  });

  for (const [kernel, padded] of [['transpose', true], ['transpose_nopad', false]] as const) {
    it(`${kernel}: tiled 32x32 shared-memory transpose, ragged edges, bank conflicts ${padded ? 'avoided' : 'present'}`, () => {
      const seed = SEED + (padded ? 2 : 3);
      const rng = makeRng(seed);
      const [rows, cols] = [40, 50];
      const x = Array.from({ length: rows * cols }, () => fr(rng.normal()));
      const label = `${kernel} ${arch} ${rows}x${cols} seed=${seed}`;
      const launch: LaunchConfig = { grid: [Math.ceil(cols / 32), Math.ceil(rows / 32), 1], block: [32, 8, 1] };
      const res = run('transpose', arch, kernel, launch, [out('f32', rows * cols), ptr('f32', x), i32(rows), i32(cols)], label);
      expectClean(res, label);
      const want = Array.from({ length: rows * cols }, (_, k) => x[(k % rows) * cols + Math.floor(k / rows)]);
      expectExact(nums(res, 0), want, label);

      expect(res.stats.shared.requests, `${label}: shared-memory requests`).toBeGreaterThan(0);
      if (padded) {
        // Row writes hit consecutive banks; column reads stride 33 words, i.e. 32 distinct banks.
        expect(res.stats.shared.conflictWavefronts, `${label}: padded tile is conflict-free`).toBe(0);
      } else {
        // Column reads stride 32 words: all lanes of a warp in one bank.
        expect(res.stats.shared.conflictWavefronts, `${label}: unpadded tile has bank conflicts`).toBeGreaterThan(0);
      }
    });
  }

  it('histogram: shared-memory atomicAdd bins merged into global bins', () => {
    const seed = SEED + 4;
    const rng = makeRng(seed);
    const n = 3000;
    const values = Array.from({ length: n }, () => u32rand(rng));
    const label = `histogram ${arch} n=${n} seed=${seed}`;
    const res = run('histogram', arch, 'histogram', { grid: [4, 1, 1], block: [128, 1, 1] }, [ptr('u32', values), { type: 'ptr', dtype: 'u32', size: 64, fill: 'zero' }, i32(n)], label);
    expectClean(res, label);
    const want = new Array<number>(64).fill(0);
    for (const v of values) want[v % 64]++;
    expectExact(nums(res, 1), want, label);
  });

  it('atomics_misc: CAS float max, min/max/and/or/xor/inc/exch, 64-bit and float add', () => {
    const seed = SEED + 5;
    const rng = makeRng(seed);
    const n = 300;
    const [grid, block] = [3, 128];
    const incLimit = 37;
    const ivals = Array.from({ length: n }, () => u32rand(rng) | 0);
    const fvals = Array.from({ length: n }, () => fr(rng.normal() * 10));
    const exchInit = 0x12345678;
    const label = `atomics_misc ${arch} n=${n} seed=${seed}`;
    const res = run(
      'histogram',
      arch,
      'atomics_misc',
      { grid: [grid, 1, 1], block: [block, 1, 1] },
      [
        ptr('i32', ivals),
        ptr('f32', fvals),
        ptr('i32', [2147483647, -2147483648]), // iresult: min, max
        ptr('u32', [0xffffffff, 0, 0, 0, exchInit]), // uresult: and, or, xor, inc counter, exch slot
        ptr('f32', [-Infinity, 0]), // fresult: CAS max, sum
        out('f32', grid), // fblock
        ptr('u64', [5n]), // wide_sum
        out('u32', n), // exch_old
        out('u32', n), // inc_old
        u32(incLimit),
        i32(n),
      ],
      label,
    );
    expectClean(res, label);
    const us = ivals.map((v) => v >>> 0);
    expectExact(nums(res, 2), [Math.min(...ivals), Math.max(...ivals)], `${label}: atomicMin/atomicMax`);

    const [andR, orR, xorR, incR, exchR] = nums(res, 3);
    expect(andR, `${label}: atomicAnd`).toBe(us.reduce((acc, u) => (acc & (u | 0x80000001)) >>> 0, 0xffffffff));
    expect(orR, `${label}: atomicOr`).toBe(us.reduce((acc, u) => (acc | (u & 0x0f0f0f0f)) >>> 0, 0));
    expect(xorR, `${label}: atomicXor`).toBe(us.reduce((acc, u) => (acc ^ u) >>> 0, 0));
    // atomicInc: old >= limit ? 0 : old + 1, so n increments from 0 end at n mod (limit + 1) and hand
    // out 0, 1, ..., limit, 0, 1, ... in some order.
    expect(incR, `${label}: atomicInc counter`).toBe(n % (incLimit + 1));
    const sorted = (a: readonly number[]): number[] => [...a].sort((p, q) => p - q);
    expectExact(sorted(nums(res, 8)), sorted(Array.from({ length: n }, (_, k) => k % (incLimit + 1))), `${label}: atomicInc old values`);
    // atomicExch: the old values plus the final value are the initial value plus every thread's value.
    expectExact(sorted([...nums(res, 7), exchR]), sorted([exchInit, ...us]), `${label}: atomicExch old values`);

    const [fmax, fsum] = nums(res, 4);
    expect(fmax, `${label}: CAS-loop float max`).toBe(Math.max(...fvals));
    // Integer-valued addends with a total below 2^24: exact in f32 in any order.
    expect(fsum, `${label}: float atomicAdd`).toBe(ivals.reduce((acc, v) => acc + (v & 0xff), 0));
    const blockMax = Array.from({ length: grid }, (_, b) => Math.max(...fvals.slice(b * block, Math.min(n, (b + 1) * block))));
    expectExact(nums(res, 5), blockMax, `${label}: per-block CAS max in shared memory`);
    const wide = us.reduce((acc, u) => (acc + (BigInt(u) << 8n)) & M64, 5n);
    expectExact(bigs(res, 6), [wide], `${label}: 64-bit atomicAdd`);
  });

  for (const kernel of ['scan_hillis_steele', 'scan_warp_shuffle'] as const) {
    it(`${kernel}: block-wide inclusive scan in dynamic shared memory`, () => {
      const seed = SEED + (kernel === 'scan_hillis_steele' ? 6 : 7);
      const rng = makeRng(seed);
      const n = 700;
      const block = 128;
      const grid = Math.ceil(n / block);
      const x = Array.from({ length: n }, () => intIn(rng, -1000, 1000));
      const smem = kernel === 'scan_hillis_steele' ? 2 * block * 4 : (block / 32) * 4;
      const label = `${kernel} ${arch} n=${n} seed=${seed}`;
      const res = run('scan', arch, kernel, { grid: [grid, 1, 1], block: [block, 1, 1], dynamicSmem: smem }, [ptr('i32', x), out('i32', n), out('i32', grid), i32(n)], label);
      expectClean(res, label);
      const want: number[] = [];
      const sums: number[] = [];
      for (let b = 0; b < grid; b++) {
        let acc = 0;
        for (let t = 0; t < block; t++) {
          const i = b * block + t;
          acc += i < n ? x[i] : 0;
          if (i < n) want.push(acc);
        }
        sums.push(acc);
      }
      expectExact(nums(res, 1), want, `${label}: scan`);
      expectExact(nums(res, 2), sums, `${label}: block sums`);
    });
  }

  for (const [kernel, tol] of [
    // expf is within 2 ulp; the f32 row sum of positive terms goes through at most ~15 roundings
    // (3 strided adds, two 5-level shuffle trees) and the output through 2 more (rcp, mul):
    // |rel err| < ~20 * 2^-24 ≈ 1.2e-6, so 1e-5 leaves margin without hiding a wrong exponent.
    ['softmax_rows', 1e-5],
    // __expf is ex2.approx(x * log2 e): CUDA documents 2 + floor(|1.173 x|) ulp; inputs here keep
    // |x - max| < 30, so < 40 ulp ≈ 5e-6 per exponential; 5e-5 covers it and the sums.
    ['softmax_rows_fast', 5e-5],
  ] as const) {
    it(`${kernel}: row softmax with block-wide max and sum reductions`, () => {
      const seed = SEED + (kernel === 'softmax_rows' ? 8 : 9);
      const rng = makeRng(seed);
      const [rows, cols, block] = [3, 300, 128];
      const x = Array.from({ length: rows * cols }, () => fr(rng.normal() * 3));
      const label = `${kernel} ${arch} ${rows}x${cols} seed=${seed}`;
      const res = run('softmax', arch, kernel, { grid: [rows, 1, 1], block: [block, 1, 1] }, [ptr('f32', x), out('f32', rows * cols), i32(cols)], label);
      expectClean(res, label);
      const want: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = x.slice(r * cols, (r + 1) * cols);
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const s = e.reduce((p, q) => p + q, 0);
        want.push(...e.map((v) => v / s));
      }
      expectRel(nums(res, 1), want, tol, label);
    });
  }

  describe('half_convert', () => {
    it('convert_f32: __float2half_rn / __float2bfloat16_rn and back, at ties, subnormals, overflow, NaN', () => {
      const seed = SEED + 10;
      const rng = makeRng(seed);
      const edges = [
        0, -0, 1, -1, Infinity, -Infinity, NaN,
        65504, 65505, 65519, 65519.99, 65520, -65520, 65536, 1e6, 1e38,
        1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 2049, 2051, -2051, 0.1, 1 / 3,
        2 ** -14, 2 ** -14 - 2 ** -25, 2 ** -15, 2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 3 * 2 ** -25, 2 ** -25 + 2 ** -40, -(2 ** -24), 2 ** -26,
        2 ** -149, 1e-40, -1e-40, 2 ** -126, 2 ** -130 * 1.75,
        1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -(1 + 3 * 2 ** -8), 257, 259,
        3.4028234663852886e38, 3.3895313892515355e38, 3.3895314e38, -3.4e38, (2 - 2 ** -8) * 2 ** 127,
      ];
      const n = 100;
      const x = Array.from({ length: n }, (_, i) =>
        fr(i < edges.length ? edges[i] : rng.normal() * (i % 3 === 0 ? 3e4 : i % 3 === 1 ? 1 : 1e-5)),
      );
      const label = `convert_f32 ${arch} seed=${seed}`;
      const res = run(
        'half_convert',
        arch,
        'convert_f32',
        { grid: [2, 1, 1], block: [64, 1, 1] },
        [ptr('f32', x), out('u16', n), out('f32', n), out('u16', n), out('f32', n), i32(n)],
        label,
      );
      expectClean(res, label);
      // float-rounding.ts rounds once from the exact f32 value (round to nearest even, overflow to inf).
      expect16(nums(res, 1), x.map(f16ToBits), isF16NaN, `${label}: f16 bits`);
      expectExact(nums(res, 2), x.map(roundF16), `${label}: __half2float(__float2half_rn(x))`);
      expect16(nums(res, 3), x.map(bf16ToBits), isBF16NaN, `${label}: bf16 bits`);
      expectExact(nums(res, 4), x.map(roundBF16), `${label}: __bfloat162float(__float2bfloat16_rn(x))`);
    });

    it('widen_16: every class of f16 / bf16 bit pattern widens exactly to f32', () => {
      const seed = SEED + 11;
      const rng = makeRng(seed);
      const hEdges = [0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x3c00, 0x3c01, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xffff, 0x3555];
      const bEdges = [0x0000, 0x8000, 0x0001, 0x807f, 0x007f, 0x0080, 0x3f80, 0x3f81, 0x7f7f, 0xff7f, 0x7f80, 0xff80, 0x7fc0, 0x7f81, 0xffff, 0x3eab];
      const n = 70;
      const h = Array.from({ length: n }, (_, i) => (i < hEdges.length ? hEdges[i] : intIn(rng, 0, 0xffff)));
      const b = Array.from({ length: n }, (_, i) => (i < bEdges.length ? bEdges[i] : intIn(rng, 0, 0xffff)));
      const label = `widen_16 ${arch} seed=${seed}`;
      const res = run('half_convert', arch, 'widen_16', { grid: [2, 1, 1], block: [64, 1, 1] }, [ptr('u16', h), ptr('u16', b), out('f32', n), out('f32', n), i32(n)], label);
      expectClean(res, label);
      expectExact(nums(res, 2), h.map(f16FromBits), `${label}: f16 -> f32`);
      // bf16 -> f32 is a 16-bit shift of the bit pattern.
      expectExact(nums(res, 3), b.map((v) => f32FromBits(v << 16)), `${label}: bf16 -> f32`);
    });

    for (const fmt of ['f16', 'bf16'] as const) {
      const kernel = fmt === 'f16' ? 'half_arith' : 'bf16_arith';
      it(`${kernel}: __hadd2 / __hmul2 on pairs and __hfma, at ties, subnormals, overflow, NaN`, () => {
        const seed = SEED + (fmt === 'f16' ? 12 : 13);
        const rng = makeRng(seed);
        const round = fmt === 'f16' ? roundF16 : roundBF16;
        const toBits = fmt === 'f16' ? f16ToBits : bf16ToBits;
        const fromBits = fmt === 'f16' ? f16FromBits : bf16FromBits;
        const isNaN16 = fmt === 'f16' ? isF16NaN : isBF16NaN;
        const max = fmt === 'f16' ? 65504 : 3.3895313892515355e38;
        const ulp1 = fmt === 'f16' ? 2 ** -10 : 2 ** -7; // ulp of 1
        const tiny = fmt === 'f16' ? 2 ** -24 : 2 ** -133; // smallest subnormal
        const minNormal = fmt === 'f16' ? 2 ** -14 : 2 ** -126;
        // [a, b, c]: sums a+b, products a*b, fma a*b+c.
        const edges: [number, number, number][] = [
          [max, max, -max], // sum and product overflow; fma overflows too
          [max, -max, max],
          [1, ulp1 / 2, -1], // tie: 1 + ulp/2 -> 1 (even)
          [1 + ulp1, ulp1 / 2, ulp1 / 2], // tie: -> 1 + 2 ulp (even)
          [1 + ulp1, 1 - ulp1, -1], // fma keeps the low bits the product would lose
          [minNormal, 0.5, tiny], // subnormal product
          [tiny, tiny, tiny], // product underflows to 0
          [-tiny, tiny, -0], // -0 results
          [-0, -0, -0],
          [0, -0, 0],
          [Infinity, -Infinity, 1], // NaN
          [NaN, 1, 2],
          [Infinity, 0, 1], // inf * 0: NaN
          [3, 1 / 3, -1],
          [-2.5, 1.75, 0.125],
          [1 + ulp1, 1 + ulp1, -(1 + 2 * ulp1)],
        ];
        const n = 96;
        const cols: number[][] = [[], [], []];
        for (let i = 0; i < n; i++) {
          const e = i < edges.length ? edges[i] : undefined;
          for (let j = 0; j < 3; j++) {
            const scale = j === 2 ? 4 : i % 2 ? 0.25 : 8;
            cols[j].push(round(e ? e[j] : rng.normal() * scale));
          }
        }
        const [a, b, c] = cols.map((col) => col.map(toBits));
        const [av, bv, cv] = cols;
        const label = `${kernel} ${arch} seed=${seed}`;
        const res = run(
          'half_convert',
          arch,
          kernel,
          { grid: [2, 1, 1], block: [64, 1, 1] },
          [ptr('u16', a), ptr('u16', b), ptr('u16', c), out('u16', n), out('u16', n), out('u16', n), i32(n)],
          label,
        );
        expectClean(res, label);
        // Each result is one rounding of the exact value: products of two 16-bit floats are exact
        // in a double; sums go through roundSum.
        expect(av.every((v, i) => Object.is(v, fromBits(a[i])) || Number.isNaN(v)), 'inputs survive the bit round trip').toBe(true);
        expect16(nums(res, 3), av.map((v, i) => toBits(roundSum(v, bv[i], round))), isNaN16, `${label}: __hadd2`);
        expect16(nums(res, 4), av.map((v, i) => toBits(round(v * bv[i]))), isNaN16, `${label}: __hmul2`);
        expect16(nums(res, 5), av.map((v, i) => toBits(roundSum(v * bv[i], cv[i], round))), isNaN16, `${label}: __hfma`);
      });
    }
  });

  it('vote_bits: votes, activemask under divergence, match/reduce/shuffle, bit tricks', () => {
    const seed = SEED + 14;
    const rng = makeRng(seed);
    const n = 150; // block 2's first warp has 22 live lanes, its second none
    const [grid, block] = [3, 64];
    const a = Array.from({ length: n }, () => u32rand(rng));
    const b = Array.from({ length: n }, () => u32rand(rng));
    a[5] = 0; // clz 32, ffs 0
    a[6] = 0x80000000;
    for (let i = 0; i < 32; i++) a[i] = (a[i] | 1) >>> 0; // warp 0: __all_sync true, x & 0x3f != 0
    for (let i = 32; i < 64; i++) a[i] = ((a[i] & ~0xff) | i) >>> 0; // warp 1: __match_all_sync true (low byte < 250)
    a[70] = (a[70] & ~0x3f) >>> 0; // warp 2: __all_sync false
    const label = `vote_bits ${arch} n=${n} seed=${seed}`;
    const NOUT = 36;
    const res = run('vote_bits', arch, 'vote_bits', { grid: [grid, 1, 1], block: [block, 1, 1] }, [ptr('u32', a), ptr('u32', b), out('u32', n * NOUT), out('u64', n * 4), i32(n)], label);
    expectClean(res, label);

    const want: number[] = [];
    const want64: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const base = i & ~31;
      const lane = i & 31;
      const lanes = Array.from({ length: 32 }, (_, l) => base + l).filter((j) => j < n);
      const ballot = (pred: (j: number) => boolean): number => lanes.reduce((m, j) => (pred(j) ? m | (1 << (j & 31)) : m), 0) >>> 0;
      const mask = ballot(() => true);
      const x = a[i];
      const y = b[i];
      const o = new Array<number>(NOUT).fill(0);
      o[0] = ballot((j) => (a[j] & 1) === 1);
      o[1] = lanes.some((j) => a[j] >>> 28 === 0xf && (b[j] & 3) === 0) ? 1 : 0;
      o[2] = lanes.every((j) => (a[j] & 0x3f) !== 0) ? 1 : 0;
      o[3] = x & 2 ? ballot((j) => (a[j] & 2) !== 0) : 0;
      o[4] = x & 4 ? ballot((j) => (a[j] & 4) !== 0 && (b[j] & 1) === 1) : 0xdeadbeef;
      o[5] = popc32(x);
      o[6] = Math.clz32(x);
      o[7] = brev32(x);
      o[8] = prmt(x, y, y & 0x7777);
      o[9] = prmt(x, y, y >>> 16);
      const sl = (y >>> 8) & 31;
      o[10] = sl === 0 ? y : ((y << sl) | (x >>> (32 - sl))) >>> 0;
      const slc = Math.min((y >>> 8) & 63, 32);
      o[11] = slc === 0 ? y : slc === 32 ? x : ((y << slc) | (x >>> (32 - slc))) >>> 0;
      const sr = (y >>> 3) & 31;
      o[12] = sr === 0 ? x : ((x >>> sr) | (y << (32 - sr))) >>> 0;
      o[13] = ballot((j) => (a[j] & 3) === (x & 3));
      const mv = (j: number): number => ((a[j] & 0xff) < 250 ? 7 : a[j]);
      const allEqual = lanes.every((j) => mv(j) === mv(i));
      o[14] = allEqual ? mask : 0;
      o[15] = allEqual ? 1 : 0;
      o[16] = lanes.reduce((s, j) => (s + (a[j] & 0xffff)) >>> 0, 0);
      o[17] = Math.min(...lanes.map((j) => a[j] | 0)) >>> 0;
      o[18] = Math.max(...lanes.map((j) => b[j]));
      o[19] = lanes.reduce((s, j) => (s & (a[j] | b[j])) >>> 0, 0xffffffff);
      o[20] = lanes.reduce((s, j) => (s | (a[j] & b[j])) >>> 0, 0);
      o[21] = lanes.reduce((s, j) => (s ^ a[j]) >>> 0, 0);
      o[22] = Number((BigInt(x) * BigInt(y)) >> 32n);
      o[23] = Number(BigInt.asUintN(32, (BigInt(x | 0) * BigInt(y | 0)) >> 32n));
      o[24] = (x >>> 7) & 0x3ff;
      o[25] = ((x << 9) >> 20) >>> 0;
      o[26] = bfe32(x, y & 0x3f, (y >>> 6) & 0x3f, false);
      o[27] = bfe32(x, y & 0x3f, (y >>> 6) & 0x3f, true);
      o[28] = bfi32(y, x, (y >>> 12) & 0x3f, (y >>> 18) & 0x3f);
      o[29] = x === 0 ? 0 : 32 - Math.clz32(x & -x);
      const p = (BigInt(x) << 32n) | BigInt(y);
      const q = (BigInt(Math.imul(y, 2654435761) >>> 0) << 32n) | BigInt((x ^ y) >>> 0);
      o[30] = clz64(q >> BigInt(x & 63));
      o[31] = popc64(p);
      o[32] = a[base + ((y & 31) % lanes.length)];
      if (mask === 0xffffffff) {
        o[33] = a[lane % 8 >= 3 ? i - 3 : i];
        o[34] = a[(lane % 16) + 5 < 16 ? i + 5 : i];
        o[35] = a[base + (lane ^ 6)];
      }
      want.push(...o);
      const sp = BigInt.asIntN(64, p);
      const sq = BigInt.asIntN(64, q);
      want64.push((p * q) >> 64n, BigInt.asUintN(64, (sp * sq) >> 64n), brev64(p), (p * q + (q >> BigInt(y & 63))) & M64);
    }
    const got = nums(res, 2);
    const slots = ['ballot', 'any', 'all', 'activemask in branch', 'ballot in branch', 'popc', 'clz', 'brev', 'byte_perm', 'prmt sign', 'funnelshift_l', 'funnelshift_lc', 'funnelshift_r', 'match_any', 'match_all', 'match_all pred', 'reduce_add', 'reduce_min', 'reduce_max', 'reduce_and', 'reduce_or', 'reduce_xor', 'umulhi', 'mulhi', 'shift-mask field', 'signed field', 'bfe.u32', 'bfe.s32', 'bfi.b32', 'ffs', 'clzll', 'popcll', 'shfl idx', 'shfl up w8', 'shfl down w16', 'shfl xor w16'];
    for (let k = 0; k < NOUT; k++) {
      const pick = (arr: readonly number[]): number[] => Array.from({ length: n }, (_, i) => arr[i * NOUT + k]);
      expectExact(pick(got), pick(want), `${label}: slot ${k} (${slots[k]})`);
    }
    const got64 = bigs(res, 3);
    const names64 = ['umul64hi', 'mul64hi', 'brevll', 'mul.lo.u64 + shr'];
    for (let k = 0; k < 4; k++) {
      const pick = (arr: readonly bigint[]): bigint[] => Array.from({ length: n }, (_, i) => arr[i * 4 + k]);
      expectExact(pick(got64), pick(want64), `${label}: 64-bit slot ${k} (${names64[k]})`);
    }
  });

  describe('mma_ldmatrix', () => {
    // Inputs are multiples of 1/4 in [-2, 2] and accumulators multiples of 1/4 in [-4, 4]: every
    // product and partial sum is exact in f32 (and in f16 for the f16-accumulator variant), so the
    // tensor-core result is exact whatever order the hardware adds in.
    const quarter = (rng: Rng, lim: number): number => intIn(rng, -4 * lim, 4 * lim) / 4;
    const batch = 2;

    it('mma_f16_m16n8k16: ldmatrix.x4 (A) + ldmatrix.x4.trans (B), two m16n8k16 f32-accumulate mma', () => {
      const seed = SEED + 15;
      const rng = makeRng(seed);
      const A = Array.from({ length: batch * 256 }, () => quarter(rng, 2));
      const B = Array.from({ length: batch * 256 }, () => quarter(rng, 2));
      const C = Array.from({ length: batch * 256 }, () => quarter(rng, 4));
      const label = `mma_f16_m16n8k16 ${arch} seed=${seed}`;
      const res = run('mma_ldmatrix', arch, 'mma_f16_m16n8k16', { grid: [batch, 1, 1], block: [32, 1, 1] }, [ptr('f16', A), ptr('f16', B), ptr('f32', C), out('f32', batch * 256)], label);
      expectClean(res, label);
      const want: number[] = [];
      for (let t = 0; t < batch; t++)
        for (let r = 0; r < 16; r++)
          for (let c = 0; c < 16; c++) {
            let s = C[t * 256 + r * 16 + c];
            for (let k = 0; k < 16; k++) s += A[t * 256 + r * 16 + k] * B[t * 256 + k * 16 + c];
            want.push(s);
          }
      expectExact(nums(res, 3), want, label);
    });

    it('mma_bf16_m16n8k16: ldmatrix.x4 (A) + ldmatrix.x2 on column-major B, bf16 mma', () => {
      const seed = SEED + 16;
      const rng = makeRng(seed);
      const A = Array.from({ length: batch * 256 }, () => quarter(rng, 2));
      const Bt = Array.from({ length: batch * 128 }, () => quarter(rng, 2));
      const C = Array.from({ length: batch * 128 }, () => quarter(rng, 4));
      const label = `mma_bf16_m16n8k16 ${arch} seed=${seed}`;
      const res = run('mma_ldmatrix', arch, 'mma_bf16_m16n8k16', { grid: [batch, 1, 1], block: [32, 1, 1] }, [ptr('bf16', A), ptr('bf16', Bt), ptr('f32', C), out('f32', batch * 128)], label);
      expectClean(res, label);
      const want: number[] = [];
      for (let t = 0; t < batch; t++)
        for (let r = 0; r < 16; r++)
          for (let c = 0; c < 8; c++) {
            let s = C[t * 128 + r * 8 + c];
            for (let k = 0; k < 16; k++) s += A[t * 256 + r * 16 + k] * Bt[t * 128 + c * 16 + k];
            want.push(s);
          }
      expectExact(nums(res, 3), want, label);
    });

    it('mma_f16_m16n8k8: ldmatrix.x2 + ldmatrix.x1.trans, f32 and f16 accumulators', () => {
      const seed = SEED + 17;
      const rng = makeRng(seed);
      const A = Array.from({ length: batch * 128 }, () => quarter(rng, 2));
      const B = Array.from({ length: batch * 64 }, () => quarter(rng, 2));
      const C32 = Array.from({ length: batch * 128 }, () => quarter(rng, 4));
      const C16 = Array.from({ length: batch * 128 }, () => quarter(rng, 4));
      const label = `mma_f16_m16n8k8 ${arch} seed=${seed}`;
      const res = run(
        'mma_ldmatrix',
        arch,
        'mma_f16_m16n8k8',
        { grid: [batch, 1, 1], block: [32, 1, 1] },
        [ptr('f16', A), ptr('f16', B), ptr('f32', C32), ptr('f16', C16), out('f32', batch * 128), out('f16', batch * 128)],
        label,
      );
      expectClean(res, label);
      const want32: number[] = [];
      const want16: number[] = [];
      for (let t = 0; t < batch; t++)
        for (let r = 0; r < 16; r++)
          for (let c = 0; c < 8; c++) {
            let s = 0;
            for (let k = 0; k < 8; k++) s += A[t * 128 + r * 8 + k] * B[t * 64 + k * 8 + c];
            want32.push(s + C32[t * 128 + r * 8 + c]);
            want16.push(s + C16[t * 128 + r * 8 + c]);
          }
      expectExact(nums(res, 4), want32, `${label}: f32 accumulate`);
      expectExact(nums(res, 5), want16, `${label}: f16 accumulate`);
    });
  });

  describe('cp_async', () => {
    it('the PTX has cp.async, commit_group and wait_group', () => {
      const text = loadPtx('cp_async', arch);
      expect(text).toMatch(/\bcp\.async\.ca\.shared\.global\b/);
      expect(text).toMatch(/\bcp\.async\.cg\.shared\.global\b/);
      expect(text).toMatch(/\bcp\.async\.commit_group\b/);
      expect(text).toMatch(/\bcp\.async\.wait_group\b/);
    });

    it('cp_async_pipeline: double-buffered 4-byte copies, neighbour read after wait + barrier', () => {
      const seed = SEED + 18;
      const rng = makeRng(seed);
      const n = 1000; // 8 tiles of 128 over 3 blocks: each block loops 2-3 times
      const alpha = 0.75;
      const x = Array.from({ length: n }, () => fr(rng.normal()));
      const label = `cp_async_pipeline ${arch} n=${n} seed=${seed}`;
      const res = run('cp_async', arch, 'cp_async_pipeline', { grid: [3, 1, 1], block: [128, 1, 1] }, [ptr('f32', x), out('f32', n), i32(n), f32(alpha)], label);
      expectClean(res, label);
      // nvcc contracts x + a * right into one fma.rn.f32; fmaF32 rounds the exact value once.
      const want = x.map((v, i) => fmaF32(alpha, (i ^ 1) < n ? x[i ^ 1] : 0, v));
      expectExact(nums(res, 1), want, label);
    });

    it('cp_async_vec4: 16-byte copies with zero fill for the ragged tail', () => {
      const seed = SEED + 19;
      const rng = makeRng(seed);
      const n = 1001; // 4 tiles of 256 floats over 2 blocks; the last vector has 1 real float + 12 bytes of zero fill
      const [alpha, beta] = [1.5, -0.25];
      const x = Array.from({ length: n }, () => fr(rng.normal()));
      const nv = Math.ceil(n / 4);
      const label = `cp_async_vec4 ${arch} n=${n} seed=${seed}`;
      const res = run('cp_async', arch, 'cp_async_vec4', { grid: [2, 1, 1], block: [64, 1, 1] }, [ptr('f32', x), out('f32', n), out('f32', nv), i32(n), f32(alpha), f32(beta)], label);
      expectClean(res, label);
      expectExact(nums(res, 1), x.map((v) => fmaF32(v, alpha, beta)), `${label}: out`);
      const at = (i: number): number => (i < n ? x[i] : 0);
      const sums = Array.from({ length: nv }, (_, v) => fr(fr(fr(at(4 * v) + at(4 * v + 1)) + at(4 * v + 2)) + at(4 * v + 3)));
      expectExact(nums(res, 2), sums, `${label}: sums of staged vectors (zero fill included)`);
    });
  });

  describe('divergence', () => {
    it('branchy: nested data-dependent branches, loops with continue/break, early return', () => {
      const seed = SEED + 20;
      const rng = makeRng(seed);
      const n = 500;
      const x = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? intIn(rng, 0, 1) : i % 5 === 0 ? intIn(rng, 2, 1_000_000) : intIn(rng, -40, 40)));
      const label = `branchy ${arch} n=${n} seed=${seed}`;
      const res = run('divergence', arch, 'branchy', { grid: [4, 1, 1], block: [128, 1, 1] }, [ptr('i32', x), out('i32', n), i32(n)], label);
      expectClean(res, label);
      const want = x.map((v) => {
        if (v < 0) {
          if (v & 1) return -v;
          let acc = 0;
          for (let k = 0; k < (-v & 15); k++) if (k % 3 !== 0) acc = (acc + Math.imul(k, v)) | 0;
          return acc;
        }
        if (v <= 1) return 1000 + v;
        let w = v >>> 0;
        let acc = 0;
        while (w !== 1) {
          w = w & 1 ? (Math.imul(3, w) + 1) >>> 0 : w >>> 1;
          if (++acc >= 60) break;
        }
        return acc;
      });
      expectExact(nums(res, 1), want, label);
    });

    it('nested_loops: loop nest with break, a dense switch and early return without a store', () => {
      const seed = SEED + 21;
      const rng = makeRng(seed);
      const n = 500;
      const x = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? u32rand(rng) | 0 : intIn(rng, -5000, 5000)));
      const sentinel = -7;
      const label = `nested_loops ${arch} n=${n} seed=${seed}`;
      const res = run('divergence', arch, 'nested_loops', { grid: [4, 1, 1], block: [128, 1, 1] }, [ptr('i32', x), ptr('i32', new Array<number>(n).fill(sentinel)), i32(n)], label);
      expectClean(res, label);
      const want = x.map((v) => {
        let acc = 0;
        for (let r = 0; r < (v & 7); r++) {
          let y = (v >> 3) + r;
          while (y > 0) {
            if ((y & 3) === 3) break;
            acc += y & 7;
            y >>= 2;
          }
          switch ((v >> r) & 7) {
            case 0: acc += 1; break;
            case 1: acc ^= 0x55; break;
            case 2: acc = Math.imul(acc, 3); break;
            case 3: acc -= 7; break;
            case 4: acc <<= 1; break;
            case 5: acc |= 0x100; break;
            case 6: acc = (acc / 3) | 0; break; // truncates toward zero, and never yields -0
            default: acc += r; break;
          }
          if (acc > 2000) return sentinel;
        }
        return acc;
      });
      expectExact(nums(res, 1), want, label);
    });

    it('warp_exchange: shared-memory exchange ordered by __syncwarp only', () => {
      const seed = SEED + 22;
      const rng = makeRng(seed);
      const n = 200; // the last block has 8 live threads
      const x = Array.from({ length: n }, () => intIn(rng, -1000, 1000));
      const label = `warp_exchange ${arch} n=${n} seed=${seed}`;
      const res = run('divergence', arch, 'warp_exchange', { grid: [4, 1, 1], block: [64, 1, 1] }, [ptr('i32', x), out('i32', n), i32(n)], label);
      expectClean(res, label);
      const v = (i: number): number => (i < n ? x[i] : 0);
      const want = x.map((_, i) => v(i) + v(i ^ 1) + v(i ^ 2) + v(i ^ 3));
      expectExact(nums(res, 1), want, label);
    });
  });

  describe('planted bugs are found on the marked line', () => {
    it('bug_offbyone: a store one past the end of the output', () => {
      const seed = SEED + 23;
      const rng = makeRng(seed);
      const n = 200;
      const x = Array.from({ length: n }, () => fr(rng.normal()));
      const label = `bug_offbyone ${arch} seed=${seed}`;
      const res = run('bug_offbyone', arch, 'scale_shifted', { grid: [4, 1, 1], block: [64, 1, 1] }, [ptr('f32', x), out('f32', n), i32(n)], label);
      expectFinding(res, 'out-of-bounds', 'bug_offbyone.cu', label);
    });

    it('bug_missing_sync: shared-memory tree reduction without __syncthreads is a race', () => {
      const seed = SEED + 24;
      const rng = makeRng(seed);
      const n = 500;
      const x = Array.from({ length: n }, () => fr(rng.normal()));
      const label = `bug_missing_sync ${arch} seed=${seed}`;
      const res = run('bug_missing_sync', arch, 'reduce_no_sync', { grid: [2, 1, 1], block: [256, 1, 1] }, [ptr('f32', x), out('f32', 2), i32(n)], label);
      expectFinding(res, 'shared-race', 'bug_missing_sync.cu', label);
    });

    it('bug_uninit_shared: the stencil reads halo slots no thread wrote', () => {
      const seed = SEED + 25;
      const rng = makeRng(seed);
      const n = 200;
      const x = Array.from({ length: n }, () => fr(rng.normal()));
      const label = `bug_uninit_shared ${arch} seed=${seed}`;
      const res = run('bug_uninit_shared', arch, 'stencil_no_halo', { grid: [4, 1, 1], block: [64, 1, 1] }, [ptr('f32', x), out('f32', n), i32(n)], label);
      expectFinding(res, 'uninitialized-read', 'bug_uninit_shared.cu', label);
    });

    it('bug_barrier_divergence: __syncthreads inside a branch only some threads take', () => {
      const seed = SEED + 26;
      const rng = makeRng(seed);
      const n = 200;
      const x = Array.from({ length: n }, () => fr(rng.normal())); // about half positive, in every warp
      const label = `bug_barrier_divergence ${arch} seed=${seed}`;
      const res = run('bug_barrier_divergence', arch, 'normalize_positive', { grid: [4, 1, 1], block: [64, 1, 1] }, [ptr('f32', x), out('f32', n), i32(n)], label);
      expectFinding(res, 'barrier-divergence', 'bug_barrier_divergence.cu', label);
    });
  });
});
