/**
 * The tuning-charts webview's HTML (no `vscode` import, so tests build the same page): one module
 * script with a nonce, and a Content-Security-Policy that allows only the extension's own files,
 * that script, inline styles (Plotly sets them) and data: images (Plotly's heatmap).
 */
export function chartsHtml(opts: { readonly scriptUri: string; readonly cspSource: string; readonly nonce: string; readonly title: string }): string {
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${opts.nonce}' ${opts.cspSource}`,
    `style-src ${opts.cspSource} 'unsafe-inline'`,
    `img-src ${opts.cspSource} data:`,
    `font-src ${opts.cspSource}`,
  ].join('; ');
  const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<title>${esc(opts.title)}</title>
<style>
  body { font: 13px var(--vscode-font-family, sans-serif); color: var(--vscode-foreground); padding: 6px; }
  #heatmap, #roofline { height: 380px; background: #fff; }
  .controls { display: flex; gap: 10px; margin-bottom: 6px; }
</style>
</head>
<body>
<div class="controls">
  <label>shape bucket <select id="bucket"></select></label>
  <label>x <select id="hx"></select></label>
  <label>y <select id="hy"></select></label>
  <span id="note"></span>
</div>
<div id="heatmap"></div>
<div id="roofline"></div>
<script type="module" nonce="${opts.nonce}" src="${esc(opts.scriptUri)}"></script>
</body>
</html>
`;
}

/** A fresh nonce per page. */
export function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 32 }, () => chars[Math.floor(Math.random() * chars.length)]).join('');
}
