/**
 * Tests that need an external toolchain (ptxas, clang) skip where it is missing — loudly — unless
 * TILEKIT_REQUIRE_TOOLCHAINS=1 (CI sets it), where a missing tool must fail the run instead, so a
 * broken CI image cannot turn the toolchain tests into silent skips.
 */

/** True when TILEKIT_REQUIRE_TOOLCHAINS=1: a missing toolchain is a failure, not a skip. */
export function toolchainsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TILEKIT_REQUIRE_TOOLCHAINS === '1';
}

/**
 * Whether tests of `name` can run (`found`: the tool's path, or undefined). Missing: throws when
 * toolchains are required, else prints one warning line and returns false (for `it.skipIf`).
 */
export function requireTool(name: string, found: string | undefined | boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  if (found !== undefined && found !== false && found !== '') return true;
  if (toolchainsRequired(env)) {
    throw new Error(`${name} not found, and TILEKIT_REQUIRE_TOOLCHAINS=1 requires it: install it (docs/toolchains.md) or unset the variable`);
  }
  console.warn(`!!! SKIPPING ${name} tests: ${name} not found (docs/toolchains.md); TILEKIT_REQUIRE_TOOLCHAINS=1 makes this a failure`);
  return false;
}
