/**
 * The playground page (docs/playground.md): Monaco with the `tile` language, the language service
 * and the compiler in a Web Worker (comlink), the PTX/HIP of the chosen kernel beside the source
 * with linked highlighting both ways. No network: everything is in the bundle.
 */
import * as monaco from 'monaco-editor';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { wrap } from 'comlink';
import type { PlaygroundApi } from '../api.js';
import type { AssemblyView } from '../../lsp/assembly-view.js';
import { entriesAt, entriesOfLine } from '../../lsp/linked-ranges.js';
import { best, type ChartRow, configText } from '../../charts/chart-data.js';
import { renderCharts, tunablesOf } from '../../charts/plot.js';
import { tileWords } from '../../syntax/tile-grammar.js';
import gemmSource from '../../../kernels/gemm.tile?raw';

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };
const api = wrap<PlaygroundApi>(new Worker(new URL('../tile-worker.ts', import.meta.url), { type: 'module' }));

const words = tileWords();
monaco.languages.register({ id: 'tile', extensions: ['.tile'] });
monaco.languages.setMonarchTokensProvider('tile', {
  declaration: words.declaration,
  control: words.control,
  constants: words.constants,
  types: words.types,
  builtins: words.builtins,
  operatorWords: words.operators,
  tokenizer: {
    root: [
      [/\/\/.*$/, 'comment'],
      [/\/\*/, 'comment', '@comment'],
      [/[A-Za-z_]\w*/, { cases: { '@declaration': 'keyword', '@control': 'keyword', '@operatorWords': 'keyword', '@constants': 'constant', '@types': 'type', '@builtins': 'predefined', '@default': 'identifier' } }],
      [/\d[\d_]*\.[\d_]*([eE][-+]?\d+)?/, 'number.float'],
      [/0[xX][0-9a-fA-F_]+|\d[\d_]*/, 'number'],
      [/[{}()[\]]/, '@brackets'],
      [/[-+*/%<>=!&|:]+/, 'operator'],
    ],
    comment: [
      [/\*\//, 'comment', '@pop'],
      [/[^*]+|\*/, 'comment'],
    ],
  },
});
monaco.languages.setLanguageConfiguration('tile', { comments: { lineComment: '//', blockComment: ['/*', '*/'] }, brackets: [['{', '}'], ['[', ']'], ['(', ')']] });

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const source = monaco.editor.create($('source'), { value: gemmSource, language: 'tile', automaticLayout: true, minimap: { enabled: false } });
const asm = monaco.editor.create($('asm'), { value: '', language: 'plaintext', readOnly: true, automaticLayout: true, minimap: { enabled: false } });
const status = $('status');

const toMonaco = (p: { line: number; character: number }): { lineNumber: number; column: number } => ({ lineNumber: p.line + 1, column: p.character + 1 });
const SEVERITY = { error: monaco.MarkerSeverity.Error, warning: monaco.MarkerSeverity.Warning, information: monaco.MarkerSeverity.Info, hint: monaco.MarkerSeverity.Hint };

let kernels: string[] = [];
async function analyse(): Promise<void> {
  const diagnostics = await api.update(source.getValue());
  monaco.editor.setModelMarkers(
    source.getModel()!,
    'tilekit',
    diagnostics.map((d) => {
      const s = toMonaco(d.range.start);
      const e = toMonaco(d.range.end);
      return { severity: SEVERITY[d.severity], message: `${d.code}: ${d.message}${d.hint ? `\nhint: ${d.hint}` : ''}`, startLineNumber: s.lineNumber, startColumn: s.column, endLineNumber: e.lineNumber, endColumn: e.column };
    }),
  );
  kernels = await api.kernels();
  const select = $<HTMLSelectElement>('kernel');
  const current = select.value;
  select.replaceChildren(...kernels.map((k) => Object.assign(document.createElement('option'), { value: k, textContent: k })));
  if (kernels.includes(current)) select.value = current;
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  status.textContent = errors ? `${errors} error${errors > 1 ? 's' : ''}` : 'no errors';
  status.dataset.errors = String(errors);
}

monaco.languages.registerHoverProvider('tile', {
  provideHover: async (_model, pos) => {
    const h = await api.hover({ line: pos.lineNumber - 1, character: pos.column - 1 });
    if (!h) return null;
    const s = toMonaco(h.range.start);
    const e = toMonaco(h.range.end);
    return { contents: [{ value: h.contents }], range: new monaco.Range(s.lineNumber, s.column, e.lineNumber, e.column) };
  },
});
const KIND: Record<string, monaco.languages.CompletionItemKind> = { keyword: monaco.languages.CompletionItemKind.Keyword, function: monaco.languages.CompletionItemKind.Function, type: monaco.languages.CompletionItemKind.TypeParameter };
monaco.languages.registerCompletionItemProvider('tile', {
  provideCompletionItems: async (model, pos) => {
    const word = model.getWordUntilPosition(pos);
    const range = new monaco.Range(pos.lineNumber, word.startColumn, pos.lineNumber, word.endColumn);
    const items = await api.completion({ line: pos.lineNumber - 1, character: pos.column - 1 });
    return { suggestions: items.map((c) => ({ label: c.label, kind: KIND[c.kind] ?? monaco.languages.CompletionItemKind.Variable, insertText: c.label, detail: c.detail, documentation: c.documentation, range })) };
  },
});

let view: AssemblyView | undefined;
let sourceDecorations = source.createDecorationsCollection();
let asmDecorations = asm.createDecorationsCollection();
const rangeOf = (m: AssemblyView['map'][number]): monaco.Range => {
  const s = toMonaco(m.range.start);
  const e = toMonaco(m.range.end);
  return new monaco.Range(s.lineNumber, s.column, e.lineNumber, e.column);
};
function highlight(hits: AssemblyView['map'][number][]): void {
  sourceDecorations.set(hits.map((m) => ({ range: rangeOf(m), options: { className: 'tk-linked' } })));
  asmDecorations.set(hits.flatMap((m) => m.lines.map((l) => ({ range: new monaco.Range(l, 1, l, 1), options: { isWholeLine: true, className: 'tk-linked' } }))));
}
source.onDidChangeCursorPosition((e) => {
  if (!view) return;
  const hits = entriesAt(view.map, { line: e.position.lineNumber - 1, character: e.position.column - 1 });
  highlight(hits);
  const first = hits.flatMap((m) => m.lines).sort((a, b) => a - b)[0];
  if (first !== undefined) asm.revealLineInCenterIfOutsideViewport(first);
});
asm.onDidChangeCursorPosition((e) => {
  if (!view) return;
  const hits = entriesOfLine(view.map, e.position.lineNumber);
  highlight(hits);
  if (hits[0]) source.revealRangeInCenterIfOutsideViewport(rangeOf(hits[0]));
});

async function compile(): Promise<void> {
  show('asm');
  const kernel = $<HTMLSelectElement>('kernel').value;
  const target = $<HTMLSelectElement>('target').value;
  const r = await api.compile(kernel, target);
  if ('error' in r) {
    status.textContent = r.error;
    view = undefined;
    return;
  }
  view = r;
  asm.setValue(r.text);
  monaco.editor.setModelLanguage(asm.getModel()!, r.language === 'ptx' ? 'plaintext' : 'cpp');
  status.textContent = `${r.kernel} for ${r.target}: ${r.text.split('\n').length} lines of ${r.language.toUpperCase()}; ${r.launch.threadsPerBlock} threads, ${r.launch.sharedBytes} B shared (the compiler's figures; registers and occupancy need ptxas or clang, which cannot run in a browser: \`tilekit compile\` or the editor extension shows them)`;
  status.dataset.compiled = r.target;
}

let timer: ReturnType<typeof setTimeout> | undefined;
source.onDidChangeModelContent(() => {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => void analyse(), 250);
});
$('compile').addEventListener('click', () => {
  show('asm');
  void compile();
});

// ---- tuning results: charts, and a picked configuration's assembly against the best one's ----

function show(tab: 'asm' | 'diff' | 'tuning'): void {
  for (const id of ['asm', 'diff', 'tuning'] as const) $(id).hidden = id !== tab;
}
$('tab-asm').addEventListener('click', () => show('asm'));
$('tab-tuning').addEventListener('click', () => show('tuning'));

let allRows: ChartRow[] = [];
let diffEditor: monaco.editor.IStandaloneDiffEditor | undefined;
const fill = (id: string, values: readonly string[], selected?: string): void => {
  const select = $<HTMLSelectElement>(id);
  select.replaceChildren(...values.map((v) => Object.assign(document.createElement('option'), { value: v, textContent: v })));
  if (selected !== undefined) select.value = selected;
};

async function drawCharts(): Promise<void> {
  const rows = allRows.filter((r) => r.bucket === $<HTMLSelectElement>('bucket').value);
  const x = $<HTMLSelectElement>('hx').value;
  const y = $<HTMLSelectElement>('hy').value;
  await renderCharts($('heatmap'), $('roofline'), rows, x, y, { onPick: (row) => void showAgainstBest(row, rows) });
  $('tuning').dataset.points = String(rows.length);
}

async function showAgainstBest(row: ChartRow, rows: readonly ChartRow[]): Promise<void> {
  const kernel = $<HTMLSelectElement>('kernel').value;
  const target = $<HTMLSelectElement>('target').value;
  const top = best(rows)!;
  const [mine, theirs] = await Promise.all([api.compile(kernel, target, row.config), api.compile(kernel, target, top.config)]);
  if ('error' in mine || 'error' in theirs) {
    status.textContent = 'error' in mine ? mine.error : (theirs as { error: string }).error;
    return;
  }
  show('diff');
  diffEditor ??= monaco.editor.createDiffEditor($('diff'), { readOnly: true, automaticLayout: true, renderSideBySide: true });
  diffEditor.setModel({ original: monaco.editor.createModel(theirs.text, 'plaintext'), modified: monaco.editor.createModel(mine.text, 'plaintext') });
  status.textContent = `${configText(row.config)} (${row.costUs.toFixed(1)} µs ${row.label}) against the best, ${configText(top.config)} (${top.costUs.toFixed(1)} µs ${top.label}): ${target}`;
  status.dataset.diff = configText(row.config);
}

$<HTMLInputElement>('results').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  let json: unknown;
  try {
    json = JSON.parse(await file.text());
  } catch (err) {
    status.textContent = `${file.name}: not JSON (${err instanceof Error ? err.message : String(err)})`;
    return;
  }
  if (!Array.isArray(json)) {
    status.textContent = `${file.name}: expected the array \`tilekit results --format json\` prints`;
    return;
  }
  const kernel = $<HTMLSelectElement>('kernel').value;
  const r = await api.chartRows(kernel, json);
  if ('error' in r) {
    status.textContent = r.error;
    return;
  }
  allRows = r.rows;
  if (allRows.length === 0) {
    status.textContent = `${file.name}: no successful results of ${kernel}`;
    return;
  }
  const buckets = [...new Set(allRows.map((x) => x.bucket))];
  const tunables = tunablesOf(allRows);
  fill('bucket', buckets);
  fill('hx', tunables, tunables[0]);
  fill('hy', tunables, tunables[1] ?? tunables[0]);
  $('tuning-note').textContent = `${allRows.length} results of ${kernel} from ${file.name}${r.skipped.length ? `; ${r.skipped.length} skipped (${r.skipped[0]})` : ''}`;
  show('tuning');
  await drawCharts();
});
for (const id of ['bucket', 'hx', 'hy']) $(id).addEventListener('change', () => void drawCharts());

void analyse();
