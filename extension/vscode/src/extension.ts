/**
 * The VS Code client (docs/vscode.md): starts `tilekit lsp --stdio` with the system Node (VS Code's
 * own runtime cannot load native modules built for Node, such as better-sqlite3), and adds what an
 * LSP client does not do by itself — the assembly of the kernel under the cursor beside the source
 * with linked highlighting both ways, a status-bar item with its registers, shared memory and
 * occupancy, tuning from the editor, and the tuning results.
 */
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node.js';
import { entriesAt, entriesOfLine } from '../../lsp/linked-ranges.js';
import { chartsHtml, nonce } from './webview-html.js';

interface AssemblyView {
  kernel: string;
  target: string;
  language: 'ptx' | 'hip';
  config: Record<string, unknown>;
  text: string;
  map: { range: { start: { line: number; character: number }; end: { line: number; character: number } }; lines: number[] }[];
}
interface ResourceView {
  registersPerThread: number;
  sharedBytes: number;
  spillBytes: number;
  occupancy: { device: string; blocksPerSm: number; limitedBy: string };
}
type Answer<T> = T | { error: string };

const TARGETS = ['sm_90a', 'sm_80', 'gfx942', 'gfx90a'];
let client: LanguageClient | undefined;

function serverOptions(): ServerOptions {
  const cfg = vscode.workspace.getConfiguration('tilekit');
  const command = cfg.get<string>('server.command', 'npx');
  const args = cfg.get<string[]>('server.args', ['tilekit', 'lsp', '--stdio']);
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  return { command, args, transport: TransportKind.stdio, options: cwd ? { cwd } : {} };
}

/** The kernel whose declaration holds the cursor, from the server's document symbols. */
async function kernelAt(editor: vscode.TextEditor): Promise<string | undefined> {
  const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[] | undefined>('vscode.executeDocumentSymbolProvider', editor.document.uri);
  const pos = editor.selection.active;
  return (symbols ?? []).find((s) => s.range.contains(pos))?.name ?? symbols?.[0]?.name;
}

const target = (): string => vscode.workspace.getConfiguration('tilekit').get<string>('target', 'sm_90a');

/** Source lines ↔ assembly lines, highlighted in both editors as the selection moves in either. */
function linkHighlighting(source: vscode.TextEditor, asm: vscode.TextEditor, view: AssemblyView): vscode.Disposable {
  const deco = vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor('editor.findMatchHighlightBackground'), isWholeLine: true });
  const toRange = (r: AssemblyView['map'][number]['range']) => new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
  const fromSource = (pos: vscode.Position): void => {
    const hits = entriesAt(view.map, { line: pos.line, character: pos.character });
    asm.setDecorations(deco, hits.flatMap((m) => m.lines.map((l) => new vscode.Range(l - 1, 0, l - 1, 0))));
    source.setDecorations(deco, hits.map((m) => toRange(m.range)));
    const first = hits.flatMap((m) => m.lines).sort((a, b) => a - b)[0];
    if (first !== undefined) asm.revealRange(new vscode.Range(first - 1, 0, first - 1, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  };
  const fromAsm = (line: number): void => {
    const hits = entriesOfLine(view.map, line + 1);
    source.setDecorations(deco, hits.map((m) => toRange(m.range)));
    asm.setDecorations(deco, hits.flatMap((m) => m.lines.map((l) => new vscode.Range(l - 1, 0, l - 1, 0))));
    if (hits[0]) source.revealRange(toRange(hits[0].range), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  };
  return vscode.Disposable.from(
    deco,
    vscode.window.onDidChangeTextEditorSelection((e) => {
      if (e.textEditor.document === source.document) fromSource(e.selections[0]!.active);
      else if (e.textEditor.document === asm.document) fromAsm(e.selections[0]!.active.line);
    }),
  );
}

async function showAssembly(context: vscode.ExtensionContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) return;
  const kernel = await kernelAt(editor);
  if (!kernel) return void vscode.window.showWarningMessage('Tilekit: no kernel in this document');
  const picked = await vscode.window.showQuickPick(TARGETS, { placeHolder: `target for ${kernel} (default ${target()})` });
  if (!picked) return;
  const view = await client.sendRequest<Answer<AssemblyView>>('tilekit/assembly', { uri: editor.document.uri.toString(), kernel, target: picked });
  if ('error' in view) return void vscode.window.showErrorMessage(`Tilekit: ${view.error}`);
  const doc = await vscode.workspace.openTextDocument({ content: view.text, language: view.language === 'ptx' ? 'ptx' : 'cpp' });
  const asm = await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: false, preserveFocus: true });
  context.subscriptions.push(linkHighlighting(editor, asm, view));
}

/** `kernel: 128 regs · 48 KB shared · 2 blocks/SM (h100)` for the kernel under the cursor. */
function statusBar(context: vscode.ExtensionContext): void {
  const item = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  item.command = 'tilekit.showAssembly';
  context.subscriptions.push(item);
  let timer: NodeJS.Timeout | undefined;
  let shown = '';
  const refresh = async (): Promise<void> => {
    const editor = vscode.window.activeTextEditor;
    if (!editor || !client || editor.document.languageId !== 'tile') return void item.hide();
    const kernel = await kernelAt(editor);
    const key = `${editor.document.uri}|${editor.document.version}|${kernel}|${target()}`;
    if (!kernel || key === shown) return;
    shown = key;
    item.text = `$(sync~spin) ${kernel}`;
    item.show();
    const r = await client.sendRequest<Answer<ResourceView>>('tilekit/resources', { uri: editor.document.uri.toString(), kernel, target: target() });
    if ('error' in r) {
      item.text = `$(warning) ${kernel}`;
      item.tooltip = r.error;
    } else {
      item.text = `${kernel}: ${r.registersPerThread} regs · ${(r.sharedBytes / 1024).toFixed(0)} KB shared · ${r.occupancy.blocksPerSm} blocks/SM (${r.occupancy.device})${r.spillBytes ? ` · ${r.spillBytes} B spilled` : ''}`;
      item.tooltip = `${target()} default configuration, from ${target().startsWith('gfx') ? 'clang-19' : 'ptxas'}; occupancy limited by ${r.occupancy.limitedBy} (modeled on ${r.occupancy.device})`;
    }
  };
  const schedule = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 400);
  };
  context.subscriptions.push(vscode.window.onDidChangeTextEditorSelection(schedule), vscode.window.onDidChangeActiveTextEditor(schedule), vscode.workspace.onDidSaveTextDocument(schedule));
  schedule();
}

async function tune(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return;
  const kernel = await kernelAt(editor);
  const shapes = await vscode.window.showInputBox({ prompt: `shapes to tune ${kernel ?? ''} for`, value: 'M=4096,N=4096,K=4096;M=1,N=4096,K=4096' });
  if (!shapes) return;
  const terminal = vscode.window.createTerminal('Tilekit tune');
  terminal.show();
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  terminal.sendText(['npx', 'tilekit', 'tune', quote(editor.document.uri.fsPath), ...(kernel ? ['--kernel', kernel] : []), '--target', target(), '--shapes', quote(shapes)].join(' '));
}

async function openResults(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) return;
  const kernel = await kernelAt(editor);
  if (!kernel) return;
  const r = await client.sendRequest<Answer<{ db: string; results: { key: { config: Record<string, unknown>; bucket: string; device: string; backend: string }; result: { status: string; costUs?: number; label?: string; message?: string } }[] }>>('tilekit/tuningResults', { kernel });
  if ('error' in r) return void vscode.window.showErrorMessage(`Tilekit: ${r.error}`);
  const rows = r.results.map((x) => `| ${x.key.bucket} | ${Object.entries(x.key.config).map(([k, v]) => `${k}=${String(v)}`).join(',')} | ${x.key.device} | ${x.result.status === 'ok' ? `${x.result.costUs!.toFixed(1)} µs ${x.result.label}` : `${x.result.status}: ${x.result.message}`} |`);
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: [`# ${kernel}: ${r.results.length} results (${r.db})`, '', '| bucket | configuration | device | result |', '|---|---|---|---|', ...rows].join('\n') });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside });
}

interface ChartRowMsg {
  config: Record<string, string | number | boolean>;
  bucket: string;
  costUs: number;
  label: string;
}

/** The tuning charts in a webview; a clicked point opens its assembly diffed against the bucket's best. */
async function showTuningCharts(context: vscode.ExtensionContext): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !client) return;
  const kernel = await kernelAt(editor);
  if (!kernel) return void vscode.window.showWarningMessage('Tilekit: no kernel in this document');
  const uri = editor.document.uri.toString();
  const r = await client.sendRequest<Answer<{ rows: ChartRowMsg[]; skipped: string[] }>>('tilekit/chartRows', { uri, kernel });
  if ('error' in r) return void vscode.window.showErrorMessage(`Tilekit: ${r.error}`);
  if (r.rows.length === 0) return void vscode.window.showInformationMessage(`Tilekit: no successful tuning results of ${kernel} yet (Tilekit: Tune Kernel)`);
  const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview');
  const panel = vscode.window.createWebviewPanel('tilekit.charts', `Tuning: ${kernel}`, vscode.ViewColumn.Beside, { enableScripts: true, localResourceRoots: [root] });
  panel.webview.html = chartsHtml({ scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, 'main.js')).toString(), cspSource: panel.webview.cspSource, nonce: nonce(), title: `Tuning: ${kernel}` });
  panel.webview.onDidReceiveMessage(async (m: { type: string; config?: ChartRowMsg['config']; bucket?: string }) => {
    if (m.type === 'ready') void panel.webview.postMessage({ type: 'rows', kernel, rows: r.rows });
    if (m.type !== 'pick' || !m.config || !client) return;
    const inBucket = r.rows.filter((x) => x.bucket === m.bucket);
    const top = inBucket.reduce((b, x) => (x.costUs < b.costUs ? x : b), inBucket[0]!);
    const asm = (config: ChartRowMsg['config']) => client!.sendRequest<Answer<AssemblyView>>('tilekit/assembly', { uri, kernel, target: target(), config });
    const [mine, best] = await Promise.all([asm(m.config), asm(top.config)]);
    if ('error' in mine || 'error' in best) return void vscode.window.showErrorMessage(`Tilekit: ${'error' in mine ? mine.error : (best as { error: string }).error}`);
    const left = await vscode.workspace.openTextDocument({ content: best.text, language: best.language === 'ptx' ? 'ptx' : 'cpp' });
    const right = await vscode.workspace.openTextDocument({ content: mine.text, language: mine.language === 'ptx' ? 'ptx' : 'cpp' });
    const name = (c: ChartRowMsg['config']): string => Object.entries(c).map(([k, v]) => `${k}=${String(v)}`).join(',');
    await vscode.commands.executeCommand('vscode.diff', left.uri, right.uri, `${kernel} ${target()}: best ${name(top.config)} ↔ ${name(m.config)}`);
  });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'tile' }, { scheme: 'file', language: 'typescript' }],
  };
  client = new LanguageClient('tilekit', 'Tilekit', serverOptions(), clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand('tilekit.showAssembly', () => showAssembly(context)),
    vscode.commands.registerCommand('tilekit.tune', tune),
    vscode.commands.registerCommand('tilekit.openResults', openResults),
    vscode.commands.registerCommand('tilekit.showTuningCharts', () => showTuningCharts(context)),
  );
  await client.start();
  statusBar(context);
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
