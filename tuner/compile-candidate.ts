/**
 * One configuration of a kernel, compiled for a target and assembled (ptxas for NVIDIA, clang-19
 * for AMD), with the resource figures the tuner prunes and models with. A configuration the
 * compiler or the toolchain rejects, or one that spills, is a typed failure with its reason, never
 * an exception: the tuner records it and goes on.
 */
import { compileHip } from '../compiler/hip/compile-hip.js';
import type { AmdTarget, CompiledHip } from '../compiler/hip/kernel-abi.js';
import type { MfmaSize } from '../compiler/hip/mfma-layout.js';
import type { IRKernel } from '../compiler/ir.js';
import { buildKernelIR } from '../compiler/compile.js';
import { compilePtx } from '../compiler/ptx/compile-ptx.js';
import type { CompiledPtx, NvidiaTarget } from '../compiler/ptx/kernel-abi.js';
import { buildCodeObject } from '../compiler/toolchain/clang.js';
import { ToolchainError } from '../compiler/toolchain/errors.js';
import { assemble } from '../compiler/toolchain/ptxas.js';
import type { Diagnostic } from '../dsl/diagnostic.js';
import { type KernelResources, resourcesFromClang, resourcesFromPtxas } from './cost-model.js';
import type { TuneSpace } from './space.js';
import type { Point } from './strategies/types.js';

export type TuneTarget = NvidiaTarget | AmdTarget;

export type CandidateFailure = { readonly ok: false; readonly reason: 'compile' | 'resources' | 'timeout'; readonly message: string };

export type Candidate =
  | { readonly ok: true; readonly ir: IRKernel; readonly target: NvidiaTarget; readonly compiled: CompiledPtx; readonly binary: Uint8Array; readonly resources: KernelResources; readonly compileMs: number }
  | { readonly ok: true; readonly ir: IRKernel; readonly target: AmdTarget; readonly compiled: CompiledHip; readonly binary: Uint8Array; readonly resources: KernelResources; readonly compileMs: number };

export interface CandidateOptions {
  /** AMD: the MFMA size. */
  readonly mfma?: MfmaSize;
  /** Kill ptxas/clang after this long (a hung toolchain is a `timeout` failure). */
  readonly timeoutMs?: number;
  /** Allow spills (by default a spilling configuration is pruned as `resources`). */
  readonly allowSpills?: boolean;
}

const RESOURCE_CODES = new Set(['TK4001', 'TK4002']);

function describeDiagnostics(ds: readonly Diagnostic[]): string {
  return ds
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code}: ${d.message}`)
    .join('; ');
}

export function isAmd(t: TuneTarget): t is AmdTarget {
  return t === 'gfx942' || t === 'gfx90a';
}

export async function compileCandidate(space: TuneSpace, point: Point, target: TuneTarget, opts: CandidateOptions = {}): Promise<Candidate | CandidateFailure> {
  const t0 = performance.now();
  const built = buildKernelIR(space.source, space.kernel, space.overrides(point));
  if (!built.ir) return { ok: false, reason: 'compile', message: describeDiagnostics(built.diagnostics) || 'the kernel does not build' };
  const ir = built.ir;
  const gen = isAmd(target) ? compileHip(ir, target, { source: space.source, ...(opts.mfma ? { mfma: opts.mfma } : {}) }) : compilePtx(ir, target, space.source);
  if (!gen.compiled) {
    const reason = gen.diagnostics.some((d) => RESOURCE_CODES.has(d.code)) ? 'resources' : 'compile';
    return { ok: false, reason, message: describeDiagnostics(gen.diagnostics) };
  }
  const timeout = opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {};
  try {
    if ('source' in gen.compiled) {
      const compiled = gen.compiled;
      const r = await buildCodeObject(compiled.source, { arch: compiled.target, ...timeout });
      const rep = r.report.find((x) => x.kernel === compiled.entry);
      if (!rep || !r.codeObject) return { ok: false, reason: 'compile', message: `clang reported nothing for '${compiled.entry}'` };
      const resources = resourcesFromClang(rep, compiled);
      if (rep.scratchBytes > 0 && !opts.allowSpills) return { ok: false, reason: 'resources', message: `spills: ${rep.scratchBytes} bytes of scratch per lane (${rep.vgprs} VGPRs + ${rep.agprs} AGPRs)` };
      return { ok: true, ir, target: compiled.target, compiled, binary: r.codeObject, resources, compileMs: performance.now() - t0 };
    }
    const compiled = gen.compiled;
    const r = await assemble(compiled.ptx, { arch: compiled.target, ...timeout });
    const rep = r.report.find((x) => x.kind === 'entry' && x.function === compiled.entry);
    if (!rep) return { ok: false, reason: 'compile', message: `ptxas reported nothing for '${compiled.entry}'` };
    const spill = rep.spillStoresBytes + rep.spillLoadsBytes;
    const resources = resourcesFromPtxas(rep, compiled);
    if (spill > 0 && !opts.allowSpills) return { ok: false, reason: 'resources', message: `spills: ${rep.spillStoresBytes} bytes stored, ${rep.spillLoadsBytes} loaded (${rep.registers} registers)` };
    return { ok: true, ir, target: compiled.target, compiled, binary: r.cubin, resources, compileMs: performance.now() - t0 };
  } catch (e) {
    if (e instanceof ToolchainError) return { ok: false, reason: e.timedOut ? 'timeout' : 'compile', message: e.message.split('\n')[0]! };
    throw e;
  }
}
