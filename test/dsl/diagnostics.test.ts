/**
 * One test per checker / configuration diagnostic code: the code, and where its caret lands.
 * (Syntax codes TK00xx are tested in parser.test.ts, source-loading codes TK01xx in template.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { buildKernelIR } from '../../compiler/compile.js';
import { checkSource } from '../../dsl/check-source.js';
import { type Diagnostic, formatDiagnostic } from '../../dsl/diagnostic.js';
import { extractTileTemplates } from '../../dsl/extract-templates.js';
import { SourceText } from '../../dsl/source.js';

function kernel(body: string, opts: { params?: string; tune?: string; consts?: string; grid?: string } = {}): string {
  return [
    `kernel k(${opts.params ?? 'x: f32[N], y: f32[N]'})`,
    opts.consts ? `  const { ${opts.consts} }` : '',
    `  tune { ${opts.tune ?? 'B in [64, 128];'} }`,
    `  grid ${opts.grid ?? '[cdiv(N, B)]'}`,
    '{',
    `  ${body}`,
    '}',
    '',
  ].join('\n');
}

interface Case {
  code: string;
  text: string;
  /** The diagnostic's span starts at the first occurrence of this text (after `after`, if given). */
  at: string;
  after?: string;
}

const cases: Case[] = [
  { code: 'TK1001', text: kernel('let a = load(x[i0 : B]);'), at: 'i0' },
  { code: 'TK1002', text: kernel('let B = 1;'), at: 'B = 1' },
  { code: 'TK1002', text: kernel('let a = 1; let a = 2;'), at: 'a = 2' },
  { code: 'TK1003', text: kernel('let a = 1; a = 2;'), at: 'a = 2' },
  { code: 'TK1003', text: kernel('N = 2;'), at: 'N = 2' },
  { code: 'TK1004', text: kernel('let a = foo(1);'), at: 'foo' },
  { code: 'TK1005', text: kernel('let a = 1;', { params: 'x: f17[N], y: f32[N]' }), at: 'f17' },
  { code: 'TK1005', text: kernel('let a = 1 as f17;'), at: 'f17' },
  { code: 'TK1005', text: kernel('let a = 1;', { consts: 'c: integer = 1;' }), at: 'integer' },
  { code: 'TK1006', text: kernel('let a = 1;') + kernel('let b = 1;'), at: 'k(', after: 'let a' },
  { code: 'TK1007', text: kernel('let a = arange(1, 2);'), at: 'arange(1, 2)' },
  { code: 'TK1007', text: kernel('let a = sum(arange(B), dim = 0);'), at: 'dim' },
  { code: 'TK1009', text: kernel('let a = 1;', { grid: '[1, 1, 1, 1]' }), at: 'grid' },
  { code: 'TK2001', text: kernel('let a = load(x[0 : B]) + true;'), at: 'load(x' },
  { code: 'TK2001', text: kernel('let a = x + 1;'), at: 'x + 1' },
  { code: 'TK2002', text: kernel('let a = arange(B) + arange(32);'), at: 'arange(B) +' },
  { code: 'TK2003', text: kernel('let a = dot(zeros([B, 16]), zeros([32, B]));'), at: 'dot(' },
  { code: 'TK2004', text: kernel('let a = sum(zeros([B, 4]), axis = 5);'), at: '5)' },
  { code: 'TK2004', text: kernel('let a = program_id(1);'), at: '1)' },
  { code: 'TK2005', text: kernel('let a = zeros([0, B]);'), at: '0, B' },
  { code: 'TK2005', text: kernel('let a = load(x[0 : N]);'), at: 'N])', after: 'load' },
  { code: 'TK2006', text: kernel('store(y[0 : B], zeros([B], f16));'), at: 'zeros([B], f16)' },
  { code: 'TK2007', text: kernel('let a = load(x[0 : B, 0 : B]);'), at: 'x[0' },
  { code: 'TK2007', text: kernel('let a = arange(B)[:, :];'), at: 'arange(B)[' },
  { code: 'TK2008', text: kernel('let a = zeros([B], f16) + zeros([B], bf16);'), at: 'zeros([B], f16) +' },
  { code: 'TK2009', text: kernel('let a = zeros([B], f8e4m3) * 2.0;'), at: 'zeros([B], f8e4m3) *' },
  { code: 'TK2010', text: kernel('if 1 { }'), at: '1 {' },
  { code: 'TK2012', text: kernel('store(y[0 : B], zeros([32]));'), at: 'zeros([32])' },
  { code: 'TK2014', text: kernel('var a = zeros([B], f32); a = zeros([B], f16);'), at: 'zeros([B], f16)' },
  { code: 'TK2016', text: kernel('let a = B / 0;'), at: 'B / 0' },
  { code: 'TK2017', text: kernel('for i in range(0, N, program_id(0)) { }'), at: 'program_id(0))' },
  { code: 'TK2018', text: kernel('let a = arange(B)[None, 3];'), at: '3]' },
  { code: 'TK2018', text: kernel('let a = load(x[:]);'), at: ':]' },
  { code: 'TK2019', text: kernel('arange(B);'), at: 'arange(B);' },
  { code: 'TK2020', text: kernel('for i in 10 { }'), at: '10' },
  { code: 'TK1002', text: kernel('let f16 = 1.0;'), at: 'f16 = 1.0' },
  { code: 'TK1002', text: kernel('let a = 1;', { params: 'x: f32[N], y: f32[N], inf: f32' }), at: 'inf: f32' },
  { code: 'TK1007', text: kernel('let a = sum(arange(B), axis = 0, axis = 0);'), at: 'axis = 0)' , after: 'axis = 0,' },
  { code: 'TK1010', text: kernel('let a = 1;', { grid: '[program_id(0) + 1]' }), at: 'program_id(0) + 1' },
  { code: 'TK1010', text: kernel('let a = 1;', { params: 'x: i32[N], y: f32[N]', grid: '[load(x[0])]' }), at: 'load(x[0])' },
  { code: 'TK2001', text: kernel('let a = full([B], 2.5, i32);'), at: '2.5' },
  { code: 'TK2006', text: kernel('store(y[0 : 4], where(arange(4) < 2, 1, 2) < 2);'), at: 'where(' },
  { code: 'TK2006', text: kernel('let a = load(x[0 : 4], other = -inf);', { params: 'x: i32[N], y: f32[N]' }), at: '-inf' },
  { code: 'TK2006', text: kernel('store(y[0 : 4], 5);', { params: 'x: f32[N], y: bool[N]' }), at: '5)' },
  { code: 'TK2014', text: kernel('var v = 0; v = true;'), at: 'true' },
  { code: 'TK2021', text: kernel('let a = 3000000000;'), at: '3000000000' },
  { code: 'TK2022', text: kernel('let a = zeros([100000, 100000], f32);'), at: '[100000, 100000]' },
  { code: 'TK2022', text: kernel('store(y[0 : 2147483647], zeros([64], f32));'), at: 'y[0 : 2147483647]' },
  { code: 'TK3001', text: kernel('let a = 1;', { tune: 'B in [64, Q];' }), at: 'Q]' },
  { code: 'TK3002', text: kernel('let a = 1;', { tune: 'B in [64, 128] = 32;' }), at: '32', after: 'B in' },
  { code: 'TK3003', text: kernel('let a = 1;', { tune: 'B in [64]; require B + 1;' }), at: 'B + 1' },
  { code: 'TK3004', text: kernel('let a = 1;', { tune: 'B in [128, 64]; require B <= 64;' }), at: 'B <= 64' },
  { code: 'TK3008', text: kernel('let a = 1;', { tune: 'B in [64]; require B > 64;' }), at: 'k(' },
];

function at(text: string, c: Case): number {
  const from = c.after ? text.indexOf(c.after) : 0;
  const i = text.indexOf(c.at, from);
  if (i < 0) throw new Error(`test bug: '${c.at}' not in source`);
  return i;
}

function render(ds: readonly Diagnostic[], src: SourceText): string {
  return ds.map((d) => formatDiagnostic(d, src)).join('\n');
}

describe('checker diagnostics', () => {
  it.each(cases)('$code at `$at`', (c) => {
    const src = new SourceText('case.tile', c.text);
    const { diagnostics } = checkSource(src);
    const d = diagnostics.find((x) => x.code === c.code);
    expect(d, `no ${c.code} in:\n${render(diagnostics, src)}`).toBeDefined();
    expect(d!.span.start, render([d!], src)).toBe(at(c.text, c));
    expect(d!.message.length).toBeGreaterThan(10);
  });

  it('every code above renders with a caret under its span', () => {
    const c = cases.find((x) => x.code === 'TK2002')!;
    const src = new SourceText('case.tile', c.text);
    const out = formatDiagnostic(checkSource(src).diagnostics[0]!, src);
    expect(out).toContain('error[TK2002]');
    expect(out).toContain('--> case.tile:6:11');
    expect(out).toMatch(/\n {2}\| {11}\^{22}\n/);
    expect(out).toContain('hint:');
  });

  it('reports every error of a file, across statements and kernels', () => {
    const text = kernel('let a = foo(1);\n  let b = arange(B) + arange(32);\n  let c = zeros([0]);') + kernel('let d = unknown;').replace('kernel k', 'kernel k2');
    const src = new SourceText('many.tile', text);
    const codes = checkSource(src).diagnostics.map((d) => d.code);
    expect(codes, JSON.stringify(checkSource(src).diagnostics)).toEqual(['TK1004', 'TK2002', 'TK2005', 'TK1001']);
  });

  it('an error that only one configuration triggers is found and names that configuration', () => {
    const src = new SourceText('cfg.tile', kernel('store(y[0 : B], zeros([64]));'));
    const d = checkSource(src).diagnostics.find((x) => x.code === 'TK2012');
    expect(d?.notes?.[0]).toContain('B=128');
  });
});

describe('check in every configuration', () => {
  it('TK3009: a space too large to check whole is a warning that says how much was checked', () => {
    const tune = ['A', 'B2', 'C', 'D'].map((n) => `${n} in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];`).join(' ') + ' B in [64];';
    const src = new SourceText('big.tile', kernel('let a = 1;', { tune }));
    const d = checkSource(src).diagnostics;
    const w = d.find((x) => x.code === 'TK3009');
    expect(w?.severity).toBe('warning');
    expect(w?.message).toContain('4096');
    expect(d.filter((x) => x.severity === 'error')).toEqual([]);
  });

  it('TK3010: a constant with no value to check the body with is a warning, not an error', () => {
    const src = new SourceText('c.tile', kernel('let a = 1;', { consts: 'n: int;' }));
    const d = checkSource(src).diagnostics;
    expect(d.map((x) => [x.code, x.severity])).toEqual([['TK3010', 'warning']]);
  });

  it('a float or bool constant without a default is checked with stand-in values, and body errors still show', () => {
    const src = new SourceText('c.tile', kernel('let a = qq;', { consts: 'eps: float; flag: bool;' }));
    expect(checkSource(src).diagnostics.map((x) => x.code)).toEqual(['TK1001']);
  });

  it('a default that violates require is reported, and the body is still checked in the other configurations', () => {
    const src = new SourceText('c.tile', kernel('let a = qq;', { tune: 'B in [64, 32] = 64; require B < 64;' }));
    const d = checkSource(src).diagnostics;
    expect(d.map((x) => x.code)).toEqual(['TK3004', 'TK1001']);
    expect(d[0]!.hint).toContain('change a default');
  });

  it('a failed let does not add "unknown name" errors at its uses', () => {
    const src = new SourceText('c.tile', kernel('let b = y;\n  store(y[0 : B], b);'));
    expect(checkSource(src).diagnostics.map((x) => x.code)).toEqual(['TK2001']);
  });

  it('short names get no far-fetched suggestions', () => {
    const src = new SourceText('c.tile', kernel('let a = q;'));
    expect(checkSource(src).diagnostics[0]?.hint).toBeUndefined();
  });

  it('a tab before the error keeps the caret under it', () => {
    const text = kernel('\tlet a = qq;');
    const src = new SourceText('t.tile', text);
    const out = formatDiagnostic(checkSource(src).diagnostics[0]!, src);
    expect(out).toContain('\n  |   \t        ^^');
  });
});

describe('build-time configuration diagnostics', () => {
  const text = kernel('store(y[0 : B], load(x[0 : B]));', { tune: 'B in [64, 128]; require B <= 64;', consts: 'c: bool = false;' });
  const build = (o: Record<string, string>, name: string | undefined = 'k') => buildKernelIR(new SourceText('b.tile', text), name, new Map(Object.entries(o)));

  it('TK1008: unknown kernel name', () => {
    expect(build({}, 'nope').diagnostics[0]?.code).toBe('TK1008');
  });
  it('TK3004: a configuration that violates require', () => {
    const d = build({ B: '128' }).diagnostics[0]!;
    expect(d.code).toBe('TK3004');
    expect(d.span.start).toBe(text.indexOf('B <= 64'));
  });
  it('TK3007: a constant without a default that was not given', () => {
    const src = new SourceText('c.tile', kernel('let a = 1;', { consts: 'c: bool;' }));
    const d = buildKernelIR(src, 'k', new Map()).diagnostics[0]!;
    expect(d.code).toBe('TK3007');
    expect(d.span.start).toBe(src.text.indexOf('c: bool'));
    expect(buildKernelIR(src, 'k', new Map([['c', 'true']])).ir).toBeDefined();
  });
  it('TK3005: unknown configuration name', () => {
    const d = build({ Q: '1' }).diagnostics[0]!;
    expect(d.code).toBe('TK3005');
    expect(d.hint).toContain('B');
  });
  it('TK3006: a value that is not a candidate, or not of the kind', () => {
    expect(build({ B: '100' }).diagnostics[0]?.code).toBe('TK3006');
    expect(build({ c: 'yes' }).diagnostics[0]?.code).toBe('TK3006');
  });
  it('builds with the default configuration', () => {
    const r = build({});
    expect(r.diagnostics).toEqual([]);
    expect(r.ir?.config).toEqual({ c: false, B: 64 });
  });
});

describe('tile templates in TypeScript', () => {
  it('diagnostics carry positions in the host .ts file', () => {
    const host = [
      "import { tile } from 'tilekit/dsl';",
      'const W = 64;',
      'export const k = tile`',
      'kernel k(x: f32[N], y: f32[N]) tune { B in [${W}, 128]; } grid [cdiv(N, B)]',
      '{',
      '  let a = arange(B) + arange(32);',
      '}`;',
    ].join('\n');
    const { sources } = extractTileTemplates('host.ts', host);
    expect(sources).toHaveLength(1);
    const src = sources[0]!;
    const d = checkSource(src).diagnostics[0]!;
    expect(d.code).toBe('TK2002');
    expect(src.position(d.span.start)).toEqual({ line: 6, column: 11 });
    expect(formatDiagnostic(d, src)).toContain('--> host.ts:6:11');
  });
});
