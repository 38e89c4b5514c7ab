/**
 * The language server through a real LSP client connection: `tilekit lsp --stdio` (the built CLI,
 * bin/tilekit.js → dist/) spawned, spoken to with vscode-languageserver-protocol over its stdin and
 * stdout. Initialize, open a document with an error and receive its diagnostic at the right range,
 * hover, definition, completion, the custom assembly / resources / tuning-results requests,
 * shutdown and exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompletionRequest,
  createProtocolConnection,
  DefinitionRequest,
  DidOpenTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  type ProtocolConnection,
  PublishDiagnosticsNotification,
  type PublishDiagnosticsParams,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { findPtxas } from '../../compiler/toolchain/ptxas.js';
import { requireTool } from '../support/toolchains.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const hasPtxas = requireTool('ptxas', findPtxas());

/** The newest modification time under `dir` of files ending in `.ts`. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.ts')) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

const BAD = `kernel scale(x: f32[N], y: f32[N], a: f32)
  tune { B in [64, 128] = 64; }
  grid [cdiv(N, B)]
{
  let i0 = program_id(0) * B;
  let t = load(x[i0 : B]);
  store(y[i0 : B], t * a + undefined_name);
}
`;

describe('tilekit lsp --stdio', () => {
  let server: ChildProcess;
  let client: ProtocolConnection;
  const diagnostics = new Map<string, PublishDiagnosticsParams>();
  const waiters: (() => void)[] = [];
  const workspace = mkdtempSync(join(tmpdir(), 'tilekit-lsp-'));
  const gemmUri = pathToFileURL(join(root, 'kernels', 'gemm.tile')).href;
  const badUri = pathToFileURL(join(workspace, 'bad.tile')).href;

  const waitForDiagnostics = async (uri: string): Promise<PublishDiagnosticsParams> => {
    while (!diagnostics.has(uri)) await new Promise<void>((done) => waiters.push(done));
    return diagnostics.get(uri)!;
  };

  beforeAll(async () => {
    const builtAt = statSync(join(root, 'dist', 'extension', 'lsp', 'server.js'), { throwIfNoEntry: false })?.mtimeMs;
    if (builtAt === undefined || ['extension', 'dsl', 'compiler', 'tuner', 'cli'].some((d) => newest(join(root, d)) > builtAt)) throw new Error(`dist/ is older than the sources (or missing): run \`npm run build\` before this test (it talks to the built \`tilekit lsp --stdio\`)`);
    server = spawn(process.execPath, [join(root, 'bin', 'tilekit.js'), 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    client = createProtocolConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
    client.onNotification(PublishDiagnosticsNotification.type, (p) => {
      diagnostics.set(p.uri, p);
      waiters.splice(0).forEach((w) => w());
    });
    client.listen();
    const init = await client.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: pathToFileURL(workspace).href, capabilities: {}, workspaceFolders: null });
    expect(init.capabilities.hoverProvider).toBe(true);
    expect(init.capabilities.semanticTokensProvider).toBeTruthy();
    await client.sendNotification(InitializedNotification.type, {});
    await client.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: badUri, languageId: 'tile', version: 1, text: BAD } });
    await client.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: gemmUri, languageId: 'tile', version: 1, text: readFileSync(join(root, 'kernels', 'gemm.tile'), 'utf8') } });
  }, 60_000);

  afterAll(async () => {
    if (!client) return;
    const exited = new Promise<number | null>((done) => server.on('exit', (code) => done(code)));
    await client.sendRequest(ShutdownRequest.type);
    await client.sendNotification(ExitNotification.type);
    expect(await exited).toBe(0);
    client.dispose();
  });

  it('publishes the checker diagnostic at the exact range, with its code', async () => {
    const d = await waitForDiagnostics(badUri);
    expect(d.diagnostics).toHaveLength(1);
    const [e] = d.diagnostics;
    expect(e!.code).toBe('TK1001');
    expect(e!.message).toContain("unknown name 'undefined_name'");
    const col = BAD.split('\n')[6]!.indexOf('undefined_name');
    expect(e!.range).toEqual({ start: { line: 6, character: col }, end: { line: 6, character: col + 'undefined_name'.length } });
    expect((await waitForDiagnostics(gemmUri)).diagnostics).toEqual([]);
  });

  it('hover, definition and completion answer on the shipped GEMM', async () => {
    const text = readFileSync(join(root, 'kernels', 'gemm.tile'), 'utf8').split('\n');
    const line = text.findIndex((l) => /var acc/.test(l));
    const hover = await client.sendRequest(HoverRequest.type, { textDocument: { uri: gemmUri }, position: { line, character: text[line]!.indexOf('acc') + 1 } });
    const value = typeof hover?.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
    expect(value).toMatch(/acc: f32\[128, 128\]/);
    const use = text.findIndex((l, i) => i > line && /acc/.test(l));
    const def = await client.sendRequest(DefinitionRequest.type, { textDocument: { uri: gemmUri }, position: { line: use, character: text[use]!.indexOf('acc') + 1 } });
    expect(Array.isArray(def) && def[0]).toMatchObject({ uri: gemmUri, range: { start: { line } } });
    const completion = await client.sendRequest(CompletionRequest.type, { textDocument: { uri: gemmUri }, position: { line: use, character: 2 } });
    const labels = (Array.isArray(completion) ? completion : (completion?.items ?? [])).map((c) => c.label);
    expect(labels).toEqual(expect.arrayContaining(['load', 'dot', 'store', 'acc']));
  });

  it('tilekit/assembly: the PTX of a configuration with its .tile range → PTX lines map', async () => {
    const r = await client.sendRequest<{ text: string; language: string; map: { range: { start: { line: number } }; lines: number[] }[]; config: Record<string, unknown> }>('tilekit/assembly', { uri: gemmUri, kernel: 'gemm', target: 'sm_90a', config: { BM: 64 } });
    expect(r.language).toBe('ptx');
    expect(r.text).toContain('.visible .entry gemm');
    expect(r.config).toMatchObject({ BM: 64 });
    const lines = r.text.split('\n').length;
    expect(r.map.length).toBeGreaterThan(3);
    for (const m of r.map) for (const l of m.lines) expect(l).toBeGreaterThanOrEqual(1), expect(l).toBeLessThanOrEqual(lines);
    const dotLine = readFileSync(join(root, 'kernels', 'gemm.tile'), 'utf8').split('\n').findIndex((l) => /dot\(/.test(l));
    const onDotLine = r.map.filter((m) => m.range.start.line === dotLine).flatMap((m) => m.lines);
    expect(onDotLine.some((l) => /mma\.sync/.test(r.text.split('\n')[l - 1]!))).toBe(true);
    const bad = await client.sendRequest<{ error?: string }>('tilekit/assembly', { uri: gemmUri, kernel: 'nope', target: 'sm_90a' });
    expect(bad.error).toContain("no kernel 'nope'");
  });

  it.skipIf(!hasPtxas)('tilekit/resources: registers, shared memory and occupancy from ptxas', async () => {
    const r = await client.sendRequest<{ toolchain: string; registersPerThread: number; sharedBytes: number; occupancy: { device: string; blocksPerSm: number } }>('tilekit/resources', { uri: gemmUri, kernel: 'gemm', target: 'sm_90a' });
    expect(r.toolchain).toBe('ptxas');
    expect(r.registersPerThread).toBeGreaterThan(32);
    expect(r.sharedBytes).toBeGreaterThan(16 * 1024);
    expect(r.occupancy.device).toBe('h100');
    expect(r.occupancy.blocksPerSm).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('tilekit/tuningResults: says how to make a database when there is none', async () => {
    const r = await client.sendRequest<{ error?: string }>('tilekit/tuningResults', { kernel: 'gemm' });
    expect(r.error).toContain(`no results database at ${join(workspace, '.tilekit', 'results.db')}: run \`tilekit tune\``);
  });
});
