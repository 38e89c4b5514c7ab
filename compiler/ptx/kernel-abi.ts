/**
 * What a compiled NVIDIA kernel needs from its launcher: the PTX, the entry name, the parameter
 * list in order, the block size and dynamic shared memory. Every launcher (the emulator backend,
 * the GPU addon, the GPU check script, kernel packs) reads this; nothing else about the kernel.
 *
 * Parameters, in this order:
 * 1. each tensor parameter's base address (`.u64`, a global pointer), in declaration order;
 * 2. each shape symbol (`.u32`), in order of first appearance in the tensor shapes;
 * 3. each tensor's strides in elements (`.u64`) for every axis but the last, which must be
 *    contiguous (stride 1): `a_stride0`, …;
 * 4. each scalar parameter, in declaration order, in its own type (`.f32`, …).
 * The grid comes from the kernel's `grid` clause (compiler/interpreter.ts `gridOf` evaluates it),
 * the block is `threads` × 1 × 1.
 */
import type { DType } from '../../dsl/dtype.js';
import type { Span } from '../../dsl/span.js';

export type NvidiaTarget = 'sm_80' | 'sm_90a';

export type AbiParam =
  | { readonly kind: 'tensor'; readonly name: string; readonly tensor: string; readonly dtype: DType }
  | { readonly kind: 'dim'; readonly name: string; readonly dim: string }
  | { readonly kind: 'stride'; readonly name: string; readonly tensor: string; readonly axis: number }
  | { readonly kind: 'scalar'; readonly name: string; readonly dtype: DType };

export interface SpanLines {
  /** A `.tile` source range … */
  readonly span: Span;
  /** … and the 1-based PTX lines its instructions occupy. */
  readonly lines: readonly number[];
}

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
