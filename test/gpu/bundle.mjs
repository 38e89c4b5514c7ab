// Prepares what the GPU check runs with Node on a machine that has no Node (test/gpu/README.md,
// "The GPU runtime"): run here after `npm install`:   node test/gpu/bundle.mjs
// Writes test/gpu/build-node/ (git-ignored, ≈23 MB):
//   node.xz                 this machine's Node binary, stripped and xz-compressed
//   tilekit.mjs             the CLI and run-vs-interpret, bundled with their dependencies (vite)
//   gpu-device.test.mjs     test/gpu/gpu-device.test.ts for `node --test` (vitest-shim.mjs)
//   launch-child.mjs        the isolated launcher, beside the bundle that spawns it (and tk_hip_cpu.h)
//   tilekit_native.node     the addon built by `npm install` (load it with TILEKIT_NATIVE_ADDON)
//   kernels/*.tile          the shipped kernels (selftest and run-vs-interpret read them)
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const out = join(here, 'build-node');
const addon = join(root, 'build', 'Release', 'tilekit_native.node');
if (!existsSync(addon)) {
  console.error(`error: ${addon} is missing: run \`npm install\` (it builds the addon) first`);
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

for (const [name, entry] of [
  ['tilekit', join(here, 'bundle-entry.ts')],
  ['gpu-device.test', join(here, 'gpu-device.test.ts')],
]) {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    resolve: { alias: { vitest: join(here, 'vitest-shim.mjs') } },
    // Everything bundled but better-sqlite3 (a native module: only tune, results and pack load it)
    // and typescript (only for tile`…` templates in .ts files): neither is used on the GPU machine.
    ssr: { noExternal: true, external: ['better-sqlite3', 'typescript'] },
    build: {
      ssr: entry,
      outDir: out,
      emptyOutDir: false,
      target: 'node20',
      minify: false,
      rollupOptions: { output: { format: 'es', entryFileNames: `${name}.mjs`, codeSplitting: false } },
    },
  });
}
copyFileSync(join(root, 'runtime', 'gpu', 'launch-child.mjs'), join(out, 'launch-child.mjs'));
copyFileSync(join(root, 'runtime', 'hip-cpu', 'tk_hip_cpu.h'), join(out, 'tk_hip_cpu.h'));
copyFileSync(addon, join(out, 'tilekit_native.node'));
cpSync(join(root, 'kernels'), join(out, 'kernels'), { recursive: true, filter: (p) => statSync(p).isDirectory() || p.endsWith('.tile') });

const stripped = join(out, 'node');
copyFileSync(process.execPath, stripped);
try {
  execFileSync('strip', [stripped]);
} catch {
  console.warn('note: strip failed; carrying the unstripped Node binary');
}
execFileSync('xz', ['-T0', '-6', '-f', stripped]);
const size = (f) => statSync(join(out, f)).size;
let total = 0;
for (const f of readdirSync(out, { recursive: true })) if (statSync(join(out, f)).isFile()) total += size(f);
console.log(`wrote ${out}: node.xz ${(size('node.xz') / 2 ** 20).toFixed(1)} MiB, tilekit.mjs ${(size('tilekit.mjs') / 2 ** 20).toFixed(1)} MiB, ${(total / 2 ** 20).toFixed(1)} MiB in all`);
