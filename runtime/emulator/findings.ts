/**
 * Collects sanitizer findings. The same kind at the same instruction is reported once, with a
 * repeat count: one missing barrier in a loop would otherwise produce thousands of lines.
 */
import type { Dim3, Finding, FindingKind } from './types.js';

export interface FindingSite {
  readonly instruction: string;
  readonly ptxLine: number;
  readonly source?: { readonly file: string; readonly line: number; readonly column: number };
}

export class Findings {
  private readonly byKey = new Map<string, Finding>();

  constructor(readonly kernel: string) {}

  add(kind: FindingKind, message: string, site: FindingSite, cta: Dim3, thread: Dim3): void {
    const key = `${kind}:${site.ptxLine}`;
    const prev = this.byKey.get(key);
    if (prev) {
      this.byKey.set(key, { ...prev, repeats: prev.repeats + 1 });
      return;
    }
    this.byKey.set(key, {
      kind,
      message,
      kernel: this.kernel,
      cta,
      thread,
      instruction: site.instruction,
      ptxLine: site.ptxLine,
      ...(site.source ? { source: site.source } : {}),
      repeats: 0,
    });
  }

  get count(): number {
    return this.byKey.size;
  }

  list(): Finding[] {
    return [...this.byKey.values()].sort((a, b) => a.ptxLine - b.ptxLine);
  }
}

/** One line per finding, for the CLI and error messages. */
export function formatFinding(f: Finding): string {
  const where = f.source ? `${f.source.file}:${f.source.line}:${f.source.column} (PTX line ${f.ptxLine})` : `PTX line ${f.ptxLine}`;
  const more = f.repeats > 0 ? ` (+${f.repeats} more)` : '';
  return `${f.kind}: ${f.message}\n  at ${where}: ${f.instruction}\n  kernel ${f.kernel}, CTA (${f.cta.join(',')}), thread (${f.thread.join(',')})${more}`;
}
