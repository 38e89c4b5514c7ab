/**
 * Kernel arguments: a typed list of buffers and scalars, packed into one byte array with each value
 * at its natural alignment (as the kernel's .param space lays them out); the addon passes the
 * driver a pointer to each value. Pure: testable without a GPU.
 */
import { GpuUsageError } from './errors.js';

export type ScalarType = 'i32' | 'u32' | 'i64' | 'f32' | 'f64' | 'pointer';

export interface ScalarArg {
  readonly type: ScalarType;
  readonly value: number | bigint;
}

/** Anything that is passed as a device pointer (a Buffer). */
export interface PointerSource {
  readonly devicePointer: bigint;
}

export type KernelArg = ScalarArg | PointerSource;

/** Constructors for scalar arguments: `arg.i32(4096)`, `arg.f32(0.125)`, `arg.pointer(buffer.devicePointer + 16n)`. */
export const arg = {
  i32: (value: number): ScalarArg => ({ type: 'i32', value }),
  u32: (value: number): ScalarArg => ({ type: 'u32', value }),
  i64: (value: number | bigint): ScalarArg => ({ type: 'i64', value }),
  f32: (value: number): ScalarArg => ({ type: 'f32', value }),
  f64: (value: number): ScalarArg => ({ type: 'f64', value }),
  pointer: (value: number | bigint): ScalarArg => ({ type: 'pointer', value }),
};

const SIZE: Record<ScalarType, number> = { i32: 4, u32: 4, f32: 4, i64: 8, f64: 8, pointer: 8 };

export interface PackedArgs {
  bytes: Uint8Array;
  /** Where argument k starts in `bytes`. */
  offsets: Uint32Array;
}

function isPointerSource(a: KernelArg): a is PointerSource {
  return 'devicePointer' in a;
}

function integer(value: number | bigint, type: ScalarType, index: number, min: bigint, max: bigint): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new GpuUsageError(`kernel argument ${index} (${type}): ${value} is not an integer`);
  }
  const v = BigInt(value);
  if (v < min || v > max) throw new GpuUsageError(`kernel argument ${index} (${type}): ${value} is out of range`);
  return v;
}

export function packArgs(args: readonly KernelArg[]): PackedArgs {
  const offsets = new Uint32Array(args.length);
  let size = 0;
  const typed = args.map((a, k): ScalarArg => {
    const s: ScalarArg = isPointerSource(a) ? { type: 'pointer', value: a.devicePointer } : a;
    if (!(s.type in SIZE)) throw new GpuUsageError(`kernel argument ${k}: unknown type ${String(s.type)}`);
    const n = SIZE[s.type];
    size = Math.ceil(size / n) * n;
    offsets[k] = size;
    size += n;
    return s;
  });
  const bytes = new Uint8Array(Math.max(size, 8));
  const view = new DataView(bytes.buffer);
  typed.forEach((s, k) => {
    const o = offsets[k]!;
    switch (s.type) {
      case 'i32':
        view.setInt32(o, Number(integer(s.value, s.type, k, -(2n ** 31n), 2n ** 31n - 1n)), true);
        break;
      case 'u32':
        view.setUint32(o, Number(integer(s.value, s.type, k, 0n, 2n ** 32n - 1n)), true);
        break;
      case 'i64':
        view.setBigInt64(o, integer(s.value, s.type, k, -(2n ** 63n), 2n ** 63n - 1n), true);
        break;
      case 'pointer':
        view.setBigUint64(o, integer(s.value, s.type, k, 0n, 2n ** 64n - 1n), true);
        break;
      case 'f32':
        view.setFloat32(o, Number(s.value), true);
        break;
      case 'f64':
        view.setFloat64(o, Number(s.value), true);
        break;
    }
  });
  return { bytes, offsets };
}
