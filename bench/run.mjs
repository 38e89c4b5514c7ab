// `npm run bench`: what Tilekit's own code costs, each time as a ratio against a baseline
// measured in the same run (this machine is shared and noisy). Writes docs/benchmarks.md.
// Run after `npm run build`; it imports the compiled code from dist/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { buildKernelIR } = await import(join(root, 'dist/compiler/compile.js'));
const { interpret } = await import(join(root, 'dist/compiler/interpreter.js'));
const { SourceText } = await import(join(root, 'dist/dsl/source.js'));
const { parseProgram } = await import(join(root, 'dist/dsl/parser.js'));
const { kernelSpace, enumerateConfigs, describe } = await import(join(root, 'dist/dsl/config-space.js'));
const { gemmRef } = await import(join(root, 'dist/kernels/reference.js'));
const { makeRng, randomTensor } = await import(join(root, 'dist/runtime/random.js'));
const { emulate } = await import(join(root, 'dist/runtime/emulator/emulate.js'));
const { compilePtx } = await import(join(root, 'dist/compiler/ptx/compile-ptx.js'));
const { assemble } = await import(join(root, 'dist/compiler/toolchain/ptxas.js'));
const { compileHip } = await import(join(root, 'dist/compiler/hip/compile-hip.js'));
const { buildCodeObject } = await import(join(root, 'dist/compiler/toolchain/clang.js'));
const { runOnHipCpu } = await import(join(root, 'dist/runtime/hip-cpu/hip-cpu-backend.js'));
const { gemmCase } = await import(join(root, 'dist/kernels/selftest.js'));
const { tuneSpace } = await import(join(root, 'dist/tuner/space.js'));
const { estimateWork } = await import(join(root, 'dist/tuner/work.js'));
const { modelCost, resourcesFromPtxas } = await import(join(root, 'dist/tuner/cost-model.js'));
const { getDevice } = await import(join(root, 'dist/tuner/devices.js'));
const { tuneCommand } = await import(join(root, 'dist/tuner/tune-command.js'));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const ms = (x) => x.toFixed(x < 10 ? 2 : 0);
const time = (fn) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};

// 1. Front end: .tile text → verified IR for one configuration, warm process, every configuration.
const rows = [];
for (const [file, kernels] of [['gemm.tile', ['gemm']], ['attention.tile', ['attention']], ['mlp.tile', ['mlp_gate_up', 'mlp_down']]]) {
  const path = join(root, 'kernels', file);
  const src = new SourceText(path, readFileSync(path, 'utf8'));
  for (let i = 0; i < 10; i++) parseProgram(src); // warm-up
  const parseTimes = Array.from({ length: 20 }, () => time(() => parseProgram(src)));
  for (const name of kernels) {
    const k = parseProgram(src).program.kernels.find((x) => x.name.name === name);
    const configs = enumerateConfigs(kernelSpace(k), { allConsts: true }).configs;
    const overrides = configs.map((b) => new Map([...b.values].map(([n, v]) => [n, String(v.value)])));
    for (const o of overrides.slice(0, 3)) buildKernelIR(src, name, o); // warm-up
    const times = overrides.map((o) => time(() => buildKernelIR(src, name, o)));
    rows.push({ name, configs: configs.length, parse: median(parseTimes), med: median(times), p90: quantile(times, 0.9), sample: describe(configs[0]) });
  }
}

// 2. Cold CLI start: `tilekit check` on one file, against a bare `node -e 0` start, 5 runs each.
const run = (args) => time(() => execFileSync(process.execPath, args, { cwd: root, stdio: 'ignore' }));
const coldNode = [];
const coldCheck = [];
for (let i = 0; i < 5; i++) {
  coldNode.push(run(['-e', '0']));
  coldCheck.push(run(['bin/tilekit.js', 'check', 'kernels/gemm.tile']));
}

// 3. Interpreter: a 256×256×256 f16 GEMM through the IR, against the float64 reference loop.
const [M, N, K] = [256, 256, 256];
const rng = makeRng(1);
const a = { dtype: 'f16', shape: [M, K], data: randomTensor(rng, M * K, 'f16') };
const b = { dtype: 'f16', shape: [K, N], data: randomTensor(rng, K * N, 'f16') };
const gemmPath = join(root, 'kernels/gemm.tile');
const { ir } = buildKernelIR(new SourceText(gemmPath, readFileSync(gemmPath, 'utf8')), 'gemm', new Map());
const interpTimes = [];
const refTimes = [];
for (let i = 0; i < 3; i++) {
  const c = { dtype: 'f16', shape: [M, N], data: new Float64Array(M * N).fill(NaN) };
  interpTimes.push(time(() => interpret(ir, new Map([['a', a], ['b', b], ['c', c]]))));
  refTimes.push(time(() => gemmRef(a.data, b.data, M, K, N)));
}

// 4. The PTX emulator: a 256×256×256 f16 GEMM written with ldmatrix + mma.sync (bench/cuda/gemm_mma.cu,
//    64×64 tiles, 4 warps), against the same float64 reference loop.
const mmaPtx = readFileSync(join(root, 'bench/cuda/gemm_mma.sm_80.ptx'), 'utf8');
const emuTimes = [];
let emuStats;
for (let i = 0; i < 3; i++) {
  let r;
  emuTimes.push(
    time(() => {
      r = emulate(mmaPtx, 'gemm_mma', { grid: [N / 64, M / 64, 1], block: [128, 1, 1] }, [
        { type: 'ptr', dtype: 'f16', data: a.data },
        { type: 'ptr', dtype: 'f16', data: b.data },
        { type: 'ptr', dtype: 'f32', size: M * N },
        { type: 'i32', value: M },
        { type: 'i32', value: N },
        { type: 'i32', value: K },
      ]);
    }),
  );
  if (r.findings.length > 0) throw new Error(`the benchmark GEMM has sanitizer findings: ${JSON.stringify(r.findings[0])}`);
  emuStats = r.stats;
}
const emuMed = median(emuTimes);

// 5. DSL → PTX compile time per configuration (warm process) against nvcc -O3 -ptx on an
//    equivalent hand-written CUDA C++ mma.sync GEMM (bench/cuda/gemm_mma.cu), same run.
const KERNEL_ENTRIES = [['gemm.tile', 'gemm'], ['attention.tile', 'attention'], ['mlp.tile', 'mlp_gate_up'], ['mlp.tile', 'mlp_down']];
/** For each kernel: those of its first 24 configurations `backend` compiles (the pass that finds them warms up), timed. */
const perConfig = (backend) =>
  KERNEL_ENTRIES.map(([file, name]) => {
    const path = join(root, 'kernels', file);
    const src = new SourceText(path, readFileSync(path, 'utf8'));
    const k = parseProgram(src).program.kernels.find((x) => x.name.name === name);
    const configs = enumerateConfigs(kernelSpace(k), { allConsts: true }).configs.slice(0, 24);
    const all = configs.map((b) => new Map([...b.values].map(([n, v]) => [n, String(v.value)])));
    const compile = (o) => backend(buildKernelIR(src, name, o).ir, src).compiled;
    // Configurations over the target's limits (TK4001) are left out; the table says how many remain.
    const overrides = all.filter((o) => compile(o) !== undefined);
    const times = overrides.map((o) => time(() => compile(o)));
    return { name, configs: overrides.length, overrides, compile, med: median(times), p90: quantile(times, 0.9) };
  });
const compileRows = perConfig((ir, src) => compilePtx(ir, 'sm_80', src));
const nvccTimes = [];
for (let i = 0; i < 3; i++) {
  nvccTimes.push(time(() => execFileSync('nvcc', ['-O3', '-ptx', '-arch=sm_80', 'bench/cuda/gemm_mma.cu', '-o', '/tmp/tilekit-bench-nvcc.ptx'], { cwd: root, stdio: 'ignore' })));
}
const coldCompile = [];
for (let i = 0; i < 3; i++) coldCompile.push(run(['bin/tilekit.js', 'compile', 'kernels/gemm.tile', '--target', 'sm_80', '--no-assemble', '-o', '/tmp']));
const gemmSrc = new SourceText(gemmPath, readFileSync(gemmPath, 'utf8'));
const gemmPtx = compilePtx(buildKernelIR(gemmSrc, 'gemm', new Map()).ir, 'sm_80', gemmSrc).compiled.ptx;
const ptxasTimes = [];
for (let i = 0; i < 3; i++) ptxasTimes.push((await assemble(gemmPtx, { arch: 'sm_80' })).ms);

// 6. DSL → HIP per configuration (warm process) against clang-19 compiling that HIP for gfx942,
//    same run; and the HIP CPU harness: host build, then a run, against the float64 reference loop.
const hipRows = perConfig((ir, src) => compileHip(ir, 'gfx942', { source: src }));
for (const row of hipRows) {
  const clangTimes = [];
  for (const o of row.overrides.slice(0, 3)) clangTimes.push((await buildCodeObject(row.compile(o).source, { arch: 'gfx942' })).ms);
  row.clang = median(clangTimes);
}
const hipCase = gemmCase('f16', 256, 256, 256);
const hipIr = buildKernelIR(gemmSrc, 'gemm', new Map([['dtype', 'f16']])).ir;
const hipCompiled = compileHip(hipIr, 'gfx942', { source: gemmSrc }).compiled;
const hipCache = `/tmp/tilekit-bench-hip-${process.pid}`;
const hipRuns = [];
let hipBuildMs = 0;
for (let i = 0; i < 3; i++) {
  const { args } = hipCase.make(i);
  const r = await runOnHipCpu(hipCompiled, hipIr, args, { cacheDir: hipCache });
  if (!r.cached) hipBuildMs = r.buildMs;
  hipRuns.push(r.runMs);
}
const refGemmTimes = [];
for (let i = 0; i < 3; i++) {
  const { args } = hipCase.make(i);
  refGemmTimes.push(time(() => gemmRef(args.get('a').data, args.get('b').data, 256, 256, 256)));
}

// 7. Offline tuning: configurations per second through compile + ptxas + the cost model (GEMM,
//    sm_90a, h100, 4096³), the same steps compileCandidate takes, each timed on its own: Tilekit's
//    part (IR, PTX, report parsing, work estimate, model) against ptxas's, in the same loop.
const tuneSp = tuneSpace(gemmSrc, 'gemm').space;
const tunePoints = tuneSp.points().filter((_, i) => i % 7 === 0).slice(0, 10);
const h100 = getDevice('h100');
let tuneOwn = 0;
let tunePtxas = 0;
let tuneCount = 0;
for (const p of tunePoints) {
  const t0 = performance.now();
  const built = buildKernelIR(gemmSrc, 'gemm', tuneSp.overrides(p));
  const gen = built.ir && compilePtx(built.ir, 'sm_90a', gemmSrc);
  if (!gen?.compiled) continue;
  const t1 = performance.now();
  const asm = await assemble(gen.compiled.ptx, { arch: 'sm_90a' });
  const t2 = performance.now();
  const rep = asm.report.find((x) => x.kind === 'entry');
  modelCost({ device: h100, target: 'sm_90a', work: estimateWork(built.ir, { M: 4096, N: 4096, K: 4096 }), resources: resourcesFromPtxas(rep, gen.compiled) });
  tuneOwn += t1 - t0 + (performance.now() - t2);
  tunePtxas += t2 - t1;
  tuneCount++;
}
const tuneTotal = tuneOwn + tunePtxas;

// 8. \`tilekit tune\` end to end, one shape, the same 12 configurations (random strategy, seed 1:
//    the set does not depend on the batch size), evaluated one at a time and 4 at a time.
const gemmFile = join(root, 'kernels/gemm.tile');
const quietIo = { out: () => {}, err: () => {} };
const tuneRun = async (parallel) => {
  const db = join(mkdtempSync(join(tmpdir(), 'tilekit-bench-tune-')), 'results.db');
  const t0 = performance.now();
  const code = await tuneCommand(gemmFile, { target: 'sm_90a', device: 'h100', shapes: 'M=4096,N=4096,K=4096', strategy: 'random', budget: '12', seed: 1, db, parallel }, quietIo);
  if (code !== 0) throw new Error(`bench: tune --parallel ${parallel} exited ${code}`);
  return performance.now() - t0;
};
const tuneSerialMs = await tuneRun(1);
const tuneBatchMs = await tuneRun(4);

const date = new Date().toISOString().slice(0, 10);
const cpu = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`;
const out = `# Benchmarks

Produced by \`npm run bench\` (bench/run.mjs) on ${date}, ${cpu}, Node ${process.version}. All times
are **measured** on this CPU (no GPU is involved yet); medians, with each baseline run in the
same process or command so the ratios survive a noisy shared machine.

## Front end: \`.tile\` text → verified tile IR, per configuration (warm process)

Parse + check + lower + simplify + verify, for every configuration of each kernel's space
(constants over their candidates too). The brief's goal is DSL → PTX in ≤ 50 ms per
configuration; PTX emission does not exist yet, so this is the front end's share of that budget.

| kernel | configurations | parse the file (median) | build IR incl. parse, median | build IR, p90 |
|---|---|---|---|---|
${rows.map((r) => `| ${r.name} | ${r.configs} | ${ms(r.parse)} ms | ${ms(r.med)} ms | ${ms(r.p90)} ms |`).join('\n')}

## Cold CLI start

| command | median of 5 | ratio |
|---|---|---|
| \`node -e 0\` (baseline) | ${ms(median(coldNode))} ms | 1.0× |
| \`tilekit check kernels/gemm.tile\` (all ${rows[0].configs} configurations) | ${ms(median(coldCheck))} ms | ${(median(coldCheck) / median(coldNode)).toFixed(1)}× |

Most of the difference is loading chevrotain (≈0.3 s on this machine, measured separately).

## Reference interpreter: GEMM 256×256×256, f16, default configuration

| run | median of 3 | ratio |
|---|---|---|
| float64 reference triple loop (baseline) | ${ms(median(refTimes))} ms | 1.0× |
| tile IR in the interpreter (exact f16 rounding, f32 accumulation) | ${ms(median(interpTimes))} ms | ${(median(interpTimes) / median(refTimes)).toFixed(1)}× |

## PTX emulator: GEMM 256×256×256 f16 with ldmatrix + mma.sync (64×64 tiles, 4 warps)

The kernel is \`bench/cuda/gemm_mma.cu\` compiled by \`nvcc -O3 -ptx -arch=sm_80\`; 16 CTAs of 128
threads, sanitizer on. The goal is ≤ 2 s here.

| run | median of 3 | ratio |
|---|---|---|
| float64 reference triple loop (baseline) | ${ms(median(refTimes))} ms | 1.0× |
| emulated PTX (${emuStats.threadInstructions} thread-instructions, ${(emuStats.threadInstructions / (emuMed / 1000) / 1e6).toFixed(2)} M thread-instructions/s) | ${ms(emuMed)} ms | ${(emuMed / median(refTimes)).toFixed(1)}× |

## NVIDIA backend: DSL → PTX per configuration, against nvcc

Warm process: parse + check + lower + PTX for one configuration (first 24 configurations of each
kernel's space, sm_80). Baseline in the same run: \`nvcc -O3 -ptx -arch=sm_80\` on
\`bench/cuda/gemm_mma.cu\`, a hand-written CUDA C++ GEMM with the same ldmatrix + mma.sync
structure (nvcc is a process of its own, timed from spawn to exit). Goal: ≤ 50 ms and ≥ 20×
faster than nvcc.

| kernel | configurations | DSL → PTX, median | p90 | ratio nvcc / Tilekit (median) |
|---|---|---|---|---|
${compileRows.map((r) => `| ${r.name} | ${r.configs} | ${ms(r.med)} ms | ${ms(r.p90)} ms | ${(median(nvccTimes) / r.med).toFixed(0)}× |`).join('\n')}
| \`nvcc -O3 -ptx\` (baseline) | 1 | ${ms(median(nvccTimes))} ms | | 1× |

| step, one GEMM configuration | median of 3 |
|---|---|
| cold \`tilekit compile kernels/gemm.tile --target sm_80 --no-assemble\` (process start included) | ${ms(median(coldCompile))} ms |
| ptxas -O3 on the emitted PTX | ${ms(median(ptxasTimes))} ms |

## The AMD backend: DSL → HIP, and clang-19

Warm process: parse + check + lower + HIP for one configuration (those of the first 24 configurations
of each kernel's space that fit gfx942's 64 KiB of LDS; MFMA 16). Baseline in the same run: clang-19 compiling the emitted HIP
device-only for gfx942 to assembly and code object (two clang processes at once; median of the
first 3 configurations). Tilekit's share is what an offline tuning step spends outside clang.

| kernel | configurations | DSL → HIP, median | clang-19 on that HIP, median | Tilekit's share |
|---|---|---|---|---|
${hipRows.map((r) => `| ${r.name} | ${r.configs} | ${ms(r.med)} ms | ${ms(r.clang)} ms | ${((100 * r.med) / (r.med + r.clang)).toFixed(1)} % |`).join('\n')}

The HIP CPU harness on a 256×256×256 f16 GEMM (default configuration: 128×128 tiles, 8 wavefronts
= 512 threads per workgroup, 4 workgroups): the one-time host build with clang++-19 -O2 took
${ms(hipBuildMs)} ms; a run (argument files written and read, workgroups one after another)
${ms(median(hipRuns))} ms median of 3, against ${ms(median(refGemmTimes))} ms for the float64
reference loop in the same run. The harness checks correctness; its times say nothing about an
AMD GPU's.

## Offline tuning: compile + ptxas + cost model

\`tilekit tune --backend model\` evaluates a configuration by building its IR, emitting PTX,
assembling it with ptxas (for the resource report) and modeling it. ${tuneCount} GEMM configurations
(every 7th valid one, sm_90a, modeled on h100 at 4096³), one after another, each step timed on its
own: ${(tuneCount / (tuneTotal / 1000)).toFixed(2)} configurations/s (${ms(tuneTotal / tuneCount)} ms each), of which ptxas
${ms(tunePtxas / tuneCount)} ms and Tilekit (IR, PTX, report parsing, work estimate, model)
${ms(tuneOwn / tuneCount)} ms: Tilekit's own share is ${((100 * tuneOwn) / tuneTotal).toFixed(1)} % (goal ≤ 25 %).

\`tilekit tune\` end to end on one shape (GEMM, sm_90a, h100, 4096³, \`--strategy random --seed 1
--budget 12\`: the same 12 configurations either way), with a fresh results database: \`--parallel 1\`
${ms(tuneSerialMs)} ms, \`--parallel 4\` (the default) ${ms(tuneBatchMs)} ms — ${(tuneSerialMs / tuneBatchMs).toFixed(2)}× on
${cpus().length} cores (ptxas processes run side by side; the code generation in between stays on one
thread).

## Not measured yet

Every GPU number arrives with the GPU checks; the tuner's modeled times stand in for none of them.
\`test/gpu/\` holds the prepared GPU checks — \`check.py\` (the kernels against PyTorch, timed against
the vendor libraries) and \`run-node-check.sh\` (the GPU runtime, \`tilekit run --backend gpu\` and
\`selftest --backend gpu\`, GEMM 4096³ against \`torch.matmul\`); no GPU has been available to run them.
`;
writeFileSync(join(root, 'docs/benchmarks.md'), out);
process.stdout.write(out);
