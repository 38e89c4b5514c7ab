/** How declarations, values and builtins are shown in hovers, completion details and symbols. */
import type { ConstDecl, Expr, KernelDecl, Param, TunableDecl } from '../../dsl/ast.js';
import type { CheckedKernel } from '../../dsl/checker.js';
import { describe as describeConfig, formatVal } from '../../dsl/config-space.js';
import type { DType } from '../../dsl/dtype.js';
import type { KernelSpace } from '../../dsl/config-space.js';
import { type ExprType, formatType } from '../../dsl/types.js';
import type { Def } from './resolve.js';

const DTYPE_DOCS: Readonly<Record<DType, string>> = {
  f16: '16-bit IEEE float',
  bf16: 'bfloat16: 8-bit exponent, 7-bit mantissa',
  f32: '32-bit IEEE float',
  i32: '32-bit signed integer (wraps)',
  i64: '64-bit signed integer',
  bool: 'boolean',
  f8e4m3: '8-bit float e4m3fn (storage only; no infinities, max 448)',
  f8e5m2: '8-bit float e5m2 (storage only)',
};

export function dtypeDoc(d: DType): string {
  return DTYPE_DOCS[d];
}

/** Source-like text of a literal expression (candidates and defaults are literals). */
export function exprText(e: Expr): string {
  switch (e.kind) {
    case 'Int':
    case 'Float':
      return String(e.value);
    case 'Bool':
      return String(e.value);
    case 'Name':
      return e.name;
    case 'Unary':
      return `${e.op}${exprText(e.operand)}`;
    default:
      return '…';
  }
}

export function paramText(p: Param): string {
  if (p.kind === 'ScalarParam') return `${p.name.name}: ${p.dtype.name.name}`;
  return `${p.name.name}: ${p.dtype.name.name}[${p.dims.map((d) => (d.kind === 'DimLit' ? String(d.value) : d.name.name)).join(', ')}]`;
}

export function kernelSignature(k: KernelDecl): string {
  return `kernel ${k.name.name}(${k.params.map(paramText).join(', ')})`;
}

function candidatesText(c: readonly Expr[] | undefined): string {
  return c ? ` in [${c.map(exprText).join(', ')}]` : '';
}

export function constText(c: ConstDecl): string {
  return `${c.name.name}: ${c.type.kind}${candidatesText(c.candidates)}${c.default ? ` = ${exprText(c.default)}` : ''}`;
}

export function tunableText(t: TunableDecl): string {
  return `${t.name.name}${candidatesText(t.candidates)}${t.default ? ` = ${exprText(t.default)}` : ''}`;
}

/** The default value line of a constant or tunable, from the kernel's space. */
export function defaultLine(space: KernelSpace | undefined, name: string): string {
  const p = space && [...space.consts, ...space.tunables].find((x) => x.name === name);
  if (!p) return '';
  const cands = p.candidates ? `candidates: ${p.candidates.map(formatVal).join(', ')}; ` : '';
  return `${cands}default: ${p.default ? formatVal(p.default) : 'none (must be given when the kernel is built)'}`;
}

/** "in the default configuration (BM=128, …)": the configuration tile shapes are shown in. */
export function configNote(checked: CheckedKernel): string {
  const d = describeConfig(checked.bindings);
  return d ? `in the default configuration (${d.replace(/,/g, ', ')})` : 'in the default configuration';
}

/** A one-line detail for completion and symbols. */
export function defDetail(d: Def): string {
  const n = d.node;
  switch (d.kind) {
    case 'kernel':
      return kernelSignature(d.kernel);
    case 'parameter':
      return paramText(n as Param);
    case 'dimension':
      return `${d.name}: shape symbol (i32, bound at launch)`;
    case 'constant':
      return constText(n as ConstDecl);
    case 'tunable':
      return tunableText(n as TunableDecl);
    case 'local':
      return `${d.mutable ? 'var' : 'let'} ${d.name}`;
  }
}

/** `f32[128, 128]`, `i32` for a scalar (with its value when known at compile time), else the checker's words. */
export function typeLabel(t: ExprType): string {
  if (t.kind !== 'tile') return formatType(t);
  if (t.shape.length > 0) return `${t.dtype}[${t.shape.join(', ')}]`;
  return t.value === undefined ? t.dtype : `${t.dtype} = ${t.dtype === 'bool' ? String(t.value !== 0) : String(t.value)}`;
}
