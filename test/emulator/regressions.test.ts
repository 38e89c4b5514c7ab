/**
 * Regression tests for PTX-emulator bugs found in review: each `it` runs one kernel from
 * ./regressions/*.cu (compiled by ./regressions/build.sh to sm_80 PTX; the .ptx files are
 * committed) or the hand-edited ./regressions/spin.ptx, and asserts its exact output and its exact
 * list of sanitizer findings. The .cu files say, kernel by kernel, what each one guards against.
 * Clean kernels the reviewer checked that already worked are kept at the end.
 *
 * Buffers come back in pointer-parameter order, so res.buffers[k] is pointer parameter k.
 * Replay a failure with TILEKIT_SEED=<seed in the message>.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emulate, type EmulateOptions } from '../../runtime/emulator/emulate.js';
import { type EmuArg, type EmuResult, EmulatorInputError, type FindingKind, type LaunchConfig } from '../../runtime/emulator/types.js';
import { makeRng, seedFromEnv } from '../support/random.js';
import { bigs, describeFinding, expectClean, expectExact, i32, nums, out, ptr, readPtx, runChecked, zeros } from '../support/emulator.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'regressions');
const SEED = seedFromEnv(0x7e57_b0b5);

// ---------------------------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------------------------

function loadPtx(file: string): string {
  return readPtx(join(DIR, file));
}

/** The 1-based line in regressions/<file> carrying `// BUG:` inside kernel `kernel`'s body. */
function bugLine(file: string, kernel: string): number {
  const lines = readFileSync(join(DIR, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.includes(`void ${kernel}(`));
  if (start < 0) throw new Error(`${file}: no kernel ${kernel}`);
  for (let i = start; i < lines.length && (i === start || !lines[i].includes('__global__')); i++) {
    if (lines[i].includes('// BUG:')) return i + 1;
  }
  throw new Error(`${file}: kernel ${kernel} has no '// BUG:' marker`);
}

function run(file: string, kernel: string, launch: LaunchConfig, args: readonly EmuArg[], label: string, options?: EmulateOptions): EmuResult {
  return runChecked(loadPtx(file), kernel, launch, args, label, options);
}

/** Exactly the finding kinds `kinds` (in order); `where` says what every finding must point at. */
function expectFindings(res: EmuResult, kinds: readonly FindingKind[], where: { readonly line?: number; readonly instruction?: RegExp }, label: string): void {
  const all = res.findings.map(describeFinding).join('; ');
  expect(
    res.findings.map((f) => f.kind),
    `${label}: finding kinds; got [${all}]`,
  ).toEqual(kinds);
  for (const f of res.findings) {
    if (where.line !== undefined) expect(f.source?.line, `${label}: finding at the // BUG: line ${where.line}; got [${all}]`).toBe(where.line);
    if (where.instruction) expect(f.instruction, `${label}: the reported instruction; got [${all}]`).toMatch(where.instruction);
  }
}

const block1 = (x: number): LaunchConfig => ({ grid: [1, 1, 1], block: [x, 1, 1] });

function expectRel(got: readonly number[], want: readonly number[], tol: number, inputs: readonly number[], label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * Math.abs(want[i]))) {
      count++;
      if (bad.length < 6) bad.push(`[${i}] x=${inputs[i]} got ${got[i]} want ${want[i]} rel ${err / Math.abs(want[i])}`);
    }
  }
  expect(count, `${label}: ${count} elements beyond rel ${tol}: ${bad.join(', ')}`).toBe(0);
}

const fr = Math.fround;
const M64 = (1n << 64n) - 1n;
const u64rand = (rng: { next(): number }): bigint =>
  (BigInt(Math.floor(rng.next() * 2 ** 32)) << 32n) | BigInt(Math.floor(rng.next() * 2 ** 32));

// ---------------------------------------------------------------------------------------------
// Fixed emulator bugs
// ---------------------------------------------------------------------------------------------

describe('PTX emulator regressions: fixed bugs', () => {
  it('call_params: two out-of-line calls with .b64 and .b32 call-site params keep their own param layouts', () => {
    const seed = SEED + 1;
    const rng = makeRng(seed);
    const T = 32;
    const p = Array.from({ length: T }, () => rng.normal() * 1000);
    const label = `call_params seed=${seed}`;
    const res = run('calls.ptx', 'call_params', block1(T), [ptr('f64', p), out('f64', T), out('i32', T)], label);
    expectClean(res, label);
    expectExact(nums(res, 0), p, `${label}: p untouched`);
    expectExact(nums(res, 1), p.map((x) => 2 * x), `${label}: out = 2 * p`);
    expectExact(nums(res, 2), Array.from({ length: T }, (_, t) => 2 * t + 1), `${label}: iout = 2t + 1`);
  });

  it('globals_consts: a cvta.const pointer to __constant__ memory passed to a device function', () => {
    const T = 32;
    const k = 3;
    const label = 'globals_consts';
    const res = run('calls.ptx', 'globals_consts', block1(T), [out('f32', T + 2), out('i64', 2), i32(k)], label);
    expectClean(res, label);
    const cTab = [10, 20, 30, 40, 50, 60];
    const gTable = [1.5, 2.5, -3, 4.25, 1e30].map(fr);
    const want = Array.from({ length: T }, (_, t) => fr(cTab[(t + k) % 6] + gTable[t % 5]));
    want.push(210, fr(fr(fr(1.5 + 2.5) - 3) + 4.25));
    expectExact(nums(res, 0), want, `${label}: out (out[32] = sum of c_tab through the device function)`);
    expectExact(bigs(res, 1), [0x123456789abcn, BigInt(T)], `${label}: out64 = {c_big, g_counter}`);
  });

  it('k_sin_d: double sin, whose large-argument reduction runs mad.lo.cc / madc carry chains', () => {
    const seed = SEED + 2;
    const rng = makeRng(seed);
    const T = 64;
    // Magnitudes from 1e-3 to 1e300, so every path of CUDA's sin is taken, including the
    // Payne-Hanek reduction for huge arguments; plus a few fixed ones.
    const x = Array.from({ length: T }, () => (rng.next() < 0.5 ? -1 : 1) * (1 + rng.next()) * 10 ** Math.floor(rng.next() * 300 - 3));
    x.splice(0, 6, 0.5, -2.5, 123456.7, 1e10, 1e22, 1.7976931348623157e308);
    const label = `k_sin_d seed=${seed}`;
    const res = run('math.ptx', 'k_sin_d', block1(T), [ptr('f64', x), out('f64', T)], label);
    expectClean(res, label);
    // CUDA's sin is within 2 ulp of the true value (CUDA C++ Programming Guide, "Mathematical
    // Functions"), V8's Math.sin (fdlibm) within 1: 1e-15 relative (~5-9 ulp) allows both.
    expectRel(nums(res, 1), x.map(Math.sin), 1e-15, x, label);
  });

  it('int128: unsigned __int128 add/multiply through add.cc / addc.cc / mul.hi on 64-bit registers', () => {
    const seed = SEED + 3;
    const rng = makeRng(seed);
    const T = 32;
    const a = Array.from({ length: 2 * T }, () => u64rand(rng));
    a.splice(0, 8, 1n, 2n, 3n, M64, 5n, 0x8000000000000000n, M64, M64);
    const label = `int128 seed=${seed}`;
    const res = run('math.ptx', 'int128', block1(T), [ptr('u64', a), out('u64', 2 * T)], label);
    expectClean(res, label);
    const M128 = (1n << 128n) - 1n;
    const want: bigint[] = [];
    for (let t = 0; t < T; t++) {
      const x = (a[2 * t] << 64n) | a[2 * t + 1];
      const y = (x + (a[2 * t + 1] << 32n) + x * 3n) & M128;
      want.push(y >> 64n, y & M64);
    }
    expectExact(bigs(res, 1), want, label);
  });

  it('mutual_recursion: device functions f <-> g are refused with an EmulatorInputError naming the call line', () => {
    const ptx = loadPtx('calls.ptx');
    let err: unknown;
    try {
      emulate(ptx, 'mutual_recursion', block1(8), [out('i32', 8)]);
    } catch (e) {
      err = e;
    }
    expect(err, 'emulate must throw').toBeInstanceOf(EmulatorInputError);
    const e = err as EmulatorInputError;
    expect(e.message).toMatch(/^\d+:\d+: recursive calls are not supported/);
    expect(e.line, 'the error has a PTX line').toBeTypeOf('number');
    const text = ptx.split('\n')[(e.line ?? 0) - 1] ?? '';
    expect(text, `PTX line ${e.line} is a call`).toMatch(/\bcall\b/);
  });

  it('bug_atomic_uninit: atomics on a never-zeroed shared array are an uninitialized-read', () => {
    const T = 64;
    const label = 'bug_atomic_uninit';
    // in[t] = t: every bin is hit, so the only bug is the atomics' read of undefined bins.
    const res = run('sanitizer.ptx', 'bug_atomic_uninit', block1(T), [ptr('i32', Array.from({ length: T }, (_, t) => t)), out('i32', 8)], label);
    // The atomic is inlined from the CUDA header, and the emulator names the innermost `.loc`
    // (device_atomic_functions.hpp), not the `inlined_at` line in sanitizer.cu: check the instruction.
    expectFindings(res, ['uninitialized-read'], { instruction: /^atom\.shared\.add\.u32\s/ }, label);
  });

  it('bug_atomic_plain: a plain shared store racing with atomics on the same word is a shared-race', () => {
    const label = 'bug_atomic_plain';
    const res = run('sanitizer.ptx', 'bug_atomic_plain', block1(64), [out('i32', 1)], label);
    // The race is between the plain store (the // BUG: line) and the atomicAdd; either access may
    // be the one reported (the atomic's `.loc` is the CUDA header it is inlined from).
    expectFindings(res, ['shared-race'], { instruction: /^(st\.shared\.u32|atom\.shared\.add\.u32)\s/ }, label);
  });

  it('bug_rr_w: lane t writes s[t] after lanes t and t-1 read it, without __syncwarp: a shared-race', () => {
    const label = 'bug_rr_w';
    const res = run('sanitizer.ptx', 'bug_rr_w', block1(32), [ptr('f32', Array.from({ length: 32 }, (_, i) => i)), out('f32', 32)], label);
    expectFindings(res, ['shared-race'], { line: bugLine('sanitizer.cu', 'bug_rr_w') }, label);
  });

  it('named_barrier: bar.arrive (producer warp) / bar.sync (consumer warp) with a thread count is clean', () => {
    const seed = SEED + 4;
    const rng = makeRng(seed);
    const inp = Array.from({ length: 32 }, () => fr(rng.normal()));
    const label = `named_barrier seed=${seed}`;
    const res = run('sync.ptx', 'named_barrier', block1(64), [ptr('f32', inp), out('f32', 32)], label);
    expectClean(res, label);
    expectExact(nums(res, 1), Array.from({ length: 32 }, (_, i) => fr(2 * inp[31 - i])), label);
  });

  it('nonaligned_barrier: barrier.sync 0 reached at two different instructions is clean', () => {
    const seed = SEED + 5;
    const rng = makeRng(seed);
    const inp = Array.from({ length: 64 }, () => Math.floor(rng.next() * 2000) - 1000);
    const label = `nonaligned_barrier seed=${seed}`;
    const res = run('sync.ptx', 'nonaligned_barrier', block1(64), [ptr('i32', inp), out('i32', 64)], label);
    expectClean(res, label);
    expectExact(nums(res, 1), Array.from({ length: 64 }, (_, t) => inp[63 - t] + (inp[t] & 1 ? 1 : 2)), label);
  });

  it('cp_zfill: cp.async with src-size 0 zero-fills without reading its (out-of-bounds) source', () => {
    const n = 100;
    const inp = Array.from({ length: n }, (_, i) => i + 1);
    const label = 'cp_zfill';
    const res = run('memory.ptx', 'cp_zfill', block1(32), [ptr('f32', inp), out('f32', 32), i32(n)], label);
    expectClean(res, label);
    const s = Array.from({ length: 128 }, (_, i) => (i < n ? inp[i] : 0));
    expectExact(nums(res, 1), Array.from({ length: 32 }, (_, t) => s[4 * t] + s[127 - t]), label);
  });

  it('spin_then_release: lanes 0-30 spin on a flag set by lane 31 of the same warp, and finish', () => {
    const label = 'spin_then_release (spin.ptx)';
    const res = run('spin.ptx', 'spin_then_release', block1(32), [zeros('i32', 1), zeros('i32', 32)], label, { maxSteps: 1e6 });
    expectClean(res, label);
    expectExact(nums(res, 0), [1], `${label}: flag`);
    expectExact(nums(res, 1), Array.from({ length: 32 }, (_, t) => (t < 31 ? 7 : 0)), `${label}: out`);
  });

  it('narrow_loads: ld.global.s8 / ld.global.s16 into a 64-bit register sign-extend', () => {
    const seed = SEED + 6;
    const rng = makeRng(seed);
    const a = Array.from({ length: 32 }, () => Math.floor(rng.next() * 256) - 128);
    const b = Array.from({ length: 32 }, () => Math.floor(rng.next() * 65536) - 32768);
    a.splice(0, 4, -128, 127, -1, 0);
    b.splice(0, 4, -32768, 32767, -1, -32768);
    const label = `narrow_loads seed=${seed}`;
    const res = run('memory.ptx', 'narrow_loads', block1(32), [ptr('i8', a), ptr('i16', b), out('i64', 96)], label);
    expectClean(res, label);
    const want: bigint[] = [];
    for (let t = 0; t < 32; t++) want.push(BigInt(a[t]), BigInt(b[t]), BigInt(a[t]) * BigInt(b[t]));
    expectExact(bigs(res, 2), want, label);
  });
});

// ---------------------------------------------------------------------------------------------
// Clean cases the reviewer checked that already worked
// ---------------------------------------------------------------------------------------------

describe('PTX emulator regressions: clean kernels from the review', () => {
  it('block2d: a 12x8 block (warps span rows), shfl_down across rows, transposed shared tile', () => {
    const G = 2;
    const label = 'block2d';
    const res = run('sync.ptx', 'block2d', { grid: [G, 1, 1], block: [12, 8, 1] }, [out('i32', G * 96), out('i32', G * 96)], label);
    expectClean(res, label);
    const w1: number[] = [];
    const w2: number[] = [];
    for (let b = 0; b < G; b++) {
      for (let lin = 0; lin < 96; lin++) {
        const lane = lin & 31;
        w1.push((lane === 31 ? lin : lin + 1) * 1000 + lane);
        const [tx, ty] = [lin % 12, Math.floor(lin / 12)];
        w2.push(((7 - ty) * 12 + (11 - tx)) * 10 + b);
      }
    }
    expectExact(nums(res, 0), w1, `${label}: out`);
    expectExact(nums(res, 1), w2, `${label}: tile_out`);
  });

  for (const n of [256, 150]) {
    it(`sync_preds: __syncthreads_count / _and / _or (n=${n})`, () => {
      const label = `sync_preds n=${n}`;
      const res = run('sync.ptx', 'sync_preds', block1(256), [out('i32', 768), i32(n)], label);
      expectClean(res, label);
      let c = 0;
      for (let t = 0; t < 256; t++) if (t % 3 === 0 && t < n) c++;
      const want: number[] = [];
      for (let t = 0; t < 256; t++) want.push(c, n >= 256 ? 1 : 0, 1);
      expectExact(nums(res, 0), want, label);
    });
  }

  it('shfl_width: shfl.sync down/xor/up/idx with width 8, 16, 4', () => {
    const seed = SEED + 7;
    const rng = makeRng(seed);
    const T = 64;
    const inp = Array.from({ length: T }, () => Math.floor(rng.next() * 2001) - 1000);
    const label = `shfl_width seed=${seed}`;
    const res = run('sync.ptx', 'shfl_width', block1(T), [ptr('i32', inp), out('i32', T * 4)], label);
    expectClean(res, label);
    const want: number[] = [];
    for (let t = 0; t < T; t++) {
      const lane = t & 31;
      const pos = lane & 7;
      // s8: shfl_down within segments of 8; a source past the segment returns the lane's own value.
      let vals = Array.from({ length: 8 }, (_, i) => inp[t - pos + i]);
      for (let d = 4; d > 0; d >>= 1) vals = vals.map((v, i) => v + (i + d < 8 ? vals[i + d] : v));
      const x16 = inp[t - (lane & 15) + ((lane & 15) ^ 5)];
      const up4 = (lane & 3) >= 1 ? inp[t - 1] : inp[t];
      const idx8 = inp[t - pos + ((t + 3) & 7)];
      want.push(vals[pos], x16, up4, idx8);
    }
    expectExact(nums(res, 1), want, label);
  });

  it('atomics_fd: atomicAdd on a global double and on shared floats', () => {
    const [B, T] = [3, 64];
    // Multiples of 1/4 (and, times 0.25, of 1/16) with small sums: every partial sum is exact in
    // f32 and f64, so the result does not depend on the order the atomics ran in.
    const inp = Array.from({ length: B * T }, (_, i) => (i % 17) * 0.5 + 0.25);
    const label = 'atomics_fd';
    const res = run('sync.ptx', 'atomics_fd', { grid: [B, 1, 1], block: [T, 1, 1] }, [ptr('f32', inp), ptr('f64', [0]), out('f32', B * 4)], label);
    expectClean(res, label);
    expectExact(nums(res, 1), [inp.reduce((s, x) => s + x * 0.25, 0)], `${label}: gsum`);
    const want: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let t = j; t < T; t += 4) s += inp[b * T + t];
        want.push(s);
      }
    }
    expectExact(nums(res, 2), want, `${label}: shared sums`);
  });
});
