/**
 * Timing with device events: warm-up runs, then `reps` runs each bracketed by two events, optionally
 * after writing a buffer larger than L2 so every run starts with a cold cache (as a kernel in a
 * real model does). Samples are device time between the events, in milliseconds.
 */
import { Buffer } from './buffer.js';
import type { Device } from './device.js';
import { GpuUsageError } from './errors.js';
import type { Stream } from './module.js';
import { native } from './native.js';

export interface TimeOptions {
  /** Untimed runs first (default 3). */
  warmup?: number;
  /** Timed runs (default 20). */
  reps?: number;
  /** Overwrite a buffer of twice the L2 size before every run (default false). */
  flushL2?: boolean;
  /** Where `fn` launches; the events are recorded there (default: the default stream). */
  stream?: Stream;
}

export interface Timing {
  /** Every timed run, in order, in milliseconds. */
  samples: number[];
  median: number;
  min: number;
  max: number;
  /** Relative spread: the interquartile range divided by the median (dimensionless). */
  spread: number;
  spreadKind: 'iqr/median';
  flushedL2: boolean;
}

/** Quantile q of sorted values, linearly interpolated (numpy's default). */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Median, min, max and IQR/median of samples (ms). Pure. */
export function summarize(samples: readonly number[], flushedL2 = false): Timing {
  if (samples.length === 0) throw new GpuUsageError('no timing samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
  return {
    samples: [...samples],
    median,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    spread: median > 0 ? iqr / median : 0,
    spreadKind: 'iqr/median',
    flushedL2,
  };
}

/** Bytes of the L2 flush buffer: twice the L2 (at least 8 MiB, in case a driver reports 0). */
export function l2FlushBytes(l2CacheBytes: number): number {
  return Math.max(2 * l2CacheBytes, 8 << 20);
}

/** Times `fn` (which launches work on `opts.stream` or the default stream). */
export function time(device: Device, fn: () => void, opts: TimeOptions = {}): Timing {
  const warmup = opts.warmup ?? 3;
  const reps = opts.reps ?? 20;
  if (!Number.isInteger(warmup) || warmup < 0) throw new GpuUsageError(`warmup must be a non-negative integer, got ${warmup}`);
  if (!Number.isInteger(reps) || reps < 1) throw new GpuUsageError(`reps must be a positive integer, got ${reps}`);
  const stream = opts.stream?.native ?? null;
  const flush = opts.flushL2 ? Buffer.alloc(device, l2FlushBytes(device.info.l2CacheBytes)) : undefined;
  const [start, end] = native((a) => [new a.NativeEvent(device.native), new a.NativeEvent(device.native)] as const);
  try {
    for (let i = 0; i < warmup; i++) fn();
    const samples: number[] = [];
    for (let i = 0; i < reps; i++) {
      flush?.memset(i & 0xff);
      native(() => start.record(stream));
      fn();
      native(() => {
        end.record(stream);
        end.synchronize();
        samples.push(end.elapsedMsSince(start));
      });
    }
    return summarize(samples, flush !== undefined);
  } finally {
    start.dispose();
    end.dispose();
    flush?.dispose();
  }
}
