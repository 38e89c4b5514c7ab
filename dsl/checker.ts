/**
 * The checker: resolves names, infers the dtype and shape of every expression, folds
 * compile-time values, and reports what is wrong. It runs for one configuration at a time
 * (tile shapes are then plain numbers); `checkSpace` runs it over a kernel's whole space.
 * Its result is what the compiler lowers; the compiler trusts it and re-checks nothing.
 */
import type {
  AssignStmt,
  BinaryOp,
  Block,
  CallExpr,
  Expr,
  ForStmt,
  IfStmt,
  IndexExpr,
  KernelDecl,
  LetStmt,
  NameExpr,
  Stmt,
  TypeRef,
} from './ast.js';
import { MISSING } from './ast.js';
import { type Diagnostic, error } from './diagnostic.js';
import { type DType, isDType, isFloat, isInt, isStorageOnly } from './dtype.js';
import type { Span } from './span.js';
import type { Bindings, CVal, DimSym, LocalSym, ScalarSym, Sym, TensorSym } from './symbols.js';
import {
  type AccessT,
  type ExprType,
  type TileT,
  ERROR_T,
  VOID_T,
  broadcastShapes,
  broadcastsTo,
  formatShape,
  fitsDType,
  formatType,
  MAX_TILE_ELEMENTS,
  promoteTypes,
  scalarT,
  tileT,
} from './types.js';
import { BUILTINS, MATH_FNS } from './builtins.js';
import { ARITH_OPS, CMP_OPS, applyBinary, applyCmp, applyUnary } from './scalar-ops.js';
import { convert } from './float-rounding.js';

export interface CheckedKernel {
  readonly kernel: KernelDecl;
  readonly bindings: Bindings;
  readonly tensors: readonly TensorSym[];
  /** Parameters in declaration order. */
  readonly params: readonly (TensorSym | ScalarSym)[];
  readonly types: ReadonlyMap<Expr, ExprType>;
  readonly names: ReadonlyMap<NameExpr, Sym>;
  readonly locals: ReadonlyMap<LetStmt | ForStmt, LocalSym>;
  readonly assigns: ReadonlyMap<AssignStmt, LocalSym>;
  /** Variables declared outside a runtime `for`/`if` and assigned inside it. */
  readonly carried: ReadonlyMap<ForStmt | IfStmt, readonly LocalSym[]>;
  /** `if` statements whose condition is a compile-time constant, with its value. */
  readonly constConds: ReadonlyMap<IfStmt, boolean>;
  readonly diagnostics: readonly Diagnostic[];
}

interface Frame {
  readonly depth: number;
  readonly assigned: LocalSym[];
}

/** The globals of a kernel under one configuration: parameters, dims, constants. */
function collectGlobals(k: KernelDecl, b: Bindings, diags: Diagnostic[]): Map<string, Sym> {
  const g = new Map<string, Sym>();
  for (const [name, value] of b.values) {
    const tunable = k.tunables.some((t) => t.name.name === name);
    g.set(name, { kind: 'const', name, value, tunable });
  }
  const resolveDType = (t: TypeRef): DType | undefined => {
    const n = t.name.name;
    if (n === MISSING) return undefined;
    if (isDType(n)) return n;
    const c = b.values.get(n);
    if (c?.kind === 'type') return c.value;
    diags.push(
      error('TK1005', t.name.span, `unknown dtype '${n}'`, `expected one of f16, bf16, f32, i32, i64, bool, f8e4m3, f8e5m2, or a 'type' constant`),
    );
    return undefined;
  };
  const declared = new Map<string, Span>();
  for (const p of k.params) {
    const name = p.name.name;
    if (name === MISSING) continue;
    if (isDType(name) || name === 'inf') {
      diags.push(error('TK1002', p.name.span, `'${name}' is a builtin name`, 'choose another parameter name'));
      continue;
    }
    if (declared.has(name) || g.has(name)) {
      diags.push(error('TK1002', p.name.span, `'${name}' is already defined`, 'parameters, constants and tunables share one namespace'));
      continue;
    }
    declared.set(name, p.name.span);
    const dtype = resolveDType(p.dtype) ?? 'f32';
    if (p.kind === 'ScalarParam') {
      g.set(name, { kind: 'scalar', name, dtype });
      continue;
    }
    const dims: (string | number)[] = [];
    p.dims.forEach((d, axis) => {
      if (d.kind === 'DimLit') {
        dims.push(d.value);
        return;
      }
      const dn = d.name.name;
      const c = b.values.get(dn);
      if (c) {
        if (c.kind !== 'int') diags.push(error('TK2001', d.span, `dimension '${dn}' names a ${c.kind} constant; expected an int`));
        dims.push(c.kind === 'int' ? c.value : 0);
        return;
      }
      dims.push(dn);
      const prev = g.get(dn);
      if (!prev) g.set(dn, { kind: 'dim', name: dn, tensor: name, axis } satisfies DimSym);
      else if (prev.kind !== 'dim') diags.push(error('TK1002', d.span, `'${dn}' is already defined as a ${symKindName(prev)}; a dimension needs its own name`));
    });
    g.set(name, { kind: 'tensor', name, dtype, dims });
  }
  // A dim symbol cannot also be a parameter name.
  for (const p of k.params) {
    if (p.kind !== 'TensorParam') continue;
    for (const d of p.dims) {
      if (d.kind === 'DimName' && declared.has(d.name.name)) {
        diags.push(error('TK1002', d.span, `'${d.name.name}' is already defined as a parameter; a dimension needs its own name`));
      }
    }
  }
  return g;
}

function symKindName(s: Sym): string {
  switch (s.kind) {
    case 'const':
      return s.tunable ? 'tunable' : 'constant';
    case 'scalar':
      return 'scalar parameter';
    case 'tensor':
      return 'tensor parameter';
    case 'dim':
      return 'dimension';
    case 'local':
      return s.mutable ? 'variable' : 'local';
    case 'inf':
      return 'builtin constant';
    case 'dtype':
      return 'dtype';
  }
}

export class Checker {
  readonly diags: Diagnostic[] = [];
  private readonly types = new Map<Expr, ExprType>();
  private readonly names = new Map<NameExpr, Sym>();
  private readonly locals = new Map<LetStmt | ForStmt, LocalSym>();
  private readonly assigns = new Map<AssignStmt, LocalSym>();
  private readonly carried = new Map<ForStmt | IfStmt, LocalSym[]>();
  private readonly constConds = new Map<IfStmt, boolean>();
  private readonly globals: Map<string, Sym>;
  private readonly scopes: Map<string, LocalSym>[] = [];
  private readonly frames: Frame[] = [];
  /** Grid rank, for program_id's axis check. */
  private gridRank = 3;
  /** While checking the grid: it is computed before any program runs. */
  private inGrid = false;
  /** Locals whose initializer failed: uses are silent, the error is already reported. */
  private readonly poisoned = new Set<LocalSym>();

  constructor(
    readonly kernel: KernelDecl,
    readonly bindings: Bindings,
  ) {
    this.globals = collectGlobals(kernel, bindings, this.diags);
  }

  check(): CheckedKernel {
    const k = this.kernel;
    if (k.grid.length < 1 || k.grid.length > 3) {
      this.diags.push(error('TK1009', k.gridSpan, `a grid has 1 to 3 axes, found ${k.grid.length}`, 'write grid [x], grid [x, y] or grid [x, y, z]'));
    }
    this.inGrid = true;
    for (const g of k.grid) this.expectIntScalar(g, 'a grid size');
    this.inGrid = false;
    this.gridRank = Math.max(1, Math.min(3, k.grid.length));
    this.block(k.body);
    const tensors: TensorSym[] = [];
    const params: (TensorSym | ScalarSym)[] = [];
    for (const p of k.params) {
      const s = this.globals.get(p.name.name);
      if (s?.kind === 'tensor') tensors.push(s);
      if (s?.kind === 'tensor' || s?.kind === 'scalar') params.push(s);
    }
    return {
      kernel: k,
      bindings: this.bindings,
      tensors,
      params,
      types: this.types,
      names: this.names,
      locals: this.locals,
      assigns: this.assigns,
      carried: this.carried,
      constConds: this.constConds,
      diagnostics: this.diags,
    };
  }

  // ---- statements ----

  private block(b: Block): void {
    this.scopes.push(new Map());
    for (const s of b.stmts) this.stmt(s);
    this.scopes.pop();
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'Let':
        return this.letStmt(s);
      case 'Assign':
        return this.assignStmt(s);
      case 'ExprStmt': {
        const t = this.expr(s.expr);
        if (t.kind !== 'void' && t.kind !== 'error') {
          this.diags.push(error('TK2019', s.expr.span, 'this expression has no effect', 'bind it with `let`, or call `store(...)`'));
        }
        return;
      }
      case 'For':
        return this.forStmt(s);
      case 'If':
        return this.ifStmt(s);
    }
  }

  private declare(name: LetStmt['name'], mutable: boolean, type: TileT): LocalSym | undefined {
    if (name.name === MISSING) return undefined;
    const prev = this.lookup(name.name);
    if (prev) {
      this.diags.push(
        error('TK1002', name.span, `'${name.name}' is already defined as a ${symKindName(prev)}`, 'choose another name; names cannot be shadowed in a kernel'),
      );
      return undefined;
    }
    const sym: LocalSym = { kind: 'local', name: name.name, mutable, type, decl: name, depth: this.frames.length };
    this.scopes[this.scopes.length - 1]?.set(name.name, sym);
    return sym;
  }

  private letStmt(s: LetStmt): void {
    const t = this.expr(s.init);
    if (t.kind !== 'tile') {
      if (t.kind !== 'error') this.diags.push(error('TK2001', s.init.span, `expected a tile or scalar value, found ${formatType(t)}`));
      // Declare the name anyway, so its uses do not add "unknown name" errors.
      const sym = this.declare(s.name, s.mutable, tileT('f32', []));
      if (sym) this.poisoned.add(sym);
      return;
    }
    // A variable may change, so it is never a compile-time constant and never weak.
    const type = s.mutable ? tileT(t.dtype, t.shape) : t;
    const sym = this.declare(s.name, s.mutable, type);
    if (sym) this.locals.set(s, sym);
  }

  private assignStmt(s: AssignStmt): void {
    const vt = this.expr(s.value);
    const sym = this.lookup(s.target.name);
    if (s.target.name === MISSING) return;
    if (!sym) {
      this.diags.push(error('TK1001', s.target.span, `unknown name '${s.target.name}'`, 'declare it first with `var`'));
      return;
    }
    if (sym.kind !== 'local' || !sym.mutable) {
      this.diags.push(
        error(
          'TK1003',
          s.target.span,
          `cannot assign to '${s.target.name}': it is a ${symKindName(sym)}`,
          sym.kind === 'local' ? `declare it with \`var ${s.target.name} = ...\` to make it assignable` : 'only `var` variables can be assigned',
        ),
      );
      return;
    }
    if (vt.kind === 'error' || this.poisoned.has(sym)) return;
    let t: ExprType = vt;
    if (s.op !== '=') {
      const op = s.op[0] as '+' | '-' | '*' | '/';
      t = this.arith(op, sym.type, vt, s.span);
      if (t.kind === 'error') return;
    }
    if (t.kind !== 'tile' || !this.assignable(t, sym.type)) {
      this.diags.push(
        error(
          'TK2014',
          s.value.span,
          `cannot assign ${formatType(t)} to variable '${sym.name}' of type ${formatType(sym.type)}`,
          t.kind === 'tile' && t.dtype !== sym.type.dtype ? `a variable keeps its dtype: cast with \`as ${sym.type.dtype}\`` : 'a variable keeps its shape',
        ),
      );
      return;
    }
    this.assigns.set(s, sym);
    for (const f of this.frames) if (sym.depth < f.depth && !f.assigned.includes(sym)) f.assigned.push(sym);
  }

  private assignable(t: TileT, to: TileT): boolean {
    return broadcastsTo(t.shape, to.shape) && fitsDType(t, to.dtype);
  }

  private withFrame(node: ForStmt | IfStmt, body: () => void): void {
    const frame: Frame = { depth: this.frames.length + 1, assigned: [] };
    this.frames.push(frame);
    body();
    this.frames.pop();
    this.carried.set(node, frame.assigned);
  }

  private forStmt(s: ForStmt): void {
    const it = s.iterable;
    if (it.kind !== 'Call' || it.callee.name !== 'range') {
      if (it.kind !== 'Error') this.diags.push(error('TK2020', it.span, 'a for loop iterates over range(...)', 'write `for i in range(start, end, step)`'));
      this.expr(it);
    } else {
      this.types.set(it, VOID_T);
      if (it.named.length > 0) this.diags.push(error('TK1007', it.named[0]!.span, 'range takes no named arguments'));
      if (it.args.length < 1 || it.args.length > 3) {
        this.diags.push(error('TK1007', it.span, `range takes 1 to 3 arguments, found ${it.args.length}`, 'range(end), range(start, end) or range(start, end, step)'));
      }
      it.args.slice(0, 2).forEach((a) => this.expectIntScalar(a, 'a loop bound'));
      const step = it.args[2];
      if (step) {
        const v = this.constInt(step, 'the loop step');
        if (v !== undefined && v <= 0) this.diags.push(error('TK2017', step.span, `the loop step must be a positive constant, found ${v}`));
      }
    }
    if (s.pipelined) {
      const v = this.constInt(s.pipelined, 'pipelined(N)');
      if (v !== undefined && v < 1) this.diags.push(error('TK2017', s.pipelined.span, `pipelined(N) needs N >= 1, found ${v}`));
    }
    this.withFrame(s, () => {
      this.scopes.push(new Map());
      const sym = this.declare(s.variable, false, scalarT('i32'));
      if (sym) this.locals.set(s, sym);
      this.block(s.body);
      this.scopes.pop();
    });
  }

  private ifStmt(s: IfStmt): void {
    const ct = this.expr(s.cond);
    if (ct.kind === 'error') return;
    if (ct.kind !== 'tile' || ct.dtype !== 'bool' || ct.shape.length !== 0) {
      this.diags.push(error('TK2010', s.cond.span, `an if condition must be a bool scalar, found ${formatType(ct)}`, 'compare with `==`, `<`, … to get a bool'));
      return;
    }
    if (ct.value !== undefined) {
      // A compile-time condition: only the taken branch exists in this configuration.
      const taken = ct.value !== 0;
      this.constConds.set(s, taken);
      if (taken) this.block(s.then);
      else if (s.else) this.elseBranch(s.else);
      return;
    }
    this.withFrame(s, () => {
      this.block(s.then);
      if (s.else) this.elseBranch(s.else);
    });
  }

  private elseBranch(e: Block | IfStmt): void {
    if (e.kind === 'Block') this.block(e);
    else this.ifStmt(e);
  }

  // ---- expressions ----

  private lookup(name: string): Sym | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const s = this.scopes[i]!.get(name);
      if (s) return s;
    }
    const g = this.globals.get(name);
    if (g) return g;
    if (name === 'inf') return { kind: 'inf' };
    if (isDType(name)) return { kind: 'dtype', dtype: name };
    return undefined;
  }

  expr(e: Expr): ExprType {
    const t = this.exprInner(e);
    this.types.set(e, t);
    return t;
  }

  private exprInner(e: Expr): ExprType {
    switch (e.kind) {
      case 'Int':
        if (e.value > 2 ** 31) {
          this.diags.push(error('TK2021', e.span, `integer literal ${e.value} does not fit i32`, 'compute large values in i64 (`(x as i64) * ...`) or write a float'));
          return ERROR_T;
        }
        return scalarT('i32', true, applyBinary('add', e.value, 0, 'i32'));
      case 'Float':
        return scalarT('f32', true, e.value);
      case 'Bool':
        return scalarT('bool', true, e.value ? 1 : 0);
      case 'Error':
        return ERROR_T;
      case 'Name':
        return this.name(e);
      case 'Unary':
        return this.unary(e.op, this.expr(e.operand), e.span);
      case 'Binary': {
        const l = this.expr(e.left);
        const r = this.expr(e.right);
        return this.binary(e.op, l, r, e.span);
      }
      case 'Cast':
        return this.cast(e.expr, e.type);
      case 'List': {
        const elements = e.elements.map((x) => this.expr(x));
        return { kind: 'list', elements };
      }
      case 'Index':
        return this.index(e);
      case 'Call':
        return this.call(e);
    }
  }

  private name(e: NameExpr): ExprType {
    if (e.name === MISSING) return ERROR_T;
    const s = this.lookup(e.name);
    if (!s) {
      this.diags.push(error('TK1001', e.span, `unknown name '${e.name}'`, this.suggest(e.name)));
      return ERROR_T;
    }
    this.names.set(e, s);
    switch (s.kind) {
      case 'tensor':
        return { kind: 'tensor', name: s.name, dtype: s.dtype, dims: s.dims };
      case 'scalar':
        return scalarT(s.dtype);
      case 'dim':
        return scalarT('i32');
      case 'const':
        return constType(s.value);
      case 'local':
        return this.poisoned.has(s) ? ERROR_T : s.type;
      case 'inf':
        return scalarT('f32', true, Infinity);
      case 'dtype':
        return { kind: 'dtype', dtype: s.dtype };
    }
  }

  private suggest(name: string): string | undefined {
    const known = [...this.globals.keys(), ...this.scopes.flatMap((s) => [...s.keys()])];
    const close = known.find((k) => editDistance(k, name) <= Math.floor(name.length / 3));
    return close ? `did you mean '${close}'?` : undefined;
  }

  private unary(op: '-' | '!', t: ExprType, span: Span): ExprType {
    if (t.kind === 'error') return t;
    if (t.kind !== 'tile') return this.mismatch(span, 'a tile or scalar', t);
    if (op === '!') {
      if (t.dtype !== 'bool') return this.mismatch(span, 'a bool operand for `!`', t);
      return { ...t, value: t.value === undefined ? undefined : t.value ? 0 : 1 };
    }
    if (t.dtype === 'bool') return this.mismatch(span, 'a numeric operand for `-`', t);
    if (isStorageOnly(t.dtype)) return this.storageErr(span, t.dtype);
    return t.value === undefined ? t : { ...t, value: applyUnary('neg', t.value, t.dtype) };
  }

  private mismatch(span: Span, expected: string, found: ExprType, hint?: string): ExprType {
    this.diags.push(error('TK2001', span, `expected ${expected}, found ${formatType(found)}`, hint));
    return ERROR_T;
  }

  private storageErr(span: Span, d: DType): ExprType {
    this.diags.push(error('TK2009', span, `${d} is a storage type: no arithmetic on it`, `cast it first: \`x as f16\` or \`x as f32\``));
    return ERROR_T;
  }

  /** The dtype two operands meet at, or undefined after reporting why they do not. */
  private promote(a: TileT, b: TileT, span: Span): { dtype: DType; weak: boolean } | undefined {
    const p = promoteTypes(a, b);
    if (p === 'storage') {
      this.storageErr(span, isStorageOnly(a.dtype) ? a.dtype : b.dtype);
      return undefined;
    }
    if (p === 'mixed16') {
      this.diags.push(error('TK2008', span, `cannot mix ${a.dtype} and ${b.dtype}`, 'cast one side explicitly, e.g. `x as f32`'));
      return undefined;
    }
    return p;
  }

  private shapeOf(a: TileT, b: TileT, span: Span): number[] | undefined {
    const s = broadcastShapes(a.shape, b.shape);
    if (!s) {
      this.diags.push(
        error('TK2002', span, `shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} do not broadcast`, 'insert an axis with `x[:, None]` or `x[None, :]`'),
      );
    }
    return s;
  }

  private arith(op: '+' | '-' | '*' | '/' | '%', l: ExprType, r: ExprType, span: Span): ExprType {
    if (l.kind === 'error' || r.kind === 'error') return ERROR_T;
    if (l.kind !== 'tile') return this.mismatch(span, `a tile or scalar on the left of '${op}'`, l, l.kind === 'tensor' ? 'read a tensor with `load(t[...])`' : undefined);
    if (r.kind !== 'tile') return this.mismatch(span, `a tile or scalar on the right of '${op}'`, r, r.kind === 'tensor' ? 'read a tensor with `load(t[...])`' : undefined);
    if (l.dtype === 'bool' || r.dtype === 'bool') return this.mismatch(span, `numbers for '${op}'`, l.dtype === 'bool' ? l : r);
    const p = this.promote(l, r, span);
    const shape = this.shapeOf(l, r, span);
    if (!p || !shape) return ERROR_T;
    let value: number | undefined;
    if (l.value !== undefined && r.value !== undefined) {
      value = foldArith(op, l.value, r.value, p.dtype);
      if (value === undefined) {
        this.diags.push(error('TK2016', span, 'integer division by zero in a constant expression'));
        return ERROR_T;
      }
    }
    return tileT(p.dtype, shape, p.weak, value);
  }

  private binary(op: BinaryOp, l: ExprType, r: ExprType, span: Span): ExprType {
    switch (op) {
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
        return this.arith(op, l, r, span);
      case '&&':
      case '||': {
        if (l.kind === 'error' || r.kind === 'error') return ERROR_T;
        if (l.kind !== 'tile' || l.dtype !== 'bool') return this.mismatch(span, `bool operands for '${op}'`, l);
        if (r.kind !== 'tile' || r.dtype !== 'bool') return this.mismatch(span, `bool operands for '${op}'`, r);
        const shape = this.shapeOf(l, r, span);
        if (!shape) return ERROR_T;
        let value: number | undefined;
        if (l.value !== undefined && r.value !== undefined) value = op === '&&' ? (l.value && r.value ? 1 : 0) : l.value || r.value ? 1 : 0;
        // `false && x` is false whatever x is; same for `true || x`.
        if (l.value !== undefined && shape.length === 0 && ((op === '&&' && !l.value) || (op === '||' && l.value))) value = l.value;
        return tileT('bool', shape, l.weak && r.weak, value);
      }
      default: {
        if (l.kind === 'error' || r.kind === 'error') return ERROR_T;
        if (l.kind !== 'tile') return this.mismatch(span, `a tile or scalar on the left of '${op}'`, l);
        if (r.kind !== 'tile') return this.mismatch(span, `a tile or scalar on the right of '${op}'`, r);
        if ((l.dtype === 'bool') !== (r.dtype === 'bool')) return this.mismatch(span, `operands of the same kind for '${op}'`, l.dtype === 'bool' ? r : l);
        const p = this.promote(l, r, span);
        const shape = this.shapeOf(l, r, span);
        if (!p || !shape) return ERROR_T;
        let value: number | undefined;
        if (l.value !== undefined && r.value !== undefined) value = applyCmp(CMP_OPS[op as keyof typeof CMP_OPS], l.value, r.value) ? 1 : 0;
        return tileT('bool', shape, p.weak, value);
      }
    }
  }

  private resolveType(t: TypeRef): DType | undefined {
    const n = t.name.name;
    if (n === MISSING) return undefined;
    const s = this.lookup(n);
    if (s?.kind === 'dtype') return s.dtype;
    if (s?.kind === 'const' && s.value.kind === 'type') return s.value.value;
    this.diags.push(error('TK1005', t.name.span, `unknown dtype '${n}'`, 'expected f16, bf16, f32, i32, i64, bool, f8e4m3, f8e5m2, or a `type` constant'));
    return undefined;
  }

  private cast(inner: Expr, tr: TypeRef): ExprType {
    const t = this.expr(inner);
    const to = this.resolveType(tr);
    if (t.kind === 'error' || !to) return ERROR_T;
    if (t.kind !== 'tile') return this.mismatch(inner.span, 'a tile or scalar to cast', t);
    // Casting keeps compile-time integers and booleans; float values are folded by the compiler.
    let value: number | undefined;
    if (t.value !== undefined && (to === 'bool' || isInt(to)) && !isFloat(t.dtype)) value = convert(t.value, to, t.dtype);
    return tileT(to, t.shape, false, value);
  }

  private index(e: IndexExpr): ExprType {
    const base = this.expr(e.base);
    if (base.kind === 'error') {
      for (const it of e.items) this.indexItemExprs(it);
      return ERROR_T;
    }
    if (base.kind === 'tensor') return this.access(e, base);
    if (base.kind !== 'tile') return this.mismatch(e.base.span, 'a tensor or a tile to index', base);
    // On tiles only `:` and `None` are allowed: they insert axes for broadcasting.
    const shape: number[] = [];
    let axis = 0;
    for (const it of e.items) {
      if (it.kind === 'NewAxis') shape.push(1);
      else if (it.kind === 'Full') shape.push(base.shape[axis++] ?? 0);
      else {
        this.indexItemExprs(it);
        this.diags.push(
          error('TK2018', it.span, 'a tile can only be indexed with `:` and `None`', 'to read part of a tensor, index the tensor parameter inside `load(...)`'),
        );
        return ERROR_T;
      }
    }
    if (axis !== base.shape.length) {
      this.diags.push(
        error('TK2007', e.span, `${formatType(base)} has ${base.shape.length} axes, the index has ${axis} ':' entries`, 'write one `:` per axis, plus `None` for each new axis'),
      );
      return ERROR_T;
    }
    return tileT(base.dtype, shape, base.weak, base.value);
  }

  private indexItemExprs(it: IndexExpr['items'][number]): void {
    if (it.kind === 'Scalar') this.expr(it.expr);
    if (it.kind === 'Slice') {
      this.expr(it.start);
      this.expr(it.size);
    }
  }

  private access(e: IndexExpr, t: Extract<ExprType, { kind: 'tensor' }>): ExprType {
    if (e.items.length !== t.dims.length) {
      for (const it of e.items) this.indexItemExprs(it);
      this.diags.push(
        error('TK2007', e.span, `tensor '${t.name}' has ${t.dims.length} dimensions, the index has ${e.items.length}`, `write one entry per dimension: [${t.dims.join(', ')}]`),
      );
      return ERROR_T;
    }
    const shape: number[] = [];
    let bad = false;
    for (const it of e.items) {
      if (it.kind === 'Scalar') {
        if (!this.expectIntScalar(it.expr, 'an index')) bad = true;
      } else if (it.kind === 'Slice') {
        if (!this.expectIntScalar(it.start, 'a slice start')) bad = true;
        const n = this.tileSize(it.size, 'a slice size');
        if (n === undefined) bad = true;
        else shape.push(n);
      } else {
        this.diags.push(
          error('TK2018', it.span, `a tensor is indexed with \`i\` or \`start : size\`, not \`${it.kind === 'Full' ? ':' : 'None'}\``, 'tile sizes must be compile-time constants: write `0 : D`'),
        );
        bad = true;
      }
    }
    if (bad || !this.tileLimit(shape, e.span)) return ERROR_T;
    return { kind: 'access', tensor: t, shape } satisfies AccessT;
  }

  private expectIntScalar(e: Expr, what: string): boolean {
    const t = this.expr(e);
    if (t.kind === 'error') return false;
    if (t.kind !== 'tile' || t.shape.length !== 0 || !isInt(t.dtype)) {
      this.mismatch(e.span, `an integer scalar for ${what}`, t);
      return false;
    }
    return true;
  }

  /** A compile-time integer; reports TK2017 when the value is only known at run time. */
  constInt(e: Expr, what: string): number | undefined {
    const t = this.expr(e);
    if (t.kind === 'error') return undefined;
    if (t.kind !== 'tile' || t.shape.length !== 0 || !isInt(t.dtype)) {
      this.mismatch(e.span, `an integer constant for ${what}`, t);
      return undefined;
    }
    if (t.value === undefined) {
      this.diags.push(error('TK2017', e.span, `${what} must be a compile-time constant`, 'use literals, constants, tunables and arithmetic over them'));
      return undefined;
    }
    return t.value;
  }

  /** A compile-time positive tile extent. */
  private tileSize(e: Expr, what: string): number | undefined {
    const t = this.expr(e);
    if (t.kind === 'error') return undefined;
    if (t.kind !== 'tile' || t.shape.length !== 0 || !isInt(t.dtype) || t.value === undefined || t.value <= 0) {
      this.diags.push(
        error(
          'TK2005',
          e.span,
          `${what} must be a positive compile-time integer, found ${t.kind === 'tile' && t.value !== undefined ? t.value : formatType(t)}`,
          'tile shapes are fixed at compile time: use literals, constants and tunables (runtime sizes go in the tensor shape)',
        ),
      );
      return undefined;
    }
    return t.value;
  }

  /** Rejects tiles no GPU program could hold (and the interpreter could not allocate). */
  private tileLimit(shape: readonly number[], span: Span): boolean {
    const n = shape.reduce((a, b) => a * b, 1);
    if (n <= MAX_TILE_ELEMENTS) return true;
    this.diags.push(
      error('TK2022', span, `a tile of ${n} elements (${formatShape(shape)}) is larger than the limit of ${MAX_TILE_ELEMENTS}`, 'tiles live in registers and shared memory: use smaller tile sizes and a loop'),
    );
    return false;
  }

  private shapeList(e: Expr | undefined): number[] | undefined {
    if (!e) return undefined;
    if (e.kind !== 'List') {
      this.expr(e);
      this.diags.push(error('TK2005', e.span, 'expected a shape list such as [BM, BN]', undefined));
      return undefined;
    }
    this.types.set(e, { kind: 'list', elements: [] });
    const dims = e.elements.map((x) => this.tileSize(x, 'a tile dimension'));
    if (dims.some((d) => d === undefined)) return undefined;
    return this.tileLimit(dims as number[], e.span) ? (dims as number[]) : undefined;
  }

  private call(e: CallExpr): ExprType {
    const name = e.callee.name;
    if (name === MISSING) {
      for (const a of e.args) this.expr(a);
      return ERROR_T;
    }
    const sig = BUILTINS[name];
    if (!sig) {
      for (const a of e.args) this.expr(a);
      const hint = name === 'range' ? 'range(...) is only valid in a for loop header' : this.suggestBuiltin(name);
      this.diags.push(error('TK1004', e.callee.span, `unknown function '${name}'`, hint));
      return ERROR_T;
    }
    if (this.inGrid && (name === 'program_id' || name === 'num_programs' || name === 'load' || name === 'store')) {
      for (const a of e.args) this.expr(a);
      this.diags.push(
        error('TK1010', e.callee.span, `${name} cannot be used in the grid`, 'the grid is computed before any program runs, from shape symbols, constants and scalar parameters'),
      );
      return ERROR_T;
    }
    const dup = e.named.find((n, i) => e.named.findIndex((m) => m.name.name === n.name.name) !== i);
    if (dup) {
      for (const a of e.args) this.expr(a);
      this.diags.push(error('TK1007', dup.name.span, `argument '${dup.name.name}' is given twice`));
      return ERROR_T;
    }
    const arity = e.args.length;
    const [minA, maxA] = sig.args;
    const badNamed = e.named.find((n) => !sig.named.includes(n.name.name));
    if (arity < minA || arity > maxA || badNamed) {
      for (const a of e.args) this.expr(a);
      for (const n of e.named) this.expr(n.value);
      const expected = minA === maxA ? `${minA}` : `${minA} to ${maxA}`;
      this.diags.push(
        badNamed
          ? error('TK1007', badNamed.name.span, `${name} has no argument named '${badNamed.name.name}'`, sig.named.length ? `it takes ${sig.named.join(', ')}` : `it takes no named arguments`)
          : error('TK1007', e.span, `${name} takes ${expected} positional argument${maxA === 1 ? '' : 's'}, found ${arity}`, `usage: ${sig.usage}`),
      );
      return ERROR_T;
    }
    const named = (n: string): Expr | undefined => e.named.find((x) => x.name.name === n)?.value;
    const a = e.args;
    switch (name) {
      case 'program_id':
      case 'num_programs': {
        const axis = this.constInt(a[0]!, `the axis of ${name}`);
        if (axis === undefined) return ERROR_T;
        if (axis < 0 || axis >= this.gridRank) {
          this.diags.push(error('TK2004', a[0]!.span, `axis ${axis} is out of range: the grid has ${this.gridRank} ax${this.gridRank === 1 ? 'is' : 'es'}`));
          return ERROR_T;
        }
        return scalarT('i32');
      }
      case 'cdiv': {
        const x = this.expr(a[0]!);
        const y = this.expr(a[1]!);
        if (x.kind === 'error' || y.kind === 'error') return ERROR_T;
        for (const [t, ex] of [[x, a[0]!], [y, a[1]!]] as const) {
          if (t.kind !== 'tile' || t.shape.length !== 0 || !isInt(t.dtype)) return this.mismatch(ex.span, 'an integer scalar', t);
        }
        const xt = x as TileT;
        const yt = y as TileT;
        if (yt.value === 0) {
          this.diags.push(error('TK2016', a[1]!.span, 'cdiv by zero'));
          return ERROR_T;
        }
        const p = this.promote(xt, yt, e.span);
        if (!p) return ERROR_T;
        // The same arithmetic lowering emits: (x + y - 1) / y.
        const value =
          xt.value !== undefined && yt.value !== undefined
            ? applyBinary('div', applyBinary('sub', applyBinary('add', xt.value, yt.value, p.dtype), 1, p.dtype), yt.value, p.dtype)
            : undefined;
        return scalarT(p.dtype, p.weak, value);
      }
      case 'arange': {
        const n = this.tileSize(a[0]!, 'the length of arange');
        return n === undefined || !this.tileLimit([n], e.span) ? ERROR_T : tileT('i32', [n]);
      }
      case 'zeros':
      case 'full': {
        const shape = this.shapeList(a[0]);
        const fill = name === 'full' ? this.expr(a[1]!) : undefined;
        const dtArg = a[name === 'full' ? 2 : 1];
        let dtype: DType = 'f32';
        if (dtArg) {
          const d = this.expr(dtArg);
          if (d.kind === 'error') return ERROR_T;
          if (d.kind !== 'dtype') return this.mismatch(dtArg.span, 'a dtype', d);
          dtype = d.dtype;
        }
        if (fill) {
          if (fill.kind === 'error') return ERROR_T;
          if (fill.kind !== 'tile' || fill.shape.length !== 0) return this.mismatch(a[1]!.span, 'a scalar fill value', fill);
          if (!fitsDType(fill, dtype)) return this.mismatch(a[1]!.span, `a fill value of dtype ${dtype}`, fill, `cast it: \`as ${dtype}\``);
        }
        return shape ? tileT(dtype, shape) : ERROR_T;
      }
      case 'load':
      case 'store':
        return this.loadStore(e, name, named('other'), named('mask'));
      case 'dot':
        return this.dot(e);
      case 'transpose': {
        const t = this.expr(a[0]!);
        if (t.kind === 'error') return t;
        if (t.kind !== 'tile' || t.shape.length !== 2) return this.mismatch(a[0]!.span, 'a rank-2 tile', t);
        return tileT(t.dtype, [t.shape[1]!, t.shape[0]!]);
      }
      case 'sum':
      case 'max':
      case 'min': {
        const t = this.expr(a[0]!);
        const axisE = named('axis');
        const axis = axisE ? this.constInt(axisE, 'the reduction axis') : undefined;
        if (t.kind === 'error' || (axisE && axis === undefined)) return ERROR_T;
        if (t.kind !== 'tile' || t.shape.length === 0) return this.mismatch(a[0]!.span, `a tile to reduce`, t);
        if (isStorageOnly(t.dtype)) return this.storageErr(a[0]!.span, t.dtype);
        if (t.dtype === 'bool') return this.mismatch(a[0]!.span, 'a numeric tile', t);
        let shape: number[] = [];
        if (axis !== undefined) {
          const ax = axis < 0 ? axis + t.shape.length : axis;
          if (ax < 0 || ax >= t.shape.length) {
            this.diags.push(error('TK2004', axisE!.span, `axis ${axis} is out of range for ${formatType(t)}`, `valid axes are 0 to ${t.shape.length - 1}`));
            return ERROR_T;
          }
          shape = t.shape.filter((_, i) => i !== ax);
        }
        const dtype: DType = name === 'sum' && (t.dtype === 'f16' || t.dtype === 'bf16') ? 'f32' : t.dtype;
        return tileT(dtype, shape);
      }
      case 'maximum':
      case 'minimum': {
        const l = this.expr(a[0]!);
        const r = this.expr(a[1]!);
        if (l.kind === 'error' || r.kind === 'error') return ERROR_T;
        if (l.kind !== 'tile' || l.dtype === 'bool') return this.mismatch(a[0]!.span, 'a numeric tile or scalar', l);
        if (r.kind !== 'tile' || r.dtype === 'bool') return this.mismatch(a[1]!.span, 'a numeric tile or scalar', r);
        const p = this.promote(l, r, e.span);
        const shape = this.shapeOf(l, r, e.span);
        if (!p || !shape) return ERROR_T;
        const value = l.value !== undefined && r.value !== undefined ? applyBinary(name === 'maximum' ? 'max' : 'min', l.value, r.value, p.dtype) : undefined;
        return tileT(p.dtype, shape, p.weak, value);
      }
      case 'where': {
        const c = this.expr(a[0]!);
        const x = this.expr(a[1]!);
        const y = this.expr(a[2]!);
        if (c.kind === 'error' || x.kind === 'error' || y.kind === 'error') return ERROR_T;
        if (c.kind !== 'tile' || c.dtype !== 'bool') return this.mismatch(a[0]!.span, 'a bool condition', c);
        if (x.kind !== 'tile') return this.mismatch(a[1]!.span, 'a tile or scalar', x);
        if (y.kind !== 'tile') return this.mismatch(a[2]!.span, 'a tile or scalar', y);
        const p = this.promote(x, y, e.span);
        const s1 = this.shapeOf(x, y, e.span);
        if (!p || !s1) return ERROR_T;
        const shape = this.shapeOf(c, tileT(p.dtype, s1), e.span);
        if (!shape) return ERROR_T;
        const value = c.value !== undefined ? (c.value ? x.value : y.value) : undefined;
        return tileT(p.dtype, shape, p.weak, value);
      }
      default: {
        // elementwise math
        if (!MATH_FNS.has(name)) throw new Error(`builtin ${name} has no checker rule`);
        const t = this.expr(a[0]!);
        if (t.kind === 'error') return t;
        if (t.kind !== 'tile') return this.mismatch(a[0]!.span, 'a tile or scalar', t);
        if (isStorageOnly(t.dtype)) return this.storageErr(a[0]!.span, t.dtype);
        if (name === 'abs') {
          if (t.dtype === 'bool') return this.mismatch(a[0]!.span, 'a numeric tile', t);
          return tileT(t.dtype, t.shape, t.weak, t.value === undefined ? undefined : applyUnary('abs', t.value, t.dtype));
        }
        if (!isFloat(t.dtype) || (t.weak && t.dtype !== 'f32')) {
          if (t.weak && !isFloat(t.dtype)) return tileT('f32', t.shape);
          return this.mismatch(a[0]!.span, `a float tile for ${name}`, t, `cast it: \`x as f32\``);
        }
        return tileT(t.weak ? 'f32' : t.dtype, t.shape);
      }
    }
  }

  private suggestBuiltin(name: string): string | undefined {
    const close = Object.keys(BUILTINS).find((k) => editDistance(k, name) <= 2);
    return close ? `did you mean '${close}'?` : undefined;
  }

  private loadStore(e: CallExpr, name: 'load' | 'store', other: Expr | undefined, mask: Expr | undefined): ExprType {
    const target = e.args[0]!;
    const tt = this.expr(target);
    const value = name === 'store' ? this.expr(e.args[1]!) : undefined;
    const ot = other ? this.expr(other) : undefined;
    const mt = mask ? this.expr(mask) : undefined;
    if (tt.kind === 'error' || value?.kind === 'error' || ot?.kind === 'error' || mt?.kind === 'error') return ERROR_T;
    if (tt.kind !== 'access') {
      const hint = tt.kind === 'tensor' ? `give the part to ${name}: \`${tt.name}[${tt.dims.map((d) => `0 : ${d}`).join(', ')}]\` (sizes must be constants)` : undefined;
      return this.mismatch(target.span, `a tensor access such as \`t[m0 : BM, k0 : BK]\` in ${name}`, tt, hint);
    }
    const shape = tt.shape;
    if (mt) {
      if (mt.kind !== 'tile' || mt.dtype !== 'bool') return this.mismatch(mask!.span, 'a bool mask', mt);
      if (!broadcastsTo(mt.shape, shape)) {
        this.diags.push(error('TK2012', mask!.span, `mask shape ${formatShape(mt.shape)} does not broadcast to the accessed shape ${formatShape(shape)}`));
        return ERROR_T;
      }
    }
    const dtype = tt.tensor.dtype;
    if (name === 'load') {
      if (ot) {
        if (ot.kind !== 'tile' || ot.shape.length !== 0) return this.mismatch(other!.span, 'a scalar for `other`', ot);
        if (!fitsDType(ot, dtype)) {
          this.diags.push(error('TK2006', other!.span, `other is ${ot.dtype} but tensor '${tt.tensor.name}' holds ${dtype}`, `write a literal, or cast: \`as ${dtype}\``));
          return ERROR_T;
        }
      }
      return tileT(dtype, shape);
    }
    const v = value!;
    if (v.kind !== 'tile') return this.mismatch(e.args[1]!.span, 'a tile to store', v);
    if (!fitsDType(v, dtype)) {
      this.diags.push(
        error('TK2006', e.args[1]!.span, `cannot store ${v.dtype} into tensor '${tt.tensor.name}' of ${dtype}`, `cast the value: \`(...) as ${dtype}\``),
      );
      return ERROR_T;
    }
    if (!broadcastsTo(v.shape, shape)) {
      this.diags.push(
        error('TK2012', e.args[1]!.span, `cannot store a ${formatShape(v.shape)} tile into a ${formatShape(shape)} slice of '${tt.tensor.name}'`, 'the value must have the slice shape (or broadcast to it)'),
      );
      return ERROR_T;
    }
    return VOID_T;
  }

  private dot(e: CallExpr): ExprType {
    const [ae, be, ce] = e.args;
    const a = this.expr(ae!);
    const b = this.expr(be!);
    const c = ce ? this.expr(ce) : undefined;
    if (a.kind === 'error' || b.kind === 'error' || c?.kind === 'error') return ERROR_T;
    if (a.kind !== 'tile' || a.shape.length !== 2) return this.mismatch(ae!.span, 'a rank-2 tile [M, K]', a);
    if (b.kind !== 'tile' || b.shape.length !== 2) return this.mismatch(be!.span, 'a rank-2 tile [K, N]', b);
    const dts: DType[] = ['f16', 'bf16', 'f32'];
    if (!dts.includes(a.dtype)) return this.mismatch(ae!.span, 'an f16, bf16 or f32 operand', a, 'cast it first');
    if (a.dtype !== b.dtype) {
      this.diags.push(error('TK2001', e.span, `dot operands must have one dtype, found ${a.dtype} and ${b.dtype}`, `cast one side: \`as ${a.dtype}\``));
      return ERROR_T;
    }
    const [m, k] = a.shape as [number, number];
    const [k2, n] = b.shape as [number, number];
    if (k !== k2) {
      this.diags.push(
        error('TK2003', e.span, `dot needs [M, K] · [K, N], found ${formatShape(a.shape)} · ${formatShape(b.shape)}`, `the inner sizes ${k} and ${k2} differ; transpose(b) may be what you meant`),
      );
      return ERROR_T;
    }
    if (c) {
      if (c.kind !== 'tile' || c.dtype !== 'f32') return this.mismatch(ce!.span, 'an f32 accumulator', c, 'accumulate in f32: `zeros([BM, BN], f32)`');
      if (c.shape.length !== 2 || c.shape[0] !== m || c.shape[1] !== n) {
        this.diags.push(error('TK2003', ce!.span, `the accumulator must be [${m}, ${n}], found ${formatShape(c.shape)}`));
        return ERROR_T;
      }
    }
    return tileT('f32', [m, n]);
  }
}

function constType(v: CVal): ExprType {
  switch (v.kind) {
    case 'int':
      return scalarT('i32', true, v.value);
    case 'float':
      return scalarT('f32', true, v.value);
    case 'bool':
      return scalarT('bool', true, v.value ? 1 : 0);
    case 'type':
      return { kind: 'dtype', dtype: v.value };
  }
}

/** Folds compile-time arithmetic with the op's run-time meaning; undefined for integer division by zero. */
function foldArith(op: '+' | '-' | '*' | '/' | '%', a: number, b: number, d: DType): number | undefined {
  if (isInt(d) && (op === '/' || op === '%') && b === 0) return undefined;
  return applyBinary(ARITH_OPS[op], a, b, d);
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

export function checkKernel(kernel: KernelDecl, bindings: Bindings): CheckedKernel {
  return new Checker(kernel, bindings).check();
}
