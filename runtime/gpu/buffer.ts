/** Device memory: allocate, copy from and to typed arrays, memset, dispose. */
import type { Device } from './device.js';
import { native, type NativeBuffer } from './native.js';
import type { PointerSource } from './kernel-args.js';

type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export class Buffer implements PointerSource {
  /** @internal */
  readonly native: NativeBuffer;
  readonly device: Device;

  private constructor(device: Device, handle: NativeBuffer) {
    this.device = device;
    this.native = handle;
  }

  /** `bytes` of uninitialized device memory. */
  static alloc(device: Device, bytes: number): Buffer {
    return native((a) => new Buffer(device, new a.NativeBuffer(device.native, bytes)));
  }

  /** A buffer holding a copy of `data`. */
  static from(device: Device, data: ArrayBufferView): Buffer {
    const b = Buffer.alloc(device, data.byteLength);
    try {
      b.upload(data);
    } catch (e) {
      b.dispose();
      throw e;
    }
    return b;
  }

  get bytes(): number {
    return this.native.bytes;
  }

  /** The device address, for kernel arguments; GpuDisposedError after dispose(). */
  get devicePointer(): bigint {
    return native(() => this.native.pointer);
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Copies `data` into the buffer at `offset` bytes (synchronous). */
  upload(data: ArrayBufferView, offset = 0): void {
    native(() => this.native.upload(data, offset));
  }

  /** Copies the buffer (from `offset`) into `into`, or into a new Uint8Array of the whole buffer. */
  download(): Uint8Array;
  download<T extends TypedArray>(into: T, offset?: number): T;
  download(into?: TypedArray, offset = 0): TypedArray {
    const target = into ?? new Uint8Array(this.bytes);
    native(() => this.native.download(target, offset));
    return target;
  }

  /** Sets `bytes` bytes from `offset` (default: all) to `value`. */
  memset(value: number, offset = 0, bytes?: number): void {
    native(() => (bytes === undefined ? this.native.memset(value, offset) : this.native.memset(value, offset, bytes)));
  }

  /** Frees the memory now; later calls are harmless, later use is a GpuDisposedError. */
  dispose(): void {
    native(() => this.native.dispose());
  }
}
