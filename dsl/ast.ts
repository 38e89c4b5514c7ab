/**
 * The tile language's syntax tree. Every node carries its source span. The parser recovers
 * from syntax errors, so any field may hold an `ErrorExpr` or an identifier named `<missing>`
 * where the text was broken; later stages skip those silently (the syntax error is reported).
 */
import type { Span } from './span.js';

export interface Ident {
  readonly name: string;
  readonly span: Span;
}

export const MISSING = '<missing>';

export interface Program {
  readonly kind: 'Program';
  readonly kernels: readonly KernelDecl[];
  readonly span: Span;
}

export interface KernelDecl {
  readonly kind: 'Kernel';
  readonly name: Ident;
  readonly params: readonly Param[];
  /** `const { ... }` block: compile-time parameters set per build, not tuned. */
  readonly consts: readonly ConstDecl[];
  /** `tune { ... }` block. */
  readonly tunables: readonly TunableDecl[];
  /** `require <expr>;` entries of the tune block. */
  readonly requires: readonly Expr[];
  /** `grid [e0, e1, e2]`: the number of program instances along each axis. */
  readonly grid: readonly Expr[];
  readonly gridSpan: Span;
  readonly body: Block;
  readonly span: Span;
}

/** A name that denotes a dtype: a builtin (`f16`) or a `type` constant (`dtype`). */
export interface TypeRef {
  readonly name: Ident;
}

/** `a: f16[M, K]` */
export interface TensorParam {
  readonly kind: 'TensorParam';
  readonly name: Ident;
  readonly dtype: TypeRef;
  readonly dims: readonly DimRef[];
  readonly span: Span;
}

/** A tensor dimension: a symbol bound at launch (`M`), a constant's name (`D`), or a literal (`64`). */
export type DimRef =
  | { readonly kind: 'DimName'; readonly name: Ident; readonly span: Span }
  | { readonly kind: 'DimLit'; readonly value: number; readonly span: Span };

/** `scale: f32` — a runtime scalar argument. */
export interface ScalarParam {
  readonly kind: 'ScalarParam';
  readonly name: Ident;
  readonly dtype: TypeRef;
  readonly span: Span;
}

export type Param = TensorParam | ScalarParam;

export type ConstKind = 'int' | 'bool' | 'float' | 'type';

/** `causal: bool = false;` or `D: int in [64, 128];` or `dtype: type in [f16, bf16] = f16;` */
export interface ConstDecl {
  readonly kind: 'Const';
  readonly name: Ident;
  readonly type: { readonly kind: ConstKind | string; readonly span: Span };
  /** Allowed values (`in [...]`), absent when any value of the type is allowed. */
  readonly candidates?: readonly Expr[];
  /** `= value`; when absent the first candidate is the default. */
  readonly default?: Expr;
  readonly span: Span;
}

/** `BM in [64, 128, 256] = 128;` — the default is the first candidate unless marked. */
export interface TunableDecl {
  readonly kind: 'Tunable';
  readonly name: Ident;
  readonly candidates: readonly Expr[];
  readonly default?: Expr;
  readonly span: Span;
}

export interface Block {
  readonly kind: 'Block';
  readonly stmts: readonly Stmt[];
  readonly span: Span;
}

export type Stmt = LetStmt | AssignStmt | ExprStmt | ForStmt | IfStmt;

/** `let x = e;` (immutable) or `var x = e;` (assignable). */
export interface LetStmt {
  readonly kind: 'Let';
  readonly mutable: boolean;
  readonly name: Ident;
  readonly init: Expr;
  readonly span: Span;
}

export type AssignOp = '=' | '+=' | '-=' | '*=' | '/=';

export interface AssignStmt {
  readonly kind: 'Assign';
  readonly target: Ident;
  readonly op: AssignOp;
  readonly value: Expr;
  readonly span: Span;
}

export interface ExprStmt {
  readonly kind: 'ExprStmt';
  readonly expr: Expr;
  readonly span: Span;
}

/** `for k0 in range(0, K, BK) pipelined(STAGES) { ... }` */
export interface ForStmt {
  readonly kind: 'For';
  readonly variable: Ident;
  /** The iterated expression; the checker requires a `range(...)` call. */
  readonly iterable: Expr;
  /** The argument of `pipelined(N)`, when present. */
  readonly pipelined?: Expr;
  readonly body: Block;
  readonly span: Span;
}

export interface IfStmt {
  readonly kind: 'If';
  readonly cond: Expr;
  readonly then: Block;
  /** `else { ... }` or `else if ...`. */
  readonly else?: Block | IfStmt;
  readonly span: Span;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';
export type UnaryOp = '-' | '!';

export type Expr =
  | IntLit
  | FloatLit
  | BoolLit
  | NameExpr
  | BinaryExpr
  | UnaryExpr
  | CallExpr
  | IndexExpr
  | CastExpr
  | ListExpr
  | ErrorExpr;

export interface IntLit {
  readonly kind: 'Int';
  readonly value: number;
  readonly span: Span;
}
export interface FloatLit {
  readonly kind: 'Float';
  readonly value: number;
  readonly span: Span;
}
export interface BoolLit {
  readonly kind: 'Bool';
  readonly value: boolean;
  readonly span: Span;
}
/** A reference to a name: parameter, dim symbol, constant, tunable, local, builtin constant (`inf`) or dtype. */
export interface NameExpr {
  readonly kind: 'Name';
  readonly name: string;
  readonly span: Span;
}
export interface BinaryExpr {
  readonly kind: 'Binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}
export interface UnaryExpr {
  readonly kind: 'Unary';
  readonly op: UnaryOp;
  readonly operand: Expr;
  readonly span: Span;
}
export interface NamedArg {
  readonly name: Ident;
  readonly value: Expr;
  readonly span: Span;
}
/** `f(a, b, axis = 1)` — positional arguments first, then named ones. */
export interface CallExpr {
  readonly kind: 'Call';
  readonly callee: Ident;
  readonly args: readonly Expr[];
  readonly named: readonly NamedArg[];
  readonly span: Span;
}

/**
 * Index items: `i` (a scalar index, drops the axis), `s : n` (a slice of n elements from s; n is a
 * compile-time constant), `:` (the whole axis), `None` (a new axis of size 1).
 */
export type IndexItem =
  | { readonly kind: 'Scalar'; readonly expr: Expr; readonly span: Span }
  | { readonly kind: 'Slice'; readonly start: Expr; readonly size: Expr; readonly span: Span }
  | { readonly kind: 'Full'; readonly span: Span }
  | { readonly kind: 'NewAxis'; readonly span: Span };

/** `a[m0 : BM, k0 : BK]` on a tensor parameter (inside load/store), or `x[:, None]` on a tile. */
export interface IndexExpr {
  readonly kind: 'Index';
  readonly base: Expr;
  readonly items: readonly IndexItem[];
  readonly span: Span;
}
/** `x as f16` */
export interface CastExpr {
  readonly kind: 'Cast';
  readonly expr: Expr;
  readonly type: TypeRef;
  readonly span: Span;
}
/** `[BM, BN]` — used for shapes and candidate lists. */
export interface ListExpr {
  readonly kind: 'List';
  readonly elements: readonly Expr[];
  readonly span: Span;
}
/** Stands in for an expression the parser could not read. */
export interface ErrorExpr {
  readonly kind: 'Error';
  readonly span: Span;
}
