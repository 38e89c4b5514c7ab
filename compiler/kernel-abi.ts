/**
 * The contract between a compiled kernel (either backend) and every launcher (the emulator and
 * HIP CPU backends, the GPU addon, the GPU check script, kernel packs): the parameter list.
 *
 * Parameters, in this order:
 * 1. each tensor parameter's base address (a global pointer), in declaration order;
 * 2. each shape symbol (32-bit unsigned), in order of first appearance in the tensor shapes;
 * 3. each tensor's strides in elements (64-bit unsigned) for every axis but the last, which must
 *    be contiguous (stride 1): `a_stride0`, …;
 * 4. each scalar parameter, in declaration order, in its own type (f32, i32, i64).
 * The grid comes from the kernel's `grid` clause (compiler/interpreter.ts `gridOf` evaluates it),
 * the block is `threads` × 1 × 1.
 */
import type { DType } from '../dsl/dtype.js';
import type { Span } from '../dsl/span.js';

export type AbiParam =
  | { readonly kind: 'tensor'; readonly name: string; readonly tensor: string; readonly dtype: DType }
  | { readonly kind: 'dim'; readonly name: string; readonly dim: string }
  | { readonly kind: 'stride'; readonly name: string; readonly tensor: string; readonly axis: number }
  | { readonly kind: 'scalar'; readonly name: string; readonly dtype: DType };

export interface SpanLines {
  /** A `.tile` source range … */
  readonly span: Span;
  /** … and the 1-based lines of the emitted code (PTX or HIP) its instructions occupy. */
  readonly lines: readonly number[];
}
