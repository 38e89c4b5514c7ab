/** What a name in a kernel refers to, as resolved by the checker. */
import type { Ident } from './ast.js';
import type { DType } from './dtype.js';
import type { TileT } from './types.js';

/** A compile-time value: of a `const` parameter, a tunable, or a folded expression. */
export type CVal =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'type'; readonly value: DType };

export function formatCVal(v: CVal): string {
  return String(v.value);
}

/** One point of a kernel's configuration space: a value for every constant and tunable. */
export interface Bindings {
  readonly values: ReadonlyMap<string, CVal>;
}

export interface TensorSym {
  readonly kind: 'tensor';
  readonly name: string;
  readonly dtype: DType;
  /** Each dim: a launch-bound symbol, or a number fixed by a constant or literal. */
  readonly dims: readonly (string | number)[];
}

export interface ScalarSym {
  readonly kind: 'scalar';
  readonly name: string;
  readonly dtype: DType;
}

/** A shape symbol (`M`): a runtime i32, read from the first tensor that has it. */
export interface DimSym {
  readonly kind: 'dim';
  readonly name: string;
  readonly tensor: string;
  readonly axis: number;
}

export interface ConstSym {
  readonly kind: 'const';
  readonly name: string;
  readonly value: CVal;
  readonly tunable: boolean;
}

/** A `let`, `var` or loop variable. Its type never changes. */
export interface LocalSym {
  readonly kind: 'local';
  readonly name: string;
  readonly mutable: boolean;
  readonly type: TileT;
  readonly decl: Ident;
  /** Number of enclosing runtime control-flow statements at the declaration. */
  readonly depth: number;
}

export interface InfSym {
  readonly kind: 'inf';
}

export interface DTypeSym {
  readonly kind: 'dtype';
  readonly dtype: DType;
}

export type Sym = TensorSym | ScalarSym | DimSym | ConstSym | LocalSym | InfSym | DTypeSym;
