/**
 * Where the command-line commands write. Commands take a CliIO instead of touching process.stdout,
 * so tests run them in-process and collect what they print.
 */
import { formatDiagnostic, type Diagnostic } from './diagnostic.js';
import type { SourceText } from './source.js';

export interface CliIO {
  /** Writes one or more lines (no trailing newline needed) to standard output. */
  out(text: string): void;
  /** Writes one or more lines (no trailing newline needed) to standard error. */
  err(text: string): void;
  /** Where progress bars go: a terminal's standard error; absent when nobody watches (pipes, tests). */
  readonly progress?: NodeJS.WritableStream;
}

export const processIO: CliIO = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  ...(process.stderr.isTTY ? { progress: process.stderr } : {}),
};

/** Exit codes shared by every command (docs/cli.md). */
export const EXIT_OK = 0;
/** Diagnostics with errors in the kernel, or a runtime failure. */
export const EXIT_ERRORS = 1;
/** Bad usage: flags, names, or the contents of an arguments file. */
export const EXIT_USAGE = 2;

/** Prints diagnostics to io.err, each followed by a blank line; returns how many are errors and warnings. */
export function reportDiagnostics(io: CliIO, items: readonly { source: SourceText; diagnostic: Diagnostic }[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const { source, diagnostic } of items) {
    io.err(`${formatDiagnostic(diagnostic, source)}\n`);
    if (diagnostic.severity === 'error') errors++;
    else if (diagnostic.severity === 'warning') warnings++;
  }
  return { errors, warnings };
}
