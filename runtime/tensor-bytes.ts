/**
 * A tensor's elements as the bytes a device buffer holds (little-endian, the dtype's own width: bit
 * patterns for f16, bf16 and fp8, 0/1 for bool), and back. Every launcher that copies tensors to
 * real or emulated device memory as raw bytes (the HIP CPU harness, the GPU backend) uses these.
 */
import type { TensorArg } from '../compiler/interpreter.js';
import type { DType } from '../dsl/dtype.js';
import { decodeBits, encodeBits } from '../dsl/float-rounding.js';

/** Bytes per element of each dtype in a device buffer. */
export const ELEMENT_BYTES: Readonly<Record<DType, number>> = { f32: 4, f16: 2, bf16: 2, i32: 4, i64: 8, bool: 1, f8e4m3: 1, f8e5m2: 1 };

/** A tensor's elements in their host representation (bit patterns for f16, bf16, fp8; 0/1 for bool). */
export function tensorBytes(dtype: DType, data: Float64Array): Uint8Array {
  const n = data.length;
  switch (dtype) {
    case 'f32':
      return new Uint8Array(Float32Array.from(data).buffer);
    case 'f16':
    case 'bf16':
      return new Uint8Array(Uint16Array.from(data, (x) => encodeBits(dtype, x)).buffer);
    case 'i32':
      return new Uint8Array(Int32Array.from(data).buffer);
    case 'i64': {
      // Output tensors arrive NaN-filled; an integer buffer holds 0 there.
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = Number.isFinite(data[i]!) ? BigInt(Math.trunc(data[i]!)) : 0n;
      return new Uint8Array(out.buffer);
    }
    case 'bool':
    case 'f8e4m3':
    case 'f8e5m2':
      return Uint8Array.from(data, (x) => encodeBits(dtype, x));
  }
}

/** Inverse of tensorBytes, into `t.data` (any `bytes`: it is copied for aligned typed-array views). */
export function readTensor(t: TensorArg, dtype: DType, bytes: Uint8Array): void {
  const n = t.data.length;
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  switch (dtype) {
    case 'f32': {
      const v = new Float32Array(buf);
      for (let i = 0; i < n; i++) t.data[i] = v[i]!;
      return;
    }
    case 'f16':
    case 'bf16': {
      const v = new Uint16Array(buf);
      for (let i = 0; i < n; i++) t.data[i] = decodeBits(dtype, v[i]!);
      return;
    }
    case 'i32': {
      const v = new Int32Array(buf);
      for (let i = 0; i < n; i++) t.data[i] = v[i]!;
      return;
    }
    case 'i64': {
      const v = new BigInt64Array(buf);
      for (let i = 0; i < n; i++) t.data[i] = Number(v[i]!);
      return;
    }
    case 'bool':
    case 'f8e4m3':
    case 'f8e5m2': {
      const v = new Uint8Array(buf);
      for (let i = 0; i < n; i++) t.data[i] = decodeBits(dtype, v[i]!); // bool 0/1, fp8 bit patterns
      return;
    }
  }
}

