/**
 * The tuning charts (docs/playground.md, docs/vscode.md; the playground and the VS Code webview draw them): a heatmap of two tunables against the best time, and a
 * roofline with every configuration's point, measured and modeled in separate traces. Plotly's
 * cartesian partial bundle is loaded only when a chart is first drawn.
 */
import type { ChartRow } from './chart-data.js';
import { configText, heatmap, roofline, tunablesOf } from './chart-data.js';

export interface ChartsOptions {
  /** Called with the row of a roofline point that was clicked. */
  readonly onPick: (row: ChartRow) => void;
}

export async function renderCharts(heatEl: HTMLElement, roofEl: HTMLElement, rows: readonly ChartRow[], x: string, y: string, opts: ChartsOptions): Promise<void> {
  const { default: Plotly } = await import('plotly.js-cartesian-dist-min');
  const h = heatmap(rows, x, y);
  const labels = [...new Set(rows.map((r) => r.label))].join(' and ');
  await Plotly.newPlot(
    heatEl,
    [{ type: 'heatmap', x: h.xs.map(String), y: h.ys.map(String), z: h.z, colorscale: 'Viridis', reversescale: true, colorbar: { title: { text: 'µs' } }, hovertemplate: `${x}=%{x} ${y}=%{y}<br>best %{z:.1f} µs (${labels})<extra></extra>` }],
    { title: { text: `best time (${labels}) by ${x} and ${y}, the other tunables at their best` }, xaxis: { title: { text: x }, type: 'category' }, yaxis: { title: { text: y }, type: 'category' }, margin: { t: 40, r: 10, b: 40, l: 50 } },
    { displaylogo: false, responsive: true },
  );
  const points = roofline(rows);
  const traces = (['measured', 'modeled'] as const)
    .map((label) => points.filter((p) => p.row.label === label))
    .filter((ps) => ps.length > 0)
    .map((ps) => ({
      type: 'scatter' as const,
      mode: 'markers' as const,
      name: ps[0]!.row.label,
      x: ps.map((p) => p.intensity),
      y: ps.map((p) => p.tflops),
      text: ps.map((p) => `${configText(p.row.config)}<br>${p.row.costUs.toFixed(1)} µs ${p.row.label} on ${p.row.device}`),
      customdata: ps.map((p) => points.indexOf(p)),
      hovertemplate: '%{text}<br>%{x:.0f} FLOP/B, %{y:.0f} TFLOP/s<extra></extra>',
      marker: { size: 9, symbol: ps[0]!.row.label === 'measured' ? 'circle' : 'diamond-open' },
    }));
  await Plotly.newPlot(
    roofEl,
    traces,
    { title: { text: 'roofline: click a point for its assembly against the best' }, xaxis: { title: { text: 'FLOP per DRAM byte' }, type: 'log' }, yaxis: { title: { text: 'TFLOP/s' }, type: 'log' }, margin: { t: 40, r: 10, b: 40, l: 50 } },
    { displaylogo: false, responsive: true },
  );
  (roofEl as HTMLElement & { on(event: 'plotly_click', f: (e: { points: { customdata: number }[] }) => void): void }).on('plotly_click', (e) => {
    const p = points[e.points[0]?.customdata ?? -1];
    if (p) opts.onPick(p.row);
  });
}

export { tunablesOf };
