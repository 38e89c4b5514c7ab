/**
 * The meaning of each elementwise op on one element, shared by the checker's and the builder's
 * constant folding and by the reference interpreter, so that they can never disagree. Every result is computed in
 * float64 and rounded once to the result dtype (math functions on f16/bf16 thus behave as
 * "compute in f32 or better, round to the storage type").
 */
import type { DType } from './dtype.js';
import { isInt } from './dtype.js';
import { roundToDType } from './float-rounding.js';

export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'rem' | 'max' | 'min' | 'and' | 'or';
export type CmpPred = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
/** The source operators and the ops they denote. */
export const ARITH_OPS = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'rem' } as const satisfies Record<string, BinaryFn>;
export const CMP_OPS = { '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' } as const satisfies Record<string, CmpPred>;

export type UnaryFn = 'neg' | 'not' | 'abs' | 'exp' | 'exp2' | 'log' | 'log2' | 'sqrt' | 'rsqrt' | 'tanh' | 'sigmoid' | 'silu' | 'gelu';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export function applyBinary(fn: BinaryFn, a: number, b: number, d: DType): number {
  const int = isInt(d);
  let r: number;
  switch (fn) {
    case 'add':
      r = a + b;
      break;
    case 'sub':
      r = a - b;
      break;
    case 'mul':
      // Math.imul keeps i32 products exact where a*b would exceed 2^53.
      r = d === 'i32' ? Math.imul(a, b) : a * b;
      break;
    case 'div':
      r = int ? (b === 0 ? 0 : Math.trunc(a / b)) : a / b;
      break;
    case 'rem':
      r = int ? (b === 0 ? 0 : a % b) : a % b;
      break;
    case 'max':
      r = Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
      break;
    case 'min':
      r = Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
      break;
    case 'and':
      r = a && b ? 1 : 0;
      break;
    case 'or':
      r = a || b ? 1 : 0;
      break;
  }
  return roundToDType(d, r);
}

export function applyCmp(p: CmpPred, a: number, b: number): boolean {
  switch (p) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
  }
}

export function applyUnary(fn: UnaryFn, x: number, d: DType): number {
  let r: number;
  switch (fn) {
    case 'neg':
      r = -x;
      break;
    case 'not':
      r = x ? 0 : 1;
      break;
    case 'abs':
      r = Math.abs(x);
      break;
    case 'exp':
      r = Math.exp(x);
      break;
    case 'exp2':
      r = Math.pow(2, x);
      break;
    case 'log':
      r = Math.log(x);
      break;
    case 'log2':
      r = Math.log2(x);
      break;
    case 'sqrt':
      r = Math.sqrt(x);
      break;
    case 'rsqrt':
      r = 1 / Math.sqrt(x);
      break;
    case 'tanh':
      r = Math.tanh(x);
      break;
    case 'sigmoid':
      r = 1 / (1 + Math.exp(-x));
      break;
    case 'silu':
      r = x / (1 + Math.exp(-x));
      break;
    case 'gelu':
      r = 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
      break;
  }
  return roundToDType(d, r);
}
