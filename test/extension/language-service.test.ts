import { describe, expect, it } from 'vitest';
import { checkSource } from '../../dsl/check-source.js';
import { encodeSemanticTokens, LanguageService, type RequestError } from '../../extension/language-service/index.js';
import { kernelText, pos, rangeOf, serviceWith } from './helpers.js';

const GEMM = 'file:///k/gemm.tile';

const SMALL = `kernel scale(x: f16[N], y: f16[N], s: f32)
  tune { B in [64, 128] = 128; }
  grid [cdiv(N, B)]
{
  let i0 = program_id(0) * B;
  let t = load(x[i0 : B]) as f32;
  var u = t * s;
  store(y[i0 : B], u as f16);
}
`;
const SMALL_URI = 'file:///k/small.tile';

describe('diagnostics', () => {
  it('are empty for the shipped kernels', () => {
    for (const name of ['gemm', 'attention', 'mlp']) {
      const ls = serviceWith(`file:///k/${name}.tile`, kernelText(name));
      expect(ls.diagnostics(`file:///k/${name}.tile`)).toEqual([]);
      expect(ls.errors).toEqual([]);
    }
  });

  it('carry code, severity, message, hint and the exact range', () => {
    const text = SMALL.replace('var u = t * s;', 'var u = t * s;\n  let w = u + zz;');
    const ls = serviceWith(SMALL_URI, text);
    const d = ls.diagnostics(SMALL_URI);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ code: 'TK1001', severity: 'error', message: "unknown name 'zz'", range: rangeOf(text, 'zz'), source: 'tilekit' });
  });

  it('report a syntax error at the offending token, with its hint', () => {
    const text = SMALL.replace('let t = load', 'let t load');
    const ls = serviceWith(SMALL_URI, text);
    const d = ls.diagnostics(SMALL_URI);
    expect(d.length).toBeGreaterThanOrEqual(1);
    expect(d[0]!.code.startsWith('TK0')).toBe(true);
    expect(d[0]!.range).toEqual(rangeOf(text, 'load', 0));
  });

  it('an error some configurations only show carries a note naming one', () => {
    // 64·64·128 elements fit a tile, 128·128·128 do not: only the non-default configuration fails.
    const text = SMALL.replace('B in [64, 128] = 128', 'B in [64, 128] = 64').replace('let i0', 'let big = zeros([B, B, 128], f32);\n  let i0');
    const d = serviceWith(SMALL_URI, text).diagnostics(SMALL_URI);
    expect(d).toHaveLength(1);
    expect(d[0]!.range).toEqual(rangeOf(text, '[B, B, 128]')); // the checker points at the shape
    expect(d[0]!.notes).toEqual(['in configuration B=128']);
  });
});

describe('hover', () => {
  const t = kernelText('gemm');
  const ls = serviceWith(GEMM, t);

  it('shows a tensor parameter with its dtype and symbolic shape', () => {
    const h = ls.hover(GEMM, pos(t, 'a: dtype'));
    expect(h?.contents).toContain('a: dtype[M, K]');
    expect(h?.contents).toContain('tensor parameter; f16[M, K] in the default configuration (dtype=f16, BM=128');
    expect(h?.range).toEqual({ start: pos(t, 'a: dtype'), end: pos(t, 'a: dtype', 0, 1) });
  });

  it('shows the tile shape of a let/var binding, at its declaration and at a use', () => {
    expect(ls.hover(GEMM, pos(t, 'var acc', 0, 5))?.contents).toContain('var acc: f32[128, 128]');
    expect(ls.hover(GEMM, pos(t, 'acc as dtype'))?.contents).toContain('var acc: f32[128, 128]');
    expect(ls.hover(GEMM, pos(t, 'let m0', 0, 4))?.contents).toContain('let m0: i32');
    expect(ls.hover(GEMM, pos(t, 'for k0', 0, 4))?.contents).toContain('for k0: i32');
  });

  it('shows a tunable with its candidates and default', () => {
    const h = ls.hover(GEMM, pos(t, '* BM', 0, 2));
    expect(h?.contents).toContain('BM in [64, 128, 256] = 128');
    expect(h?.contents).toContain('tunable; candidates: 64, 128, 256; default: 128');
  });

  it('shows a constant, a builtin, a dtype and a shape symbol', () => {
    expect(ls.hover(GEMM, pos(t, 'as dtype', 0, 3))?.contents).toContain('constant (set per build); candidates: f16, bf16; default: f16');
    const load = ls.hover(GEMM, pos(t, 'load('));
    expect(load?.contents).toContain('load(t[m0 : BM, k0 : BK], other = 0, mask = m)');
    expect(load?.contents).toContain('Reads a tile');
    expect(ls.hover(GEMM, pos(t, 'f32)'))?.contents).toContain('32-bit IEEE float');
    expect(ls.hover(GEMM, pos(t, 'cdiv(M', 0, 5))?.contents).toContain('shape symbol, bound at launch from `a`');
    expect(ls.hover(GEMM, pos(t, 'kernel gemm', 0, 8))?.contents).toContain('kernel gemm(a: dtype[M, K], b: dtype[K, N], c: dtype[M, N])');
  });

  it('shows a compile-time scalar with its value, and nothing on a keyword', () => {
    const text = SMALL.replace('let i0', 'let two_b = 2 * B;\n  let i0');
    const s = serviceWith(SMALL_URI, text);
    expect(s.hover(SMALL_URI, pos(text, 'two_b'))?.contents).toContain('let two_b: i32 = 256');
    expect(s.hover(SMALL_URI, pos(text, 'kernel'))).toBeUndefined();
  });

  it('says when a local is in a branch the default configuration does not take', () => {
    const a = kernelText('attention');
    const s = serviceWith('file:///k/attention.tile', a);
    const inCausal = a.indexOf('if causal');
    expect(inCausal).toBeGreaterThan(0);
    const h = s.hover('file:///k/attention.tile', pos(a, 'hi = ', 1));
    expect(h?.contents).toContain('var hi');
  });
});

describe('inlay hints', () => {
  it('give the inferred dtype and shape after each let/var name', () => {
    const t = kernelText('gemm');
    const hints = serviceWith(GEMM, t).inlayHints(GEMM);
    expect(hints.map((h) => [h.position, h.label])).toEqual([
      [pos(t, 'm0 =', 0, 2), ': i32'],
      [pos(t, 'n0 =', 0, 2), ': i32'],
      [pos(t, 'acc =', 0, 3), ': f32[128, 128]'],
    ]);
  });

  it('are limited to a range', () => {
    const t = kernelText('gemm');
    const line = pos(t, 'var acc').line;
    const hints = serviceWith(GEMM, t).inlayHints(GEMM, { start: { line, character: 0 }, end: { line, character: 80 } });
    expect(hints.map((h) => h.label)).toEqual([': f32[128, 128]']);
  });
});

describe('definition and references', () => {
  const t = kernelText('gemm');
  const ls = serviceWith(GEMM, t);

  it('go from a use to the declaration and back, for locals, tunables, constants, parameters, dims', () => {
    const cases: [string, number, string, number][] = [
      ['acc)', 0, 'acc =', 0], // local
      ['BK)', 0, 'BK in', 0], // tunable
      ['as dtype', 3, 'dtype: type', 0], // constant
      ['a[m0', 0, 'a: dtype', 0], // parameter
      ['K, BK', 0, 'K]', 0], // dimension (declared by `a`)
    ];
    for (const [use, delta, decl, declDelta] of cases) {
      const def = ls.definition(GEMM, pos(t, use, 0, delta));
      const at = pos(t, decl, 0, declDelta);
      expect(def, use).toHaveLength(1);
      expect(def[0]!.uri).toBe(GEMM);
      expect(def[0]!.range.start).toEqual(at);
      // Every reference resolves back to the same declaration.
      const refs = ls.references(GEMM, at);
      expect(refs.length).toBeGreaterThan(1);
      for (const r of refs) expect(ls.definition(GEMM, r.range.start)[0]!.range.start).toEqual(at);
    }
  });

  it('list every use of a local (declaration optional)', () => {
    const refs = ls.references(GEMM, pos(t, 'var acc', 0, 4), true);
    expect(refs.map((r) => r.range)).toEqual([rangeOf(t, 'acc =', 0), rangeOf(t, 'acc =', 1), rangeOf(t, 'acc)'), rangeOf(t, 'acc as')].map((r) => ({ start: r.start, end: { line: r.start.line, character: r.start.character + 3 } })));
    expect(ls.references(GEMM, pos(t, 'var acc', 0, 4), false)).toHaveLength(3);
  });

  it('resolve kernels, and nothing for builtins', () => {
    expect(ls.definition(GEMM, pos(t, 'gemm('))[0]!.range).toEqual(rangeOf(t, 'gemm'));
    expect(ls.definition(GEMM, pos(t, 'dot('))).toEqual([]);
  });
});

describe('completion', () => {
  it('offers builtins, dtypes, keywords, the kernel names and the locals declared above', () => {
    const text = SMALL.replace('store(', 'sto\n  store(');
    const ls = serviceWith(SMALL_URI, text);
    const items = ls.completion(SMALL_URI, pos(text, 'sto\n', 0, 3));
    const kinds = new Map(items.map((i) => [i.label, i.kind]));
    expect(kinds.get('store')).toBe('function');
    expect(kinds.get('i0')).toBe('variable');
    expect(kinds.get('u')).toBe('variable');
    expect(kinds.get('x')).toBe('parameter');
    expect(kinds.get('s')).toBe('parameter');
    expect(kinds.get('N')).toBe('dimension');
    expect(kinds.get('B')).toBe('tunable');
    expect(kinds.get('f16')).toBe('type');
    expect(kinds.get('let')).toBe('keyword');
    expect(kinds.get('inf')).toBe('constant');
  });

  it('offers only the locals declared before the position', () => {
    const ls = serviceWith(SMALL_URI, SMALL);
    const labels = ls.completion(SMALL_URI, pos(SMALL, 'let t')).map((i) => i.label);
    expect(labels).toContain('i0');
    expect(labels).not.toContain('t');
    expect(labels).not.toContain('u');
  });

  it('offers dtypes and type constants after `as`', () => {
    const t = kernelText('gemm');
    const ls = serviceWith(GEMM, t);
    const labels = ls.completion(GEMM, pos(t, 'as dtype', 0, 3)).map((i) => i.label);
    expect(labels).toEqual(['f16', 'bf16', 'f32', 'i32', 'i64', 'bool', 'f8e4m3', 'f8e5m2', 'dtype']);
  });

  it('offers `kernel` outside any kernel', () => {
    const ls = serviceWith(SMALL_URI, SMALL + '\n');
    expect(ls.completion(SMALL_URI, { line: SMALL.split('\n').length, character: 0 })).toEqual([{ label: 'kernel', kind: 'keyword' }]);
  });
});

describe('document symbols', () => {
  it('list kernels with parameters, constants and tunables', () => {
    const t = kernelText('mlp');
    const syms = serviceWith('file:///k/mlp.tile', t).documentSymbols('file:///k/mlp.tile');
    expect(syms.map((s) => s.name)).toEqual(['mlp_gate_up', 'mlp_down']);
    const up = syms[0]!;
    expect(up.kind).toBe('kernel');
    expect(up.selectionRange).toEqual(rangeOf(t, 'mlp_gate_up', 1));
    expect(up.children.map((c) => [c.name, c.kind])).toEqual([
      ['x', 'parameter'],
      ['wg', 'parameter'],
      ['wu', 'parameter'],
      ['h', 'parameter'],
      ['dtype', 'constant'],
      ['BM', 'tunable'],
      ['BF', 'tunable'],
      ['BK', 'tunable'],
      ['WARPS', 'tunable'],
      ['STAGES', 'tunable'],
    ]);
    expect(up.children.find((c) => c.name === 'BM')?.detail).toBe('BM in [64, 128] = 64');
  });
});

describe('semantic tokens', () => {
  it('classify keywords, kernels, parameters, tunables, locals, builtins, types, numbers and comments', () => {
    const t = kernelText('gemm');
    const toks = serviceWith(GEMM, t).semanticTokens(GEMM);
    const at = (needle: string, nth = 0, delta = 0) => {
      const p = pos(t, needle, nth, delta);
      return toks.find((x) => x.line === p.line && x.character === p.character);
    };
    expect(at('kernel')).toMatchObject({ type: 'keyword', length: 6 });
    expect(at('gemm(')).toMatchObject({ type: 'function', modifiers: ['declaration'] });
    expect(at('a[m0')).toMatchObject({ type: 'parameter', modifiers: [] });
    expect(at('BM in')).toMatchObject({ type: 'enumMember', modifiers: ['declaration', 'readonly'] });
    expect(at('acc)')).toMatchObject({ type: 'variable', modifiers: [] });
    expect(at('m0 =')).toMatchObject({ type: 'variable', modifiers: ['declaration', 'readonly'] });
    expect(at('dot(')).toMatchObject({ type: 'function', modifiers: ['defaultLibrary'] });
    expect(at('pipelined')).toMatchObject({ type: 'function', modifiers: ['defaultLibrary'] });
    expect(at('f32)')).toMatchObject({ type: 'type' });
    expect(at('dtype: type')).toMatchObject({ type: 'macro' });
    expect(at('type in', 0)).toMatchObject({ type: 'type' });
    expect(at('128 * 256')).toMatchObject({ type: 'number', length: 3 });
    expect(at('// GEMM')).toMatchObject({ type: 'comment', length: t.split('\n')[0]!.length });
    expect(at('M, K]')).toMatchObject({ type: 'typeParameter' });
  });

  it('split a block comment per line and encode relative to the previous token', () => {
    const text = 'kernel k(x: f32[N]) grid [1] {\n  /* two\n  lines */\n}\n';
    const toks = serviceWith('file:///c.tile', text).semanticTokens('file:///c.tile');
    const comments = toks.filter((x) => x.type === 'comment');
    expect(comments.map((c) => [c.line, c.character, c.length])).toEqual([
      [1, 2, 6],
      [2, 0, 10],
    ]);
    const data = encodeSemanticTokens(toks);
    expect(data.length).toBe(toks.length * 5);
    expect(data.slice(0, 5)).toEqual([0, 0, 6, 0, 0]); // `kernel`
  });
});

describe('formatting', () => {
  it('leaves the shipped kernels as they are', () => {
    for (const name of ['gemm', 'attention', 'mlp']) {
      const ls = serviceWith(`file:///k/${name}.tile`, kernelText(name));
      expect(ls.format(`file:///k/${name}.tile`)).toEqual([]);
    }
  });

  const MESSY = [
    'kernel scale(x: f16[N],',
    '             y: f16[N], s: f32)   ',
    '    tune { B in [64, 128] = 128; }',
    'grid [cdiv(N, B)]',
    '{',
    'let i0 = program_id(0)*B;',
    '      // keeps its words  ',
    '   if i0   <N {',
    '\tlet t = load(x[i0 : B])  as f32;',
    '  store(y[i0 : B], (t*s +',
    '        1.0) as f16);',
    '        }',
    '  /* a block',
    '       comment */',
    '}',
    '',
  ].join('\n');
  const TIDY = [
    'kernel scale(x: f16[N],',
    '             y: f16[N], s: f32)',
    '  tune { B in [64, 128] = 128; }',
    '  grid [cdiv(N, B)]',
    '{',
    '  let i0 = program_id(0) * B;',
    '  // keeps its words',
    '  if i0 < N {',
    '    let t = load(x[i0 : B])  as f32;',
    '    store(y[i0 : B], (t * s +',
    '        1.0) as f16);',
    '  }',
    '  /* a block',
    '       comment */',
    '}',
    '',
  ].join('\n');

  function applyEdits(text: string, edits: ReturnType<LanguageService['format']>): string {
    const lines = text.split('\n');
    for (const e of edits) {
      expect(e.range.start.line).toBe(e.range.end.line);
      lines[e.range.start.line] = e.newText;
    }
    return lines.join('\n');
  }

  it('indents by braces, spaces binary operators, strips trailing whitespace, keeps continuations and comments', () => {
    const ls = serviceWith('file:///m.tile', MESSY);
    const once = applyEdits(MESSY, ls.format('file:///m.tile'));
    expect(once).toBe(TIDY);
  });

  it('is idempotent', () => {
    const ls = serviceWith('file:///m.tile', MESSY);
    const once = applyEdits(MESSY, ls.format('file:///m.tile'));
    ls.update('file:///m.tile', once, 2);
    expect(ls.format('file:///m.tile')).toEqual([]);
  });

  it('refuses a file with syntax errors', () => {
    const bad = MESSY.replace('let i0 =', 'let i0');
    const ls = serviceWith('file:///m.tile', bad);
    expect(ls.diagnostics('file:///m.tile').some((d) => d.code.startsWith('TK0'))).toBe(true);
    expect(ls.format('file:///m.tile')).toEqual([]);
  });
});

describe('robustness', () => {
  it('a request that throws inside is caught: empty answer plus an error record', () => {
    const seen: RequestError[] = [];
    const ls = serviceWith(GEMM, kernelText('gemm'), {
      onError: (e) => seen.push(e),
      onRequest: (r) => {
        if (r === 'hover') throw new Error('boom');
      },
    });
    expect(ls.hover(GEMM, { line: 1, character: 8 })).toBeUndefined();
    expect(seen).toMatchObject([{ request: 'hover', uri: GEMM, message: 'boom' }]);
    expect(ls.errors).toHaveLength(1);
    // Other requests still work.
    expect(ls.documentSymbols(GEMM)).toHaveLength(1);
  });

  it('a checker failure is contained, and the last good analysis keeps answering', () => {
    let fail = false;
    const ls = new LanguageService({
      check: (src) => {
        if (fail) throw new Error('checker bug');
        return checkSource(src);
      },
    });
    ls.update(SMALL_URI, SMALL);
    expect(ls.diagnostics(SMALL_URI)).toEqual([]);
    fail = true;
    ls.update(SMALL_URI, SMALL + '\n', 2);
    expect(ls.diagnostics(SMALL_URI)).toEqual([]);
    expect(ls.errors.map((e) => [e.request, e.message])).toEqual([['analyze', 'checker bug']]);
    expect(ls.hover(SMALL_URI, pos(SMALL, 'var u', 0, 4))?.contents).toContain('var u: f32[128]');
  });

  it('answers from the last good analysis while the text has syntax errors', () => {
    const ls = serviceWith(SMALL_URI, SMALL);
    expect(ls.documentSymbols(SMALL_URI)).toHaveLength(1);
    const broken = SMALL.replace('store(y[i0 : B], u as f16);', 'store(y[i0 : B], u as');
    ls.update(SMALL_URI, broken, 2);
    expect(ls.diagnostics(SMALL_URI).some((d) => d.code.startsWith('TK0'))).toBe(true);
    expect(ls.hover(SMALL_URI, pos(SMALL, 'var u', 0, 4))?.contents).toContain('var u: f32[128]');
    expect(ls.inlayHints(SMALL_URI).map((h) => h.label)).toEqual([': i32', ': f32[128]', ': f32[128]']);
    // Completion works on the current (partial) text.
    expect(ls.completion(SMALL_URI, pos(broken, 'u as', 0, 4)).map((i) => i.label)).toContain('f16');
  });

  it('answers nothing for an unknown document', () => {
    const ls = new LanguageService();
    expect(ls.diagnostics('file:///none.tile')).toEqual([]);
    expect(ls.hover('file:///none.tile', { line: 0, character: 0 })).toBeUndefined();
    expect(ls.errors).toEqual([]);
  });
});
