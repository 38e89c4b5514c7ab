/**
 * The language service runs in the playground's Web Worker: nothing it imports, transitively,
 * may be a Node-only module. Follows relative imports from extension/language-service/ and
 * fails on `node:*` or a Node builtin name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const re = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  const out: string[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) out.push((m[1] ?? m[2])!);
  return out;
}

/** Every file reachable from `start` by relative imports, and the Node-only imports among them. */
function walk(start: string[]): { seen: Set<string>; bad: string[] } {
  const seen = new Set<string>();
  const bad: string[] = [];
  const stack = [...start];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of importsOf(file)) {
      if (NODE_BUILTINS.has(spec) || spec.startsWith('node:')) bad.push(`${relative(ROOT, file)} imports ${spec}`);
      else if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  }
  return { seen, bad };
}

it('extension/language-service imports no Node-only module, directly or through dsl/', () => {
  const start = readdirSync(join(ROOT, 'extension/language-service')).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, 'extension/language-service', f));
  const { seen, bad } = walk(start);
  expect(bad).toEqual([]);
  const reached = [...seen].map((f) => relative(ROOT, f));
  // The walk really went through the dsl/ modules the service uses, and not the Node-side loaders.
  expect(reached).toEqual(expect.arrayContaining(['dsl/check-source.ts', 'dsl/checker.ts', 'dsl/lexer.ts', 'dsl/extract-templates.ts']));
  expect(reached).not.toContain('dsl/load-source.ts');
  expect(reached).not.toContain('dsl/check-command.ts');
});

it("the playground's worker (language service + compiler) imports no Node-only module", () => {
  const { seen, bad } = walk([join(ROOT, 'extension/playground/tile-worker.ts'), join(ROOT, 'extension/lsp/assembly-view.ts')]);
  expect(bad).toEqual([]);
  const reached = [...seen].map((f) => relative(ROOT, f));
  expect(reached).toEqual(expect.arrayContaining(['compiler/ptx/compile-ptx.ts', 'compiler/hip/compile-hip.ts', 'compiler/targets.ts', 'extension/language-service/service.ts']));
  expect(reached).not.toContain('compiler/compile-command.ts');
});
