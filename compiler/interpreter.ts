/**
 * The reference interpreter: runs tile IR on the CPU, one program instance after another.
 * It is the oracle every backend is checked against, so it is written for exactness, not speed:
 * - every value is held in float64 as an exact value of its dtype (f16/bf16 rounded to nearest
 *   even by every op, cast and store);
 * - `dot` forms each product exactly and adds it to an f32 accumulator in k order, rounding the
 *   running sum to f32 after every addition; `sum` reduces the same way, in index order;
 * - loads outside the tensor read `other`, stores outside are dropped.
 */
import type { DType } from '../dsl/dtype.js';
import { convert, roundToDType } from '../dsl/float-rounding.js';
import type { AccessIndex, Block, IRKernel, Op, TileValue, Value } from './ir.js';
import { numel, rowMajorStrides } from './ir.js';
import { applyBinary, applyCmp, applyUnary } from '../dsl/scalar-ops.js';

export interface TensorArg {
  readonly dtype: DType;
  readonly shape: number[];
  /** Row-major elements, each an exact value of `dtype`. */
  readonly data: Float64Array;
}

export type KernelArgs = Map<string, TensorArg | number>;

export class InterpretError extends Error {
  override name = 'InterpretError';
}

/** The interpreter refuses grids beyond this many programs (it would run for hours). */
export const MAX_PROGRAMS = 1 << 22;

interface Tile {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

type RtValue = Tile | TensorArg;


class Frame {
  readonly values = new Map<number, RtValue>();
  constructor(
    readonly args: KernelArgs,
    readonly pid: readonly number[],
    readonly grid: readonly number[],
  ) {}

  tile(v: Value): Tile {
    const x = this.values.get(v.id);
    if (!x) throw new InterpretError(`value %${v.id} used before definition`);
    return x as Tile;
  }

  scalar(v: Value): number {
    return this.tile(v).data[0]!;
  }

  tensor(v: Value): TensorArg {
    const x = this.values.get(v.id);
    if (!x || !('dtype' in x)) throw new InterpretError(`value %${v.id} is not a tensor`);
    return x;
  }

  set(v: Value, t: RtValue): void {
    this.values.set(v.id, t);
  }
}

function scalarTile(x: number): Tile {
  return { shape: [], data: Float64Array.of(x) };
}

/** Runs `ir` over its whole grid, writing outputs into the tensors of `args` in place. */
export function interpret(ir: IRKernel, args: KernelArgs): void {
  const gridFrame = new Frame(args, [0, 0, 0], [1, 1, 1]);
  const sizes = runBlock(ir.grid, gridFrame).map((t) => t.data[0]!);
  const grid = [sizes[0] ?? 1, sizes[1] ?? 1, sizes[2] ?? 1].map((g) => Math.max(0, g));
  const total = grid[0]! * grid[1]! * grid[2]!;
  if (total > MAX_PROGRAMS) {
    throw new InterpretError(`grid [${grid.join(', ')}] has ${total} programs; the interpreter runs at most ${MAX_PROGRAMS}: use smaller shapes`);
  }
  for (let z = 0; z < grid[2]!; z++) {
    for (let y = 0; y < grid[1]!; y++) {
      for (let x = 0; x < grid[0]!; x++) runBlock(ir.body, new Frame(args, [x, y, z], grid));
    }
  }
}

/** The grid a kernel launches for these arguments. */
export function gridOf(ir: IRKernel, args: KernelArgs): number[] {
  return runBlock(ir.grid, new Frame(args, [0, 0, 0], [1, 1, 1])).map((t) => Math.max(0, t.data[0]!));
}

/** Executes a block; returns the tiles of its final `yield`. */
function runBlock(b: Block, f: Frame): Tile[] {
  for (const op of b.ops) {
    if (op.op === 'yield') return op.values.map((v) => f.tile(v));
    exec(op, f);
  }
  return [];
}

function exec(op: Op, f: Frame): void {
  switch (op.op) {
    case 'const':
      return f.set(op.result, { shape: op.result.type.shape, data: new Float64Array(numel(op.result.type.shape)).fill(op.value) });
    case 'param': {
      const a = f.args.get(op.name);
      if (typeof a !== 'number') throw new InterpretError(`scalar argument '${op.name}' is missing`);
      return f.set(op.result, scalarTile(roundToDType(op.result.type.dtype, a)));
    }
    case 'tensor': {
      const a = f.args.get(op.name);
      if (a === undefined || typeof a === 'number') throw new InterpretError(`tensor argument '${op.name}' is missing`);
      return f.set(op.result, a);
    }
    case 'dim': {
      const t = f.tensor(op.tensor);
      return f.set(op.result, scalarTile(t.shape[op.axis]!));
    }
    case 'program_id':
      return f.set(op.result, scalarTile(f.pid[op.axis]!));
    case 'num_programs':
      return f.set(op.result, scalarTile(f.grid[op.axis]!));
    case 'arange': {
      const n = op.result.type.shape[0]!;
      return f.set(op.result, { shape: [n], data: Float64Array.from({ length: n }, (_, i) => i) });
    }
    case 'broadcast':
      return f.set(op.result, broadcast(f.tile(op.src), op.result.type.shape));
    case 'expand_dims':
      return f.set(op.result, { shape: op.result.type.shape, data: f.tile(op.src).data });
    case 'binary': {
      const a = f.tile(op.lhs).data;
      const b = f.tile(op.rhs).data;
      const d = op.result.type.dtype;
      const out = new Float64Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = applyBinary(op.fn, a[i]!, b[i]!, d);
      return f.set(op.result, { shape: op.result.type.shape, data: out });
    }
    case 'cmp': {
      const a = f.tile(op.lhs).data;
      const b = f.tile(op.rhs).data;
      const out = new Float64Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = applyCmp(op.pred, a[i]!, b[i]!) ? 1 : 0;
      return f.set(op.result, { shape: op.result.type.shape, data: out });
    }
    case 'unary': {
      const a = f.tile(op.src).data;
      const d = op.result.type.dtype;
      const out = new Float64Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = applyUnary(op.fn, a[i]!, d);
      return f.set(op.result, { shape: op.result.type.shape, data: out });
    }
    case 'select': {
      const c = f.tile(op.cond).data;
      const a = f.tile(op.a).data;
      const b = f.tile(op.b).data;
      const out = new Float64Array(c.length);
      for (let i = 0; i < c.length; i++) out[i] = c[i] ? a[i]! : b[i]!;
      return f.set(op.result, { shape: op.result.type.shape, data: out });
    }
    case 'cast': {
      const a = f.tile(op.src).data;
      const d = op.result.type.dtype;
      const from = op.src.type.dtype;
      const out = new Float64Array(a.length);
      for (let i = 0; i < a.length; i++) out[i] = convert(a[i]!, d, from);
      return f.set(op.result, { shape: op.result.type.shape, data: out });
    }
    case 'transpose': {
      const s = f.tile(op.src);
      const [r, c] = s.shape as [number, number];
      const out = new Float64Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = s.data[i * c + j]!;
      return f.set(op.result, { shape: [c, r], data: out });
    }
    case 'reduce':
      return f.set(op.result, reduce(op.fn, f.tile(op.src), op.axis, op.result.type.dtype));
    case 'dot':
      return f.set(op.result, dot(f.tile(op.a), f.tile(op.b), f.tile(op.acc)));
    case 'load':
      return f.set(op.result, load(f, op.tensor, op.indices, f.tile(op.other), op.mask && f.tile(op.mask), op.result));
    case 'store':
      return store(f, op.tensor, op.indices, f.tile(op.value), op.mask && f.tile(op.mask));
    case 'for': {
      let carried = op.inits.map((v) => f.tile(v));
      const lo = f.scalar(op.lower);
      const hi = f.scalar(op.upper);
      for (let i = lo; i < hi; i += op.step) {
        f.set(op.iv, scalarTile(i));
        op.iterArgs.forEach((a, k) => f.set(a, carried[k]!));
        carried = runBlock(op.body, f);
      }
      op.results.forEach((r, k) => f.set(r, carried[k]!));
      return;
    }
    case 'if': {
      const taken = f.scalar(op.cond) ? op.then : op.else;
      const out = runBlock(taken, f);
      op.results.forEach((r, k) => f.set(r, out[k]!));
      return;
    }
    case 'yield':
      throw new InterpretError('yield outside the end of a block');
  }
}

function broadcast(src: Tile, shape: readonly number[]): Tile {
  const n = numel(shape);
  if (src.shape.length === 0) return { shape, data: new Float64Array(n).fill(src.data[0]!) };
  const out = new Float64Array(n);
  const ss = rowMajorStrides(src.shape);
  // Source strides with 0 on stretched axes, so each output index maps to its source element.
  const eff = shape.map((d, i) => (src.shape[i] === 1 && d !== 1 ? 0 : ss[i]!));
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < n; o++) {
    let s = 0;
    for (let i = 0; i < shape.length; i++) s += idx[i]! * eff[i]!;
    out[o] = src.data[s]!;
    for (let i = shape.length - 1; i >= 0; i--) {
      if (++idx[i]! < shape[i]!) break;
      idx[i] = 0;
    }
  }
  return { shape, data: out };
}

function reduce(fn: 'sum' | 'max' | 'min', src: Tile, axis: number, d: DType): Tile {
  const shape = src.shape.filter((_, i) => i !== axis);
  const outer = numel(src.shape.slice(0, axis));
  const len = src.shape[axis]!;
  const inner = numel(src.shape.slice(axis + 1));
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let acc = fn === 'sum' ? 0 : src.data[base]!;
      for (let k = fn === 'sum' ? 0 : 1; k < len; k++) {
        const x = src.data[base + k * inner]!;
        if (fn === 'sum') acc = roundToDType(d, acc + x);
        else if (Number.isNaN(x) || Number.isNaN(acc)) acc = NaN;
        else acc = fn === 'max' ? Math.max(acc, x) : Math.min(acc, x);
      }
      out[o * inner + i] = acc;
    }
  }
  return { shape, data: out };
}

function dot(a: Tile, b: Tile, acc: Tile): Tile {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const out = Float64Array.from(acc.data);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let kk = 0; kk < k; kk++) {
      const aik = a.data[i * k + kk]!;
      const brow = kk * n;
      for (let j = 0; j < n; j++) out[row + j] = Math.fround(out[row + j]! + aik * b.data[brow + j]!);
    }
  }
  return { shape: [m, n], data: out };
}

/** Maps each element of an access to its flat tensor index, or -1 when outside the tensor. */
function accessMap(f: Frame, t: TensorArg, indices: readonly AccessIndex[], count: number): Int32Array | Float64Array {
  const ts = rowMajorStrides(t.shape);
  const sizes: number[] = [];
  const offs: number[] = [];
  const tstr: number[] = [];
  const tdim: number[] = [];
  let base = 0;
  let inside = true;
  indices.forEach((ix, axis) => {
    const off = f.scalar(ix.offset);
    if (ix.size === null) {
      if (off < 0 || off >= t.shape[axis]!) inside = false;
      base += off * ts[axis]!;
    } else {
      sizes.push(ix.size);
      offs.push(off);
      tstr.push(ts[axis]!);
      tdim.push(t.shape[axis]!);
    }
  });
  // Float64Array: flat offsets into large tensors can exceed 2^31.
  const map = new Float64Array(count).fill(-1);
  if (!inside) return map;
  const idx = new Array<number>(sizes.length).fill(0);
  for (let e = 0; e < count; e++) {
    let flat = base;
    let ok = true;
    for (let i = 0; i < sizes.length; i++) {
      const p = offs[i]! + idx[i]!;
      if (p < 0 || p >= tdim[i]!) {
        ok = false;
        break;
      }
      flat += p * tstr[i]!;
    }
    if (ok) map[e] = flat;
    for (let i = sizes.length - 1; i >= 0; i--) {
      if (++idx[i]! < sizes[i]!) break;
      idx[i] = 0;
    }
  }
  return map;
}

function load(f: Frame, tv: Value, indices: readonly AccessIndex[], other: Tile, mask: Tile | undefined, result: TileValue): Tile {
  const t = f.tensor(tv);
  const n = numel(result.type.shape);
  const map = accessMap(f, t, indices, n);
  const out = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    const at = map[e]!;
    out[e] = at >= 0 && (!mask || mask.data[e]) ? t.data[at]! : other.data[e]!;
  }
  return { shape: result.type.shape, data: out };
}

function store(f: Frame, tv: Value, indices: readonly AccessIndex[], value: Tile, mask: Tile | undefined): void {
  const t = f.tensor(tv);
  const map = accessMap(f, t, indices, value.data.length);
  for (let e = 0; e < value.data.length; e++) {
    const at = map[e]!;
    if (at >= 0 && (!mask || mask.data[e])) t.data[at] = roundToDType(t.dtype, value.data[e]!);
  }
}
