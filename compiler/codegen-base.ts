/**
 * What the NVIDIA and AMD code generators share, whatever text they emit: values bound to
 * registers (in a layout), to shared memory or to tensors; materialized values cached per scope;
 * cheap ops (constants, `arange`, elementwise) emitted where they are used, in the layout their
 * user needs; the shape of a reduction (within a thread, across lanes by butterfly shuffles,
 * across warps through shared memory); shared-memory allocation with one scratch region.
 *
 * `R` is how a backend names one register's value (a PTX register, a C++ expression), `S` its
 * shared-memory tile, `T` its tensor binding. A subclass supplies the per-op emission.
 */
import type { DType } from '../dsl/dtype.js';
import type { Span } from '../dsl/span.js';
import type { Block, Op, TileValue } from './ir.js';
import { type BaseTerm, type Layout, SCALAR, collapse, removeAxis, replicationMask, sliceLayout } from './layout.js';
import { CHEAP_OPS, type Placements } from './placement.js';

/** A construct the backend cannot lower yet: reported as TK4003 at the op's span. */
export class Unsupported extends Error {
  constructor(
    message: string,
    readonly span: Span | undefined,
  ) {
    super(message);
  }
}

export interface RegTile<R> {
  readonly kind: 'regs';
  readonly layout: Layout;
  readonly regs: readonly R[];
}

/** How the partial results of a cross-warp reduction are laid out in shared memory and who writes them. */
export interface CrossWarpPlan {
  /** The warp-index bit fields along the reduced axis. */
  readonly terms: readonly BaseTerm[];
  /** Warps that hold different parts of the reduced axis: partials per kept coordinate. */
  readonly groups: number;
  /** Extent of the kept axis (1 for a reduction to a scalar). */
  readonly keptExtent: number;
  /** Thread-index bits that must be zero in the one writer of each (group, kept coordinate). */
  readonly writerMask: number;
}

export abstract class CodegenBase<
  R extends object | string,
  S extends { readonly kind: 'smem'; readonly transposed: boolean },
  T extends { readonly kind: 'tensor'; readonly dims: readonly R[] },
> {
  protected abstract readonly b: { span: Span | undefined };
  protected readonly bound = new Map<number, RegTile<R> | S | T>();
  private readonly scopes: Map<string, R[]>[] = [new Map()];
  /** Register tiles staged into shared memory for dot, per scope (like the register cache). */
  private readonly staged: Map<number, S>[] = [new Map()];
  protected loopDepth = 0;
  private sharedTop = 0;
  private scratchRegion: { offset: number; bytes: number } | undefined;

  constructor(
    protected readonly place: Placements,
    protected readonly threads: number,
    protected readonly laneBits: number,
    /** Alignment of each shared-memory allocation, in bytes. */
    private readonly sharedAlign: number,
  ) {}

  // ---- what a backend emits ----

  /** The binding of a tensor parameter (pointer, dims, strides). */
  protected abstract tensorBinding(name: string): T;
  protected abstract scalarParam(name: string): R;
  /** `program_id(axis)` or `num_programs(axis)`. */
  protected abstract programIndex(which: 'program_id' | 'num_programs', axis: number): R;
  protected abstract load(op: Extract<Op, { op: 'load' }>): void;
  protected abstract store(op: Extract<Op, { op: 'store' }>): void;
  protected abstract dot(op: Extract<Op, { op: 'dot' }>): void;
  protected abstract forLoop(op: Extract<Op, { op: 'for' }>): void;
  protected abstract ifOp(op: Extract<Op, { op: 'if' }>): void;

  protected abstract constant(d: DType, value: number): R;
  /** The coordinate of register `i` of layout `l` along `axis`, as an i32 value. */
  protected abstract coordinate(l: Layout, axis: number, i: number): R;
  protected abstract binary(fn: string, d: DType, a: R, c: R): R;
  protected abstract compare(pred: string, d: DType, a: R, c: R): R;
  protected abstract unary(fn: string, d: DType, a: R): R;
  protected abstract select(d: DType, p: R, x: R, y: R): R;
  protected abstract cast(a: R, from: DType, to: DType): R;
  /** A register tile moved into another layout (through shared memory). */
  protected abstract convert(x: RegTile<R>, l: Layout, d: DType): R[];
  /** The value lane `lane ^ mask` of the same warp holds. */
  protected abstract shuffleXor(v: R, mask: number, d: DType): R;
  /** Combines the per-warp partials of a reduction (each thread holds its warp's). */
  protected abstract crossWarp(op: Extract<Op, { op: 'reduce' }>, srcL: Layout, outL: Layout, vals: R[], d: DType): R[];

  /** Why a tile value has no register layout (a backend may know more, e.g. an MFMA misfit). */
  protected noLayout(shape: readonly number[]): string {
    return `no register layout for a [${shape.join(', ')}] tile (tile sizes must be powers of two)`;
  }

  // ---- anchored ops, in program order ----

  protected block(bl: Block): void {
    for (const op of bl.ops) this.op(op);
  }

  protected op(op: Op): void {
    this.b.span = op.span ?? this.b.span;
    const scalar = (id: number, r: R): void => void this.bound.set(id, { kind: 'regs', layout: SCALAR, regs: [r] });
    switch (op.op) {
      case 'tensor':
        this.bound.set(op.result.id, this.tensorBinding(op.name));
        return;
      case 'dim':
        return scalar(op.result.id, (this.bound.get(op.tensor.id) as T).dims[op.axis]!);
      case 'param':
        return scalar(op.result.id, this.scalarParam(op.name));
      case 'program_id':
      case 'num_programs':
        return scalar(op.result.id, this.programIndex(op.op, op.axis));
      case 'load':
        return this.load(op);
      case 'store':
        return this.store(op);
      case 'dot':
        return this.dot(op);
      case 'transpose': {
        // A view: the shared-memory tile read with its axes swapped.
        const src = this.bound.get(op.src.id);
        if (!src || src.kind !== 'smem') throw new Unsupported('transpose of a tile in registers', op.span);
        this.bound.set(op.result.id, { ...(src as S), transposed: !(src as S).transposed });
        return;
      }
      case 'reduce':
        return this.reduce(op);
      case 'for':
        return this.forLoop(op);
      case 'if':
        return this.ifOp(op);
      default:
        // Cheap ops are emitted where they are used; yields by their loop or if.
        return;
    }
  }

  // ---- scopes ----

  protected cached(key: string): R[] | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const r = this.scopes[i]!.get(key);
      if (r) return r;
    }
    return undefined;
  }

  /** Caches values under `key` in the innermost scope. */
  protected remember(key: string, regs: R[]): void {
    this.scopes[this.scopes.length - 1]!.set(key, regs);
  }

  protected inScope<X>(f: () => X): X {
    this.scopes.push(new Map());
    this.staged.push(new Map());
    try {
      return f();
    } finally {
      this.scopes.pop();
      this.staged.pop();
    }
  }

  protected stagedTile(id: number): S | undefined {
    for (let i = this.staged.length - 1; i >= 0; i--) {
      const t = this.staged[i]!.get(id);
      if (t) return t;
    }
    return undefined;
  }

  protected stage(id: number, tile: S): void {
    this.staged[this.staged.length - 1]!.set(id, tile);
  }

  // ---- values in registers ----

  /** The registers of `v` in layout `l`, emitting what is needed. */
  protected get(v: TileValue, l: Layout): R[] {
    const key = `${v.id}|${l.key}`;
    const c = this.cached(key);
    if (c) return c;
    const x = this.bound.get(v.id);
    let regs: R[];
    if (x && x.kind === 'regs') {
      const tile = x as RegTile<R>;
      if (tile.layout.key === l.key) return [...tile.regs];
      if (tile.layout.shape.length === 0) regs = Array.from({ length: l.nregs }, () => tile.regs[0]!);
      else regs = this.convert(tile, l, v.type.dtype);
    } else if (x) {
      throw new Unsupported(`a tile in shared memory (%${v.id}) used outside dot`, undefined);
    } else {
      const op = this.place.defs.get(v.id);
      if (!op || !CHEAP_OPS.has(op.op)) throw new Unsupported(`internal: %${v.id} has no value yet`, undefined);
      const saved = this.b.span;
      this.b.span = op.span ?? saved;
      regs = this.cheap(op, l);
      this.b.span = saved;
    }
    this.remember(key, regs);
    return regs;
  }

  protected scalar(v: TileValue): R {
    return this.get(v, SCALAR)[0]!;
  }

  protected layoutOf(v: TileValue): Layout {
    const p = this.place.of.get(v.id);
    if (p && p !== 'smem') return p;
    const d = this.place.defaultLayout(v);
    if (!d) throw new Unsupported(this.noLayout(v.type.shape), this.b.span);
    return d;
  }

  /** A cheap op's value in layout `l`. */
  private cheap(op: Op, l: Layout): R[] {
    switch (op.op) {
      case 'const': {
        const r = this.constant(op.result.type.dtype, op.value);
        return Array.from({ length: l.nregs }, () => r);
      }
      case 'arange':
        return Array.from({ length: l.nregs }, (_, i) => this.coordinate(l, 0, i));
      case 'broadcast': {
        const src = op.src;
        if (src.type.shape.length === 0) {
          const r = this.scalar(src);
          return Array.from({ length: l.nregs }, () => r);
        }
        // A broadcast never moves data: the source is read in the collapsed layout.
        const axes = src.type.shape.flatMap((d, a) => (d === 1 && op.result.type.shape[a] !== 1 ? [a] : []));
        const c = collapse(l, axes);
        const regs = this.get(src, c.layout);
        return c.regMap.map((j) => regs[j]!);
      }
      case 'expand_dims':
        return this.get(op.src, removeAxis(l, op.axis));
      case 'binary': {
        const x = this.get(op.lhs, l);
        const y = this.get(op.rhs, l);
        return x.map((a, i) => this.binary(op.fn, op.result.type.dtype, a, y[i]!));
      }
      case 'cmp': {
        const x = this.get(op.lhs, l);
        const y = this.get(op.rhs, l);
        return x.map((a, i) => this.compare(op.pred, op.lhs.type.dtype, a, y[i]!));
      }
      case 'unary':
        return this.get(op.src, l).map((a) => this.unary(op.fn, op.result.type.dtype, a));
      case 'select': {
        const c = this.get(op.cond, l);
        const x = this.get(op.a, l);
        const y = this.get(op.b, l);
        return c.map((p, i) => this.select(op.result.type.dtype, p, x[i]!, y[i]!));
      }
      case 'cast':
        return this.get(op.src, l).map((a) => this.cast(a, op.src.type.dtype, op.result.type.dtype));
      default:
        throw new Unsupported(`internal: ${op.op} is not cheap`, op.span);
    }
  }

  // ---- reductions ----

  protected combine(fn: string, d: DType, a: R, c: R): R {
    if (d !== 'f32' && d !== 'i32') throw new Unsupported(`reduction of ${d}`, this.b.span);
    return this.binary(fn === 'sum' ? 'add' : fn, d, a, c);
  }

  /** Within each thread, then across the lanes holding other parts of the axis, then across warps. */
  protected reduce(op: Extract<Op, { op: 'reduce' }>): void {
    const srcL = this.layoutOf(op.src);
    const { layout: outL, regMap } = sliceLayout(srcL, op.axis);
    const src = this.get(op.src, srcL);
    const d = op.result.type.dtype;
    const parts: (R | undefined)[] = Array.from({ length: outL.nregs }, () => undefined);
    src.forEach((r, i) => {
      const j = regMap[i]!;
      parts[j] = parts[j] !== undefined ? this.combine(op.fn, d, parts[j]!, r) : r;
    });
    let vals = parts.map((p) => p!);
    for (const term of srcL.base[op.axis] ?? []) {
      if (term.from !== 'lane') continue;
      for (let bit = term.shift; bit < term.shift + term.bits; bit++) vals = vals.map((v) => this.combine(op.fn, d, v, this.shuffleXor(v, 1 << bit, d)));
    }
    if ((srcL.base[op.axis] ?? []).some((t) => t.from === 'warp')) vals = this.crossWarp(op, srcL, outL, vals, d);
    this.bound.set(op.result.id, { kind: 'regs', layout: outL, regs: vals });
  }

  protected crossWarpPlan(op: Extract<Op, { op: 'reduce' }>, srcL: Layout, outL: Layout): CrossWarpPlan {
    const along = srcL.base[op.axis] ?? [];
    const terms = along.filter((t) => t.from === 'warp');
    // One writer per (group, kept coordinate): lanes whose reduced-axis lane bits are zero, and no replicas.
    const laneBits = along.filter((t) => t.from === 'lane').reduce((m, t) => m | (((1 << t.bits) - 1) << t.shift), 0);
    const warpBits = terms.reduce((m, t) => m | (((1 << t.bits) - 1) << (this.laneBits + t.shift)), 0);
    const repl = replicationMask(outL, this.threads, this.laneBits) & ~(laneBits | warpBits);
    return {
      terms,
      groups: terms.reduce((n, t) => n * 2 ** t.bits, 1),
      keptExtent: op.result.type.shape[0] ?? 1,
      writerMask: laneBits | repl,
    };
  }

  // ---- shared memory ----

  protected allocShared(bytes: number): number {
    const off = Math.ceil(this.sharedTop / this.sharedAlign) * this.sharedAlign;
    this.sharedTop = off + bytes;
    return off;
  }

  /** Bytes of shared memory allocated so far. */
  protected sharedBytes(): number {
    return Math.ceil(this.sharedTop / 16) * 16;
  }

  /**
   * Shared memory for a transient exchange (a layout conversion, a cross-warp reduction). Every
   * such use ends with a barrier (and starts with one inside loops), so their lifetimes never
   * overlap and they all share one region, grown when a use needs more.
   */
  protected scratch(bytes: number): number {
    if (!this.scratchRegion || this.scratchRegion.bytes < bytes) this.scratchRegion = { offset: this.allocShared(bytes), bytes };
    return this.scratchRegion.offset;
  }
}
