/** Document symbols: each kernel, with its parameters, constants and tunables as children. */
import type { AnalyzedDocument } from './document.js';
import { constText, kernelSignature, paramText, tunableText } from './describe.js';
import { spanRange } from './positions.js';
import type { DocumentSymbol } from './protocol.js';

export function documentSymbols(doc: AnalyzedDocument): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  for (const region of doc.regions) {
    const r = (s: { start: number; end: number }) => spanRange(region.source, doc.lines, s);
    for (const k of region.program.kernels) {
      if (k.name.name === '<missing>') continue;
      const children: DocumentSymbol[] = [
        ...k.params.map((p): DocumentSymbol => ({ name: p.name.name, kind: 'parameter', detail: paramText(p), range: r(p.span), selectionRange: r(p.name.span), children: [] })),
        ...k.consts.map((c): DocumentSymbol => ({ name: c.name.name, kind: 'constant', detail: constText(c), range: r(c.span), selectionRange: r(c.name.span), children: [] })),
        ...k.tunables.map((t): DocumentSymbol => ({ name: t.name.name, kind: 'tunable', detail: tunableText(t), range: r(t.span), selectionRange: r(t.name.span), children: [] })),
      ].filter((c) => c.name !== '<missing>');
      out.push({ name: k.name.name, kind: 'kernel', detail: kernelSignature(k), range: r(k.span), selectionRange: r(k.name.span), children });
    }
  }
  return out;
}
