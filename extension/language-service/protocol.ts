/**
 * The shapes the language service answers with. They are structurally the LSP's (0-based line
 * and UTF-16 character, half-open ranges), declared here so that the core depends on no
 * protocol package and runs unchanged in the LSP server, the playground's worker and the tests.
 */

/** 0-based line and UTF-16 character, as in the LSP. */
export interface Position {
  readonly line: number;
  readonly character: number;
}

/** Half-open: `end` is the position just after the last character. */
export interface Range {
  readonly start: Position;
  readonly end: Position;
}

export interface Location {
  readonly uri: string;
  readonly range: Range;
}

export type DiagnosticSeverity = 'error' | 'warning' | 'information' | 'hint';

export interface LsDiagnostic {
  readonly range: Range;
  readonly severity: DiagnosticSeverity;
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
  readonly notes?: readonly string[];
  readonly source: 'tilekit';
}

export interface Hover {
  /** Markdown. */
  readonly contents: string;
  readonly range: Range;
}

export interface InlayHint {
  /** Where the hint is drawn: just after the bound name. */
  readonly position: Position;
  readonly label: string;
  readonly kind: 'type';
  readonly paddingLeft?: boolean;
}

export type CompletionKind = 'keyword' | 'function' | 'kernel' | 'parameter' | 'dimension' | 'tunable' | 'constant' | 'variable' | 'type';

export interface CompletionItem {
  readonly label: string;
  readonly kind: CompletionKind;
  readonly detail?: string;
  readonly documentation?: string;
}

export type SymbolKind = 'kernel' | 'parameter' | 'constant' | 'tunable';

export interface DocumentSymbol {
  readonly name: string;
  readonly kind: SymbolKind;
  readonly detail?: string;
  /** The whole declaration. */
  readonly range: Range;
  /** The name. */
  readonly selectionRange: Range;
  readonly children: readonly DocumentSymbol[];
}

export interface TextEdit {
  readonly range: Range;
  readonly newText: string;
}

/** LSP `CompletionItemKind` numbers, for a server that forwards `CompletionItem.kind`. */
export const LSP_COMPLETION_KIND: Readonly<Record<CompletionKind, number>> = {
  keyword: 14,
  function: 3,
  kernel: 3,
  parameter: 6, // Variable
  dimension: 25, // TypeParameter
  tunable: 21, // Constant
  constant: 21,
  variable: 6,
  type: 25,
};

/** LSP `SymbolKind` numbers. */
export const LSP_SYMBOL_KIND: Readonly<Record<SymbolKind, number>> = {
  kernel: 12, // Function
  parameter: 13, // Variable
  constant: 14, // Constant
  tunable: 14,
};

/** LSP `DiagnosticSeverity` numbers. */
export const LSP_SEVERITY: Readonly<Record<DiagnosticSeverity, number>> = { error: 1, warning: 2, information: 3, hint: 4 };
