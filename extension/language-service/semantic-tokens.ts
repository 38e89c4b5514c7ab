/**
 * Semantic tokens: the lexer's tokens, classified by what each name resolves to, plus the
 * comments the lexer skips. Returned as absolute tokens; `encodeSemanticTokens` gives the
 * LSP's relative integer encoding for the legend below.
 */
import { FloatLit, Identifier, IntLit, KEYWORDS } from '../../dsl/lexer.js';
import type { AnalyzedDocument, Region } from './document.js';
import type { Position } from './protocol.js';
import type { Ref } from './resolve.js';

export const TOKEN_TYPES = ['keyword', 'function', 'parameter', 'variable', 'typeParameter', 'enumMember', 'macro', 'type', 'number', 'comment', 'property'] as const;
export const TOKEN_MODIFIERS = ['declaration', 'readonly', 'defaultLibrary'] as const;
export type TokenType = (typeof TOKEN_TYPES)[number];
export type TokenModifier = (typeof TOKEN_MODIFIERS)[number];

/** For the server's `semanticTokensProvider.legend`. */
export const SEMANTIC_TOKENS_LEGEND = { tokenTypes: [...TOKEN_TYPES], tokenModifiers: [...TOKEN_MODIFIERS] };

export interface SemanticToken {
  readonly line: number;
  readonly character: number;
  readonly length: number;
  readonly type: TokenType;
  readonly modifiers: readonly TokenModifier[];
}

const KEYWORD_SET = new Set(KEYWORDS);
/** Kinds of `const` declarations, which the parser reads as identifiers. */
const CONST_KINDS = new Set(['int', 'bool', 'float', 'type']);

export function semanticTokens(doc: AnalyzedDocument): SemanticToken[] {
  const out: SemanticToken[] = [];
  for (const region of doc.regions) regionTokens(doc, region, out);
  return out.sort((a, b) => a.line - b.line || a.character - b.character);
}

function regionTokens(doc: AnalyzedDocument, region: Region, out: SemanticToken[]): void {
  const src = region.source;
  const byStart = new Map<number, Ref>();
  for (const r of region.index.refs) byStart.set(r.span.start, r);
  const constKindSpans = new Set<number>();
  for (const k of region.program.kernels) for (const c of k.consts) constKindSpans.add(c.type.span.start);

  const push = (start: number, end: number, type: TokenType, modifiers: TokenModifier[] = []): void => {
    // A token spans one line; a block comment is split at line breaks.
    let from = start;
    for (let i = start; i <= end; i++) {
      if (i === end || src.text.charCodeAt(i) === 10) {
        if (i > from) {
          const hs = src.hostOffset(from);
          const p: Position = doc.lines.positionAt(hs);
          out.push({ line: p.line, character: p.character, length: src.hostOffset(i - 1) + 1 - hs, type, modifiers });
        }
        from = i + 1;
      }
    }
  };

  for (const t of region.tokens) {
    const start = t.startOffset;
    const end = start + t.image.length;
    if (KEYWORD_SET.has(t.tokenType)) push(start, end, 'keyword');
    else if (t.tokenType === IntLit || t.tokenType === FloatLit) push(start, end, 'number');
    else if (t.tokenType === Identifier) {
      const r = byStart.get(start);
      const c = r
        ? classify(r)
        : constKindSpans.has(start) && CONST_KINDS.has(t.image)
          ? { type: 'type' as const, modifiers: [] }
          : t.image === 'pipelined'
            ? { type: 'function' as const, modifiers: ['defaultLibrary' as const] }
            : undefined;
      if (c) push(start, end, c.type, c.modifiers);
    }
  }
  for (const c of region.comments) push(c.start, c.end, 'comment');
}

function classify(r: Ref): { type: TokenType; modifiers: TokenModifier[] } | undefined {
  const decl: TokenModifier[] = r.isDecl ? ['declaration'] : [];
  if (r.def) {
    switch (r.def.kind) {
      case 'kernel':
        return { type: 'function', modifiers: decl };
      case 'parameter':
        return { type: 'parameter', modifiers: decl };
      case 'dimension':
        return { type: 'typeParameter', modifiers: [...decl, 'readonly'] };
      case 'constant':
        return { type: 'macro', modifiers: [...decl, 'readonly'] };
      case 'tunable':
        return { type: 'enumMember', modifiers: [...decl, 'readonly'] };
      case 'local':
        return { type: 'variable', modifiers: r.def.mutable ? decl : [...decl, 'readonly'] };
    }
  }
  if (r.dtype) return { type: 'type', modifiers: ['defaultLibrary'] };
  if (r.builtin === 'inf') return { type: 'variable', modifiers: ['readonly', 'defaultLibrary'] };
  if (r.builtin) return { type: 'function', modifiers: ['defaultLibrary'] };
  if (r.namedArg) return { type: 'property', modifiers: [] };
  return undefined;
}

/** The LSP encoding: per token, delta line, delta start, length, type index, modifier bits. */
export function encodeSemanticTokens(tokens: readonly SemanticToken[]): number[] {
  const data: number[] = [];
  let line = 0;
  let char = 0;
  for (const t of tokens) {
    const dl = t.line - line;
    data.push(dl, dl === 0 ? t.character - char : t.character, t.length, TOKEN_TYPES.indexOf(t.type), t.modifiers.reduce((m, x) => m | (1 << TOKEN_MODIFIERS.indexOf(x)), 0));
    line = t.line;
    char = t.character;
  }
  return data;
}
