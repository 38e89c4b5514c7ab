/** The public API of the compiler: `import { buildKernelIR, interpret } from 'tilekit/compiler'`. */
export { buildKernelIR } from './compile.js';
export { interpret, gridOf, InterpretError, type KernelArgs, type TensorArg } from './interpreter.js';
export { printKernel } from './print.js';
export type { IRKernel, IRParam } from './ir.js';
