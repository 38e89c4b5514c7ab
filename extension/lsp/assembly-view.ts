/**
 * A kernel's assembly for a target and configuration, with the `.tile` range → emitted lines map:
 * what the LSP server's `tilekit/assembly` request and the playground's worker answer. Browser-safe
 * (no Node module), so the playground compiles in a Web Worker with the same code.
 */
import { buildKernelIR } from '../../compiler/compile.js';
import { compileHip } from '../../compiler/hip/compile-hip.js';
import type { ConfigValue } from '../../compiler/ir.js';
import { compilePtx } from '../../compiler/ptx/compile-ptx.js';
import { isAmdTarget, parseTarget } from '../../compiler/targets.js';
import type { Diagnostic } from '../../dsl/diagnostic.js';
import type { AnalyzedDocument, Region } from '../language-service/document.js';
import { spanRange } from '../language-service/positions.js';
import type { Range } from '../language-service/protocol.js';

export interface KernelRequest {
  readonly uri: string;
  readonly kernel: string;
  /** sm_80, sm_90a, gfx942 or gfx90a. */
  readonly target: string;
  /** Tunables and constants to build with (the rest take their defaults). */
  readonly config?: Readonly<Record<string, ConfigValue>>;
}

export type Failure = { readonly error: string };

export interface AssemblyView {
  readonly kernel: string;
  readonly target: string;
  readonly language: 'ptx' | 'hip';
  readonly entry: string;
  readonly config: Readonly<Record<string, ConfigValue>>;
  readonly text: string;
  /** Threads per block and the shared memory (NVIDIA, dynamic) or LDS (AMD) the code declares, bytes: the compiler's own figures (registers need ptxas or clang). */
  readonly launch: { readonly threadsPerBlock: number; readonly sharedBytes: number };
  /** Each `.tile` range (in the document's own coordinates) and the 1-based emitted lines it became. */
  readonly map: readonly { readonly range: Range; readonly lines: readonly number[] }[];
}

export const describeErrors = (ds: readonly Diagnostic[]): string =>
  ds
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code}: ${d.message}`)
    .join('; ');

export function regionOf(doc: AnalyzedDocument, kernel: string): Region | Failure {
  const region = doc.regions.find((r) => r.program.kernels.some((k) => k.name.name === kernel));
  return region ?? { error: `no kernel '${kernel}' in ${doc.uri}` };
}

const overridesOf = (config: KernelRequest['config']): Map<string, string> => new Map(Object.entries(config ?? {}).map(([k, v]) => [k, String(v)]));

/** The kernel's PTX or HIP for a target and configuration, with the range → lines map. */
export function assemblyView(doc: AnalyzedDocument, req: KernelRequest): AssemblyView | Failure {
  const target = parseTarget(req.target);
  if (typeof target !== 'string') return { error: target.error };
  const region = regionOf(doc, req.kernel);
  if ('error' in region) return region;
  const built = buildKernelIR(region.source, req.kernel, overridesOf(req.config));
  if (!built.ir) return { error: `kernel '${req.kernel}' does not build: ${describeErrors(built.diagnostics)}` };
  const ir = built.ir;
  const gen = isAmdTarget(target) ? compileHip(ir, target, { source: region.source }) : compilePtx(ir, target, region.source);
  if (!gen.compiled) return { error: `kernel '${req.kernel}' does not compile for ${target}: ${describeErrors(gen.diagnostics)}` };
  const c = gen.compiled;
  return {
    kernel: req.kernel,
    target,
    language: 'ptx' in c ? 'ptx' : 'hip',
    entry: c.entry,
    config: ir.config,
    text: 'ptx' in c ? c.ptx : c.source,
    launch: { threadsPerBlock: c.threads, sharedBytes: 'dynamicSmem' in c ? c.dynamicSmem : c.ldsBytes },
    map: c.spanMap.map((m) => ({ range: spanRange(region.source, doc.lines, m.span), lines: m.lines })),
  };
}

/** The reference card the status bar's occupancy is computed for. */
