/**
 * The `model` measurement backend's cost model: a roofline per wave of resident programs, with
 * occupancy from the device's limits, wave quantization, a DRAM floor and penalties for spills,
 * bank conflicts and poor coalescing. Every result is labeled `'modeled'`: it is an estimate
 * from published peaks and stated assumptions, never a measurement. The formulas and every
 * assumption are in docs/cost-model.md; the constants a caller may change are MODEL_PARAMS.
 */
import type { AmdResourceReport } from '../compiler/toolchain/clang.js';
import type { ResourceReport } from '../compiler/toolchain/ptxas.js';
import type { AmdDeviceSpec, DeviceSpec, NvidiaDeviceSpec, Target } from './devices.js';
import { runsOn } from './devices.js';
import type { ProgramWork, WorkEstimate } from './work.js';
import { hottestLoopTrips } from './work.js';

/**
 * What the compiled kernel needs per block, from ptxas (NVIDIA) or clang (AMD). The tuner's
 * compiled-candidate resources (`registersPerThread` holding VGPRs + AGPRs on AMD, `spillBytes`)
 * fit this shape as they are.
 */
export interface KernelResources {
  readonly threadsPerBlock: number;
  /** NVIDIA: registers per thread (ptxas `-v`). AMD: VGPRs + AGPRs per lane, when vgprs/totalVgprs are absent. */
  readonly registersPerThread?: number;
  /** AMD: architectural VGPRs and accumulation VGPRs per lane (clang). */
  readonly vgprs?: number;
  readonly agprs?: number;
  /** AMD: the unified-file total when known (clang's `.vgpr_count`); else derived from vgprs + agprs. */
  readonly totalVgprs?: number;
  /** Shared memory (static + dynamic) / LDS per block, bytes. */
  readonly sharedBytesPerBlock: number;
  /** Bytes of spill code per thread (NVIDIA: spill stores + spill loads; AMD: see resourcesFromClang). */
  readonly spillBytesPerThread?: number;
  /** The same, under the tuner's compiled-candidate name; spillBytesPerThread wins when both are given. */
  readonly spillBytes?: number;
}

/** Proxy statistics from the emulator (optional): they only add penalties. */
export interface ProxyStats {
  /** Extra shared-memory wavefronts over all wavefronts (emulator: conflictWavefronts / wavefronts). */
  readonly bankConflictRate?: number;
  /** Global sectors per warp request, as measured… */
  readonly sectorsPerRequest?: number;
  /** …and what a perfectly coalesced request of the same width touches (4 for 4-byte lanes, 16 for 16-byte). */
  readonly idealSectorsPerRequest?: number;
}

export interface ModelParams {
  /** Occupancy efficiency η = min(1, activeWarps / saturation) ^ exponent. */
  readonly occupancyExponent: number;
  /** Fraction of the shorter of (tensor, SIMT) time that does not overlap the longer. */
  readonly pipeOverlapPenalty: number;
  /** Share of compute time that waits on shared memory (scales the bank-conflict penalty). */
  readonly sharedMemoryWeight: number;
}

export const MODEL_PARAMS: ModelParams = { occupancyExponent: 0.5, pipeOverlapPenalty: 0.5, sharedMemoryWeight: 0.5 };

export interface CostInput {
  readonly device: DeviceSpec;
  readonly target: Target;
  readonly work: WorkEstimate;
  readonly resources: KernelResources;
  readonly stats?: ProxyStats;
  readonly params?: Partial<ModelParams>;
}

export type OccupancyLimit = 'registers' | 'shared' | 'threads' | 'blocks';

export interface Occupancy {
  /** Resident blocks (work-groups) per SM (CU). */
  readonly blocksPerSm: number;
  readonly limitedBy: OccupancyLimit;
  /** What each resource alone allows (Infinity: no limit). */
  readonly limits: Readonly<Record<OccupancyLimit, number>>;
  /** Warps (NVIDIA) / waves (AMD) per block and resident per SM/CU at full occupancy. */
  readonly warpsPerBlock: number;
  readonly warpsPerSm: number;
  /** AMD: waves per SIMD at that occupancy. */
  readonly wavesPerSimd?: number;
  /** Resident warps / the device's maximum. */
  readonly fraction: number;
}

export interface Waves {
  /** ceil(programs / slots): what the launch takes, in waves. */
  readonly count: number;
  /** programs / slots. */
  readonly fractional: number;
  /** Programs resident at once: units × blocksPerSm. */
  readonly slots: number;
  /** Programs in the last wave (slots when it is full). */
  readonly lastWavePrograms: number;
  /** fractional / count: 1 when every wave is full. */
  readonly utilization: number;
}

export interface CostTerms {
  /** Tensor-core time summed over waves at the modeled occupancy (part of computeUs). */
  readonly mmaUs: number;
  /** Elementwise + transcendental (+ spill instruction) time summed over waves (part of computeUs). */
  readonly simtUs: number;
  /** Σ over waves of the wave's compute time. */
  readonly computeUs: number;
  /** Σ over waves of the wave's tile traffic at L2 bandwidth. */
  readonly memoryUs: number;
  /** Σ over waves of max(compute, memory). */
  readonly wavesUs: number;
  /** Unique bytes / achievable DRAM bandwidth. */
  readonly dramUs: number;
  /** The heaviest program alone on an SM (matters when programs' work differs, e.g. causal). */
  readonly tailUs: number;
  readonly launchUs: number;
  /** Extra time from spills / bank conflicts / poor coalescing (0 when absent). */
  readonly spillUs: number;
  readonly bankConflictUs: number;
  readonly coalescingUs: number;
}

export type Bound = 'compute' | 'l2' | 'dram' | 'tail' | 'launch';

export interface ModeledCost {
  /** Always 'modeled': callers must show it as such, never as a measurement. */
  readonly label: 'modeled';
  readonly model: 'tilekit-roofline-v1';
  readonly device: string;
  readonly target: Target;
  /** False when the configuration cannot launch (too much shared memory, too many registers or threads). */
  readonly feasible: boolean;
  readonly timeUs: number;
  /** Tensor FLOPs / time, TFLOP/s. */
  readonly tflops: number;
  /** Unique bytes / time, GB/s. */
  readonly dramGBs: number;
  readonly bound: Bound;
  readonly terms: CostTerms;
  readonly occupancy: Occupancy;
  readonly waves: Waves;
  readonly efficiency: {
    /** η at full occupancy. */
    readonly occupancy: number;
    /** The device's achievable tensor fraction for this target (an assumption). */
    readonly tensorPeakFraction: number;
    /** Multipliers from proxy stats (1 = none). */
    readonly bankConflictFactor: number;
    readonly coalescingFactor: number;
    /** Achieved TFLOP/s over the datasheet tensor peak. */
    readonly ofPeak: number;
  };
  readonly notes: readonly string[];
}

const ZERO_TERMS: CostTerms = {
  mmaUs: 0,
  simtUs: 0,
  computeUs: 0,
  memoryUs: 0,
  wavesUs: 0,
  dramUs: 0,
  tailUs: 0,
  launchUs: 0,
  spillUs: 0,
  bankConflictUs: 0,
  coalescingUs: 0,
};

const ceilTo = (x: number, unit: number) => Math.ceil(x / unit) * unit;

/** The unified-file VGPR count clang's `.vgpr_count` reports: vgprs rounded to 4, then the AGPRs. */
export function amdTotalVgprs(r: Pick<KernelResources, 'vgprs' | 'agprs' | 'totalVgprs' | 'registersPerThread'>): number {
  if (r.totalVgprs !== undefined) return r.totalVgprs;
  if (r.vgprs === undefined && r.agprs === undefined) return r.registersPerThread ?? 0;
  const v = r.vgprs ?? 0;
  const a = r.agprs ?? 0;
  return a > 0 ? ceilTo(v, 4) + a : v;
}

function nvidiaOccupancy(d: NvidiaDeviceSpec, r: KernelResources): { occ: Occupancy; problems: string[] } {
  const problems: string[] = [];
  const warpsPerBlock = Math.ceil(r.threadsPerBlock / d.warpSize);
  const regs = r.registersPerThread ?? 0;
  if (r.threadsPerBlock > d.maxThreadsPerBlock) problems.push(`${r.threadsPerBlock} threads per block > ${d.maxThreadsPerBlock}`);
  if (regs > d.maxRegistersPerThread) problems.push(`${regs} registers per thread > ${d.maxRegistersPerThread}`);
  if (r.sharedBytesPerBlock > d.maxSharedPerBlock) problems.push(`${r.sharedBytesPerBlock} bytes of shared memory per block > ${d.maxSharedPerBlock}`);
  const regsPerWarp = ceilTo(Math.max(regs, 1) * d.warpSize, d.registerAllocUnitPerWarp);
  const limits: Record<OccupancyLimit, number> = {
    registers: regs > 0 ? Math.floor(Math.floor(d.registersPerSm / regsPerWarp) / warpsPerBlock) : Infinity,
    shared: Math.floor(d.sharedPerUnit / ceilTo(r.sharedBytesPerBlock + d.reservedSharedPerBlock, d.sharedAllocUnit)),
    threads: Math.floor(Math.min(d.maxThreadsPerUnit / d.warpSize, d.maxWarpsPerSm) / warpsPerBlock),
    blocks: d.maxBlocksPerUnit,
  };
  return { occ: finishOccupancy(limits, warpsPerBlock, d.maxWarpsPerSm), problems };
}

function amdOccupancy(d: AmdDeviceSpec, r: KernelResources): { occ: Occupancy; problems: string[] } {
  const problems: string[] = [];
  const wavesPerBlock = Math.ceil(r.threadsPerBlock / d.warpSize);
  const vgprs = amdTotalVgprs(r);
  if (r.threadsPerBlock > d.maxThreadsPerBlock) problems.push(`${r.threadsPerBlock} work-items per work-group > ${d.maxThreadsPerBlock}`);
  if (vgprs > d.maxVgprsPerWave) problems.push(`${vgprs} VGPRs + AGPRs per lane > ${d.maxVgprsPerWave}`);
  if (r.sharedBytesPerBlock > d.maxSharedPerBlock) problems.push(`${r.sharedBytesPerBlock} bytes of LDS per work-group > ${d.maxSharedPerBlock}`);
  const maxWavesPerCu = d.maxWavesPerSimd * d.simdsPerCu;
  // Waves per SIMD the unified register file allows, then spread over the CU's SIMDs.
  const wavesPerSimdByVgpr = vgprs > 0 ? Math.min(d.maxWavesPerSimd, Math.floor(d.vgprsPerSimdLane / ceilTo(vgprs, d.vgprAllocGranule))) : d.maxWavesPerSimd;
  const limits: Record<OccupancyLimit, number> = {
    registers: vgprs > 0 ? Math.floor((wavesPerSimdByVgpr * d.simdsPerCu) / wavesPerBlock) : Infinity,
    shared: r.sharedBytesPerBlock > 0 ? Math.floor(d.sharedPerUnit / ceilTo(r.sharedBytesPerBlock, d.sharedAllocUnit)) : Infinity,
    threads: Math.floor(Math.min(maxWavesPerCu, d.maxThreadsPerUnit / d.warpSize) / wavesPerBlock),
    // Single-wave work-groups use no barrier slot (LLVM getMaxWorkGroupsPerCU).
    blocks: wavesPerBlock === 1 ? maxWavesPerCu : d.maxBlocksPerUnit,
  };
  const occ = finishOccupancy(limits, wavesPerBlock, maxWavesPerCu);
  return { occ: { ...occ, wavesPerSimd: (occ.blocksPerSm * wavesPerBlock) / d.simdsPerCu }, problems };
}

function finishOccupancy(limits: Record<OccupancyLimit, number>, warpsPerBlock: number, maxWarps: number): Occupancy {
  const order: OccupancyLimit[] = ['registers', 'shared', 'threads', 'blocks'];
  let limitedBy: OccupancyLimit = 'blocks';
  let blocks = Infinity;
  for (const k of order) {
    if (limits[k] < blocks) {
      blocks = limits[k];
      limitedBy = k;
    }
  }
  const blocksPerSm = Math.max(0, blocks);
  return { blocksPerSm, limitedBy, limits, warpsPerBlock, warpsPerSm: blocksPerSm * warpsPerBlock, fraction: (blocksPerSm * warpsPerBlock) / maxWarps };
}

/** Occupancy of a kernel with these resources on this device. */
export function occupancyOf(device: DeviceSpec, resources: KernelResources): Occupancy & { problems: readonly string[] } {
  const { occ, problems } = device.vendor === 'nvidia' ? nvidiaOccupancy(device, resources) : amdOccupancy(device, resources);
  return { ...occ, problems: occ.blocksPerSm === 0 && problems.length === 0 ? [`no block fits on one ${unitWord(device)} (${occ.limitedBy})`] : problems };
}

const unitWord = (d: DeviceSpec) => (d.vendor === 'nvidia' ? 'SM' : 'CU');

/** The resources `ptxas -v` reported for a kernel, plus its launch's block size and dynamic shared memory. */
export function resourcesFromPtxas(report: ResourceReport, launch: { readonly threads: number; readonly dynamicSmem: number }): KernelResources {
  return {
    threadsPerBlock: launch.threads,
    registersPerThread: report.registers,
    sharedBytesPerBlock: report.sharedBytes + launch.dynamicSmem,
    spillBytesPerThread: report.spillStoresBytes + report.spillLoadsBytes,
  };
}

/**
 * The resources clang reported for a kernel. Spills: each spilled VGPR is taken as one 4-byte
 * store and one 4-byte load per lane; scratch without VGPR spills (local arrays) counts its bytes.
 */
export function resourcesFromClang(report: AmdResourceReport, launch: { readonly threads: number }): KernelResources {
  return {
    threadsPerBlock: launch.threads,
    vgprs: report.vgprs,
    agprs: report.agprs,
    totalVgprs: report.totalVgprs,
    sharedBytesPerBlock: report.ldsBytes,
    spillBytesPerThread: report.vgprSpills > 0 ? report.vgprSpills * 8 : report.scratchBytes,
  };
}

interface Knobs {
  readonly spills: boolean;
  readonly conflicts: boolean;
  readonly coalescing: boolean;
}

interface Core {
  readonly terms: Omit<CostTerms, 'spillUs' | 'bankConflictUs' | 'coalescingUs'>;
  readonly bodyUs: number;
}

/**
 * Models the time of one launch. Throws when the device cannot run `target`; returns
 * `feasible: false` (time Infinity) when the configuration cannot launch on the device.
 */
export function modelCost(input: CostInput): ModeledCost {
  const { device: d, target, work, resources: res } = input;
  if (!runsOn(d, target)) throw new Error(`${d.name} (${d.product}) does not run ${target} code; it runs ${d.targets.join(', ')}`);
  if ((d.vendor === 'amd') !== target.startsWith('gfx')) throw new Error(`target ${target} is not a ${d.vendor} target`);
  const p: ModelParams = { ...MODEL_PARAMS, ...input.params };
  const notes: string[] = [];
  const occ = occupancyOf(d, res);
  const occupancy: Occupancy = {
    blocksPerSm: occ.blocksPerSm,
    limitedBy: occ.limitedBy,
    limits: occ.limits,
    warpsPerBlock: occ.warpsPerBlock,
    warpsPerSm: occ.warpsPerSm,
    fraction: occ.fraction,
    ...(occ.wavesPerSimd !== undefined ? { wavesPerSimd: occ.wavesPerSimd } : {}),
  };
  const tensorFraction = d.achievableTensorFraction[target] ?? 1;
  const base = {
    label: 'modeled' as const,
    model: 'tilekit-roofline-v1' as const,
    device: d.name,
    target,
    occupancy,
  };
  if (occ.problems.length > 0 || occ.blocksPerSm < 1) {
    return {
      ...base,
      feasible: false,
      timeUs: Infinity,
      tflops: 0,
      dramGBs: 0,
      bound: 'compute',
      terms: ZERO_TERMS,
      waves: { count: 0, fractional: 0, slots: 0, lastWavePrograms: 0, utilization: 0 },
      efficiency: { occupancy: 0, tensorPeakFraction: tensorFraction, bankConflictFactor: 1, coalescingFactor: 1, ofPeak: 0 },
      notes: [`cannot launch on ${d.name}: ${occ.problems.join('; ')}`],
    };
  }

  const b = occ.blocksPerSm;
  const units = d.units;
  const slots = units * b;
  const P = work.programs;
  const fullWaves = Math.floor(P / slots);
  const rem = P - fullWaves * slots;
  const waveCount = Math.ceil(P / slots);
  const waves: Waves = {
    count: waveCount,
    fractional: P / slots,
    slots,
    lastWavePrograms: rem > 0 ? rem : P > 0 ? slots : 0,
    utilization: waveCount > 0 ? P / slots / waveCount : 0,
  };

  // Per-unit rates.
  const dt = work.mmaDtype;
  let tensorPeak: number; // FLOP/s for the whole device at the datasheet peak
  if (dt === 'f16' || dt === 'bf16') tensorPeak = d.peakTensorTflops[dt] * 1e12;
  else {
    tensorPeak = d.peakFp32Tflops * 1e12;
    if (dt !== undefined) notes.push(`dot on ${dt} operands: charged at the vector FP32 peak (no tensor-core path)`);
  }
  const tensorPerUnit = (tensorPeak * (dt === 'f16' || dt === 'bf16' ? tensorFraction : 1)) / units;
  const clockHz = d.boostClockMhz * 1e6;
  const simtPerUnit = d.fp32LanesPerUnit * clockHz;
  const sfuPerUnit = d.sfuLanesPerUnit * clockHz;
  const l2 = d.l2GBs * 1e9;
  const l2PerUnit = d.l2BytesPerClkPerUnit * clockHz;
  const hbm = d.hbmGBs * 1e9 * d.achievableHbmFraction;
  const warpsPerBlock = occ.warpsPerBlock;
  const eta = (resident: number) => Math.min(1, (resident * warpsPerBlock) / d.saturationWarpsPerUnit) ** p.occupancyExponent;

  // Proxy-stat factors.
  const stats = input.stats ?? {};
  const rate = Math.min(0.95, Math.max(0, stats.bankConflictRate ?? 0));
  const bankFactor = 1 + p.sharedMemoryWeight * (rate / (1 - rate));
  let coalesceFactor = 1;
  if (stats.sectorsPerRequest !== undefined) {
    if (stats.idealSectorsPerRequest !== undefined && stats.idealSectorsPerRequest > 0) coalesceFactor = Math.max(1, stats.sectorsPerRequest / stats.idealSectorsPerRequest);
    else notes.push('sectorsPerRequest ignored: give idealSectorsPerRequest (what a coalesced request of that width touches)');
  }

  // Spills: the spill code is assumed to sit in the hottest loop, each byte once per iteration.
  const spillBytesPerThread = res.spillBytesPerThread ?? res.spillBytes ?? 0;
  const spillTrafficPerProgram = spillBytesPerThread * res.threadsPerBlock * hottestLoopTrips(work);

  const core = (k: Knobs): Core => {
    const bank = k.conflicts ? bankFactor : 1;
    const coal = k.coalescing ? coalesceFactor : 1;
    const spill = k.spills ? spillTrafficPerProgram : 0;
    const progCompute = (w: ProgramWork) => {
      const mma = w.mmaFlops / tensorPerUnit;
      const simt = (w.elementwiseOps + spill / 4) / simtPerUnit + w.transcendentalOps / sfuPerUnit;
      return { mma, simt, both: (Math.max(mma, simt) + p.pipeOverlapPenalty * Math.min(mma, simt)) * bank };
    };
    const mean = progCompute(work.perProgram);
    const bytes = (work.perProgram.loadBytes + work.perProgram.storeBytes) * coal + spill;
    /** One wave: `n` programs, at most `r` of them on the busiest unit. */
    const wave = (r: number, n: number) => {
      const e = eta(r);
      const compute = (r * mean.both) / e;
      const memory = Math.max((n * bytes) / l2, (r * bytes) / l2PerUnit);
      return { compute, memory, mma: (r * mean.mma) / e, simt: (r * mean.simt) / e, time: Math.max(compute, memory) };
    };
    const parts: { w: ReturnType<typeof wave>; times: number }[] = [];
    if (fullWaves > 0) parts.push({ w: wave(b, slots), times: fullWaves });
    if (rem > 0) parts.push({ w: wave(Math.ceil(rem / units), rem), times: 1 });
    const sum = (f: (w: ReturnType<typeof wave>) => number) => parts.reduce((s, x) => s + f(x.w) * x.times, 0);
    const wavesS = sum((w) => w.time);
    const dramS = (work.uniqueBytes * coal) / hbm;
    const tailS = work.uniform ? 0 : progCompute(work.maxProgram).both / eta(1);
    const terms = {
      mmaUs: sum((w) => w.mma) * 1e6,
      simtUs: sum((w) => w.simt) * 1e6,
      computeUs: sum((w) => w.compute) * 1e6,
      memoryUs: sum((w) => w.memory) * 1e6,
      wavesUs: wavesS * 1e6,
      dramUs: dramS * 1e6,
      tailUs: tailS * 1e6,
      launchUs: d.launchOverheadUs,
    };
    return { terms, bodyUs: Math.max(terms.wavesUs, terms.dramUs, terms.tailUs) };
  };

  const all = core({ spills: true, conflicts: true, coalescing: true });
  const noSpill = spillTrafficPerProgram > 0 ? core({ spills: false, conflicts: true, coalescing: true }) : all;
  const noConflict = bankFactor > 1 ? core({ spills: true, conflicts: false, coalescing: true }) : all;
  const noCoalesce = coalesceFactor > 1 ? core({ spills: true, conflicts: true, coalescing: false }) : all;
  const t = all.terms;
  const timeUs = all.bodyUs + t.launchUs;

  let bound: Bound;
  if (all.bodyUs < t.launchUs) bound = 'launch';
  else if (all.bodyUs === t.dramUs && t.dramUs > t.wavesUs) bound = 'dram';
  else if (all.bodyUs === t.tailUs && t.tailUs > t.wavesUs) bound = 'tail';
  else bound = t.computeUs >= t.memoryUs ? 'compute' : 'l2';

  const tflops = timeUs > 0 ? work.total.mmaFlops / (timeUs * 1e-6) / 1e12 : 0;
  const eFull = eta(b);
  if (eFull < 1) notes.push(`${occ.warpsPerSm} resident ${d.vendor === 'nvidia' ? 'warps' : 'waves'} per ${unitWord(d)} (limited by ${occ.limitedBy}): tensor efficiency ${eFull.toFixed(2)}`);
  if (waves.utilization < 0.9 && P > 0) notes.push(`wave quantization: ${P} programs in ${waveCount} waves of ${slots} (${(waves.utilization * 100).toFixed(0)}% of the last waves' slots used on average)`);
  if (spillBytesPerThread > 0) notes.push(`spills: ${spillBytesPerThread} bytes per thread assumed executed every iteration of the hottest loop`);
  if (!work.uniform) notes.push('programs do different work: the waves use the mean program, the tail term the heaviest');
  if (d.vendor === 'amd' && d.infinityCache) notes.push('MI300X: tile traffic charged at the 8 XCDs\' aggregate L2 bandwidth; Infinity Cache and cross-XCD re-reads are not modeled');
  notes.push(...work.notes);

  return {
    ...base,
    feasible: true,
    timeUs,
    tflops,
    dramGBs: timeUs > 0 ? work.uniqueBytes / (timeUs * 1e-6) / 1e9 : 0,
    bound,
    terms: {
      ...t,
      spillUs: all.bodyUs - noSpill.bodyUs,
      bankConflictUs: all.bodyUs - noConflict.bodyUs,
      coalescingUs: all.bodyUs - noCoalesce.bodyUs,
    },
    occupancy,
    waves,
    efficiency: {
      occupancy: eFull,
      tensorPeakFraction: tensorFraction,
      bankConflictFactor: bankFactor,
      coalescingFactor: coalesceFactor,
      ofPeak: tensorPeak > 0 ? (tflops * 1e12) / tensorPeak : 0,
    },
    notes,
  };
}
