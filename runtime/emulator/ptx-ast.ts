/**
 * The syntax tree of a PTX module, as the parser produces it and the emulator loads it.
 * Instructions keep their opcode and modifiers as written (`mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32`
 * → opcode `mma`, modifiers `['sync', 'aligned', 'm16n8k16', 'row', 'col', 'f32', 'f16', 'f16', 'f32']`);
 * the emulator decides what they mean. Every node carries its PTX line and column.
 */

export interface PtxPos {
  /** 1-based line in the PTX text. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/** A `.loc file line col` directive: the high-level source position of what follows. */
export interface SourceLoc {
  readonly file: number;
  readonly line: number;
  readonly column: number;
}

export type StateSpace = 'reg' | 'sreg' | 'const' | 'global' | 'local' | 'param' | 'shared';

/** A variable declaration: `.shared .align 16 .b8 smem[4096];`, `.global .f32 g = 1.0;`, `.reg .b32 %r<10>;`. */
export interface VarDecl {
  readonly kind: 'var';
  readonly space: StateSpace;
  /** Element type without the dot: `b8`, `f32`, `u64`, `pred`, `f16x2`, … */
  readonly type: string;
  readonly name: string;
  readonly align?: number;
  /** `.v2`/`.v4` vector variables. */
  readonly vector?: number;
  /** Array dimensions; `null` for an unsized dimension (`extern .shared .b8 smem[]`). */
  readonly dims?: readonly (number | null)[];
  /** `%r<100>`: declares %r0 … %r99. */
  readonly count?: number;
  readonly extern?: boolean;
  readonly visible?: boolean;
  readonly weak?: boolean;
  /** Initializer values, flattened (numbers, or bigints for 64-bit integers). */
  readonly init?: readonly (number | bigint)[];
  /**
   * Initializer elements that are addresses of symbols (`= generic(x)`, `= {arr+8, f}`); `init` holds 0 at
   * those indices. nvcc emits these for `__device__ int *p = &x;` and function-pointer tables.
   */
  readonly initSymbols?: readonly { readonly index: number; readonly symbol: string; readonly offset: number; readonly generic: boolean }[];
  readonly pos: PtxPos;
}

export interface Guard {
  /** Predicate register name, e.g. `%p1`. */
  readonly pred: string;
  readonly negate: boolean;
}

export type Operand =
  /** A register (`%r1`), special register (`%tid.x`, `%laneid`) or a variable/function name used as a value. */
  | { readonly kind: 'reg'; readonly name: string; /** `!%p1`: a negated predicate source (setp, vote). */ readonly negate?: boolean }
  /** An integer immediate; 64-bit values that do not fit a double exactly are bigints. */
  | { readonly kind: 'int'; readonly value: number | bigint }
  /** A floating-point immediate (`0f3F800000`, `0d3FF0000000000000`, `1.5`); `bits32`/`bits64` keep the exact hex form. */
  | {
      readonly kind: 'float';
      readonly value: number;
      readonly width: 32 | 64;
      /** Present when written `0fXXXXXXXX` (NaN payloads survive here, not in `value`). */
      readonly bits32?: number;
      /** Present when written `0dXXXXXXXXXXXXXXXX`. */
      readonly bits64?: bigint;
    }
  /** A brace list `{%r1, %r2, %r3, %r4}`; `_` elements are sinks. */
  | { readonly kind: 'vec'; readonly elems: readonly Operand[] }
  /** An address `[base]`, `[base+off]`; base is a register or a symbol (variable) name, or absent for `[imm]`. */
  | {
      readonly kind: 'addr';
      readonly base?: string;
      readonly offset: number;
      /** `[tex, {%f1, %f2}]`, `[%rd1, {%r2, %r3}]` (texture and tensor-map coordinates). */
      readonly coords?: readonly Operand[];
    }
  /** `_`: a result nobody reads. */
  | { readonly kind: 'sink' }
  /** A label used as a branch target, or a function name in `call`. */
  | { readonly kind: 'label'; readonly name: string };

export interface Instruction {
  readonly kind: 'inst';
  readonly guard?: Guard;
  readonly opcode: string;
  readonly modifiers: readonly string[];
  readonly operands: readonly Operand[];
  /** For `call`: `call (ret), fname, (args);` keeps the three groups. */
  readonly call?: { readonly returns: readonly Operand[]; readonly target: string; readonly args: readonly Operand[]; readonly uni: boolean };
  readonly pos: PtxPos;
  /** The most recent `.loc` before the instruction, if any. */
  readonly loc?: SourceLoc;
  /** The instruction's PTX text, trimmed, for reports. */
  readonly text: string;
}

export interface Label {
  readonly kind: 'label';
  readonly name: string;
  readonly pos: PtxPos;
}

/** A nested `{ … }` scope; its declarations are visible only inside it. */
export interface Scope {
  readonly kind: 'scope';
  readonly body: readonly Statement[];
  readonly pos: PtxPos;
}

export type Statement = Instruction | Label | VarDecl | Scope;

export interface PtxFunction {
  readonly kind: 'entry' | 'func';
  readonly name: string;
  readonly params: readonly VarDecl[];
  /** `.func (.param .b32 r) name (...)`. */
  readonly returns: readonly VarDecl[];
  /** Performance directives as written (`maxntid`, `reqntid`, `minnctapersm`, `maxnreg`, …). */
  readonly directives: Readonly<Record<string, readonly number[]>>;
  /** Absent for a declaration without a body (`.extern .func`). */
  readonly body?: readonly Statement[];
  readonly visible: boolean;
  readonly pos: PtxPos;
}

export interface PtxModule {
  readonly version: string;
  readonly target: readonly string[];
  readonly addressSize: number;
  /** Module-scope variables (`.global`, `.const`, `.shared`). */
  readonly globals: readonly VarDecl[];
  readonly functions: readonly PtxFunction[];
  /** `.file N "path"` entries. */
  readonly files: ReadonlyMap<number, string>;
}

/** A PTX syntax error, with its position. */
export class PtxSyntaxError extends Error {
  override name = 'PtxSyntaxError';
  constructor(
    message: string,
    readonly pos: PtxPos,
  ) {
    super(`${pos.line}:${pos.column}: ${message}`);
  }
}
