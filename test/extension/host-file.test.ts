/** The language service on `tile` templates inside a TypeScript file: positions are the host file's. */
import { describe, expect, it } from 'vitest';
import { pos, rangeOf, serviceWith } from './helpers.js';

const HOST = [
  "import { tile } from 'tilekit/dsl';",
  '',
  'const BLOCK = 128;',
  'export const scale = tile`',
  'kernel scale(x: f16[N], y: f16[N], s: f32)',
  '  tune { B in [64, ${BLOCK}] = 64; }',
  '  grid [cdiv(N, B)]',
  '{',
  '  let i0 = program_id(0) * B;',
  '  var u = load(x[i0 : B]) as f32 * s;',
  '  store(y[i0 : B], u as f16 + zz);',
  '}',
  '`;',
  '',
].join('\n');
const URI = 'file:///src/kernels.ts';

describe('tile templates in a .ts file', () => {
  const ls = serviceWith(URI, HOST);

  it('report diagnostics at their place in the host file', () => {
    const d = ls.diagnostics(URI);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ code: 'TK1001', range: rangeOf(HOST, 'zz') });
  });

  it('report an interpolation that cannot be resolved at the host expression', () => {
    const text = HOST.replace('${BLOCK}', '${Math.max(1, 2)}');
    const d = serviceWith(URI, text).diagnostics(URI);
    const unresolved = d.find((x) => x.code === 'TK0101');
    expect(unresolved?.range.start).toEqual(pos(text, 'Math.max'));
  });

  it('hover, definition and references map both ways', () => {
    expect(ls.hover(URI, pos(HOST, 'u as', 0, 0))?.contents).toContain('var u: f32[64]');
    expect(ls.hover(URI, pos(HOST, 'B in'))?.contents).toContain('candidates: 64, 128; default: 64');
    const def = ls.definition(URI, pos(HOST, 'i0 : B', 1));
    expect(def).toEqual([{ uri: URI, range: rangeOf(HOST, 'i0') }]);
    expect(ls.references(URI, pos(HOST, 'x[i0')).map((r) => r.range)).toEqual([rangeOf(HOST, 'x: f16'), rangeOf(HOST, 'x[i0')].map((r) => ({ start: r.start, end: { line: r.start.line, character: r.start.character + 1 } })));
  });

  it('give nothing outside a template', () => {
    expect(ls.hover(URI, pos(HOST, 'BLOCK ='))).toBeUndefined();
    expect(ls.completion(URI, pos(HOST, 'import'))).toEqual([]);
  });

  it('inlay hints, symbols and semantic tokens in host positions', () => {
    expect(ls.inlayHints(URI).map((h) => [h.position, h.label])).toEqual([
      [pos(HOST, 'i0 =', 0, 2), ': i32'],
      [pos(HOST, 'u =', 0, 1), ': f32[64]'],
    ]);
    const syms = ls.documentSymbols(URI);
    expect(syms.map((s) => [s.name, s.selectionRange])).toEqual([['scale', rangeOf(HOST, 'scale', 1)]]);
    const toks = ls.semanticTokens(URI);
    const kw = pos(HOST, 'kernel scale');
    expect(toks.find((t) => t.line === kw.line && t.character === kw.character)).toMatchObject({ type: 'keyword', length: 6 });
    // Nothing is coloured outside the template.
    expect(toks.every((t) => t.line >= kw.line && t.line <= pos(HOST, '}\n`').line)).toBe(true);
  });

  it('completion inside a template offers the kernel names in scope', () => {
    const labels = ls.completion(URI, pos(HOST, 'store(')).map((i) => i.label);
    expect(labels).toEqual(expect.arrayContaining(['i0', 'u', 'x', 'B', 'load']));
  });

  it('formatting leaves host files alone', () => {
    expect(ls.format(URI)).toEqual([]);
  });
});
