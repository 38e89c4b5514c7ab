import { describe, expect, it } from 'vitest';
import type { Block, Expr, ForStmt, IfStmt, IndexItem, KernelDecl, LetStmt, Program, Stmt } from '../../dsl/ast.js';
import { MISSING } from '../../dsl/ast.js';
import type { Diagnostic } from '../../dsl/diagnostic.js';
import { Identifier, tokenize } from '../../dsl/lexer.js';
import { parseProgram } from '../../dsl/parser.js';
import { SourceText } from '../../dsl/source.js';
import type { Span } from '../../dsl/span.js';

const GEMM = `// C = A·B with f32 accumulation
kernel gemm(a: dtype[M, K], b: dtype[K, N], c: dtype[M, N])
  const { dtype: type in [f16, bf16] = f16; }
  tune {
    BM in [64, 128, 256] = 128;
    BN in [64, 128, 256] = 128;
    BK in [32, 64];
    WARPS in [4, 8];
    STAGES in [2, 3, 4] = 3;
    require BM * BN <= 128 * 256;
  }
  grid [cdiv(M, BM), cdiv(N, BN)]
{
  let m0 = program_id(0) * BM;
  let n0 = program_id(1) * BN;
  var acc = zeros([BM, BN], f32);
  for k0 in range(0, K, BK) pipelined(STAGES) {
    acc = dot(load(a[m0 : BM, k0 : BK]), load(b[k0 : BK, n0 : BN]), acc);
  }
  store(c[m0 : BM, n0 : BN], acc as dtype);
}
`;

function parse(text: string): { src: SourceText; program: Program; diagnostics: Diagnostic[] } {
  const src = new SourceText('test.tile', text);
  return { src, ...parseProgram(src) };
}

function slice(text: string, span: Span): string {
  return text.slice(span.start, span.end);
}

function only<T>(xs: readonly T[]): T {
  expect(xs).toHaveLength(1);
  return xs[0] as T;
}

/** A compact fully parenthesised rendering, to check tree shapes. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'Int':
    case 'Float':
    case 'Bool':
      return String(e.value);
    case 'Name':
      return e.name;
    case 'Error':
      return '<error>';
    case 'Binary':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'Unary':
      return `(${e.op}${show(e.operand)})`;
    case 'Cast':
      return `(${show(e.expr)} as ${e.type.name.name})`;
    case 'List':
      return `[${e.elements.map(show).join(', ')}]`;
    case 'Call':
      return `${e.callee.name}(${[...e.args.map(show), ...e.named.map((n) => `${n.name.name}=${show(n.value)}`)].join(', ')})`;
    case 'Index':
      return `${show(e.base)}[${e.items.map(showItem).join(', ')}]`;
  }
}

function showItem(i: IndexItem): string {
  switch (i.kind) {
    case 'Scalar':
      return show(i.expr);
    case 'Slice':
      return `${show(i.start)}:${show(i.size)}`;
    case 'Full':
      return ':';
    case 'NewAxis':
      return 'None';
  }
}

/** Parses `let x = <expr>;` in a kernel and returns the initialiser. */
function expr(text: string): { e: Expr; text: string } {
  const full = `kernel k() grid [1] { let x = ${text}; }`;
  const { program, diagnostics } = parse(full);
  expect(diagnostics).toEqual([]);
  const stmt = only(only(program.kernels).body.stmts) as LetStmt;
  return { e: stmt.init, text: full };
}

function kernelOf(text: string): KernelDecl {
  const { program, diagnostics } = parse(text);
  expect(diagnostics).toEqual([]);
  return only(program.kernels);
}

function posOf(src: SourceText, d: Diagnostic): { line: number; column: number } {
  return src.position(d.span.start);
}

const EXPR_KINDS = new Set(['Int', 'Float', 'Bool', 'Name', 'Binary', 'Unary', 'Call', 'Index', 'Cast', 'List', 'Error']);

/**
 * Checks what every later stage relies on: no field holds `undefined`, every span lies inside
 * the text, every node's children lie inside its span.
 */
function checkTree(value: unknown, textLength: number, path = 'program', outer?: Span): void {
  if (value === undefined) throw new Error(`${path} is undefined`);
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkTree(v, textLength, `${path}[${i}]`, outer));
    return;
  }
  const obj = value as Record<string, unknown>;
  let inner = outer;
  if ('span' in obj) {
    const s = obj['span'] as Span;
    const ok = Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.start <= s.end && s.end <= textLength;
    if (!ok) throw new Error(`${path}.span is ${JSON.stringify(s)} (text length ${textLength})`);
    if (outer && (s.start < outer.start || s.end > outer.end)) {
      throw new Error(`${path}.span ${JSON.stringify(s)} leaves its parent's ${JSON.stringify(outer)}`);
    }
    inner = s;
  }
  if (path.endsWith('.init') || path.endsWith('.value') || path.endsWith('.cond') || path.endsWith('.iterable')) {
    if (!EXPR_KINDS.has(String(obj['kind']))) throw new Error(`${path} is not an expression: ${String(obj['kind'])}`);
  }
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'span') continue;
    checkTree(v, textLength, `${path}.${k}`, inner);
  }
}

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('lexer', () => {
  it('keeps identifiers that start with a keyword whole', () => {
    const { tokens, diagnostics } = tokenize(new SourceText('test.tile', 'kernelx int_ letter iffy None_ as_f16'));
    expect(diagnostics).toEqual([]);
    expect(tokens.map((t) => t.tokenType)).toEqual(Array(6).fill(Identifier));
    expect(tokens.map((t) => t.image)).toEqual(['kernelx', 'int_', 'letter', 'iffy', 'None_', 'as_f16']);
  });

  it('skips whitespace and both kinds of comment', () => {
    const { tokens, diagnostics } = tokenize(new SourceText('test.tile', 'a // line\n/* block\n * more */ b /**/ c'));
    expect(diagnostics).toEqual([]);
    expect(tokens.map((t) => t.image)).toEqual(['a', 'b', 'c']);
  });

  it('reads integer and float literals', () => {
    const { e } = expr('[123, 0x7f, 0XFF, 1_000, 1.0, .5, 1e-3, 2.5e+4, 1., 1_0.2_5]');
    expect(e.kind).toBe('List');
    if (e.kind !== 'List') return;
    expect(e.elements.map((x) => x.kind)).toEqual(['Int', 'Int', 'Int', 'Int', 'Float', 'Float', 'Float', 'Float', 'Float', 'Float']);
    expect(e.elements.map((x) => (x.kind === 'Int' || x.kind === 'Float' ? x.value : NaN))).toEqual([
      123, 127, 255, 1000, 1.0, 0.5, 1e-3, 2.5e4, 1, 10.25,
    ]);
  });

  it('reads integers above 2^53 (as printed by formatTileNumber)', () => {
    const { e } = expr('1000000000000000000000');
    expect(e).toMatchObject({ kind: 'Int', value: 1e21 });
  });

  it('takes the longest operator', () => {
    const { tokens } = tokenize(new SourceText('test.tile', 'a += b <= c == d != e && f || g -= h *= i /= j'));
    expect(tokens.map((t) => t.image)).toEqual(['a', '+=', 'b', '<=', 'c', '==', 'd', '!=', 'e', '&&', 'f', '||', 'g', '-=', 'h', '*=', 'i', '/=', 'j']);
  });
});

describe('parser: the sample kernel', () => {
  const { program, diagnostics } = parse(GEMM);

  it('parses without diagnostics', () => {
    expect(diagnostics).toEqual([]);
    expect(program.kernels).toHaveLength(1);
  });

  it('reads the header', () => {
    const k = only(program.kernels);
    expect(k.name.name).toBe('gemm');
    expect(slice(GEMM, k.span)).toMatch(/^kernel gemm\(.*\}$/s);
    expect(k.span.end).toBe(GEMM.trimEnd().length);
    expect(k.params.map((p) => p.kind)).toEqual(['TensorParam', 'TensorParam', 'TensorParam']);
    const a = k.params[0];
    expect(a?.kind === 'TensorParam' && a.dims.map((d) => (d.kind === 'DimName' ? d.name.name : d.value))).toEqual(['M', 'K']);
    expect(a && slice(GEMM, a.span)).toBe('a: dtype[M, K]');
    expect(a?.dtype.name.name).toBe('dtype');

    const c = only(k.consts);
    expect(c.name.name).toBe('dtype');
    expect(c.type.kind).toBe('type');
    expect(c.candidates?.map(show)).toEqual(['f16', 'bf16']);
    expect(c.default && show(c.default)).toBe('f16');
    expect(slice(GEMM, c.span)).toBe('dtype: type in [f16, bf16] = f16');

    expect(k.tunables.map((t) => t.name.name)).toEqual(['BM', 'BN', 'BK', 'WARPS', 'STAGES']);
    expect(k.tunables.map((t) => (t.default ? show(t.default) : null))).toEqual(['128', '128', null, null, '3']);
    expect(k.tunables[0]?.candidates.map(show)).toEqual(['64', '128', '256']);
    expect(k.tunables[0] && slice(GEMM, k.tunables[0].span)).toBe('BM in [64, 128, 256] = 128');
    expect(k.requires.map(show)).toEqual(['((BM * BN) <= (128 * 256))']);

    expect(k.grid.map(show)).toEqual(['cdiv(M, BM)', 'cdiv(N, BN)']);
    expect(slice(GEMM, k.gridSpan)).toBe('grid [cdiv(M, BM), cdiv(N, BN)]');
  });

  it('reads the body with exact spans', () => {
    const k = only(program.kernels);
    const body = k.body;
    expect(body.stmts.map((s) => s.kind)).toEqual(['Let', 'Let', 'Let', 'For', 'ExprStmt']);
    expect(slice(GEMM, body.span)).toMatch(/^\{\n {2}let m0.*\}$/s);

    const m0 = body.stmts[0] as LetStmt;
    expect(m0.mutable).toBe(false);
    expect(slice(GEMM, m0.span)).toBe('let m0 = program_id(0) * BM;');
    expect(slice(GEMM, m0.init.span)).toBe('program_id(0) * BM');
    const acc = body.stmts[2] as LetStmt;
    expect(acc.mutable).toBe(true);
    expect(show(acc.init)).toBe('zeros([BM, BN], f32)');

    const loop = body.stmts[3] as ForStmt;
    expect(loop.variable.name).toBe('k0');
    expect(show(loop.iterable)).toBe('range(0, K, BK)');
    expect(loop.pipelined && show(loop.pipelined)).toBe('STAGES');
    expect(slice(GEMM, loop.span)).toMatch(/^for k0 in range\(0, K, BK\) pipelined\(STAGES\) \{.*\}$/s);

    const assign = only(loop.body.stmts);
    expect(assign.kind).toBe('Assign');
    if (assign.kind !== 'Assign') return;
    expect(assign.target.name).toBe('acc');
    expect(assign.op).toBe('=');
    expect(slice(GEMM, assign.span)).toBe('acc = dot(load(a[m0 : BM, k0 : BK]), load(b[k0 : BK, n0 : BN]), acc);');
    const dot = assign.value;
    expect(slice(GEMM, dot.span)).toBe('dot(load(a[m0 : BM, k0 : BK]), load(b[k0 : BK, n0 : BN]), acc)');
    expect(dot.kind === 'Call' && dot.callee.name).toBe('dot');
    if (dot.kind !== 'Call') return;
    const load = dot.args[0] as Expr;
    expect(slice(GEMM, load.span)).toBe('load(a[m0 : BM, k0 : BK])');
    const index = load.kind === 'Call' ? load.args[0] : undefined;
    expect(index && slice(GEMM, index.span)).toBe('a[m0 : BM, k0 : BK]');
    expect(index?.kind === 'Index' && index.items.map((i) => slice(GEMM, i.span))).toEqual(['m0 : BM', 'k0 : BK']);

    const store = body.stmts[4];
    expect(store?.kind).toBe('ExprStmt');
    if (store?.kind !== 'ExprStmt') return;
    expect(show(store.expr)).toBe('store(c[m0:BM, n0:BN], (acc as dtype))');
    const cast = store.expr.kind === 'Call' ? store.expr.args[1] : undefined;
    expect(cast && slice(GEMM, cast.span)).toBe('acc as dtype');
  });

  it('keeps the tree well formed', () => {
    checkTree(program, GEMM.length);
  });
});

describe('parser: expressions', () => {
  it('follows the precedence table', () => {
    expect(show(expr('a + b * c as f16').e)).toBe('(a + (b * (c as f16)))');
    expect(show(expr('-x as f16').e)).toBe('((-x) as f16)');
    expect(show(expr('a < b && c').e)).toBe('((a < b) && c)');
    expect(show(expr('!a || b && c == d').e)).toBe('((!a) || (b && (c == d)))');
    expect(show(expr('a - b - c').e)).toBe('((a - b) - c)');
    expect(show(expr('a / b % c * d').e)).toBe('(((a / b) % c) * d)');
    expect(show(expr('x as i32 as f32').e)).toBe('((x as i32) as f32)');
    expect(show(expr('-x[0]').e)).toBe('(-x[0])');
    expect(show(expr('- -x').e)).toBe('(-(-x))');
    expect(show(expr('(a + b) * c').e)).toBe('((a + b) * c)');
    expect(show(expr('a + b >= c - d').e)).toBe('((a + b) >= (c - d))');
    expect(show(expr('true && !false').e)).toBe('(true && (!false))');
  });

  it('reads -inf as unary minus on the name inf', () => {
    expect(expr('-inf').e).toMatchObject({ kind: 'Unary', op: '-', operand: { kind: 'Name', name: 'inf' } });
  });

  it('gives binary, cast and parenthesised expressions spans from first to last token', () => {
    const { e, text } = expr('(a + b) * c as f16');
    expect(slice(text, e.span)).toBe('(a + b) * c as f16');
    if (e.kind !== 'Binary') throw new Error('expected a binary expression');
    expect(slice(text, e.left.span)).toBe('(a + b)');
    expect(slice(text, e.right.span)).toBe('c as f16');
  });

  it('reads index items', () => {
    const { e, text } = expr('x[:, None, i, s : 64, i + 1 : BM * 2]');
    expect(e.kind).toBe('Index');
    if (e.kind !== 'Index') return;
    expect(e.items.map((i) => i.kind)).toEqual(['Full', 'NewAxis', 'Scalar', 'Slice', 'Slice']);
    expect(e.items.map(showItem)).toEqual([':', 'None', 'i', 's:64', '(i + 1):(BM * 2)']);
    expect(e.items.map((i) => slice(text, i.span))).toEqual([':', 'None', 'i', 's : 64', 'i + 1 : BM * 2']);
    expect(show(expr('x[0][1, :]').e)).toBe('x[0][1, :]');
    expect(show(expr('load(a[i])[0]').e)).toBe('load(a[i])[0]');
  });

  it('reads positional and named arguments', () => {
    const { e, text } = expr('load(a[i : 64], other = -inf, mask = m)');
    expect(e.kind).toBe('Call');
    if (e.kind !== 'Call') return;
    expect(e.args.map(show)).toEqual(['a[i:64]']);
    expect(e.named.map((n) => n.name.name)).toEqual(['other', 'mask']);
    expect(e.named.map((n) => show(n.value))).toEqual(['(-inf)', 'm']);
    expect(e.named.map((n) => slice(text, n.span))).toEqual(['other = -inf', 'mask = m']);
    expect(show(expr('sum(x, axis = 1)').e)).toBe('sum(x, axis=1)');
    expect(show(expr('program_id()').e)).toBe('program_id()');
  });

  it('reads lists, with a trailing comma', () => {
    expect(show(expr('[BM, BN,]').e)).toBe('[BM, BN]');
    expect(show(expr('[]').e)).toBe('[]');
  });

  it('reports a positional argument after a named one', () => {
    const { src, diagnostics } = parse('kernel k() grid [1] {\n  let s = sum(axis = 1, x);\n}');
    const d = only(diagnostics);
    expect(d.code).toBe('TK0003');
    expect(posOf(src, d)).toEqual({ line: 2, column: 25 });
  });
});

describe('parser: declarations and statements', () => {
  it('reads scalar and tensor parameters, literal dims and a trailing comma', () => {
    const k = kernelOf('kernel k(x: f16[M, 64], scale: f32, n: i32,) grid [1] { }');
    expect(k.params.map((p) => p.kind)).toEqual(['TensorParam', 'ScalarParam', 'ScalarParam']);
    const x = k.params[0];
    expect(x?.kind === 'TensorParam' && x.dims).toMatchObject([
      { kind: 'DimName', name: { name: 'M' } },
      { kind: 'DimLit', value: 64 },
    ]);
    expect(k.params[1]).toMatchObject({ name: { name: 'scale' }, dtype: { name: { name: 'f32' } } });
  });

  it('reads const and tune blocks, with or without the last semicolon', () => {
    const text = `kernel k()
  const { causal: bool = false; D: int in [64, 128]; scale: float; dtype: type in [f16, bf16] }
  tune { BM in [64, 128] = 128; require BM <= D; BN in [32]; require BM % BN == 0 }
  grid [1, 2, 3] { }`;
    const k = kernelOf(text);
    expect(k.consts.map((c) => [c.name.name, c.type.kind])).toEqual([
      ['causal', 'bool'],
      ['D', 'int'],
      ['scale', 'float'],
      ['dtype', 'type'],
    ]);
    expect(k.consts.map((c) => c.candidates?.map(show))).toEqual([undefined, ['64', '128'], undefined, ['f16', 'bf16']]);
    expect(k.consts.map((c) => (c.default ? show(c.default) : undefined))).toEqual(['false', undefined, undefined, undefined]);
    expect('candidates' in (k.consts[0] ?? {})).toBe(false);
    expect(k.tunables.map((t) => [t.name.name, t.candidates.map(show), t.default && show(t.default)])).toEqual([
      ['BM', ['64', '128'], '128'],
      ['BN', ['32'], undefined],
    ]);
    expect(k.requires.map(show)).toEqual(['(BM <= D)', '((BM % BN) == 0)']);
    expect(k.requires.map((r) => slice(text, r.span))).toEqual(['BM <= D', 'BM % BN == 0']);
    expect(k.grid.map(show)).toEqual(['1', '2', '3']);
    expect(kernelOf('kernel k() const { } tune { } grid [1] { }').consts).toEqual([]);
  });

  it('reads let, var, every assignment operator and expression statements', () => {
    const k = kernelOf('kernel k() grid [1] { let a = 1; var b = 2; b = 3; b += 1; b -= 1; b *= 2; b /= 2; store(o[0], b); }');
    const stmts = k.body.stmts;
    expect(stmts.map((s) => s.kind)).toEqual(['Let', 'Let', 'Assign', 'Assign', 'Assign', 'Assign', 'Assign', 'ExprStmt']);
    expect(stmts.map((s) => (s.kind === 'Assign' ? s.op : null))).toEqual([null, null, '=', '+=', '-=', '*=', '/=', null]);
    expect(stmts.map((s) => (s.kind === 'Let' ? s.mutable : null)).slice(0, 2)).toEqual([false, true]);
  });

  it('reads for without pipelined, and pipelined as an ordinary name elsewhere', () => {
    const k = kernelOf('kernel k() grid [1] { for i in range(4) { let pipelined = i; } }');
    const loop = only(k.body.stmts) as ForStmt;
    expect(loop.pipelined).toBeUndefined();
    expect('pipelined' in loop).toBe(false);
    expect((only(loop.body.stmts) as LetStmt).name.name).toBe('pipelined');
  });

  it('nests else if chains', () => {
    const text = 'kernel k() grid [1] { if a { x = 1; } else if b { x = 2; } else if c { } else { x = 3; } }';
    const k = kernelOf(text);
    const top = only(k.body.stmts) as IfStmt;
    expect(show(top.cond)).toBe('a');
    const second = top.else as IfStmt;
    expect(second.kind).toBe('If');
    expect(show(second.cond)).toBe('b');
    const third = second.else as IfStmt;
    expect(third.kind).toBe('If');
    expect(show(third.cond)).toBe('c');
    expect(third.then.stmts).toEqual([]);
    const last = third.else as Block;
    expect(last.kind).toBe('Block');
    expect(last.stmts.map((s: Stmt) => s.kind)).toEqual(['Assign']);
    expect(slice(text, second.span)).toBe('if b { x = 2; } else if c { } else { x = 3; }');
    expect(slice(text, top.span)).toBe(text.slice(text.indexOf('if a'), text.length - 2));
    expect(only(kernelOf('kernel k() grid [1] { if a { } }').body.stmts)).not.toHaveProperty('else');
  });

  it('parses several kernels', () => {
    const { program, diagnostics } = parse(`${GEMM}\nkernel two(x: f32[N]) grid [1] { store(x[0], 1.0); }\n`);
    expect(diagnostics).toEqual([]);
    expect(program.kernels.map((k) => k.name.name)).toEqual(['gemm', 'two']);
  });

  it('accepts an empty file', () => {
    expect(parse('').program.kernels).toEqual([]);
    expect(parse('  // nothing\n').diagnostics).toEqual([]);
  });
});

describe('parser: diagnostics', () => {
  it('TK0001: an unexpected character', () => {
    const { src, program, diagnostics } = parse('kernel k() grid [1] {\n  let a = 1 @ 2;\n}');
    const d = only(diagnostics);
    expect(d.code).toBe('TK0001');
    expect(d.message).toBe("unexpected character '@'");
    expect(posOf(src, d)).toEqual({ line: 2, column: 13 });
    // the character is dropped; the statement then lacks an operator between `1` and `2`
    expect(only(program.kernels).body.stmts).toHaveLength(1);
  });

  it('TK0002: a missing semicolon, reported at the token found, with a hint', () => {
    const { src, program, diagnostics } = parse('kernel k() grid [1] {\n  let a = 1\n  let b = 2;\n}');
    const d = only(diagnostics);
    expect(d.code).toBe('TK0002');
    expect(d.message).toBe("expected ';', found 'let'");
    expect(d.hint).toBe("statements end with ';'");
    expect(posOf(src, d)).toEqual({ line: 3, column: 3 });
    expect(only(program.kernels).body.stmts.map((s) => (s as LetStmt).name.name)).toEqual(['a', 'b']);
  });

  it('TK0002: names tokens by their text', () => {
    const { src, diagnostics } = parse('kernel k() grid [1] {\n  store(x[0], p q);\n}');
    const d = only(diagnostics);
    expect(d.code).toBe('TK0002');
    expect(d.message).toBe("expected ',' or ')', found identifier 'q'");
    expect(posOf(src, d)).toEqual({ line: 2, column: 17 });
  });

  it('TK0003: no expression where one is needed', () => {
    const { src, program, diagnostics } = parse('kernel k() grid [1] {\n  let a = (1 + );\n  let b = 2;\n}');
    const d = only(diagnostics);
    expect(d.code).toBe('TK0003');
    expect(d.message).toBe("expected an expression, found ')'");
    expect(posOf(src, d)).toEqual({ line: 2, column: 16 });
    const stmts = only(program.kernels).body.stmts as LetStmt[];
    expect(stmts.map((s) => s.name.name)).toEqual(['a', 'b']);
    expect(show(stmts[0]?.init as Expr)).toBe('(1 + <error>)');
  });

  it('TK0003: no statement where one is needed', () => {
    const { src, program, diagnostics } = parse('kernel k() grid [1] {\n  let a = 1;\n  ) ]\n  let b = 2;\n}');
    const d = only(diagnostics);
    expect(d.code).toBe('TK0003');
    expect(d.message).toBe("expected a statement or '}', found ')'");
    expect(posOf(src, d)).toEqual({ line: 3, column: 3 });
    expect(only(program.kernels).body.stmts).toHaveLength(2);
  });

  it('TK0004: an unterminated block comment, reported once', () => {
    const { src, program, diagnostics } = parse('kernel k() grid [1] {\n  let a = 1;\n  /* let b = 2;\n}\n');
    const d = only(diagnostics);
    expect(d.code).toBe('TK0004');
    expect(posOf(src, d)).toEqual({ line: 3, column: 3 });
    expect(slice(src.text, d.span)).toBe('/*');
    expect(only(program.kernels).body.stmts).toHaveLength(1);
  });

  it('TK0005: text after the last kernel', () => {
    const { src, program, diagnostics } = parse('kernel k() grid [1] { }\n\nfoo bar;\n');
    const d = only(diagnostics);
    expect(d.code).toBe('TK0005');
    expect(d.message).toBe("expected 'kernel', found identifier 'foo'");
    expect(posOf(src, d)).toEqual({ line: 3, column: 1 });
    expect(program.kernels).toHaveLength(1);
  });

  it('TK0005: text before and between kernels, and a stray brace', () => {
    const { src, program, diagnostics } = parse('let x = 1;\nkernel a() grid [1] { } }\nkernel b() grid [1] { }');
    expect(diagnostics.map((d) => [d.code, posOf(src, d).line, posOf(src, d).column])).toEqual([
      ['TK0005', 1, 1],
      ['TK0005', 2, 25],
    ]);
    expect(program.kernels.map((k) => k.name.name)).toEqual(['a', 'b']);
  });

  it('reports an error at end of file on the last character', () => {
    const text = 'kernel k() grid [1] {\n  let a = 1;';
    const { src, program, diagnostics } = parse(text);
    const d = only(diagnostics);
    expect(d.message).toBe("expected a statement or '}', found end of file");
    expect(d.span).toEqual({ start: text.length - 1, end: text.length });
    expect(posOf(src, d)).toEqual({ line: 2, column: 12 });
    // the kernel cut short keeps what was read
    expect(only(program.kernels).body.stmts).toHaveLength(1);
  });

  it('reports three independent errors in one kernel and keeps everything else', () => {
    const text = [
      'kernel first(x: f32[N]) grid [1] {', // 1
      '  let a = 1 +;', // 2: TK0003 at ';'
      '  let b = 2;', // 3
      '  let c = (3;', // 4: TK0002 at ';'
      '  let d = 4;', // 5
      '  store(x[0], d d);', // 6: TK0002 at the second 'd'
      '  let e = 5;', // 7
      '}', // 8
      'kernel second(y: f32[N]) grid [cdiv(N, 64)] {', // 9
      '  let i = program_id(0);', // 10
      '  store(y[i], 1.0);', // 11
      '}',
    ].join('\n');
    const { src, program, diagnostics } = parse(text);
    expect(diagnostics.map((d) => [d.code, posOf(src, d).line, posOf(src, d).column])).toEqual([
      ['TK0003', 2, 14],
      ['TK0002', 4, 13],
      ['TK0002', 6, 17],
    ]);
    expect(program.kernels.map((k) => k.name.name)).toEqual(['first', 'second']);
    const [first, second] = program.kernels as [KernelDecl, KernelDecl];
    expect(first.body.stmts.map((s) => (s.kind === 'Let' ? s.name.name : s.kind))).toEqual(['a', 'b', 'c', 'd', 'ExprStmt', 'e']);
    expect(first.body.stmts.map((s) => (s.kind === 'Let' ? show(s.init) : null))).toEqual([
      '(1 + <error>)',
      '2',
      '3',
      '4',
      null,
      '5',
    ]);
    expect(second.body.stmts.map((s) => s.kind)).toEqual(['Let', 'ExprStmt']);
    checkTree(program, text.length);
  });

  it('keeps the body when the parameter list or header is broken', () => {
    const text = 'kernel k(x: f32 y: f32) grid [1] {\n  let a = 1;\n}';
    const { program, diagnostics } = parse(text);
    expect(only(diagnostics).message).toBe("expected ',' or ')', found identifier 'y'");
    expect(only(program.kernels).body.stmts).toHaveLength(1);

    const noGrid = parse('kernel k() {\n  let a = 1;\n}');
    expect(only(noGrid.diagnostics).message).toBe("expected 'grid', found '{'");
    expect(only(noGrid.program.kernels).grid).toEqual([]);
    expect(only(noGrid.program.kernels).body.stmts).toHaveLength(1);

    const noName = parse('kernel (x: f32) grid [1] { }');
    expect(only(noName.diagnostics).message).toBe("expected a kernel name, found '('");
    expect(only(noName.program.kernels).name.name).toBe(MISSING);
  });

  it('reports a misspelt pipelined once', () => {
    const { src, program, diagnostics } = parse('kernel k() grid [1] {\n  for i in range(4) pipelind(2) { }\n  let y = 1;\n}');
    const d = only(diagnostics);
    expect(d.code).toBe('TK0002');
    expect(d.message).toBe("expected 'pipelined' or '{', found identifier 'pipelind'");
    expect(posOf(src, d)).toEqual({ line: 2, column: 21 });
    expect(only(program.kernels).body.stmts.map((s) => s.kind)).toEqual(['For', 'Let']);
  });

  it('fills holes with Error expressions and MISSING names', () => {
    const text = 'kernel k() grid [1] { let = 1; let y = x as ; let z = f(1,; }';
    const { program, diagnostics } = parse(text);
    expect(diagnostics.length).toBeGreaterThan(0);
    checkTree(program, text.length);
    const stmts = only(program.kernels).body.stmts as LetStmt[];
    expect(stmts[0]?.name.name).toBe(MISSING);
    const cast = stmts[1]?.init;
    expect(cast?.kind === 'Cast' && cast.type.name.name).toBe(MISSING);
  });

  it('reports each error once per place and code', () => {
    const { diagnostics } = parse('kernel k() grid [1] { let a = 1 2 3 4; }');
    const keys = diagnostics.map((d) => `${d.span.start}:${d.code}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(diagnostics).toHaveLength(1);
  });
});

describe('parser: robustness', () => {
  it('never throws on any prefix of the sample', () => {
    for (let n = 0; n <= GEMM.length; n++) {
      const text = GEMM.slice(0, n);
      let result: ReturnType<typeof parse> | undefined;
      expect(() => {
        result = parse(text);
      }, `prefix of length ${n}`).not.toThrow();
      if (!result) continue;
      checkTree(result.program, text.length);
      for (const d of result.diagnostics) {
        expect(d.span.start).toBeGreaterThanOrEqual(0);
        expect(d.span.end).toBeLessThanOrEqual(text.length);
      }
      // a prefix that reaches into the body keeps the kernel
      if (n > GEMM.indexOf('{\n  let')) expect(result.program.kernels).toHaveLength(1);
    }
  });

  it('never throws on random garbage', () => {
    const pieces = [
      'kernel', 'k', '(', ')', '[', ']', '{', '}', ',', ';', ':', '=', '+=', '+', '-', '*', '/', '%', '!', '<', '&&', '||',
      'as', 'let', 'var', 'for', 'in', 'if', 'else', 'const', 'tune', 'require', 'grid', 'None', 'true', '1', '2.5', 'x',
      'pipelined', '@', '/*', '*/', '//', '\n', ' ', 'f16', '0x', '.', '"',
    ];
    const random = rng(12345);
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(random() * 60);
      let text = random() < 0.5 ? 'kernel k(a: f32[N]) grid [1] { ' : '';
      for (let i = 0; i < n; i++) text += `${pieces[Math.floor(random() * pieces.length)]} `;
      const result = parse(text);
      checkTree(result.program, text.length);
    }
  });

  it('never throws on mutations of the sample', () => {
    const random = rng(777);
    for (let round = 0; round < 200; round++) {
      const chars = [...GEMM];
      for (let m = 0; m < 3; m++) {
        const at = Math.floor(random() * chars.length);
        if (random() < 0.5) chars.splice(at, 1);
        else chars.splice(at, 0, ';{}()[],: x'.charAt(Math.floor(random() * 11)));
      }
      const text = chars.join('');
      const result = parse(text);
      checkTree(result.program, text.length);
    }
  });

  it('survives absurd nesting and stays usable', () => {
    const deep = `kernel k() grid [1] { let a = ${'('.repeat(5000)}1${')'.repeat(5000)}; }`;
    const { src, diagnostics } = parse(deep);
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics[0]?.code).toBe('TK0003');
    expect(posOf(src, diagnostics[0] as Diagnostic).line).toBe(1);
    expect(parse(GEMM).diagnostics).toEqual([]);
    // moderate nesting is fine
    expect(parse(`kernel k() grid [1] { let a = ${'('.repeat(60)}1${')'.repeat(60)}; }`).diagnostics).toEqual([]);
  });
});
