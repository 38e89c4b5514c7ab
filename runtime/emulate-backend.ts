/**
 * The `emulate` backend of `tilekit run`: launches a compiled kernel (compiler/ptx/kernel-abi.ts,
 * CompiledPtx) in the PTX emulator on the tensors and scalars of a `tilekit run` argument map, and
 * copies every tensor back, so the results compare one to one with the interpreter's.
 *
 * The argument list follows `compiled.params` (the ABI's order): tensors are buffers of their
 * dtype (bool and the fp8 types as bytes), shape symbols are `.u32` sizes, strides are `.u64`
 * row-major element strides, scalars are passed in their own type. Output tensors arrive filled
 * with NaN (as in `tilekit run`), which is passed as data, so an element the kernel never writes
 * comes back as NaN rather than as a sanitizer finding.
 */
import { gridOf, type KernelArgs } from '../compiler/interpreter.js';
import type { IRKernel } from '../compiler/ir.js';
import type { AbiParam } from '../compiler/kernel-abi.js';
import type { CompiledPtx } from '../compiler/ptx/kernel-abi.js';
import type { DType } from '../dsl/dtype.js';
import { decodeBits, encodeBits } from '../dsl/float-rounding.js';
import { AbiArgsError, abiValue, tensorArg } from './abi-args.js';
import { emulate } from './emulator/emulate.js';
import type { BufferDType, Dim3, EmuArg, EmuStats, Finding, ScalarType } from './emulator/types.js';

export interface EmulatorRun {
  /** The sanitizer's findings; empty for a clean run. */
  readonly findings: Finding[];
  readonly stats: EmuStats;
  /** The grid the kernel's `grid` clause computed (as `gridOf` returns it: 1 to 3 sizes). */
  readonly grid: number[];
}

/** How each tile dtype is held in an emulator buffer. */
const BUFFER_DTYPE: Readonly<Record<DType, BufferDType>> = {
  f32: 'f32',
  f16: 'f16',
  bf16: 'bf16',
  i32: 'i32',
  i64: 'i64',
  bool: 'u8',
  f8e4m3: 'u8',
  f8e5m2: 'u8',
};

/** Scalar parameter types the emulator can pass (it takes 4- and 8-byte scalars only). */
const SCALAR_TYPE: Readonly<Partial<Record<DType, ScalarType>>> = {
  f32: 'f32',
  i32: 'i32',
  i64: 'i64',
};

/** Byte-stored dtypes whose elements are bit patterns (fp8) or 0/1 (bool). */
const isByteCoded = (d: DType): boolean => d === 'bool' || d === 'f8e4m3' || d === 'f8e5m2';

const EMPTY_STATS: EmuStats = {
  instructions: {},
  threadInstructions: 0,
  shared: { requests: 0, wavefronts: 0, conflictWavefronts: 0 },
  global: { requests: 0, sectors: 0 },
};

/** One emulator argument for one ABI parameter. */
function emuArg(p: AbiParam, ir: IRKernel, args: KernelArgs): EmuArg {
  const v = abiValue(p, ir, args);
  if ('tensor' in v) {
    const dtype = BUFFER_DTYPE[v.param.dtype];
    if (!isByteCoded(v.param.dtype)) return { type: 'ptr', dtype, data: v.tensor.data };
    // bool as 0/1 bytes; fp8 as its bit pattern (NaN included, so unwritten elements stay visible).
    return { type: 'ptr', dtype, data: Array.from(v.tensor.data, (x) => encodeBits(v.param.dtype, x)) };
  }
  switch (p.kind) {
    case 'dim':
      return { type: 'u32', value: v.value };
    case 'stride':
      return { type: 'u64', value: v.value };
    case 'scalar': {
      const type = SCALAR_TYPE[p.dtype];
      if (type === undefined) {
        throw new AbiArgsError(`parameter '${p.name}': ${p.dtype} scalars cannot be passed to the emulator (it takes f32, i32 and i64 scalars)`);
      }
      return { type, value: v.value };
    }
    case 'tensor':
      throw new Error('unreachable: tensor values carry a TensorArg');
  }
}

/** An element read back from an emulator buffer, as an exact value of `dtype`. */
function fromBuffer(dtype: DType, x: number | bigint): number {
  if (typeof x === 'bigint') return Number(x);
  return isByteCoded(dtype) ? decodeBits(dtype, x) : x;
}

/**
 * Runs `compiled` (built from `ir`) in the emulator over the grid `ir`'s `grid` clause computes for
 * `args`, with the sanitizer on, and writes every tensor buffer back into its TensorArg.
 * Throws AbiArgsError when the arguments do not fit, and the emulator's
 * EmulatorInputError when it cannot run the PTX (an unsupported instruction, too much shared memory).
 */
export function runOnEmulator(compiled: CompiledPtx, ir: IRKernel, args: KernelArgs, opts: { maxSteps?: number } = {}): EmulatorRun {
  const emuArgs = compiled.params.map((p) => emuArg(p, ir, args));
  const grid = gridOf(ir, args);
  const launchGrid: Dim3 = [grid[0] ?? 1, grid[1] ?? 1, grid[2] ?? 1];
  // An empty grid (a zero-sized tensor) launches nothing; the emulator wants at least one CTA.
  if (launchGrid.some((g) => g < 1)) return { findings: [], stats: EMPTY_STATS, grid };

  const result = emulate(
    compiled.ptx,
    compiled.entry,
    { grid: launchGrid, block: [compiled.threads, 1, 1], dynamicSmem: compiled.dynamicSmem },
    emuArgs,
    opts.maxSteps !== undefined ? { maxSteps: opts.maxSteps } : {},
  );

  for (const b of result.buffers) {
    const p = compiled.params[b.index];
    if (p?.kind !== 'tensor') continue;
    const t = tensorArg(args, p.tensor, `parameter '${p.name}'`);
    const n = Math.min(t.data.length, b.data.length);
    for (let i = 0; i < n; i++) t.data[i] = fromBuffer(p.dtype, b.data[i]!);
  }
  return { findings: [...result.findings], stats: result.stats, grid };
}
