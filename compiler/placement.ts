/**
 * Chooses where each tile value lives before code is emitted (both backends): `dot` results in the
 * target's matrix-instruction layout,
 * reductions in a slice of their source's layout, loads that only feed `dot` in shared memory,
 * loop-carried values in the layout of what the loop computes, everything else coalesced
 * (`blocked`). Cheap values (constants, `arange`, elementwise ops) get no fixed layout: the code
 * generator materializes them in whatever layout their user needs.
 */
import type { Block, IRKernel, Op, TileValue } from './ir.js';
import { opBlocks, opOperands, walkOps } from './ir.js';
import { type Layout, SCALAR, blockedLayout, sliceLayout } from './layout.js';

export type Placement = Layout | 'smem';

export const CHEAP_OPS: ReadonlySet<Op['op']> = new Set(['const', 'arange', 'broadcast', 'expand_dims', 'binary', 'cmp', 'unary', 'select', 'cast']);

export interface Placements {
  /** Fixed placement of anchored values (and of cheap values a join could determine). */
  readonly of: ReadonlyMap<number, Placement>;
  /** The defining op of every value. */
  readonly defs: ReadonlyMap<number, Op>;
  /** Every value's users. */
  readonly uses: ReadonlyMap<number, readonly Op[]>;
  /** The layout a register tile takes when nothing else decides it. */
  defaultLayout(v: TileValue): Layout | undefined;
}

function resultsOf(op: Op): readonly TileValue[] {
  if (op.op === 'for' || op.op === 'if') return op.results;
  if (op.op === 'store' || op.op === 'yield' || op.op === 'tensor') return [];
  return [op.result as TileValue];
}

/** What a target decides about layouts: its block size, lanes per warp, and the layout `dot` produces. */
export interface PlacementTarget {
  readonly threads: number;
  readonly laneBits: number;
  dotLayout(M: number, N: number): Layout | undefined;
}

export function placeValues(k: IRKernel, target: PlacementTarget): Placements {
  const { threads, laneBits } = target;
  const defs = new Map<number, Op>();
  const uses = new Map<number, Op[]>();
  const dotShapes = new Set<string>();
  walkOps(k.body, (op) => {
    for (const r of resultsOf(op)) defs.set(r.id, op);
    if (op.op === 'for') {
      defs.set(op.iv.id, op);
      op.iterArgs.forEach((a) => defs.set(a.id, op));
    }
    for (const v of opOperands(op)) uses.set(v.id, [...(uses.get(v.id) ?? []), op]);
    if (op.op === 'yield') for (const v of op.values) uses.set(v.id, [...(uses.get(v.id) ?? []), op]);
    if (op.op === 'dot') dotShapes.add(op.result.type.shape.join(','));
  });

  const defaultLayout = (v: TileValue): Layout | undefined => {
    const shape = v.type.shape;
    if (shape.length === 0) return SCALAR;
    if (shape.length === 2 && dotShapes.has(shape.join(','))) return target.dotLayout(shape[0]!, shape[1]!);
    return blockedLayout(shape, threads, laneBits);
  };

  const of = new Map<number, Placement>();
  const onlyFeedsDots = (id: number): boolean =>
    (uses.get(id) ?? []).every((u) => (u.op === 'dot' && u.acc.id !== id) || (u.op === 'transpose' && onlyFeedsDots(u.result.id)));

  // Cheap values: the join of their operands' placements, when one is known.
  const natural = (v: TileValue, seen = new Set<number>()): Layout | undefined => {
    const p = of.get(v.id);
    if (p) return p === 'smem' ? undefined : p;
    const op = defs.get(v.id);
    if (!op || !CHEAP_OPS.has(op.op) || seen.has(v.id) || v.type.shape.length === 0) return undefined;
    seen.add(v.id);
    if (op.op === 'broadcast' || op.op === 'expand_dims') return undefined;
    for (const x of opOperands(op)) {
      const t = x as TileValue;
      if (t.type.kind === 'tile' && t.type.shape.length === v.type.shape.length) {
        const l = natural(t, seen);
        if (l && l.shape.join(',') === v.type.shape.join(',')) return l;
      }
    }
    return undefined;
  };

  // Fixed points: loop-carried values take the layout of what the body yields, which can
  // depend on the loop-carried values themselves; two rounds settle the kernels we emit.
  for (let round = 0; round < 3; round++) {
    walkOps(k.body, (op) => {
      switch (op.op) {
        case 'dot': {
          const l = target.dotLayout(op.result.type.shape[0]!, op.result.type.shape[1]!);
          if (l) of.set(op.result.id, l);
          break;
        }
        case 'load':
          if (op.result.type.shape.length === 2 && onlyFeedsDots(op.result.id)) of.set(op.result.id, 'smem');
          else if (!of.has(op.result.id)) {
            const l = defaultLayout(op.result);
            if (l) of.set(op.result.id, l);
          }
          break;
        case 'transpose':
          if (of.get(op.src.id) === 'smem') of.set(op.result.id, 'smem');
          break;
        case 'reduce': {
          const src = natural(op.src) ?? defaultLayout(op.src);
          if (src) of.set(op.result.id, sliceLayout(src, op.axis).layout);
          break;
        }
        case 'for': {
          const y = op.body.ops[op.body.ops.length - 1];
          op.iterArgs.forEach((a, i) => {
            const yv = y?.op === 'yield' ? y.values[i] : undefined;
            // No default yet: a default chosen before the body's layouts are known would stick.
            const l = (yv && natural(yv)) ?? natural(op.inits[i]!) ?? of.get(a.id);
            if (l && l !== 'smem') {
              of.set(a.id, l);
              of.set(op.results[i]!.id, l);
            }
          });
          of.set(op.iv.id, SCALAR);
          break;
        }
        case 'if': {
          const yt = op.then.ops[op.then.ops.length - 1];
          const ye = op.else.ops[op.else.ops.length - 1];
          op.results.forEach((r, i) => {
            const a = yt?.op === 'yield' ? yt.values[i] : undefined;
            const b = ye?.op === 'yield' ? ye.values[i] : undefined;
            const l = (a && natural(a)) ?? (b && natural(b)) ?? defaultLayout(r);
            if (l) of.set(r.id, l);
          });
          break;
        }
        case 'param':
        case 'dim':
        case 'program_id':
        case 'num_programs':
          of.set(op.result.id, SCALAR);
          break;
        default:
          break;
      }
    });
  }
  // Loop-carried values nothing decided take the default layout.
  walkOps(k.body, (op) => {
    if (op.op !== 'for') return;
    op.iterArgs.forEach((a, i) => {
      if (of.has(a.id)) return;
      const l = defaultLayout(a);
      if (l) {
        of.set(a.id, l);
        of.set(op.results[i]!.id, l);
      }
    });
  });
  return { of, defs, uses, defaultLayout };
}

/**
 * Loads of a `pipelined(N ≥ 2)` loop body that a backend can issue iterations ahead: they only
 * feed dot (placed in shared memory), are unmasked, and their indices depend only on the loop
 * variable and values from outside the loop.
 */
export function pipelinableLoads(op: Extract<Op, { op: 'for' }>, place: Placements): Extract<Op, { op: 'load' }>[] {
  if ((op.stages ?? 1) < 2) return [];
  const inside = new Set<number>();
  const mark = (bl: Block): void => {
    for (const o of bl.ops) {
      for (const r of resultsOf(o)) inside.add(r.id);
      if (o.op === 'for') {
        inside.add(o.iv.id);
        o.iterArgs.forEach((a) => inside.add(a.id));
      }
      for (const inner of opBlocks(o)) mark(inner);
    }
  };
  mark(op.body);
  const ok = (v: TileValue): boolean => {
    if (v.id === op.iv.id || !inside.has(v.id)) return true;
    const d = place.defs.get(v.id);
    return !!d && CHEAP_OPS.has(d.op) && opOperands(d).every((x) => ok(x as TileValue));
  };
  return op.body.ops.filter(
    (o): o is Extract<Op, { op: 'load' }> => o.op === 'load' && place.of.get(o.result.id) === 'smem' && !o.mask && o.indices.every((ix) => ok(ix.offset)) && ok(o.other),
  );
}
