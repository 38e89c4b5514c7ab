/**
 * `tilekit check FILE...`: every kernel of every file, in every configuration of its space.
 * Diagnostics go to stderr; one summary line per file goes to stdout.
 */
import { checkSource } from './check-source.js';
import { EXIT_ERRORS, EXIT_OK, reportDiagnostics, type CliIO } from './cli-io.js';
import { loadSourceFile } from './load-source.js';

export async function checkCommand(files: string[], io: CliIO): Promise<number> {
  let failed = false;
  for (const file of files) {
    const loaded = await loadSourceFile(file);
    const items = [...loaded.diagnostics];
    let kernels = 0;
    let configs = 0;
    for (const source of loaded.sources) {
      const result = checkSource(source);
      for (const diagnostic of result.diagnostics) items.push({ source, diagnostic });
      kernels += result.program.kernels.length;
      for (const n of result.checked.values()) configs += n;
    }
    const { errors, warnings } = reportDiagnostics(io, items);
    if (errors > 0) failed = true;
    io.out(
      `${file}: ${plural(kernels, 'kernel')}, ${plural(configs, 'configuration')} checked, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`,
    );
  }
  return failed ? EXIT_ERRORS : EXIT_OK;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
