/**
 * The compile targets and their flag parsing, apart from the commands that write files, so the
 * browser (the playground's worker) can use them.
 */
import { AMD_TARGETS } from './hip/compile-hip.js';
import type { AmdTarget } from './hip/kernel-abi.js';
import type { MfmaSize } from './hip/mfma-layout.js';
import type { NvidiaTarget } from './ptx/kernel-abi.js';

/** The targets the NVIDIA backend generates code for. */
export const NVIDIA_TARGETS: readonly NvidiaTarget[] = ['sm_80', 'sm_90a'];

export const DEFAULT_TARGET: NvidiaTarget = 'sm_80';

export type Target = NvidiaTarget | AmdTarget;

export function isAmdTarget(t: Target): t is AmdTarget {
  return (AMD_TARGETS as readonly string[]).includes(t);
}

/** `--target` text → a target, or the usage error to print (exit 2). */
export function parseTarget(text: string): Target | { error: string } {
  const t = text.trim();
  const all: readonly Target[] = [...NVIDIA_TARGETS, ...AMD_TARGETS];
  return all.find((n) => n === t) ?? { error: `--target: unknown target '${text}': expected one of ${all.join(', ')}` };
}

/** `--mfma` text → an MFMA size, or the usage error to print. */
export function parseMfma(text: string | undefined): MfmaSize | undefined | { error: string } {
  if (text === undefined) return undefined;
  if (text.trim() === '16') return 16;
  if (text.trim() === '32') return 32;
  return { error: `--mfma: expected 16 (16x16x16 MFMA) or 32 (32x32x8 MFMA), got '${text}'` };
}

