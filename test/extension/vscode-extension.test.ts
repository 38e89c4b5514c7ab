/**
 * The VS Code extension without VS Code (it cannot be installed here): the TextMate grammars are
 * the generator's output and tokenize the shipped kernels and a `tile` template in TypeScript as
 * intended (vscode-textmate with the Oniguruma wasm VS Code uses), the manifest and the client
 * agree on commands and files, `extension/vscode/build.mjs` bundles the client and the charts webview
 * and packages a `.vsix` with @vscode/vsce, and the webview works in Chromium under its CSP.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as oniguruma from 'vscode-oniguruma';
import { INITIAL, type IGrammar, Registry } from 'vscode-textmate';
import { chromium } from 'playwright-core';
import { injectionGrammar, tileGrammar } from '../../extension/syntax/tile-grammar.js';
import { chartsHtml } from '../../extension/vscode/src/webview-html.js';
import { requireTool } from '../support/toolchains.js';

const CHROMIUM = process.env.TILEKIT_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const hasChromium = requireTool('chromium', CHROMIUM);

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ext = join(root, 'extension', 'vscode');
const read = (p: string): string => readFileSync(p, 'utf8');

/** A stand-in for VS Code's TypeScript grammar: enough to host the injection. */
const TS_HOST = {
  scopeName: 'source.ts',
  patterns: [
    { name: 'storage.type.ts', match: '\\b(const|let)\\b' },
    { name: 'string.template.ts', begin: '`', end: '`' },
  ],
};

let registry: Registry;
beforeAll(async () => {
  const wasm = readFileSync(createRequire(import.meta.url).resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  registry = new Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: async (scope) =>
      scope === 'source.tile' ? JSON.parse(read(join(ext, 'syntaxes', 'tile.tmLanguage.json'))) : scope === 'inline.tile-template' ? JSON.parse(read(join(ext, 'syntaxes', 'tile-injection.tmLanguage.json'))) : scope === 'source.ts' ? TS_HOST : null,
    getInjections: (scope) => (scope === 'source.ts' ? ['inline.tile-template'] : []),
  });
});

/** The scopes of each token of each line, as `text → innermost scope` pairs. */
function tokenize(grammar: IGrammar, text: string): { text: string; scopes: string[] }[] {
  let stack = INITIAL;
  const out: { text: string; scopes: string[] }[] = [];
  for (const line of text.split('\n')) {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) out.push({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes });
    stack = r.ruleStack;
  }
  return out;
}
const scopeOf = (tokens: { text: string; scopes: string[] }[], text: string): string | undefined => tokens.find((t) => t.text === text)?.scopes.at(-1);

describe('the TextMate grammars', () => {
  it('are what extension/syntax/tile-grammar.ts generates (npm run package:vscode rewrites them)', () => {
    expect(JSON.parse(read(join(ext, 'syntaxes', 'tile.tmLanguage.json')))).toEqual(tileGrammar());
    expect(JSON.parse(read(join(ext, 'syntaxes', 'tile-injection.tmLanguage.json')))).toEqual(injectionGrammar());
  });

  it('highlight the shipped GEMM: kernel name, declarations, control words, builtins, dtypes, numbers, comments', async () => {
    const g = (await registry.loadGrammar('source.tile'))!;
    const t = tokenize(g, read(join(root, 'kernels', 'gemm.tile')));
    expect(scopeOf(t, 'kernel')).toBe('storage.type.kernel.tile');
    expect(scopeOf(t, 'gemm')).toBe('entity.name.function.kernel.tile');
    for (const w of ['tune', 'grid', 'let', 'var']) expect(scopeOf(t, w), w).toBe('storage.type.declaration.tile');
    for (const w of ['for', 'in', 'range', 'pipelined']) expect(scopeOf(t, w), w).toBe('keyword.control.tile');
    for (const w of ['load', 'dot', 'store', 'program_id', 'zeros']) expect(scopeOf(t, w), w).toBe('support.function.builtin.tile');
    for (const w of ['f16', 'bf16', 'f32']) expect(scopeOf(t, w), w).toBe('storage.type.dtype.tile');
    expect(scopeOf(t, '128')).toBe('constant.numeric.integer.tile');
    expect(t.some((x) => x.scopes.at(-1) === 'comment.line.double-slash.tile')).toBe(true);
    expect(scopeOf(t, 'acc')).toBe('variable.other.tile');
  });

  it('a `tile` template in TypeScript gets tile scopes; its ${…} interpolations stay TypeScript', async () => {
    const g = (await registry.loadGrammar('source.ts'))!;
    const t = tokenize(g, 'const k = tile`kernel scale(x: f32[N]) grid [cdiv(N, ${B})] { let v = load(x[0 : 4]); }`;\nconst s = `kernel`;');
    expect(t.find((x) => x.text === 'kernel')!.scopes).toEqual(expect.arrayContaining(['meta.embedded.tile', 'storage.type.kernel.tile']));
    expect(scopeOf(t, 'scale')).toBe('entity.name.function.kernel.tile');
    expect(scopeOf(t, 'load')).toBe('support.function.builtin.tile');
    expect(t.find((x) => x.text === '${')!.scopes.at(-1)).toBe('punctuation.definition.template-expression.begin.ts');
    // An ordinary template literal is not tile text.
    const plain = t.filter((x) => x.text.includes('kernel')).at(-1)!;
    expect(plain.scopes).not.toContain('meta.embedded.tile');
  });
});

describe('the extension manifest and client', () => {
  const manifest = JSON.parse(read(join(ext, 'package.json'))) as {
    main: string;
    engines: { vscode: string };
    contributes: { commands: { command: string }[]; grammars: { path: string }[]; languages: { id: string; configuration: string }[] };
  };

  it('registers every command it contributes, and points at files that exist', () => {
    const client = read(join(ext, 'src', 'extension.ts'));
    for (const c of manifest.contributes.commands) expect(client).toContain(`registerCommand('${c.command}'`);
    for (const g of manifest.contributes.grammars) expect(existsSync(join(ext, g.path)), g.path).toBe(true);
    expect(existsSync(join(ext, manifest.contributes.languages[0]!.configuration))).toBe(true);
    expect(manifest.main).toBe('./dist/extension.js');
    // The client's vscode-languageclient major needs VS Code ≥ 1.82; the manifest must not promise older.
    expect(manifest.engines.vscode).toBe('^1.82.0');
  });

});

describe('the packaged extension', () => {
  let stage: string;
  beforeAll(() => {
    stage = mkdtempSync(join(tmpdir(), 'tilekit-vsix-'));
    execFileSync(process.execPath, [join(ext, 'build.mjs'), '--stage', stage], { cwd: root, stdio: 'pipe' });
  }, 180_000);

  it('build.mjs bundles the client and the charts webview and packages a .vsix with @vscode/vsce', () => {
    const vsix = join(stage, 'tilekit-vscode-0.1.0.vsix');
    expect(existsSync(vsix)).toBe(true);
    const bundle = read(join(stage, 'dist', 'extension.js'));
    expect(bundle).toContain('require("vscode")'); // vscode stays external, CommonJS for VS Code's loader
    expect(bundle).toContain('tilekit/assembly');
    const listing = execFileSync('python3', ['-m', 'zipfile', '-l', vsix], { encoding: 'utf8' }); // python3 is there: node-gyp needs it
    for (const f of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/webview/main.js', 'extension/syntaxes/tile.tmLanguage.json', 'extension/syntaxes/tile-injection.tmLanguage.json', 'extension/language-configuration.json']) expect(listing).toContain(f);
    expect(listing).not.toContain('extension/src/');
    // Plotly is a chunk of its own, loaded when the first chart is drawn.
    expect(read(join(stage, 'dist', 'webview', 'main.js'))).not.toContain('Plotly.newPlot=');
  });

  it.skipIf(!hasChromium)('the charts webview, under its Content-Security-Policy, draws the points and posts a pick', async () => {
    const dir = join(stage, 'dist', 'webview');
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      const file = join(dir, path);
      if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const html = chartsHtml({ scriptUri: `${origin}/main.js`, cspSource: origin, nonce: 'n0nce', title: 'Tuning: gemm' });
    const browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) problems.push(m.text());
      });
      page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) problems.push(`${r.status()} ${r.url()}`);
      });
      // VS Code gives a webview acquireVsCodeApi(); here it records what the page posts.
      await page.addInitScript(() => {
        const posted: unknown[] = [];
        Object.assign(globalThis, { __posted: posted, acquireVsCodeApi: () => ({ postMessage: (m: unknown) => posted.push(m) }) });
      });
      await page.goto(`${origin}/`);
      await page.waitForFunction(() => (globalThis as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'ready'));
      const rows = [64, 128].flatMap((BM) => [64, 128].map((BN) => ({ config: { dtype: 'f16', BM, BN, BK: 32 }, bucket: 'b', device: 'h100', costUs: 100 + BM + BN, label: 'modeled', flops: 1e12, bytes: 1e8 })));
      await page.evaluate((r) => (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage({ type: 'rows', kernel: 'gemm', rows: r }, '*'), rows);
      await page.waitForSelector('body[data-points="4"]', { timeout: 30_000 });
      expect(await page.locator('#roofline .scatterlayer .point').count()).toBe(4);
      expect(await page.locator('#heatmap .heatmaplayer image, #heatmap .hm image').count()).toBeGreaterThan(0);
      const box = (await page.locator('#roofline .scatterlayer .point').first().boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForFunction(() => (globalThis as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'pick'));
      const pick = await page.evaluate(() => (globalThis as unknown as { __posted: { type: string; config: unknown }[] }).__posted.find((m) => m.type === 'pick'));
      expect(pick).toMatchObject({ type: 'pick', config: { dtype: 'f16', BK: 32 } });
      mkdirSync(join(root, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: join(root, 'test-artifacts', 'vscode-charts-webview.png') });
      expect(problems).toEqual([]); // a CSP violation is logged as an error
      // The policy is in force: an inline script without the nonce does not run, and is reported.
      await page.evaluate(() => {
        const el = (globalThis as unknown as { document: { createElement(t: string): { textContent: string }; body: { append(e: unknown): void } } }).document;
        const s = el.createElement('script');
        s.textContent = 'globalThis.__inlineRan = true';
        el.body.append(s);
      });
      expect(await page.evaluate(() => (globalThis as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined();
      await page.waitForTimeout(200);
      expect(problems.join('\n')).toMatch(/Content Security Policy/);
    } finally {
      await browser.close();
      server.close();
    }
  }, 120_000);
});
