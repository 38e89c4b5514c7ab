/**
 * Creates IR ops into nested blocks. Scalar constants are folded as they are built, which is
 * how a kernel specialized for one configuration loses its `BM * 2` and `if causal` arithmetic.
 */
import type { DType } from '../dsl/dtype.js';
import { isFloat, isInt } from '../dsl/dtype.js';
import type { Span } from '../dsl/span.js';
import { convert, roundToDType } from '../dsl/float-rounding.js';
import { type BinaryFn, type Block, type CmpPred, type IRType, type Op, type TileValue, type UnaryFn, type Value, sameShape, tileType } from './ir.js';
import { applyBinary, applyCmp, applyUnary } from '../dsl/scalar-ops.js';

export class Builder {
  private next = 0;
  private readonly blocks: Block[] = [];
  /** Compile-time value of scalars and splat tiles built by `const`. */
  private readonly consts = new Map<number, number>();
  span: Span | undefined;

  get nextId(): number {
    return this.next;
  }

  value(type: IRType, hint?: string): Value {
    return hint === undefined ? { id: this.next++, type } : { id: this.next++, type, hint };
  }

  tile(dtype: DType, shape: readonly number[], hint?: string): TileValue {
    return this.value(tileType(dtype, shape), hint) as TileValue;
  }

  /** Runs `fill` with a fresh block as the insertion point and returns the block. */
  inBlock(fill: () => void): Block {
    const b: Block = { ops: [] };
    this.blocks.push(b);
    try {
      fill();
    } finally {
      this.blocks.pop();
    }
    return b;
  }

  emit(op: Op): void {
    const b = this.blocks[this.blocks.length - 1];
    if (!b) throw new Error('builder: no insertion block');
    b.ops.push(this.span && !op.span ? { ...op, span: this.span } : op);
  }

  constValue(v: TileValue): number | undefined {
    return this.consts.get(v.id);
  }

  const(dtype: DType, shape: readonly number[], value: number): TileValue {
    const result = this.tile(dtype, shape);
    const v = roundToDType(dtype, value);
    this.consts.set(result.id, v);
    this.emit({ op: 'const', result, value: v });
    return result;
  }

  cast(src: TileValue, dtype: DType): TileValue {
    if (src.type.dtype === dtype) return src;
    const c = this.constValue(src);
    if (c !== undefined) return this.const(dtype, src.type.shape, convert(c, dtype, src.type.dtype));
    const result = this.tile(dtype, src.type.shape);
    this.emit({ op: 'cast', result, src });
    return result;
  }

  broadcast(src: TileValue, shape: readonly number[]): TileValue {
    if (sameShape(src.type.shape, shape)) return src;
    const c = this.constValue(src);
    if (c !== undefined) return this.const(src.type.dtype, shape, c);
    // A scalar splats directly; otherwise rank-extend first (numpy rule) so the op only stretches size-1 axes.
    let cur = src;
    while (cur.type.shape.length > 0 && cur.type.shape.length < shape.length) cur = this.expandDims(cur, 0);
    const result = this.tile(src.type.dtype, shape);
    this.emit({ op: 'broadcast', result, src: cur });
    return result;
  }

  /** Casts and broadcasts to the given type. */
  coerce(src: TileValue, dtype: DType, shape: readonly number[]): TileValue {
    return this.broadcast(this.cast(src, dtype), shape);
  }

  expandDims(src: TileValue, axis: number): TileValue {
    const shape = [...src.type.shape];
    shape.splice(axis, 0, 1);
    const c = this.constValue(src);
    if (c !== undefined) return this.const(src.type.dtype, shape, c);
    const result = this.tile(src.type.dtype, shape);
    this.emit({ op: 'expand_dims', result, src, axis });
    return result;
  }

  binary(fn: BinaryFn, lhs: TileValue, rhs: TileValue): TileValue {
    const a = this.constValue(lhs);
    const b = this.constValue(rhs);
    const dtype = lhs.type.dtype;
    if (a !== undefined && b !== undefined && !(isInt(dtype) && (fn === 'div' || fn === 'rem') && b === 0)) {
      return this.const(dtype, lhs.type.shape, applyBinary(fn, a, b, dtype));
    }
    // x * 1, x + 0: common after specialization (e.g. a stride of 1).
    if (b !== undefined && ((fn === 'mul' && b === 1) || ((fn === 'add' || fn === 'sub') && b === 0 && !isFloat(dtype)))) return lhs;
    const result = this.tile(dtype, lhs.type.shape);
    this.emit({ op: 'binary', fn, result, lhs, rhs });
    return result;
  }

  cmp(pred: CmpPred, lhs: TileValue, rhs: TileValue): TileValue {
    const a = this.constValue(lhs);
    const b = this.constValue(rhs);
    if (a !== undefined && b !== undefined) return this.const('bool', lhs.type.shape, applyCmp(pred, a, b) ? 1 : 0);
    const result = this.tile('bool', lhs.type.shape);
    this.emit({ op: 'cmp', pred, result, lhs, rhs });
    return result;
  }

  unary(fn: UnaryFn, src: TileValue): TileValue {
    const a = this.constValue(src);
    if (a !== undefined) return this.const(src.type.dtype, src.type.shape, applyUnary(fn, a, src.type.dtype));
    const result = this.tile(src.type.dtype, src.type.shape);
    this.emit({ op: 'unary', fn, result, src });
    return result;
  }

  select(cond: TileValue, a: TileValue, b: TileValue): TileValue {
    const c = this.constValue(cond);
    if (c !== undefined) return c ? a : b;
    const result = this.tile(a.type.dtype, a.type.shape);
    this.emit({ op: 'select', result, cond, a, b });
    return result;
  }
}
