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
import type { IRKernel } from './ir.js';

export type AbiParam =
  | { readonly kind: 'tensor'; readonly name: string; readonly tensor: string; readonly dtype: DType }
  | { readonly kind: 'dim'; readonly name: string; readonly dim: string }
  | { readonly kind: 'stride'; readonly name: string; readonly tensor: string; readonly axis: number }
  | { readonly kind: 'scalar'; readonly name: string; readonly dtype: DType };

/** Scalar parameter dtypes a launcher can pass. */
export const ABI_SCALAR_DTYPES: readonly DType[] = ['f32', 'i32', 'i64'];

/**
 * A kernel's ABI parameters in order, and the names of its shape symbols (in order of first
 * appearance). `badScalar` is a scalar parameter of a dtype launchers cannot pass, if there is one.
 */
export function abiParams(k: IRKernel): { params: AbiParam[]; dimNames: string[]; badScalar?: { name: string; dtype: DType } } {
  const params: AbiParam[] = [];
  const tensors = k.params.filter((p) => p.kind === 'tensor');
  const dimNames: string[] = [];
  for (const t of tensors) for (const d of t.dims) if (typeof d === 'string' && !dimNames.includes(d)) dimNames.push(d);
  for (const t of tensors) params.push({ kind: 'tensor', name: t.name, tensor: t.name, dtype: t.dtype });
  for (const d of dimNames) params.push({ kind: 'dim', name: d, dim: d });
  for (const t of tensors) for (let a = 0; a < t.dims.length - 1; a++) params.push({ kind: 'stride', name: `${t.name}_stride${a}`, tensor: t.name, axis: a });
  let badScalar: { name: string; dtype: DType } | undefined;
  for (const p of k.params) {
    if (p.kind !== 'scalar') continue;
    if (!ABI_SCALAR_DTYPES.includes(p.dtype)) badScalar ??= { name: p.name, dtype: p.dtype };
    params.push({ kind: 'scalar', name: p.name, dtype: p.dtype });
  }
  return badScalar ? { params, dimNames, badScalar } : { params, dimNames };
}

export interface SpanLines {
  /** A `.tile` source range … */
  readonly span: Span;
  /** … and the 1-based lines of the emitted code (PTX or HIP) its instructions occupy. */
  readonly lines: readonly number[];
}

/** Collects which emitted lines each `.tile` span produced, as a printer writes them. */
export class SpanMapBuilder {
  private readonly bySpan = new Map<string, { span: Span; lines: number[] }>();

  /** Records that 1-based emitted line `line` comes from `span`. */
  add(span: Span, line: number): void {
    const key = `${span.start}:${span.end}`;
    let e = this.bySpan.get(key);
    if (!e) this.bySpan.set(key, (e = { span, lines: [] }));
    e.lines.push(line);
  }

  entries(): SpanLines[] {
    return [...this.bySpan.values()];
  }
}
