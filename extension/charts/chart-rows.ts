/**
 * Stored results → chart rows: each successful result of a kernel, with the FLOPs and DRAM bytes
 * of its configuration at its shape, from the kernel's source (the compiler's IR and the tuner's
 * work estimate). Browser-safe: the playground's worker runs it.
 */
import { buildKernelIR } from '../../compiler/compile.js';
import type { ConfigValue } from '../../compiler/ir.js';
import type { SourceText } from '../../dsl/source.js';
import { estimateWork } from '../../tuner/work.js';
import type { ChartRow } from './chart-data.js';

/** The part of a stored result the charts read (`tilekit results --format json` rows have it). */
export interface ResultRecord {
  readonly kernel: string;
  readonly config: Readonly<Record<string, ConfigValue>>;
  readonly bucket: string;
  readonly device: string;
  readonly result: { readonly status: string; readonly costUs?: number; readonly label?: string; readonly shape: Readonly<Record<string, number>> };
}

const isRecord = (x: unknown): x is ResultRecord => {
  const r = x as Partial<ResultRecord> | null;
  return typeof r === 'object' && r !== null && typeof r.kernel === 'string' && typeof r.config === 'object' && typeof r.result === 'object' && r.result !== null;
};

export function chartRows(source: SourceText, kernel: string, results: readonly unknown[]): { rows: ChartRow[]; skipped: string[] } {
  const rows: ChartRow[] = [];
  const skipped: string[] = [];
  for (const x of results) {
    if (!isRecord(x)) {
      skipped.push('an entry that is not a stored result');
      continue;
    }
    if (x.kernel !== kernel || x.result.status !== 'ok' || typeof x.result.costUs !== 'number' || (x.result.label !== 'measured' && x.result.label !== 'modeled')) continue;
    const built = buildKernelIR(source, kernel, new Map(Object.entries(x.config).map(([k, v]) => [k, String(v)])));
    if (!built.ir) {
      skipped.push(`${Object.entries(x.config).map(([k, v]) => `${k}=${String(v)}`).join(',')}: does not build from this source`);
      continue;
    }
    const work = estimateWork(built.ir, x.result.shape);
    rows.push({ config: x.config, bucket: x.bucket, device: x.device, costUs: x.result.costUs, label: x.result.label, flops: work.total.mmaFlops, bytes: work.uniqueBytes });
  }
  return { rows, skipped };
}
