/**
 * The tile language's parser: a chevrotain CstParser with error recovery, and a conversion of
 * its concrete syntax tree to the AST of ./ast.ts.
 *
 * A CST rather than embedded actions because when chevrotain re-syncs after an error it keeps
 * the partial CST node of every rule on the way (a kernel cut short still holds its statements);
 * the conversion below fills whatever is missing with `ErrorExpr` / `MISSING` identifiers.
 *
 * Syntax diagnostics:
 *   TK0002  a specific token was expected and another found ("expected ';', found 'let'")
 *   TK0003  a construct was expected and none can start here ("expected an expression, found ')'")
 *   TK0005  text after (or before, or between) kernels that cannot start a kernel
 * Lexical ones (TK0001, TK0004) come from ./lexer.ts.
 */
import {
  CstParser,
  EOF,
  type CstElement,
  type CstNode,
  type IParserErrorMessageProvider,
  type IRecognitionException,
  type IToken,
  type TokenType,
  tokenMatcher,
} from 'chevrotain';
import {
  MISSING,
  type AssignOp as AssignOpText,
  type BinaryOp as BinaryOpText,
  type Block,
  type ConstDecl,
  type DimRef,
  type Expr,
  type Ident,
  type IfStmt,
  type IndexItem,
  type KernelDecl,
  type NamedArg,
  type Param,
  type Program,
  type Stmt,
  type TunableDecl,
  type UnaryOp as UnaryOpText,
} from './ast.js';
import { error, type Diagnostic } from './diagnostic.js';
import {
  allTokens,
  As,
  AssignOp,
  BINARY_PRECEDENCE,
  BinaryOp,
  Colon,
  Comma,
  Const,
  describeToken,
  describeTokenType,
  Else,
  Eq,
  False,
  FloatLit,
  floatValue,
  For,
  Grid,
  Identifier,
  If,
  In,
  IntLit,
  intValue,
  Kernel,
  LBracket,
  LCurly,
  Let,
  LParen,
  None,
  RBracket,
  RCurly,
  Require,
  RParen,
  Semicolon,
  tokenize,
  True,
  Tune,
  UnaryOp,
  Var,
} from './lexer.js';
import type { SourceText } from './source.js';
import type { Span } from './span.js';

// ---------------------------------------------------------------------------------------------
// Error messages. chevrotain asks for a string; we pass code, message and hint through it as
// JSON and decode them in `toDiagnostic`.

interface SyntaxInfo {
  code: string;
  message: string;
  hint?: string;
}

/** What "no viable alternative" in a rule was looking for. */
const EXPECTED_IN_RULE: Readonly<Record<string, string>> = {
  expression: 'an expression',
  operand: 'an expression',
  arg: 'an expression',
  parenExpr: 'an expression',
  statement: 'a statement',
  indexItem: "an index (an expression, ':' or 'None')",
  ifStmt: "'{' or 'if' after 'else'",
  dim: 'a dimension (a name or an integer)',
  tuneItem: "a tunable or 'require'",
};

function encode(info: SyntaxInfo): string {
  return JSON.stringify(info);
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    const found = describeToken(actual);
    if (ruleName === 'program') return encode({ code: 'TK0005', message: `expected 'kernel', found ${found}` });
    if (expected === RCurly) {
      if (ruleName === 'block') return encode({ code: 'TK0003', message: `expected a statement or '}', found ${found}` });
      const afterCurly = previous?.tokenType === LCurly;
      if (ruleName === 'constBlock') {
        return afterCurly
          ? encode({ code: 'TK0003', message: `expected a constant (name: kind) or '}', found ${found}` })
          : encode({ code: 'TK0002', message: `expected ';' or '}', found ${found}`, hint: "const entries are separated by ';'" });
      }
      if (ruleName === 'tuneBlock') {
        return afterCurly
          ? encode({ code: 'TK0003', message: `expected a tunable or 'require', found ${found}` })
          : encode({ code: 'TK0002', message: `expected ';' or '}', found ${found}`, hint: "tune entries are separated by ';'" });
      }
    }
    if (expected === Semicolon && /Stmt$/.test(ruleName)) {
      return encode({ code: 'TK0002', message: `expected ';', found ${found}`, hint: "statements end with ';'" });
    }
    if (expected === Grid) {
      return encode({
        code: 'TK0002',
        message: `expected 'grid', found ${found}`,
        hint: 'a kernel declares its launch grid before its body: grid [n0, n1]',
      });
    }
    if (expected === Identifier && ruleName === 'kernel') {
      return encode({ code: 'TK0002', message: `expected a kernel name, found ${found}` });
    }
    if (expected === Identifier && previous?.tokenType === As) {
      return encode({ code: 'TK0002', message: `expected a type after 'as', found ${found}` });
    }
    if (expected === Identifier && previous?.tokenType === Colon && (ruleName === 'param' || ruleName === 'constDecl')) {
      const what = ruleName === 'param' ? 'a dtype' : 'a kind (int, bool, float or type)';
      return encode({ code: 'TK0002', message: `expected ${what}, found ${found}` });
    }
    // After an opening bracket nothing was read yet, so the list's first item is also possible.
    const afterOpen = previous?.tokenType === LParen || previous?.tokenType === LBracket;
    if (expected === RParen && (ruleName === 'nameOrCall' || ruleName === 'paramList')) {
      const item = ruleName === 'nameOrCall' ? 'an argument' : 'a parameter';
      return encode({ code: afterOpen ? 'TK0003' : 'TK0002', message: `expected ${afterOpen ? item : "','"} or ')', found ${found}` });
    }
    if (expected === RBracket && ruleName === 'list') {
      return encode({ code: afterOpen ? 'TK0003' : 'TK0002', message: `expected ${afterOpen ? 'an expression' : "','"} or ']', found ${found}` });
    }
    if (expected === RBracket && (ruleName === 'indexSuffix' || ruleName === 'param')) {
      return encode({ code: 'TK0002', message: `expected ',' or ']', found ${found}` });
    }
    return encode({ code: 'TK0002', message: `expected ${describeTokenType(expected)}, found ${found}` });
  },

  buildNotAllInputParsedMessage({ firstRedundant }) {
    return encode({ code: 'TK0005', message: `expected 'kernel', found ${describeToken(firstRedundant)}` });
  },

  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    const first = actual[0];
    const found = first ? describeToken(first) : 'end of file';
    const what = EXPECTED_IN_RULE[ruleName] ?? oneOf(expectedPathsPerAlt.flatMap((alt) => alt.map((path) => path[0])));
    return encode({ code: 'TK0003', message: `expected ${what}, found ${found}` });
  },

  buildEarlyExitMessage({ expectedIterationPaths, actual }) {
    const first = actual[0];
    const found = first ? describeToken(first) : 'end of file';
    return encode({ code: 'TK0003', message: `expected ${oneOf(expectedIterationPaths.map((p) => p[0]))}, found ${found}` });
  },
};

function oneOf(types: readonly (TokenType | undefined)[]): string {
  const names = [...new Set(types.filter((t): t is TokenType => t !== undefined).map(describeTokenType))];
  if (names.length === 0) return 'something else';
  if (names.length === 1) return names[0] ?? '';
  return `one of ${names.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Grammar (docs/language.md, "Grammar"). Labels name the children the conversion reads.

class TileParser extends CstParser {
  constructor() {
    // Offsets tracking only serves `hasTokens`: a node whose start stays NaN holds no real token.
    super([...allTokens], {
      recoveryEnabled: true,
      maxLookahead: 3,
      errorMessageProvider: messages,
      nodeLocationTracking: 'onlyOffset',
    });
    this.performSelfAnalysis();
  }

  // chevrotain tries inserting the expected token before deleting the one found. When the
  // expected punctuation comes right after (`let a = 1 2;`), the found token is the intruder:
  // delete it. A missing name is still inserted (`kernel (x: f32)` lacks a name; `(` is fine).
  protected override canTokenTypeBeInsertedInRecovery(tokType: TokenType): boolean {
    return tokType === Identifier || !tokenMatcher(this.LA(2), tokType);
  }

  // An explicit EOF puts EOF in the follow set of `kernel`, so a kernel cut short re-syncs
  // there and keeps its partial tree instead of losing it to the top rule.
  readonly program = this.RULE('program', () => {
    this.MANY(() => this.SUBRULE(this.kernel));
    this.CONSUME(EOF);
  });

  readonly kernel = this.RULE('kernel', () => {
    this.CONSUME(Kernel);
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.SUBRULE(this.paramList);
    this.OPTION2(() => this.SUBRULE(this.constBlock));
    this.OPTION3(() => this.SUBRULE(this.tuneBlock));
    this.SUBRULE(this.gridClause);
    this.SUBRULE(this.block);
  });

  // A rule of its own so that an error among the parameters re-syncs at `const`/`tune`/`grid`
  // instead of skipping the whole kernel.
  readonly paramList = this.RULE('paramList', () => {
    this.CONSUME(LParen);
    this.OPTION(() => this.SUBRULE(this.params));
    this.CONSUME(RParen);
  });

  readonly params = this.RULE('params', () => {
    this.SUBRULE(this.param);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.param);
    });
    this.OPTION(() => this.CONSUME2(Comma));
  });

  readonly param = this.RULE('param', () => {
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.CONSUME(Colon);
    this.CONSUME2(Identifier, { LABEL: 'dtype' });
    this.OPTION(() => {
      this.CONSUME(LBracket);
      this.SUBRULE(this.dim);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.dim);
      });
      this.CONSUME(RBracket);
    });
  });

  readonly dim = this.RULE('dim', () => {
    this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(IntLit) }]);
  });

  readonly constBlock = this.RULE('constBlock', () => {
    this.CONSUME(Const);
    this.CONSUME(LCurly);
    this.OPTION(() => {
      this.SUBRULE(this.constDecl);
      this.MANY(() => {
        this.CONSUME(Semicolon);
        this.SUBRULE2(this.constDecl);
      });
      this.OPTION2(() => this.CONSUME2(Semicolon));
    });
    this.CONSUME(RCurly);
  });

  readonly constDecl = this.RULE('constDecl', () => {
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.CONSUME(Colon);
    this.CONSUME2(Identifier, { LABEL: 'type' });
    this.OPTION(() => {
      this.CONSUME(In);
      this.SUBRULE(this.list, { LABEL: 'candidates' });
    });
    this.OPTION2(() => {
      this.CONSUME(Eq);
      this.SUBRULE(this.expression, { LABEL: 'default' });
    });
  });

  readonly tuneBlock = this.RULE('tuneBlock', () => {
    this.CONSUME(Tune);
    this.CONSUME(LCurly);
    this.OPTION(() => {
      this.SUBRULE(this.tuneItem);
      this.MANY(() => {
        this.CONSUME(Semicolon);
        this.SUBRULE2(this.tuneItem);
      });
      this.OPTION2(() => this.CONSUME2(Semicolon));
    });
    this.CONSUME(RCurly);
  });

  readonly tuneItem = this.RULE('tuneItem', () => {
    this.OR([{ ALT: () => this.SUBRULE(this.tunable) }, { ALT: () => this.SUBRULE(this.requireClause) }]);
  });

  readonly tunable = this.RULE('tunable', () => {
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.CONSUME(In);
    this.SUBRULE(this.list, { LABEL: 'candidates' });
    this.OPTION(() => {
      this.CONSUME(Eq);
      this.SUBRULE(this.expression, { LABEL: 'default' });
    });
  });

  readonly requireClause = this.RULE('requireClause', () => {
    this.CONSUME(Require);
    this.SUBRULE(this.expression);
  });

  readonly gridClause = this.RULE('gridClause', () => {
    this.CONSUME(Grid);
    this.SUBRULE(this.list);
  });

  readonly block = this.RULE('block', () => {
    this.CONSUME(LCurly);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(RCurly);
  });

  // `x = e;` and `f(x);` both start with an identifier; LL(2) tells them apart.
  readonly statement = this.RULE('statement', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.letStmt) },
      { ALT: () => this.SUBRULE(this.assignStmt) },
      { ALT: () => this.SUBRULE(this.forStmt) },
      { ALT: () => this.SUBRULE(this.ifStmt) },
      { ALT: () => this.SUBRULE(this.exprStmt) },
    ]);
  });

  readonly letStmt = this.RULE('letStmt', () => {
    this.OR([{ ALT: () => this.CONSUME(Let, { LABEL: 'keyword' }) }, { ALT: () => this.CONSUME(Var, { LABEL: 'keyword' }) }]);
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.CONSUME(Eq);
    this.SUBRULE(this.expression);
    this.CONSUME(Semicolon);
  });

  readonly assignStmt = this.RULE('assignStmt', () => {
    this.CONSUME(Identifier, { LABEL: 'target' });
    this.CONSUME(AssignOp, { LABEL: 'op' });
    this.SUBRULE(this.expression);
    this.CONSUME(Semicolon);
  });

  readonly exprStmt = this.RULE('exprStmt', () => {
    this.SUBRULE(this.expression);
    this.CONSUME(Semicolon);
  });

  // `pipelined` is an ordinary name, recognised here only. Any `name(` is taken as the clause
  // (neither can continue an expression) and the name checked later, so that a misspelling
  // gets one clear error instead of a cascade.
  readonly forStmt = this.RULE('forStmt', () => {
    this.CONSUME(For);
    this.CONSUME(Identifier, { LABEL: 'variable' });
    this.CONSUME(In);
    this.SUBRULE(this.expression, { LABEL: 'iterable' });
    this.OPTION(() => {
      this.CONSUME2(Identifier, { LABEL: 'pipelined' });
      this.CONSUME(LParen);
      this.SUBRULE2(this.expression, { LABEL: 'stages' });
      this.CONSUME(RParen);
    });
    this.SUBRULE(this.block);
  });

  readonly ifStmt = this.RULE('ifStmt', () => {
    this.CONSUME(If);
    this.SUBRULE(this.expression, { LABEL: 'cond' });
    this.SUBRULE(this.block, { LABEL: 'then' });
    this.OPTION(() => {
      this.CONSUME(Else);
      this.OR([
        { ALT: () => this.SUBRULE2(this.block, { LABEL: 'elseBlock' }) },
        { ALT: () => this.SUBRULE(this.ifStmt, { LABEL: 'elseIf' }) },
      ]);
    });
  });

  readonly list = this.RULE('list', () => {
    this.CONSUME(LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.expression);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.expression);
      });
      this.OPTION2(() => this.CONSUME2(Comma));
    });
    this.CONSUME(RBracket);
  });

  // All binary operators at one level: precedence is applied when building the AST, which
  // keeps the CST (and the stack per nesting level) small.
  readonly expression = this.RULE('expression', () => {
    this.SUBRULE(this.operand, { LABEL: 'operands' });
    this.MANY(() => {
      this.CONSUME(BinaryOp, { LABEL: 'ops' });
      this.SUBRULE2(this.operand, { LABEL: 'operands' });
    });
  });

  // Prefix operators, a primary, index suffixes, casts: `-x[i] as f16` is `((-(x[i])) as f16)`,
  // since postfix binds tighter than unary, and unary tighter than `as` (which is tighter than `*`).
  readonly operand = this.RULE('operand', () => {
    this.MANY(() => this.CONSUME(UnaryOp, { LABEL: 'prefix' }));
    this.OR([
      { ALT: () => this.CONSUME(IntLit) },
      { ALT: () => this.CONSUME(FloatLit) },
      { ALT: () => this.CONSUME(True) },
      { ALT: () => this.CONSUME(False) },
      { ALT: () => this.SUBRULE(this.nameOrCall) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
    this.MANY2(() => this.SUBRULE(this.indexSuffix));
    this.MANY3(() => {
      this.CONSUME(As);
      this.CONSUME(Identifier, { LABEL: 'types' });
    });
  });

  readonly indexSuffix = this.RULE('indexSuffix', () => {
    this.CONSUME(LBracket);
    this.SUBRULE(this.indexItem);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.indexItem);
    });
    this.CONSUME(RBracket);
  });

  readonly indexItem = this.RULE('indexItem', () => {
    this.OR([
      { ALT: () => this.CONSUME(None) },
      { ALT: () => this.CONSUME(Colon, { LABEL: 'full' }) },
      {
        ALT: () => {
          this.SUBRULE(this.expression, { LABEL: 'start' });
          this.OPTION(() => {
            this.CONSUME2(Colon, { LABEL: 'sep' });
            this.SUBRULE2(this.expression, { LABEL: 'size' });
          });
        },
      },
    ]);
  });

  // Only a name can be called (CallExpr.callee is an identifier).
  readonly nameOrCall = this.RULE('nameOrCall', () => {
    this.CONSUME(Identifier, { LABEL: 'name' });
    this.OPTION(() => {
      this.CONSUME(LParen);
      this.OPTION2(() => {
        this.SUBRULE(this.arg);
        this.MANY(() => {
          this.CONSUME(Comma);
          this.SUBRULE2(this.arg);
        });
        this.OPTION3(() => this.CONSUME2(Comma));
      });
      this.CONSUME(RParen);
    });
  });

  readonly arg = this.RULE('arg', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Identifier, { LABEL: 'argName' });
          this.CONSUME(Eq);
          this.SUBRULE(this.expression, { LABEL: 'value' });
        },
      },
      { ALT: () => this.SUBRULE2(this.expression, { LABEL: 'value' }) },
    ]);
  });

  readonly parenExpr = this.RULE('parenExpr', () => {
    this.CONSUME(LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(RParen);
  });
}

// Built once: performSelfAnalysis is slow, and the instance is reusable (setting `input` resets it).
const parser = new TileParser();

// ---------------------------------------------------------------------------------------------
// CST access. Tokens inserted by recovery (`isInsertedInRecovery`) have no text: read as absent.

function isToken(e: CstElement): e is IToken {
  return (e as IToken).image !== undefined;
}

function tok(n: CstNode | undefined, key: string, i = 0): IToken | undefined {
  const e = n?.children[key]?.[i];
  return e && isToken(e) && !e.isInsertedInRecovery ? e : undefined;
}

function toks(n: CstNode | undefined, key: string): (IToken | undefined)[] {
  return (n?.children[key] ?? []).map((e) => (isToken(e) && !e.isInsertedInRecovery ? e : undefined));
}

function node(n: CstNode | undefined, key: string, i = 0): CstNode | undefined {
  const e = n?.children[key]?.[i];
  return e && !isToken(e) ? e : undefined;
}

function nodes(n: CstNode | undefined, key: string): CstNode[] {
  return (n?.children[key] ?? []).filter((e): e is CstNode => !isToken(e));
}

/** Whether the node holds at least one real token (a rule that failed at once holds none). */
function hasTokens(n: CstNode | undefined): boolean {
  // chevrotain computes node locations from real tokens only (inserted ones have NaN offsets).
  return n !== undefined && Number.isFinite(n.location?.startOffset);
}

function tspan(t: IToken): Span {
  return { start: t.startOffset, end: (t.endOffset ?? t.startOffset + t.image.length - 1) + 1 };
}

/** The span from the first to the last of the parts that exist; `at` (zero width) when none does. */
function cover(at: number, ...parts: (Span | IToken | undefined)[]): Span {
  let start = Infinity;
  let end = -Infinity;
  for (const p of parts) {
    if (!p) continue;
    const s = 'image' in p ? tspan(p) : p;
    if (!Number.isFinite(s.start) || !Number.isFinite(s.end)) continue;
    start = Math.min(start, s.start);
    end = Math.max(end, s.end);
  }
  return Number.isFinite(start) ? { start, end } : { start: at, end: at };
}

function endOf(...parts: (Span | IToken | undefined)[]): number | undefined {
  let end: number | undefined;
  for (const p of parts) {
    if (!p) continue;
    const e = 'image' in p ? tspan(p).end : p.end;
    if (Number.isFinite(e) && (end === undefined || e > end)) end = e;
  }
  return end;
}

// ---------------------------------------------------------------------------------------------
// CST → AST. `at` is where a missing piece would have been (end of what precedes it): holes
// get zero-width spans there.

class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];

  program(n: CstNode): Program {
    const kernels = nodes(n, 'kernel')
      .filter(hasTokens)
      .map((k) => this.kernel(k));
    const first = kernels[0];
    const last = kernels[kernels.length - 1];
    const span = first && last ? { start: first.span.start, end: last.span.end } : { start: 0, end: 0 };
    return { kind: 'Program', kernels, span };
  }

  private kernel(n: CstNode): KernelDecl {
    const kw = tok(n, 'Kernel');
    const start = kw ? tspan(kw).start : 0;
    const name = this.ident(tok(n, 'name'), endOf(kw) ?? start);
    const paramList = node(n, 'paramList');
    const lparen = tok(paramList, 'LParen');
    const rparen = tok(paramList, 'RParen');
    const params = nodes(node(paramList, 'params'), 'param')
      .filter(hasTokens)
      .map((p) => this.param(p));
    const constBlock = node(n, 'constBlock');
    const consts = nodes(constBlock, 'constDecl')
      .filter(hasTokens)
      .map((c) => this.constDecl(c));
    const tuneBlock = node(n, 'tuneBlock');
    const tunables: TunableDecl[] = [];
    const requires: Expr[] = [];
    for (const item of nodes(tuneBlock, 'tuneItem')) {
      const t = node(item, 'tunable');
      const r = node(item, 'requireClause');
      if (t && hasTokens(t)) tunables.push(this.tunable(t));
      else if (r && hasTokens(r)) {
        const kwReq = tok(r, 'Require');
        requires.push(this.expr(node(r, 'expression'), endOf(kwReq) ?? 0));
      }
    }
    const headerEnd =
      endOf(name.span, lparen, rparen, ...params.map((p) => p.span), tok(constBlock, 'RCurly'), tok(tuneBlock, 'RCurly')) ?? start;
    const gridNode = node(n, 'gridClause');
    const gridKw = tok(gridNode, 'Grid');
    const gridList = node(gridNode, 'list');
    const gridL = this.list(gridList, endOf(gridKw) ?? headerEnd);
    const grid = gridL.elements;
    const gridSpan = cover(headerEnd, gridKw, gridL.span);
    const blockNode = node(n, 'block');
    const bodyAt = endOf(gridSpan) ?? headerEnd;
    const body = blockNode && hasTokens(blockNode) ? this.block(blockNode) : emptyBlock(bodyAt);
    return {
      kind: 'Kernel',
      name,
      params,
      consts,
      tunables,
      requires,
      grid,
      gridSpan,
      body,
      span: cover(
        start,
        kw,
        name.span,
        lparen,
        rparen,
        ...params.map((p) => p.span),
        tok(constBlock, 'Const'),
        tok(constBlock, 'RCurly'),
        ...consts.map((c) => c.span),
        tok(tuneBlock, 'Tune'),
        tok(tuneBlock, 'RCurly'),
        ...tunables.map((t) => t.span),
        ...requires.map((r) => r.span),
        gridSpan,
        body.span,
      ),
    };
  }

  private param(n: CstNode): Param {
    const name = this.ident(tok(n, 'name'), 0);
    const colon = tok(n, 'Colon');
    const dtype = { name: this.ident(tok(n, 'dtype'), endOf(colon, name.span) ?? name.span.end) };
    const lbracket = tok(n, 'LBracket');
    if (!lbracket) {
      return { kind: 'ScalarParam', name, dtype, span: cover(name.span.start, name.span, colon, dtype.name.span) };
    }
    const dims: DimRef[] = [];
    for (const d of nodes(n, 'dim')) {
      const id = tok(d, 'Identifier');
      const lit = tok(d, 'IntLit');
      if (id) dims.push({ kind: 'DimName', name: this.ident(id, 0), span: tspan(id) });
      else if (lit) dims.push({ kind: 'DimLit', value: intValue(lit.image), span: tspan(lit) });
    }
    const rbracket = tok(n, 'RBracket');
    return {
      kind: 'TensorParam',
      name,
      dtype,
      dims,
      span: cover(name.span.start, name.span, colon, dtype.name.span, lbracket, ...dims.map((d) => d.span), rbracket),
    };
  }

  private constDecl(n: CstNode): ConstDecl {
    const name = this.ident(tok(n, 'name'), 0);
    const colon = tok(n, 'Colon');
    const typeTok = tok(n, 'type');
    const at = endOf(colon, name.span) ?? name.span.end;
    const type = typeTok ? { kind: typeTok.image, span: tspan(typeTok) } : { kind: MISSING, span: { start: at, end: at } };
    const inKw = tok(n, 'In');
    const candidatesNode = node(n, 'candidates');
    const eq = tok(n, 'Eq');
    const cands = inKw ? this.list(candidatesNode, endOf(inKw) ?? at) : undefined;
    const candidates = cands?.elements;
    const dflt = eq ? this.expr(node(n, 'default'), endOf(eq) ?? at) : undefined;
    const span = cover(name.span.start, name.span, colon, type.span, inKw, cands?.span, eq, dflt?.span);
    const decl: ConstDecl = { kind: 'Const', name, type, span };
    return { ...decl, ...(candidates ? { candidates } : {}), ...(dflt ? { default: dflt } : {}) };
  }

  private tunable(n: CstNode): TunableDecl {
    const name = this.ident(tok(n, 'name'), 0);
    const inKw = tok(n, 'In');
    const candidatesNode = node(n, 'candidates');
    const cands = this.list(candidatesNode, endOf(inKw, name.span) ?? name.span.end);
    const candidates = cands.elements;
    const eq = tok(n, 'Eq');
    const dflt = eq ? this.expr(node(n, 'default'), endOf(eq) ?? name.span.end) : undefined;
    const span = cover(name.span.start, name.span, inKw, cands.span, eq, dflt?.span);
    const decl: TunableDecl = { kind: 'Tunable', name, candidates, span };
    return dflt ? { ...decl, default: dflt } : decl;
  }

  private block(n: CstNode): Block {
    const lcurly = tok(n, 'LCurly');
    const rcurly = tok(n, 'RCurly');
    const stmts: Stmt[] = [];
    for (const s of nodes(n, 'statement')) {
      const stmt = this.statement(s);
      if (stmt) stmts.push(stmt);
    }
    const at = lcurly ? tspan(lcurly).start : (stmts[0]?.span.start ?? 0);
    return { kind: 'Block', stmts, span: cover(at, lcurly, ...stmts.map((s) => s.span), rcurly) };
  }

  private statement(n: CstNode): Stmt | undefined {
    if (!hasTokens(n)) return undefined;
    const letN = node(n, 'letStmt');
    if (letN) {
      const kw = tok(letN, 'keyword');
      const kwStart = kw ? tspan(kw).start : 0;
      const name = this.ident(tok(letN, 'name'), endOf(kw) ?? kwStart);
      const eq = tok(letN, 'Eq');
      const init = this.expr(node(letN, 'expression'), endOf(eq, name.span) ?? name.span.end);
      const semi = tok(letN, 'Semicolon');
      return {
        kind: 'Let',
        mutable: kw?.tokenType === Var,
        name,
        init,
        span: cover(kwStart, kw, name.span, eq, init.span, semi),
      };
    }
    const assignN = node(n, 'assignStmt');
    if (assignN) {
      const target = this.ident(tok(assignN, 'target'), 0);
      const opTok = tok(assignN, 'op');
      const value = this.expr(node(assignN, 'expression'), endOf(opTok, target.span) ?? target.span.end);
      const semi = tok(assignN, 'Semicolon');
      return {
        kind: 'Assign',
        target,
        op: (opTok?.image ?? '=') as AssignOpText,
        value,
        span: cover(target.span.start, target.span, opTok, value.span, semi),
      };
    }
    const forN = node(n, 'forStmt');
    if (forN) {
      const kw = tok(forN, 'For');
      const kwStart = kw ? tspan(kw).start : 0;
      const variable = this.ident(tok(forN, 'variable'), endOf(kw) ?? kwStart);
      const inKw = tok(forN, 'In');
      const iterable = this.expr(node(forN, 'iterable'), endOf(inKw, variable.span) ?? variable.span.end);
      const pipeTok = tok(forN, 'pipelined');
      if (pipeTok && pipeTok.image !== 'pipelined') {
        this.diagnostics.push(error('TK0002', tspan(pipeTok), `expected 'pipelined' or '{', found identifier '${pipeTok.image}'`));
      }
      const rparen = tok(forN, 'RParen');
      const pipelined = pipeTok ? this.expr(node(forN, 'stages'), endOf(tok(forN, 'LParen'), pipeTok) ?? 0) : undefined;
      const blockN = node(forN, 'block');
      const bodyAt = endOf(rparen, pipelined?.span, iterable.span) ?? kwStart;
      const body = blockN && hasTokens(blockN) ? this.block(blockN) : emptyBlock(bodyAt);
      const span = cover(kwStart, kw, variable.span, inKw, iterable.span, pipeTok, pipelined?.span, rparen, body.span);
      return pipelined
        ? { kind: 'For', variable, iterable, pipelined, body, span }
        : { kind: 'For', variable, iterable, body, span };
    }
    const ifN = node(n, 'ifStmt');
    if (ifN) return this.ifStmt(ifN);
    const exprN = node(n, 'exprStmt');
    if (exprN) {
      const e = node(exprN, 'expression');
      const semi = tok(exprN, 'Semicolon');
      const expr = this.expr(e, semi ? tspan(semi).start : 0);
      return { kind: 'ExprStmt', expr, span: cover(expr.span.start, expr.span, semi) };
    }
    return undefined;
  }

  private ifStmt(n: CstNode): IfStmt {
    const kw = tok(n, 'If');
    const kwStart = kw ? tspan(kw).start : 0;
    const cond = this.expr(node(n, 'cond'), endOf(kw) ?? kwStart);
    const thenN = node(n, 'then');
    const then = thenN && hasTokens(thenN) ? this.block(thenN) : emptyBlock(cond.span.end);
    const elseKw = tok(n, 'Else');
    const elseBlockN = node(n, 'elseBlock');
    const elseIfN = node(n, 'elseIf');
    let els: Block | IfStmt | undefined;
    if (elseBlockN && hasTokens(elseBlockN)) els = this.block(elseBlockN);
    else if (elseIfN && hasTokens(elseIfN)) els = this.ifStmt(elseIfN);
    else if (elseKw) els = emptyBlock(tspan(elseKw).end);
    const span = cover(kwStart, kw, cond.span, then.span, elseKw, els?.span);
    return els ? { kind: 'If', cond, then, else: els, span } : { kind: 'If', cond, then, span };
  }

  /** A `[...]` list node (grid, candidates, list expression); no span when it holds no token. */
  private list(n: CstNode | undefined, at: number): { elements: Expr[]; span: Span | undefined } {
    const lbracket = tok(n, 'LBracket');
    const base = endOf(lbracket) ?? at;
    const elements = nodes(n, 'expression').map((e) => this.expr(e, base));
    const rbracket = tok(n, 'RBracket');
    const span = lbracket || rbracket || elements.length > 0 ? cover(base, lbracket, ...elements.map((e) => e.span), rbracket) : undefined;
    return { elements, span };
  }

  // --- expressions -------------------------------------------------------------------------

  expr(n: CstNode | undefined, at: number): Expr {
    if (!n || !hasTokens(n)) return { kind: 'Error', span: { start: at, end: at } };
    return n.name === 'operand' ? this.operand(n, at) : this.binary(n, at);
  }

  /** Operator precedence over the flat `operand (op operand)*` list (shunting-yard, all left-associative). */
  private binary(n: CstNode, at: number): Expr {
    const operandNodes = nodes(n, 'operands');
    const opToks = toks(n, 'ops').filter((t): t is IToken => t !== undefined);
    const out: Expr[] = [this.expr(operandNodes[0], at)];
    const pending: IToken[] = [];
    const reduce = (): void => {
      const op = pending.pop();
      const right = out.pop();
      const left = out.pop();
      if (!op || !right || !left) return;
      out.push({ kind: 'Binary', op: op.image as BinaryOpText, left, right, span: cover(left.span.start, left.span, op, right.span) });
    };
    opToks.forEach((op, i) => {
      const prec = BINARY_PRECEDENCE[op.image] ?? 0;
      while (pending.length > 0 && (BINARY_PRECEDENCE[pending[pending.length - 1]?.image ?? ''] ?? 0) >= prec) reduce();
      pending.push(op);
      out.push(this.expr(operandNodes[i + 1], tspan(op).end));
    });
    while (pending.length > 0) reduce();
    return out[0] ?? { kind: 'Error', span: { start: at, end: at } };
  }

  private operand(n: CstNode, at: number): Expr {
    const prefix = toks(n, 'prefix').filter((t): t is IToken => t !== undefined);
    const lastPrefix = prefix[prefix.length - 1];
    let e = this.primary(n, lastPrefix ? tspan(lastPrefix).end : at);
    for (const s of nodes(n, 'indexSuffix')) {
      const lbracket = tok(s, 'LBracket');
      const itemAt = endOf(lbracket) ?? e.span.end;
      const items = nodes(s, 'indexItem').map((it) => this.indexItem(it, itemAt));
      e = {
        kind: 'Index',
        base: e,
        items,
        span: cover(e.span.start, e.span, lbracket, ...items.map((i) => i.span), tok(s, 'RBracket')),
      };
    }
    for (let i = prefix.length - 1; i >= 0; i--) {
      const op = prefix[i] as IToken;
      e = { kind: 'Unary', op: op.image as UnaryOpText, operand: e, span: cover(tspan(op).start, op, e.span) };
    }
    const types = toks(n, 'types');
    toks(n, 'As').forEach((asKw, i) => {
      if (!asKw) return;
      const type = { name: this.ident(types[i], tspan(asKw).end) };
      e = { kind: 'Cast', expr: e, type, span: cover(e.span.start, e.span, asKw, type.name.span) };
    });
    return e;
  }

  private indexItem(n: CstNode, at: number): IndexItem {
    const none = tok(n, 'None');
    if (none) return { kind: 'NewAxis', span: tspan(none) };
    const full = tok(n, 'full');
    if (full) return { kind: 'Full', span: tspan(full) };
    const start = this.expr(node(n, 'start'), at);
    const sep = tok(n, 'sep');
    if (!sep) return { kind: 'Scalar', expr: start, span: start.span };
    const size = this.expr(node(n, 'size'), tspan(sep).end);
    return { kind: 'Slice', start, size, span: cover(start.span.start, start.span, sep, size.span) };
  }

  /** The primary alternative of an operand node. */
  private primary(n: CstNode, at: number): Expr {
    const int = tok(n, 'IntLit');
    if (int) return { kind: 'Int', value: intValue(int.image), span: tspan(int) };
    const float = tok(n, 'FloatLit');
    if (float) return { kind: 'Float', value: floatValue(float.image), span: tspan(float) };
    const t = tok(n, 'True') ?? tok(n, 'False');
    if (t) return { kind: 'Bool', value: t.tokenType === True, span: tspan(t) };
    const name = node(n, 'nameOrCall');
    if (name) return this.nameOrCall(name, at);
    const paren = node(n, 'parenExpr');
    if (paren) {
      const lparen = tok(paren, 'LParen');
      const inner = this.expr(node(paren, 'expression'), endOf(lparen) ?? at);
      // No paren node in the AST: the inner expression's span grows to cover the parentheses,
      // so that every span runs from its first token to its last.
      return { ...inner, span: cover(inner.span.start, lparen, inner.span, tok(paren, 'RParen')) };
    }
    const list = node(n, 'list');
    if (list) {
      const { elements, span } = this.list(list, at);
      return { kind: 'List', elements, span: span ?? { start: at, end: at } };
    }
    return { kind: 'Error', span: { start: at, end: at } };
  }

  private nameOrCall(n: CstNode, at: number): Expr {
    const nameTok = tok(n, 'name');
    const callee = this.ident(nameTok, at);
    const lparen = tok(n, 'LParen');
    if (!lparen) return { kind: 'Name', name: callee.name, span: callee.span };
    const args: Expr[] = [];
    const named: NamedArg[] = [];
    for (const a of nodes(n, 'arg')) {
      if (!hasTokens(a)) continue;
      const argName = tok(a, 'argName');
      const eq = tok(a, 'Eq');
      const value = this.expr(node(a, 'value'), endOf(eq, argName) ?? tspan(lparen).end);
      if (argName) {
        const name = this.ident(argName, 0);
        named.push({ name, value, span: cover(name.span.start, name.span, eq, value.span) });
      } else {
        const first = named[0];
        if (first) {
          this.diagnostics.push(
            error(
              'TK0003',
              value.span,
              'positional argument after a named argument',
              `write positional arguments first: ${callee.name}(x, ${first.name.name} = …)`,
            ),
          );
        }
        args.push(value);
      }
    }
    const rparen = tok(n, 'RParen');
    return {
      kind: 'Call',
      callee,
      args,
      named,
      span: cover(callee.span.start, callee.span, lparen, ...args.map((a) => a.span), ...named.map((a) => a.span), rparen),
    };
  }

  private ident(t: IToken | undefined, at: number): Ident {
    return t ? { name: t.image, span: tspan(t) } : { name: MISSING, span: { start: at, end: at } };
  }
}

function emptyBlock(at: number): Block {
  return { kind: 'Block', stmts: [], span: { start: at, end: at } };
}

// ---------------------------------------------------------------------------------------------
// Entry point

export interface ParseResult {
  readonly program: Program;
  /** Lexical and syntax diagnostics, in source order, at most one per code and offset. */
  readonly diagnostics: Diagnostic[];
}

/** Parses a whole file. Never throws: syntax errors become diagnostics and holes in the tree. */
export function parseProgram(src: SourceText): ParseResult {
  const text = src.text;
  const lexed = tokenize(src);
  const eofSpan: Span = text.length > 0 ? { start: text.length - 1, end: text.length } : { start: 0, end: 0 };
  const diagnostics: Diagnostic[] = [...lexed.diagnostics];
  parser.input = lexed.tokens;
  let cst: CstNode | undefined;
  let program: Program | undefined;
  const builder = new AstBuilder();
  try {
    cst = parser.program();
    program = builder.program(cst);
  } catch (e) {
    // Only a JS error can escape chevrotain and the conversion: in practice a stack overflow
    // on absurdly deep nesting (a couple of hundred parentheses).
    if (!(e instanceof RangeError)) throw e;
    diagnostics.push(error('TK0003', deepestSpan(lexed.tokens) ?? eofSpan, 'expressions are nested too deeply to parse'));
  }
  let syntax = cst && program ? parser.errors.map((e) => toDiagnostic(e, eofSpan)) : [];
  // A comment left open swallowed the rest of the file: what is then missing at its end is
  // the same mistake, already reported.
  if (lexed.diagnostics.some((d) => d.code === 'TK0004')) {
    syntax = syntax.filter((d) => d.span.start !== eofSpan.start || d.span.end !== eofSpan.end);
  }
  diagnostics.push(...suppressCascades(syntax, lexed.diagnostics, lexed.tokens));
  if (program) diagnostics.push(...builder.diagnostics);
  return { program: program ?? { kind: 'Program', kernels: [], span: { start: 0, end: 0 } }, diagnostics: dedupe(diagnostics) };
}

/** The opening bracket at the greatest nesting depth, or the first token. */
function deepestSpan(tokens: readonly IToken[]): Span | undefined {
  let depth = 0;
  let best = -1;
  let at: IToken | undefined = tokens[0];
  for (const t of tokens) {
    if (t.tokenType === LParen || t.tokenType === LBracket || t.tokenType === LCurly) {
      depth++;
      if (depth > best) {
        best = depth;
        at = t;
      }
    } else if (t.tokenType === RParen || t.tokenType === RBracket || t.tokenType === RCurly) depth--;
  }
  return at ? tspan(at) : undefined;
}

function toDiagnostic(e: IRecognitionException, eofSpan: Span): Diagnostic {
  let info: SyntaxInfo;
  try {
    info = JSON.parse(e.message) as SyntaxInfo;
  } catch {
    info = { code: 'TK0003', message: e.message };
  }
  const t = e.token;
  const atEof = !t || t.tokenType === EOF || !Number.isFinite(t.startOffset);
  return error(info.code, atEof ? eofSpan : tspan(t), info.message, info.hint);
}

/**
 * Drops a syntax error whose offending token directly follows the previous error's token, or a
 * character the lexer rejected: after a re-sync chevrotain often trips again on the very next
 * token, and a dropped character usually leaves a hole the parser trips on; both report the same
 * mistake twice.
 */
function suppressCascades(diags: Diagnostic[], lexical: readonly Diagnostic[], tokens: readonly IToken[]): Diagnostic[] {
  const index = new Map<number, number>();
  tokens.forEach((t, i) => index.set(t.startOffset, i));
  const afterLexical = new Set(lexical.map((d) => firstTokenFrom(tokens, d.span.end)));
  const sorted = [...diags].sort((a, b) => a.span.start - b.span.start);
  const out: Diagnostic[] = [];
  let prev = -2;
  for (const d of sorted) {
    const i = index.get(d.span.start) ?? tokens.length;
    if (i !== prev + 1 && !afterLexical.has(i)) out.push(d);
    prev = i;
  }
  return out;
}

/** Index of the first token starting at or after `offset` (tokens.length when none does). */
function firstTokenFrom(tokens: readonly IToken[], offset: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((tokens[mid]?.startOffset ?? Infinity) < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function dedupe(diags: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of [...diags].sort((a, b) => a.span.start - b.span.start)) {
    const key = `${d.span.start}:${d.code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(d);
  }
  return out;
}
