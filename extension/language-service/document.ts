/**
 * One analysed document: its regions of tile text (the whole `.tile` file, or each `tile`
 * template of a `.ts` file), each parsed, checked over its configuration space (the
 * diagnostics `tilekit check` gives) and once more in its default configuration (the types
 * hover and inlay hints show), with its tokens, comments and name index.
 */
import type { IToken } from 'chevrotain';
import type { KernelDecl, Program } from '../../dsl/ast.js';
import { checkSource, type SourceCheck } from '../../dsl/check-source.js';
import { checkKernel, type CheckedKernel } from '../../dsl/checker.js';
import { bindConfig, kernelSpace, type KernelSpace } from '../../dsl/config-space.js';
import type { Diagnostic } from '../../dsl/diagnostic.js';
import { extractTileTemplates } from '../../dsl/extract-templates.js';
import { tokenize } from '../../dsl/lexer.js';
import { SourceText } from '../../dsl/source.js';
import type { Span } from '../../dsl/span.js';
import { fromHost, LineMap } from './positions.js';
import { type NameIndex, resolveProgram } from './resolve.js';

/** A kernel checked in its default configuration (absent when it has none, e.g. a constant without a default). */
export interface KernelInfo {
  readonly kernel: KernelDecl;
  readonly space: KernelSpace;
  readonly checked?: CheckedKernel;
}

export interface Region {
  readonly source: SourceText;
  readonly program: Program;
  readonly diagnostics: readonly Diagnostic[];
  /** Lexical or syntax errors (TK0…): the tree is partial. */
  readonly syntaxErrors: boolean;
  readonly tokens: readonly IToken[];
  /** Comments, which the lexer skips, recovered from the gaps between tokens. */
  readonly comments: readonly Span[];
  readonly index: NameIndex;
  readonly kernels: readonly KernelInfo[];
}

export interface AnalyzedDocument {
  readonly uri: string;
  readonly text: string;
  readonly lines: LineMap;
  readonly isHost: boolean;
  readonly regions: readonly Region[];
  /** Problems found in the host file before parsing (an interpolation that cannot be resolved), with host-text spans. */
  readonly hostDiagnostics: readonly Diagnostic[];
  readonly syntaxErrors: boolean;
}

/** The checker entry point; injectable so tests can make it fail. */
export type CheckFn = (src: SourceText) => SourceCheck;

const HOST_FILE = /\.(ts|mts|cts|tsx)$/i;

export function isHostUri(uri: string): boolean {
  return HOST_FILE.test(uri);
}

export function analyzeDocument(uri: string, text: string, check: CheckFn = checkSource): AnalyzedDocument {
  const lines = new LineMap(text);
  if (!isHostUri(uri)) {
    const region = analyzeRegion(new SourceText(uri, text), check);
    return { uri, text, lines, isHost: false, regions: [region], hostDiagnostics: [], syntaxErrors: region.syntaxErrors };
  }
  const extracted = extractTileTemplates(uri, text);
  const regions = extracted.sources.map((s) => analyzeRegion(s, check));
  const hostDiagnostics = extracted.diagnostics.map((d) => d.diagnostic);
  return { uri, text, lines, isHost: true, regions, hostDiagnostics, syntaxErrors: regions.some((r) => r.syntaxErrors) };
}

function analyzeRegion(source: SourceText, check: CheckFn): Region {
  const { program, diagnostics } = check(source);
  const { tokens } = tokenize(source);
  const syntaxErrors = diagnostics.some((d) => d.code.startsWith('TK0'));
  const kernels = program.kernels.map((k) => kernelInfo(k));
  return { source, program, diagnostics, syntaxErrors, tokens, comments: findComments(source.text, tokens), index: resolveProgram(program), kernels };
}

function kernelInfo(kernel: KernelDecl): KernelInfo {
  const space = kernelSpace(kernel);
  if (space.diagnostics.length > 0) return { kernel, space };
  const bound = bindConfig(space, new Map());
  if (!bound.bindings) return { kernel, space };
  return { kernel, space, checked: checkKernel(kernel, bound.bindings) };
}

/**
 * Comments lie in the gaps between tokens; the language has no string literals, so `//` or
 * `/*` in a gap always starts one.
 */
export function findComments(text: string, tokens: readonly IToken[]): Span[] {
  const out: Span[] = [];
  let from = 0;
  const scan = (start: number, end: number): void => {
    const re = /\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g;
    const gap = text.slice(start, end);
    for (let m = re.exec(gap); m; m = re.exec(gap)) out.push({ start: start + m.index, end: start + m.index + m[0].length });
  };
  for (const t of tokens) {
    scan(from, t.startOffset);
    from = t.startOffset + t.image.length;
  }
  scan(from, text.length);
  return out;
}

/** The region whose tile text holds a host offset, and the tile offset there. */
export function regionAt(doc: AnalyzedDocument, hostOffset: number): { region: Region; offset: number } | undefined {
  for (const region of doc.regions) {
    const offset = fromHost(region.source, hostOffset);
    if (offset !== undefined) return { region, offset };
  }
  return undefined;
}
