import { describe, expect, it } from 'vitest';
import type { AmdResourceReport } from '../../compiler/toolchain/clang.js';
import type { ResourceReport } from '../../compiler/toolchain/ptxas.js';
import { amdTotalVgprs, modelCost, occupancyOf, resourcesFromClang, resourcesFromPtxas } from '../../tuner/cost-model.js';
import type { KernelResources } from '../../tuner/cost-model.js';
import { DEVICE_NAMES, DEVICES, getDevice, runsOn } from '../../tuner/devices.js';
import type { DeviceName, Target } from '../../tuner/devices.js';
import { estimateWork } from '../../tuner/work.js';
import { buildShipped } from '../support/build.js';

const KiB = 1024;
const gemm = buildShipped('gemm.tile', 'gemm');
const gemmWork = (M: number, N: number, K: number) => estimateWork(gemm, { M, N, K });
const w4096 = gemmWork(4096, 4096, 4096);

/** The default gemm configuration's resources as ptxas (sm_80/sm_90a) and clang (gfx942) report them. */
const NV: KernelResources = { threadsPerBlock: 256, registersPerThread: 128, sharedBytesPerBlock: 48 * KiB };
const AMD: KernelResources = { threadsPerBlock: 512, vgprs: 92, agprs: 0, totalVgprs: 92, sharedBytesPerBlock: 35328 };
const TARGET: Record<DeviceName, Target> = { h100: 'sm_90a', h200: 'sm_90a', a100: 'sm_80', mi300x: 'gfx942' };
const RES: Record<DeviceName, KernelResources> = { h100: NV, h200: NV, a100: NV, mi300x: AMD };

const model = (dev: DeviceName, work = w4096, resources = RES[dev], extra: Partial<Parameters<typeof modelCost>[0]> = {}) =>
  modelCost({ device: DEVICES[dev], target: TARGET[dev], work, resources, ...extra });

describe('devices', () => {
  it('lists the four devices with their targets', () => {
    expect(DEVICE_NAMES.sort()).toEqual(['a100', 'h100', 'h200', 'mi300x']);
    expect(runsOn(DEVICES.h100, 'sm_90a') && runsOn(DEVICES.h100, 'sm_80')).toBe(true);
    expect(runsOn(DEVICES.a100, 'sm_90a')).toBe(false);
    expect(DEVICES.mi300x.targets).toEqual(['gfx942']);
    expect(() => getDevice('v100')).toThrow(/known: /);
  });

  it('peaks agree with units × per-clock rates (datasheet consistency)', () => {
    // A100: 108 SMs × 1024 dense FP16 FMA/clk × 2 × 1.41 GHz ≈ 312 TFLOP/s.
    expect((108 * 2048 * 1.41e9) / 1e12).toBeCloseTo(DEVICES.a100.peakTensorTflops.f16, 0);
    // H100 SXM: 132 SMs × 4096 FLOP/clk at 1.83 GHz ≈ 989.4.
    expect((132 * 4096 * 1.83e9) / 1e12).toBeCloseTo(DEVICES.h100.peakTensorTflops.f16, 0);
    // MI300X: 304 CUs × 2048 FLOP/clk × 2.1 GHz ≈ 1307.4.
    expect((304 * 2048 * 2.1e9) / 1e12).toBeCloseTo(DEVICES.mi300x.peakTensorTflops.f16, 0);
    // Vector FP32 peaks at max boost: 132 × 128 × 2 × 1.98 GHz ≈ 66.9; 108 × 64 × 2 × 1.41 ≈ 19.5.
    expect((132 * 128 * 2 * 1.98e9) / 1e12).toBeCloseTo(DEVICES.h100.peakFp32Tflops, 0);
    expect((108 * 64 * 2 * 1.41e9) / 1e12).toBeCloseTo(DEVICES.a100.peakFp32Tflops, 0);
  });
});

describe('occupancy', () => {
  it('NVIDIA: registers round up to 8 per thread (256 per warp)', () => {
    const at = (regs: number) => occupancyOf(DEVICES.h100, { ...NV, registersPerThread: regs });
    expect(at(128)).toMatchObject({ blocksPerSm: 2, limitedBy: 'registers' });
    // 129 → 136 registers: 15 warps' worth, one 8-warp block.
    expect(at(129)).toMatchObject({ blocksPerSm: 1, limitedBy: 'registers' });
    // 40 registers allow 6 blocks; 4 × (48 + 1) KB of shared memory fit in 228 KB, 5 do not.
    expect(at(40)).toMatchObject({ blocksPerSm: 4, limitedBy: 'shared' });
  });

  it('NVIDIA: shared memory counts the 1 KB reserved per block', () => {
    // 113 KB + 1 KB reserved = 114 KB: two blocks in 228 KB; 114 KB + 1 KB: one.
    expect(occupancyOf(DEVICES.h100, { threadsPerBlock: 128, registersPerThread: 32, sharedBytesPerBlock: 113 * KiB }).blocksPerSm).toBe(2);
    expect(occupancyOf(DEVICES.h100, { threadsPerBlock: 128, registersPerThread: 32, sharedBytesPerBlock: 114 * KiB }).blocksPerSm).toBe(1);
    const a = occupancyOf(DEVICES.a100, { threadsPerBlock: 128, registersPerThread: 32, sharedBytesPerBlock: 100 * KiB });
    expect(a).toMatchObject({ blocksPerSm: 1, limitedBy: 'shared' });
  });

  it('NVIDIA: threads and the 32-block cap', () => {
    expect(occupancyOf(DEVICES.a100, { threadsPerBlock: 1024, registersPerThread: 16, sharedBytesPerBlock: 0 })).toMatchObject({ blocksPerSm: 2, limitedBy: 'threads' });
    expect(occupancyOf(DEVICES.a100, { threadsPerBlock: 32, registersPerThread: 16, sharedBytesPerBlock: 0 })).toMatchObject({ blocksPerSm: 32, limitedBy: 'blocks' });
  });

  it('MI300X uses wave64 limits: waves per SIMD from the unified VGPR file, LDS per CU', () => {
    const o = occupancyOf(DEVICES.mi300x, AMD);
    // 512 work-items = 8 waves of 64 (an NVIDIA block of 512 threads would be 16 warps).
    expect(o.warpsPerBlock).toBe(8);
    // 92 VGPRs → 96: 5 waves/SIMD → 20 per CU → 2 work-groups; 35328 B of LDS: 1 per 64 KiB.
    expect(o.limits.registers).toBe(2);
    expect(o.limits.shared).toBe(1);
    expect(o.limits.threads).toBe(4);
    expect(o).toMatchObject({ blocksPerSm: 1, limitedBy: 'shared', wavesPerSimd: 2 });
    // Without LDS pressure: 256 VGPRs → 2 waves/SIMD → 8 waves per CU → 2 blocks of 4 waves.
    expect(occupancyOf(DEVICES.mi300x, { threadsPerBlock: 256, vgprs: 256, sharedBytesPerBlock: 0 })).toMatchObject({ blocksPerSm: 2, limitedBy: 'registers', wavesPerSimd: 2 });
    // At most 8 waves per SIMD, however few registers.
    expect(occupancyOf(DEVICES.mi300x, { threadsPerBlock: 64, vgprs: 16, sharedBytesPerBlock: 0 }).wavesPerSimd).toBe(8);
    // AGPRs share the file: 90 VGPRs (→ 92) + 128 AGPRs = 220 → 224: 2 waves/SIMD.
    expect(amdTotalVgprs({ vgprs: 90, agprs: 128 })).toBe(220);
    expect(occupancyOf(DEVICES.mi300x, { threadsPerBlock: 256, vgprs: 90, agprs: 128, sharedBytesPerBlock: 0 }).limits.registers).toBe(2);
    // registersPerThread stands for the unified total when vgprs are not given (the tuner's candidate resources).
    expect(occupancyOf(DEVICES.mi300x, { threadsPerBlock: 256, registersPerThread: 220, sharedBytesPerBlock: 0 }).limits.registers).toBe(2);
    // Multi-wave work-groups: at most 16 per CU (barrier slots).
    expect(occupancyOf(DEVICES.mi300x, { threadsPerBlock: 128, vgprs: 16, sharedBytesPerBlock: 0 }).limits.blocks).toBe(16);
  });
});

describe('modelCost', () => {
  it('labels every result as modeled', () => {
    for (const d of DEVICE_NAMES) {
      const c = model(d);
      expect(c.label).toBe('modeled');
      expect(c.feasible).toBe(true);
      expect(c.device).toBe(d);
    }
  });

  it('a 4096³ f16 GEMM models within the roofline: never faster than the datasheet peak, not absurdly slower', () => {
    for (const d of DEVICE_NAMES) {
      const c = model(d);
      const peakUs = (w4096.total.mmaFlops / (DEVICES[d].peakTensorTflops.f16 * 1e12)) * 1e6;
      expect(c.timeUs).toBeGreaterThanOrEqual(peakUs);
      expect(c.timeUs).toBeLessThanOrEqual(4 * peakUs);
      expect(c.tflops).toBeLessThanOrEqual(DEVICES[d].peakTensorTflops.f16);
      expect(c.timeUs).toBeGreaterThanOrEqual(c.terms.dramUs);
    }
    const h100 = model('h100');
    expect(h100.efficiency.ofPeak).toBeGreaterThan(0.3);
    expect(h100.occupancy).toMatchObject({ blocksPerSm: 2, limitedBy: 'registers' });
    expect(h100.waves).toMatchObject({ count: 4, slots: 264, lastWavePrograms: 1024 - 3 * 264 });
  });

  it('a bigger problem takes longer', () => {
    for (const d of DEVICE_NAMES) {
      const times = [1024, 2048, 4096, 8192].map((n) => model(d, gemmWork(n, n, n)).timeUs);
      for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]!);
      expect(model(d, gemmWork(4096, 4096, 8192)).timeUs).toBeGreaterThan(model(d).timeUs);
    }
  });

  it('compute-bound and under-occupied: 1 block per SM (shared memory) is slower than 2', () => {
    const one = model('a100', w4096, { threadsPerBlock: 256, registersPerThread: 96, sharedBytesPerBlock: 100 * KiB });
    const two = model('a100', w4096, { threadsPerBlock: 256, registersPerThread: 96, sharedBytesPerBlock: 60 * KiB });
    expect(one.occupancy).toMatchObject({ blocksPerSm: 1, limitedBy: 'shared' });
    expect(two.occupancy.blocksPerSm).toBe(2);
    expect(one.bound).toBe('compute');
    expect(one.efficiency.occupancy).toBeLessThan(1);
    expect(one.timeUs).toBeGreaterThan(two.timeUs);
    // The same on H100.
    const h1 = model('h100', w4096, { threadsPerBlock: 256, registersPerThread: 96, sharedBytesPerBlock: 150 * KiB });
    const h2 = model('h100', w4096, { threadsPerBlock: 256, registersPerThread: 96, sharedBytesPerBlock: 90 * KiB });
    expect(h1.occupancy.blocksPerSm).toBe(1);
    expect(h2.occupancy.blocksPerSm).toBe(2);
    expect(h1.timeUs).toBeGreaterThan(h2.timeUs);
  });

  it('wave quantization: 133 programs on 132 SMs at 1 block/SM take 2 waves, about twice 132', () => {
    const oneBlock: KernelResources = { threadsPerBlock: 256, registersPerThread: 128, sharedBytesPerBlock: 150 * KiB };
    // 7 × 19 and 12 × 11 tiles of 128 × 128: the same work per program, enough reuse to stay off the DRAM floor.
    const w133 = gemmWork(7 * 128, 19 * 128, 4096);
    const w132 = gemmWork(12 * 128, 11 * 128, 4096);
    expect(w133.programs).toBe(133);
    const c133 = model('h100', w133, oneBlock);
    const c132 = model('h100', w132, oneBlock);
    expect(c133.occupancy.blocksPerSm).toBe(1);
    expect(c133.waves).toMatchObject({ count: 2, slots: 132, lastWavePrograms: 1 });
    expect(c132.waves).toMatchObject({ count: 1, lastWavePrograms: 132 });
    expect(c133.bound).toBe('compute');
    const launch = DEVICES.h100.launchOverheadUs;
    const ratio = (c133.timeUs - launch) / (c132.timeUs - launch);
    expect(ratio).toBeGreaterThan(1.9);
    expect(ratio).toBeLessThan(2.05);
    expect(c133.waves.fractional).toBeCloseTo(133 / 132, 6);
  });

  it('spills add time', () => {
    const clean = model('h100');
    const spilled = model('h100', w4096, { ...NV, spillBytesPerThread: 64 });
    expect(spilled.timeUs).toBeGreaterThan(clean.timeUs);
    expect(spilled.terms.spillUs).toBeGreaterThan(0);
    expect(clean.terms.spillUs).toBe(0);
    expect(model('h100', w4096, { ...NV, spillBytes: 64 }).timeUs).toBe(spilled.timeUs);
    const amdSpilled = model('mi300x', w4096, { ...AMD, spillBytesPerThread: 64 });
    expect(amdSpilled.timeUs).toBeGreaterThan(model('mi300x').timeUs);
  });

  it('bank conflicts and poor coalescing add time when proxy stats are given', () => {
    const clean = model('a100');
    const conflicted = model('a100', w4096, NV, { stats: { bankConflictRate: 0.5 } });
    expect(conflicted.timeUs).toBeGreaterThan(clean.timeUs);
    expect(conflicted.terms.bankConflictUs).toBeGreaterThan(0);
    expect(conflicted.efficiency.bankConflictFactor).toBeCloseTo(1.5, 6);
    const scattered = model('h100', w4096, NV, { stats: { sectorsPerRequest: 32, idealSectorsPerRequest: 16 } });
    expect(scattered.efficiency.coalescingFactor).toBe(2);
    expect(scattered.timeUs).toBeGreaterThan(model('h100').timeUs);
    // Without the ideal, the sector count cannot be judged: no penalty, a note.
    const unjudged = model('h100', w4096, NV, { stats: { sectorsPerRequest: 32 } });
    expect(unjudged.timeUs).toBe(model('h100').timeUs);
    expect(unjudged.notes.join(' ')).toMatch(/idealSectorsPerRequest/);
  });

  it('causal attention models at about half the non-causal time; H200 beats H100 when DRAM-bound', () => {
    const shape = { B: 4, H: 32, HKV: 32, S: 4096, T: 4096, scale: 0.125 };
    const res: KernelResources = { threadsPerBlock: 128, registersPerThread: 168, sharedBytesPerBlock: 40 * KiB };
    const full = model('h100', estimateWork(buildShipped('attention.tile', 'attention', { causal: false }), shape), res);
    const causal = model('h100', estimateWork(buildShipped('attention.tile', 'attention', { causal: true }), shape), res);
    expect(causal.timeUs / full.timeUs).toBeGreaterThan(0.45);
    expect(causal.timeUs / full.timeUs).toBeLessThan(0.65);
    expect(causal.terms.tailUs).toBeGreaterThan(0);
    expect(full.terms.tailUs).toBe(0);

    // mlp_down with few rows and a large weight streams the weight once: DRAM-bound.
    const down = estimateWork(buildShipped('mlp.tile', 'mlp_down', { BM: 64, BN: 64 }), { M: 64, F: 8192, E: 16384 });
    const dres: KernelResources = { threadsPerBlock: 128, registersPerThread: 96, sharedBytesPerBlock: 16 * KiB };
    const h100 = model('h100', down, dres);
    const h200 = model('h200', down, dres);
    expect(h100.bound).toBe('dram');
    expect(h200.timeUs).toBeLessThan(h100.timeUs);
  });

  it('a configuration that cannot launch is infeasible, not fast', () => {
    const c = model('h100', w4096, { ...NV, sharedBytesPerBlock: 240 * KiB });
    expect(c.feasible).toBe(false);
    expect(c.timeUs).toBe(Infinity);
    expect(c.notes[0]).toMatch(/shared memory/);
    expect(model('mi300x', w4096, { ...AMD, sharedBytesPerBlock: 80 * KiB }).feasible).toBe(false);
    expect(model('mi300x', w4096, { ...AMD, vgprs: 300, agprs: 256, totalVgprs: undefined }).feasible).toBe(false);
    expect(model('a100', w4096, { ...NV, threadsPerBlock: 2048 }).feasible).toBe(false);
  });

  it('refuses a target the device does not run', () => {
    expect(() => modelCost({ device: DEVICES.a100, target: 'sm_90a', work: w4096, resources: NV })).toThrow(/does not run sm_90a/);
    expect(() => modelCost({ device: DEVICES.mi300x, target: 'sm_80', work: w4096, resources: AMD })).toThrow(/does not run/);
    expect(() => modelCost({ device: DEVICES.h100, target: 'gfx942', work: w4096, resources: NV })).toThrow(/does not run/);
  });

  it('builds its inputs from the ptxas and clang reports', () => {
    const ptx: ResourceReport = {
      function: 'gemm',
      kind: 'entry',
      arch: 'sm_90a',
      registers: 128,
      spillStoresBytes: 8,
      spillLoadsBytes: 12,
      stackFrameBytes: 24,
      cumulativeStackBytes: 0,
      sharedBytes: 512,
      constantBytes: {},
      barriers: 1,
    };
    expect(resourcesFromPtxas(ptx, { threads: 256, dynamicSmem: 49152 })).toEqual({
      threadsPerBlock: 256,
      registersPerThread: 128,
      sharedBytesPerBlock: 49152 + 512,
      spillBytesPerThread: 20,
    });
    const amd: AmdResourceReport = {
      kernel: 'gemm',
      arch: 'gfx942',
      vgprs: 92,
      agprs: 0,
      totalVgprs: 92,
      sgprs: 51,
      vgprSpills: 3,
      sgprSpills: 0,
      scratchBytes: 16,
      dynamicStack: false,
      ldsBytes: 35328,
      occupancyWavesPerSimd: 2,
      wavefrontSize: 64,
      maxFlatWorkgroupSize: 512,
    };
    const r = resourcesFromClang(amd, { threads: 512 });
    expect(r).toMatchObject({ threadsPerBlock: 512, vgprs: 92, totalVgprs: 92, sharedBytesPerBlock: 35328, spillBytesPerThread: 24 });
    // The model's waves per SIMD agree with clang's own occupancy figure for this kernel.
    expect(occupancyOf(DEVICES.mi300x, r).wavesPerSimd).toBe(amd.occupancyWavesPerSimd);
  });
});
