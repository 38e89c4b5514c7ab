/**
 * A conservative formatter for `.tile` text. It changes only
 *   - the indentation of a line that starts a statement, a declaration or a comment: two spaces
 *     per enclosing `{ }`, plus two inside a kernel header (`const`, `tune`, `grid`);
 *   - the spaces around a binary operator on one line: exactly one on each side;
 *   - trailing whitespace.
 * Lines that continue an expression (inside `( )` or `[ ]`, or after a token that does not end
 * a statement) keep their indentation, the text of comments is never touched, and line
 * structure is kept. It refuses (no edits) when the text has a syntax error, since the tree
 * it needs would be a guess. Applying its edits twice changes nothing the second time.
 */
import type { IToken } from 'chevrotain';
import type { BinaryExpr, Program } from '../../dsl/ast.js';
import type { Span } from '../../dsl/span.js';
import type { Region } from './document.js';
import { LineMap } from './positions.js';
import type { TextEdit } from './protocol.js';

const INDENT = '  ';
const OPENS = new Set(['(', '[']);
const CLOSES = new Set([')', ']']);
const STATEMENT_ENDS = new Set([';', '{', '}']);

interface Replacement {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** The formatted text of a region, or undefined when it cannot be formatted safely. */
export function formatText(region: Region): string | undefined {
  if (region.syntaxErrors) return undefined;
  const text = region.source.text;
  const lines = new LineMap(text);
  const tokens = region.tokens;
  const reps: Replacement[] = [];

  // Items that can start a line, in order: tokens and comments.
  const items: { start: number; token?: IToken; comment?: Span }[] = [
    ...tokens.map((t) => ({ start: t.startOffset, token: t })),
    ...region.comments.map((c) => ({ start: c.start, comment: c })),
  ].sort((a, b) => a.start - b.start);

  let ti = 0; // tokens before the current line
  let braces = 0;
  let parens = 0;
  let prev: IToken | undefined;
  let ii = 0;
  for (let line = 0; line < lines.lineCount; line++) {
    const ls = lines.lineStart(line);
    const content = lines.lineText(line);
    const le = ls + content.length;
    // Advance the bracket state over the tokens of earlier lines.
    while (ti < tokens.length && tokens[ti]!.startOffset < ls) {
      const t = tokens[ti]!;
      if (t.image === '{') braces++;
      else if (t.image === '}') braces = Math.max(0, braces - 1);
      else if (OPENS.has(t.image)) parens++;
      else if (CLOSES.has(t.image)) parens = Math.max(0, parens - 1);
      prev = t;
      ti++;
    }
    while (ii < items.length && items[ii]!.start < ls) ii++;
    const trimmedEnd = ls + content.replace(/\s+$/, '').length;
    const first = ls + (content.length - content.replace(/^\s+/, '').length);
    const item = items[ii];
    // Inside a block comment that began on an earlier line: the comment's text is the user's.
    if (insideComment(region.comments, ls)) continue;
    if (trimmedEnd < le) reps.push({ start: trimmedEnd, end: le, text: '' });
    if (!item || item.start !== first || first >= trimmedEnd) continue;
    const indent = indentFor(region.program, item, braces, parens, prev);
    if (indent !== undefined && text.slice(ls, first) !== indent) reps.push({ start: ls, end: first, text: indent });
  }

  for (const b of binaries(region.program)) {
    const i = tokens.findIndex((t) => t.startOffset >= b.left.span.end && t.startOffset < b.right.span.start && t.image === b.op);
    if (i <= 0 || i + 1 >= tokens.length) continue;
    const op = tokens[i]!;
    const before = tokens[i - 1]!;
    const after = tokens[i + 1]!;
    const gap = (from: number, to: number): void => {
      // Only a gap of spaces on one line: a line break or a comment there is the user's layout.
      if (/^[ \t]*$/.test(text.slice(from, to)) && text.slice(from, to) !== ' ') reps.push({ start: from, end: to, text: ' ' });
    };
    gap(before.startOffset + before.image.length, op.startOffset);
    gap(op.startOffset + op.image.length, after.startOffset);
  }
  return apply(text, reps);
}

function insideComment(comments: readonly Span[], offset: number): boolean {
  return comments.some((c) => c.start < offset && offset < c.end);
}

function indentFor(program: Program, item: { start: number; token?: IToken }, braces: number, parens: number, prev: IToken | undefined): string | undefined {
  if (parens > 0) return undefined;
  const closes = item.token?.image === '}' ? 1 : 0;
  const k = program.kernels.find((x) => x.span.start < item.start && item.start <= x.body.span.start);
  if (k && item.start === k.body.span.start) return INDENT.repeat(braces);
  if (k) return INDENT.repeat(1 + braces - closes);
  if (prev && !STATEMENT_ENDS.has(prev.image) && !closes && item.token) return undefined;
  return INDENT.repeat(Math.max(0, braces - closes));
}

function binaries(node: unknown, out: BinaryExpr[] = []): BinaryExpr[] {
  if (Array.isArray(node)) for (const x of node) binaries(x, out);
  else if (node && typeof node === 'object') {
    if ((node as { kind?: unknown }).kind === 'Binary') out.push(node as BinaryExpr);
    for (const v of Object.values(node)) if (v && typeof v === 'object') binaries(v, out);
  }
  return out;
}

function apply(text: string, reps: Replacement[]): string {
  const sorted = [...reps].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const r of sorted) {
    if (r.start < at) continue; // overlapping replacements cannot happen; keep the first if they do
    out += text.slice(at, r.start) + r.text;
    at = r.end;
  }
  return out + text.slice(at);
}

/** Edits that turn `text` into `formatted`: one per changed line (line structure is kept). */
export function lineEdits(text: string, formatted: string): TextEdit[] {
  const a = new LineMap(text);
  const b = new LineMap(formatted);
  if (a.lineCount !== b.lineCount) {
    const end = a.positionAt(text.length);
    return [{ range: { start: { line: 0, character: 0 }, end }, newText: formatted }];
  }
  const edits: TextEdit[] = [];
  for (let l = 0; l < a.lineCount; l++) {
    const x = a.lineText(l);
    const y = b.lineText(l);
    if (x !== y) edits.push({ range: { start: { line: l, character: 0 }, end: { line: l, character: x.length } }, newText: y });
  }
  return edits;
}
