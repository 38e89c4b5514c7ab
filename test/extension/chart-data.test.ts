/** The tuning charts' data (extension/charts): heatmap aggregation, roofline arithmetic, rows from stored results. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { best, type ChartRow, heatmap, roofline, tunablesOf } from '../../extension/charts/chart-data.js';
import { chartRows } from '../../extension/charts/chart-rows.js';
import { SourceText } from '../../dsl/source.js';
import { kernelPath } from '../support/build.js';

const r = (BM: number, BN: number, STAGES: number, costUs: number, label: 'measured' | 'modeled' = 'modeled'): ChartRow => ({ config: { dtype: 'f16', BM, BN, STAGES }, bucket: 'b', device: 'h100', costUs, label, flops: 2e9, bytes: 4e6 });

describe('chart data', () => {
  const rows = [r(64, 64, 2, 50), r(64, 64, 3, 40), r(128, 64, 2, 30), r(64, 128, 3, 35), r(128, 128, 3, 20, 'measured')];

  it('plots the numeric tunables that vary; a heatmap cell is the best time over the other tunables, empty where nothing ran', () => {
    expect(tunablesOf(rows)).toEqual(['BM', 'BN', 'STAGES']);
    const h = heatmap(rows.slice(0, 4), 'BM', 'BN');
    expect(h.xs).toEqual([64, 128]);
    expect(h.ys).toEqual([64, 128]);
    expect(h.z).toEqual([
      [40, 30],
      [35, null],
    ]);
  });

  it('roofline: FLOP per byte and achieved TFLOP/s from the time; the best row', () => {
    const p = roofline(rows);
    expect(p).toHaveLength(5);
    expect(p[0]!.intensity).toBe(500);
    expect(p[0]!.tflops).toBeCloseTo(2e9 / 50e-6 / 1e12, 12);
    expect(best(rows)).toBe(rows[4]);
  });

  it('rows from stored results: successful ones of the kernel, with FLOPs and bytes from the source', () => {
    const path = kernelPath('gemm.tile');
    const src = new SourceText(path, readFileSync(path, 'utf8'));
    const shape = { M: 256, N: 128, K: 64 };
    const stored = (config: Record<string, number | string>, status = 'ok') => ({ kernel: 'gemm', config, bucket: 'b', device: 'h100', result: { status, costUs: 5, label: 'measured', shape } });
    const { rows: got, skipped } = chartRows(src, 'gemm', [stored({ dtype: 'f16', BM: 64, BN: 64 }), stored({ dtype: 'f16', BM: 64 }, 'compile'), { ...stored({}), kernel: 'other' }, 42, stored({ dtype: 'f16', BM: 96 })]);
    expect(got).toHaveLength(1);
    expect(got[0]!.flops).toBe(2 * 256 * 128 * 64);
    expect(got[0]!.bytes).toBe(2 * (256 * 64 + 64 * 128 + 256 * 128));
    expect(skipped).toHaveLength(2); // 42, and BM=96 (not a candidate value: does not build)
  });
});
