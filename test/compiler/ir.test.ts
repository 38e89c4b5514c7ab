import { it } from 'vitest';
import { printKernel } from '../../compiler/print.js';
import { buildShipped } from '../support/build.js';
it('explore', () => {
  console.log(printKernel(buildShipped('gemm.tile', 'gemm', { BM: 64 })));
  console.log(printKernel(buildShipped('attention.tile', 'attention', { causal: true })));
  console.log(printKernel(buildShipped('attention.tile', 'attention', { causal: false })));
});
