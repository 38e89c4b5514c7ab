/** The compiler's entry point: `.tile` source + configuration → verified tile IR. */
import { checkForBuild } from '../dsl/check-source.js';
import type { Diagnostic } from '../dsl/diagnostic.js';
import type { SourceText } from '../dsl/source.js';
import type { IRKernel } from './ir.js';
import { lowerKernel } from './lower.js';
import { simplify } from './simplify.js';
import { verifyKernel } from './verify.js';

/**
 * Parses, checks and lowers one kernel in one configuration. `overrides` holds `--config` and
 * `--const` entries (name → text); everything else takes the kernel's defaults.
 */
export function buildKernelIR(
  src: SourceText,
  kernelName: string | undefined,
  overrides: ReadonlyMap<string, string>,
): { ir?: IRKernel; diagnostics: Diagnostic[] } {
  const { checked, diagnostics } = checkForBuild(src, kernelName, overrides);
  if (!checked) return { diagnostics };
  const ir = simplify(lowerKernel(checked));
  const problems = verifyKernel(ir);
  // A verifier failure is a compiler bug, not a user error: fail loudly.
  if (problems.length > 0) throw new Error(`IR verification failed for kernel ${ir.name}:\n${problems.join('\n')}`);
  return { ir, diagnostics };
}
