/** Helpers shared by the emulator's CUDA corpus and regression tests. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { emulate, type EmulateOptions } from '../../runtime/emulator/emulate.js';
import type { BufferDType, EmuArg, EmuResult, Finding, LaunchConfig } from '../../runtime/emulator/types.js';

const ptxCache = new Map<string, string>();

/** A PTX file's text, read once per test file. */
export function readPtx(path: string): string {
  let text = ptxCache.get(path);
  if (text === undefined) {
    text = readFileSync(path, 'utf8');
    ptxCache.set(path, text);
  }
  return text;
}

export const describeFinding = (f: Finding): string =>
  `${f.kind} at ${f.source ? `${f.source.file}:${f.source.line}` : '?'} (ptx ${f.ptxLine}: ${f.instruction}) cta=${f.cta.join(',')} thread=${f.thread.join(',')}: ${f.message}`;

/** Runs one launch; every run must have executed something and returned one buffer per pointer. */
export function runChecked(ptx: string, kernel: string, launch: LaunchConfig, args: readonly EmuArg[], label: string, options?: EmulateOptions): EmuResult {
  const res = emulate(ptx, kernel, launch, args, options);
  expect(res.stats.threadInstructions, `${label}: stats.threadInstructions`).toBeGreaterThan(0);
  expect(res.buffers.length, `${label}: one buffer per pointer parameter`).toBe(args.filter((a) => a.type === 'ptr').length);
  return res;
}

export function expectClean(res: EmuResult, label: string): void {
  expect(res.findings.map(describeFinding), `${label}: a clean kernel has no findings`).toEqual([]);
}

export const ptr = (dtype: BufferDType, data: ArrayLike<number | bigint>): EmuArg => ({ type: 'ptr', dtype, data });
export const out = (dtype: BufferDType, size: number): EmuArg => ({ type: 'ptr', dtype, size, fill: 'poison' });
export const zeros = (dtype: BufferDType, size: number): EmuArg => ({ type: 'ptr', dtype, size, fill: 'zero' });
export const i32 = (value: number): EmuArg => ({ type: 'i32', value });
export const u32 = (value: number): EmuArg => ({ type: 'u32', value });
export const f32 = (value: number): EmuArg => ({ type: 'f32', value });

export function nums(res: EmuResult, k: number): number[] {
  return res.buffers[k]!.data.map((v) => (typeof v === 'bigint' ? Number(v) : v));
}

export function bigs(res: EmuResult, k: number): bigint[] {
  return res.buffers[k]!.data.map((v) => (typeof v === 'bigint' ? v : BigInt(v)));
}

/** Element-wise identity (Object.is: NaN equals NaN, -0 differs from 0); reports the first mismatches. */
export function expectExact<T extends number | bigint>(got: readonly T[], want: readonly T[], label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) {
      count++;
      if (bad.length < 6) bad.push(`[${i}] got ${String(got[i])} want ${String(want[i])}`);
    }
  }
  expect(count, `${label}: ${count} mismatches: ${bad.join(', ')}`).toBe(0);
}
