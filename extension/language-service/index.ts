/** The language-service core, shared by the LSP server, the playground's worker and the tests. */
export { LanguageService, type LanguageServiceOptions, type RequestError, type RequestName } from './service.js';
export { analyzeDocument, isHostUri, type AnalyzedDocument, type CheckFn, type Region } from './document.js';
export { formatText, lineEdits } from './format.js';
export { encodeSemanticTokens, SEMANTIC_TOKENS_LEGEND, type SemanticToken, type TokenModifier, type TokenType } from './semantic-tokens.js';
export * from './protocol.js';
