/**
 * A GPU device: `Device.list()` (what is attached), `Device.open(index)` (its primary context,
 * through the native addon). Buffers, modules and streams are made from an open Device;
 * `dispose()` releases everything still alive that was made from it, then the context.
 */
import { NoGpuDriverError } from './errors.js';
import { native, type NativeDevice, type NativeDeviceInfo, type NativeProbe } from './native.js';

/** What a device reports; `arch` is `sm_90` (CUDA, from the compute capability) or `gfx942` (HIP). */
export interface DeviceInfo extends NativeDeviceInfo {
  index: number;
  api: 'cuda' | 'hip';
}

export type DriverProbe = ({ found: true } & NativeProbe) | { found: false; message: string };

export class Device {
  /** @internal the addon's handle; used by Buffer, Module, Stream and the timer. */
  readonly native: NativeDevice;
  readonly index: number;
  readonly info: DeviceInfo;

  private constructor(index: number, handle: NativeDevice, info: DeviceInfo) {
    this.index = index;
    this.native = handle;
    this.info = info;
  }

  /** Which driver is loaded and how many devices it has; `found: false` with the "no GPU driver found" message otherwise. */
  static driver(): DriverProbe {
    try {
      return { found: true, ...native((a) => a.probe()) };
    } catch (e) {
      if (e instanceof NoGpuDriverError) return { found: false, message: e.message };
      throw e;
    }
  }

  /** The attached devices; empty when there is no driver or it has no device (Device.driver() says which). */
  static list(): DeviceInfo[] {
    const probe = Device.driver();
    if (!probe.found) return [];
    return native((a) => Array.from({ length: probe.deviceCount }, (_, i) => ({ ...a.deviceInfo(i), index: i, api: probe.api })));
  }

  /** Opens device `index` (default 0); NoGpuDriverError without a driver, GpuUsageError for a missing index. */
  static open(index = 0): Device {
    return native((a) => {
      const probe = a.probe();
      const handle = new a.NativeDevice(index);
      return new Device(index, handle, { ...handle.info(), index, api: probe.api });
    });
  }

  /** Waits for all work on the device. */
  synchronize(): void {
    native(() => this.native.synchronize());
  }

  get disposed(): boolean {
    return this.native.disposed;
  }

  /** Frees every buffer, module, stream and event still alive that was made from this device, then releases its context. Idempotent. */
  dispose(): void {
    native(() => this.native.dispose());
  }
}
