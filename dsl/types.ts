/**
 * The checker's view of values: tiles with constant shapes (scalars are rank 0), tensors,
 * dtypes and shape lists. A scalar known at compile time carries its value in `value`.
 * "Weak" values come from literals and constants: they take the dtype of what they meet.
 */
import type { DType } from './dtype.js';

export interface TileT {
  readonly kind: 'tile';
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Literal-derived: adapts to the other operand's dtype. */
  readonly weak: boolean;
  /** Compile-time value of a scalar (booleans as 0/1). */
  readonly value?: number;
}

export interface TensorT {
  readonly kind: 'tensor';
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly (string | number)[];
}

/** `t[m0 : BM, k : 1]` — an access to a tensor, only valid inside load/store. */
export interface AccessT {
  readonly kind: 'access';
  readonly tensor: TensorT;
  readonly shape: readonly number[];
}

export type ExprType =
  | TileT
  | TensorT
  | AccessT
  | { readonly kind: 'dtype'; readonly dtype: DType }
  | { readonly kind: 'list'; readonly elements: readonly ExprType[] }
  | { readonly kind: 'void' }
  /** Already reported; suppresses follow-on errors. */
  | { readonly kind: 'error' };

export const ERROR_T: ExprType = { kind: 'error' };
export const VOID_T: ExprType = { kind: 'void' };

/** Only compile-time values are weak: a run-time tile always has a definite dtype. */
export function tileT(dtype: DType, shape: readonly number[], weak = false, value?: number): TileT {
  return value === undefined ? { kind: 'tile', dtype, shape, weak: false } : { kind: 'tile', dtype, shape, weak, value };
}

/** Whether `t` may be used where a `to` is expected without a cast: the same dtype, or a literal that fits. */
export function fitsDType(t: TileT, to: DType): boolean {
  if (t.dtype === to) return true;
  if (!t.weak || to === 'bool' || t.dtype === 'bool' || to === 'f8e4m3' || to === 'f8e5m2') return false;
  const floatTo = to === 'f16' || to === 'bf16' || to === 'f32';
  return floatTo || t.dtype === 'i32' || t.dtype === 'i64';
}

/** Tiles larger than this many elements are rejected: no GPU program holds one. */
export const MAX_TILE_ELEMENTS = 1 << 20;

export function scalarT(dtype: DType, weak = false, value?: number): TileT {
  return tileT(dtype, [], weak, value);
}

export function isScalar(t: ExprType): t is TileT {
  return t.kind === 'tile' && t.shape.length === 0;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function formatType(t: ExprType): string {
  switch (t.kind) {
    case 'tile':
      return t.shape.length === 0 ? `${t.dtype} scalar` : `${t.dtype}${formatShape(t.shape)}`;
    case 'tensor':
      return `tensor ${t.name}: ${t.dtype}[${t.dims.join(', ')}]`;
    case 'access':
      return `access to ${t.tensor.name}`;
    case 'dtype':
      return `dtype ${t.dtype}`;
    case 'list':
      return 'list';
    case 'void':
      return 'nothing';
    case 'error':
      return '<error>';
  }
}

/** numpy broadcasting: right-aligned, size-1 axes stretch. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(Math.max(x, y));
  }
  return out;
}

/** Whether `from` broadcasts to exactly `to`. */
export function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  const b = broadcastShapes(from, to);
  return b !== undefined && b.length === to.length && b.every((d, i) => d === to[i]);
}

const RANK: Readonly<Record<DType, number>> = { bool: 0, i32: 1, i64: 2, f16: 3, bf16: 3, f32: 4, f8e4m3: -1, f8e5m2: -1 };

/**
 * The dtype two operands meet at. A weak (literal) side takes the other side's dtype, except
 * that a float literal lifts an integer to f32. Otherwise the higher of
 * bool < i32 < i64 < f16|bf16 < f32 wins; f16 with bf16 and fp8 storage types do not meet.
 */
export function promoteTypes(a: TileT, b: TileT): { dtype: DType; weak: boolean } | 'mixed16' | 'storage' {
  if (RANK[a.dtype] < 0 || RANK[b.dtype] < 0) return 'storage';
  if (a.weak !== b.weak) {
    const [w, s] = a.weak ? [a, b] : [b, a];
    const wf = w.dtype === 'f32' || w.dtype === 'f16' || w.dtype === 'bf16';
    const sf = s.dtype === 'f32' || s.dtype === 'f16' || s.dtype === 'bf16';
    return { dtype: wf && !sf ? 'f32' : s.dtype, weak: false };
  }
  if (a.dtype !== b.dtype && RANK[a.dtype] === RANK[b.dtype]) return 'mixed16';
  return { dtype: RANK[a.dtype] >= RANK[b.dtype] ? a.dtype : b.dtype, weak: a.weak };
}
