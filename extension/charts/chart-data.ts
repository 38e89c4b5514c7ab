/**
 * What the tuning charts plot, from stored results (`tilekit results --format json` rows, or the
 * LSP server's `tilekit/tuningResults`): a heatmap of the best time over two tunables (the others
 * aggregated by their minimum), and a roofline of every configuration (arithmetic intensity
 * against achieved TFLOP/s), each point labeled measured or modeled. Pure: no DOM, no Node.
 */
import type { ConfigValue } from '../../compiler/ir.js';

export interface ChartRow {
  readonly config: Readonly<Record<string, ConfigValue>>;
  readonly bucket: string;
  readonly device: string;
  readonly costUs: number;
  readonly label: 'measured' | 'modeled';
  /** Tensor FLOPs and the DRAM floor's bytes of the configuration at the row's shape (tuner/work.ts). */
  readonly flops: number;
  readonly bytes: number;
}

/** Configuration keys that take more than one numeric value among the rows: the tunables worth plotting. */
export function tunablesOf(rows: readonly ChartRow[]): string[] {
  const keys = new Set(rows.flatMap((r) => Object.keys(r.config)));
  return [...keys].filter((k) => rows.every((r) => typeof r.config[k] === 'number') && new Set(rows.map((r) => r.config[k])).size > 1).sort();
}

export interface Heatmap {
  readonly x: string;
  readonly y: string;
  readonly xs: number[];
  readonly ys: number[];
  /** z[j][i]: the best time (µs) at xs[i], ys[j] over every other tunable; null where nothing was evaluated. */
  readonly z: (number | null)[][];
}

export function heatmap(rows: readonly ChartRow[], x: string, y: string): Heatmap {
  const xs = [...new Set(rows.map((r) => Number(r.config[x])))].sort((a, b) => a - b);
  const ys = [...new Set(rows.map((r) => Number(r.config[y])))].sort((a, b) => a - b);
  const z: (number | null)[][] = ys.map(() => xs.map(() => null));
  for (const r of rows) {
    const i = xs.indexOf(Number(r.config[x]));
    const j = ys.indexOf(Number(r.config[y]));
    const cur = z[j]![i];
    if (cur === null || cur === undefined || r.costUs < cur) z[j]![i] = r.costUs;
  }
  return { x, y, xs, ys, z };
}

export interface RooflinePoint {
  readonly row: ChartRow;
  /** FLOP per DRAM byte. */
  readonly intensity: number;
  readonly tflops: number;
}

export function roofline(rows: readonly ChartRow[]): RooflinePoint[] {
  return rows.filter((r) => r.bytes > 0 && r.costUs > 0).map((row) => ({ row, intensity: row.flops / row.bytes, tflops: row.flops / (row.costUs * 1e-6) / 1e12 }));
}

/** The lowest-cost row (ties: the first). */
export function best(rows: readonly ChartRow[]): ChartRow | undefined {
  return rows.reduce<ChartRow | undefined>((b, r) => (b === undefined || r.costUs < b.costUs ? r : b), undefined);
}

export const configText = (c: Readonly<Record<string, ConfigValue>>): string =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',');
