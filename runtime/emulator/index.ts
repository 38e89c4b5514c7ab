/** The PTX emulator's public API: `import { emulate } from 'tilekit/emulator'`. */
export { emulate, parseModule, type EmulateOptions } from './emulate.js';
export { formatFinding } from './findings.js';
export type { BufferDType, Dim3, EmuArg, EmuResult, EmuStats, Finding, FindingKind, LaunchConfig, ScalarType } from './types.js';
export { EmulatorInputError } from './types.js';
