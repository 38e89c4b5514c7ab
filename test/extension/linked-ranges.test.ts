/** Linked highlighting's choice of map entries (extension/lsp/linked-ranges.ts), on the real GEMM PTX map. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlaygroundApi } from '../../extension/playground/api.js';
import { entriesAt, entriesOfLine } from '../../extension/lsp/linked-ranges.js';
import { kernelPath } from '../support/build.js';

describe('linked ranges', () => {
  const gemm = readFileSync(kernelPath('gemm.tile'), 'utf8');
  const api = new PlaygroundApi();
  api.update(gemm);
  const view = api.compile('gemm', 'sm_90a');
  if ('error' in view) throw new Error(view.error);
  const lines = gemm.split('\n');
  const ptx = view.text.split('\n');

  it('a source position selects the innermost ranges holding it, not the loop around them', () => {
    const l = lines.findIndex((x) => /\bdot\(/.test(x));
    const onDot = entriesAt(view.map, { line: l, character: lines[l]!.indexOf('dot(') + 1 });
    expect(onDot.length).toBeGreaterThan(0);
    const loopLine = lines.findIndex((x) => /^\s*for /.test(x));
    for (const m of onDot) expect(m.range.start.line).toBe(l); // the `for` statement's range also holds it, but is not innermost
    expect(view.map.some((m) => m.range.start.line === loopLine && m.range.end.line > l)).toBe(true);
    expect(entriesAt(view.map, { line: 0, character: 0 })).toEqual([]); // the comment line maps to nothing
  });

  it('an emitted line selects the ranges whose code includes it: an mma.sync comes from the dot line', () => {
    const mma = ptx.findIndex((x) => /mma\.sync/.test(x)) + 1;
    const from = entriesOfLine(view.map, mma);
    expect(from.length).toBeGreaterThan(0);
    expect(from.every((m) => lines[m.range.start.line]!.includes('dot('))).toBe(true);
  });
});
