/** Diagnostics: the checker's (over every configuration, as `tilekit check`) as LSP-style ranges in the edited file. */
import type { Diagnostic } from '../../dsl/diagnostic.js';
import type { AnalyzedDocument } from './document.js';
import { spanRange, type LineMap } from './positions.js';
import type { LsDiagnostic, Range } from './protocol.js';
import type { SourceText } from '../../dsl/source.js';

export function diagnostics(doc: AnalyzedDocument): LsDiagnostic[] {
  const out: LsDiagnostic[] = [];
  for (const d of doc.hostDiagnostics) out.push(toLs(d, hostRange(doc.lines, d)));
  for (const region of doc.regions) for (const d of region.diagnostics) out.push(toLs(d, rangeOf(region.source, doc.lines, d)));
  return out;
}

function rangeOf(src: SourceText, lines: LineMap, d: Diagnostic): Range {
  return spanRange(src, lines, d.span);
}

function hostRange(lines: LineMap, d: Diagnostic): Range {
  return { start: lines.positionAt(d.span.start), end: lines.positionAt(d.span.end) };
}

function toLs(d: Diagnostic, range: Range): LsDiagnostic {
  return {
    range,
    severity: d.severity === 'note' ? 'information' : d.severity,
    code: d.code,
    message: d.message,
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
    ...(d.notes ? { notes: d.notes } : {}),
    source: 'tilekit',
  };
}
