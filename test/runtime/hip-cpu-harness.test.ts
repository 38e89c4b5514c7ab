/**
 * The HIP CPU harness (runtime/hip-cpu/): hand-written kernels in the HIP dialect Tilekit emits
 * (HIP_PRELUDE + a kernel calling only the prelude's primitives), built with clang++-19 and run on
 * host threads through runOnHipCpu. Two kernels cover everything (each built once; every other run
 * is a cache hit, which is itself under test): `mfma` checks the four MFMA primitives against the
 * register layouts written out here, independently of the header; `probe` has one mode per
 * primitive or launcher property (shuffles, barriers, LDS poison, early exits, grid ids, ABI values,
 * dtypes, a deadlock, too much LDS).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKernelIR } from '../../compiler/compile.js';
import type { CompiledHip } from '../../compiler/hip/kernel-abi.js';
import { HIP_PRELUDE, HIP_PRIMITIVES } from '../../compiler/hip/prelude.js';
import type { KernelArgs, TensorArg } from '../../compiler/interpreter.js';
import type { IRKernel } from '../../compiler/ir.js';
import type { AbiParam } from '../../compiler/kernel-abi.js';
import type { DType } from '../../dsl/dtype.js';
import { SourceText } from '../../dsl/source.js';
import { AbiArgsError } from '../../runtime/abi-args.js';
import { findClangxx, HipCpuError, hipCpuHeader, runOnHipCpu } from '../../runtime/hip-cpu/hip-cpu-backend.js';
import { makeRng, randomTensor, seedFromEnv } from '../support/random.js';
import { requireTool } from '../support/toolchains.js';

const hasClang = requireTool('clang++-19', findClangxx());
const rng = makeRng(seedFromEnv(20240611));

// ---------------------------------------------------------------------------------------------
// Helpers

function build(text: string): IRKernel {
  const { ir, diagnostics } = buildKernelIR(new SourceText('k.tile', text), undefined, new Map());
  if (!ir) throw new Error(`kernel does not build: ${JSON.stringify(diagnostics)}`);
  return ir;
}

/** The ABI's parameter list (compiler/kernel-abi.ts): tensors, shape symbols, strides, scalars. */
function abiParams(ir: IRKernel): AbiParam[] {
  const out: AbiParam[] = [];
  const dims: string[] = [];
  for (const p of ir.params) {
    if (p.kind !== 'tensor') continue;
    out.push({ kind: 'tensor', name: p.name, tensor: p.name, dtype: p.dtype });
    for (const d of p.dims) if (typeof d === 'string' && !dims.includes(d)) dims.push(d);
  }
  for (const d of dims) out.push({ kind: 'dim', name: d, dim: d });
  for (const p of ir.params) {
    if (p.kind === 'tensor') for (let a = 0; a + 1 < p.dims.length; a++) out.push({ kind: 'stride', name: `${p.name}_stride${a}`, tensor: p.name, axis: a });
  }
  for (const p of ir.params) if (p.kind === 'scalar') out.push({ kind: 'scalar', name: p.name, dtype: p.dtype });
  return out;
}

function compiled(ir: IRKernel, kernel: string, threads: number, ldsBytes: number): CompiledHip {
  return { target: 'gfx942', entry: ir.name, source: HIP_PRELUDE + kernel, params: abiParams(ir), threads, ldsBytes, spanMap: [] };
}

/** A tensor argument; without data, NaN-filled like `tilekit run`'s outputs. */
function tensor(dtype: DType, shape: number[], data?: Float64Array): TensorArg {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data !== undefined && data.length !== n) throw new Error('bad tensor size');
  return { dtype, shape, data: data ?? new Float64Array(n).fill(NaN) };
}

function get(args: KernelArgs, name: string): Float64Array {
  const t = args.get(name);
  if (t === undefined || typeof t === 'number') throw new Error(`no tensor ${name}`);
  return t.data;
}

let cacheDir = '';
beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'tilekit-hip-cpu-test-'));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// The header defines the whole prelude contract

describe('tk_hip_cpu.h', () => {
  it('defines every primitive the prelude lists', async () => {
    const header = await hipCpuHeader();
    for (const p of HIP_PRIMITIVES) {
      expect(header, p).toMatch(new RegExp(`(#define ${p}\\b|\\binline [\\w ]+\\b${p}\\()`));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// MFMA: the documented register layouts, written here independently of the header

const MFMA_TILE = `kernel mfma(ha: f16[L4], hb: f16[L4], sa: bf16[L4], sb: bf16[L4], c: f32[LC], d: f32[LC], mode: i32, reps: i32) grid [1] {
  store(d[0 : 1], load(c[0 : 1]));
}
`;

/** One wave; each lane reads its own a, b (4 each) and C registers, applies the MFMA `reps` times, writes D. */
const MFMA_HIP = String.raw`
TK_KERNEL(64) void mfma(_Float16* ha, _Float16* hb, tk_bf16* sa, tk_bf16* sb, float* c, float* d,
                        tk_u32 L4, tk_u32 LC, tk_i32 mode, tk_i32 reps) {
  const int l = tk_thread_id();
  tk_half4 a, b;
  tk_short4 x, y;
  for (int j = 0; j < 4; j++) {
    a[j] = ha[4 * l + j];
    b[j] = hb[4 * l + j];
    x[j] = (short)sa[4 * l + j];
    y[j] = (short)sb[4 * l + j];
  }
  if (mode == 0 || mode == 2) {
    tk_float16 acc;
    for (int r = 0; r < 16; r++) acc[r] = c[16 * l + r];
    for (int i = 0; i < reps; i++) acc = mode == 0 ? tk_mfma_32x32x8_f16(a, b, acc) : tk_mfma_32x32x8_bf16(x, y, acc);
    for (int r = 0; r < 16; r++) d[16 * l + r] = acc[r];
  } else {
    tk_float4 acc;
    for (int r = 0; r < 4; r++) acc[r] = c[4 * l + r];
    for (int i = 0; i < reps; i++) acc = mode == 1 ? tk_mfma_16x16x16_f16(a, b, acc) : tk_mfma_16x16x16_bf16(x, y, acc);
    for (int r = 0; r < 4; r++) d[4 * l + r] = acc[r];
  }
}
`;

interface MfmaCase {
  readonly name: string;
  readonly mode: number;
  readonly dtype: 'f16' | 'bf16';
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly regs: number;
  /** Lane l, register j of operand a holds A[i][k]. */
  readonly a: (l: number, j: number) => [number, number];
  /** Lane l, register j of operand b holds B[k][n]. */
  readonly b: (l: number, j: number) => [number, number];
  /** Lane l, register r of C/D holds element [row][col]. */
  readonly d: (l: number, r: number) => [number, number];
}

const fl = Math.floor;
const LAYOUT_32x32x8 = {
  M: 32,
  N: 32,
  K: 8,
  regs: 16,
  a: (l: number, j: number): [number, number] => [l % 32, 4 * fl(l / 32) + j],
  b: (l: number, j: number): [number, number] => [4 * fl(l / 32) + j, l % 32],
  d: (l: number, r: number): [number, number] => [8 * fl(r / 4) + 4 * fl(l / 32) + (r % 4), l % 32],
};
const LAYOUT_16x16x16 = {
  M: 16,
  N: 16,
  K: 16,
  regs: 4,
  a: (l: number, j: number): [number, number] => [l % 16, 4 * fl(l / 16) + j],
  b: (l: number, j: number): [number, number] => [4 * fl(l / 16) + j, l % 16],
  d: (l: number, r: number): [number, number] => [4 * fl(l / 16) + r, l % 16],
};
const MFMA_CASES: MfmaCase[] = [
  { name: 'tk_mfma_32x32x8_f16', mode: 0, dtype: 'f16', ...LAYOUT_32x32x8 },
  { name: 'tk_mfma_16x16x16_f16', mode: 1, dtype: 'f16', ...LAYOUT_16x16x16 },
  { name: 'tk_mfma_32x32x8_bf16', mode: 2, dtype: 'bf16', ...LAYOUT_32x32x8 },
  { name: 'tk_mfma_16x16x16_bf16', mode: 3, dtype: 'bf16', ...LAYOUT_16x16x16 },
];

/** Scatters a row-major rows×cols matrix into 64 lanes × `per` registers by `loc`, checking it is a bijection. */
function scatter(m: Float64Array, cols: number, per: number, loc: (l: number, j: number) => [number, number]): Float64Array {
  const out = new Float64Array(64 * per);
  const seen = new Set<number>();
  for (let l = 0; l < 64; l++) {
    for (let j = 0; j < per; j++) {
      const [r, c] = loc(l, j);
      seen.add(r * cols + c);
      out[l * per + j] = m[r * cols + c]!;
    }
  }
  expect(seen.size).toBe(m.length);
  return out;
}

describe.skipIf(!hasClang)('MFMA primitives: one wave against the documented register layouts', () => {
  const ir = build(MFMA_TILE);
  const kernel = compiled(ir, MFMA_HIP, 64, 0);

  it.each(MFMA_CASES)('$name: D = A·B + C, applied twice', async (cs) => {
    const { M, N, K, regs } = cs;
    const A = randomTensor(rng, M * K, cs.dtype);
    const B = randomTensor(rng, K * N, cs.dtype);
    const C = randomTensor(rng, M * N, 'f32', 4);
    const aLanes = scatter(A, K, 4, cs.a);
    const bLanes = scatter(B, N, 4, cs.b);
    const cLanes = new Float64Array(64 * 16).fill(NaN);
    cLanes.set(scatter(C, N, regs, cs.d));
    const other = cs.dtype === 'f16' ? 'bf16' : 'f16';
    const unused = (): Float64Array => randomTensor(rng, 256, other); // the other dtype's operands
    const args: KernelArgs = new Map<string, TensorArg | number>([
      ['ha', tensor('f16', [256], cs.dtype === 'f16' ? aLanes : unused())],
      ['hb', tensor('f16', [256], cs.dtype === 'f16' ? bLanes : unused())],
      ['sa', tensor('bf16', [256], cs.dtype === 'bf16' ? aLanes : unused())],
      ['sb', tensor('bf16', [256], cs.dtype === 'bf16' ? bLanes : unused())],
      ['c', tensor('f32', [1024], cLanes)],
      ['d', tensor('f32', [1024])],
      ['mode', cs.mode],
      ['reps', 2],
    ]);
    await runOnHipCpu(kernel, ir, args, { cacheDir });

    // Gather D back by the layout.
    const dLanes = get(args, 'd');
    const D = new Float64Array(M * N).fill(NaN);
    for (let l = 0; l < 64; l++) {
      for (let r = 0; r < regs; r++) {
        const [row, col] = cs.d(l, r);
        D[row * N + col] = dLanes[l * regs + r]!;
      }
    }
    // float64 reference: D = (C + A·B) + A·B; and the f32 k-order sums the primitive promises.
    let maxErr = 0;
    let maxRef = 0;
    for (let i = 0; i < M; i++) {
      for (let n = 0; n < N; n++) {
        let dot = 0;
        let f32 = C[i * N + n]!;
        for (let rep = 0; rep < 2; rep++) for (let k = 0; k < K; k++) f32 = Math.fround(f32 + A[i * K + k]! * B[k * N + n]!);
        for (let k = 0; k < K; k++) dot += A[i * K + k]! * B[k * N + n]!;
        const ref = C[i * N + n]! + 2 * dot;
        const got = D[i * N + n]!;
        expect(got, `D[${i}][${n}]`).toBe(f32);
        maxErr = Math.max(maxErr, Math.abs(got - ref));
        maxRef = Math.max(maxRef, Math.abs(ref));
      }
    }
    expect(maxRef).toBeGreaterThan(1);
    expect(maxErr / maxRef).toBeLessThan(1e-5);
  });
});

// ---------------------------------------------------------------------------------------------
// The probe kernel: one mode per property

const PROBE_TILE = `kernel probe(x: f32[N], o: f32[P], g: i32[GX, GY], q: i64[N], b: bool[N], e: f8e4m3[N], h: bf16[N], hf: f16[N],
  s: f32, big: i64, k: i32, mode: i32) grid [GX, GY] {
  store(o[0 : 1], load(o[0 : 1]));
}
`;

const MODE = { shfl: 0, barrier: 1, poison: 2, early: 3, grid: 4, deadlock: 5, butterfly: 6, hugeLds: 7, dtypes: 8 } as const;

const PROBE_HIP = String.raw`
static int tk_probe_sequence = 0;  // workgroups run one after another, so thread 0's counter is ordered

TK_KERNEL(256) void probe(float* x, float* o, tk_i32* g, tk_i64* q, tk_u8* b, tk_u8* e, tk_bf16* h, _Float16* hf,
                          tk_u32 N, tk_u32 P, tk_u32 GX, tk_u32 GY, tk_u64 g_stride0, float s, tk_i64 big, tk_i32 k, tk_i32 mode) {
  TK_LDS(smem, 1024);
  const int t = tk_thread_id();
  float* lf = (float*)smem;
  if (mode == 0) {  // shuffle within each wave
    o[t] = tk_shfl_xor(x[t], k);
  } else if (mode == 1) {  // rounds of: write LDS, barrier, read another wave's value, barrier
    for (int r = 0; r < 4; r++) {
      lf[t] = x[t] * (float)(r + 1);
      tk_barrier();
      o[256 * r + t] = lf[(t + 67 * (r + 1)) % 256];
      tk_barrier();
    }
  } else if (mode == 2) {  // every workgroup starts from poisoned LDS, whatever the previous one wrote
    const int base = 512 * (tk_block_id(0) + tk_grid_dim(0) * tk_block_id(1));
    _Float16* lh = (_Float16*)(smem + 512);
    tk_bf16* lb = (tk_bf16*)(smem + 512);
    if (t < 128) o[base + t] = lf[t];
    o[base + 256 + t] = (float)lh[t];
    if (t < 128) o[base + 128 + t] = tk_bf16_to_f32(lb[t]);
    tk_barrier();
    if (t < 128) lf[t] = 1.0f + t;
    lh[t] = (_Float16)2.0f;
  } else if (mode == 3) {  // a third of the threads and all of wave 3 return at once
    if (t % 3 == 0 || t >= 192) return;
    lf[t] = x[t];
    tk_barrier();
    const int u = t % 3 == 1 ? t + 1 : t - 1;  // another survivor
    o[t] = lf[u];
    tk_barrier();
    o[256 + t] = 1.0f;
  } else if (mode == 4) {  // grid ids, grid dims, the order of workgroups, ABI values
    if (t == 0) {
      const int bx = tk_block_id(0), by = tk_block_id(1);
      g[bx * g_stride0 + by] = 1 + bx + 100 * by + 10000 * tk_grid_dim(0) + 1000000 * tk_grid_dim(1) + 7 * tk_block_id(2) + 7 * (tk_grid_dim(2) - 1);
      o[bx * GY + by] = (float)tk_probe_sequence++;
      if (bx == 0 && by == 0) {
        o[100] = s;
        o[101] = (float)(big % 1000003);
        o[102] = (float)(big >> 33);
        o[103] = (float)N;
        o[104] = (float)P;
        o[105] = (float)g_stride0;
        o[106] = (float)k;
      }
    }
  } else if (mode == 5) {  // deadlock: half the threads wait at a barrier, the other half for them
    volatile int* flag = (volatile int*)smem;
    if (t == 0) *flag = 0;
    tk_barrier();
    if (t < 128) {
      tk_barrier();
      *flag = 1;
    } else {
      while (*flag == 0) {
      }
    }
  } else if (mode == 6) {  // butterfly sum over each wave: six shuffles in a row
    float v = x[t];
    for (int m = 1; m < 64; m *= 2) v = v + tk_shfl_xor(v, m);
    o[t] = v;
  } else if (mode == 7) {  // more LDS than the hardware has
    TK_LDS(huge, 70000);
    huge[t] = 1;
  } else if (mode == 8) {  // every tensor dtype through the ABI, changed in place
    for (unsigned i = t; i < N; i += 256) {
      q[i] = q[i] * 3 - 1;
      b[i] = b[i] ? 0 : 1;
      e[i] = e[i] ^ 0x80;  // fp8 negation: the sign bit
      h[i] = tk_f32_to_bf16(tk_bf16_to_f32(h[i]) * 2.0f);
      hf[i] = hf[i] * (_Float16)2.0f;
      x[i] = x[i] + s;
    }
  }
}
`;

interface ProbeOptions {
  readonly mode: number;
  readonly N?: number;
  readonly gx?: number;
  readonly gy?: number;
  readonly k?: number;
  readonly s?: number;
  readonly big?: number;
}

function probeArgs(o: ProbeOptions): KernelArgs {
  const N = o.N ?? 256;
  return new Map<string, TensorArg | number>([
    ['x', tensor('f32', [N], randomTensor(rng, N, 'f32'))],
    ['o', tensor('f32', [2048])],
    ['g', tensor('i32', [o.gx ?? 1, o.gy ?? 1], new Float64Array((o.gx ?? 1) * (o.gy ?? 1)).fill(-1))],
    ['q', tensor('i64', [N], Float64Array.from({ length: N }, () => Math.floor((rng.next() - 0.5) * 2 ** 41)))],
    ['b', tensor('bool', [N], Float64Array.from({ length: N }, () => (rng.next() < 0.5 ? 1 : 0)))],
    ['e', tensor('f8e4m3', [N], randomTensor(rng, N, 'f8e4m3'))],
    ['h', tensor('bf16', [N], randomTensor(rng, N, 'bf16'))],
    ['hf', tensor('f16', [N], randomTensor(rng, N, 'f16'))],
    ['s', o.s ?? 0.75],
    ['big', o.big ?? 0],
    ['k', o.k ?? 0],
    ['mode', o.mode],
  ]);
}

describe.skipIf(!hasClang)('the probe kernel: workgroups, waves, LDS and the launcher', () => {
  const ir = build(PROBE_TILE);
  const probe = compiled(ir, PROBE_HIP, 256, 1024);

  it('builds once, then is a cache hit, also for other shapes and scalars', async () => {
    const first = await runOnHipCpu(probe, ir, probeArgs({ mode: MODE.shfl, k: 1 }), { cacheDir });
    expect(first.cached).toBe(false);
    expect(first.buildMs).toBeGreaterThan(0);
    const again = await runOnHipCpu(probe, ir, probeArgs({ mode: MODE.dtypes, N: 1000, s: -2.5 }), { cacheDir });
    expect(again).toMatchObject({ cached: true, buildMs: 0, grid: [1, 1] });
    expect(again.runMs).toBeGreaterThan(0);
  });

  it.each([1, 2, 5, 16, 32, 63])('tk_shfl_xor(v, %i) returns lane (lane ^ mask) of the same wave', async (mask) => {
    const args = probeArgs({ mode: MODE.shfl, k: mask });
    await runOnHipCpu(probe, ir, args, { cacheDir });
    const x = get(args, 'x');
    const o = get(args, 'o');
    for (let t = 0; t < 256; t++) expect(o[t], `thread ${t}`).toBe(x[(t & ~63) | ((t & 63) ^ mask)]);
  });

  it('six shuffles in a row (a butterfly sum) give every lane the wave total', async () => {
    const args = probeArgs({ mode: MODE.butterfly });
    await runOnHipCpu(probe, ir, args, { cacheDir });
    const x = get(args, 'x');
    const o = get(args, 'o');
    for (let w = 0; w < 4; w++) {
      let v = Array.from(x.subarray(64 * w, 64 * w + 64));
      for (let m = 1; m < 64; m *= 2) v = v.map((a, l) => Math.fround(a + v[l ^ m]!));
      for (let l = 0; l < 64; l++) expect(o[64 * w + l], `thread ${64 * w + l}`).toBe(v[l]);
    }
  });

  it('tk_barrier orders LDS writes and reads across the four waves of a 256-thread workgroup', async () => {
    const args = probeArgs({ mode: MODE.barrier });
    await runOnHipCpu(probe, ir, args, { cacheDir });
    const x = get(args, 'x');
    const o = get(args, 'o');
    for (let r = 0; r < 4; r++) {
      for (let t = 0; t < 256; t++) expect(o[256 * r + t], `round ${r}, thread ${t}`).toBe(Math.fround(x[(t + 67 * (r + 1)) % 256]! * (r + 1)));
    }
  });

  it('LDS nobody wrote reads as NaN (f32, f16, bf16), in every workgroup', async () => {
    const args = probeArgs({ mode: MODE.poison, gx: 2, gy: 2 });
    const run = await runOnHipCpu(probe, ir, args, { cacheDir });
    expect(run.grid).toEqual([2, 2]);
    const o = get(args, 'o');
    for (let i = 0; i < 4 * 512; i++) expect(o[i], `o[${i}]`).toBeNaN();
  });

  it('threads that return early do not block the barriers of the rest', async () => {
    const args = probeArgs({ mode: MODE.early });
    await runOnHipCpu(probe, ir, args, { cacheDir, timeoutMs: 20_000 });
    const x = get(args, 'x');
    const o = get(args, 'o');
    for (let t = 0; t < 256; t++) {
      if (t % 3 === 0 || t >= 192) {
        expect(o[t]).toBeNaN();
        expect(o[256 + t]).toBeNaN();
        continue;
      }
      const u = t % 3 === 1 ? t + 1 : t - 1;
      expect(u % 3 === 0 || u >= 192, `partner of ${t}`).toBe(false);
      expect(o[t], `thread ${t}`).toBe(x[u]);
      expect(o[256 + t]).toBe(1);
    }
  });

  it('tk_block_id and tk_grid_dim on a 3×5 grid, x fastest; shape sizes, strides and scalars arrive', async () => {
    const big = 2 ** 40 + 12345;
    const args = probeArgs({ mode: MODE.grid, gx: 3, gy: 5, N: 300, s: -1.625, big, k: -7 });
    const run = await runOnHipCpu(probe, ir, args, { cacheDir });
    expect(run.grid).toEqual([3, 5]);
    const g = get(args, 'g');
    const o = get(args, 'o');
    for (let bx = 0; bx < 3; bx++) {
      for (let by = 0; by < 5; by++) {
        expect(g[bx * 5 + by], `block (${bx}, ${by})`).toBe(1 + bx + 100 * by + 10000 * 3 + 1000000 * 5);
        expect(o[bx * 5 + by], `order of block (${bx}, ${by})`).toBe(by * 3 + bx);
      }
    }
    expect(Array.from(o.subarray(100, 107))).toEqual([-1.625, big % 1000003, Math.floor(big / 2 ** 33), 300, 2048, 5, -7]);
  });

  it('passes every tensor dtype (i64, bool, fp8, bf16, f16, f32) both ways', async () => {
    const args = probeArgs({ mode: MODE.dtypes, N: 700, s: 0.5 });
    const before = new Map(['x', 'q', 'b', 'e', 'h', 'hf'].map((n) => [n, Float64Array.from(get(args, n))]));
    await runOnHipCpu(probe, ir, args, { cacheDir });
    const was = (n: string): Float64Array => before.get(n)!;
    expect(was('q').some((v) => v !== 0) && was('e').some((v) => v !== 0)).toBe(true);
    expect(Array.from(get(args, 'q'))).toEqual(Array.from(was('q'), (v) => v * 3 - 1));
    expect(Array.from(get(args, 'b'))).toEqual(Array.from(was('b'), (v) => 1 - v));
    expect(Array.from(get(args, 'e'))).toEqual(Array.from(was('e'), (v) => -v));
    expect(Array.from(get(args, 'h'))).toEqual(Array.from(was('h'), (v) => 2 * v));
    expect(Array.from(get(args, 'hf'))).toEqual(Array.from(was('hf'), (v) => 2 * v));
    expect(Array.from(get(args, 'x'))).toEqual(Array.from(was('x'), (v) => Math.fround(v + 0.5)));
  });

  it('an empty grid launches nothing', async () => {
    const args = probeArgs({ mode: MODE.grid, gx: 0, gy: 3 });
    const run = await runOnHipCpu(probe, ir, args, { cacheDir });
    expect(run).toMatchObject({ grid: [0, 3], cached: false, buildMs: 0 });
    expect(get(args, 'o').every((v) => Number.isNaN(v))).toBe(true);
  });

  it('a deadlock ends as a HipCpuError naming the timeout', async () => {
    const err = await runOnHipCpu(probe, ir, probeArgs({ mode: MODE.deadlock }), { cacheDir, timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HipCpuError);
    const e = err as HipCpuError;
    expect(e.kind).toBe('timeout');
    expect(e.message).toMatch(/did not finish within the 1500 ms timeout/);
    expect(e.message).toMatch(/reproduce: /);
    if (e.keptDir !== undefined) await rm(e.keptDir, { recursive: true, force: true });
  });

  it('more LDS than MI300X has, a workgroup that is not whole waves: clear run errors', async () => {
    const cases: [CompiledHip, KernelArgs, RegExp][] = [
      [probe, probeArgs({ mode: MODE.hugeLds }), /TK_LDS\(huge, 70000\).*at most 65536/],
      [{ ...probe, ldsBytes: 70000 }, probeArgs({ mode: MODE.shfl }), /70000 bytes of LDS per workgroup: MI300X \(gfx942\) has at most 65536/],
      [{ ...probe, threads: 96 }, probeArgs({ mode: MODE.shfl }), /workgroup of 96 threads: it must be a multiple of the wave size 64/],
    ];
    for (const [kernel, args, message] of cases) {
      const err = await runOnHipCpu(kernel, ir, args, { cacheDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HipCpuError);
      expect((err as HipCpuError).kind).toBe('run');
      expect((err as HipCpuError).message).toMatch(message);
      const kept = (err as HipCpuError).keptDir;
      if (kept !== undefined) await rm(kept, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Failures before the run

describe('runOnHipCpu failures', () => {
  const ir = build(PROBE_TILE);

  it('a scalar dtype the ABI cannot pass is an AbiArgsError', async () => {
    const bad = compiled(ir, '', 256, 0);
    const params = bad.params.map((p): AbiParam => (p.kind === 'scalar' && p.name === 's' ? { ...p, dtype: 'f16' } : p));
    await expect(runOnHipCpu({ ...bad, params }, ir, probeArgs({ mode: 0 }), { cacheDir })).rejects.toThrow(AbiArgsError);
  });

  it('a missing clang++ is a HipCpuError naming the package clang-19; TILEKIT_CLANGXX is taken as given', async () => {
    expect(findClangxx({ TILEKIT_CLANGXX: '/opt/my/clang++', PATH: '/usr/bin' })).toBe('/opt/my/clang++');
    const err = await runOnHipCpu(compiled(ir, '', 256, 0), ir, probeArgs({ mode: 0 }), { cacheDir, clangxx: '/nonexistent/clang++' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HipCpuError);
    expect((err as HipCpuError).kind).toBe('toolchain');
    expect((err as HipCpuError).message).toMatch(/\/nonexistent\/clang\+\+ \(not an executable file\)[\s\S]*package clang-19/);
  });

  it.skipIf(!hasClang)("a kernel clang rejects is a HipCpuError with clang's message, a command and the kept build folder", async () => {
    const broken = compiled(ir, 'TK_KERNEL(256) void probe(float* x) {\n  x[tk_thread_id()] = no_such_name;\n}\n', 256, 0);
    const err = await runOnHipCpu(broken, ir, probeArgs({ mode: 0 }), { cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HipCpuError);
    const e = err as HipCpuError;
    expect(e.kind).toBe('build');
    expect(e.message).toMatch(/kernel\.hip:\d+:\d+: error: use of undeclared identifier 'no_such_name'/);
    expect(e.command).toMatch(/clang\+\+.* -std=c\+\+20 -O2 -pthread -DTILEKIT_HIP_CPU -o kernel main\.cpp/);
    expect(e.keptDir).toBeDefined();
    expect(existsSync(join(e.keptDir!, 'main.cpp'))).toBe(true);
    expect(await readFile(join(e.keptDir!, 'kernel.hip'), 'utf8')).toContain('no_such_name');
    await rm(e.keptDir!, { recursive: true, force: true });
  });
});
