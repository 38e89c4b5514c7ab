/** Go to definition and find references, over the syntactic name index (every branch, any configuration). */
import type { AnalyzedDocument, Region } from './document.js';
import { spanRange } from './positions.js';
import type { Location } from './protocol.js';
import { refAt } from './resolve.js';

export function definition(doc: AnalyzedDocument, region: Region, offset: number): Location[] {
  const def = refAt(region.index, offset)?.def;
  return def ? [{ uri: doc.uri, range: spanRange(region.source, doc.lines, def.span) }] : [];
}

export function references(doc: AnalyzedDocument, region: Region, offset: number, includeDeclaration: boolean): Location[] {
  const def = refAt(region.index, offset)?.def;
  if (!def) return [];
  return region.index.refs
    .filter((r) => r.def === def && (includeDeclaration || !r.isDecl))
    .map((r) => ({ uri: doc.uri, range: spanRange(region.source, doc.lines, r.span) }));
}
