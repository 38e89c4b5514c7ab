/**
 * What a compiled AMD kernel needs from its launcher: the HIP source, the entry name, the
 * parameter list in order (compiler/kernel-abi.ts, the same ABI as the NVIDIA backend), and the
 * workgroup size. LDS is static (`TK_LDS` in the source), so clang sees and reports it.
 */
import type { AbiParam, SpanLines } from '../kernel-abi.js';

export type AmdTarget = 'gfx942' | 'gfx90a';

/** Lanes per wavefront on CDNA (gfx90a, gfx942). */
export const WAVE_SIZE = 64;

export interface CompiledHip {
  readonly target: AmdTarget;
  /** The kernel's symbol (`extern "C"`). */
  readonly entry: string;
  /** The whole `.hip` file: the prelude (compiler/hip/prelude.ts), then the kernel. */
  readonly source: string;
  readonly params: readonly AbiParam[];
  /** Threads per workgroup: the kernel's WARPS (wavefronts) × 64. */
  readonly threads: number;
  /** Bytes of LDS the kernel declares. */
  readonly ldsBytes: number;
  /** `.tile` spans → `.hip` lines, for the editor's side-by-side view. */
  readonly spanMap: readonly SpanLines[];
}
