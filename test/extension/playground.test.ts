/**
 * The playground in headless Chromium (Debian's `chromium`, driven by playwright-core): built with
 * its vite configuration, served from a local folder (no network), then: the shipped GEMM loads
 * with no errors; typing a kernel with an unknown name shows the error marker; compiling shows the
 * PTX; the cursor on `dot` highlights its PTX lines and the source range, and the cursor on an
 * mma.sync line highlights the `.tile` range it came from (linked highlighting both ways); a results
 * file gives a heatmap and a roofline, and clicking a point opens its assembly diffed against the best. A screenshot is kept in test-artifacts/playground.png. The worker's API is also
 * tested directly in Node.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaygroundApi } from '../../extension/playground/api.js';
import { requireTool } from '../support/toolchains.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CHROMIUM = process.env.TILEKIT_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const hasChromium = requireTool('chromium', CHROMIUM);
const gemm = readFileSync(join(root, 'kernels', 'gemm.tile'), 'utf8');

describe('the playground worker API (in Node)', () => {
  it('analyses, hovers, completes and compiles with the range → PTX lines map', () => {
    const api = new PlaygroundApi();
    expect(api.update(gemm)).toEqual([]);
    expect(api.kernels()).toEqual(['gemm']);
    const lines = gemm.split('\n');
    const accLine = lines.findIndex((l) => /var acc/.test(l));
    expect(api.hover({ line: accLine, character: lines[accLine]!.indexOf('acc') + 1 })?.contents).toMatch(/f32\[128, 128\]/);
    expect(api.completion({ line: accLine + 1, character: 2 }).map((c) => c.label)).toContain('dot');
    const r = api.compile('gemm', 'sm_90a');
    if ('error' in r) throw new Error(r.error);
    expect(r.text).toContain('.visible .entry gemm');
    expect(r.launch).toEqual({ threadsPerBlock: 256, sharedBytes: expect.any(Number) });
    const bad = api.update(`${gemm}\nkernel broken(x: f32[N]) grid [N] { let y = nope; }\n`);
    expect(bad.map((d) => d.code)).toContain('TK1001');
  });
});

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.wasm': 'application/wasm' };

describe.skipIf(!hasChromium)('the playground in headless Chromium', () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let url: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), 'tilekit-playground-'));
    await build({ configFile: join(root, 'extension', 'playground', 'vite.config.ts'), logLevel: 'error', build: { outDir: out, emptyOutDir: true } });
    server = createServer((req, res) => {
      const path = join(out, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/\/$/, '/index.html'));
      if (!path.startsWith(out) || !existsSync(path)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
    });
    // Every request the page makes is to the local folder; the only miss allowed is the browser's own favicon probe.
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) consoleErrors.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('loads the shipped GEMM with no errors', async () => {
    await page.waitForSelector('#status[data-errors="0"]', { timeout: 60_000 });
    expect(await page.textContent('#status')).toBe('no errors');
    expect(await page.locator('#kernel option').allTextContents()).toEqual(['gemm']);
  }, 90_000);

  it('typing a kernel with an unknown name shows the error marker', async () => {
    await page.click('#source .view-lines');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\nkernel broken(x: f32[N]) grid [N] { let y = nope; }', { delay: 5 });
    await page.waitForSelector('#status[data-errors="1"]', { timeout: 30_000 });
    await page.waitForSelector('#source .squiggly-error', { timeout: 10_000 });
    expect(await page.locator('#kernel option').allTextContents()).toEqual(['gemm', 'broken']);
  }, 60_000);

  it('compiles to PTX and links source and PTX lines both ways', async () => {
    const compiled = new PlaygroundApi();
    compiled.update(gemm);
    const view = compiled.compile('gemm', 'sm_90a');
    if ('error' in view) throw new Error(view.error);
    const firstMmaLine = view.text.split('\n').findIndex((l) => /mma\.sync/.test(l)) + 1;
    await page.selectOption('#kernel', 'gemm');
    await page.click('#compile');
    await page.waitForSelector('#status[data-compiled="sm_90a"]', { timeout: 60_000 });
    expect(await page.textContent('#asm .view-lines')).toContain('.version');
    expect(await page.textContent('#status')).toContain('threads');
    // The cursor on `dot` in the source: its PTX lines light up on the right, and the range on the left.
    const lines = gemm.split('\n');
    const dotLine = lines.findIndex((l) => /\bdot\(/.test(l));
    await page.click('#source .view-lines');
    await page.keyboard.press('Control+G'); // Monaco's Go to Line: `line:column`
    await page.keyboard.type(`${dotLine + 1}:${lines[dotLine]!.indexOf('dot(') + 2}`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#asm .tk-linked', { timeout: 10_000 });
    expect(await page.locator('#source .tk-linked').count()).toBeGreaterThan(0);
    expect(await page.locator('#asm .tk-linked').count()).toBeGreaterThan(3);
    // And back: the cursor on a PTX line highlights the .tile range it came from.
    await page.click('#asm .view-lines');
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('Control+G');
    await page.keyboard.type(String(firstMmaLine));
    await page.keyboard.press('Enter');
    await page.waitForSelector('#source .tk-linked', { timeout: 10_000 });
    expect(await page.textContent('#asm .view-lines')).toMatch(/mma\.sync/);
    mkdirSync(join(root, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'test-artifacts', 'playground.png') });
    expect(consoleErrors).toEqual([]);
  }, 90_000);

  it('charts tuning results (heatmap, roofline) and a clicked point opens its assembly against the best', async () => {
    const shape = { M: 4096, N: 4096, K: 4096 };
    const row = (BM: number, BN: number, costUs: number, label = 'modeled') => ({
      kernel: 'gemm',
      config: { dtype: 'f16', BM, BN, BK: 32, WARPS: 8, STAGES: 3 },
      bucket: 'M=4096-8191,K=4096-8191,N=4096-8191',
      device: 'h100',
      result: { status: 'ok', costUs, label, shape },
    });
    const results = [row(64, 64, 520), row(64, 128, 410), row(128, 64, 400), row(128, 128, 300), { ...row(256, 128, 0), result: { status: 'resources', message: 'over the shared memory', shape } }];
    await page.setInputFiles('#results', { name: 'results.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(results)) });
    await page.waitForSelector('#tuning[data-points="4"]', { timeout: 60_000 });
    expect(await page.locator('#roofline .scatterlayer .point').count()).toBe(4);
    expect(await page.locator('#heatmap .heatmaplayer image, #heatmap .hm image').count()).toBeGreaterThan(0);
    expect(await page.textContent('#tuning-note')).toContain('4 results of gemm from results.json');
    // Click the slowest configuration's point (BM=64, BN=64): the diff against the best opens.
    const pts = page.locator('#roofline .scatterlayer .point');
    let clicked = false;
    for (let i = 0; i < 4 && !clicked; i++) {
      const box = (await pts.nth(i).boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
      clicked = await page.waitForSelector('#status[data-diff]', { timeout: 5_000 }).then(() => true, () => false);
    }
    expect(clicked).toBe(true);
    await page.waitForSelector('#diff .monaco-diff-editor', { timeout: 30_000 });
    expect(await page.textContent('#status')).toMatch(/against the best, dtype=f16,BM=128,BN=128,BK=32,WARPS=8,STAGES=3 \(300\.0 µs modeled\)/);
    await page.screenshot({ path: join(root, 'test-artifacts', 'playground-diff.png') });
    await page.click('#tab-tuning');
    await page.screenshot({ path: join(root, 'test-artifacts', 'playground-charts.png') });
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
