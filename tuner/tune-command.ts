/**
 * `tilekit tune FILE --kernel NAME --target T [--device D] --shapes "M=…,N=…;…" [--const …]
 * [--strategy exhaustive|random|guided] [--budget N|Ns] [--backend model|emulate|gpu] [--seed N]
 * [--db PATH] [--mfma 16|32] [--parallel N] [--compile-timeout S] [--launch-timeout S]`: searches a kernel's configuration space per shape and records every
 * evaluated configuration in the results database (tuner/results-db.ts), so an interrupted run
 * resumes where it stopped.
 *
 * Each configuration is compiled once (tuner/compile-candidate.ts: codegen, ptxas or clang, pruned
 * when the compiler or the resource report rejects it) and then costed per shape. The `model`
 * backend costs it with tuner/cost-model.ts from the IR's work (tuner/work.ts): every time it
 * reports is *modeled*, and says so. The `emulate` backend (tuner/emulate-measure.ts)
 * first checks each candidate's PTX against the interpreter in the emulator and feeds the model the
 * emulator's bank-conflict and coalescing statistics; for AMD targets it checks each candidate on the
 * HIP CPU harness and models from clang's report: still modeled, never timed. The `gpu` backend
 * (tuner/gpu-measure.ts) checks each candidate on the attached device against the interpreter and
 * times it there, every launch in a child process: its times are *measured*, with their spread.
 */
import { availableParallelism } from 'node:os';
import { MultiBar } from 'cli-progress';
import { isAmdTarget, kernelLabel, parseMfma, parseTarget } from '../compiler/compile-command.js';
import { buildFromFile, parseAssignments } from '../compiler/ir-command.js';
import { abiParams } from '../compiler/kernel-abi.js';
import { clangVersion } from '../compiler/toolchain/clang.js';
import { ToolchainMissingError } from '../compiler/toolchain/errors.js';
import { ptxasVersion } from '../compiler/toolchain/ptxas.js';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, reportDiagnostics, type CliIO } from '../dsl/cli-io.js';
import { bucketOf, formatShape, parseShapes, type Shape } from '../runtime/shape-buckets.js';
import { type Candidate, type CandidateFailure, compileCandidate, type TuneTarget } from './compile-candidate.js';
import { modelCost, type ModeledCost } from './cost-model.js';
import { measureWithEmulator } from './emulate-measure.js';
import { DEFAULT_GPU_TIMING, detectGpu, type GpuTarget, measureOnGpu } from './gpu-measure.js';
import { DEVICE_NAMES, type DeviceSpec, getDevice, isDeviceName, runsOn } from './devices.js';
import { type ResultScope, type ResultValue, ResultsDb } from './results-db.js';
import { TILEKIT_VERSION } from '../runtime/pack/format.js';
import { Pool } from './pool.js';
import { tuneSpace, type TuneSpace } from './space.js';
import { type Budget, type Best, makeStrategy, type Outcome, type Point, pointKey, STRATEGY_NAMES, type StrategyName } from './strategies/index.js';
import { estimateWork, WorkError } from './work.js';

export const DEFAULT_DB = '.tilekit/results.db';
/**
 * Fixed rather than the machine's core count: the guided search's choices depend on the batch
 * size, and the same command should choose the same configurations on every machine. The compile
 * pool (one ptxas/clang per core) bounds what actually runs at once.
 */
export const DEFAULT_PARALLEL = 4;
export const DEFAULT_COMPILE_TIMEOUT_S = 120;
export const DEFAULT_LAUNCH_TIMEOUT_S = 60;

export interface TuneOptions {
  kernel?: string;
  target: string;
  device?: string;
  shapes: string;
  const?: readonly string[];
  strategy?: string;
  budget?: string;
  backend?: string;
  seed?: number;
  db?: string;
  mfma?: string;
  /** Configurations evaluated at once per shape (default DEFAULT_PARALLEL): the guided search picks them in batches of this size. */
  parallel?: number;
  /** Seconds ptxas or clang may take on one configuration before it is killed and recorded as `timeout`. */
  compileTimeout?: number;
  /** `--backend gpu`: seconds one launch (the check, or the timing runs) may take before its process is killed (`timeout`). */
  launchTimeout?: number;
  /** Stops the search (as Ctrl-C does): what was evaluated is kept, and a rerun resumes from it. */
  signal?: AbortSignal;
}

/** `--budget 200` (evaluations per shape) or `--budget 90s` (seconds per shape). */
export function parseBudget(text: string | undefined): Budget | { error: string } {
  if (text === undefined) return {};
  const m = /^\s*(\d+)\s*(s?)\s*$/.exec(text);
  if (!m || Number(m[1]) < 1) return { error: `--budget: expected a number of evaluations (e.g. 200) or seconds (e.g. 90s), got '${text}'` };
  return m[2] ? { seconds: Number(m[1]) } : { evaluations: Number(m[1]) };
}

/** The device to model: given, or the only one that runs the target. */
function resolveDevice(text: string | undefined, target: TuneTarget): DeviceSpec | { error: string } {
  if (text !== undefined) {
    if (!isDeviceName(text)) return { error: `--device: unknown device '${text}': expected one of ${DEVICE_NAMES.join(', ')}` };
    const d = getDevice(text);
    return runsOn(d, target) ? d : { error: `--device ${text} does not run ${target} code (it runs ${d.targets.join(', ')})` };
  }
  const fits = DEVICE_NAMES.filter((n) => runsOn(getDevice(n), target));
  if (fits.length === 1) return getDevice(fits[0]!);
  return { error: `--device is needed: ${target} code runs on ${fits.join(', ')}, whose limits and speeds differ` };
}

async function toolchainVersions(target: TuneTarget): Promise<Record<string, string>> {
  const tilekit = TILEKIT_VERSION;
  return isAmdTarget(target) ? { tilekit, clang: await clangVersion() } : { tilekit, ptxas: await ptxasVersion() };
}

interface ShapeSummary {
  readonly shape: Shape;
  readonly bucket: string;
  readonly best?: Best;
  /** The model's view of the best configuration (bound, occupancy), when the device is modeled. */
  readonly model?: ModeledCost;
  /** Tensor TFLOP/s at the best cost (measured or modeled). */
  readonly tflops?: number;
  readonly evaluated: number;
  readonly reused: number;
  readonly failed: number;
  readonly stopped: string;
}

export async function tuneCommand(file: string, opts: TuneOptions, io: CliIO): Promise<number> {
  const usage = (msg: string): number => {
    io.err(`error: ${msg}`);
    return EXIT_USAGE;
  };
  const target = parseTarget(opts.target);
  if (typeof target !== 'string') return usage(target.error);
  const backend = opts.backend ?? 'model';
  if (backend !== 'model' && backend !== 'emulate' && backend !== 'gpu') return usage(`--backend: unknown backend '${backend}': expected model, emulate or gpu`);
  // gpu: the attached device (keyed by its spec name when Tilekit models it); else the card to model.
  let gpu: GpuTarget | undefined;
  let spec: DeviceSpec | undefined;
  if (backend === 'gpu') {
    const g = await detectGpu(target, opts.device);
    if ('error' in g) {
      io.err(`error: ${g.error}`);
      return g.usage ? EXIT_USAGE : EXIT_ERRORS;
    }
    gpu = g;
    spec = g.spec;
  } else {
    const d = resolveDevice(opts.device, target);
    if ('error' in d) return usage(d.error);
    spec = d;
  }
  const deviceKey = gpu?.key ?? spec!.name;
  const strategyName = opts.strategy ?? 'guided';
  if (!(STRATEGY_NAMES as readonly string[]).includes(strategyName)) return usage(`--strategy: unknown strategy '${strategyName}': expected ${STRATEGY_NAMES.join(', ')}`);
  const budget = parseBudget(opts.budget);
  if ('error' in budget) return usage(budget.error);
  const mfma = parseMfma(opts.mfma);
  if (typeof mfma === 'object') return usage(mfma.error);
  if (mfma !== undefined && !isAmdTarget(target)) return usage(`--mfma applies to AMD targets, not to ${target}`);
  const seed = opts.seed ?? 1;
  const parallel = opts.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isInteger(parallel) || parallel < 1) return usage(`--parallel: expected a whole number ≥ 1, got ${parallel}`);
  const compileTimeout = opts.compileTimeout ?? DEFAULT_COMPILE_TIMEOUT_S;
  if (!(compileTimeout > 0)) return usage(`--compile-timeout: expected seconds > 0, got ${compileTimeout}`);
  const launchTimeout = opts.launchTimeout ?? DEFAULT_LAUNCH_TIMEOUT_S;
  if (!(launchTimeout > 0)) return usage(`--launch-timeout: expected seconds > 0, got ${launchTimeout}`);

  // The default configuration must build: it checks the file, the kernel and the constants.
  const built = await buildFromFile(file, { ...(opts.kernel ? { kernel: opts.kernel } : {}), const: opts.const ?? [] }, io);
  if ('exit' in built) return built.exit;
  const sp = tuneSpace(built.source, built.ir.name, parseAssignments('--const', opts.const ?? []).values);
  if (!sp.space) {
    if (sp.message) io.err(`error: ${sp.message}`);
    reportDiagnostics(io, sp.diagnostics.map((diagnostic) => ({ source: built.source, diagnostic })));
    return EXIT_ERRORS;
  }
  const space = sp.space;
  const dims = abiParams(built.ir).dimNames;
  const { shapes, errors } = parseShapes(opts.shapes, dims);
  if (errors.length > 0) {
    for (const e of errors) io.err(`error: ${e}`);
    return EXIT_USAGE;
  }

  let toolchain: Record<string, string>;
  try {
    toolchain = { ...(await toolchainVersions(target)), ...(gpu ? { driver: gpu.driver } : {}) };
  } catch (e) {
    if (e instanceof ToolchainMissingError) {
      io.err(`error: ${e.message}`);
      return EXIT_ERRORS;
    }
    throw e;
  }
  let db: ResultsDb;
  const dbPath = opts.db ?? DEFAULT_DB;
  try {
    db = ResultsDb.open(dbPath);
  } catch (e) {
    io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_ERRORS;
  }
  const { signal: _signal, ...args } = opts;
  const runId = db.startRun({ args: { file, ...args }, strategy: strategyName, seed });
  // The text every result of this run is keyed by, so `tilekit pack` can rebuild any configuration.
  db.recordSource(built.source.path, built.source.text);
  const points = space.points();
  io.out(
    `tuning ${space.kernel} for ${target} on ${gpu ? `${gpu.info.name} (gpu: times measured with device events, median of at least ${DEFAULT_GPU_TIMING.reps} runs, L2 flushed before each)` : `${deviceKey} (${backend}: times are modeled, not measured)`}: ${points.length} valid configurations of ` +
      `${space.dims.map((d) => d.name).join(', ')}; strategy ${strategyName}, seed ${seed}, ${parallel} at a time${budget.evaluations ? `, budget ${budget.evaluations} per shape` : ''}${budget.seconds ? `, budget ${budget.seconds} s per shape` : ''}; results in ${dbPath}`,
  );

  // Each configuration is compiled once for every shape, with at most one ptxas/clang per core.
  const pool = new Pool(Math.max(1, availableParallelism()));
  const candidates = new Map<string, Promise<Candidate | CandidateFailure>>();
  const candidate = (p: Point): Promise<Candidate | CandidateFailure> => {
    const k = pointKey(p);
    let c = candidates.get(k);
    if (!c) candidates.set(k, (c = pool.run(() => compileCandidate(space, p, target, { timeoutMs: compileTimeout * 1000, ...(mfma ? { mfma } : {}) }))));
    return c;
  };

  // One launch on the device at a time: concurrent kernels would time each other.
  const gpuPool = new Pool(1);
  const launchTimeoutMs = launchTimeout * 1000;

  const interrupted = { value: false };
  const abort = new AbortController();
  const onSigint = (): void => {
    interrupted.value = true;
    abort.abort();
  };
  process.once('SIGINT', onSigint);
  opts.signal?.addEventListener('abort', onSigint);
  const bars = io.progress ? new MultiBar({ stream: io.progress, format: '  {shape} [{bar}] {value}/{total} configurations | best {best} | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true }) : undefined;
  const label = gpu ? 'measured' : 'modeled';
  const flopsOf = async (p: Point, shape: Shape): Promise<number | undefined> => {
    const c = await candidate(p);
    return c.ok ? estimateWork(c.ir, shape).total.mmaFlops : undefined;
  };
  /**
   * One compiled configuration at one shape, as the results database stores it. `noteModel` gets
   * the model's view (the cost for model and emulate, the comparison beside a measurement for gpu).
   */
  const measure = async (c: Candidate & { ok: true }, shape: Shape, noteModel: (m: ModeledCost) => void): Promise<ResultValue> => {
    const work = estimateWork(c.ir, shape);
    const model = spec ? modelCost({ device: spec, target, work, resources: c.resources }) : undefined;
    if (model && !model.feasible) return { status: 'resources', message: model.notes.join('; ') || `does not launch on ${deviceKey}`, shape, metrics: { occupancy: model.occupancy, resources: c.resources } };
    if (gpu) {
      const m = await gpuPool.run(() => measureOnGpu(c, shape, { seed, flushBytes: gpu.flushBytes, timeoutMs: launchTimeoutMs }));
      if (!m.ok) return { status: m.reason, message: m.message, shape, metrics: { resources: c.resources } };
      if (model) noteModel(model);
      const t = m.timing;
      return {
        status: 'ok',
        costUs: m.timeUs,
        label: 'measured',
        spread: { minUs: t.min * 1000, maxUs: t.max * 1000, iqrOverMedian: t.spread },
        shape,
        metrics: {
          device: gpu.info.name,
          runs: t.samples.length,
          flushedL2: t.flushedL2,
          maxRelL2: m.maxRelL2,
          grid: m.grid,
          tflops: work.total.mmaFlops / (m.timeUs * 1e-6) / 1e12,
          resources: c.resources,
          ...(model ? { modeled: { timeUs: model.timeUs, bound: model.bound, occupancy: model.occupancy } } : {}),
        },
      };
    }
    let cost = model!;
    // emulate: the configuration is checked on the CPU, and the emulator's proxy statistics refine the model.
    const emu = backend === 'emulate' ? await measureWithEmulator(c, shape, { seed, device: spec!, target }) : undefined;
    if (emu && !emu.ok) return { status: emu.reason, message: emu.message, shape, metrics: { resources: c.resources } };
    if (emu?.ok) cost = emu.cost;
    noteModel(cost);
    const proxy = emu?.ok && emu.proxy ? { proxyShape: emu.proxy.shape, stats: emu.proxy.stats, shared: emu.proxy.emuStats.shared, global: emu.proxy.emuStats.global } : {};
    const emulator = emu?.ok ? { emulator: { checkedOn: emu.checkedOn, maxRelL2: emu.maxRelL2, ...proxy } } : {};
    return { status: 'ok', costUs: cost.timeUs, label: 'modeled', shape, metrics: { tflops: cost.tflops, bound: cost.bound, occupancy: cost.occupancy, terms: cost.terms, resources: c.resources, ...emulator } };
  };
  /** One shape's search; the shapes' searches run side by side and share the compiled candidates. */
  const tuneShape = async (shape: Shape): Promise<ShapeSummary> => {
    const bucket = bucketOf(shape, dims);
    const scope: ResultScope = { kernel: space.kernel, sourceHash: space.sourceHash, bucket, target, device: deviceKey, backend, toolchain };
    const known = knownOutcomes(db, scope, space);
    const models = new Map<string, ModeledCost>();
    let failed = 0;
    const bar = bars?.create(Math.min(points.length, budget.evaluations ?? Infinity), 0, { shape: formatShape(shape, dims), best: '-' });
    const evaluate = async (p: Point): Promise<Outcome> => {
      const c = await candidate(p);
      const value = c.ok ? await measure(c, shape, (m) => models.set(pointKey(p), m)) : { status: c.reason, message: c.message, shape };
      db.record(runId, { ...scope, config: configOf(space, p) }, value);
      if (value.status !== 'ok') failed++;
      return value.status === 'ok' ? { ok: true, cost: value.costUs } : { ok: false, reason: `${value.status}: ${value.message}` };
    };
    const result = await makeStrategy(strategyName as StrategyName).run({ dims: space.dims, valid: space.valid }, evaluate, {
      budget,
      seed,
      known,
      parallel,
      signal: abort.signal,
      onResult: (_p, _o, best) => bar?.increment({ best: best ? `${best.cost.toFixed(1)} µs (${label})` : '-' }),
    });
    // The best may come from an earlier run: its model is recomputed from its compiled candidate.
    const modelOf = async (p: Point): Promise<ModeledCost | undefined> => {
      const c = await candidate(p);
      return c.ok && spec ? modelCost({ device: spec, target, work: estimateWork(c.ir, shape), resources: c.resources }) : undefined;
    };
    const best = result.best;
    const model = best ? (models.get(pointKey(best.point)) ?? (await modelOf(best.point))) : undefined;
    const flops = best ? await flopsOf(best.point, shape) : undefined;
    return {
      shape,
      bucket,
      ...(best ? { best } : {}),
      ...(model ? { model } : {}),
      ...(best && flops !== undefined ? { tflops: flops / (best.cost * 1e-6) / 1e12 } : {}),
      evaluated: result.evaluated,
      reused: result.reused,
      failed,
      stopped: result.stopped,
    };
  };
  let summaries: ShapeSummary[];
  try {
    summaries = await Promise.all(shapes.map(tuneShape));
  } catch (e) {
    interrupted.value = true;
    // The work estimator cannot follow this kernel: a limit of the model, reported, not a crash.
    if (!(e instanceof WorkError)) throw e;
    io.err(`error: the cost model cannot estimate kernel '${space.kernel}': ${e.message}`);
    return EXIT_ERRORS;
  } finally {
    bars?.stop();
    process.removeListener('SIGINT', onSigint);
    db.finishRun(runId, interrupted.value ? 'interrupted' : 'done');
    db.close();
  }

  printSummary(io, space, summaries, dims, deviceKey, label);
  if (interrupted.value) {
    io.err(`interrupted: every configuration evaluated so far is in ${dbPath}; run the same command again to resume`);
    return EXIT_ERRORS;
  }
  io.out(`${kernelLabel(built.ir).split(' ')[0]}: run ${runId} done; \`tilekit results --kernel ${space.kernel} --db ${dbPath}\` lists every result`);
  return summaries.every((s) => s.best) ? EXIT_OK : EXIT_ERRORS;
}

/** The tunables and constants of a point, as the results database keys them. */
function configOf(space: TuneSpace, p: Point): Record<string, number | string | boolean> {
  const c: Record<string, number | string | boolean> = {};
  for (const [k, v] of space.consts) c[k] = v.value;
  for (const d of space.dims) c[d.name] = p[d.name]!;
  return c;
}

/** Earlier results for this scope, as the strategy's `known` outcomes (in the order they were recorded). */
function knownOutcomes(db: ResultsDb, scope: ResultScope, space: TuneSpace): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const r of db.known(scope).values()) {
    const cfg = r.key.config;
    if ([...space.consts].some(([k, v]) => cfg[k] !== v.value)) continue;
    const p: Record<string, number> = {};
    for (const d of space.dims) p[d.name] = Number(cfg[d.name]);
    out.set(pointKey(p), r.result.status === 'ok' ? { ok: true, cost: r.result.costUs } : { ok: false, reason: `${r.result.status}: ${r.result.message}` });
  }
  return out;
}

function printSummary(io: CliIO, space: TuneSpace, rows: readonly ShapeSummary[], dims: readonly string[], device: string, label: 'measured' | 'modeled'): void {
  // bound and occupancy are always the model's (for a measurement, its explanation of the number).
  const header = ['shape', 'bucket', 'best configuration', `time on ${device} (${label})`, 'TFLOP/s', label === 'measured' ? 'bound (modeled)' : 'bound', 'occupancy', 'evaluated', 'failed'];
  const table = rows.map((r) => [
    formatShape(r.shape, dims),
    r.bucket,
    r.best ? space.dims.map((d) => `${d.name}=${r.best!.point[d.name]}`).join(',') : '(none succeeded)',
    r.best ? `${r.best.cost.toFixed(1)} µs` : '-',
    r.tflops !== undefined ? r.tflops.toFixed(0) : '-',
    r.model?.bound ?? '-',
    r.model ? `${r.model.occupancy.blocksPerSm} blocks/SM (${r.model.occupancy.limitedBy})` : '-',
    `${r.evaluated}${r.reused ? ` (+${r.reused} earlier)` : ''}`,
    String(r.failed),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  io.out(line(header));
  for (const row of table) io.out(line(row));
}
