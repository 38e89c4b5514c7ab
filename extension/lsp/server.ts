/**
 * The Tilekit language server (`tilekit lsp --stdio`, docs/lsp.md): the language-service core
 * (extension/language-service) behind the LSP, plus custom requests for what the compiler and the
 * tuner produce (compiled-views.ts). Documents are `.tile` files and `.ts` files with `tile`
 * templates. A request that fails inside the service answers empty and is logged to the client;
 * the server keeps running.
 */
import { fileURLToPath } from 'node:url';
import { isAbsolute, join } from 'node:path';
import {
  createConnection,
  type Connection,
  type Diagnostic as LspDiagnostic,
  type DocumentSymbol as LspDocumentSymbol,
  type SymbolKind,
  DiagnosticSeverity,
  ProposedFeatures,
  TextDocumentSyncKind,
  TextDocuments,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { encodeSemanticTokens, LanguageService, LSP_COMPLETION_KIND, LSP_SEVERITY, LSP_SYMBOL_KIND, SEMANTIC_TOKENS_LEGEND, type DocumentSymbol } from '../language-service/index.js';
import type { AnalyzedDocument } from '../language-service/document.js';
import { type AssemblyView, assemblyView, chartRowsView, type Failure, type KernelRequest, type ResourceView, resourceView, type TuningResultsView, tuningResultsView } from './compiled-views.js';

/** The custom requests, as a client names them. */
export const REQUESTS = {
  assembly: 'tilekit/assembly',
  resources: 'tilekit/resources',
  tuningResults: 'tilekit/tuningResults',
  chartRows: 'tilekit/chartRows',
} as const;

const DEFAULT_DB = '.tilekit/results.db';

const toLspSymbol = (s: DocumentSymbol): LspDocumentSymbol => ({
  name: s.name,
  kind: LSP_SYMBOL_KIND[s.kind] as SymbolKind,
  ...(s.detail ? { detail: s.detail } : {}),
  range: s.range,
  selectionRange: s.selectionRange,
  children: s.children.map(toLspSymbol),
});

/** Wires a connection (stdio for `tilekit lsp --stdio`; streams in tests) to a language service. */
export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  let root: string | undefined;
  const service = new LanguageService({
    onError: (e) => connection.console.error(`tilekit: ${e.request} failed on ${e.uri}: ${e.message}${e.stack ? `\n${e.stack}` : ''}`),
  });

  connection.onInitialize((params) => {
    const uri = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    if (uri?.startsWith('file:')) root = fileURLToPath(uri);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        definitionProvider: true,
        referencesProvider: true,
        completionProvider: { triggerCharacters: ['.', ':', '<'] },
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        inlayHintProvider: true,
        semanticTokensProvider: { legend: SEMANTIC_TOKENS_LEGEND, full: true },
      },
      serverInfo: { name: 'tilekit' },
    };
  });

  const publish = (doc: TextDocument): void => {
    service.update(doc.uri, doc.getText(), doc.version);
    const diagnostics: LspDiagnostic[] = service.diagnostics(doc.uri).map((d) => ({
      range: d.range,
      severity: LSP_SEVERITY[d.severity] as DiagnosticSeverity,
      code: d.code,
      source: 'tilekit',
      message: [d.message, ...(d.hint ? [`hint: ${d.hint}`] : []), ...(d.notes ?? [])].join('\n'),
    }));
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
  };
  documents.onDidOpen((e) => publish(e.document));
  documents.onDidChangeContent((e) => publish(e.document));
  documents.onDidClose((e) => {
    service.close(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover((p) => {
    const h = service.hover(p.textDocument.uri, p.position);
    return h ? { contents: { kind: 'markdown', value: h.contents }, range: h.range } : null;
  });
  connection.onDefinition((p) => service.definition(p.textDocument.uri, p.position));
  connection.onReferences((p) => service.references(p.textDocument.uri, p.position, p.context.includeDeclaration));
  connection.onCompletion((p) =>
    service.completion(p.textDocument.uri, p.position).map((c) => ({
      label: c.label,
      kind: LSP_COMPLETION_KIND[c.kind] as 1,
      ...(c.detail ? { detail: c.detail } : {}),
      ...(c.documentation ? { documentation: { kind: 'markdown' as const, value: c.documentation } } : {}),
    })),
  );
  connection.onDocumentSymbol((p) => service.documentSymbols(p.textDocument.uri).map(toLspSymbol));
  connection.onDocumentFormatting((p) => service.format(p.textDocument.uri));
  connection.languages.inlayHint.on((p) => service.inlayHints(p.textDocument.uri, p.range).map((h) => ({ position: h.position, label: h.label, kind: 1, ...(h.paddingLeft ? { paddingLeft: true } : {}) })));
  connection.languages.semanticTokens.on((p) => ({ data: encodeSemanticTokens(service.semanticTokens(p.textDocument.uri)) }));

  /** The open document's analysis, or why there is none. */
  const analysed = (uri: string): AnalyzedDocument | Failure => service.analysis(uri) ?? { error: `${uri} is not open in the server` };
  connection.onRequest<AssemblyView | Failure, void>(REQUESTS.assembly, (req: KernelRequest): AssemblyView | Failure => {
    const doc = analysed(req.uri);
    return 'error' in doc ? doc : assemblyView(doc, req);
  });
  connection.onRequest<ResourceView | Failure, void>(REQUESTS.resources, async (req: KernelRequest): Promise<ResourceView | Failure> => {
    const doc = analysed(req.uri);
    return 'error' in doc ? doc : resourceView(doc, req);
  });
  const dbPath = (db = DEFAULT_DB): string => (isAbsolute(db) || root === undefined ? db : join(root, db));
  connection.onRequest<TuningResultsView | Failure, void>(REQUESTS.tuningResults, (req: { kernel: string; db?: string }): TuningResultsView | Failure => tuningResultsView(dbPath(req.db), req.kernel));
  connection.onRequest<ReturnType<typeof chartRowsView>, void>(REQUESTS.chartRows, (req: { uri: string; kernel: string; db?: string }) => {
    const doc = analysed(req.uri);
    return 'error' in doc ? doc : chartRowsView(doc, dbPath(req.db), req.kernel);
  });

  documents.listen(connection);
  connection.listen();
}

/** `tilekit lsp --stdio`: serves on standard input and output until the client exits. */
export function serveStdio(): void {
  startServer(createConnection(ProposedFeatures.all, process.stdin, process.stdout));
}
