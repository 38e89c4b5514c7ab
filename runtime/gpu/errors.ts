/**
 * The errors of the GPU runtime. Each has a stable `code`, so callers (the tuner, the serving
 * runtime, `tilekit devices`) can tell "no GPU here" from "the driver rejected this" without
 * parsing messages.
 */

export type GpuErrorCode = 'TK_GPU_ADDON_NOT_BUILT' | 'TK_GPU_NO_DRIVER' | 'TK_GPU_DRIVER' | 'TK_GPU_DISPOSED' | 'TK_GPU_USAGE';

export class GpuError extends Error {
  readonly code: GpuErrorCode;
  constructor(code: GpuErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The native addon (build/Release/tilekit_native.node) is missing or does not load. */
export class NativeAddonError extends GpuError {
  constructor(message: string) {
    super('TK_GPU_ADDON_NOT_BUILT', message);
  }
}

/** Neither libcuda.so.1 nor libamdhip64.so could be opened; the message lists what was tried and dlerror(). */
export class NoGpuDriverError extends GpuError {
  constructor(message: string) {
    super('TK_GPU_NO_DRIVER', message);
  }
}

/** A driver call failed, e.g. `cuModuleGetFunction(gemm): CUDA_ERROR_NOT_FOUND: named symbol not found`. */
export class GpuDriverError extends GpuError {
  /** Which driver API: 'cuda' or 'hip'. */
  readonly api: string;
  /** The call that failed, with its subject: `cuModuleGetFunction(gemm_kernel)`. */
  readonly call: string;
  /** The driver's name for the result (cuGetErrorName / hipGetErrorName), e.g. CUDA_ERROR_NOT_FOUND. */
  readonly driverCode: string;
  /** The numeric result code. */
  readonly driverNumber: number;
  /** The driver's message for it (cuGetErrorString). */
  readonly driverMessage: string;
  /** The JIT's error log, when a module load failed with one. */
  readonly log: string | undefined;
  constructor(fields: { api: string; call: string; driverCode: string; driverNumber: number; driverMessage: string; log?: string | undefined }) {
    super('TK_GPU_DRIVER', `${fields.call}: ${fields.driverCode}: ${fields.driverMessage}${fields.log ? `\n${fields.log}` : ''}`);
    this.api = fields.api;
    this.call = fields.call;
    this.driverCode = fields.driverCode;
    this.driverNumber = fields.driverNumber;
    this.driverMessage = fields.driverMessage;
    this.log = fields.log;
  }
}

/** An object was used after dispose(), or after the Device or Module it came from was disposed. */
export class GpuDisposedError extends GpuError {
  constructor(message: string) {
    super('TK_GPU_DISPOSED', message);
  }
}

/** A bad argument: an out-of-range copy, a kernel argument of the wrong kind, a missing device index. */
export class GpuUsageError extends GpuError {
  constructor(message: string) {
    super('TK_GPU_USAGE', message);
  }
}
