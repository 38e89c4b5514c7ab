/**
 * The emulator's public types: how a kernel is launched, its arguments, and what comes back.
 * `emulate(ptx, kernel, launch, args)` in ./emulate.ts is the entry point.
 */

/** Element types of buffers passed to a kernel. */
export type BufferDType = 'f64' | 'f32' | 'f16' | 'bf16' | 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64';

/** Types of scalar kernel arguments. */
export type ScalarType = 'i32' | 'u32' | 'i64' | 'u64' | 'f32' | 'f64';

export type Dim3 = readonly [number, number, number];

export interface LaunchConfig {
  readonly grid: Dim3;
  readonly block: Dim3;
  /** Bytes of dynamic shared memory (`extern .shared`), default 0. */
  readonly dynamicSmem?: number;
}

/**
 * One kernel argument, in parameter order:
 * - a buffer: `data` (numbers; bigints allowed for i64/u64), or `size` elements filled with
 *   `fill` — `poison` (default: bytes are uninitialized, reading them is reported) or `zero`;
 * - a scalar of one of the ScalarTypes.
 */
export type EmuArg =
  | { readonly type: 'ptr'; readonly dtype: BufferDType; readonly data: ArrayLike<number | bigint> }
  | { readonly type: 'ptr'; readonly dtype: BufferDType; readonly size: number; readonly fill?: 'poison' | 'zero' }
  | { readonly type: ScalarType; readonly value: number | bigint };

export type FindingKind =
  | 'out-of-bounds'
  | 'misaligned'
  | 'uninitialized-read'
  | 'shared-race'
  | 'barrier-divergence'
  | 'deadlock'
  | 'step-limit'
  | 'trap'
  | 'cp-async-read-before-wait';

/** A sanitizer finding, located as precisely as the PTX allows. */
export interface Finding {
  readonly kind: FindingKind;
  readonly message: string;
  readonly kernel: string;
  readonly cta: Dim3;
  readonly thread: Dim3;
  /** The instruction's PTX text and line. */
  readonly instruction: string;
  readonly ptxLine: number;
  /** From the nearest `.loc`: the source file and line, when the PTX has them. */
  readonly source?: { readonly file: string; readonly line: number; readonly column: number };
  /** How many more identical findings (same kind and instruction) were folded into this one. */
  readonly repeats: number;
}

export interface EmuStats {
  /** Thread-instructions executed, by class (`int`, `fp32`, `fp16`, `mma`, `ld.global`, `st.shared`, `control`, …). */
  readonly instructions: Readonly<Record<string, number>>;
  readonly threadInstructions: number;
  /** Warp-level shared-memory accesses, and the extra wavefronts bank conflicts cost them. */
  readonly shared: { readonly requests: number; readonly wavefronts: number; readonly conflictWavefronts: number };
  /** Warp-level global accesses and the 32-byte sectors they touched (coalescing: sectors / requests). */
  readonly global: { readonly requests: number; readonly sectors: number };
}

export interface EmuResult {
  /** One entry per pointer parameter, in parameter order. */
  readonly buffers: readonly { readonly index: number; readonly dtype: BufferDType; readonly data: (number | bigint)[] }[];
  readonly findings: readonly Finding[];
  readonly stats: EmuStats;
}

/** Bad input (unparseable PTX, unknown kernel, wrong arguments, unsupported instruction): exit 2 in the CLI. */
export class EmulatorInputError extends Error {
  override name = 'EmulatorInputError';
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(line !== undefined ? `${line}:${column ?? 1}: ${message}` : message);
  }
}
