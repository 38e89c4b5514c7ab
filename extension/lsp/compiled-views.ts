/**
 * What the editor shows of the compiler and the tuner, for the LSP server's custom requests
 * (docs/lsp.md): a kernel's assembly for a target and configuration with the `.tile` range → emitted
 * lines map, its resource report (ptxas or clang, so Node only), and its tuning results. Each
 * answer is a value or `{ error }`, never an exception: the server turns neither into a crash.
 */
import { existsSync } from 'node:fs';
import { isAmdTarget, parseTarget } from '../../compiler/targets.js';
import { ToolchainMissingError } from '../../compiler/toolchain/errors.js';
import type { AnalyzedDocument } from '../language-service/document.js';
import { describeErrors, type Failure, type KernelRequest, regionOf } from './assembly-view.js';
import type { ChartRow } from '../charts/chart-data.js';
import { chartRows } from '../charts/chart-rows.js';
import { compileCandidate } from '../../tuner/compile-candidate.js';
import { amdTotalVgprs, occupancyOf } from '../../tuner/cost-model.js';
import { type DeviceName, getDevice } from '../../tuner/devices.js';
import { ResultsDb, type StoredResult } from '../../tuner/results-db.js';
import { tuneSpace } from '../../tuner/space.js';
import type { ConfigValue } from '../../compiler/ir.js';

export { assemblyView, type AssemblyView, type Failure, type KernelRequest } from './assembly-view.js';

export interface ResourceView {
  readonly kernel: string;
  readonly target: string;
  readonly config: Readonly<Record<string, ConfigValue>>;
  readonly toolchain: 'ptxas' | 'clang';
  readonly threadsPerBlock: number;
  readonly registersPerThread: number;
  readonly spillBytes: number;
  readonly sharedBytes: number;
  /** On the target's reference card (h100 for sm_90a, a100 for sm_80, mi300x for AMD), from the model's occupancy calculator. */
  readonly occupancy: { readonly device: string; readonly blocksPerSm: number; readonly limitedBy: string };
  readonly failure?: string;
}

const REFERENCE_DEVICE: Readonly<Record<string, DeviceName>> = { sm_80: 'a100', sm_90a: 'h100', gfx942: 'mi300x', gfx90a: 'mi300x' };

/** Registers, spills, shared memory and occupancy from ptxas or clang for the kernel in a configuration. */
export async function resourceView(doc: AnalyzedDocument, req: KernelRequest): Promise<ResourceView | Failure> {
  const target = parseTarget(req.target);
  if (typeof target !== 'string') return { error: target.error };
  const region = regionOf(doc, req.kernel);
  if ('error' in region) return region;
  const config = req.config ?? {};
  // The tunables are the kernel's `tune` names; everything else in `config` is a constant.
  const tunables = new Set(tuneSpace(region.source, req.kernel).space?.dims.map((d) => d.name) ?? []);
  const consts = new Map(Object.entries(config).filter(([k]) => !tunables.has(k)).map(([k, v]) => [k, String(v)]));
  const sp = tuneSpace(region.source, req.kernel, consts);
  if (!sp.space) return { error: sp.message ?? `kernel '${req.kernel}' does not build: ${describeErrors(sp.diagnostics)}` };
  const space = sp.space;
  const point = { ...space.defaultPoint, ...Object.fromEntries(space.dims.filter((d) => config[d.name] !== undefined).map((d) => [d.name, Number(config[d.name])])) };
  let c;
  try {
    c = await compileCandidate(space, point, target, { allowSpills: true });
  } catch (e) {
    if (e instanceof ToolchainMissingError) return { error: e.message };
    throw e;
  }
  if (!c.ok) return { error: `${c.reason}: ${c.message}` };
  const r = c.resources;
  const device = getDevice(REFERENCE_DEVICE[target]!);
  const occ = occupancyOf(device, r);
  return {
    kernel: req.kernel,
    target,
    config: c.ir.config,
    toolchain: isAmdTarget(target) ? 'clang' : 'ptxas',
    threadsPerBlock: r.threadsPerBlock,
    registersPerThread: isAmdTarget(target) ? amdTotalVgprs(r) : (r.registersPerThread ?? 0),
    spillBytes: r.spillBytesPerThread ?? r.spillBytes ?? 0,
    sharedBytes: r.sharedBytesPerBlock,
    occupancy: { device: device.name, blocksPerSm: occ.blocksPerSm, limitedBy: occ.limitedBy },
    ...(occ.problems.length > 0 ? { failure: occ.problems.join('; ') } : {}),
  };
}

export interface TuningResultsView {
  readonly db: string;
  readonly results: readonly StoredResult[];
}

/** Every stored result of a kernel, best first (as `tilekit results` lists them). */
export function tuningResultsView(dbPath: string, kernel: string): TuningResultsView | Failure {
  if (!existsSync(dbPath)) return { error: `no results database at ${dbPath}: run \`tilekit tune\` to make one` };
  let db: ResultsDb;
  try {
    db = ResultsDb.open(dbPath);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  try {
    return { db: dbPath, results: db.query({ kernel }) };
  } finally {
    db.close();
  }
}

/**
 * The kernel's stored results as chart rows (extension/charts): each successful one with the FLOPs
 * and DRAM bytes of its configuration, computed from the open document's source.
 */
export function chartRowsView(doc: AnalyzedDocument, dbPath: string, kernel: string): { readonly rows: readonly ChartRow[]; readonly skipped: readonly string[] } | Failure {
  const region = regionOf(doc, kernel);
  if ('error' in region) return region;
  const stored = tuningResultsView(dbPath, kernel);
  if ('error' in stored) return stored;
  return chartRows(region.source, kernel, stored.results.map((r) => ({ ...r.key, result: r.result })));
}
