/**
 * What a compiled NVIDIA kernel needs from its launcher: the PTX, the entry name, the parameter
 * list in order (compiler/kernel-abi.ts), the block size and dynamic shared memory.
 */
import type { AbiParam, SpanLines } from '../kernel-abi.js';

export type NvidiaTarget = 'sm_80' | 'sm_90a';

export interface CompiledPtx {
  readonly target: NvidiaTarget;
  readonly entry: string;
  readonly ptx: string;
  readonly params: readonly AbiParam[];
  /** Threads per block (the kernel's WARPS × 32). */
  readonly threads: number;
  /** Bytes of dynamic shared memory to launch with (all shared memory is dynamic). */
  readonly dynamicSmem: number;
  /** `.tile` spans → PTX lines, for the editor's side-by-side view. */
  readonly spanMap: readonly SpanLines[];
}
