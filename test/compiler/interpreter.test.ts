/**
 * The reference interpreter on small hand-written kernels, with exact expected values: edge
 * masking, rounding to narrow dtypes, f32 accumulation in dot and sum, broadcasting, control
 * flow, the grid, and argument errors.
 */
import { describe, expect, it } from 'vitest';
import type { IRKernel } from '../../compiler/ir.js';
import { InterpretError, type KernelArgs, type TensorArg, gridOf, interpret } from '../../compiler/interpreter.js';
import type { DType } from '../../dsl/dtype.js';
import { SourceText } from '../../dsl/source.js';
import { buildText } from '../support/build.js';
import { makeRng, randomTensor, seedFromEnv } from '../support/random.js';

const SEED = seedFromEnv(20260417);

// ---- helpers ----

function build(text: string, overrides: Record<string, string | number | boolean> = {}): IRKernel {
  return buildText(new SourceText('t.tile', text), undefined, overrides);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function tensor(dtype: DType, shape: number[], data: ArrayLike<number>): TensorArg {
  if (data.length !== numel(shape)) throw new Error(`tensor: ${data.length} values for shape [${shape.join(', ')}]`);
  return { dtype, shape, data: Float64Array.from(data) };
}

/** An output filled with `fill` (NaN by default) so that unwritten elements show. */
function output(dtype: DType, shape: number[], fill = NaN): TensorArg {
  return { dtype, shape, data: new Float64Array(numel(shape)).fill(fill) };
}

function run(ir: IRKernel, args: Record<string, TensorArg | number>): void {
  interpret(ir, new Map(Object.entries(args)) as KernelArgs);
}

function values(t: TensorArg): number[] {
  return Array.from(t.data);
}

const iota = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

// ---- edge masking ----

describe('edge masking', () => {
  const COPY_1D = `
    kernel copy(x: f32[N], y: f32[N]) grid [cdiv(N, 64)] {
      let i0 = program_id(0) * 64;
      store(y[i0 : 64], load(x[i0 : 64]));
    }`;

  it('copies a 1-D tensor of 100 elements with tiles of 64, writing every element', () => {
    const ir = build(COPY_1D);
    const x = tensor('f32', [100], iota(100, 1));
    const y = output('f32', [100]);
    run(ir, { x, y });
    expect(gridOf(ir, new Map<string, TensorArg | number>([['x', x], ['y', y]]))).toEqual([2]);
    expect(values(y)).toEqual(values(x));
  });

  it('copies a 77x45 tensor with 32x32 tiles (both dims ragged)', () => {
    const ir = build(`
      kernel copy2(x: f32[M, N], y: f32[M, N]) grid [cdiv(M, 32), cdiv(N, 32)] {
        let m0 = program_id(0) * 32;
        let n0 = program_id(1) * 32;
        store(y[m0 : 32, n0 : 32], load(x[m0 : 32, n0 : 32]));
      }`);
    const seed = SEED + 1;
    const x = tensor('f32', [77, 45], randomTensor(makeRng(seed), 77 * 45, 'f32'));
    const y = output('f32', [77, 45]);
    run(ir, { x, y });
    expect(values(y), `seed=${seed}`).toEqual(values(x));
  });

  it('drops the out-of-range part of a ragged 2-D store instead of wrapping it into the next row', () => {
    // Every element gets its own row*1000+col; an unmasked column overflow would overwrite the
    // start of the next row with a larger value, in a program that runs after the owner.
    const ir = build(`
      kernel index(y: i32[M, N]) grid [cdiv(M, 32), cdiv(N, 32)] {
        let rows = program_id(0) * 32 + arange(32);
        let cols = program_id(1) * 32 + arange(32);
        store(y[program_id(0) * 32 : 32, program_id(1) * 32 : 32], rows[:, None] * 1000 + cols[None, :]);
      }`);
    const y = output('i32', [77, 45], -1);
    run(ir, { y });
    const want = Array.from({ length: 77 * 45 }, (_, i) => Math.floor(i / 45) * 1000 + (i % 45));
    expect(values(y)).toEqual(want);
  });

  it('reads `other` outside the tensor', () => {
    const ir = build(`
      kernel k(x: f32[N], y: f32[P]) grid [1] {
        store(y[0 : 8], load(x[0 : 8], other = -1.0));
      }`);
    const y = output('f32', [8]);
    run(ir, { x: tensor('f32', [5], [10, 11, 12, 13, 14]), y });
    expect(values(y)).toEqual([10, 11, 12, 13, 14, -1, -1, -1]);
  });

  it('reads 0 outside the tensor when no `other` is given', () => {
    const ir = build(`
      kernel k(x: f32[N], y: f32[P]) grid [1] {
        store(y[0 : 4], load(x[0 : 4]));
      }`);
    const y = output('f32', [4]);
    run(ir, { x: tensor('f32', [2], [7, 8]), y });
    expect(values(y)).toEqual([7, 8, 0, 0]);
  });

  describe('a scalar index', () => {
    const ir = build(`
      kernel row(x: f32[R, C], r: i32, y: f32[C]) grid [1] {
        store(y[0 : 4], load(x[r, 0 : 4], other = -2.0));
      }`);
    const x = tensor('f32', [3, 4], iota(12));

    it('inside the tensor selects one row', () => {
      const y = output('f32', [4]);
      run(ir, { x, r: 1, y });
      expect(values(y)).toEqual([4, 5, 6, 7]);
    });

    it.each([3, -1, 100])('outside the tensor (%i) masks the whole tile', (r) => {
      const y = output('f32', [4]);
      run(ir, { x, r, y });
      expect(values(y)).toEqual([-2, -2, -2, -2]);
    });
  });

  it('masks the elements of a load before a negative slice start', () => {
    const ir = build(`
      kernel k(x: f32[N], s: i32, y: f32[N]) grid [1] {
        store(y[0 : 8], load(x[s : 8], other = 9.0));
      }`);
    const y = output('f32', [8]);
    run(ir, { x: tensor('f32', [8], iota(8, 1)), s: -3, y });
    expect(values(y)).toEqual([9, 9, 9, 1, 2, 3, 4, 5]);
  });

  it('drops the elements of a store before a negative slice start', () => {
    const ir = build(`
      kernel k(x: f32[N], s: i32, y: f32[N]) grid [1] {
        store(y[s : 8], load(x[0 : 8]));
      }`);
    const y = output('f32', [8]);
    run(ir, { x: tensor('f32', [8], iota(8, 1)), s: -3, y });
    expect(values(y)).toEqual([4, 5, 6, 7, 8, NaN, NaN, NaN]);
  });

  it('reads `other` where the load mask is false', () => {
    const ir = build(`
      kernel k(x: f32[N], y: f32[N]) grid [1] {
        store(y[0 : 8], load(x[0 : 8], mask = arange(8) % 2 == 0, other = 5.0));
      }`);
    const y = output('f32', [8]);
    run(ir, { x: tensor('f32', [8], iota(8, 10)), y });
    expect(values(y)).toEqual([10, 5, 12, 5, 14, 5, 16, 5]);
  });

  it('leaves the elements where the store mask is false untouched', () => {
    const ir = build(`
      kernel k(x: f32[N], y: f32[N]) grid [1] {
        store(y[0 : 8], load(x[0 : 8]), mask = arange(8) < 5);
      }`);
    const y = output('f32', [8]);
    run(ir, { x: tensor('f32', [8], iota(8, 10)), y });
    expect(values(y)).toEqual([10, 11, 12, 13, 14, NaN, NaN, NaN]);
  });

  it('broadcasts a lower-rank mask over a 2-D store and still drops out-of-range elements', () => {
    const ir = build(`
      kernel k(y: f32[M, N]) grid [1] {
        store(y[0 : 4, 0 : 4], full([4, 4], 1.0, f32), mask = arange(4)[None, :] != 1);
      }`);
    const y = output('f32', [3, 3]);
    run(ir, { y });
    expect(values(y)).toEqual([1, NaN, 1, 1, NaN, 1, 1, NaN, 1]);
  });
});

// ---- rounding ----

describe('rounding', () => {
  const CAST_STORE = (to: DType): string => `
    kernel k(x: f32[N], y: ${to}[N]) grid [1] {
      store(y[0 : 8], load(x[0 : 8]) as ${to});
    }`;

  it('rounds f32 to f16 to nearest, ties to even', () => {
    const x = [1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -11 + 2 ** -20, -(1 + 3 * 2 ** -11), 2049, 2051, 65519];
    const y = output('f16', [8]);
    run(build(CAST_STORE('f16')), { x: tensor('f32', [8], x), y });
    expect(values(y)).toEqual([1, 1, 1 + 2 ** -9, 1 + 2 ** -10, -(1 + 2 ** -9), 2048, 2052, 65504]);
  });

  it('rounds f32 to bf16 to nearest, ties to even', () => {
    const x = [1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -(1 + 3 * 2 ** -8), 257, 259, 3 * 2 ** 120];
    const y = output('bf16', [8]);
    run(build(CAST_STORE('bf16')), { x: tensor('f32', [8], x), y });
    expect(values(y)).toEqual([1, 1, 1 + 2 ** -6, 1 + 2 ** -7, -(1 + 2 ** -6), 256, 260, 3 * 2 ** 120]);
  });

  it('overflows 65520 to Infinity in f16, at run time and when folded at compile time', () => {
    const ir = build(`
      kernel k(x: f32[N], y: f16[P]) grid [1] {
        store(y[0 : 2], load(x[0 : 2]) as f16);
        store(y[2 : 1], 65520.0 as f16);
        store(y[3 : 1], 65519.0 as f16);
      }`);
    const y = output('f16', [4]);
    run(ir, { x: tensor('f32', [2], [65520, -65520]), y });
    expect(values(y)).toEqual([Infinity, -Infinity, Infinity, 65504]);
  });

  it('rounds every f16 operation: (2048 + 1) - 2048 is 0 in f16 and 1 in f32', () => {
    const text = (d: DType): string => `
      kernel k(x: ${d}[N], y: ${d}[N]) grid [1] {
        store(y[0 : 1], (load(x[0 : 1]) + 1.0) - 2048.0);
      }`;
    const y16 = output('f16', [1]);
    run(build(text('f16')), { x: tensor('f16', [1], [2048]), y: y16 });
    expect(values(y16)).toEqual([0]);
    const y32 = output('f32', [1]);
    run(build(text('f32')), { x: tensor('f32', [1], [2048]), y: y32 });
    expect(values(y32)).toEqual([1]);
  });

  it('rounds every bf16 operation: (256 + 1) - 256 is 0 in bf16', () => {
    const ir = build(`
      kernel k(x: bf16[N], y: bf16[N]) grid [1] {
        store(y[0 : 1], (load(x[0 : 1]) + 1.0) - 256.0);
      }`);
    const y = output('bf16', [1]);
    run(ir, { x: tensor('bf16', [1], [256]), y });
    expect(values(y)).toEqual([0]);
  });

  it('truncates i32 division toward zero, gives % the sign of the left side, and wraps on overflow', () => {
    const ir = build(`
      kernel k(a: i32[N], b: i32[N], q: i32[N], r: i32[N], s: i32[N]) grid [1] {
        let x = load(a[0 : 4]);
        let y = load(b[0 : 4]);
        store(q[0 : 4], x / y);
        store(r[0 : 4], x % y);
        store(s[0 : 4], x + 2147483647);
      }`);
    const [q, r, s] = [output('i32', [4], 99), output('i32', [4], 99), output('i32', [4], 99)];
    run(ir, { a: tensor('i32', [4], [7, -7, 7, -7]), b: tensor('i32', [4], [2, 2, -2, -2]), q, r, s });
    expect(values(q)).toEqual([3, -3, -3, 3]);
    expect(values(r)).toEqual([1, -1, 1, -1]);
    expect(values(s)).toEqual([-2147483642, 2147483640, -2147483642, 2147483640]);
  });

  it('truncates toward zero when casting float to i32', () => {
    const ir = build(`
      kernel k(x: f32[N], y: i32[N]) grid [1] {
        store(y[0 : 8], load(x[0 : 8]) as i32);
      }`);
    const y = output('i32', [8], 99);
    run(ir, { x: tensor('f32', [8], [2.7, -2.7, 0.5, -0.5, 3, -3.99, 1e10, -1e10]), y });
    expect(values(y)).toEqual([2, -2, 0, 0, 3, -3, 2 ** 31 - 1, -(2 ** 31)]);
  });

  it('truncates toward zero when a constant float cast to i32 is folded', () => {
    const ir = build(`
      kernel k(y: i32[N]) grid [1] {
        store(y[0 : 1], 2.7 as i32);
        store(y[1 : 1], -2.7 as i32);
      }`);
    const y = output('i32', [2], 99);
    run(ir, { y });
    expect(values(y)).toEqual([2, -2]);
  });
});

// ---- dot and reductions ----

describe('dot', () => {
  it('accumulates in f32 in k order, rounding after every addition', () => {
    // Row 0: 2^24 first, then fifteen 1s: each 2^24 + 1 rounds back to 2^24 (ties to even).
    // Row 1: fifteen 1s first (exact 15), then 2^24: 2^24 + 15 rounds to 2^24 + 16.
    // Exact float64 would give 2^24 + 15 for both.
    const ir = build(`
      kernel k(a: f32[M, K], b: f32[K, N], c: f32[M, N]) grid [1] {
        store(c[0 : 2, 0 : 2], dot(load(a[0 : 2, 0 : 16]), load(b[0 : 16, 0 : 2])));
      }`);
    const big = 2 ** 24;
    const a = tensor('f32', [2, 16], [big, ...Array<number>(15).fill(1), ...Array<number>(15).fill(1), big]);
    const b = tensor('f32', [16, 2], Array<number>(32).fill(1));
    const c = output('f32', [2, 2]);
    run(ir, { a, b, c });
    expect(values(c)).toEqual([big, big, big + 16, big + 16]);
  });

  it('adds the products to the given accumulator', () => {
    const ir = build(`
      kernel k(a: f16[M, K], b: f16[K, N], c: f32[M, N]) grid [1] {
        store(c[0 : 2, 0 : 2], dot(load(a[0 : 2, 0 : 2]), load(b[0 : 2, 0 : 2]), full([2, 2], 100.0, f32)));
      }`);
    const c = output('f32', [2, 2]);
    run(ir, { a: tensor('f16', [2, 2], [1, 2, 3, 4]), b: tensor('f16', [2, 2], [5, 6, 7, 8]), c });
    expect(values(c)).toEqual([119, 122, 143, 150]);
  });

  it('forms f16 products exactly before the f32 addition', () => {
    // 2047 * 2047 = 4190209 needs 22 bits: exact in f32, though not representable in f16.
    const ir = build(`
      kernel k(a: f16[M, K], c: f32[M, N]) grid [1] {
        let t = load(a[0 : 1, 0 : 1]);
        store(c[0 : 1, 0 : 1], dot(t, t));
      }`);
    const c = output('f32', [1, 1]);
    run(ir, { a: tensor('f16', [1, 1], [2047]), c });
    expect(values(c)).toEqual([2047 * 2047]);
  });
});

describe('reductions', () => {
  const x23 = [1, 2, 3, 4, 5, 6];

  it('sums along axis 0', () => {
    const ir = build(`
      kernel k(x: f32[R, C], y: f32[C]) grid [1] {
        store(y[0 : 3], sum(load(x[0 : 2, 0 : 3]), axis = 0));
      }`);
    const y = output('f32', [3]);
    run(ir, { x: tensor('f32', [2, 3], x23), y });
    expect(values(y)).toEqual([5, 7, 9]);
  });

  it('sums along axis 1 (and axis -1)', () => {
    const ir = build(`
      kernel k(x: f32[R, C], y: f32[P]) grid [1] {
        store(y[0 : 2], sum(load(x[0 : 2, 0 : 3]), axis = 1));
        store(y[2 : 2], sum(load(x[0 : 2, 0 : 3]), axis = -1));
      }`);
    const y = output('f32', [4]);
    run(ir, { x: tensor('f32', [2, 3], x23), y });
    expect(values(y)).toEqual([6, 15, 6, 15]);
  });

  it('sums every axis to a scalar without an axis', () => {
    const ir = build(`
      kernel k(x: f32[R, C], y: f32[P]) grid [1] {
        store(y[0 : 1], sum(load(x[0 : 2, 0 : 3])));
      }`);
    const y = output('f32', [1]);
    run(ir, { x: tensor('f32', [2, 3], x23), y });
    expect(values(y)).toEqual([21]);
  });

  it('takes max and min over rows holding -inf', () => {
    const ir = build(`
      kernel k(x: f32[R, C], mx: f32[R], mn: f32[R]) grid [1] {
        let t = load(x[0 : 3, 0 : 3]);
        store(mx[0 : 3], max(t, axis = 1));
        store(mn[0 : 3], min(t, axis = 1));
      }`);
    const ninf = -Infinity;
    const mx = output('f32', [3]);
    const mn = output('f32', [3]);
    run(ir, { x: tensor('f32', [3, 3], [ninf, 2, 3, 4, ninf, -1, ninf, ninf, ninf]), mx, mn });
    expect(values(mx)).toEqual([3, 4, ninf]);
    expect(values(mn)).toEqual([ninf, ninf, ninf]);
  });

  it('sums f16 in f32 and returns f32 (2048 + 1 + 1 + 1 is 2051, not 2048)', () => {
    // The store into an f32 tensor only type-checks because sum of f16 is f32.
    const ir = build(`
      kernel k(x: f16[N], y: f32[P]) grid [1] {
        store(y[0 : 1], sum(load(x[0 : 4])));
      }`);
    const y = output('f32', [1]);
    run(ir, { x: tensor('f16', [4], [2048, 1, 1, 1]), y });
    expect(values(y)).toEqual([2051]);
  });

  it('sums in f32 in index order, rounding after every addition', () => {
    const ir = build(`
      kernel k(x: f32[N], y: f32[P]) grid [1] {
        store(y[0 : 1], sum(load(x[0 : 4])));
      }`);
    const y = output('f32', [1]);
    const big = 2 ** 24;
    run(ir, { x: tensor('f32', [4], [big, 1, 1, 1]), y });
    expect(values(y)).toEqual([big]);
  });
});

describe('elementwise math', () => {
  const xs = [-4, -2.5, -1, -0.5, 0, 0.25, 1, 3];
  const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  const cases: readonly (readonly [string, (x: number) => number, number[]])[] = [
    ['exp2', (x) => 2 ** x, xs],
    ['exp', (x) => Math.exp(x), xs],
    ['sigmoid', (x) => 1 / (1 + Math.exp(-x)), xs],
    ['silu', (x) => x / (1 + Math.exp(-x)), xs],
    ['gelu', gelu, xs],
    ['tanh', (x) => Math.tanh(x), xs],
    ['rsqrt', (x) => 1 / Math.sqrt(x), [0.25, 0.5, 1, 2, 3, 4, 10, 1e6]],
    ['sqrt', (x) => Math.sqrt(x), [0, 0.25, 0.5, 1, 2, 3, 4, 10]],
    ['log2', (x) => Math.log2(x), [0.25, 0.5, 1, 2, 3, 4, 10, 1e6]],
  ];
  it.each(cases)('%s matches the formula within f32 rounding', (fn, ref, input) => {
    const ir = build(`
      kernel k(x: f32[N], y: f32[N]) grid [1] {
        store(y[0 : 8], ${fn}(load(x[0 : 8])));
      }`);
    const y = output('f32', [8]);
    run(ir, { x: tensor('f32', [8], input), y });
    input.forEach((x, i) => {
      const want = ref(x);
      const got = y.data[i]!;
      expect(Math.fround(got), `${fn}(${x}) is an f32`).toBe(got);
      expect(Math.abs(got - want), `${fn}(${x}) = ${got}, formula ${want}`).toBeLessThanOrEqual(2 ** -24 * Math.abs(want));
    });
  });

  it('rounds math on f16 operands to f16', () => {
    const ir = build(`
      kernel k(x: f16[N], y: f16[N]) grid [1] {
        store(y[0 : 4], exp(load(x[0 : 4])));
      }`);
    const y = output('f16', [4]);
    run(ir, { x: tensor('f16', [4], [0, 1, -1, 2]), y });
    // e = 2.718281828… is 2.71875 in f16; e^-1 = 0.36787… is 0.36791992 (1507 * 2^-12); e^2 = 7.389… is 7.390625.
    expect(values(y)).toEqual([1, 2.71875, 1507 * 2 ** -12, 7.390625]);
  });
});

// ---- broadcasting ----

describe('broadcasting', () => {
  it('forms the outer sum rows[:, None] + cols[None, :]', () => {
    const ir = build(`
      kernel outer(r: f32[R], c: f32[C], y: f32[R, C]) grid [1] {
        let rows = load(r[0 : 8]);
        let cols = load(c[0 : 8]);
        store(y[0 : 8, 0 : 8], rows[:, None] + cols[None, :]);
      }`);
    const seed = SEED + 2;
    const rng = makeRng(seed);
    const [R, C] = [5, 7];
    const r = tensor('f32', [R], randomTensor(rng, R, 'f32'));
    const c = tensor('f32', [C], randomTensor(rng, C, 'f32'));
    const y = output('f32', [R, C]);
    run(ir, { r, c, y });
    const want = Array.from({ length: R * C }, (_, k) => Math.fround(r.data[Math.floor(k / C)]! + c.data[k % C]!));
    expect(values(y), `seed=${seed}`).toEqual(want);
  });

  it('selects with where() on a broadcast condition', () => {
    const ir = build(`
      kernel sel(r: f32[R], c: f32[C], y: f32[R, C]) grid [1] {
        let rows = load(r[0 : 8]);
        let cols = load(c[0 : 8]);
        store(y[0 : 8, 0 : 8], where(rows[:, None] > 0.0, rows[:, None], cols[None, :]));
      }`);
    const seed = SEED + 3;
    const rng = makeRng(seed);
    const [R, C] = [6, 8];
    const r = tensor('f32', [R], randomTensor(rng, R, 'f32'));
    const c = tensor('f32', [C], randomTensor(rng, C, 'f32'));
    const y = output('f32', [R, C]);
    run(ir, { r, c, y });
    const want = Array.from({ length: R * C }, (_, k) => {
      const ri = r.data[Math.floor(k / C)]!;
      return ri > 0 ? ri : c.data[k % C]!;
    });
    expect(values(y), `seed=${seed}`).toEqual(want);
  });

  it('broadcasts a scalar operand and a weak literal across a tile', () => {
    const ir = build(`
      kernel k(x: f32[N], s: f32, y: f32[N]) grid [1] {
        store(y[0 : 4], load(x[0 : 4]) * s + 0.5);
      }`);
    const y = output('f32', [4]);
    run(ir, { x: tensor('f32', [4], [1, 2, 3, 4]), s: 3, y });
    expect(values(y)).toEqual([3.5, 6.5, 9.5, 12.5]);
  });
});

// ---- control flow ----

describe('control flow', () => {
  const LOOP = `
    kernel loop(lo: i32, hi: i32, seen: i32[N], total: i32[P]) grid [1] {
      var acc = 100;
      for i in range(lo, hi, STEP) {
        acc += i;
        store(seen[i : 1], 1);
      }
      store(total[0 : 1], acc);
    }`;
  const loop = (step: number): IRKernel => build(LOOP.replace('STEP', String(step)));

  function runLoop(ir: IRKernel, lo: number, hi: number): { seen: number[]; total: number } {
    const seen = output('i32', [16], 0);
    const total = output('i32', [1], -1);
    run(ir, { lo, hi, seen, total });
    return { seen: values(seen), total: total.data[0]! };
  }

  it('runs a for loop over runtime bounds, carrying a var', () => {
    const { seen, total } = runLoop(loop(1), 3, 10);
    expect(total).toBe(100 + 3 + 4 + 5 + 6 + 7 + 8 + 9);
    expect(seen).toEqual(iota(16).map((i) => (i >= 3 && i < 10 ? 1 : 0)));
  });

  it('steps range(a, b, 3) by 3 and stops before b', () => {
    const ir = loop(3);
    const r = runLoop(ir, 2, 14);
    expect(r.total).toBe(100 + 2 + 5 + 8 + 11);
    expect(r.seen).toEqual(iota(16).map((i) => ([2, 5, 8, 11].includes(i) ? 1 : 0)));
    expect(runLoop(ir, 2, 11).total).toBe(100 + 2 + 5 + 8);
  });

  it.each([
    [5, 5],
    [7, 3],
  ])('leaves the var unchanged for an empty loop range(%i, %i)', (lo, hi) => {
    const { seen, total } = runLoop(loop(1), lo, hi);
    expect(total).toBe(100);
    expect(seen).toEqual(Array<number>(16).fill(0));
  });

  it('runs a runtime if on program_id that assigns a var in one branch only', () => {
    const ir = build(`
      kernel k(y: i32[N]) grid [4] {
        let p = program_id(0);
        var v = 10;
        if p % 2 == 1 {
          v = 20 + p;
        }
        store(y[p : 1], v);
      }`);
    const y = output('i32', [4], -1);
    run(ir, { y });
    expect(values(y)).toEqual([10, 21, 10, 23]);
  });

  it('takes the else-if chain branch that matches', () => {
    const ir = build(`
      kernel k(y: f32[N]) grid [4] {
        let p = program_id(0);
        var v = zeros([2], f32);
        if p == 0 {
          v = full([2], 1.0, f32);
        } else if p == 1 {
          v = full([2], 2.0, f32);
        } else {
          v += 3.0;
        }
        store(y[p * 2 : 2], v);
      }`);
    const y = output('f32', [8]);
    run(ir, { y });
    expect(values(y)).toEqual([1, 1, 2, 2, 3, 3, 3, 3]);
  });

  it('carries vars through nested loops', () => {
    const ir = build(`
      kernel k(n: i32, y: i32[P]) grid [1] {
        var acc = 0;
        for i in range(n) {
          for j in range(i) {
            acc += 1;
          }
        }
        store(y[0 : 1], acc);
      }`);
    const y = output('i32', [1], -1);
    run(ir, { n: 5, y });
    expect(values(y)).toEqual([0 + 1 + 2 + 3 + 4]);
  });
});

// ---- the grid ----

describe('the grid', () => {
  it('evaluates a 1-D grid from the tensor shapes', () => {
    const ir = build(`
      kernel k(x: f32[N]) grid [cdiv(N, 64)] {
        store(x[program_id(0) * 64 : 64], 0.0);
      }`);
    const args = (n: number): KernelArgs => new Map([['x', output('f32', [n])]]);
    expect(gridOf(ir, args(1))).toEqual([1]);
    expect(gridOf(ir, args(64))).toEqual([1]);
    expect(gridOf(ir, args(65))).toEqual([2]);
    expect(gridOf(ir, args(0))).toEqual([0]);
  });

  it('runs every program of a 2-D grid once with its program ids and num_programs', () => {
    const ir = build(`
      kernel k(y: i32[B, A, F]) grid [cdiv(A, 2), B] {
        let px = program_id(0);
        let py = program_id(1);
        let f = arange(4);
        let v = where(f == 0, px, where(f == 1, py, where(f == 2, num_programs(0), num_programs(1))));
        store(y[py, px, 0 : 4], v);
      }`);
    const y = output('i32', [3, 5, 4], -1);
    const args = new Map<string, TensorArg | number>([['y', y]]);
    expect(gridOf(ir, args)).toEqual([3, 3]);
    interpret(ir, args);
    const want: number[] = [];
    for (let b = 0; b < 3; b++) {
      for (let a = 0; a < 5; a++) want.push(...(a < 3 ? [a, b, 3, 3] : [-1, -1, -1, -1]));
    }
    expect(values(y)).toEqual(want);
  });

  it('runs every program of a 3-D grid once', () => {
    const ir = build(`
      kernel k(y: i32[Z, Y, X], n: i32[P]) grid [X, Y, Z] {
        store(y[program_id(2), program_id(1), program_id(0)], program_id(0) + 10 * program_id(1) + 100 * program_id(2));
        store(n[0 : 3], where(arange(3) == 0, num_programs(0), where(arange(3) == 1, num_programs(1), num_programs(2))));
      }`);
    const y = output('i32', [2, 3, 4], -1);
    const n = output('i32', [3], -1);
    const args = new Map<string, TensorArg | number>([['y', y], ['n', n]]);
    expect(gridOf(ir, args)).toEqual([4, 3, 2]);
    interpret(ir, args);
    const want: number[] = [];
    for (let z = 0; z < 2; z++) for (let yy = 0; yy < 3; yy++) for (let x = 0; x < 4; x++) want.push(x + 10 * yy + 100 * z);
    expect(values(y)).toEqual(want);
    expect(values(n)).toEqual([4, 3, 2]);
  });

  it('runs no program for an empty grid', () => {
    const ir = build(`
      kernel k(x: f32[N], y: f32[M]) grid [cdiv(N, 4)] {
        store(y[0 : 1], 1.0);
      }`);
    const y = output('f32', [1]);
    run(ir, { x: output('f32', [0]), y });
    expect(values(y)).toEqual([NaN]);
  });
});

// ---- errors ----

describe('argument errors', () => {
  const ir = build(`
    kernel k(x: f32[N], s: f32, out: f32[N]) grid [cdiv(N, 4)] {
      store(out[program_id(0) * 4 : 4], load(x[program_id(0) * 4 : 4]) * s);
    }`);

  it('raises InterpretError naming a missing tensor argument', () => {
    const act = (): void => run(ir, { x: output('f32', [8], 1), s: 2 });
    expect(act).toThrow(InterpretError);
    expect(act).toThrow(/tensor argument 'out' is missing/);
  });

  it('raises InterpretError naming a missing scalar argument', () => {
    const act = (): void => run(ir, { x: output('f32', [8], 1), out: output('f32', [8]) });
    expect(act).toThrow(InterpretError);
    expect(act).toThrow(/scalar argument 's' is missing/);
  });

  it('raises InterpretError when a number is given for a tensor', () => {
    expect(() => run(ir, { x: 3, s: 2, out: output('f32', [8]) })).toThrow(/tensor argument 'x' is missing/);
  });
});
