/**
 * Regression tests for the NVIDIA backend, from a review that ran small kernels through both the
 * reference interpreter and the PTX emulator (the emitted PTX for sm_80) on the same seeded inputs.
 *
 * Every case builds one configuration of a kernel, compiles it, runs the interpreter and the
 * emulator on separate copies of the same inputs (outputs pre-filled with NaN, or a sentinel for
 * integer outputs, so unwritten elements show), and requires:
 * - no sanitizer findings;
 * - the same non-finite elements (NaN, ±inf) in the same places, and on the finite ones a relative
 *   L2 error within 1e-5 (f32), 3e-3 (f16), 1e-2 (bf16); integer outputs, and outputs of exact
 *   operations (casts), must match exactly.
 *
 * The first block holds the bugs the review found (axis-0 reductions across warps, scalar
 * reductions across warps, a staged register `dot` operand inside an `if`, `other` on the cp.async
 * path, a pipelined loop nested in another loop, integer division by zero, sub-word scalar
 * parameters, i32 → bf16 rounding); the second, kernels that already passed, to keep them so.
 */
import { describe, expect, it } from 'vitest';
import { interpret, type KernelArgs, type TensorArg } from '../../compiler/interpreter.js';
import { compilePtx } from '../../compiler/ptx/compile-ptx.js';
import type { DType } from '../../dsl/dtype.js';
import { SourceText } from '../../dsl/source.js';
import { relL2 } from '../../runtime/compare.js';
import { runOnEmulator } from '../../runtime/emulate-backend.js';
import { makeRng, randomTensor, type Rng } from '../../runtime/random.js';
import { buildText } from '../support/build.js';
import { seedFromEnv } from '../support/random.js';

const SEED = seedFromEnv(7031);
const TOL: Readonly<Partial<Record<DType, number>>> = { f32: 1e-5, f16: 3e-3, bf16: 1e-2 };
/** Fill for integer outputs (an i32 buffer cannot hold NaN): any element left unwritten shows. */
const INT_SENTINEL = -77777;

interface TensorSpec {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** An output: filled with NaN (floats) or INT_SENTINEL (integers) before the run. */
  readonly out?: boolean;
  /** Compare bit-exactly even though the dtype is a float (the result of exact operations). */
  readonly exact?: boolean;
  /** Element generator for inputs; default: seeded normal samples × scale, rounded to dtype. */
  readonly gen?: (i: number, rng: Rng) => number;
  readonly scale?: number;
}

interface Case {
  readonly text: string;
  readonly kernel: string;
  readonly cfg?: Readonly<Record<string, number>>;
  readonly tensors: Readonly<Record<string, TensorSpec>>;
  readonly scalars?: Readonly<Record<string, number>>;
}

const T = (dtype: DType, shape: readonly number[], extra: Omit<TensorSpec, 'dtype' | 'shape'> = {}): TensorSpec => ({ dtype, shape, ...extra });
const O = (dtype: DType, shape: readonly number[], extra: Omit<TensorSpec, 'dtype' | 'shape' | 'out'> = {}): TensorSpec => ({ dtype, shape, out: true, ...extra });
const numelOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const isIntegral = (d: DType): boolean => d === 'i32' || d === 'i64' || d === 'bool';

function describeCase(c: Case): string {
  const cfg = c.cfg ? Object.entries(c.cfg).map(([k, v]) => `${k}=${v}`).join(' ') : 'default config';
  const shapes = Object.entries(c.tensors).map(([n, t]) => `${n}:${t.dtype}[${t.shape.join(',')}]`).join(' ');
  const scalars = c.scalars ? ' ' + Object.entries(c.scalars).map(([k, v]) => `${k}=${v}`).join(' ') : '';
  return `${c.kernel} (${cfg}; ${shapes}${scalars}; seed ${SEED})`;
}

/** Runs `f`; an exception it throws (a compiler crash, say) is rethrown with `what` in front. */
function withContext<R>(what: string, f: () => R): R {
  try {
    return f();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    throw new Error(`${what} threw ${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 5).join('\n')}`, { cause: e });
  }
}

/** Compiles `c` for sm_80, runs it in the interpreter and the emulator, and compares every output. */
function check(c: Case): void {
  const ctx = describeCase(c);
  const src = new SourceText(`${c.kernel}.tile`, c.text);
  const ir = buildText(src, c.kernel, c.cfg ?? {});
  const r = withContext(`${ctx}: compilePtx`, () => compilePtx(ir, 'sm_80', src));
  expect(r.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'), `${ctx}: compile diagnostics`).toBe('');
  expect(r.compiled, `${ctx}: compiled`).toBeDefined();

  const rng = makeRng(SEED);
  const ref: KernelArgs = new Map();
  const got: KernelArgs = new Map();
  for (const [name, t] of Object.entries(c.tensors)) {
    const n = numelOf(t.shape);
    let data: Float64Array;
    if (t.out) data = new Float64Array(n).fill(isIntegral(t.dtype) ? INT_SENTINEL : NaN);
    else if (t.gen) data = Float64Array.from({ length: n }, (_, i) => t.gen!(i, rng));
    else data = randomTensor(rng, n, t.dtype, t.scale ?? 1);
    ref.set(name, { dtype: t.dtype, shape: [...t.shape], data: Float64Array.from(data) });
    got.set(name, { dtype: t.dtype, shape: [...t.shape], data: Float64Array.from(data) });
  }
  for (const [name, v] of Object.entries(c.scalars ?? {})) {
    ref.set(name, v);
    got.set(name, v);
  }

  withContext(`${ctx}: interpreter`, () => interpret(ir, ref));
  const run = withContext(`${ctx}: emulator`, () => runOnEmulator(r.compiled!, ir, got, { maxSteps: 5e8 }));
  const findings = run.findings.map((f) => `${f.kind}: ${f.message} @ ${f.instruction} (PTX line ${f.ptxLine})`);
  expect(findings.slice(0, 5).join('\n'), `${ctx}: ${findings.length} sanitizer finding(s)`).toBe('');

  for (const [name, t] of Object.entries(c.tensors)) {
    if (!t.out) continue;
    const want = (ref.get(name) as TensorArg).data;
    const have = (got.get(name) as TensorArg).data;
    if (isIntegral(t.dtype) || t.exact) {
      const bad: string[] = [];
      for (let i = 0; i < want.length && bad.length < 5; i++) if (!Object.is(want[i], have[i]) && !(want[i] === 0 && have[i] === 0)) bad.push(`[${i}] got ${have[i]} want ${want[i]}`);
      expect(bad.join('; '), `${ctx}: output '${name}' must match exactly`).toBe('');
      continue;
    }
    // Non-finite elements (unwritten NaN fill, inf) must agree in place; the finite ones within tolerance.
    const wf: number[] = [];
    const hf: number[] = [];
    const mismatched: string[] = [];
    for (let i = 0; i < want.length; i++) {
      const a = want[i]!;
      const b = have[i]!;
      if (Number.isFinite(a) && Number.isFinite(b)) {
        wf.push(a);
        hf.push(b);
      } else if (!Object.is(a, b) && mismatched.length < 5) {
        mismatched.push(`[${i}] got ${b} want ${a}`);
      }
    }
    expect(mismatched.join('; '), `${ctx}: output '${name}': non-finite elements differ`).toBe('');
    const err = relL2(hf, wf);
    const tol = TOL[t.dtype] ?? 0;
    let worst = '';
    if (!(err <= tol)) {
      let wi = 0;
      for (let i = 1; i < wf.length; i++) if (Math.abs(hf[i]! - wf[i]!) > Math.abs(hf[wi]! - wf[wi]!)) wi = i;
      worst = ` (worst finite element #${wi}: got ${hf[wi]} want ${wf[wi]})`;
    }
    expect(err, `${ctx}: output '${name}' relL2${worst}`).toBeLessThanOrEqual(tol);
  }
}

// ---------------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------------

/** Softmax over the columns of a blocked tile: max and sum along axis 0, broadcast back. */
const COL_SOFTMAX = `kernel colsm(x: f32[M, N], o: f32[M, N]) tune { BM in [16, 64] = 64; BN in [16, 64, 128] = 16; WARPS in [1, 2, 4, 8] = 4; } grid [cdiv(N, BN)] {
  let n0 = program_id(0) * BN;
  let t = load(x[0 : BM, n0 : BN], other = -inf);
  let m = max(t, axis = 0);
  let e = exp(t - m[None, :]);
  let s = sum(e, axis = 0);
  store(o[0 : BM, n0 : BN], e / s[None, :]);
}`;

/** Reductions along both axes of a blocked tile (f32 and i32), over a ragged tensor. */
const AXIS_RED = `kernel axred(x: f32[M, N], r0: f32[P], r1: f32[Q], rmax: f32[P], rmin: f32[Q], ri: i32[P]) tune { BM in [4, 16, 64] = 16; BN in [8, 32, 128] = 32; WARPS in [1, 2, 4, 8] = 4; } grid [1] {
  let a = load(x[0 : BM, 0 : BN], other = 0.0);
  store(r0[0 : BN], sum(a, axis = 0));
  store(r1[0 : BM], sum(a, axis = 1));
  store(rmax[0 : BN], max(a, axis = 0));
  store(rmin[0 : BM], min(a, axis = 1));
  store(ri[0 : BN], max((a * 10.0) as i32, axis = 0));
}`;

/** Pipelined GEMM, bias add, and reductions of the result along both axes. */
const GEMM_BIAS = `kernel gb(a: f16[M, K], b: f16[K, N], bias: f32[N], c: f32[M, N], rs: f32[M], cs: f32[N]) tune { BM in [16, 32, 64, 128] = 64; BN in [8, 16, 32, 64, 128] = 64; BK in [16, 32, 64] = 32; WARPS in [1, 2, 4, 8] = 4; S in [1, 2, 3, 4] = 2; } grid [cdiv(M, BM), cdiv(N, BN)] {
  let m0 = program_id(0) * BM; let n0 = program_id(1) * BN;
  var acc = zeros([BM, BN], f32);
  for k0 in range(0, K, BK) pipelined(S) {
    acc = dot(load(a[m0 : BM, k0 : BK]), load(b[k0 : BK, n0 : BN]), acc);
  }
  let r = acc + load(bias[n0 : BN])[None, :];
  store(c[m0 : BM, n0 : BN], r);
  store(rs[m0 : BM], sum(r, axis = 1));
  store(cs[n0 : BN], max(r, axis = 0));
}`;

const gemmBias = (BM: number, BN: number, BK: number, WARPS: number, S: number, M: number, N: number, K: number): Case => ({
  text: GEMM_BIAS,
  kernel: 'gb',
  cfg: { BM, BN, BK, WARPS, S },
  tensors: { a: T('f16', [M, K]), b: T('f16', [K, N]), bias: T('f32', [N]), c: O('f32', [M, N]), rs: O('f32', [M]), cs: O('f32', [N]) },
});

/** Reductions of a whole 2-D tile to a scalar next to the axis reductions. */
const ALL_RED = `kernel allred(x: f32[M, N], r0: f32[N], r1: f32[M], rs: f32[G], rmax: f32[N], rmin: f32[M]) tune { BM in [4, 16, 64] = 16; BN in [8, 32, 128] = 32; WARPS in [1, 2, 4, 8] = 4; } grid [1] {
  let a = load(x[0 : BM, 0 : BN], other = 0.0);
  store(r0[0 : BN], sum(a, axis = 0));
  store(r1[0 : BM], sum(a, axis = 1));
  store(rs[0 : 1], sum(a)[None]);
  store(rmax[0 : BN], max(a, axis = 0));
  store(rmin[0 : BM], min(a, axis = 1));
}`;

/** sum, max and min of a 1-D tile to scalars. */
const RED_1D = `kernel red1(x: f32[N], s: f32[G]) tune { B in [16, 128, 256] = 128; WARPS in [1, 4, 8] = 4; } grid [1] {
  let a = load(x[0 : B]);
  store(s[0 : 4], where(arange(4) == 0, sum(a), where(arange(4) == 1, max(a), min(a))));
}`;

/** A loop carrying a vector and a scalar, a nested loop, and an `if` on a whole-tile max. */
const LOOP_IF_MAX = `kernel lim(x: f32[M, N], o: f32[M], s: f32[G], thr: f32) tune { BM in [16, 64] = 16; BN in [16, 64] = 16; WARPS in [1, 2, 4, 8] = 4; } grid [cdiv(M, BM)] {
  let m0 = program_id(0) * BM;
  var acc = zeros([BM], f32);
  var cnt = 0.0;
  var big = full([BM], -inf, f32);
  for n0 in range(0, N, BN) {
    let t = load(x[m0 : BM, n0 : BN]);
    acc += sum(t, axis = 1);
    for j in range(0, 2) {
      cnt = cnt + 1.0;
    }
    if max(t) > thr {
      big = maximum(big, max(t, axis = 1));
    } else {
      big = big + 0.5;
    }
  }
  store(o[m0 : BM], acc + big);
  store(s[program_id(0) : 1], full([1], cnt, f32));
}`;

/** The same loop with the `if` on the loop variable and a scalar parameter (no reduction). */
const LOOP_IF_VAR = LOOP_IF_MAX.replace('kernel lim(', 'kernel liv(').replace('if max(t) > thr {', 'if (n0 / BN) % 3 != 1 && thr > 0.0 {');

/** A register `dot` operand (staged through shared memory) used in both branches of an `if`. */
const IF_STAGED = `kernel ifst(a: f16[M, K], b: f16[K, N], c: f32[M, N], flag: i32) tune { WARPS in [4, 8] = 8; } grid [1] {
  let p = (load(a[0 : 64, 0 : 32]) * 2.0) as f16;
  var acc = zeros([64, 64], f32);
  if flag > 0 {
    acc = dot(p, load(b[0 : 32, 0 : 64]));
  } else {
    acc = dot(p, load(b[0 : 32, 0 : 64])) + 1.0;
  }
  store(c[0 : 64, 0 : 64], acc);
}`;

/** `dot` of loads with `other = 1.0`, then an f16 `+ 1.0`. */
const OTHER_DOT = `kernel odot(a: f16[M, K], b: f16[K, N], c: f16[M, N]) tune { WARPS in [4] = 4; } grid [1] {
  let acc = dot(load(a[0 : 64, 0 : 32], other = 1.0), load(b[0 : 32, 0 : 64], other = 1.0));
  store(c[0 : 64, 0 : 64], acc as f16 + 1.0);
}`;

/** A pipelined k loop nested in an n loop. */
const NESTED_PIPE = `kernel npipe(a: f16[M, K], b: f16[K, N], c: f32[M, N]) tune { S in [1, 2, 3, 4] = 2; WARPS in [4, 8] = 4; } grid [cdiv(M, 64)] {
  let m0 = program_id(0) * 64;
  for n0 in range(0, N, 32) {
    var acc = zeros([64, 32], f32);
    for k0 in range(0, K, 16) pipelined(S) {
      acc = dot(load(a[m0 : 64, k0 : 16]), load(b[k0 : 16, n0 : 32]), acc);
    }
    store(c[m0 : 64, n0 : 32], acc);
  }
}`;

/** Integer arithmetic with negative operands and divisors that are zero at run time. */
const INT_DIV = `kernel idiv(x: i32[N], y: i32[N], o: i32[N], o2: i32[N], o3: i32[N]) grid [cdiv(N, 128)] {
  let i0 = program_id(0) * 128; let a = load(x[i0 : 128]); let b = load(y[i0 : 128]);
  store(o[i0 : 128], a / b); store(o2[i0 : 128], a % b); store(o3[i0 : 128], -a / 7 + a % -5 + maximum(a, b) * minimum(a, -b) + abs(a));
}`;

/** i32 → bf16 and i32 → f16 casts. */
const INT_TO_HALF = `kernel i2h(x: i32[N], o: bf16[N], o2: f16[N]) grid [cdiv(N, 128)] { let i0 = program_id(0) * 128; let a = load(x[i0 : 128]); store(o[i0 : 128], a as bf16); store(o2[i0 : 128], a as f16); }`;

const EW_1D = `kernel ew(x: f32[N], y: f32[N], o: f32[N]) tune { B in [16, 64, 128, 256, 1024] = 256; WARPS in [1, 2, 4, 8] = 4; } grid [cdiv(N, B)] {
  let i0 = program_id(0) * B;
  let a = load(x[i0 : B]);
  let b = load(y[i0 : B], other = 1.0);
  store(o[i0 : B], a * b + exp(a) - sqrt(abs(b)) / (a + 3.0));
}`;

const EW_2D = `kernel ew2(x: f16[M, N], o: f16[M, N]) tune { BM in [1, 4, 16, 64] = 16; BN in [8, 16, 64, 128] = 64; WARPS in [1, 2, 4, 8] = 4; } grid [cdiv(M, BM), cdiv(N, BN)] {
  let m0 = program_id(0) * BM; let n0 = program_id(1) * BN;
  let a = load(x[m0 : BM, n0 : BN]);
  store(o[m0 : BM, n0 : BN], tanh(a) * 2.0 + sigmoid(a) - silu(a) + gelu(a));
}`;

const CASTS = `kernel casts(x: f32[N], o16: f16[N], ob: bf16[N], oi: i32[N], of: f32[N], ob2: f32[N], oi2: i32[N]) tune { B in [64, 256] = 256; WARPS in [1, 4] = 4; } grid [cdiv(N, B)] {
  let i0 = program_id(0) * B;
  let a = load(x[i0 : B]) * 1000.0;
  store(o16[i0 : B], a as f16);
  store(ob[i0 : B], a as bf16);
  store(oi[i0 : B], a as i32);
  store(of[i0 : B], ((a as f16) as bf16) as f32 + ((a as i32) as f16) as f32);
  store(ob2[i0 : B], ((a > 0.0) as f32) + (((a as i32) % 3 == 0) as f16) as f32 + ((a as bool) as i32) as f32);
  store(oi2[i0 : B], (a as bf16) as i32 + ((a * 100000.0) as i32));
}`;

const WHERE_MASK = `kernel wm(x: f32[M, N], o: f32[M, N]) tune { BM in [4, 16, 64] = 16; BN in [16, 64] = 64; WARPS in [1, 2, 4, 8] = 4; } grid [cdiv(M, BM), cdiv(N, BN)] {
  let m0 = program_id(0) * BM; let n0 = program_id(1) * BN;
  let rows = m0 + arange(BM); let cols = n0 + arange(BN);
  let tri = cols[None, :] <= rows[:, None];
  let a = load(x[m0 : BM, n0 : BN], other = -1.0, mask = tri);
  let b = where(tri && (cols % 2 == 0)[None, :], a * 2.0, a);
  store(o[m0 : BM, n0 : BN], b, mask = (rows % 3 != 1)[:, None]);
}`;

/** Rank-4 and rank-3 tensors; the grid runs one past H and B, so scalar indices go out of range. */
const RANK4 = `kernel r4(x: f32[B, H, S, D], o: f32[B, H, S, D], y: f16[B, S, D], oy: f16[B, S, D]) tune { BS in [16, 64] = 16; WARPS in [1, 4] = 4; } grid [cdiv(S, BS), H + 1, B + 1] {
  let s0 = program_id(0) * BS; let h = program_id(1); let b = program_id(2);
  let t = load(x[b, h, s0 : BS, 0 : 32], other = 7.0);
  store(o[b, h, s0 : BS, 0 : 32], t * 3.0 + h as f32);
  let u = load(y[b, s0 : BS, 0 : 32], other = 1.0);
  store(oy[b, s0 : BS, 0 : 32], u + (h as f16));
}`;

const NEG_INDEX = `kernel negi(x: f32[B, S], o: f32[B, S]) grid [B] { let b = program_id(0); let t = load(x[b - 1, 0 : 64], other = 5.0); store(o[b, 0 : 64], t); store(o[b - 1, 0 : 64], t, mask = arange(64) < 0); }`;

/** Scalar loads and stores in a loop with an `if` on loaded data. */
const SCALARS = `kernel sc(x: f32[N], f: i32[F], o: f32[N]) tune { WARPS in [1, 4] = 4; } grid [2] {
  let p = program_id(0);
  var t = load(x[p]);
  for i in range(0, 3) {
    if load(f[i]) > p {
      t = t * 2.0 + load(x[i + p]);
    }
    store(o[i * 2 + p], t);
  }
  let v = load(x[0 : 8]) + t;
  store(o[6 + p * 8 : 8], v);
}`;

/** A loop-carried f16 vector and a store indexed by the loop variable. */
const PREFIX = `kernel pre(x: f16[M, N], o: f16[M, N]) tune { WARPS in [1, 2, 4, 8] = 4; } grid [1] {
  var run = zeros([32], f16);
  for r in range(0, M) {
    run = run + load(x[r, 0 : 32]);
    store(o[r, 0 : 32], run);
  }
}`;

/** exp of a dot, cast to f16, feeding a second dot (attention without the running max). */
const EXP_DOT_DOT = `kernel edd(q: f16[M, D], kk: f16[T, D], v: f16[T, D], o: f32[M, D]) const { D: int = 64; } tune { BM in [16, 32, 64, 128] = 64; BN in [16, 32, 64] = 32; WARPS in [1, 2, 4, 8] = 4; } grid [cdiv(M, BM)] {
  let m0 = program_id(0) * BM;
  let qt = load(q[m0 : BM, 0 : D]);
  var acc = zeros([BM, D], f32);
  for n0 in range(0, T, BN) {
    let s = dot(qt, transpose(load(kk[n0 : BN, 0 : D]))) * 0.125;
    let p = where((n0 + arange(BN))[None, :] < T, exp(s), 0.0);
    acc = dot(p as f16, load(v[n0 : BN, 0 : D]), acc);
  }
  store(o[m0 : BM, 0 : D], acc);
}`;

/** bf16 pipelined GEMM whose k range starts at a run-time offset (ragged, possibly empty). */
const PIPE_BF16 = `kernel pbf(a: bf16[M, K], b: bf16[K, N], bias: f16[N], c: bf16[M, N], ci: i32[M, N], k1: i32) tune { S in [1, 2, 3, 4] = 2; WARPS in [1, 2, 4, 8] = 4; } grid [cdiv(M, 64), cdiv(N, 64), 2] {
  let m0 = program_id(0) * 64; let n0 = program_id(1) * 64; let z = program_id(2);
  var acc = zeros([64, 64], f32);
  for k0 in range(k1 + z * 16, K, 32) pipelined(S) {
    acc = dot(load(a[m0 : 64, k0 : 32]), load(b[k0 : 32, n0 : 64]), acc);
  }
  let r = acc + (load(bias[n0 : 64]) as f32)[None, :];
  store(c[m0 : 64, n0 : 64], r as bf16, mask = ((m0 + arange(64)) % 2 == z)[:, None]);
  store(ci[m0 : 64, n0 : 64], (r * 8.0) as i32 + (n0 + arange(64))[None, :] * z, mask = ((m0 + arange(64)) % 2 == z)[:, None]);
}`;

/** A register-computed first `dot` operand and a transposed second one. */
const AREG_BT = `kernel arb(a: f16[M, K], b: f16[N, K], c: f32[M, N]) tune { BM in [16, 32, 64, 128] = 64; BN in [8, 16, 32, 64] = 64; BK in [16, 32, 64] = 32; WARPS in [1, 2, 4, 8] = 4; S in [1, 2, 3] = 2; } grid [cdiv(M, BM), cdiv(N, BN)] {
  let m0 = program_id(0) * BM; let n0 = program_id(1) * BN;
  var acc = zeros([BM, BN], f32);
  for k0 in range(0, K, BK) pipelined(S) {
    acc = dot((load(a[m0 : BM, k0 : BK]) * 2.0) as f16, transpose(load(b[n0 : BN, k0 : BK])), acc);
  }
  store(c[m0 : BM, n0 : BN], acc);
}`;

// ---------------------------------------------------------------------------------------------
// The bugs
// ---------------------------------------------------------------------------------------------

describe('reductions along axis 0 across warps', () => {
  for (const [BM, BN, WARPS, N] of [
    [16, 64, 8, 70],
    [64, 64, 8, 70],
    [64, 128, 8, 100],
    // Fewer warps (these passed the review): the fix must keep them right.
    [64, 16, 4, 70],
    [64, 64, 2, 70],
    [16, 16, 1, 70],
  ] as const) {
    it(`softmax over the columns of a [${BM}, ${BN}] tile, WARPS=${WARPS}`, () => {
      check({ text: COL_SOFTMAX, kernel: 'colsm', cfg: { BM, BN, WARPS }, tensors: { x: T('f32', [BM, N]), o: O('f32', [BM, N]) } });
    });
  }
  for (const [BM, BN, WARPS] of [
    [16, 32, 4],
    [64, 32, 8],
  ] as const) {
    it(`sum/max along both axes of a ragged [${BM}, ${BN}] tile (f32 and i32), WARPS=${WARPS}`, () => {
      check({
        text: AXIS_RED,
        kernel: 'axred',
        cfg: { BM, BN, WARPS },
        tensors: { x: T('f32', [BM - 1, BN - 3]), r0: O('f32', [BN]), r1: O('f32', [BM]), rmax: O('f32', [BN]), rmin: O('f32', [BM]), ri: O('i32', [BN]) },
      });
    });
  }
  it('max(acc + bias[None, :], axis = 0) after a 64×64 pipelined dot, WARPS=8', () => {
    check(gemmBias(64, 64, 32, 8, 3, 70, 50, 72));
  });
});

describe('reductions to a scalar across warps', () => {
  for (const [B, WARPS] of [
    [128, 4],
    [128, 8],
  ] as const) {
    it(`sum, max, min of a [${B}] tile, WARPS=${WARPS}`, () => {
      check({ text: RED_1D, kernel: 'red1', cfg: { B, WARPS }, tensors: { x: T('f32', [150]), s: O('f32', [4]) } });
    });
  }
  for (const WARPS of [2, 4, 8]) {
    it(`sum of a [16, 32] tile next to the axis reductions, WARPS=${WARPS}`, () => {
      check({
        text: ALL_RED,
        kernel: 'allred',
        cfg: { BM: 16, BN: 32, WARPS },
        tensors: { x: T('f32', [16, 32]), r0: O('f32', [32]), r1: O('f32', [16]), rs: O('f32', [1]), rmax: O('f32', [32]), rmin: O('f32', [16]) },
      });
    });
  }
  for (const [BM, BN, WARPS] of [
    [16, 16, 4],
    [64, 16, 8],
  ] as const) {
    it(`if max(t) > thr inside a loop, [${BM}, ${BN}] tiles, WARPS=${WARPS}`, () => {
      check({
        text: LOOP_IF_MAX,
        kernel: 'lim',
        cfg: { BM, BN, WARPS },
        scalars: { thr: 2.2 },
        tensors: { x: T('f32', [40, 50]), o: O('f32', [40]), s: O('f32', [Math.ceil(40 / BM)]) },
      });
    });
  }
});

describe('a register dot operand staged through shared memory inside an if', () => {
  for (const WARPS of [8, 4]) {
    for (const flag of [1, 0]) {
      it(`WARPS=${WARPS}, flag=${flag}`, () => {
        check({ text: IF_STAGED, kernel: 'ifst', cfg: { WARPS }, scalars: { flag }, tensors: { a: T('f16', [64, 32]), b: T('f16', [32, 64]), c: O('f32', [64, 64]) } });
      });
    }
  }
});

describe('loads feeding dot with other = 1.0, then an f16 + 1.0', () => {
  it('aligned rows (the cp.async path)', () => {
    check({ text: OTHER_DOT, kernel: 'odot', tensors: { a: T('f16', [50, 32]), b: T('f16', [32, 40]), c: O('f16', [50, 40]) } });
  });
  it('unaligned rows (the scalar copy path)', () => {
    check({ text: OTHER_DOT, kernel: 'odot', tensors: { a: T('f16', [50, 30]), b: T('f16', [30, 41]), c: O('f16', [50, 41]) } });
  });
});

describe('a pipelined loop nested in another loop (K=48): clean sanitizer', () => {
  for (const S of [2, 3, 4]) {
    for (const WARPS of [4, 8]) {
      it(`pipelined(${S}), WARPS=${WARPS}`, () => {
        check({ text: NESTED_PIPE, kernel: 'npipe', cfg: { S, WARPS }, tensors: { a: T('f16', [64, 48]), b: T('f16', [48, 96]), c: O('f32', [64, 96]) } });
      });
    }
  }
  it('pipelined(1), WARPS=4', () => {
    check({ text: NESTED_PIPE, kernel: 'npipe', cfg: { S: 1, WARPS: 4 }, tensors: { a: T('f16', [64, 48]), b: T('f16', [48, 96]), c: O('f32', [64, 96]) } });
  });
});

describe('integer / and % by a run-time zero give 0, as in the interpreter', () => {
  it('random operands, every tenth divisor zero', () => {
    check({
      text: INT_DIV,
      kernel: 'idiv',
      tensors: {
        x: T('i32', [300], { gen: (_, r) => Math.floor((r.next() - 0.5) * 200) }),
        y: T('i32', [300], { gen: (i, r) => (i % 10 === 0 ? 0 : Math.floor((r.next() - 0.5) * 20)) }),
        o: O('i32', [300]),
        o2: O('i32', [300]),
        o3: O('i32', [300]),
      },
    });
  });
  it('INT_MIN / -1 and INT_MIN % -1', () => {
    check({
      text: INT_DIV,
      kernel: 'idiv',
      tensors: { x: T('i32', [128], { gen: () => -2147483648 }), y: T('i32', [128], { gen: () => -1 }), o: O('i32', [128]), o2: O('i32', [128]), o3: O('i32', [128]) },
    });
  });
});

describe('scalar parameters of dtype f16, bf16 and bool are rejected with TK4003', () => {
  const kernels: Record<string, string> = {
    f16: `kernel sp(x: f32[N], o: f32[N], h: f16) grid [1] { let t = load(x[0 : 64]); store(o[0 : 64], t * (h as f32)); }`,
    bf16: `kernel sp(x: f32[N], o: f32[N], h: bf16) grid [1] { let t = load(x[0 : 64]); store(o[0 : 64], t * (h as f32)); }`,
    bool: `kernel sp(x: f32[N], o: f32[N], f: bool) grid [1] { let t = load(x[0 : 64]); store(o[0 : 64], where(f, t * 2.0, t)); }`,
    'f16 and bool': `kernel sp(x: f32[N], o: f32[N], h: f16, f: bool) grid [1] { let t = load(x[0 : 64]); store(o[0 : 64], where(f, t * (h as f32), t)); }`,
  };
  for (const [what, text] of Object.entries(kernels)) {
    it(`${what}`, () => {
      const src = new SourceText('sp.tile', text);
      const ir = buildText(src, 'sp');
      const r = withContext(`${what} scalar parameter: compilePtx`, () => compilePtx(ir, 'sm_80', src));
      expect(r.compiled === undefined, `${what} scalar parameter: the backend emitted PTX instead of TK4003`).toBe(true);
      expect(r.diagnostics.length, `${what}: ${r.diagnostics.map((d) => `${d.code}: ${d.message}`).join('; ')}`).toBeGreaterThan(0);
      for (const d of r.diagnostics) {
        expect(d.code, `${what}: ${d.message}`).toBe('TK4003');
        expect(d.severity).toBe('error');
      }
    });
  }
  it('i64 scalars and bool constants still compile and run', () => {
    check({
      text: `kernel s2(x: f32[N], o: f32[N], k: i64) grid [1] { let t = load(x[0 : 64]); store(o[0 : 64], where(full([64], true, bool) && arange(64) as i64 < k, t, 0.0)); }`,
      kernel: 's2',
      scalars: { k: 20 },
      tensors: { x: T('f32', [64]), o: O('f32', [64]) },
    });
  });
});

describe('i32 → bf16 rounds once, as in the interpreter', () => {
  // 16973823 = 129.49999… bf16 ulps above 2^24: rounds to 16908288, not (via f32's 16973824, a tie) to 17039360.
  const inputs = [16973823, 16842751, 65519, 65520, -2147483648, 2147483647, 2049, 4097, -16973823, 33554431, 16777217, 1];
  it('exact bf16 and f16 results', () => {
    check({
      text: INT_TO_HALF,
      kernel: 'i2h',
      tensors: { x: T('i32', [200], { gen: (i) => inputs[i % inputs.length]! }), o: O('bf16', [200], { exact: true }), o2: O('f16', [200], { exact: true }) },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Kernels that passed the review: keep them so
// ---------------------------------------------------------------------------------------------

describe('kernels that passed the review', () => {
  for (const B of [16, 64]) {
    for (const WARPS of [1, 2, 4, 8]) {
      it(`1-D elementwise, B=${B} WARPS=${WARPS}, N=100`, () => {
        check({ text: EW_1D, kernel: 'ew', cfg: { B, WARPS }, tensors: { x: T('f32', [100]), y: T('f32', [100]), o: O('f32', [100]) } });
      });
    }
  }
  for (const [BM, BN, WARPS] of [
    [1, 128, 4],
    [4, 8, 8],
    [16, 64, 4],
    [64, 16, 8],
    [16, 64, 1],
  ] as const) {
    it(`2-D f16 elementwise (tanh, sigmoid, silu, gelu), [${BM}, ${BN}] WARPS=${WARPS}, [37, 101]`, () => {
      check({ text: EW_2D, kernel: 'ew2', cfg: { BM, BN, WARPS }, tensors: { x: T('f16', [37, 101]), o: O('f16', [37, 101]) } });
    });
  }
  for (const WARPS of [1, 4]) {
    it(`casts between f32, f16, bf16, i32, bool (exact), WARPS=${WARPS}`, () => {
      const n = 300;
      check({
        text: CASTS,
        kernel: 'casts',
        cfg: { WARPS },
        tensors: {
          x: T('f32', [n], { scale: 100 }),
          o16: O('f16', [n], { exact: true }),
          ob: O('bf16', [n], { exact: true }),
          oi: O('i32', [n]),
          of: O('f32', [n], { exact: true }),
          ob2: O('f32', [n], { exact: true }),
          oi2: O('i32', [n]),
        },
      });
    });
  }
  for (const [BM, BN, WARPS] of [
    [4, 16, 1],
    [16, 64, 4],
    [64, 16, 2],
    [64, 64, 8],
  ] as const) {
    it(`where, load/store masks, [${BM}, ${BN}] WARPS=${WARPS}, [40, 70]`, () => {
      check({ text: WHERE_MASK, kernel: 'wm', cfg: { BM, BN, WARPS }, tensors: { x: T('f32', [40, 70]), o: O('f32', [40, 70]) } });
    });
  }
  for (const [BS, WARPS] of [
    [16, 1],
    [64, 4],
  ] as const) {
    it(`rank-4 and rank-3 tensors, out-of-range scalar indices, BS=${BS} WARPS=${WARPS}`, () => {
      check({
        text: RANK4,
        kernel: 'r4',
        cfg: { BS, WARPS },
        tensors: { x: T('f32', [2, 3, 40, 30]), o: O('f32', [2, 3, 40, 30]), y: T('f16', [2, 40, 30]), oy: O('f16', [2, 40, 30]) },
      });
    });
  }
  it('a negative scalar index', () => {
    check({ text: NEG_INDEX, kernel: 'negi', tensors: { x: T('f32', [3, 50]), o: O('f32', [3, 50]) } });
  });
  for (const [BM, BN, WARPS] of [
    [16, 16, 1],
    [16, 16, 4],
    [64, 16, 8],
  ] as const) {
    it(`nested loops with an if on the loop variable, [${BM}, ${BN}] WARPS=${WARPS}`, () => {
      check({
        text: LOOP_IF_VAR,
        kernel: 'liv',
        cfg: { BM, BN, WARPS },
        scalars: { thr: 2.2 },
        tensors: { x: T('f32', [40, 70]), o: O('f32', [40]), s: O('f32', [Math.ceil(40 / BM)]) },
      });
    });
  }
  for (const WARPS of [1, 4]) {
    it(`scalar loads and stores in a loop with an if, WARPS=${WARPS}`, () => {
      check({ text: SCALARS, kernel: 'sc', cfg: { WARPS }, tensors: { x: T('f32', [30]), f: T('i32', [3], { gen: (i) => i }), o: O('f32', [30]) } });
    });
  }
  for (const WARPS of [1, 8]) {
    it(`a loop-carried f16 vector, WARPS=${WARPS}`, () => {
      check({ text: PREFIX, kernel: 'pre', cfg: { WARPS }, tensors: { x: T('f16', [9, 30]), o: O('f16', [9, 30]) } });
    });
  }
  for (const [BM, BN, BK, WARPS, S, M, N, K] of [
    [16, 8, 16, 1, 1, 20, 9, 33],
    [32, 16, 16, 2, 2, 40, 17, 40],
    [64, 32, 32, 4, 1, 10, 5, 7],
  ] as const) {
    it(`bias-add GEMM, BM=${BM} BN=${BN} BK=${BK} WARPS=${WARPS} S=${S}, ${M}×${N}×${K}`, () => {
      check(gemmBias(BM, BN, BK, WARPS, S, M, N, K));
    });
  }
  for (const [BM, BN, WARPS] of [
    [16, 16, 1],
    [32, 16, 2],
    [64, 32, 4],
    [64, 32, 8],
  ] as const) {
    it(`exp(dot) as f16 feeding a second dot, BM=${BM} BN=${BN} WARPS=${WARPS}`, () => {
      check({
        text: EXP_DOT_DOT,
        kernel: 'edd',
        cfg: { BM, BN, WARPS },
        tensors: { q: T('f16', [40, 64], { scale: 0.3 }), kk: T('f16', [45, 64], { scale: 0.3 }), v: T('f16', [45, 64]), o: O('f32', [40, 64]) },
      });
    });
  }
  for (const [S, WARPS, k1, M, N, K] of [
    [1, 1, 5, 17, 9, 40],
    [2, 4, 8, 40, 40, 104],
    [3, 8, 0, 64, 64, 64],
    [4, 2, 100, 40, 40, 64],
    [4, 8, -16, 40, 72, 136],
  ] as const) {
    it(`bf16 pipelined(${S}) GEMM with ragged K from a run-time start, WARPS=${WARPS} k1=${k1}, ${M}×${N}×${K}`, () => {
      check({
        text: PIPE_BF16,
        kernel: 'pbf',
        cfg: { S, WARPS },
        scalars: { k1 },
        tensors: { a: T('bf16', [M, K]), b: T('bf16', [K, N]), bias: T('f16', [N]), c: O('bf16', [M, N]), ci: O('i32', [M, N]) },
      });
    });
  }
  for (const [BM, BN, BK, WARPS, S, M, N, K] of [
    [16, 8, 16, 1, 2, 17, 9, 20],
    [32, 32, 16, 2, 3, 33, 40, 50],
    [64, 64, 32, 8, 3, 70, 50, 90],
  ] as const) {
    it(`register first dot operand, transposed second, BM=${BM} BN=${BN} BK=${BK} WARPS=${WARPS} S=${S}`, () => {
      check({ text: AREG_BT, kernel: 'arb', cfg: { BM, BN, BK, WARPS, S }, tensors: { a: T('f16', [M, K]), b: T('f16', [N, K]), c: O('f32', [M, N]) } });
    });
  }
});
