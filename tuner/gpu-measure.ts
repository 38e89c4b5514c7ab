/**
 * The tuner's `gpu` measurement backend: each compiled candidate runs on the attached device, each
 * launch in a child process (runtime/gpu/isolated.ts) so a hang is killed at the deadline and a
 * crash is recorded, never fatal to the run.
 *
 * 1. Correctness, once per candidate: the check of tuner/check-inputs.ts (seeded inputs at a small
 *    ragged shape, outputs poisoned with NaN, the interpreter as the oracle) with the candidate's
 *    binary on the device. A candidate is timed only after it passes.
 * 2. Timing at the tuned shape: inputs filled from a seeded random pattern (never zeros), warm-up
 *    runs, then timed runs between device events, each after overwriting a buffer of twice the L2
 *    (cold cache, as a layer in a real model sees it), at least `reps` runs and more until
 *    `minMs` has passed; the median is the cost, labeled *measured*, with min, max and IQR/median.
 */
import type { KernelArgs, TensorArg } from '../compiler/interpreter.js';
import { gridOf } from '../compiler/interpreter.js';
import { abiValue } from '../runtime/abi-args.js';
import { kernelArg, targetForDevice } from '../runtime/gpu-backend.js';
import type { ScalarArg } from '../runtime/gpu/kernel-args.js';
import { type IsolatedBuffer, type IsolatedLaunch, type IsolatedResult, type IsolatedTiming, launchIsolated } from '../runtime/gpu/isolated.js';
import { l2FlushBytes, summarize, type Timing } from '../runtime/gpu/timing.js';
import type { DeviceInfo } from '../runtime/gpu/device.js';
import { makeRng } from '../runtime/random.js';
import { ELEMENT_BYTES, readTensor, tensorBytes } from '../runtime/tensor-bytes.js';
import { accessesOf, type Check, checkInputs, compareOutputs, randomInput } from './check-inputs.js';
import type { Candidate, TuneTarget } from './compile-candidate.js';
import { DEVICE_NAMES, type DeviceName, type DeviceSpec, getDevice } from './devices.js';
import type { ProblemShape } from './work.js';

export interface GpuMeasureOptions {
  readonly seed: number;
  /** Which device (default 0). */
  readonly device?: number;
  /** Bytes overwritten before each timed run (runtime/gpu/timing.ts `l2FlushBytes`); 0: no flush. */
  readonly flushBytes: number;
  /** Kill a launch (check or timing) after this long. */
  readonly timeoutMs: number;
  readonly timing?: Partial<Omit<IsolatedTiming, 'flushBytes'>>;
  /**
   * `binary` (default): the cubin or code object the toolchain built — what a pack ships. `ptx`: the
   * PTX through the driver's JIT (NVIDIA; also what the fake driver of the tests can load).
   */
  readonly image?: 'binary' | 'ptx';
}

export type GpuMeasurement =
  | { readonly ok: true; readonly timeUs: number; readonly timing: Timing; readonly maxRelL2: number; readonly grid: readonly number[] }
  | { readonly ok: false; readonly reason: 'mismatch' | 'crash' | 'timeout'; readonly message: string };

export const DEFAULT_GPU_TIMING: Omit<IsolatedTiming, 'flushBytes'> = { warmup: 3, reps: 20, minMs: 200, maxReps: 500 };
/** Elements of seeded random values each timing input repeats. */
const PATTERN_ELEMENTS = 1 << 16;

type Launchable = Omit<IsolatedLaunch, 'time' | 'timeoutMs' | 'device' | 'args'>;

function launchable(c: Candidate, args: KernelArgs, image: 'binary' | 'ptx'): Launchable & { grid: [number, number, number] } {
  const g = gridOf(c.ir, args);
  const compiled = c.compiled;
  const img = image === 'ptx' && 'ptx' in compiled ? new TextEncoder().encode(`${compiled.ptx}\0`) : c.binary;
  return {
    image: img,
    entry: compiled.entry,
    grid: [Math.max(1, g[0] ?? 1), Math.max(1, g[1] ?? 1), Math.max(1, g[2] ?? 1)],
    block: [compiled.threads, 1, 1],
    sharedBytes: 'dynamicSmem' in compiled ? compiled.dynamicSmem : 0,
  };
}

/** The ABI's arguments for `args`: tensors as buffers (`fill` gives each one's bytes and pattern), the rest as scalars. */
function abiArgs(c: Candidate, args: KernelArgs, fill: (t: TensorArg, name: string) => IsolatedBuffer): (IsolatedBuffer | ScalarArg)[] {
  return c.compiled.params.map((p) => kernelArg(abiValue(p, c.ir, args), (t) => fill(t.tensor, t.param.tensor)));
}

function failure(r: Exclude<IsolatedResult, { ok: true }>, what: string): Extract<GpuMeasurement, { ok: false }> {
  // One line, so a results table stays a table (a JIT log has several).
  return { ok: false, reason: r.reason === 'timeout' ? 'timeout' : 'crash', message: `${what}: ${r.message.trim().split('\n').join(' | ')}` };
}

/** The candidate on the device at the check shape, against the interpreter. */
export async function checkOnGpu(c: Candidate, opts: GpuMeasureOptions): Promise<Check | Extract<GpuMeasurement, { ok: false }>> {
  const inputs = checkInputs(c.ir, opts.seed);
  if ('ok' in inputs) return inputs;
  const stored = accessesOf(c.ir);
  const launch = launchable(c, inputs.args, opts.image ?? 'binary');
  const buffers = new Map<string, { tensor: TensorArg; index: number }>();
  const args = abiArgs(c, inputs.args, (t, name) => {
    const bytes = tensorBytes(t.dtype, t.data);
    return { bytes: bytes.byteLength, pattern: bytes.byteLength > 0 ? bytes : new Uint8Array(1), download: stored.get(name)?.stored === true };
  });
  c.compiled.params.forEach((p, i) => {
    if (p.kind === 'tensor' && !buffers.has(p.tensor)) buffers.set(p.tensor, { tensor: inputs.args.get(p.tensor) as TensorArg, index: i });
  });
  const r = await launchIsolated({ ...launch, args, device: opts.device ?? 0, timeoutMs: opts.timeoutMs });
  if (!r.ok) return failure(r, `the check launch ${inputs.at}`);
  for (const { tensor, index } of buffers.values()) {
    const out = r.outputs.get(index);
    if (out) readTensor(tensor, tensor.dtype, out);
  }
  return compareOutputs(c.ir, inputs.args, inputs.expected, inputs.at);
}

/** Times the candidate at `shape` (no check: measureOnGpu checks first). */
export async function timeOnGpu(c: Candidate, shape: ProblemShape, opts: GpuMeasureOptions): Promise<GpuMeasurement> {
  const rng = makeRng(opts.seed);
  // Tensors with their real shapes and no data: the grid and the ABI values need only the shapes.
  const args: KernelArgs = new Map();
  for (const p of c.ir.params) {
    if (p.kind === 'scalar') args.set(p.name, p.dtype === 'f32' ? 0.125 : 1);
    else args.set(p.name, { dtype: p.dtype, shape: p.dims.map((d) => (typeof d === 'number' ? d : shape[d]!)), data: new Float64Array(0) });
  }
  const launch = launchable(c, args, opts.image ?? 'binary');
  const kargs = abiArgs(c, args, (t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    return { bytes: n * ELEMENT_BYTES[t.dtype], pattern: tensorBytes(t.dtype, randomInput(rng, t.dtype, Math.max(1, Math.min(n, PATTERN_ELEMENTS)))) };
  });
  const time: IsolatedTiming = { ...DEFAULT_GPU_TIMING, ...opts.timing, flushBytes: opts.flushBytes };
  const r = await launchIsolated({ ...launch, args: kargs, device: opts.device ?? 0, timeoutMs: opts.timeoutMs, time });
  if (!r.ok) return failure(r, `timing at ${Object.entries(shape).map(([k, v]) => `${k}=${v}`).join(',')}`);
  const timing = summarize(r.samples, time.flushBytes > 0);
  return { ok: true, timeUs: timing.median * 1000, timing, maxRelL2: 0, grid: launch.grid };
}

/** Checks per candidate and seed: a candidate is checked once for all shapes. */
const checks = new WeakMap<object, Map<number, Promise<Check | Extract<GpuMeasurement, { ok: false }>>>>();

/** Checks the candidate on the device (cached), then times it at `shape`. */
export async function measureOnGpu(c: Candidate, shape: ProblemShape, opts: GpuMeasureOptions): Promise<GpuMeasurement> {
  let bySeed = checks.get(c);
  if (!bySeed) checks.set(c, (bySeed = new Map()));
  let check = bySeed.get(opts.seed);
  if (!check) bySeed.set(opts.seed, (check = checkOnGpu(c, opts)));
  const passed = await check;
  if (!passed.ok) return passed;
  const timed = await timeOnGpu(c, shape, opts);
  return timed.ok ? { ...timed, maxRelL2: passed.maxRelL2 } : timed;
}

/** The attached device the gpu backend measures on, and how results are keyed. */
export interface GpuTarget {
  readonly info: DeviceInfo;
  /** The device's spec when Tilekit models it (to show the model beside each measurement). */
  readonly spec?: DeviceSpec;
  /** The results database's `device`: the spec's name (`h200`) or the driver's device name. */
  readonly key: string;
  readonly flushBytes: number;
  readonly driver: string;
}

/** A spec name from a driver's device name: "NVIDIA H200" → h200; undefined for a card Tilekit does not model. */
export function specNameOf(deviceName: string): DeviceName | undefined {
  const n = deviceName.toLowerCase();
  return DEVICE_NAMES.find((d) => n.includes(d));
}

/**
 * GPU 0, checked against the target and `--device`. `usage`: the flags do not fit the device (exit
 * 2); otherwise no driver or no device (exit 1).
 */
export async function detectGpu(target: TuneTarget, deviceFlag: string | undefined): Promise<GpuTarget | { error: string; usage: boolean }> {
  const { Device } = await import('../runtime/gpu/device.js');
  const probe = Device.driver();
  if (!probe.found) return { error: `--backend gpu: ${probe.message}`, usage: false };
  const info = Device.list()[0];
  if (!info) return { error: `--backend gpu: the ${probe.api} driver (${probe.library}) reports no device`, usage: false };
  const own = targetForDevice(info);
  if (own === undefined || !(own === target || (target === 'sm_80' && own === 'sm_90a'))) {
    return { error: `--backend gpu: the attached ${info.name} (${info.arch}) ${own === undefined ? 'is not a device Tilekit generates code for' : `runs ${own} code, not ${target}`}`, usage: true };
  }
  const specName = specNameOf(info.name);
  if (deviceFlag !== undefined && deviceFlag !== specName) return { error: `--device ${deviceFlag}: the attached device is ${info.name}${specName ? ` (${specName})` : ''}`, usage: true };
  return {
    info,
    ...(specName ? { spec: getDevice(specName) } : {}),
    key: specName ?? info.name,
    flushBytes: l2FlushBytes(info.l2CacheBytes),
    driver: `${probe.api} ${probe.driverVersion}`,
  };
}
