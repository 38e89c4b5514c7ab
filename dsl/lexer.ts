/**
 * Tokens of the tile language (docs/language.md, "Lexical structure") and the lexer.
 *
 * Every token type carries a LABEL: the way diagnostics name it (`';'`, `identifier`, `integer`).
 */
import { createToken, EOF, Lexer, type IToken, type TokenType } from 'chevrotain';
import { error, type Diagnostic } from './diagnostic.js';
import type { SourceText } from './source.js';

// ---------------------------------------------------------------------------------------------
// Trivia and errors

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED });
/** Only matches when BlockComment cannot, i.e. when no `*\/` follows; kept apart so it becomes TK0004. */
export const UnterminatedComment = createToken({
  name: 'UnterminatedComment',
  pattern: /\/\*[\s\S]*/,
  group: 'unterminated',
});

// ---------------------------------------------------------------------------------------------
// Names and literals

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: 'identifier' });

// Float before Int: `1.5` must not lex as `1` followed by garbage.
export const FloatLit = createToken({
  name: 'FloatLit',
  pattern:
    /[0-9][0-9_]*\.(?:[0-9][0-9_]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9][0-9_]*(?:[eE][+-]?[0-9]+)?|[0-9][0-9_]*[eE][+-]?[0-9]+/,
  label: 'float',
});
export const IntLit = createToken({ name: 'IntLit', pattern: /0[xX][0-9a-fA-F][0-9a-fA-F_]*|[0-9][0-9_]*/, label: 'integer' });

function keyword(name: string, word: string): TokenType {
  // longer_alt: `kernelx`, `int_`, `letter` stay identifiers.
  return createToken({ name, pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });
}

export const Kernel = keyword('Kernel', 'kernel');
export const Const = keyword('Const', 'const');
export const Tune = keyword('Tune', 'tune');
export const Require = keyword('Require', 'require');
export const Grid = keyword('Grid', 'grid');
export const Let = keyword('Let', 'let');
export const Var = keyword('Var', 'var');
export const For = keyword('For', 'for');
export const In = keyword('In', 'in');
export const If = keyword('If', 'if');
export const Else = keyword('Else', 'else');
export const As = keyword('As', 'as');
export const True = keyword('True', 'true');
export const False = keyword('False', 'false');
export const None = keyword('None', 'None');

export const KEYWORDS: readonly TokenType[] = [Kernel, Const, Tune, Require, Grid, Let, Var, For, In, If, Else, As, True, False, None];

// ---------------------------------------------------------------------------------------------
// Operators and punctuation. Categories let one CONSUME take any operator of a kind; the
// parser reads every binary operator alike and applies precedence itself (BINARY_PRECEDENCE).

export const AssignOp = createToken({ name: 'AssignOp', pattern: Lexer.NA, label: 'an assignment operator' });
export const BinaryOp = createToken({ name: 'BinaryOp', pattern: Lexer.NA, label: 'a binary operator' });
export const UnaryOp = createToken({ name: 'UnaryOp', pattern: Lexer.NA, label: "'-' or '!'" });

function punct(name: string, text: string, categories: TokenType[] = []): TokenType {
  return createToken({ name, pattern: text, label: `'${text}'`, categories });
}

// Longer operators come first: the lexer takes the first pattern that matches, not the longest.
export const PlusEq = punct('PlusEq', '+=', [AssignOp]);
export const MinusEq = punct('MinusEq', '-=', [AssignOp]);
export const StarEq = punct('StarEq', '*=', [AssignOp]);
export const SlashEq = punct('SlashEq', '/=', [AssignOp]);
export const OrOr = punct('OrOr', '||', [BinaryOp]);
export const AndAnd = punct('AndAnd', '&&', [BinaryOp]);
export const EqEq = punct('EqEq', '==', [BinaryOp]);
export const NotEq = punct('NotEq', '!=', [BinaryOp]);
export const LtEq = punct('LtEq', '<=', [BinaryOp]);
export const GtEq = punct('GtEq', '>=', [BinaryOp]);
export const Lt = punct('Lt', '<', [BinaryOp]);
export const Gt = punct('Gt', '>', [BinaryOp]);
export const Eq = punct('Eq', '=', [AssignOp]);
export const Plus = punct('Plus', '+', [BinaryOp]);
export const Minus = punct('Minus', '-', [BinaryOp, UnaryOp]);
export const Star = punct('Star', '*', [BinaryOp]);
export const Slash = punct('Slash', '/', [BinaryOp]);
export const Percent = punct('Percent', '%', [BinaryOp]);
export const Bang = punct('Bang', '!', [UnaryOp]);
export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');
export const LBracket = punct('LBracket', '[');
export const RBracket = punct('RBracket', ']');
export const LCurly = punct('LCurly', '{');
export const RCurly = punct('RCurly', '}');
export const Comma = punct('Comma', ',');
export const Semicolon = punct('Semicolon', ';');
export const Colon = punct('Colon', ':');

/** Every token type, in lexing priority order (categories last; they match nothing themselves). */
export const allTokens: readonly TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  ...KEYWORDS,
  Identifier,
  FloatLit,
  IntLit,
  PlusEq,
  MinusEq,
  StarEq,
  SlashEq,
  OrOr,
  AndAnd,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  Lt,
  Gt,
  Eq,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Bang,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LCurly,
  RCurly,
  Comma,
  Semicolon,
  Colon,
  AssignOp,
  BinaryOp,
  UnaryOp,
];

/** Binding strength of each binary operator (docs/language.md, levels 1 to 5); all associate left. */
export const BINARY_PRECEDENCE: Readonly<Record<string, number>> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
};

const lexer = new Lexer([...allTokens], { positionTracking: 'onlyOffset', ensureOptimizations: false });

export interface TokenizeResult {
  readonly tokens: IToken[];
  readonly diagnostics: Diagnostic[];
}

/**
 * Splits the text into tokens, dropping whitespace and comments.
 * Diagnostics: TK0001 for a run of characters that start no token, TK0004 for a `/*` never closed.
 */
export function tokenize(src: SourceText): TokenizeResult {
  const text = src.text;
  const result = lexer.tokenize(text);
  const diagnostics: Diagnostic[] = [];
  for (const e of result.errors) {
    const length = Math.max(1, e.length);
    diagnostics.push(
      error('TK0001', { start: e.offset, end: e.offset + length }, `unexpected character ${describeChar(text, e.offset)}`),
    );
  }
  for (const t of result.groups['unterminated'] ?? []) {
    diagnostics.push(
      error(
        'TK0004',
        { start: t.startOffset, end: t.startOffset + 2 },
        'unterminated block comment',
        "block comments end with '*/' and do not nest",
      ),
    );
  }
  diagnostics.sort((a, b) => a.span.start - b.span.start);
  return { tokens: result.tokens, diagnostics };
}

/** `'@'`, or an escape for characters that would not show (`'\u0007'`). */
function describeChar(text: string, offset: number): string {
  const cp = text.codePointAt(offset);
  if (cp === undefined) return 'at end of file';
  const ch = String.fromCodePoint(cp);
  const visible = cp > 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp <= 0x9f) && !/\s/u.test(ch);
  return visible ? `'${ch}'` : `'\\u${cp.toString(16).padStart(4, '0')}'`;
}

/** How diagnostics name a token that was found: `';'`, `identifier 'foo'`, `end of file`. */
export function describeToken(tok: IToken): string {
  const t = tok.tokenType;
  if (t === EOF) return 'end of file';
  if (t === Identifier) return `identifier '${tok.image}'`;
  if (t === IntLit) return `integer '${tok.image}'`;
  if (t === FloatLit) return `float '${tok.image}'`;
  return `'${tok.image}'`;
}

/** How diagnostics name an expected token type: `';'`, `identifier`, `end of file`. */
export function describeTokenType(t: TokenType): string {
  if (t === EOF) return 'end of file';
  return t.LABEL ?? t.name;
}

/** The value of an integer literal: decimal or `0x` hex, `_` separators ignored. */
export function intValue(image: string): number {
  // Number() reads both `123` and `0x7f`; integers above 2^53 round like any JS number.
  return Number(image.replace(/_/g, ''));
}

/** The value of a float literal (`1.0`, `.5`, `1e-3`, `1.`), `_` separators ignored. */
export function floatValue(image: string): number {
  return Number(image.replace(/_/g, ''));
}
