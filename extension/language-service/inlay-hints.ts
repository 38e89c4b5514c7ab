/** Inlay hints: the inferred dtype and tile shape after each `let`/`var` name (default configuration). */
import type { AnalyzedDocument, Region } from './document.js';
import { typeLabel } from './describe.js';
import { localType } from './hover.js';
import { spanRange } from './positions.js';
import type { InlayHint, Range } from './protocol.js';

export function inlayHints(doc: AnalyzedDocument, region: Region, range?: Range): InlayHint[] {
  const out: InlayHint[] = [];
  for (const def of region.index.defs) {
    if (def.kind !== 'local' || def.node.kind !== 'Let') continue;
    const info = region.kernels.find((k) => k.kernel === def.kernel);
    const t = localType(info, def);
    if (!t) continue;
    const position = spanRange(region.source, doc.lines, def.span).end;
    if (range && (before(position, range.start) || before(range.end, position))) continue;
    out.push({ position, label: `: ${typeLabel(t)}`, kind: 'type' });
  }
  return out.sort((a, b) => a.position.line - b.position.line || a.position.character - b.position.character);
}

function before(a: { line: number; character: number }, b: { line: number; character: number }): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}
