/**
 * The NVIDIA backend's entry point: tile IR (one configuration) → PTX for sm_80 or sm_90a,
 * after checking the configuration against the target's limits.
 */
import { type Diagnostic, error } from '../../dsl/diagnostic.js';
import type { SourceText } from '../../dsl/source.js';
import type { IRKernel } from '../ir.js';
import { generate } from './codegen.js';
import type { CompiledPtx, NvidiaTarget } from './kernel-abi.js';

/** Per-block limits: shared memory (opt-in maximum) and threads. */
export const TARGET_LIMITS: Readonly<Record<NvidiaTarget, { readonly smem: number; readonly threads: number }>> = {
  sm_80: { smem: 163 * 1024, threads: 1024 },
  sm_90a: { smem: 227 * 1024, threads: 1024 },
};

export function compilePtx(ir: IRKernel, target: NvidiaTarget, source?: SourceText): { compiled?: CompiledPtx; diagnostics: Diagnostic[] } {
  const limits = TARGET_LIMITS[target];
  const warps = Number(ir.config.WARPS ?? 4);
  const at = ir.span ?? { start: 0, end: 0 };
  if (!Number.isInteger(warps) || warps < 1 || warps * 32 > limits.threads) {
    return { diagnostics: [error('TK4002', at, `WARPS=${ir.config.WARPS} gives ${warps * 32} threads per block; ${target} allows ${limits.threads}`, 'choose fewer warps')] };
  }
  const { result, diagnostics } = generate(ir, at);
  if (!result) return { diagnostics };
  if (result.smemBytes > limits.smem) {
    return {
      diagnostics: [
        error('TK4001', at, `this configuration needs ${result.smemBytes} bytes of shared memory per block; ${target} allows ${limits.smem}`, 'use smaller tiles or fewer pipeline stages'),
      ],
    };
  }
  const entry = ir.name;
  const printed = result.builder.print({ target, entry, params: result.paramTypes, dynamicSmem: result.smemBytes, threads: result.threads, ...(source ? { source } : {}) });
  return {
    compiled: { target, entry, ptx: printed.ptx, params: result.params, threads: result.threads, dynamicSmem: result.smemBytes, spanMap: printed.spanMap },
    diagnostics: [],
  };
}
