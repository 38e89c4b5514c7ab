import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../dsl/diagnostic.js';
import { extractTileTemplates, hasTopLevelKernel } from '../../dsl/extract-templates.js';
import { loadSourceFile } from '../../dsl/load-source.js';
import type { SourceText } from '../../dsl/source.js';
import { tile, TileTemplate } from '../../dsl/template.js';

/** Line and column (1-based) of the `nth` occurrence of `needle` in `text`, computed by hand. */
function locate(text: string, needle: string, nth = 0): { line: number; column: number; offset: number } {
  let offset = -1;
  for (let k = 0; k <= nth; k++) {
    offset = text.indexOf(needle, offset + 1);
    if (offset < 0) throw new Error(`'${needle}' #${nth} not in text`);
  }
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column, offset };
}

/** Line and column of `needle` in the host text. */
function at(text: string, needle: string, nth = 0): { line: number; column: number } {
  const { line, column } = locate(text, needle, nth);
  return { line, column };
}

/** The host position of `needle` in the tile text of `src`, via the host map. */
function mapped(src: SourceText, needle: string, nth = 0): { line: number; column: number } {
  return src.position(locate(src.text, needle, nth).offset);
}

/** The caret line that formatDiagnostic draws for a position. */
function caretLine(lineNo: number, column: number): string {
  return `${' '.repeat(String(lineNo).length)} | ${' '.repeat(column - 1)}^`;
}

describe('tile tag (runtime)', () => {
  it('splices numbers, booleans, strings and fragments', () => {
    const body = tile`let y = x * ${2};`;
    const t = tile`kernel k(a: ${'f16'}[M]) const { c: bool = ${true}; } grid [${64}] { let x = ${1.5}; ${body} }`;
    expect(t).toBeInstanceOf(TileTemplate);
    expect(t.text).toBe('kernel k(a: f16[M]) const { c: bool = true; } grid [64] { let x = 1.5; let y = x * 2; }');
    expect(`${body}`).toBe('let y = x * 2;');
  });

  it('prints numbers so the tile lexer reads them back exactly', () => {
    expect(tile`${Infinity} ${-Infinity}`.text).toBe('inf -inf');
    expect(tile`${-3} ${0.1} ${1e-7} ${1e21} ${-0}`.text).toBe('-3 0.1 1e-7 1000000000000000000000 -0.0');
    expect(Number(tile`${0.1 + 0.2}`.text)).toBe(0.1 + 0.2);
    expect(() => tile`x = ${NaN};`).toThrow(/NaN/);
  });

  it('rejects values that are not tile code', () => {
    const bad = undefined as unknown as number;
    expect(() => tile`x = ${bad};`).toThrow(/interpolation #1 is undefined/);
  });

  it('uses raw strings and records where each piece came from', () => {
    const make = (n: number) => tile`a\n${n}b`;
    const frag = tile`F`;
    const t1 = make(1);
    const t2 = make(2);
    expect(t1.text).toBe('a\\n1b');
    expect(t1.pieces.map((p) => [p.textStart, p.length, p.index])).toEqual([
      [0, 3, 0],
      [4, 1, 1],
    ]);
    // Same call site, same literal array: a tool can map a piece back to its literal.
    expect(t1.pieces[0]?.literal).toBe(t2.pieces[0]?.literal);
    const outer = tile`<${frag}>`;
    expect(outer.text).toBe('<F>');
    expect(outer.pieces.map((p) => [p.textStart, p.length])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
    expect(outer.pieces[1]?.literal).toBe(frag.pieces[0]?.literal);
  });

  it('toSource gives a source with no host map', () => {
    const s = tile`kernel k() grid [1] {}`.toSource('mem.tile');
    expect(s.path).toBe('mem.tile');
    expect(s.text).toBe('kernel k() grid [1] {}');
    expect(s.host).toBeUndefined();
  });
});

describe('extractTileTemplates', () => {
  const host = [
    "import { tile } from 'tilekit/dsl';",
    'const N = 64;',
    "const DT = 'f16';",
    'const body = tile`',
    '  let y = oops + 1;',
    '`;',
    'export const k = tile`kernel k(a: ${DT}[M]) grid [${N}] {',
    '  let x = load(a[0 : ${-1}]) + bogus;',
    '  ${body}',
    '}`;',
    '',
  ].join('\n');
  const { sources, diagnostics, templates } = extractTileTemplates('host.ts', host);

  it('returns kernels, not fragments', () => {
    expect(diagnostics).toEqual([]);
    expect(templates).toBe(2);
    expect(sources).toHaveLength(1);
    expect(sources[0]?.path).toBe('host.ts');
    expect(sources[0]?.text).toBe('kernel k(a: f16[M]) grid [64] {\n  let x = load(a[0 : -1]) + bogus;\n  \n  let y = oops + 1;\n\n}');
  });

  it('maps offsets to host line and column for a template starting mid-line', () => {
    const src = sources[0]!;
    expect(mapped(src, 'kernel')).toEqual({ line: 7, column: locate(host, 'kernel k(').column });
    expect(locate(host, 'kernel k(').column).toBe(23);
    expect(mapped(src, 'grid')).toEqual(at(host, 'grid ['));
  });

  it('maps offsets after interpolated values', () => {
    const src = sources[0]!;
    expect(mapped(src, 'bogus')).toEqual(at(host, 'bogus'));
    expect(mapped(src, ']) +')).toEqual(at(host, ']) + bogus'));
    // A string constant written without escapes maps to the constant's own text.
    expect(mapped(src, 'f16')).toEqual(at(host, 'f16'));
    // Inside an interpolated number there is no host text: pin to the end of the literal before it.
    expect(mapped(src, '64')).toEqual(at(host, '${N}'));
  });

  it('maps offsets inside a fragment to the fragment in the host file', () => {
    const src = sources[0]!;
    expect(mapped(src, 'oops')).toEqual({ line: 5, column: 11 });
    expect(mapped(src, 'oops')).toEqual(at(host, 'oops'));
  });

  it('composes the same text as the runtime tag', () => {
    const NN = 64;
    const rt = tile`kernel k() grid [${NN}] { let x = ${-1.5} * ${2}; let b = ${false}; let z = ${Infinity}; }`;
    const h = 'const NN = 64;\nconst t = tile`kernel k() grid [${NN}] { let x = ${-1.5} * ${2}; let b = ${false}; let z = ${Infinity}; }`;\n';
    const ex = extractTileTemplates('h.ts', h);
    expect(ex.diagnostics).toEqual([]);
    expect(ex.sources[0]?.text).toBe(rt.text);
  });

  it('normalises CRLF as raw strings do, keeping host positions', () => {
    const h = 'const t = tile`kernel k()\r\n  grid [1]\r\n{ bad }`;\r\n';
    const ex = extractTileTemplates('crlf.ts', h);
    const src = ex.sources[0]!;
    expect(src.text).toBe('kernel k()\n  grid [1]\n{ bad }');
    expect(mapped(src, 'grid')).toEqual({ line: 2, column: 3 });
    expect(mapped(src, 'bad')).toEqual({ line: 3, column: 3 });
  });

  it('reports TK0101 at an interpolation it cannot resolve', () => {
    const h = ['const t = tile`kernel k() grid [1] {', '  let x = ${compute(3)};', '}`;', ''].join('\n');
    const ex = extractTileTemplates('dyn.ts', h);
    expect(ex.sources).toEqual([]);
    expect(ex.diagnostics).toHaveLength(1);
    const { source, diagnostic } = ex.diagnostics[0]!;
    expect(diagnostic.code).toBe('TK0101');
    expect(diagnostic.message).toBe('cannot resolve interpolation `compute(3)` statically');
    expect(diagnostic.hint).toMatch(/top-level consts/);
    const where = at(h, 'compute(3)');
    expect(source.position(diagnostic.span.start)).toEqual(where);
    const text = formatDiagnostic(diagnostic, source);
    expect(text).toContain(`dyn.ts:${where.line}:${where.column}`);
    expect(text).toContain(`${caretLine(where.line, where.column)}^^^^^^^^^\n`);
  });

  it('does not resolve a name that a local binding shadows', () => {
    const h = 'const N = 1;\nfunction f(N: number) { return tile`kernel k() grid [${N}] {}`; }\n';
    const ex = extractTileTemplates('shadow.ts', h);
    expect(ex.diagnostics.map((d) => d.diagnostic.code)).toEqual(['TK0101']);
    expect(ex.diagnostics[0]!.diagnostic.span.start).toBe(locate(h, '${N}').offset + 2);
  });

  it('detects fragments that refer to themselves without hanging', () => {
    const h = [
      'const a = tile`let p = 1; ${b}`;',
      'const b = tile`let q = 2; ${a}`;',
      'const k = tile`kernel k() grid [1] { ${a} }`;',
      '',
    ].join('\n');
    const ex = extractTileTemplates('cycle.ts', h);
    expect(ex.sources).toEqual([]);
    expect(ex.diagnostics).toHaveLength(1);
    const { source, diagnostic } = ex.diagnostics[0]!;
    expect(diagnostic.code).toBe('TK0104');
    expect(diagnostic.message).toBe('fragment `a` refers to itself');
    // Reported where the cycle closes: `${a}` inside `b`, while composing `a`.
    const where = at(h, '${a}');
    expect(where.line).toBe(2);
    expect(source.position(diagnostic.span.start)).toEqual({ line: where.line, column: where.column + 2 });
    expect(formatDiagnostic(diagnostic, source)).toContain(caretLine(where.line, where.column + 2));
  });

  it('resolves negated, aliased and `as const` constants and inline templates', () => {
    const h = "const A = 8 as const;\nconst B = A;\nconst t = tile`kernel k() grid [${-B}, ${(A)}] { ${tile`let z = 1;`} }`;\n";
    const ex = extractTileTemplates('c.ts', h);
    expect(ex.diagnostics).toEqual([]);
    expect(ex.templates).toBe(2);
    expect(ex.sources.map((s) => s.text)).toEqual(['kernel k() grid [-8, 8] { let z = 1; }']);
  });

  it('does not return a kernel template again when another returned template splices it', () => {
    const h = "const one = tile`kernel a() grid [1] {}`;\nconst both = tile`${one}\nkernel b() grid [1] {}`;\n";
    const ex = extractTileTemplates('two.ts', h);
    expect(ex.sources.map((s) => s.text)).toEqual(['kernel a() grid [1] {}\nkernel b() grid [1] {}']);
    expect(mapped(ex.sources[0]!, 'kernel a')).toEqual(at(h, 'kernel a'));
  });

  it('finds a top-level kernel keyword only outside brackets and comments', () => {
    expect(hasTopLevelKernel('// kernel\n let x = 1;')).toBe(false);
    expect(hasTopLevelKernel('{ kernel }')).toBe(false);
    expect(hasTopLevelKernel('kernels')).toBe(false);
    expect(hasTopLevelKernel('/* x */ kernel k() grid [1] {}')).toBe(true);
  });
});

describe('loadSourceFile', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tilekit-template-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a .tile file as one source', async () => {
    const p = join(dir, 'k.tile');
    await writeFile(p, 'kernel k() grid [1] {}\n');
    const r = await loadSourceFile(p);
    expect(r.diagnostics).toEqual([]);
    expect(r.sources.map((s) => [s.path, s.text])).toEqual([[p, 'kernel k() grid [1] {}\n']]);
  });

  it('extracts templates from a .ts file', async () => {
    const p = join(dir, 'k.ts');
    const h = '\ufeffconst x = 1;\nexport const k = tile`kernel k() grid [1] { oops }`;\n';
    await writeFile(p, h);
    const r = await loadSourceFile(p);
    expect(r.diagnostics).toEqual([]);
    expect(r.sources).toHaveLength(1);
    // The byte-order mark is dropped, so columns are the ones an editor shows.
    expect(mapped(r.sources[0]!, 'oops')).toEqual({ line: 2, column: 45 });
  });

  it('reports TK0102 for an unsupported file type', async () => {
    const p = join(dir, 'k.py');
    const r = await loadSourceFile(p);
    expect(r.sources).toEqual([]);
    const { source, diagnostic } = r.diagnostics[0]!;
    expect(diagnostic.code).toBe('TK0102');
    expect(diagnostic.severity).toBe('error');
    expect(diagnostic.message).toBe("unsupported file type '.py': expected a .tile file or a .ts file with tile`…` templates");
    const text = formatDiagnostic(diagnostic, source);
    expect(text).toContain(`${p}:1:1`);
    expect(text).toContain(caretLine(1, 1));
  });

  it('reports TK0100 with the OS error for a file that cannot be read', async () => {
    const p = join(dir, 'missing.tile');
    const r = await loadSourceFile(p);
    expect(r.sources).toEqual([]);
    const { source, diagnostic } = r.diagnostics[0]!;
    expect(diagnostic.code).toBe('TK0100');
    expect(diagnostic.message).toMatch(/ENOENT/);
    expect(diagnostic.span).toEqual({ start: 0, end: 0 });
    const text = formatDiagnostic(diagnostic, source);
    expect(text).toContain(`${p}:1:1`);
    expect(text).toContain(caretLine(1, 1));
  });

  it('warns TK0103 for a .ts file without tile templates', async () => {
    const p = join(dir, 'none.ts');
    await writeFile(p, 'export const x = 1;\n');
    const r = await loadSourceFile(p);
    expect(r.sources).toEqual([]);
    const { source, diagnostic } = r.diagnostics[0]!;
    expect(diagnostic.code).toBe('TK0103');
    expect(diagnostic.severity).toBe('warning');
    expect(diagnostic.message).toBe(`no tile\`…\` templates found in ${p}`);
    const text = formatDiagnostic(diagnostic, source);
    expect(text).toContain(`warning[TK0103]`);
    expect(text).toContain(`${p}:1:1`);
    expect(text).toContain(caretLine(1, 1));
  });

  it('warns TK0103 when every template is a fragment', async () => {
    const p = join(dir, 'frags.ts');
    await writeFile(p, 'export const body = tile`let x = 1;`;\n');
    const r = await loadSourceFile(p);
    expect(r.sources).toEqual([]);
    expect(r.diagnostics.map((d) => d.diagnostic.code)).toEqual(['TK0103']);
    expect(r.diagnostics[0]!.diagnostic.message).toMatch(/fragment without `kernel`/);
  });

  it('passes TK0101 from a .ts file through', async () => {
    const p = join(dir, 'dyn.ts');
    await writeFile(p, 'let n = 2;\nexport const k = tile`kernel k() grid [${n}] {}`;\n');
    const r = await loadSourceFile(p);
    expect(r.sources).toEqual([]);
    const { source, diagnostic } = r.diagnostics[0]!;
    expect(diagnostic.code).toBe('TK0101');
    expect(formatDiagnostic(diagnostic, source)).toContain(`${p}:2:42`);
    expect(formatDiagnostic(diagnostic, source)).toContain(caretLine(2, 42));
  });
});
