// One GPU launch recipe, run in its own process by runtime/gpu/isolated.ts, so that a kernel that
// hangs or crashes the process takes only this process with it. Plain JavaScript on purpose: it runs
// unchanged from the sources (tests) and from dist/, and needs nothing but the native addon.
//
// stdin: one JSON request (see isolated.ts `IsolatedRequest`); stdout: one JSON reply line.
// The parent did everything that needs Tilekit's TypeScript (argument packing, input bytes); here
// buffers are allocated, filled, the device pointers patched into the packed parameters, the kernel
// launched (and timed), and outputs downloaded to files.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const reply = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

/** Fills a buffer of `bytes` by repeating `pattern` (the parent's seeded random values). */
function fill(buffer, bytes, pattern) {
  const cap = Math.min(bytes, 16 << 20);
  const chunk = Math.max(pattern.length, cap - (cap % pattern.length));
  const block = Buffer.alloc(chunk);
  for (let o = 0; o < chunk; o += pattern.length) pattern.copy(block, o, 0, Math.min(pattern.length, chunk - o));
  for (let o = 0; o < bytes; o += chunk) buffer.upload(block.subarray(0, Math.min(chunk, bytes - o)), o);
}

function main() {
  const req = JSON.parse(readFileSync(0, 'utf8'));
  const addon = createRequire(import.meta.url)(req.addon);
  const device = new addon.NativeDevice(req.device);
  const module = new addon.NativeModule(device, readFileSync(req.image));
  const fn = new addon.NativeFunction(module, req.entry);
  if (req.sharedBytes > 48 * 1024) fn.setMaxDynamicShared(req.sharedBytes);

  const buffers = req.buffers.map((b) => {
    const buf = new addon.NativeBuffer(device, Math.max(1, b.bytes));
    if (b.bytes > 0) fill(buf, b.bytes, readFileSync(b.init));
    return buf;
  });
  const params = Uint8Array.from(Buffer.from(req.params, 'base64'));
  const view = new DataView(params.buffer);
  for (const p of req.pointers) view.setBigUint64(p.offset, buffers[p.buffer].pointer, true);
  const offsets = Uint32Array.from(req.offsets);
  const grid = Uint32Array.from(req.grid);
  const block = Uint32Array.from(req.block);
  const launch = () => fn.launch(grid, block, req.sharedBytes, null, params, offsets);

  const out = { ok: true, samples: [], downloads: [] };
  if (req.time) {
    const flush = req.time.flushBytes > 0 ? new addon.NativeBuffer(device, req.time.flushBytes) : undefined;
    const start = new addon.NativeEvent(device);
    const end = new addon.NativeEvent(device);
    for (let i = 0; i < req.time.warmup; i++) launch();
    device.synchronize();
    const began = performance.now();
    // At least `reps` runs, more (up to maxReps) until minMs of wall time has passed: a stable median.
    for (let i = 0; i < req.time.maxReps && (i < req.time.reps || performance.now() - began < req.time.minMs); i++) {
      flush?.memset(i & 0xff);
      start.record(null);
      launch();
      end.record(null);
      end.synchronize();
      out.samples.push(end.elapsedMsSince(start));
    }
  } else {
    launch();
  }
  device.synchronize();
  for (const d of req.download ?? []) {
    const bytes = new Uint8Array(req.buffers[d.buffer].bytes);
    if (bytes.length > 0) buffers[d.buffer].download(bytes);
    writeFileSync(d.file, bytes);
    out.downloads.push(d.file);
  }
  reply(out);
  device.dispose();
}

try {
  main();
} catch (e) {
  // The addon tags its errors (tilekitKind, call, driverCode, …); the parent turns them into GpuErrors.
  const tagged = {};
  for (const k of ['tilekitKind', 'api', 'call', 'driverCode', 'driverNumber', 'driverMessage', 'log']) if (e && e[k] !== undefined) tagged[k] = e[k];
  reply({ ok: false, message: e instanceof Error ? e.message : String(e), ...tagged });
  process.exitCode = 1;
}
