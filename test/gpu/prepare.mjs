// Prepares the GPU check (test/gpu/README.md): for every case below, builds the kernel's IR,
// generates PTX for sm_90a (and sm_80), assembles each with ptxas, computes the launch
// (grid from the kernel's grid clause, block, dynamic shared memory) and writes
//   test/gpu/build/<case>.ptx, <case>.cubin            (sm_90a, what check.py launches on Hopper)
//   test/gpu/build/<case>.sm_80.ptx, <case>.sm_80.cubin (used on sm_8x cards)
//   test/gpu/build/manifest.json                         (everything check.py needs; no Node there)
//
// Run here, after `npm run build`:  node test/gpu/prepare.mjs [--out DIR] [--only SUBSTRING] [--no-sm80]
// It imports the compiled compiler from dist/. Idempotent: the output folder is emptied and
// rewritten, and nothing in it depends on the time or on where the repository lives.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

async function load(rel) {
  try {
    return await import(join(root, 'dist', rel));
  } catch (e) {
    console.error(`error: cannot import dist/${rel} (${e instanceof Error ? e.message : String(e)}); run \`npm run build\` first`);
    process.exit(2);
  }
}
const { buildKernelIR } = await load('compiler/compile.js');
const { compilePtx } = await load('compiler/ptx/compile-ptx.js');
const { assemble, ptxasVersion, ToolchainError, ToolchainMissingError } = await load('compiler/toolchain/ptxas.js');
const { gridOf } = await load('compiler/interpreter.js');
const { SourceText } = await load('dsl/source.js');
const { formatDiagnostic } = await load('dsl/diagnostic.js');

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
let outDir = join(here, 'build');
let only;
let withSm80 = true;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--out') outDir = resolve(argv[++i] ?? '');
  else if (a === '--only') only = argv[++i];
  else if (a === '--no-sm80') withSm80 = false;
  else if (a === '-h' || a === '--help') {
    console.log('usage: node test/gpu/prepare.mjs [--out DIR] [--only SUBSTRING] [--no-sm80]');
    process.exit(0);
  } else {
    console.error(`error: unknown argument '${a}'`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------
// The cases

/**
 * One case: a kernel in one configuration (`overrides`: constants and tunables, everything else at
 * the kernel's defaults) on concrete tensor shapes. `init` is the standard deviation check.py draws
 * each input from (normal × std); `scalars` are the scalar arguments.
 */
const cases = [];

// GEMM: c = a · b. The default configuration and one larger-tile one, at a square 4096 problem
// and a ragged 1000 (no dimension a multiple of any tile, rows not 16-byte aligned).
const GEMM_CONFIGS = [
  { label: 'default', overrides: {} },
  // 128×256 tiles with BK=64, 8 warps (the accumulator fills the 128 f32 registers per thread
  // the tune block allows), 3 stages: 144 KiB of dynamic shared memory (far above the 48 KiB default).
  { label: 'bm128_bn256_bk64', overrides: { BM: 128, BN: 256, BK: 64, WARPS: 8, STAGES: 3 } },
];
for (const dtype of ['f16', 'bf16']) {
  for (const [M, N, K] of [
    [4096, 4096, 4096],
    [1000, 1000, 1000],
  ]) {
    for (const cfg of GEMM_CONFIGS) {
      cases.push({
        name: `gemm_${dtype}_${M}x${N}x${K}_${cfg.label}`,
        file: 'kernels/gemm.tile',
        kernel: 'gemm',
        reference: 'gemm',
        overrides: { dtype, ...cfg.overrides },
        shapes: { a: [M, K], b: [K, N], c: [M, N] },
        init: { a: 1, b: 1 },
        scalars: {},
      });
    }
  }
}

// Attention with grouped-query heads: the large shape causal and not, and a ragged causal one with
// S != T (bottom-right aligned mask) and a head ratio of 3.
for (const dtype of ['f16', 'bf16']) {
  const shapesFor = (B, H, HKV, S, T, D) => ({ q: [B, H, S, D], k: [B, HKV, T, D], v: [B, HKV, T, D], o: [B, H, S, D] });
  for (const causal of [true, false]) {
    const [B, H, HKV, S, T, D] = [4, 32, 8, 2048, 2048, 128];
    cases.push({
      name: `attention_${dtype}_B${B}_H${H}_HKV${HKV}_S${S}_T${T}_D${D}_${causal ? 'causal' : 'full'}`,
      file: 'kernels/attention.tile',
      kernel: 'attention',
      reference: 'attention',
      overrides: { dtype, causal, D },
      shapes: shapesFor(B, H, HKV, S, T, D),
      init: { q: 1, k: 1, v: 1 },
      scalars: { scale: 1 / Math.sqrt(D) },
    });
  }
  const [B, H, HKV, S, T, D] = [2, 12, 4, 1000, 1300, 64];
  cases.push({
    name: `attention_${dtype}_B${B}_H${H}_HKV${HKV}_S${S}_T${T}_D${D}_causal`,
    file: 'kernels/attention.tile',
    kernel: 'attention',
    reference: 'attention',
    overrides: { dtype, causal: true, D },
    shapes: shapesFor(B, H, HKV, S, T, D),
    init: { q: 1, k: 1, v: 1 },
    scalars: { scale: 1 / Math.sqrt(D) },
  });
}

// SwiGLU MLP (bf16, a Llama-7B-sized layer) at M=4096 tokens and a ragged 777.
for (const M of [4096, 777]) {
  const [E, F, dtype] = [4096, 11008, 'bf16'];
  cases.push({
    name: `mlp_gate_up_${dtype}_M${M}_E${E}_F${F}`,
    file: 'kernels/mlp.tile',
    kernel: 'mlp_gate_up',
    reference: 'mlp_gate_up',
    overrides: { dtype },
    shapes: { x: [M, E], wg: [E, F], wu: [E, F], h: [M, F] },
    init: { x: 1, wg: 0.02, wu: 0.02 },
    scalars: {},
  });
  cases.push({
    name: `mlp_down_${dtype}_M${M}_E${E}_F${F}`,
    file: 'kernels/mlp.tile',
    kernel: 'mlp_down',
    reference: 'mlp_down',
    overrides: { dtype },
    shapes: { h: [M, F], wd: [F, E], r: [M, E], y: [M, E] },
    init: { h: 1, wd: 0.02, r: 1 },
    scalars: {},
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Every op of a block, nested blocks (loop bodies, branches, the grid) included. */
function* walk(block) {
  for (const op of block.ops) {
    yield op;
    if (op.op === 'for') yield* walk(op.body);
    if (op.op === 'if') {
      yield* walk(op.then);
      yield* walk(op.else);
    }
  }
}

/** Names of the tensors the kernel stores to (its outputs). */
function outputsOf(ir) {
  const names = new Map();
  const ops = [...walk(ir.body)];
  for (const op of ops) if (op.op === 'tensor') names.set(op.result.id, op.name);
  const out = new Set();
  for (const op of ops) if (op.op === 'store') out.add(names.get(op.tensor.id));
  return ir.params.filter((p) => p.kind === 'tensor' && out.has(p.name)).map((p) => p.name);
}

function rowMajorStrides(shape) {
  const s = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Binds every shape symbol from the case's shapes, checking constant dims and consistency. */
function bindDims(ir, shapes) {
  const dims = {};
  for (const p of ir.params) {
    if (p.kind !== 'tensor') continue;
    const shape = shapes[p.name];
    if (!shape) throw new Error(`no shape given for tensor '${p.name}'`);
    if (shape.length !== p.dims.length) throw new Error(`tensor '${p.name}' has rank ${p.dims.length}, shape [${shape}] given`);
    p.dims.forEach((d, axis) => {
      const n = shape[axis];
      if (typeof d === 'number') {
        if (d !== n) throw new Error(`tensor '${p.name}' axis ${axis} is fixed at ${d} by this configuration, shape [${shape}] given`);
      } else if (d in dims) {
        if (dims[d] !== n) throw new Error(`shape symbol '${d}' is ${dims[d]} and ${n} (tensor '${p.name}')`);
      } else dims[d] = n;
    });
  }
  for (const name of Object.keys(shapes)) if (!ir.params.some((p) => p.kind === 'tensor' && p.name === name)) throw new Error(`shape given for unknown tensor '${name}'`);
  return dims;
}

/** The ABI parameter list with the value check.py passes for each dim and stride. */
function abiParams(compiled, dims, shapes, scalars) {
  return compiled.params.map((p) => {
    switch (p.kind) {
      case 'tensor':
        return { kind: 'tensor', name: p.name, tensor: p.tensor, dtype: p.dtype, ctype: 'u64' };
      case 'dim':
        if (!(p.dim in dims)) throw new Error(`ABI dim '${p.dim}' is not bound by any tensor shape`);
        return { kind: 'dim', name: p.name, dim: p.dim, ctype: 'u32', value: dims[p.dim] };
      case 'stride':
        return { kind: 'stride', name: p.name, tensor: p.tensor, axis: p.axis, ctype: 'u64', value: rowMajorStrides(shapes[p.tensor])[p.axis] };
      case 'scalar':
        if (typeof scalars[p.name] !== 'number') throw new Error(`no value given for scalar '${p.name}'`);
        return { kind: 'scalar', name: p.name, dtype: p.dtype, ctype: p.dtype, value: scalars[p.name] };
      default:
        throw new Error(`unknown ABI parameter kind '${p.kind}'`);
    }
  });
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

function gitDescribe() {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return { commit, dirty };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Build

const targets = withSm80 ? ['sm_90a', 'sm_80'] : ['sm_90a'];
const sources = new Map();
function sourceOf(file) {
  if (!sources.has(file)) sources.set(file, new SourceText(file, readFileSync(join(root, file), 'utf8')));
  return sources.get(file);
}

/** Compiled and assembled kernels, by kernel + configuration + target (cases share them). */
const built = new Map();
async function compileFor(c, ir, src, target) {
  const key = JSON.stringify([c.file, c.kernel, ir.config, target]);
  if (built.has(key)) return built.get(key);
  const { compiled, diagnostics } = compilePtx(ir, target, src);
  if (!compiled) throw new Error(`compilePtx for ${target} failed:\n${diagnostics.map((d) => formatDiagnostic(d, src)).join('\n')}`);
  let assembled;
  try {
    assembled = await assemble(compiled.ptx, { arch: target });
  } catch (e) {
    if (e instanceof ToolchainError) throw new Error(e.format());
    throw e;
  }
  const report = assembled.report.find((r) => r.kind === 'entry' && r.function === compiled.entry) ?? null;
  const result = { compiled, cubin: assembled.cubin, report, warnings: assembled.warnings };
  built.set(key, result);
  return result;
}

const selected = cases.filter((c) => only === undefined || c.name.includes(only));
if (selected.length === 0) {
  console.error(`error: no case matches '${only}'`);
  process.exit(2);
}

let ptxas;
try {
  ptxas = await ptxasVersion();
} catch (e) {
  if (e instanceof ToolchainMissingError) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
  throw e;
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const entries = [];
const failed = [];
for (const c of selected) {
  try {
    const src = sourceOf(c.file);
    const overrides = new Map(Object.entries(c.overrides).map(([k, v]) => [k, String(v)]));
    const { ir, diagnostics } = buildKernelIR(src, c.kernel, overrides);
    if (!ir) throw new Error(diagnostics.map((d) => formatDiagnostic(d, src)).join('\n'));

    const dims = bindDims(ir, c.shapes);
    const args = new Map();
    for (const p of ir.params) {
      if (p.kind === 'tensor') args.set(p.name, { dtype: p.dtype, shape: c.shapes[p.name], data: new Float64Array(0) });
      else args.set(p.name, c.scalars[p.name]);
    }
    const g = gridOf(ir, args);
    const grid = [g[0] ?? 1, g[1] ?? 1, g[2] ?? 1];
    const outputs = outputsOf(ir);
    if (outputs.length !== 1) throw new Error(`expected one output tensor, found [${outputs.join(', ')}]`);

    const perTarget = {};
    let primary;
    for (const target of targets) {
      const { compiled, cubin, report, warnings } = await compileFor(c, ir, src, target);
      const base = target === 'sm_90a' ? c.name : `${c.name}.${target}`;
      writeFileSync(join(outDir, `${base}.ptx`), compiled.ptx);
      writeFileSync(join(outDir, `${base}.cubin`), cubin);
      perTarget[target] = {
        ptx: `${base}.ptx`,
        cubin: `${base}.cubin`,
        cubin_sha256: sha256(cubin),
        registers: report?.registers ?? null,
        spill_bytes: report ? report.spillStoresBytes + report.spillLoadsBytes : null,
        ptxas_warnings: warnings,
      };
      if (target === 'sm_90a') primary = compiled;
      else if (compiled.entry !== primary.entry || compiled.threads !== primary.threads || compiled.dynamicSmem !== primary.dynamicSmem || JSON.stringify(compiled.params) !== JSON.stringify(primary.params)) {
        throw new Error(`the ${target} launch contract differs from sm_90a's`);
      }
    }

    const tensors = {};
    for (const p of ir.params) {
      if (p.kind !== 'tensor') continue;
      tensors[p.name] = {
        shape: c.shapes[p.name],
        dtype: p.dtype,
        dims: p.dims,
        role: outputs.includes(p.name) ? 'output' : 'input',
        ...(c.init[p.name] !== undefined ? { init_std: c.init[p.name] } : {}),
      };
    }
    const entry = {
      name: c.name,
      kernel: c.kernel,
      reference: c.reference,
      source: c.file,
      entry: primary.entry,
      target: 'sm_90a',
      cubin: perTarget.sm_90a.cubin,
      ptx: perTarget.sm_90a.ptx,
      targets: perTarget,
      config: ir.config,
      params: abiParams(primary, dims, c.shapes, c.scalars),
      dims,
      tensors,
      scalars: c.scalars,
      output: outputs[0],
      grid,
      block: [primary.threads, 1, 1],
      dynamicSmem: primary.dynamicSmem,
    };
    entries.push(entry);
    const r = perTarget.sm_90a;
    const alt = perTarget.sm_80 ? `; sm_80: ${perTarget.sm_80.registers} regs, ${perTarget.sm_80.spill_bytes} B spilled` : '';
    console.log(
      `${c.name}: grid [${grid.join(', ')}], block ${primary.threads}, ${primary.dynamicSmem} B dynamic smem, ` +
        `sm_90a: ${r.registers} regs, ${r.spill_bytes} B spilled${alt} -> ${relative(root, join(outDir, r.cubin))}`,
    );
    for (const t of targets) for (const w of perTarget[t].ptxas_warnings) console.log(`  warning (${t}): ptxas: ${w}`);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    failed.push({ name: c.name, error: message });
    console.error(`${c.name}: FAILED\n${message.replace(/^/gm, '  ')}`);
  }
}

const manifest = {
  format: 'tilekit-gpu-check/1',
  generator: 'test/gpu/prepare.mjs',
  git: gitDescribe(),
  ptxas,
  abi:
    'params in order: tensor base pointers (u64), shape symbols (u32, order of first appearance), ' +
    'strides in elements for every axis but the last (u64, per tensor), scalars (own type); block = threads x 1 x 1; ' +
    'all shared memory is dynamic (raise the max dynamic shared memory attribute above 48 KiB)',
  cases: entries,
  failed,
};
writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`wrote ${entries.length} case(s) (${targets.join(', ')}) and ${relative(root, join(outDir, 'manifest.json'))}` + (failed.length ? `; ${failed.length} FAILED: ${failed.map((f) => f.name).join(', ')}` : ''));
process.exit(failed.length ? 1 : 0);
