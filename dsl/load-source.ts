/**
 * Reads a file the user names on the command line or opens in the editor into the tile sources
 * it holds: a `.tile` file is one source; a TypeScript file holds one per `` tile`…` `` kernel.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Diagnostic } from './diagnostic.js';
import { SourceText } from './source.js';
import { span } from './span.js';

export interface LoadedSources {
  sources: SourceText[];
  /** Problems found before parsing, each with the source its span refers to. */
  diagnostics: { source: SourceText; diagnostic: Diagnostic }[];
}

const HOST_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

export async function loadSourceFile(path: string): Promise<LoadedSources> {
  const ext = extname(path).toLowerCase();
  const empty = new SourceText(path, '');
  if (ext !== '.tile' && !HOST_EXTENSIONS.has(ext)) {
    return fail(empty, 'TK0102', `unsupported file type '${ext}': expected a .tile file or a .ts file with tile\`…\` templates`);
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return fail(empty, 'TK0100', `cannot read file: ${e instanceof Error ? e.message : String(e)}`);
  }
  // A byte-order mark is not text the user sees; keeping it would shift every column on line 1.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  if (ext === '.tile') return { sources: [new SourceText(path, text)], diagnostics: [] };

  // Loaded on demand: the TypeScript compiler takes ~0.3 s to load, which `.tile` users should not pay.
  const { extractTileTemplates } = await import('./extract-templates.js');
  const extracted = extractTileTemplates(path, text);
  const { sources, diagnostics } = extracted;
  if (sources.length === 0 && diagnostics.length === 0) {
    const message =
      extracted.templates === 0
        ? `no tile\`…\` templates found in ${path}`
        : `no tile\`…\` kernels found in ${path}: ${
            extracted.templates === 1 ? 'its tile template is a fragment' : `its ${extracted.templates} tile templates are fragments`
          } without \`kernel\``;
    const diagnostic: Diagnostic = { code: 'TK0103', severity: 'warning', message, span: span(0, 0) };
    diagnostics.push({ source: new SourceText(path, text), diagnostic });
  }
  return { sources, diagnostics };
}

function fail(source: SourceText, code: string, message: string): LoadedSources {
  const diagnostic: Diagnostic = { code, severity: 'error', message, span: span(0, 0) };
  return { sources: [], diagnostics: [{ source, diagnostic }] };
}
