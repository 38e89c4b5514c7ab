/**
 * The NVIDIA backend (issue 4):
 * - L2: every shipped kernel, over a seeded sample of its configurations (f16 and bf16),
 *   assembles with ptxas for sm_80 and sm_90a; the default configurations do not spill;
 * - L3: the emitted PTX computes the float64 reference's answer in the PTX emulator at ragged
 *   shapes — unaligned (row strides that forbid 16-byte copies) and aligned (the cp.async path)
 *   — with the sanitizer clean and, at the default configuration, no shared-memory bank conflicts;
 * - `.loc` lines point at the `.tile` lines the instructions come from.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TensorArg } from '../../compiler/interpreter.js';
import type { IRKernel } from '../../compiler/ir.js';
import { compilePtx } from '../../compiler/ptx/compile-ptx.js';
import type { NvidiaTarget } from '../../compiler/ptx/kernel-abi.js';
import { assemble, findPtxas } from '../../compiler/toolchain/ptxas.js';
import { bindConfig, enumerateConfigs, kernelSpace } from '../../dsl/config-space.js';
import type { Bindings } from '../../dsl/symbols.js';
import { parseProgram } from '../../dsl/parser.js';
import { SourceText } from '../../dsl/source.js';
import { relL2 } from '../../runtime/compare.js';
import { runOnEmulator } from '../../runtime/emulate-backend.js';
import { makeRng, randomTensor } from '../../runtime/random.js';
import { buildText, kernelPath } from '../support/build.js';
import { seedFromEnv } from '../support/random.js';
import { RAGGED_CASES } from '../support/backend-cases.js';
import { requireTool } from '../support/toolchains.js';

const SEED = seedFromEnv(4004);
const KERNELS = [
  ['gemm.tile', 'gemm'],
  ['attention.tile', 'attention'],
  ['mlp.tile', 'mlp_gate_up'],
  ['mlp.tile', 'mlp_down'],
] as const;

function source(file: string): SourceText {
  const path = kernelPath(file);
  return new SourceText(path, readFileSync(path, 'utf8'));
}

function build(file: string, kernel: string, overrides: Record<string, string | number | boolean>): { ir: IRKernel; src: SourceText } {
  const src = source(file);
  return { ir: buildText(src, kernel, overrides), src };
}

/** The default configuration, then a seeded sample of the others (constants included): `n` in all. */
function sampleConfigs(file: string, kernel: string, n: number): Record<string, string>[] {
  const k = parseProgram(source(file)).program.kernels.find((x) => x.name.name === kernel)!;
  const space = kernelSpace(k);
  const asRecord = (b: Bindings): Record<string, string> => Object.fromEntries([...b.values].map(([name, v]) => [name, String(v.value)]));
  const def = asRecord(bindConfig(space, new Map()).bindings!);
  const others = enumerateConfigs(space, { allConsts: true }).configs.map(asRecord).filter((c) => JSON.stringify(c) !== JSON.stringify(def));
  const rng = makeRng(SEED);
  const picked = new Set<number>();
  while (picked.size < Math.min(n - 1, others.length)) picked.add(Math.floor(rng.next() * others.length));
  return [def, ...[...picked].map((i) => others[i]!)];
}

const hasPtxas = requireTool('ptxas', findPtxas());

describe.skipIf(!hasPtxas)('ptxas accepts the PTX of every kernel for sm_80 and sm_90a', () => {
  for (const [file, kernel] of KERNELS) {
    it(`${kernel}: the default and 29 sampled configurations (f16 and bf16) on both targets; the default has no spills`, async () => {
      const configs = sampleConfigs(file, kernel, 30);
      for (const target of ['sm_80', 'sm_90a'] as NvidiaTarget[]) {
        const jobs = configs.map((cfg, i) => async () => {
          const { ir } = build(file, kernel, cfg);
          const r = compilePtx(ir, target);
          // A configuration over the target's shared memory is rejected before any PTX (TK4001).
          if (i > 0 && r.diagnostics.length === 1 && r.diagnostics[0]!.code === 'TK4001') return;
          expect(r.diagnostics, `${kernel} ${JSON.stringify(cfg)}`).toEqual([]);
          const a = await assemble(r.compiled!.ptx, { arch: target });
          const rep = a.report.find((x) => x.function === kernel)!;
          if (i === 0) expect(rep.spillStoresBytes + rep.spillLoadsBytes, `default config of ${kernel} on ${target} spills`).toBe(0);
          expect(rep.registers).toBeGreaterThan(0);
        });
        // Two at a time: ptxas is the slow part and this machine has two cores.
        for (let i = 0; i < jobs.length; i += 2) await Promise.all(jobs.slice(i, i + 2).map((job) => job()));
      }
    }, 600_000);
  }
});

/** Three configurations per kernel: the default first. */
const CONFIGS: Record<string, Record<string, number>[]> = {
  gemm: [{}, { BM: 64, BN: 64, BK: 64, WARPS: 4, STAGES: 2 }, { BM: 64, BN: 128, BK: 32, WARPS: 8, STAGES: 4 }],
  attention: [{}, { BM: 128, BN: 32, WARPS: 8, STAGES: 3 }, { BM: 64, BN: 128, WARPS: 8, STAGES: 1 }],
  mlp_gate_up: [{}, { BM: 128, BF: 64, BK: 64, WARPS: 8, STAGES: 3 }, { BM: 64, BF: 128, BK: 32, WARPS: 4, STAGES: 2 }],
  mlp_down: [{}, { BM: 128, BN: 64, BK: 64, WARPS: 8, STAGES: 3 }, { BM: 64, BN: 128, BK: 32, WARPS: 8, STAGES: 2 }],
};

const CASES = RAGGED_CASES;

describe('the emitted PTX matches the float64 references in the emulator, sanitizer clean', () => {
  const runs = CASES.flatMap((c, i) =>
    CONFIGS[c.kernel]!.map((config, j) => ({ c, config, seed: SEED + 10 * i + j, name: `${c.kernel} ${JSON.stringify(c.consts)} ${c.shape} ${JSON.stringify(config)}` })),
  );
  it.each(runs)('$name', ({ c, config, seed, name }) => {
    const { ir } = build(c.file, c.kernel, { ...c.consts, ...config });
    const r = compilePtx(ir, 'sm_80');
    expect(r.diagnostics).toEqual([]);
    const { args, reference } = c.make(seed);
    const res = runOnEmulator(r.compiled!, ir, args);
    expect(res.findings.map((f) => `${f.kind} at PTX line ${f.ptxLine}: ${f.message}`)).toEqual([]);
    const o = args.get(c.output) as TensorArg;
    const err = relL2(o.data, reference);
    expect(err, `${name} seed=${seed}`).toBeLessThanOrEqual(c.tolerance);
    if (Object.keys(config).length === 0) expect(res.stats.shared.conflictWavefronts, 'bank conflicts at the default configuration').toBe(0);
  });
});

describe('.loc lines and the span map', () => {
  it("the dot's mma and the store's st.global map back to their .tile lines", () => {
    const { ir, src } = build('gemm.tile', 'gemm', {});
    const r = compilePtx(ir, 'sm_80', src);
    const c = r.compiled!;
    const lines = c.ptx.split('\n');
    const tileLine = (needle: string): number => src.text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    const dotLine = tileLine('acc = dot(');
    const storeLine = tileLine('store(c[');
    // The .loc in force at each mma / st.global instruction.
    const locAt = (i: number): number => {
      for (let j = i; j >= 0; j--) {
        const m = /^\s*\.loc 1 (\d+) \d+/.exec(lines[j]!);
        if (m) return Number(m[1]);
      }
      return -1;
    };
    const mma = lines.findIndex((l) => l.includes('mma.sync'));
    const st = lines.findIndex((l) => l.includes('st.global'));
    expect(locAt(mma)).toBe(dotLine);
    expect(locAt(st)).toBe(storeLine);
    expect(c.ptx).toContain(`.file 1 "${src.path}"`);
    // The span map says the same.
    const ofLine = (line: number) => c.spanMap.filter((e) => src.position(e.span.start).line === line).flatMap((e) => e.lines);
    expect(ofLine(dotLine)).toContain(mma + 1);
    expect(ofLine(storeLine)).toContain(st + 1);
  });
});

describe('configurations over the target limits are rejected before PTX is emitted', () => {
  it('TK4002: more than 1024 threads', () => {
    const src = new SourceText('w.tile', 'kernel k(x: f32[N]) tune { WARPS in [64]; } grid [1] { store(x[0 : 64], zeros([64], f32)); }');
    const r = compilePtx(buildText(src, 'k'), 'sm_80');
    expect(r.diagnostics[0]?.code).toBe('TK4002');
    // Kernel-wide limits point at the kernel's name.
    expect(r.diagnostics[0]?.span.start).toBe(src.text.indexOf('k('));
  });
  it('TK4001: more shared memory than sm_80 allows, accepted on sm_90a', () => {
    const text =
      'kernel k(a: f16[M, K], b: f16[K, N], c: f32[M, N]) tune { WARPS in [8]; } grid [1] { store(c[0 : 256, 0 : 128], dot(load(a[0 : 256, 0 : 256]), load(b[0 : 256, 0 : 128]))); }';
    const ir = buildText(new SourceText('s.tile', text), 'k');
    expect(compilePtx(ir, 'sm_80').diagnostics[0]?.code).toBe('TK4001');
    expect(compilePtx(ir, 'sm_90a').diagnostics).toEqual([]);
  });
  it('TK4003: a construct the backend does not lower yet is a diagnostic, not a crash', () => {
    const src = new SourceText('u.tile', 'kernel k(a: f32[M, K], b: f32[K, N], c: f32[M, N]) tune { WARPS in [4]; } grid [1] { store(c[0 : 64, 0 : 64], dot(load(a[0 : 64, 0 : 32]), load(b[0 : 32, 0 : 64]))); }');
    const r = compilePtx(buildText(src, 'k'), 'sm_80');
    expect(r.diagnostics[0]?.code).toBe('TK4003');
    expect(r.diagnostics[0]?.message).toContain('f32 operands');
  });
});

describe('shared-memory planning', () => {
  it('the cross-warp reductions of attention share one scratch region', () => {
    // BM=64 over 8 warps: 4 warps along rows, 2 along columns, so both row reductions (max and
    // sum) go through shared memory. Tiles: q 8 KB, k and v rings 2 × 8 KB each, P staged for the
    // second dot 8 KB; one 512-byte scratch region (2 warps × 64 rows × 4 bytes) serves both.
    const { ir } = build('attention.tile', 'attention', { BM: 64, BN: 64, WARPS: 8, STAGES: 2 });
    const r = compilePtx(ir, 'sm_80');
    expect(r.compiled!.dynamicSmem).toBe(8192 + 2 * 8192 + 2 * 8192 + 8192 + 512);
  });
});

describe('vectorized global access', () => {
  it('an elementwise kernel loads and stores runs of 4 with one vector access, and stays right at ragged edges', () => {
    const text = 'kernel scale(x: f32[N], y: f32[N], s: f32) tune { B in [512]; WARPS in [4]; } grid [cdiv(N, B)] { let i = program_id(0) * B; store(y[i : B], load(x[i : B]) * s); }';
    const ir = buildText(new SourceText('v.tile', text), 'scale');
    const c = compilePtx(ir, 'sm_80').compiled!;
    expect(c.ptx).toContain('ld.global.v4.f32');
    expect(c.ptx).toContain('st.global.v4.f32');
    for (const n of [1000, 1024, 3]) {
      const rng = makeRng(SEED + n);
      const x: TensorArg = { dtype: 'f32', shape: [n], data: randomTensor(rng, n, 'f32') };
      const y: TensorArg = { dtype: 'f32', shape: [n], data: new Float64Array(n).fill(NaN) };
      const res = runOnEmulator(c, ir, new Map<string, TensorArg | number>([['x', x], ['y', y], ['s', 0.5]]));
      expect(res.findings).toEqual([]);
      expect([...y.data]).toEqual([...x.data].map((v) => Math.fround(v * 0.5)));
      // 16-byte accesses by 32 lanes: 512 bytes, 16 sectors per warp request.
      if (n === 1024) expect(res.stats.global.sectors / res.stats.global.requests).toBeLessThanOrEqual(16);
    }
  });
});
