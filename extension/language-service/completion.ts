/**
 * Completion: the names that make sense at a position — after `as` only dtypes; in a kernel
 * body the statement keywords, builtins, dtypes and every declaration in scope (parameters,
 * shape symbols, constants, tunables, the locals declared above); in a kernel header the
 * header keywords and the kernel's names; between kernels `kernel`.
 */
import { As } from '../../dsl/lexer.js';
import { BUILTINS } from '../../dsl/builtins.js';
import { DTYPES } from '../../dsl/dtype.js';
import type { Region } from './document.js';
import { defDetail, dtypeDoc } from './describe.js';
import type { CompletionItem, CompletionKind } from './protocol.js';
import { defsInScope, type DefKind } from './resolve.js';

const BODY_KEYWORDS = ['let', 'var', 'for', 'in', 'if', 'else', 'as', 'true', 'false', 'None', 'range', 'pipelined'];
const HEADER_KEYWORDS = ['const', 'tune', 'require', 'grid', 'in', 'true', 'false', 'int', 'bool', 'float', 'type'];

const KIND_OF: Readonly<Record<DefKind, CompletionKind>> = {
  kernel: 'kernel',
  parameter: 'parameter',
  dimension: 'dimension',
  constant: 'constant',
  tunable: 'tunable',
  local: 'variable',
};

export function completion(region: Region, offset: number): CompletionItem[] {
  // The token before the word being typed (if any) decides the context.
  const toks = region.tokens;
  let i = toks.length - 1;
  while (i >= 0 && toks[i]!.startOffset + toks[i]!.image.length > offset) i--;
  if (i >= 0 && /^[A-Za-z_]/.test(toks[i]!.image) && toks[i]!.startOffset + toks[i]!.image.length === offset) i--;
  const prev = i >= 0 ? toks[i] : undefined;
  const types = (): CompletionItem[] => DTYPES.map((d) => ({ label: d, kind: 'type', detail: dtypeDoc(d) }));
  const typeConsts = (): CompletionItem[] =>
    defsInScope(region.index, region.program, offset)
      .filter((d) => d.kind === 'constant' && d.node.kind === 'Const' && d.node.type.kind === 'type')
      .map((d) => ({ label: d.name, kind: 'constant', detail: defDetail(d) }));
  if (prev?.tokenType === As) return [...types(), ...typeConsts()];

  const kernel = [...region.program.kernels].reverse().find((k) => k.span.start <= offset);
  if (!kernel || (offset > kernel.span.end && kernel.body.span.end > kernel.body.span.start && !region.syntaxErrors)) {
    return [{ label: 'kernel', kind: 'keyword' }];
  }
  const inBody = offset > kernel.body.span.start;
  const items: CompletionItem[] = [];
  for (const kw of inBody ? BODY_KEYWORDS : HEADER_KEYWORDS) items.push({ label: kw, kind: 'keyword' });
  for (const [name, b] of Object.entries(BUILTINS)) items.push({ label: name, kind: 'function', detail: b.usage, documentation: b.doc });
  items.push({ label: 'inf', kind: 'constant', detail: 'inf: f32', documentation: 'The float constant +∞.' });
  items.push(...types());
  const seen = new Set<string>();
  for (const d of defsInScope(region.index, region.program, offset)) {
    if (seen.has(d.name)) continue;
    seen.add(d.name);
    items.push({ label: d.name, kind: KIND_OF[d.kind], detail: defDetail(d) });
  }
  return items;
}
