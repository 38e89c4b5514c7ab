/**
 * The language service: documents by URI, analysed on demand, and one method per editor
 * feature. Two rules keep an editor usable whatever the text:
 *   - Error isolation: every request runs inside a guard; an exception (a Tilekit bug) becomes
 *     the request's empty answer plus a `RequestError` passed to `onError` and kept in `errors`.
 *     A failed analysis leaves the previous one in place.
 *   - Last good analysis: while the current text has syntax errors, position-based requests
 *     (hover, inlay hints, definition, references, symbols) are answered from the last analysis
 *     without syntax errors. Diagnostics, semantic tokens and completion always use the current
 *     text (the recovering parser keeps what it can); formatting refuses.
 */
import type { AnalyzedDocument, CheckFn, Region } from './document.js';
import { analyzeDocument, regionAt } from './document.js';
import { completion as completionAt } from './completion.js';
import { diagnostics as diagnosticsOf } from './diagnostics.js';
import { documentSymbols as symbolsOf } from './document-symbols.js';
import { formatText, lineEdits } from './format.js';
import { hover as hoverAt } from './hover.js';
import { inlayHints as hintsOf } from './inlay-hints.js';
import { definition as definitionAt, references as referencesAt } from './navigation.js';
import type { CompletionItem, DocumentSymbol, Hover, InlayHint, Location, LsDiagnostic, Position, Range, TextEdit } from './protocol.js';
import { semanticTokens as tokensOf, type SemanticToken } from './semantic-tokens.js';

export type RequestName =
  | 'analyze'
  | 'diagnostics'
  | 'hover'
  | 'inlayHints'
  | 'definition'
  | 'references'
  | 'completion'
  | 'documentSymbols'
  | 'semanticTokens'
  | 'format';

/** A request that failed inside the service: for the caller's log, never shown as a diagnostic. */
export interface RequestError {
  readonly request: RequestName;
  readonly uri: string;
  readonly message: string;
  readonly stack?: string;
}

export interface LanguageServiceOptions {
  /** Called with every request that failed internally. */
  readonly onError?: (e: RequestError) => void;
  /** Called as each request starts (for a server's tracing). */
  readonly onRequest?: (request: RequestName, uri: string) => void;
  /** The checker entry point (dsl/check-source `checkSource` by default). */
  readonly check?: CheckFn;
}

interface DocState {
  text: string;
  version: number;
  current?: AnalyzedDocument;
  /** The text `current` was computed from: set even when analysis failed, so it is not retried per request. */
  analyzedText?: string;
  lastGood?: AnalyzedDocument;
}

const MAX_ERRORS = 100;

export class LanguageService {
  private readonly docs = new Map<string, DocState>();
  /** The most recent internal failures (at most 100). */
  readonly errors: RequestError[] = [];

  constructor(private readonly options: LanguageServiceOptions = {}) {}

  /** Opens or replaces a document's text. Analysis happens on the first request that needs it. */
  update(uri: string, text: string, version = 0): void {
    const prev = this.docs.get(uri);
    this.docs.set(uri, { text, version, ...(prev?.lastGood ? { lastGood: prev.lastGood } : {}) });
  }

  close(uri: string): void {
    this.docs.delete(uri);
  }

  /** The analysis of the current text (undefined when the document is unknown or analysis failed). */
  analysis(uri: string): AnalyzedDocument | undefined {
    const st = this.docs.get(uri);
    if (!st) return undefined;
    if (st.analyzedText === st.text) return st.current;
    st.analyzedText = st.text;
    delete st.current;
    const doc = this.guard('analyze', uri, undefined, () => analyzeDocument(uri, st.text, this.options.check));
    if (doc) {
      st.current = doc;
      if (!doc.syntaxErrors) st.lastGood = doc;
    }
    return doc;
  }

  /** What position-based requests answer from: the current analysis, or the last good one while the text has syntax errors. */
  private stable(uri: string): AnalyzedDocument | undefined {
    const cur = this.analysis(uri);
    const st = this.docs.get(uri);
    if (cur && !cur.syntaxErrors) return cur;
    return st?.lastGood ?? cur;
  }

  diagnostics(uri: string): LsDiagnostic[] {
    return this.guard('diagnostics', uri, [], () => {
      const doc = this.analysis(uri);
      return doc ? diagnosticsOf(doc) : [];
    });
  }

  hover(uri: string, pos: Position): Hover | undefined {
    return this.guard('hover', uri, undefined, () => this.at(this.stable(uri), pos, (doc, r, o) => hoverAt(doc, r, o)));
  }

  inlayHints(uri: string, range?: Range): InlayHint[] {
    return this.guard('inlayHints', uri, [], () => {
      const doc = this.stable(uri);
      return doc ? doc.regions.flatMap((r) => hintsOf(doc, r, range)) : [];
    });
  }

  definition(uri: string, pos: Position): Location[] {
    return this.guard('definition', uri, [], () => this.at(this.stable(uri), pos, definitionAt) ?? []);
  }

  references(uri: string, pos: Position, includeDeclaration = true): Location[] {
    return this.guard('references', uri, [], () => this.at(this.stable(uri), pos, (d, r, o) => referencesAt(d, r, o, includeDeclaration)) ?? []);
  }

  completion(uri: string, pos: Position): CompletionItem[] {
    return this.guard('completion', uri, [], () => this.at(this.analysis(uri), pos, (_d, r, o) => completionAt(r, o)) ?? []);
  }

  documentSymbols(uri: string): DocumentSymbol[] {
    return this.guard('documentSymbols', uri, [], () => {
      const doc = this.stable(uri);
      return doc ? symbolsOf(doc) : [];
    });
  }

  semanticTokens(uri: string): SemanticToken[] {
    return this.guard('semanticTokens', uri, [], () => {
      const doc = this.analysis(uri);
      return doc ? tokensOf(doc) : [];
    });
  }

  /** Whole-document formatting of a `.tile` file; no edits for a file with syntax errors or a `.ts` host. */
  format(uri: string): TextEdit[] {
    return this.guard('format', uri, [], () => {
      const doc = this.analysis(uri);
      if (!doc || doc.isHost || doc.regions.length !== 1) return [];
      const formatted = formatText(doc.regions[0]!);
      return formatted === undefined ? [] : lineEdits(doc.text, formatted);
    });
  }

  private at<T>(doc: AnalyzedDocument | undefined, pos: Position, f: (doc: AnalyzedDocument, region: Region, offset: number) => T): T | undefined {
    if (!doc) return undefined;
    const hit = regionAt(doc, doc.lines.offsetAt(pos));
    return hit ? f(doc, hit.region, hit.offset) : undefined;
  }

  private guard<T>(request: RequestName, uri: string, fallback: T, f: () => T): T {
    try {
      this.options.onRequest?.(request, uri);
      return f();
    } catch (e) {
      const err: RequestError = {
        request,
        uri,
        message: e instanceof Error ? e.message : String(e),
        ...(e instanceof Error && e.stack ? { stack: e.stack } : {}),
      };
      this.errors.push(err);
      if (this.errors.length > MAX_ERRORS) this.errors.shift();
      try {
        this.options.onError?.(err);
      } catch {
        // A failing logger must not turn a contained failure into an uncontained one.
      }
      return fallback;
    }
  }
}
