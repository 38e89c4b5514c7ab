/** The public API of the tile language: `import { tile, checkSource } from 'tilekit/dsl'`. */
export { tile, type TileInterpolation, type TileTemplate } from './template.js';
export { SourceText, type Position } from './source.js';
export { parseProgram } from './parser.js';
export { checkSource, type SourceCheck } from './check-source.js';
export { formatDiagnostic, type Diagnostic, type Severity } from './diagnostic.js';
export { loadSourceFile } from './load-source.js';
export type { DType } from './dtype.js';
