/**
 * The devices the `model` measurement backend knows: vendor-published peaks and per-SM/CU limits,
 * plus the few model assumptions that belong to a device (each marked as such). Every number's
 * source is listed in docs/cost-model.md ("Device table"); where a number is an estimate rather
 * than a vendor figure, the field's comment says so.
 *
 * Nothing here measures anything: the model built on it (cost-model.ts) is labeled *modeled*.
 */
import type { AmdTarget } from '../compiler/hip/kernel-abi.js';
import type { NvidiaTarget } from '../compiler/ptx/kernel-abi.js';

export type DeviceName = 'h100' | 'h200' | 'a100' | 'mi300x';
export type Target = NvidiaTarget | AmdTarget;

/** What every device has, NVIDIA SM or AMD CU alike ("unit"). */
interface DeviceCommon {
  readonly name: DeviceName;
  /** The product the numbers describe (form factor and memory matter: SXM vs PCIe differ). */
  readonly product: string;
  /** The code targets Tilekit emits that run on this device. */
  readonly targets: readonly Target[];
  /** SMs (NVIDIA) or CUs (AMD) enabled on the product. */
  readonly units: number;
  /** Maximum boost / peak engine clock, MHz (the clock vector FP32 peaks are quoted at). */
  readonly boostClockMhz: number;
  /** The clock the datasheet's tensor/matrix peak is computed at, MHz (H100/H200: 1830, below max boost). */
  readonly tensorClockMhz: number;
  /** Dense (no 2:4 sparsity) f16 / bf16 tensor-core or matrix-core peak, f32 accumulate, TFLOP/s. */
  readonly peakTensorTflops: { readonly f16: number; readonly bf16: number };
  /** Vector (non-tensor) FP32 peak, TFLOP/s, counting an FMA as 2 FLOPs. */
  readonly peakFp32Tflops: number;
  /** FP32 lanes per unit per clock the model charges elementwise ops against (see docs). */
  readonly fp32LanesPerUnit: number;
  /** Transcendental (SFU / quarter-rate) lanes per unit per clock. */
  readonly sfuLanesPerUnit: number;
  /** Peak DRAM bandwidth, GB/s (1 GB = 1e9 bytes). */
  readonly hbmGBs: number;
  readonly hbmBytes: number;
  /** L2 capacity in bytes (MI300X: the sum over its 8 XCDs; each XCD's 4 MB is private to it). */
  readonly l2Bytes: number;
  /**
   * Aggregate L2 read bandwidth, GB/s. ESTIMATE on NVIDIA (not a datasheet figure; see docs):
   * 5120 B/clk × clock. MI300X: 2 KB/clk per XCD × 8 XCDs × 2.1 GHz (CDNA3 whitepaper).
   */
  readonly l2GBs: number;
  /** ASSUMPTION: the most L2 bandwidth one SM/CU can draw, bytes per clock. */
  readonly l2BytesPerClkPerUnit: number;
  /** MI300X's Infinity Cache (MALL), bytes, and its peak bandwidth, GB/s; absent on NVIDIA. */
  readonly infinityCache?: { readonly bytes: number; readonly GBs: number };
  /** Threads per warp (NVIDIA) / work-items per wavefront (AMD). */
  readonly warpSize: number;
  readonly maxThreadsPerBlock: number;
  readonly maxThreadsPerUnit: number;
  /** Most resident blocks (work-groups) per unit. AMD: 16 for multi-wave work-groups (barrier slots). */
  readonly maxBlocksPerUnit: number;
  /** Shared memory (NVIDIA) / LDS (AMD) a block can use, and a unit holds, bytes. */
  readonly maxSharedPerBlock: number;
  readonly sharedPerUnit: number;
  /** Shared memory / LDS is allocated in units of this many bytes. */
  readonly sharedAllocUnit: number;
  /** Shared memory the driver reserves per resident block (1 KB on sm_80+), counted against the unit. */
  readonly reservedSharedPerBlock: number;
  // ---- model assumptions tied to the device (docs/cost-model.md, "Assumptions") ----
  /**
   * ASSUMPTION: the fraction of the tensor peak the instructions Tilekit emits for `target` can
   * sustain (H100/H200: `mma.sync`, not `wgmma`; MI300X: sustained clock under MFMA load).
   */
  readonly achievableTensorFraction: Readonly<Partial<Record<Target, number>>>;
  /** ASSUMPTION: the fraction of peak DRAM bandwidth a streaming kernel reaches. */
  readonly achievableHbmFraction: number;
  /** ASSUMPTION: resident warps (NVIDIA) / waves (AMD) per unit at which tensor throughput saturates. */
  readonly saturationWarpsPerUnit: number;
  /** ASSUMPTION: per-launch overhead added to every modeled time, µs. */
  readonly launchOverheadUs: number;
}

export interface NvidiaDeviceSpec extends DeviceCommon {
  readonly vendor: 'nvidia';
  /** 32-bit registers per SM. */
  readonly registersPerSm: number;
  /** Registers are allocated per warp in units of this many (256: i.e. per-thread counts round up to 8). */
  readonly registerAllocUnitPerWarp: number;
  readonly maxRegistersPerThread: number;
  readonly maxWarpsPerSm: number;
}

export interface AmdDeviceSpec extends DeviceCommon {
  readonly vendor: 'amd';
  readonly simdsPerCu: number;
  /** Unified VGPR file (architectural + accumulation) per lane of one SIMD. */
  readonly vgprsPerSimdLane: number;
  /** VGPRs are allocated in granules of this many per lane (8 on gfx90a/gfx942). */
  readonly vgprAllocGranule: number;
  /** Most VGPRs + AGPRs one wave can address (256 + 256). */
  readonly maxVgprsPerWave: number;
  readonly maxWavesPerSimd: number;
  readonly xcds: number;
}

export type DeviceSpec = NvidiaDeviceSpec | AmdDeviceSpec;

const KiB = 1024;
const MiB = 1024 * 1024;
const GB = 1e9;

/** SM limits shared by GH100 products (compute capability 9.0). */
const HOPPER_SM = {
  vendor: 'nvidia',
  warpSize: 32,
  maxThreadsPerBlock: 1024,
  maxThreadsPerUnit: 2048,
  maxWarpsPerSm: 64,
  maxBlocksPerUnit: 32,
  registersPerSm: 65536,
  registerAllocUnitPerWarp: 256,
  maxRegistersPerThread: 255,
  maxSharedPerBlock: 227 * KiB,
  sharedPerUnit: 228 * KiB,
  sharedAllocUnit: 128,
  reservedSharedPerBlock: 1 * KiB,
  fp32LanesPerUnit: 128,
  sfuLanesPerUnit: 16,
  l2BytesPerClkPerUnit: 64,
  saturationWarpsPerUnit: 16,
  launchOverheadUs: 3,
  achievableHbmFraction: 0.9,
  // Tilekit's NVIDIA backend issues mma.sync.m16n8k16 on sm_90a too; Hopper's datasheet peak
  // needs wgmma. 0.65 is an assumption (docs/cost-model.md).
  achievableTensorFraction: { sm_90a: 0.65, sm_80: 0.65 },
} as const;

export const DEVICES: Readonly<Record<DeviceName, DeviceSpec>> = {
  h100: {
    ...HOPPER_SM,
    name: 'h100',
    product: 'NVIDIA H100 SXM5 80GB',
    targets: ['sm_90a', 'sm_80'],
    units: 132,
    boostClockMhz: 1980,
    tensorClockMhz: 1830,
    peakTensorTflops: { f16: 989.4, bf16: 989.4 },
    peakFp32Tflops: 66.9,
    hbmGBs: 3350,
    hbmBytes: 80 * GB,
    l2Bytes: 50 * MiB,
    // ESTIMATE: 5120 B/clk (A100's L2 read width) × 1.83 GHz; NVIDIA publishes no H100 L2 bandwidth.
    l2GBs: (5120 * 1830e6) / GB,
  },
  h200: {
    ...HOPPER_SM,
    name: 'h200',
    product: 'NVIDIA H200 SXM 141GB',
    targets: ['sm_90a', 'sm_80'],
    units: 132,
    boostClockMhz: 1980,
    tensorClockMhz: 1830,
    peakTensorTflops: { f16: 989.4, bf16: 989.4 },
    peakFp32Tflops: 66.9,
    hbmGBs: 4800,
    hbmBytes: 141 * GB,
    l2Bytes: 50 * MiB,
    l2GBs: (5120 * 1830e6) / GB,
  },
  a100: {
    vendor: 'nvidia',
    name: 'a100',
    product: 'NVIDIA A100 SXM4 80GB',
    targets: ['sm_80'],
    units: 108,
    boostClockMhz: 1410,
    tensorClockMhz: 1410,
    peakTensorTflops: { f16: 312, bf16: 312 },
    peakFp32Tflops: 19.5,
    fp32LanesPerUnit: 64,
    sfuLanesPerUnit: 16,
    hbmGBs: 2039,
    hbmBytes: 80 * GB,
    l2Bytes: 40 * MiB,
    // 5120 B/clk × 1.41 GHz (whitepaper: 2.3× V100's L2 read bandwidth).
    l2GBs: (5120 * 1410e6) / GB,
    l2BytesPerClkPerUnit: 64,
    warpSize: 32,
    maxThreadsPerBlock: 1024,
    maxThreadsPerUnit: 2048,
    maxWarpsPerSm: 64,
    maxBlocksPerUnit: 32,
    registersPerSm: 65536,
    registerAllocUnitPerWarp: 256,
    maxRegistersPerThread: 255,
    maxSharedPerBlock: 163 * KiB,
    sharedPerUnit: 164 * KiB,
    sharedAllocUnit: 128,
    reservedSharedPerBlock: 1 * KiB,
    achievableTensorFraction: { sm_80: 0.9 },
    achievableHbmFraction: 0.9,
    saturationWarpsPerUnit: 16,
    launchOverheadUs: 3,
  },
  mi300x: {
    vendor: 'amd',
    name: 'mi300x',
    product: 'AMD Instinct MI300X (OAM, 192GB)',
    targets: ['gfx942'],
    units: 304,
    xcds: 8,
    boostClockMhz: 2100,
    tensorClockMhz: 2100,
    peakTensorTflops: { f16: 1307.4, bf16: 1307.4 },
    // 163.4 counts packed/dual-issue FP32; the model charges elementwise ops at 64 lanes/clk/CU.
    peakFp32Tflops: 163.4,
    fp32LanesPerUnit: 64,
    sfuLanesPerUnit: 16,
    hbmGBs: 5300,
    hbmBytes: 192 * GB,
    l2Bytes: 8 * 4 * MiB,
    l2GBs: (8 * 2048 * 2100e6) / GB,
    l2BytesPerClkPerUnit: 64,
    infinityCache: { bytes: 256 * MiB, GBs: 17200 },
    warpSize: 64,
    maxThreadsPerBlock: 1024,
    maxThreadsPerUnit: 2048,
    maxBlocksPerUnit: 16,
    maxSharedPerBlock: 64 * KiB,
    sharedPerUnit: 64 * KiB,
    sharedAllocUnit: 512,
    reservedSharedPerBlock: 0,
    simdsPerCu: 4,
    vgprsPerSimdLane: 512,
    vgprAllocGranule: 8,
    maxVgprsPerWave: 512,
    maxWavesPerSimd: 8,
    achievableTensorFraction: { gfx942: 0.6 },
    achievableHbmFraction: 0.8,
    saturationWarpsPerUnit: 8,
    launchOverheadUs: 4,
  },
};

export const DEVICE_NAMES = Object.keys(DEVICES) as DeviceName[];

export function isDeviceName(s: string): s is DeviceName {
  return Object.prototype.hasOwnProperty.call(DEVICES, s);
}

/** The device called `name`; throws listing the known ones otherwise. */
export function getDevice(name: string): DeviceSpec {
  if (!isDeviceName(name)) throw new Error(`unknown device '${name}'; known: ${DEVICE_NAMES.join(', ')}`);
  return DEVICES[name];
}

/** Whether code built for `target` runs on `device` (sm_80 PTX runs on Hopper; sm_90a only there). */
export function runsOn(device: DeviceSpec, target: Target): boolean {
  return device.targets.includes(target);
}
