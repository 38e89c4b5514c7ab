/** Code on the device: a Module (PTX through the driver's JIT, a cubin or fatbin, or a HIP code object) and its Kernels. */
import type { Device } from './device.js';
import { GpuUsageError } from './errors.js';
import { packArgs, type KernelArg } from './kernel-args.js';
import { native, type NativeFunction, type NativeFunctionInfo, type NativeModule, type NativeStream } from './native.js';

export type Dim3 = readonly [number, number, number];

/** A stream for launches and event records; without one, work goes to the default stream. */
export class Stream {
  /** @internal */
  readonly native: NativeStream;
  readonly device: Device;
  private constructor(device: Device, handle: NativeStream) {
    this.device = device;
    this.native = handle;
  }
  static create(device: Device): Stream {
    return native((a) => new Stream(device, new a.NativeStream(device.native)));
  }
  synchronize(): void {
    native(() => this.native.synchronize());
  }
  dispose(): void {
    native(() => this.native.dispose());
  }
}

export interface LaunchOptions {
  grid: Dim3;
  block: Dim3;
  /** Dynamic shared memory in bytes (default 0). */
  sharedBytes?: number;
  args: readonly KernelArg[];
  stream?: Stream;
  /**
   * Raise the kernel's dynamic shared memory limit to `sharedBytes` first (CUDA's
   * CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES), needed above 48 KB; off by default so a
   * launch never changes a kernel's attributes unasked.
   */
  raiseSharedLimit?: boolean;
}

export class Kernel {
  readonly name: string;
  readonly module: Module;
  private readonly native: NativeFunction;
  private raisedTo = -1;

  /** @internal */
  constructor(module: Module, name: string, handle: NativeFunction) {
    this.module = module;
    this.name = name;
    this.native = handle;
  }

  /** Registers, static/local memory and limits as the driver reports them. */
  info(): NativeFunctionInfo {
    return native(() => this.native.info());
  }

  /** Allows up to `bytes` of dynamic shared memory per block (above 48 KB needs this on NVIDIA). */
  setMaxDynamicSharedBytes(bytes: number): void {
    native(() => this.native.setMaxDynamicShared(bytes));
    this.raisedTo = bytes;
  }

  /** Launches asynchronously; errors the driver reports at launch (bad configuration, too much shared memory) throw here. */
  launch(opts: LaunchOptions): void {
    const sharedBytes = opts.sharedBytes ?? 0;
    const dims = (d: Dim3, what: string): Uint32Array => {
      if (d.length !== 3 || !d.every((x) => Number.isInteger(x) && x >= 1 && x <= 0xffffffff)) {
        throw new GpuUsageError(`${what} must be three positive integers, got [${d.join(', ')}]`);
      }
      return Uint32Array.from(d);
    };
    const grid = dims(opts.grid, 'grid');
    const block = dims(opts.block, 'block');
    const packed = packArgs(opts.args);
    if (opts.raiseSharedLimit && sharedBytes > this.raisedTo) this.setMaxDynamicSharedBytes(sharedBytes);
    native(() => this.native.launch(grid, block, sharedBytes, opts.stream?.native ?? null, packed.bytes, packed.offsets));
  }
}

export class Module {
  readonly device: Device;
  /** @internal */
  readonly native: NativeModule;

  private constructor(device: Device, handle: NativeModule) {
    this.device = device;
    this.native = handle;
  }

  private static load(device: Device, image: Uint8Array): Module {
    return native((a) => new Module(device, new a.NativeModule(device.native, image)));
  }

  /** PTX text, compiled by the driver's JIT for this device; a JIT failure is a GpuDriverError whose `log` holds the JIT's error log. */
  static fromPtx(device: Device, ptx: string): Module {
    return Module.load(device, new TextEncoder().encode(`${ptx}\0`)); // the driver reads PTX up to a NUL
  }

  /** A cubin or fatbin (e.g. from compiler/toolchain/ptxas.ts `assemble`). */
  static fromCubin(device: Device, cubin: Uint8Array): Module {
    return Module.load(device, cubin);
  }

  /** A HIP code object (from compiler/toolchain/clang.ts); needs the HIP runtime. */
  static fromHipCodeObject(device: Device, codeObject: Uint8Array): Module {
    return Module.load(device, codeObject);
  }

  /** The JIT's info log of the load (CUDA; empty otherwise). */
  get infoLog(): string {
    return this.native.infoLog;
  }

  /** A kernel by its entry name; a missing name is a GpuDriverError naming cuModuleGetFunction and the kernel. */
  kernel(name: string): Kernel {
    return native((a) => new Kernel(this, name, new a.NativeFunction(this.native, name)));
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Unloads now; kernels from it then fail with GpuDisposedError. Idempotent. */
  dispose(): void {
    native(() => this.native.dispose());
  }
}
