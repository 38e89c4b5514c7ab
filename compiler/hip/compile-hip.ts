/**
 * The AMD backend's entry point: tile IR (one configuration) → HIP C++ for gfx942 or gfx90a,
 * after checking the configuration against the target's limits.
 */
import { type Diagnostic, error } from '../../dsl/diagnostic.js';
import type { SourceText } from '../../dsl/source.js';
import type { IRKernel } from '../ir.js';
import { generateHip } from './codegen.js';
import { type AmdTarget, type CompiledHip, WAVE_SIZE } from './kernel-abi.js';
import type { MfmaSize } from './mfma-layout.js';

/**
 * Per-workgroup limits of CDNA2/CDNA3 (MI250X, MI300X): 64 KiB of LDS (clang rejects more),
 * 1024 work-items. Per lane: 256 VGPRs + 256 AGPRs (512 unified on gfx90a/gfx942); per SIMD: at
 * most 8 waves — those two come from clang's resource report, after compiling.
 */
export const AMD_LIMITS: Readonly<Record<AmdTarget, { readonly lds: number; readonly threads: number; readonly wavesPerSimd: number }>> = {
  gfx942: { lds: 65536, threads: 1024, wavesPerSimd: 8 },
  gfx90a: { lds: 65536, threads: 1024, wavesPerSimd: 8 },
};

export const AMD_TARGETS: readonly AmdTarget[] = ['gfx942', 'gfx90a'];

/** The MFMA fragment edge by default: 16×16 tiles fit more shapes (Triton's default on CDNA3 too). */
export const DEFAULT_MFMA: MfmaSize = 16;

export interface HipOptions {
  /** MFMA instruction size (Triton's `matrix_instr_nonkdim`): 16 (16×16×16) or 32 (32×32×8). */
  readonly mfma?: MfmaSize;
  /** The kernel's source, for `#line` directives and the span map. */
  readonly source?: SourceText;
}

export function compileHip(ir: IRKernel, target: AmdTarget, opts: HipOptions = {}): { compiled?: CompiledHip; diagnostics: Diagnostic[] } {
  const limits = AMD_LIMITS[target];
  const waves = Number(ir.config.WARPS ?? 4);
  const mfma = opts.mfma ?? DEFAULT_MFMA;
  const at = ir.span ?? { start: 0, end: 0 };
  if (!Number.isInteger(waves) || waves < 1 || waves * WAVE_SIZE > limits.threads) {
    return {
      diagnostics: [
        error('TK4002', at, `WARPS=${ir.config.WARPS} gives ${waves * WAVE_SIZE} threads per workgroup (${WAVE_SIZE}-lane wavefronts); ${target} allows ${limits.threads}`, 'choose fewer warps'),
      ],
    };
  }
  const { result, diagnostics } = generateHip(ir, mfma, at);
  if (!result) return { diagnostics };
  if (result.ldsBytes > limits.lds) {
    return {
      diagnostics: [error('TK4001', at, `this configuration needs ${result.ldsBytes} bytes of LDS per workgroup; ${target} allows ${limits.lds}`, 'use smaller tiles')],
    };
  }
  const config = Object.entries(ir.config)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const printed = result.builder.print({
    entry: ir.name,
    params: result.paramDecls,
    threads: result.threads,
    ldsBytes: result.ldsBytes,
    comment: `${ir.name} [${config}] for ${target}, ${mfma}x${mfma} MFMA`,
    ...(opts.source ? { source: opts.source } : {}),
  });
  return {
    compiled: { target, entry: ir.name, source: printed.text, params: result.params, threads: result.threads, ldsBytes: result.ldsBytes, spanMap: printed.spanMap },
    diagnostics: [],
  };
}
