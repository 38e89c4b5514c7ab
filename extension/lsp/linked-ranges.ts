/**
 * Linked highlighting over an assembly view's map (`.tile` range → emitted lines), for every
 * editor that shows assembly beside the source (the VS Code extension, the playground). Pure.
 */
import type { Position, Range } from '../language-service/protocol.js';

export interface MapEntry {
  readonly range: Range;
  readonly lines: readonly number[];
}

const before = (a: Position, b: Position): boolean => a.line < b.line || (a.line === b.line && a.character <= b.character);
const size = (r: Range): number => (r.end.line - r.start.line) * 1e6 + r.end.character - r.start.character;

/** The entries under a source position: the innermost ranges holding it — the `dot(…)` call, not the loop around it. */
export function entriesAt<E extends MapEntry>(map: readonly E[], pos: Position): E[] {
  const holding = map.filter((m) => before(m.range.start, pos) && before(pos, m.range.end));
  const min = Math.min(...holding.map((m) => size(m.range)));
  return holding.filter((m) => size(m.range) === min);
}

/** The entries whose emitted code includes 1-based `line`. */
export function entriesOfLine<E extends MapEntry>(map: readonly E[], line: number): E[] {
  return map.filter((m) => m.lines.includes(line));
}
