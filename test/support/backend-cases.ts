/**
 * The ragged shapes every backend's numerics are checked at (the PTX emulator, the HIP CPU
 * harness): unaligned GEMMs (row strides that forbid vector accesses, so the element path runs)
 * and aligned-but-ragged ones (vector accesses with masked edges), attention at both head dims,
 * causal and not, and both MLP kernels, in f16 and bf16.
 */
import { type SelftestCase, attentionCase, gemmCase, mlpCase } from '../../kernels/selftest.js';

export const RAGGED_CASES: readonly SelftestCase[] = [
  gemmCase('f16', 77, 45, 50),
  gemmCase('bf16', 77, 45, 50),
  gemmCase('f16', 77, 136, 72),
  gemmCase('bf16', 77, 136, 72),
  attentionCase('f16', 64, false, 37, 53, 1),
  attentionCase('bf16', 64, true, 37, 53, 1),
  attentionCase('f16', 128, true, 53, 37, 1),
  attentionCase('bf16', 128, false, 20, 70, 1),
  mlpCase('f16', 'mlp_gate_up', 33, 50, 45),
  mlpCase('bf16', 'mlp_gate_up', 33, 64, 96),
  mlpCase('f16', 'mlp_down', 33, 45, 50),
  mlpCase('bf16', 'mlp_down', 33, 64, 96),
];
