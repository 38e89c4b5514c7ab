// Builds the VS Code extension (docs/vscode.md): run from the repository root with
//   npm run package:vscode        (npm run build, then this)
// 1. writes syntaxes/tile.tmLanguage.json and tile-injection.tmLanguage.json from extension/syntax/tile-grammar.ts
//    (compiled in dist/), 2. bundles src/extension.ts with vscode-languageclient into dist/extension.js
//    (CommonJS, `vscode` external) and webview/main.ts (the tuning charts) into dist/webview/, 3. packages extension/vscode/tilekit-vscode-<version>.vsix with
//    @vscode/vsce. Pass --no-package to stop after 2; --stage DIR builds a copy of the extension in DIR
//    (the tests do, leaving the source tree alone).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const source = dirname(fileURLToPath(import.meta.url));
const root = resolve(source, '..', '..');
const stageAt = process.argv.indexOf('--stage');
const here = stageAt > 0 ? resolve(process.argv[stageAt + 1] ?? '') : source;
if (here !== source) {
  mkdirSync(join(here, 'syntaxes'), { recursive: true });
  for (const f of ['package.json', 'language-configuration.json', 'README.md', '.vscodeignore']) cpSync(join(source, f), join(here, f));
}

let grammar;
try {
  grammar = await import(join(root, 'dist', 'extension', 'syntax', 'tile-grammar.js'));
} catch (e) {
  console.error(`error: cannot import dist/extension/syntax/tile-grammar.js (${e instanceof Error ? e.message : String(e)}): run \`npm run build\` first`);
  process.exit(2);
}
const json = (v) => `${JSON.stringify(v, null, 2)}\n`;
writeFileSync(join(here, 'syntaxes', 'tile.tmLanguage.json'), json(grammar.tileGrammar()));
writeFileSync(join(here, 'syntaxes', 'tile-injection.tmLanguage.json'), json(grammar.injectionGrammar()));

await build({
  configFile: false,
  root: source,
  logLevel: 'warn',
  ssr: { noExternal: true, external: ['vscode'] },
  build: {
    ssr: join(source, 'src', 'extension.ts'),
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'node18',
    minify: false,
    rollupOptions: { external: ['vscode'], output: { format: 'cjs', entryFileNames: 'extension.js', codeSplitting: false } },
  },
});

// The tuning-charts webview: fixed file names, so the extension can point at main.js; Plotly is a lazily loaded chunk beside it.
await build({
  configFile: false,
  root: join(source, 'webview'),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: join(here, 'dist', 'webview'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    rollupOptions: { input: join(source, 'webview', 'main.ts'), output: { format: 'es', entryFileNames: 'main.js', chunkFileNames: '[name].js' } },
  },
});

if (!process.argv.includes('--no-package')) {
  const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
  const vsce = createRequire(import.meta.url).resolve('@vscode/vsce/vsce');
  const out = join(here, `tilekit-vscode-${version}.vsix`);
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', out], { cwd: here, stdio: 'inherit' });
  console.log(`wrote ${out}`);
}
