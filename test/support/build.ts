import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildKernelIR } from '../../compiler/compile.js';
import type { IRKernel } from '../../compiler/ir.js';
import { formatDiagnostic } from '../../dsl/diagnostic.js';
import { SourceText } from '../../dsl/source.js';

export function kernelPath(file: string): string {
  return fileURLToPath(new URL(`../../kernels/${file}`, import.meta.url));
}

/** Builds a shipped kernel's IR for a configuration; throws with formatted diagnostics. */
export function buildShipped(file: string, kernel: string, overrides: Record<string, string | number | boolean> = {}): IRKernel {
  const path = kernelPath(file);
  return buildText(new SourceText(path, readFileSync(path, 'utf8')), kernel, overrides);
}

export function buildText(src: SourceText, kernel: string | undefined, overrides: Record<string, string | number | boolean> = {}): IRKernel {
  const o = new Map(Object.entries(overrides).map(([k, v]) => [k, String(v)]));
  const { ir, diagnostics } = buildKernelIR(src, kernel, o);
  if (!ir) throw new Error(diagnostics.map((d) => formatDiagnostic(d, src)).join('\n'));
  return ir;
}
