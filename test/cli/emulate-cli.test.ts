/** `tilekit emulate`: the ARGS.json / OUT.json contract and the exit codes 0, 2, 3. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../support/cli.js';
import { elementwisePtx } from '../support/ptx-fixtures.js';

const PTX = elementwisePtx('axpy', 'fma');

let dir: string;
const path = (n: string): string => join(dir, n);


beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tilekit-emulate-'));
  await writeFile(path('axpy.ptx'), PTX);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const args = (y: unknown, n = 5): unknown => ({
  args: [{ type: 'ptr', dtype: 'f32', data: [1, 2, 3, 'Infinity', 'NaN'] }, y, { type: 'f32', value: 2 }, { type: 'u32', value: n }],
});

describe('tilekit emulate', () => {
  it('a clean run exits 0 and writes buffers, errors and stats; NaN and infinities are strings', async () => {
    await writeFile(path('a.json'), JSON.stringify(args({ type: 'ptr', dtype: 'f32', data: [10, 20, 30, 40, 50] })));
    const r = await cli('emulate', path('axpy.ptx'), '--kernel', 'axpy', '--grid', '2', '--block', '4', '--args', path('a.json'), '--out', path('o.json'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/axpy: grid \[2,1,1\] block \[4,1,1\]: \d+ thread-instructions/);
    const out = JSON.parse(await readFile(path('o.json'), 'utf8'));
    expect(out.buffers).toEqual([
      { index: 0, dtype: 'f32', data: [1, 2, 3, 'Infinity', 'NaN'] },
      { index: 1, dtype: 'f32', data: [12, 24, 36, 'Infinity', 'NaN'] },
    ]);
    expect(out.errors).toEqual([]);
    expect(out.stats.threadInstructions).toBeGreaterThan(0);
  });

  it('sanitizer findings exit 3, are printed with their line, and OUT.json is still written', async () => {
    await writeFile(path('b.json'), JSON.stringify(args({ type: 'ptr', dtype: 'f32', size: 5 })));
    const r = await cli('emulate', path('axpy.ptx'), '-k', 'axpy', '--grid', '2', '--block', '4', '--args', path('b.json'), '--out', path('o2.json'));
    expect(r.code).toBe(3);
    expect(r.err).toContain('uninitialized-read');
    expect(r.err).toContain('ld.global.f32 %f3, [%rd7]');
    const out = JSON.parse(await readFile(path('o2.json'), 'utf8'));
    expect(out.errors[0].kind).toBe('uninitialized-read');
    expect(out.errors[0].ptxLine).toBe(PTX.split('\n').findIndex((l) => l.includes('%f3, [%rd7]')) + 1);
  });

  it('bad input exits 2: a malformed grid, bad ARGS.json, an unknown kernel, an argument mismatch, bad PTX', async () => {
    await writeFile(path('c.json'), JSON.stringify(args({ type: 'ptr', dtype: 'f32', size: 5, fill: 'zero' })));
    const base = ['emulate', path('axpy.ptx'), '--args', path('c.json'), '--out', path('o3.json')];
    const grid = await cli(...base, '-k', 'axpy', '--grid', '0', '--block', '4');
    expect([grid.code, grid.err]).toEqual([2, expect.stringContaining('--grid: expected 1 to 3 positive integers')]);
    const kernel = await cli(...base, '-k', 'nope', '--grid', '1', '--block', '4');
    expect([kernel.code, kernel.err]).toEqual([2, expect.stringContaining("no kernel (.entry) named 'nope'")]);
    await writeFile(path('d.json'), JSON.stringify({ args: [{ type: 'ptr', dtype: 'f99', size: 1 }, { type: 'q' }] }));
    const bad = await cli('emulate', path('axpy.ptx'), '-k', 'axpy', '--grid', '1', '--block', '4', '--args', path('d.json'), '--out', path('o4.json'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('args[0]: dtype must be one of');
    expect(bad.err).toContain('args[1]: type must be "ptr"');
    await writeFile(path('e.json'), JSON.stringify({ args: [{ type: 'i32', value: 1 }] }));
    const count = await cli('emulate', path('axpy.ptx'), '-k', 'axpy', '--grid', '1', '--block', '4', '--args', path('e.json'), '--out', path('o5.json'));
    expect([count.code, count.err]).toEqual([2, expect.stringContaining('takes 4 parameters, 1 arguments')]);
    await writeFile(path('bad.ptx'), PTX.replace('ret;', 'ret'));
    const syntax = await cli('emulate', path('bad.ptx'), '-k', 'axpy', '--grid', '1', '--block', '4', '--args', path('c.json'), '--out', path('o6.json'));
    expect(syntax.code).toBe(2);
    expect(syntax.err).toMatch(/bad\.ptx:\d+:\d+: PTX syntax error/);
  });
});
