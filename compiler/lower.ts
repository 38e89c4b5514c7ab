/**
 * Lowering: checked AST (one configuration) → tile IR. Implicit conversions the checker
 * allowed (literal adaptation, promotion, broadcasting) become explicit `cast`/`broadcast`
 * ops here; `var`s become SSA values threaded through `for`/`if` results.
 */
import type { AssignStmt, Block as AstBlock, CallExpr, Expr, ForStmt, IfStmt, IndexExpr, Stmt } from '../dsl/ast.js';
import type { CheckedKernel } from '../dsl/checker.js';
import type { LocalSym, TensorSym } from '../dsl/symbols.js';
import { type ExprType, type TileT, broadcastShapes, promoteTypes } from '../dsl/types.js';
import { ARITH_OPS, CMP_OPS } from '../dsl/scalar-ops.js';
import { Builder } from './builder.js';
import type { AccessIndex, BinaryFn, CmpPred, ConfigValue, IRKernel, IRParam, TileValue, UnaryFn, Value } from './ir.js';

const ARITH: Readonly<Record<string, BinaryFn>> = ARITH_OPS;
const CMP: Readonly<Record<string, CmpPred>> = CMP_OPS;

/** A lowering bug (the checker accepted something lowering cannot express). */
export class LoweringError extends Error {}

interface Globals {
  readonly tensors: Map<string, Value>;
  readonly scalars: Map<string, TileValue>;
  readonly dims: Map<string, TileValue>;
}

export function lowerKernel(ck: CheckedKernel): IRKernel {
  return new Lowering(ck).run();
}

class Lowering {
  private readonly b = new Builder();
  private readonly env = new Map<LocalSym, TileValue>();
  private globals: Globals = { tensors: new Map(), scalars: new Map(), dims: new Map() };

  constructor(private readonly ck: CheckedKernel) {}

  run(): IRKernel {
    const k = this.ck.kernel;
    const grid = this.b.inBlock(() => {
      this.prologue();
      const sizes = k.grid.map((g) => this.int(g));
      this.b.emit({ op: 'yield', values: sizes });
    });
    const body = this.b.inBlock(() => {
      this.prologue();
      this.block(k.body);
      this.b.emit({ op: 'yield', values: [] });
    });
    const params: IRParam[] = this.ck.params.map((p) =>
      p.kind === 'tensor' ? { kind: 'tensor', name: p.name, dtype: p.dtype, dims: p.dims } : { kind: 'scalar', name: p.name, dtype: p.dtype },
    );
    const config: Record<string, ConfigValue> = {};
    for (const [name, v] of this.ck.bindings.values) config[name] = v.value;
    return { name: k.name.name, params, config, grid, body, nextId: this.b.nextId, span: k.name.span };
  }

  /** Every parameter and dim is materialized at the top of a block so it dominates all uses. */
  private prologue(): void {
    const g: Globals = { tensors: new Map(), scalars: new Map(), dims: new Map() };
    for (const p of this.ck.params) {
      if (p.kind === 'scalar') {
        const result = this.b.tile(p.dtype, [], p.name);
        this.b.emit({ op: 'param', result, name: p.name });
        g.scalars.set(p.name, result);
        continue;
      }
      const t = this.b.value({ kind: 'tensor', dtype: p.dtype, rank: p.dims.length }, p.name);
      this.b.emit({ op: 'tensor', result: t, name: p.name });
      g.tensors.set(p.name, t);
      p.dims.forEach((d, axis) => {
        if (typeof d !== 'string' || g.dims.has(d)) return;
        const result = this.b.tile('i32', [], d);
        this.b.emit({ op: 'dim', result, tensor: t, axis });
        g.dims.set(d, result);
      });
    }
    this.globals = g;
  }

  private type(e: Expr): ExprType {
    const t = this.ck.types.get(e);
    if (!t) throw new LoweringError(`no type recorded for ${e.kind} at ${e.span.start}`);
    return t;
  }

  private tileType(e: Expr): TileT {
    const t = this.type(e);
    if (t.kind !== 'tile') throw new LoweringError(`expected a tile type for ${e.kind} at ${e.span.start}, found ${t.kind}`);
    return t;
  }

  // ---- statements ----

  private block(b: AstBlock): void {
    for (const s of b.stmts) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    this.b.span = s.span;
    switch (s.kind) {
      case 'Let': {
        const sym = this.ck.locals.get(s);
        if (!sym) throw new LoweringError(`unresolved let ${s.name.name}`);
        const v = this.expr(s.init);
        this.env.set(sym, this.b.coerce(v, sym.type.dtype, sym.type.shape));
        return;
      }
      case 'Assign':
        return this.assign(s);
      case 'ExprStmt':
        this.exprOrVoid(s.expr);
        return;
      case 'For':
        return this.forStmt(s);
      case 'If':
        return this.ifStmt(s);
    }
  }

  private assign(s: AssignStmt): void {
    const sym = this.ck.assigns.get(s);
    if (!sym) throw new LoweringError(`unresolved assignment to ${s.target.name}`);
    let v = this.expr(s.value);
    if (s.op !== '=') {
      const cur = this.env.get(sym)!;
      const vt = this.tileType(s.value);
      const p = promoteTypes(sym.type, vt);
      if (typeof p === 'string') throw new LoweringError('checker accepted an invalid compound assignment');
      const shape = broadcastShapes(sym.type.shape, vt.shape) ?? sym.type.shape;
      v = this.b.binary(ARITH[s.op[0]!]!, this.b.coerce(cur, p.dtype, shape), this.b.coerce(v, p.dtype, shape));
    }
    this.env.set(sym, this.b.coerce(v, sym.type.dtype, sym.type.shape));
  }

  private forStmt(s: ForStmt): void {
    const carried = this.ck.carried.get(s) ?? [];
    const ivSym = this.ck.locals.get(s);
    const call = s.iterable as CallExpr;
    const args = call.args;
    const zero = this.b.const('i32', [], 0);
    const lower = args.length >= 2 ? this.int(args[0]!) : zero;
    const upper = this.int(args.length >= 2 ? args[1]! : args[0]!);
    const step = args[2] ? this.constNumber(args[2]) : 1;
    const stages = s.pipelined ? this.constNumber(s.pipelined) : undefined;
    const inits = carried.map((c) => this.env.get(c)!);
    const iv = this.b.tile('i32', [], s.variable.name);
    const iterArgs = carried.map((c) => this.b.tile(c.type.dtype, c.type.shape, c.name));
    const body = this.b.inBlock(() => {
      carried.forEach((c, i) => this.env.set(c, iterArgs[i]!));
      if (ivSym) this.env.set(ivSym, iv);
      this.block(s.body);
      this.b.emit({ op: 'yield', values: carried.map((c) => this.env.get(c)!) });
    });
    const results = carried.map((c) => this.b.tile(c.type.dtype, c.type.shape, c.name));
    this.b.span = s.span;
    this.b.emit({
      op: 'for',
      results,
      lower,
      upper,
      step,
      inits,
      iv,
      iterArgs,
      body,
      ...(stages !== undefined ? { stages } : {}),
    });
    carried.forEach((c, i) => this.env.set(c, results[i]!));
  }

  private ifStmt(s: IfStmt): void {
    const known = this.ck.constConds.get(s);
    if (known !== undefined) {
      if (known) this.block(s.then);
      else if (s.else) this.elseBranch(s.else);
      return;
    }
    const carried = this.ck.carried.get(s) ?? [];
    const cond = this.expr(s.cond);
    const before = carried.map((c) => this.env.get(c)!);
    const branch = (fill: () => void) =>
      this.b.inBlock(() => {
        carried.forEach((c, i) => this.env.set(c, before[i]!));
        fill();
        this.b.emit({ op: 'yield', values: carried.map((c) => this.env.get(c)!) });
      });
    const then = branch(() => this.block(s.then));
    const els = branch(() => {
      if (s.else) this.elseBranch(s.else);
    });
    const results = carried.map((c) => this.b.tile(c.type.dtype, c.type.shape, c.name));
    this.b.span = s.span;
    this.b.emit({ op: 'if', results, cond, then, else: els });
    carried.forEach((c, i) => this.env.set(c, results[i]!));
  }

  private elseBranch(e: AstBlock | IfStmt): void {
    if (e.kind === 'Block') this.block(e);
    else this.ifStmt(e);
  }

  // ---- expressions ----

  private constNumber(e: Expr): number {
    const t = this.tileType(e);
    if (t.value === undefined) throw new LoweringError(`expected a constant at ${e.span.start}`);
    return t.value;
  }

  /** An integer scalar as i32 (the index type of the IR). */
  private int(e: Expr): TileValue {
    return this.b.cast(this.expr(e), 'i32');
  }

  private exprOrVoid(e: Expr): TileValue | undefined {
    if (e.kind === 'Call' && e.callee.name === 'store') {
      this.b.span = e.span;
      this.store(e);
      return undefined;
    }
    return this.expr(e);
  }

  private expr(e: Expr): TileValue {
    const t = this.type(e);
    const saved = this.b.span;
    this.b.span = e.span;
    try {
      // Compile-time values become constants whatever the expression was.
      if (t.kind === 'tile' && t.value !== undefined) return this.b.const(t.dtype, t.shape, t.value);
      return this.exprInner(e, t);
    } finally {
      this.b.span = saved;
    }
  }

  private exprInner(e: Expr, t: ExprType): TileValue {
    switch (e.kind) {
      case 'Name': {
        const sym = this.ck.names.get(e);
        switch (sym?.kind) {
          case 'local': {
            const v = this.env.get(sym);
            if (!v) throw new LoweringError(`local ${e.name} has no value`);
            return v;
          }
          case 'scalar':
            return this.globals.scalars.get(sym.name)!;
          case 'dim':
            return this.globals.dims.get(sym.name)!;
          default:
            throw new LoweringError(`name ${e.name} (${sym?.kind}) is not a runtime value`);
        }
      }
      case 'Unary': {
        const v = this.expr(e.operand);
        const rt = t as TileT;
        return this.b.unary(e.op === '!' ? 'not' : 'neg', this.b.cast(v, rt.dtype));
      }
      case 'Binary': {
        const l = this.expr(e.left);
        const r = this.expr(e.right);
        const lt = this.tileType(e.left);
        const rt = this.tileType(e.right);
        const out = t as TileT;
        if (e.op === '&&' || e.op === '||') {
          return this.b.binary(e.op === '&&' ? 'and' : 'or', this.b.broadcast(l, out.shape), this.b.broadcast(r, out.shape));
        }
        const arith = ARITH[e.op];
        if (arith) return this.b.binary(arith, this.b.coerce(l, out.dtype, out.shape), this.b.coerce(r, out.dtype, out.shape));
        const p = promoteTypes(lt, rt);
        if (typeof p === 'string') throw new LoweringError('checker accepted an invalid comparison');
        return this.b.cmp(CMP[e.op]!, this.b.coerce(l, p.dtype, out.shape), this.b.coerce(r, p.dtype, out.shape));
      }
      case 'Cast':
        return this.b.cast(this.expr(e.expr), (t as TileT).dtype);
      case 'Index':
        return this.tileIndex(e, t as TileT);
      case 'Call':
        return this.call(e, t);
      default:
        throw new LoweringError(`cannot lower ${e.kind} expression`);
    }
  }

  private tileIndex(e: IndexExpr, out: TileT): TileValue {
    let v = this.expr(e.base);
    e.items.forEach((it, axis) => {
      if (it.kind === 'NewAxis') v = this.b.expandDims(v, axis);
    });
    return this.b.cast(v, out.dtype);
  }

  private access(e: Expr): { tensor: Value; sym: TensorSym; indices: AccessIndex[]; shape: readonly number[] } {
    const t = this.type(e);
    if (e.kind !== 'Index' || t.kind !== 'access') throw new LoweringError('expected a tensor access');
    const tensor = this.globals.tensors.get(t.tensor.name)!;
    const indices: AccessIndex[] = e.items.map((it) => {
      if (it.kind === 'Scalar') return { offset: this.int(it.expr), size: null };
      if (it.kind === 'Slice') return { offset: this.int(it.start), size: this.constNumber(it.size) };
      throw new LoweringError('full-axis access of a tensor');
    });
    return { tensor, sym: { kind: 'tensor', name: t.tensor.name, dtype: t.tensor.dtype, dims: t.tensor.dims }, indices, shape: t.shape };
  }

  private named(e: CallExpr, name: string): Expr | undefined {
    return e.named.find((n) => n.name.name === name)?.value;
  }

  private store(e: CallExpr): void {
    const a = this.access(e.args[0]!);
    const value = this.b.coerce(this.expr(e.args[1]!), a.sym.dtype, a.shape);
    const m = this.named(e, 'mask');
    const mask = m ? this.b.broadcast(this.expr(m), a.shape) : undefined;
    this.b.emit({ op: 'store', tensor: a.tensor, indices: a.indices, value, ...(mask ? { mask } : {}) });
  }

  private call(e: CallExpr, t: ExprType): TileValue {
    const args = e.args;
    const out = t as TileT;
    const name = e.callee.name;
    switch (name) {
      case 'program_id':
      case 'num_programs': {
        const result = this.b.tile('i32', []);
        this.b.emit({ op: name, result, axis: this.constNumber(args[0]!) });
        return result;
      }
      case 'cdiv': {
        const x = this.b.cast(this.expr(args[0]!), out.dtype);
        const y = this.b.cast(this.expr(args[1]!), out.dtype);
        const one = this.b.const(out.dtype, [], 1);
        return this.b.binary('div', this.b.binary('sub', this.b.binary('add', x, y), one), y);
      }
      case 'arange': {
        const result = this.b.tile('i32', out.shape);
        this.b.emit({ op: 'arange', result });
        return result;
      }
      case 'zeros':
        return this.b.const(out.dtype, out.shape, 0);
      case 'full':
        return this.b.coerce(this.expr(args[1]!), out.dtype, out.shape);
      case 'load': {
        const a = this.access(args[0]!);
        const o = this.named(e, 'other');
        const other = this.b.coerce(o ? this.expr(o) : this.b.const(a.sym.dtype, [], 0), a.sym.dtype, a.shape);
        const m = this.named(e, 'mask');
        const mask = m ? this.b.broadcast(this.expr(m), a.shape) : undefined;
        const result = this.b.tile(a.sym.dtype, a.shape);
        this.b.emit({ op: 'load', result, tensor: a.tensor, indices: a.indices, other, ...(mask ? { mask } : {}) });
        return result;
      }
      case 'dot': {
        const a = this.expr(args[0]!);
        const bb = this.expr(args[1]!);
        const acc = args[2] ? this.expr(args[2]) : this.b.const('f32', out.shape, 0);
        const result = this.b.tile('f32', out.shape);
        this.b.emit({ op: 'dot', result, a, b: bb, acc });
        return result;
      }
      case 'transpose': {
        const src = this.expr(args[0]!);
        const result = this.b.tile(src.type.dtype, out.shape);
        this.b.emit({ op: 'transpose', result, src });
        return result;
      }
      case 'sum':
      case 'max':
      case 'min': {
        let src = this.b.cast(this.expr(args[0]!), out.dtype);
        const axisE = this.named(e, 'axis');
        const rank = src.type.shape.length;
        const axes = axisE ? [((this.constNumber(axisE) % rank) + rank) % rank] : [...src.type.shape.keys()].reverse();
        for (const axis of axes) {
          const result = this.b.tile(out.dtype, src.type.shape.filter((_, i) => i !== axis));
          this.b.emit({ op: 'reduce', fn: name, axis, result, src });
          src = result;
        }
        return src;
      }
      case 'maximum':
      case 'minimum': {
        const l = this.b.coerce(this.expr(args[0]!), out.dtype, out.shape);
        const r = this.b.coerce(this.expr(args[1]!), out.dtype, out.shape);
        return this.b.binary(name === 'maximum' ? 'max' : 'min', l, r);
      }
      case 'where': {
        const c = this.b.broadcast(this.expr(args[0]!), out.shape);
        const x = this.b.coerce(this.expr(args[1]!), out.dtype, out.shape);
        const y = this.b.coerce(this.expr(args[2]!), out.dtype, out.shape);
        return this.b.select(c, x, y);
      }
      default:
        return this.b.unary(name as UnaryFn, this.b.cast(this.expr(args[0]!), out.dtype));
    }
  }
}
