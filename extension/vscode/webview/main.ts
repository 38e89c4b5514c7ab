/**
 * The tuning-charts webview (docs/vscode.md): receives `{ type: 'rows', kernel, rows }` from the
 * extension, draws the heatmap and the roofline (extension/charts/plot.ts), and posts
 * `{ type: 'pick', config }` when a point is clicked (the extension opens that configuration's
 * assembly diffed against the best one).
 */
import type { ChartRow } from '../../charts/chart-data.js';
import { renderCharts, tunablesOf } from '../../charts/plot.js';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };
const vscode = acquireVsCodeApi();

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
let rows: ChartRow[] = [];

function fill(id: string, values: readonly string[], selected?: string): void {
  const select = $<HTMLSelectElement>(id);
  select.replaceChildren(...values.map((v) => Object.assign(document.createElement('option'), { value: v, textContent: v })));
  if (selected !== undefined) select.value = selected;
}

async function draw(): Promise<void> {
  const shown = rows.filter((r) => r.bucket === $<HTMLSelectElement>('bucket').value);
  await renderCharts($('heatmap'), $('roofline'), shown, $<HTMLSelectElement>('hx').value, $<HTMLSelectElement>('hy').value, {
    onPick: (row) => vscode.postMessage({ type: 'pick', config: row.config, bucket: row.bucket }),
  });
  document.body.dataset.points = String(shown.length);
}

window.addEventListener('message', (e: MessageEvent<{ type: string; kernel: string; rows: ChartRow[] }>) => {
  if (e.data?.type !== 'rows') return;
  rows = e.data.rows;
  const tunables = tunablesOf(rows);
  fill('bucket', [...new Set(rows.map((r) => r.bucket))]);
  fill('hx', tunables, tunables[0]);
  fill('hy', tunables, tunables[1] ?? tunables[0]);
  $('note').textContent = `${rows.length} results of ${e.data.kernel}`;
  void draw();
});
for (const id of ['bucket', 'hx', 'hy']) $(id).addEventListener('change', () => void draw());
vscode.postMessage({ type: 'ready' });
