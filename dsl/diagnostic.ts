import type { Span } from './span.js';
import type { SourceText } from './source.js';

export type Severity = 'error' | 'warning' | 'note';

/** A diagnostic is a value: a stable code, where, what was expected, and how to fix it. */
export interface Diagnostic {
  /** `TK` followed by four digits; every code is listed in docs/diagnostics.md. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly hint?: string;
  /** Extra context, e.g. the configuration under which an error appears. */
  readonly notes?: readonly string[];
}

export function error(code: string, span: Span, message: string, hint?: string): Diagnostic {
  return hint === undefined ? { code, severity: 'error', message, span } : { code, severity: 'error', message, span, hint };
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/** Thrown by stages that cannot go on; carries the diagnostics that stopped them. */
export class DiagnosticError extends Error {
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    readonly source?: SourceText,
  ) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'));
    this.name = 'DiagnosticError';
  }
}

/**
 * Renders a diagnostic like rustc does:
 *
 *   error[TK2002]: shapes [64, 32] and [32, 64] do not broadcast
 *     --> kernels/gemm.tile:12:9
 *      |
 *   12 |   let x = a + b;
 *      |           ^^^^^
 *      = hint: ...
 */
export function formatDiagnostic(d: Diagnostic, src: SourceText): string {
  const pos = src.position(d.span.start);
  const endPos = src.position(Math.max(d.span.start, d.span.end - 1));
  const lineText = src.lineText(pos.line);
  const gutter = String(pos.line).length;
  const pad = ' '.repeat(gutter);
  const caretLen = endPos.line === pos.line ? Math.max(1, endPos.column - pos.column + 1) : Math.max(1, lineText.length - pos.column + 1);
  const out = [
    `${d.severity}[${d.code}]: ${d.message}`,
    `${pad}--> ${src.path}:${pos.line}:${pos.column}`,
    `${pad} |`,
    `${pos.line} | ${lineText}`,
    // Keep tabs under tabs so the caret lines up however wide the terminal draws them.
    `${pad} | ${lineText.slice(0, pos.column - 1).replace(/[^\t]/g, ' ')}${'^'.repeat(caretLen)}`,
  ];
  for (const n of d.notes ?? []) out.push(`${pad} = note: ${n}`);
  if (d.hint) out.push(`${pad} = hint: ${d.hint}`);
  return out.join('\n');
}
