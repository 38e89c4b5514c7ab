/**
 * The position model. Requests and answers use LSP positions (0-based line, UTF-16 character)
 * in the text the user edits: a `.tile` file, or the `.ts` file that hosts `tile` templates.
 * The checker's spans are offsets into the tile text of one region; a region maps them to host
 * offsets through its SourceText, and back through the SourceText's segment map.
 */
import type { SourceText } from '../../dsl/source.js';
import type { Span } from '../../dsl/span.js';
import type { Position, Range } from './protocol.js';

/** Offsets ↔ LSP positions in one text. */
export class LineMap {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  get lineCount(): number {
    return this.starts.length;
  }

  positionAt(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: o - this.starts[lo]! };
  }

  /** The offset of a position; a character past the end of its line is clamped to the line end. */
  offsetAt(p: Position): number {
    if (p.line < 0) return 0;
    if (p.line >= this.starts.length) return this.text.length;
    const start = this.starts[p.line]!;
    const next = this.starts[p.line + 1];
    const end = next === undefined ? this.text.length : next - 1;
    return Math.min(start + Math.max(0, p.character), end);
  }

  lineStart(line: number): number {
    return this.starts[line] ?? this.text.length;
  }

  /** A line's text without its line break (and without a trailing `\r`). */
  lineText(line: number): string {
    const start = this.lineStart(line);
    const next = this.starts[line + 1];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, '');
  }
}

/** Tile-text offset → host offset (identity for a `.tile` file). */
export function toHost(src: SourceText, offset: number): number {
  return src.hostOffset(offset);
}

/**
 * Host offset → tile-text offset, or undefined when the host offset is not inside text copied
 * from the host (outside the template, or on an interpolation). The end of a run counts as
 * inside it, so a cursor just after an identifier still finds the identifier.
 */
export function fromHost(src: SourceText, hostOffset: number): number | undefined {
  if (!src.host) return hostOffset >= 0 && hostOffset <= src.text.length ? hostOffset : undefined;
  let endMatch: number | undefined;
  for (const s of src.host.segments) {
    const d = hostOffset - s.hostStart;
    if (d >= 0 && d < s.length) return s.textStart + d;
    if (d === s.length && endMatch === undefined) endMatch = s.textStart + d;
  }
  return endMatch;
}

/** A tile-text span as a range in the host text. */
export function spanRange(src: SourceText, lines: LineMap, span: Span): Range {
  const start = toHost(src, span.start);
  // An empty span stays empty; otherwise map the last character and step past it, so a span
  // that ends exactly where an interpolation starts is not stretched over it.
  const end = span.end > span.start ? toHost(src, span.end - 1) + 1 : start;
  return { start: lines.positionAt(start), end: lines.positionAt(Math.max(start, end)) };
}

export function containsOffset(span: Span, offset: number): boolean {
  return span.start <= offset && offset <= span.end;
}
