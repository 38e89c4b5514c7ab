/**
 * The tile IR: typed SSA over tiles, specialized to one configuration (every tile shape is a
 * number). Structured control flow (`for`, `if`) carries values through block arguments and
 * `yield`, as MLIR's scf dialect does, so there are no phi nodes and no mutable variables.
 */
import type { DType } from '../dsl/dtype.js';
import type { Span } from '../dsl/span.js';

export interface TileType {
  readonly kind: 'tile';
  readonly dtype: DType;
  /** Empty for a scalar. */
  readonly shape: readonly number[];
}

export interface TensorType {
  readonly kind: 'tensor';
  readonly dtype: DType;
  readonly rank: number;
}

export type IRType = TileType | TensorType;

export interface Value {
  readonly id: number;
  readonly type: IRType;
  /** The source name this value came from, for readable printing. */
  readonly hint?: string;
}

/** A tile value (never a tensor handle). */
export interface TileValue extends Value {
  readonly type: TileType;
}

export type { BinaryFn, CmpPred, UnaryFn } from '../dsl/scalar-ops.js';
import type { BinaryFn, CmpPred, UnaryFn } from '../dsl/scalar-ops.js';
export type ReduceFn = 'sum' | 'max' | 'min';

/** One axis of a tensor access: a scalar offset, and a tile extent (`null`: a scalar index, axis dropped). */
export interface AccessIndex {
  readonly offset: TileValue;
  readonly size: number | null;
}

interface OpBase {
  /** The `.tile` source range the op was lowered from (for `.loc` and editor maps). */
  readonly span?: Span;
}

export type Op =
  | (OpBase & { readonly op: 'const'; readonly result: TileValue; readonly value: number })
  | (OpBase & { readonly op: 'param'; readonly result: TileValue; readonly name: string })
  | (OpBase & { readonly op: 'tensor'; readonly result: Value; readonly name: string })
  | (OpBase & { readonly op: 'dim'; readonly result: TileValue; readonly tensor: Value; readonly axis: number })
  | (OpBase & { readonly op: 'program_id' | 'num_programs'; readonly result: TileValue; readonly axis: number })
  | (OpBase & { readonly op: 'arange'; readonly result: TileValue })
  /** Stretches size-1 axes of a same-rank tile, or splats a scalar. */
  | (OpBase & { readonly op: 'broadcast'; readonly result: TileValue; readonly src: TileValue })
  | (OpBase & { readonly op: 'expand_dims'; readonly result: TileValue; readonly src: TileValue; readonly axis: number })
  | (OpBase & { readonly op: 'binary'; readonly fn: BinaryFn; readonly result: TileValue; readonly lhs: TileValue; readonly rhs: TileValue })
  | (OpBase & { readonly op: 'cmp'; readonly pred: CmpPred; readonly result: TileValue; readonly lhs: TileValue; readonly rhs: TileValue })
  | (OpBase & { readonly op: 'unary'; readonly fn: UnaryFn; readonly result: TileValue; readonly src: TileValue })
  | (OpBase & { readonly op: 'select'; readonly result: TileValue; readonly cond: TileValue; readonly a: TileValue; readonly b: TileValue })
  | (OpBase & { readonly op: 'cast'; readonly result: TileValue; readonly src: TileValue })
  | (OpBase & { readonly op: 'reduce'; readonly fn: ReduceFn; readonly axis: number; readonly result: TileValue; readonly src: TileValue })
  | (OpBase & { readonly op: 'dot'; readonly result: TileValue; readonly a: TileValue; readonly b: TileValue; readonly acc: TileValue })
  | (OpBase & { readonly op: 'transpose'; readonly result: TileValue; readonly src: TileValue })
  | (OpBase & {
      readonly op: 'load';
      readonly result: TileValue;
      readonly tensor: Value;
      readonly indices: readonly AccessIndex[];
      /** Read where the element is outside the tensor or masked off; has the result's type. */
      readonly other: TileValue;
      readonly mask?: TileValue;
    })
  | (OpBase & {
      readonly op: 'store';
      readonly tensor: Value;
      readonly indices: readonly AccessIndex[];
      readonly value: TileValue;
      readonly mask?: TileValue;
    })
  | (OpBase & {
      readonly op: 'for';
      readonly results: readonly TileValue[];
      readonly lower: TileValue;
      readonly upper: TileValue;
      readonly step: number;
      readonly inits: readonly TileValue[];
      readonly iv: TileValue;
      readonly iterArgs: readonly TileValue[];
      readonly body: Block;
      /** `pipelined(N)`: a scheduling hint for the GPU backends, no effect on results. */
      readonly stages?: number;
    })
  | (OpBase & {
      readonly op: 'if';
      readonly results: readonly TileValue[];
      readonly cond: TileValue;
      readonly then: Block;
      readonly else: Block;
    })
  | (OpBase & { readonly op: 'yield'; readonly values: readonly TileValue[] });

export type OpKind = Op['op'];

export interface Block {
  readonly ops: Op[];
}

export type IRParam =
  | { readonly kind: 'tensor'; readonly name: string; readonly dtype: DType; readonly dims: readonly (string | number)[] }
  | { readonly kind: 'scalar'; readonly name: string; readonly dtype: DType };

export type ConfigValue = number | boolean | string;

export interface IRKernel {
  readonly name: string;
  readonly params: readonly IRParam[];
  /** Values of every constant and tunable this kernel was specialized for. */
  readonly config: Readonly<Record<string, ConfigValue>>;
  /** Computes the grid from the arguments; ends with a `yield` of 1–3 i32 scalars. */
  readonly grid: Block;
  /** The program body, run once per grid point; ends with an empty `yield`. */
  readonly body: Block;
  /** Highest value id used, for passes that create values. */
  readonly nextId: number;
  /** The kernel's name in the source: where kernel-wide diagnostics (target limits) point. */
  readonly span?: Span;
}

export function tileType(dtype: DType, shape: readonly number[]): TileType {
  return { kind: 'tile', dtype, shape };
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides in elements. */
export function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The values an op defines, in order. */
export function opResults(op: Op): readonly Value[] {
  switch (op.op) {
    case 'store':
    case 'yield':
      return [];
    case 'for':
    case 'if':
      return op.results;
    default:
      return [op.result];
  }
}

/** The values an op reads (not counting the contents of its nested blocks). */
export function opOperands(op: Op): readonly Value[] {
  switch (op.op) {
    case 'const':
    case 'param':
    case 'tensor':
    case 'program_id':
    case 'num_programs':
    case 'arange':
      return [];
    case 'dim':
      return [op.tensor];
    case 'broadcast':
    case 'expand_dims':
    case 'unary':
    case 'cast':
    case 'reduce':
    case 'transpose':
      return [op.src];
    case 'binary':
    case 'cmp':
      return [op.lhs, op.rhs];
    case 'select':
      return [op.cond, op.a, op.b];
    case 'dot':
      return [op.a, op.b, op.acc];
    case 'load':
      return [op.tensor, ...op.indices.map((i) => i.offset), op.other, ...(op.mask ? [op.mask] : [])];
    case 'store':
      return [op.tensor, ...op.indices.map((i) => i.offset), op.value, ...(op.mask ? [op.mask] : [])];
    case 'for':
      return [op.lower, op.upper, ...op.inits];
    case 'if':
      return [op.cond];
    case 'yield':
      return op.values;
  }
}

/** Nested blocks of an op. */
export function opBlocks(op: Op): readonly Block[] {
  if (op.op === 'for') return [op.body];
  if (op.op === 'if') return [op.then, op.else];
  return [];
}

/** Calls `f` on every op of a block, then of its nested blocks, in program order. */
export function walkOps(b: Block, f: (op: Op) => void): void {
  for (const op of b.ops) {
    f(op);
    for (const inner of opBlocks(op)) walkOps(inner, f);
  }
}
