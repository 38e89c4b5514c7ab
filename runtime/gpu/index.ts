/** The GPU runtime: devices, memory, modules, kernels and timing over the native addon (docs/gpu-runtime.md). */
export { Device, type DeviceInfo, type DriverProbe } from './device.js';
export { Buffer } from './buffer.js';
export { Module, Kernel, Stream, type Dim3, type LaunchOptions } from './module.js';
export { arg, packArgs, type KernelArg, type ScalarArg, type ScalarType, type PointerSource, type PackedArgs } from './kernel-args.js';
export { time, summarize, l2FlushBytes, type TimeOptions, type Timing } from './timing.js';
export { GpuError, GpuDriverError, GpuDisposedError, GpuUsageError, NoGpuDriverError, NativeAddonError, type GpuErrorCode } from './errors.js';
