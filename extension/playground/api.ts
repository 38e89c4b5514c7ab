/**
 * What the playground's Web Worker does (tile-worker.ts exposes it through comlink): the
 * language-service core and the compiler on one document, in the browser. Plain TypeScript with no
 * DOM or Node dependency, so tests run it in Node too.
 */
import { assemblyView, type AssemblyView, type Failure } from '../lsp/assembly-view.js';
import type { ChartRow } from '../charts/chart-data.js';
import { chartRows } from '../charts/chart-rows.js';
import { type CompletionItem, type Hover, LanguageService, type LsDiagnostic, type Position } from '../language-service/index.js';

export const PLAYGROUND_URI = 'file:///playground.tile';

export class PlaygroundApi {
  private readonly service = new LanguageService();

  /** Replaces the document and returns its diagnostics. */
  update(text: string): LsDiagnostic[] {
    this.service.update(PLAYGROUND_URI, text);
    return this.service.diagnostics(PLAYGROUND_URI);
  }

  hover(pos: Position): Hover | undefined {
    return this.service.hover(PLAYGROUND_URI, pos);
  }

  completion(pos: Position): CompletionItem[] {
    return this.service.completion(PLAYGROUND_URI, pos);
  }

  /** The kernels of the document, in order. */
  kernels(): string[] {
    return this.service.documentSymbols(PLAYGROUND_URI).map((s) => s.name);
  }

  /**
   * Chart rows for `kernel` from stored results (`tilekit results --format json`), each with its
   * FLOPs and DRAM bytes computed from this document's source.
   */
  chartRows(kernel: string, results: readonly unknown[]): { rows: ChartRow[]; skipped: string[] } | Failure {
    const region = this.service.analysis(PLAYGROUND_URI)?.regions.find((r) => r.program.kernels.some((k) => k.name.name === kernel));
    return region ? chartRows(region.source, kernel, results) : { error: `no kernel '${kernel}' in the editor` };
  }

  /** The kernel's PTX or HIP in its default configuration (or `config`), with the range → lines map. */
  compile(kernel: string, target: string, config: Readonly<Record<string, string | number | boolean>> = {}): AssemblyView | Failure {
    const doc = this.service.analysis(PLAYGROUND_URI);
    if (!doc) return { error: 'no document' };
    return assemblyView(doc, { uri: PLAYGROUND_URI, kernel, target, config });
  }
}
