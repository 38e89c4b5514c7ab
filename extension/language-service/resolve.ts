/**
 * Name resolution for the editor: every declaration of a kernel (the kernel, parameters, shape
 * symbols, constants, tunables, locals) and every use of a name, resolved by scope on the
 * syntax tree alone. It does not need a configuration (the checker does, and skips the branch
 * of a constant `if` that is not taken), so go-to-definition and references see every branch
 * and work on a partial tree.
 */
import type { Block, ConstDecl, Expr, ForStmt, Ident, KernelDecl, LetStmt, NameExpr, Param, Program, Stmt, TunableDecl, TypeRef } from '../../dsl/ast.js';
import { MISSING } from '../../dsl/ast.js';
import { BUILTINS } from '../../dsl/builtins.js';
import { type DType, isDType } from '../../dsl/dtype.js';
import type { Span } from '../../dsl/span.js';

export type DefKind = 'kernel' | 'parameter' | 'dimension' | 'constant' | 'tunable' | 'local';

export interface Def {
  readonly kind: DefKind;
  readonly name: string;
  /** The declaring identifier. */
  readonly span: Span;
  readonly kernel: KernelDecl;
  readonly node: KernelDecl | Param | ConstDecl | TunableDecl | LetStmt | ForStmt;
  /** Locals: declared with `var`. */
  readonly mutable?: boolean;
  /** Locals: where the name can be used (the rest of its block, or the loop body). */
  readonly visible?: Span;
}

/** One occurrence of a name in the text. */
export interface Ref {
  readonly span: Span;
  readonly name: string;
  readonly def?: Def;
  /** A builtin function (`load`) or the builtin constant `inf`. */
  readonly builtin?: string;
  readonly dtype?: DType;
  /** The occurrence is the declaration itself. */
  readonly isDecl: boolean;
  /** The expression node, for the checker's type of this use. */
  readonly expr?: NameExpr;
  /** A named argument (`axis = 1`): the name of a builtin's parameter. */
  readonly namedArg?: boolean;
}

export interface NameIndex {
  readonly defs: readonly Def[];
  /** Sorted by start offset. */
  readonly refs: readonly Ref[];
}

/** Names that are not declared but mean something in a `for` header. */
export const LOOP_WORDS: ReadonlySet<string> = new Set(['range', 'pipelined']);

export function resolveProgram(program: Program): NameIndex {
  const defs: Def[] = [];
  const refs: Ref[] = [];
  for (const k of program.kernels) resolveKernel(k, defs, refs);
  refs.sort((a, b) => a.span.start - b.span.start);
  return { defs, refs };
}

const ok = (id: Ident): boolean => id.name !== MISSING && id.name !== '';

function resolveKernel(k: KernelDecl, defs: Def[], refs: Ref[]): void {
  const globals = new Map<string, Def>();
  const declare = (d: Def): void => {
    defs.push(d);
    refs.push({ span: d.span, name: d.name, def: d, isDecl: true });
    if (d.kind !== 'kernel' && !globals.has(d.name)) globals.set(d.name, d);
  };
  if (ok(k.name)) declare({ kind: 'kernel', name: k.name.name, span: k.name.span, kernel: k, node: k });
  // Constants and tunables first: parameters' dtypes and dims may name them.
  for (const c of k.consts) if (ok(c.name)) declare({ kind: 'constant', name: c.name.name, span: c.name.span, kernel: k, node: c });
  for (const t of k.tunables) if (ok(t.name)) declare({ kind: 'tunable', name: t.name.name, span: t.name.span, kernel: k, node: t });
  for (const p of k.params) if (ok(p.name)) declare({ kind: 'parameter', name: p.name.name, span: p.name.span, kernel: k, node: p });

  const typeRef = (t: TypeRef): void => {
    const n = t.name.name;
    if (!ok(t.name)) return;
    const g = globals.get(n);
    if (g) refs.push({ span: t.name.span, name: n, def: g, isDecl: false });
    else refs.push({ span: t.name.span, name: n, isDecl: false, ...(isDType(n) ? { dtype: n } : {}) });
  };
  for (const p of k.params) {
    typeRef(p.dtype);
    if (p.kind !== 'TensorParam') continue;
    for (const d of p.dims) {
      if (d.kind !== 'DimName' || !ok(d.name)) continue;
      const g = globals.get(d.name.name);
      if (g) refs.push({ span: d.name.span, name: d.name.name, def: g, isDecl: false });
      // The first tensor that names a shape symbol declares it (the checker reads it from there).
      else declare({ kind: 'dimension', name: d.name.name, span: d.name.span, kernel: k, node: p });
    }
  }

  const scopes: Map<string, Def>[] = [];
  const lookup = (name: string): Def | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const d = scopes[i]!.get(name);
      if (d) return d;
    }
    return globals.get(name);
  };
  const use = (id: { name: string; span: Span }, expr?: NameExpr): void => {
    if (id.name === MISSING) return;
    const def = lookup(id.name);
    const base = { span: id.span, name: id.name, isDecl: false, ...(expr ? { expr } : {}) };
    if (def) refs.push({ ...base, def });
    else if (id.name === 'inf') refs.push({ ...base, builtin: 'inf' });
    else if (isDType(id.name)) refs.push({ ...base, dtype: id.name });
    else refs.push(base);
  };

  const expr = (e: Expr | undefined): void => {
    if (!e) return;
    switch (e.kind) {
      case 'Name':
        return use(e, e);
      case 'Binary':
        expr(e.left);
        return expr(e.right);
      case 'Unary':
        return expr(e.operand);
      case 'Cast':
        expr(e.expr);
        return typeRef(e.type);
      case 'List':
        return e.elements.forEach(expr);
      case 'Index':
        expr(e.base);
        for (const it of e.items) {
          if (it.kind === 'Scalar') expr(it.expr);
          else if (it.kind === 'Slice') {
            expr(it.start);
            expr(it.size);
          }
        }
        return;
      case 'Call': {
        const c = e.callee;
        if (ok(c)) {
          const def = lookup(c.name);
          if (def) refs.push({ span: c.span, name: c.name, def, isDecl: false });
          else refs.push({ span: c.span, name: c.name, isDecl: false, ...(c.name in BUILTINS || LOOP_WORDS.has(c.name) ? { builtin: c.name } : {}) });
        }
        e.args.forEach(expr);
        for (const n of e.named) {
          if (ok(n.name)) refs.push({ span: n.name.span, name: n.name.name, isDecl: false, namedArg: true });
          expr(n.value);
        }
        return;
      }
      case 'Int':
      case 'Float':
      case 'Bool':
      case 'Error':
        return;
    }
  };

  const local = (id: Ident, node: LetStmt | ForStmt, mutable: boolean, visible: Span): void => {
    if (!ok(id)) return;
    const d: Def = { kind: 'local', name: id.name, span: id.span, kernel: k, node, mutable, visible };
    defs.push(d);
    refs.push({ span: d.span, name: d.name, def: d, isDecl: true });
    scopes[scopes.length - 1]?.set(id.name, d);
  };

  const block = (b: Block): void => {
    scopes.push(new Map());
    for (const s of b.stmts) stmt(s, b);
    scopes.pop();
  };
  const stmt = (s: Stmt, b: Block): void => {
    switch (s.kind) {
      case 'Let':
        expr(s.init);
        return local(s.name, s, s.mutable, { start: s.span.end, end: b.span.end });
      case 'Assign':
        use(s.target);
        return expr(s.value);
      case 'ExprStmt':
        return expr(s.expr);
      case 'For': {
        expr(s.iterable);
        expr(s.pipelined);
        scopes.push(new Map());
        local(s.variable, s, false, s.body.span);
        block(s.body);
        scopes.pop();
        return;
      }
      case 'If': {
        expr(s.cond);
        block(s.then);
        let e = s.else;
        while (e) {
          if (e.kind === 'Block') {
            block(e);
            break;
          }
          expr(e.cond);
          block(e.then);
          e = e.else;
        }
        return;
      }
    }
  };

  for (const c of k.consts) {
    c.candidates?.forEach(expr);
    expr(c.default);
  }
  for (const t of k.tunables) {
    t.candidates.forEach(expr);
    expr(t.default);
  }
  k.requires.forEach(expr);
  k.grid.forEach(expr);
  block(k.body);
}

/** The name occurrence at an offset (its end included, for a cursor just after a name). */
export function refAt(index: NameIndex, offset: number): Ref | undefined {
  let found: Ref | undefined;
  for (const r of index.refs) {
    if (r.span.start > offset) break;
    if (offset <= r.span.end) found = r;
  }
  return found;
}

/** The declarations visible at an offset: the kernel's globals and the locals in scope. */
export function defsInScope(index: NameIndex, program: Program, offset: number): Def[] {
  // The last kernel that starts before the offset: while the user types, a broken kernel's span may end early.
  const k = [...program.kernels].reverse().find((x) => x.span.start <= offset);
  if (!k) return [];
  // Past the end of what was parsed (a syntax error cut the kernel short): the body's top-level locals are still in scope.
  const tail = offset > k.span.end;
  const visible = (v: Span): boolean => v.start <= offset && (offset <= v.end || (tail && v.end === k.body.span.end));
  return index.defs.filter((d) => d.kernel === k && d.kind !== 'kernel' && (!d.visible || visible(d.visible)));
}
