/**
 * The AMD backend (compiler/hip/):
 * - L2: every shipped kernel, at its default configuration (both MFMA sizes) and two others (f16
 *   and bf16), compiles with clang-19 for gfx942 into an ELF code object; the defaults use no
 *   scratch and spill no VGPRs; gfx90a accepts the default GEMM; a configuration over 64 KiB of
 *   LDS is rejected (TK4001) before clang runs;
 * - L3: the emitted HIP, built for the host and run on real threads (runtime/hip-cpu/), computes
 *   the float64 reference's answer at the ragged shapes the NVIDIA backend is tested at;
 * - the MFMA accumulator layouts against AMD's documented register layouts, written out here;
 * - `#line` directives and the span map point at the `.tile` lines, and so does clang's line table;
 * - the target-limit diagnostics (TK4001, TK4002, TK4003);
 * - `tilekit compile --target gfx942` and `tilekit run --backend hip-cpu`.
 * Tests that run clang skip where it is missing — loudly — unless TILEKIT_REQUIRE_TOOLCHAINS=1.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { compileHip } from '../../compiler/hip/compile-hip.js';
import type { AmdTarget, CompiledHip } from '../../compiler/hip/kernel-abi.js';
import { type MfmaSize, mfmaLayout } from '../../compiler/hip/mfma-layout.js';
import type { TensorArg } from '../../compiler/interpreter.js';
import type { IRKernel } from '../../compiler/ir.js';
import type { BaseTerm, Layout } from '../../compiler/layout.js';
import { buildCodeObject, findClang } from '../../compiler/toolchain/clang.js';
import { SourceText } from '../../dsl/source.js';
import { relL2 } from '../../runtime/compare.js';
import { findClangxx, runOnHipCpu } from '../../runtime/hip-cpu/hip-cpu-backend.js';
import { buildText, kernelPath } from '../support/build.js';
import { cli } from '../support/cli.js';
import { seedFromEnv } from '../support/random.js';
import { SCALE } from '../support/tile-fixtures.js';
import { RAGGED_CASES } from '../support/backend-cases.js';
import { requireTool } from '../support/toolchains.js';

const SEED = seedFromEnv(4242);
const hasClang = requireTool('clang-19', findClang());
/** The HIP CPU harness builds with clang++-19 (the same LLVM 19 install). */
const hasClangxx = requireTool('clang++-19', findClangxx());

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

function source(file: string): SourceText {
  const path = kernelPath(file);
  return new SourceText(path, readFileSync(path, 'utf8'));
}

function build(file: string, kernel: string, overrides: Record<string, string | number | boolean>): { ir: IRKernel; src: SourceText } {
  const src = source(file);
  return { ir: buildText(src, kernel, overrides), src };
}

const FILE_OF: Record<string, string> = { gemm: 'gemm.tile', attention: 'attention.tile', mlp_gate_up: 'mlp.tile', mlp_down: 'mlp.tile' };

/** One configuration (constants and tunables over the kernel's defaults) and the MFMA size. */
interface Variant {
  readonly config: Readonly<Record<string, string | number | boolean>>;
  readonly mfma: MfmaSize;
}

const isDefault = (v: Variant): boolean => Object.keys(v.config).length === 0;
const label = (kernel: string, v: Variant): string => `${kernel} ${JSON.stringify(v.config)} mfma=${v.mfma}`;

// ---------------------------------------------------------------------------------------------
// L2: clang compiles every kernel

/**
 * Per kernel: the default configuration at both MFMA sizes, then two others (valid per the
 * kernel's `tune` block and `require`s, and within 64 KiB of LDS): one bf16 (attention's causal,
 * D=128) at 32×32, one f16 at 16×16.
 */
const L2: Record<string, Variant[]> = {
  gemm: [
    { config: {}, mfma: 16 },
    { config: {}, mfma: 32 },
    { config: { dtype: 'bf16', BM: 64, BN: 64, BK: 64, WARPS: 4, STAGES: 2 }, mfma: 32 },
    { config: { BM: 128, BN: 256, BK: 32, WARPS: 8, STAGES: 3 }, mfma: 16 },
  ],
  attention: [
    { config: {}, mfma: 16 },
    { config: {}, mfma: 32 },
    { config: { dtype: 'bf16', causal: true, D: 128, BM: 128, BN: 32, WARPS: 4, STAGES: 2 }, mfma: 32 },
    { config: { causal: true, BM: 128, BN: 64, WARPS: 8, STAGES: 2 }, mfma: 16 },
  ],
  mlp_gate_up: [
    { config: {}, mfma: 16 },
    { config: {}, mfma: 32 },
    { config: { dtype: 'bf16', BM: 128, BF: 64, BK: 32, WARPS: 8, STAGES: 3 }, mfma: 32 },
    { config: { BM: 64, BF: 128, BK: 32, WARPS: 4, STAGES: 2 }, mfma: 16 },
  ],
  mlp_down: [
    { config: {}, mfma: 16 },
    { config: {}, mfma: 32 },
    { config: { dtype: 'bf16', BM: 128, BN: 64, BK: 64, WARPS: 8, STAGES: 2 }, mfma: 32 },
    { config: { BM: 64, BN: 128, BK: 32, WARPS: 8, STAGES: 3 }, mfma: 16 },
  ],
};

/** Compiles one variant to a code object and checks what every configuration must satisfy. */
async function compileAndCheck(kernel: string, v: Variant, target: AmdTarget): Promise<void> {
  const name = `${label(kernel, v)} on ${target}`;
  const { ir } = build(FILE_OF[kernel]!, kernel, v.config);
  const r = compileHip(ir, target, { mfma: v.mfma });
  expect(r.diagnostics, name).toEqual([]);
  const c = r.compiled!;
  const built = await buildCodeObject(c.source, { arch: target });
  expect([...built.codeObject!.subarray(0, 4)], `${name}: the code object is an ELF file`).toEqual(ELF_MAGIC);
  const rep = built.report.find((x) => x.kernel === c.entry);
  expect(rep, `${name}: clang reports kernel '${c.entry}'`).toBeDefined();
  expect(rep!.arch).toMatch(new RegExp(`^${target}`));
  // LDS is static (TK_LDS): clang sees, and reports, exactly what the backend planned.
  expect(rep!.ldsBytes, `${name}: LDS`).toBe(c.ldsBytes);
  expect(rep!.maxFlatWorkgroupSize, `${name}: launch bounds`).toBe(c.threads);
  expect(rep!.vgprs).toBeGreaterThan(0);
  if (isDefault(v)) {
    expect(rep!.scratchBytes, `${name}: the default configuration uses scratch`).toBe(0);
    expect(rep!.vgprSpills, `${name}: the default configuration spills VGPRs`).toBe(0);
  }
}

describe.skipIf(!hasClang)('clang compiles the HIP of every kernel for gfx942', () => {
  for (const [kernel, variants] of Object.entries(L2)) {
    it(`${kernel}: the default (mfma 16 and 32, no scratch, no spills) and two other configurations (f16, bf16) give ELF code objects`, async () => {
      // One compile at a time: buildCodeObject already runs two clang processes (assembly and
      // code object) at once, and this machine has two cores.
      for (const v of variants) await compileAndCheck(kernel, v, 'gfx942');
    }, 120_000);
  }

  it('gfx90a accepts the default GEMM', async () => {
    await compileAndCheck('gemm', { config: {}, mfma: 16 }, 'gfx90a');
  }, 60_000);
});

describe('a configuration over the 64 KiB of LDS is rejected before clang runs', () => {
  it('TK4001: attention at D=128 with BM=64, BN=128 needs ~100 KB of LDS', () => {
    const { ir } = build('attention.tile', 'attention', { D: 128, BM: 64, BN: 128, WARPS: 4, STAGES: 1 });
    for (const target of ['gfx942', 'gfx90a'] as const) {
      const r = compileHip(ir, target);
      expect(r.compiled).toBeUndefined();
      expect(r.diagnostics.map((d) => d.code)).toEqual(['TK4001']);
      expect(r.diagnostics[0]!.message).toMatch(new RegExp(`needs \\d+ bytes of LDS per workgroup; ${target} allows 65536`));
      expect(Number(/needs (\d+) bytes/.exec(r.diagnostics[0]!.message)![1])).toBeGreaterThan(65536);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// L3: numerics in the HIP CPU harness

/** The same ragged shapes as the NVIDIA backend's tests. */
const CASES = RAGGED_CASES;

/**
 * The default first (16×16 MFMA), then others at 32×32 and 16×16. Each distinct (kernel, constants,
 * configuration, MFMA) is one host build (~2–3 s): gemm 2 dtypes × 3, attention 4 constant sets × 3,
 * each MLP kernel 2 × 2 — 26 builds; the two GEMM shapes per dtype reuse theirs (the harness caches
 * by source).
 */
const RUN_CONFIGS: Record<string, Variant[]> = {
  gemm: [
    { config: {}, mfma: 16 },
    { config: { BM: 64, BN: 64, BK: 64, WARPS: 4, STAGES: 2 }, mfma: 32 },
    { config: { BM: 64, BN: 128, BK: 32, WARPS: 8, STAGES: 4 }, mfma: 16 },
  ],
  attention: [
    { config: {}, mfma: 16 },
    { config: { BM: 128, BN: 32, WARPS: 4, STAGES: 2 }, mfma: 32 },
    { config: { BM: 64, BN: 32, WARPS: 8, STAGES: 3 }, mfma: 16 },
  ],
  mlp_gate_up: [
    { config: {}, mfma: 16 },
    { config: { BM: 128, BF: 64, BK: 32, WARPS: 8, STAGES: 3 }, mfma: 32 },
  ],
  mlp_down: [
    { config: {}, mfma: 16 },
    { config: { BM: 64, BN: 128, BK: 32, WARPS: 8, STAGES: 3 }, mfma: 32 },
  ],
};

describe.skipIf(!hasClangxx)('the emitted HIP matches the float64 references on the HIP CPU harness', () => {
  const runs = CASES.flatMap((c, i) =>
    RUN_CONFIGS[c.kernel]!.map((v, j) => ({
      c,
      v,
      seed: SEED + 10 * i + j,
      name: `${c.kernel} ${JSON.stringify(c.consts)} ${c.shape} ${JSON.stringify(v.config)} mfma=${v.mfma}`,
    })),
  );
  it.each(runs)(
    '$name',
    async ({ c, v, seed, name }) => {
      const where = `${name} seed=${seed} (TILEKIT_SEED=${SEED} replays the run)`;
      const { ir } = build(c.file, c.kernel, { ...c.consts, ...v.config });
      const r = compileHip(ir, 'gfx942', { mfma: v.mfma });
      expect(r.diagnostics, where).toEqual([]);
      const { args, reference } = c.make(seed);
      try {
        await runOnHipCpu(r.compiled!, ir, args);
      } catch (e) {
        throw new Error(`${where}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      const o = args.get(c.output) as TensorArg;
      // Outputs start as NaN: an element the kernel never writes stays NaN.
      const unwritten = [...o.data].filter((x) => Number.isNaN(x)).length;
      expect(unwritten, `${where}: ${unwritten} of ${o.data.length} output elements are NaN`).toBe(0);
      expect(relL2(o.data, reference), `${where}: relative L2 error`).toBeLessThanOrEqual(c.tolerance);
    },
    120_000,
  );
});

// ---------------------------------------------------------------------------------------------
// MFMA accumulator layouts (pure)

/**
 * AMD's documented accumulator layouts (CDNA3 ISA, "Matrix fused multiply-add"; AMD's matrix
 * instruction calculator), wave64: the [row, col] of the size × size fragment that accumulator
 * register r of lane l holds.
 * - v_mfma_f32_32x32x8f16 / v_mfma_f32_32x32x8bf16_1k: 16 registers, C[8·⌊r/4⌋ + 4·⌊l/32⌋ + r mod 4][l mod 32];
 * - v_mfma_f32_16x16x16f16 / v_mfma_f32_16x16x16bf16_1k: 4 registers, C[4·⌊l/16⌋ + r][l mod 16].
 */
function documented(size: MfmaSize, r: number, l: number): [number, number] {
  if (size === 32) return [8 * Math.floor(r / 4) + 4 * Math.floor(l / 32) + (r % 4), l % 32];
  return [4 * Math.floor(l / 16) + r, l % 16];
}
const REGS: Record<MfmaSize, number> = { 32: 16, 16: 4 };

/** base[axis] of thread `tid`: the sum of its bit fields (lane = tid mod 64, warp = tid / 64), scaled. */
function baseOf(terms: readonly BaseTerm[], tid: number): number {
  const lane = tid % 64;
  const warp = Math.floor(tid / 64);
  return terms.reduce((s, t) => s + (((t.from === 'lane' ? lane : warp) >> t.shift) & ((1 << t.bits) - 1)) * t.scale, 0);
}

function elementOf(l: Layout, tid: number, reg: number): [number, number] {
  return [baseOf(l.base[0]!, tid) + l.offsets[0]![reg]!, baseOf(l.base[1]!, tid) + l.offsets[1]![reg]!];
}

/** The wave grids (wm × wn = waves, powers of two) whose sub-tiles are whole fragments. */
function grids(M: number, N: number, waves: number, size: number): { wm: number; wn: number }[] {
  const out: { wm: number; wn: number }[] = [];
  for (let wm = 1; wm <= waves; wm *= 2) {
    const wn = waves / wm;
    if (M % (size * wm) === 0 && N % (size * wn) === 0) out.push({ wm, wn });
  }
  return out;
}

describe('MFMA accumulator layouts follow AMD’s documented register layouts', () => {
  const shapes: [number, number, number, MfmaSize][] = [
    [32, 32, 1, 32],
    [64, 64, 4, 32],
    [128, 128, 8, 32],
    [128, 64, 4, 32],
    [64, 256, 8, 32],
    [16, 16, 1, 16],
    [16, 64, 4, 16],
    [64, 64, 4, 16],
    [128, 128, 8, 16],
    [64, 32, 8, 16],
  ];
  it.each(shapes)('[%i, %i] over %i waves, MFMA size %i', (M, N, waves, size) => {
    const l = mfmaLayout(M, N, waves, size);
    expect(l).toBeDefined();
    const layout = l!;
    expect(layout.shape).toEqual([M, N]);
    const g = layout.mma!;
    expect(g).toMatchObject({ M, N, mfma: size });
    // The wave grid: one that fits, and the most square sub-tile among those that do.
    expect(grids(M, N, waves, size)).toContainEqual({ wm: g.wm, wn: g.wn });
    const skew = (wm: number, wn: number): number => Math.abs(Math.log2(M / wm / (N / wn)));
    const best = Math.min(...grids(M, N, waves, size).map(({ wm, wn }) => skew(wm, wn)));
    expect(skew(g.wm, g.wn)).toBe(best);
    const [subM, subN] = [M / g.wm, N / g.wn];
    expect([g.mt, g.nt]).toEqual([subM / size, subN / size]);
    const per = REGS[size];
    expect(layout.nregs).toBe(g.mt * g.nt * per);
    expect(layout.nregs * waves * 64).toBe(M * N);

    const held = new Int32Array(M * N);
    const origins = new Set<string>();
    for (let w = 0; w < waves; w++) {
      // The wave's sub-tile starts where its lane 0 holds register 0 (documented: C[0][0]).
      const [r0, c0] = elementOf(layout, w * 64, 0);
      expect(r0 % subM, `wave ${w}: sub-tile row`).toBe(0);
      expect(c0 % subN, `wave ${w}: sub-tile column`).toBe(0);
      origins.add(`${r0},${c0}`);
      for (let lane = 0; lane < 64; lane++) {
        const tid = w * 64 + lane;
        for (let mi = 0; mi < g.mt; mi++) {
          for (let ni = 0; ni < g.nt; ni++) {
            for (let r = 0; r < per; r++) {
              const reg = (mi * g.nt + ni) * per + r;
              const [dr, dc] = documented(size, r, lane);
              const got = elementOf(layout, tid, reg);
              const want = [r0 + mi * size + dr, c0 + ni * size + dc];
              if (got[0] !== want[0] || got[1] !== want[1]) {
                expect(got, `wave ${w} lane ${lane} fragment (${mi}, ${ni}) register ${r}`).toEqual(want);
              }
              held[got[0] * N + got[1]]!++;
            }
          }
        }
      }
    }
    // Every wave has its own sub-tile, and every element is held exactly once (no replication).
    expect(origins.size).toBe(waves);
    const counts = new Set(held);
    expect([...counts]).toEqual([1]);
  });

  it('the wave grid is the most square: 128×128 over 8 waves gives sub-tiles of 32×64 or 64×32', () => {
    for (const size of [16, 32] as const) {
      const g = mfmaLayout(128, 128, 8, size)!.mma!;
      expect(['4x2', '2x4']).toContain(`${g.wm}x${g.wn}`);
      expect([128 / g.wm, 128 / g.wn].sort((a, b) => a - b)).toEqual([32, 64]);
    }
    // 64×64 over 4 waves: 2×2 sub-tiles of 32×32, not a 4×1 strip.
    expect(mfmaLayout(64, 64, 4, 16)!.mma).toMatchObject({ wm: 2, wn: 2 });
    // 16 rows over 4 waves of 16×16 fragments: the waves go along N.
    expect(mfmaLayout(16, 64, 4, 16)!.mma).toMatchObject({ wm: 1, wn: 4, mt: 1, nt: 1 });
  });

  it('is undefined when the tile does not split into whole fragments over the waves', () => {
    expect(mfmaLayout(16, 64, 1, 32)).toBeUndefined(); // 16 rows: no 32-row fragment
    expect(mfmaLayout(32, 16, 1, 32)).toBeUndefined(); // 16 columns
    expect(mfmaLayout(64, 64, 8, 32)).toBeUndefined(); // 4 fragments for 8 waves
    expect(mfmaLayout(16, 16, 4, 16)).toBeUndefined(); // 1 fragment for 4 waves
    expect(mfmaLayout(16, 64, 1, 16)).toBeDefined();
  });
});

// ---------------------------------------------------------------------------------------------
// #line, the span map and clang's line table

describe('#line directives and the span map', () => {
  const { ir, src } = build('gemm.tile', 'gemm', {});
  const tileLines = src.text.split('\n');
  const tileLine = (needle: string): number => tileLines.findIndex((l) => l.includes(needle)) + 1;
  const dotLine = tileLine('acc = dot(');
  const storeLine = tileLine('store(c[');

  function compiled(): CompiledHip {
    const r = compileHip(ir, 'gfx942', { mfma: 16, source: src });
    expect(r.diagnostics).toEqual([]);
    return r.compiled!;
  }

  /**
   * The .tile line and file the preprocessor assigns to physical line `i` (0-based): after
   * `#line N "f"`, the next physical line is N, the one after it N + 1, and so on.
   */
  function effectiveLine(lines: readonly string[], i: number): { line: number; file: string } | undefined {
    for (let j = i - 1; j >= 0; j--) {
      const m = /^#line (\d+) "(.*)"\s*$/.exec(lines[j]!);
      if (m) return { line: Number(m[1]) + (i - j - 1), file: m[2]! };
    }
    return undefined;
  }

  it("the dot's MFMA calls and the store's global writes sit under #line directives naming their .tile lines", () => {
    const c = compiled();
    const lines = c.source.split('\n');
    expect(dotLine).toBeGreaterThan(0);
    expect(storeLine).toBeGreaterThan(0);
    // Calls, not the prelude's definitions (`TK_DEVICE tk_float4 tk_mfma_16x16x16_f16(…)`).
    const mfma = lines.flatMap((l, i) => (/=\s*tk_mfma_\w+\(/.test(l) ? [i] : []));
    const stores = lines.flatMap((l, i) => (/\bp_c\[[^;]*\]\s*=[^=]/.test(l) ? [i] : []));
    expect(mfma.length).toBeGreaterThan(0);
    expect(stores.length).toBeGreaterThan(0);
    for (const i of mfma) expect(effectiveLine(lines, i), `.hip line ${i + 1}: ${lines[i]!.trim()}`).toEqual({ line: dotLine, file: src.path });
    for (const i of stores) expect(effectiveLine(lines, i), `.hip line ${i + 1}: ${lines[i]!.trim()}`).toEqual({ line: storeLine, file: src.path });

    // The span map says the same: spans starting on those .tile lines list those .hip lines (1-based).
    const ofLine = (line: number): number[] => c.spanMap.filter((e) => src.position(e.span.start).line === line).flatMap((e) => e.lines);
    for (const i of mfma) expect(ofLine(dotLine), `span map: .hip line ${i + 1} (${lines[i]!.trim()})`).toContain(i + 1);
    for (const i of stores) expect(ofLine(storeLine), `span map: .hip line ${i + 1} (${lines[i]!.trim()})`).toContain(i + 1);
    // Every line the span map names is a line of the kernel body under the span's own .tile line.
    for (const e of c.spanMap) {
      const want = src.position(e.span.start).line;
      for (const n of e.lines) expect(effectiveLine(lines, n - 1)?.line, `span map: .hip line ${n} (${lines[n - 1]?.trim()})`).toBe(want);
    }
  });

  /**
   * Without -g clang emits no line table at all (no `.loc`, no `.file`), so this compiles with
   * `-gline-tables-only`, the flag a profiler build would use, and reads the line table from the
   * assembly.
   */
  it.skipIf(!hasClang)("clang's line table agrees: LDS operand reads at the dot's line, global stores at the store's", async () => {
    const c = compiled();
    const built = await buildCodeObject(c.source, { arch: 'gfx942', emit: ['assembly'], extraArgs: ['-gline-tables-only'] });
    const asm = built.assembly!.split('\n');
    // `.file 1 "kernels" "gemm.tile"` (directory, name) or `.file 1 "/…/gemm.tile"`.
    const files = new Map<number, string>();
    for (const l of asm) {
      const m = /^\s*\.file\s+(\d+)\s+"([^"]*)"(?:\s+"([^"]*)")?/.exec(l);
      if (m) files.set(Number(m[1]), m[3] !== undefined ? `${m[2]}/${m[3]}` : m[2]!);
    }
    const tileFile = [...files].find(([, p]) => p.endsWith('kernels/gemm.tile'))?.[0];
    expect(tileFile, `no .file names gemm.tile: ${JSON.stringify([...files])}`).toBeDefined();

    // The .loc in force at each instruction.
    let loc: [number, number] = [-1, -1];
    const at: { op: string; file: number; line: number }[] = [];
    for (const l of asm) {
      const m = /^\s*\.loc\s+(\d+)\s+(\d+)/.exec(l);
      if (m) loc = [Number(m[1]), Number(m[2])];
      else if (/^\s+[a-z_][a-z0-9_]*\s/.test(l) && !/^\s+\./.test(l)) at.push({ op: l.trim().split(/\s+/)[0]!, file: loc[0], line: loc[1] });
    }
    const storesAt = at.filter((x) => x.op.startsWith('global_store'));
    const ldsReads = at.filter((x) => x.op.startsWith('ds_read'));
    expect(storesAt.length).toBeGreaterThan(0);
    expect(ldsReads.length).toBeGreaterThan(0);
    for (const x of storesAt) expect([x.file, x.line], x.op).toEqual([tileFile, storeLine]);
    for (const x of ldsReads) expect([x.file, x.line], x.op).toEqual([tileFile, dotLine]);
    // The prelude's helpers are `nodebug`, so their inlined code (the MFMA itself) takes the
    // caller's line: the dot's.
    const mfma = at.filter((x) => x.op.startsWith('v_mfma'));
    expect(mfma.length).toBeGreaterThan(0);
    for (const x of mfma) expect([x.file, x.line], x.op).toEqual([tileFile, dotLine]);
    // Every .tile line in the line table is one the #line directives named.
    const named = new Set(c.source.split('\n').flatMap((l) => /^#line (\d+) /.exec(l)?.[1] ?? []).map(Number));
    for (const x of at) if (x.file === tileFile && x.line !== 0) expect(named, `${x.op} at gemm.tile:${x.line}`).toContain(x.line);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Diagnostics on the AMD target

describe('configurations over the AMD target limits are rejected before HIP is emitted', () => {
  it('TK4002: WARPS=32 is 2048 threads of 64-lane wavefronts, over 1024', () => {
    const src = new SourceText('w.tile', 'kernel k(x: f32[N]) tune { WARPS in [32]; } grid [1] { store(x[0 : 64], zeros([64], f32)); }');
    const r = compileHip(buildText(src, 'k'), 'gfx942');
    expect(r.compiled).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['TK4002']);
    expect(r.diagnostics[0]!.message).toContain('2048 threads');
    expect(r.diagnostics[0]!.message).toContain('allows 1024');
    // Kernel-wide limits point at the kernel's name.
    expect(r.diagnostics[0]!.span.start).toBe(src.text.indexOf('k('));
    // 16 wavefronts (1024 threads) are allowed.
    const ok = new SourceText('w.tile', 'kernel k(x: f32[N]) tune { WARPS in [16]; } grid [1] { store(x[0 : 64], zeros([64], f32)); }');
    expect(compileHip(buildText(ok, 'k'), 'gfx942').diagnostics).toEqual([]);
  });

  it('TK4001: a dot of a [256, 256] f16 tile needs more than 65,536 bytes of LDS', () => {
    const text =
      'kernel k(a: f16[M, K], b: f16[K, N], c: f32[M, N]) tune { WARPS in [8]; } grid [1] { store(c[0 : 256, 0 : 128], dot(load(a[0 : 256, 0 : 256]), load(b[0 : 256, 0 : 128]))); }';
    const ir = buildText(new SourceText('s.tile', text), 'k');
    for (const target of ['gfx942', 'gfx90a'] as const) {
      const r = compileHip(ir, target);
      expect(r.compiled).toBeUndefined();
      expect(r.diagnostics.map((d) => d.code)).toEqual(['TK4001']);
      expect(r.diagnostics[0]!.message).toMatch(new RegExp(`needs \\d+ bytes of LDS per workgroup; ${target} allows 65536`));
      // At least the [256, 256] f16 operand itself.
      expect(Number(/needs (\d+) bytes/.exec(r.diagnostics[0]!.message)![1])).toBeGreaterThanOrEqual(256 * 256 * 2);
    }
  });

  it('TK4003: a dot of f32 operands is a diagnostic naming the reason, not a crash', () => {
    const src = new SourceText('u.tile', 'kernel k(a: f32[M, K], b: f32[K, N], c: f32[M, N]) tune { WARPS in [4]; } grid [1] { store(c[0 : 64, 0 : 64], dot(load(a[0 : 64, 0 : 32]), load(b[0 : 32, 0 : 64]))); }');
    const r = compileHip(buildText(src, 'k'), 'gfx942');
    expect(r.compiled).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['TK4003']);
    expect(r.diagnostics[0]!.message).toContain('f32 operands');
  });

  it('TK4003: a 16-row dot result does not fit 32×32 MFMA tiles (it does fit 16×16)', () => {
    const src = new SourceText(
      'm.tile',
      'kernel k(a: f16[M, K], b: f16[K, N], c: f32[M, N]) tune { WARPS in [1]; } grid [1] { store(c[0 : 16, 0 : 64], dot(load(a[0 : 16, 0 : 32]), load(b[0 : 32, 0 : 64]))); }',
    );
    const ir = buildText(src, 'k');
    const r = compileHip(ir, 'gfx942', { mfma: 32 });
    expect(r.compiled).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['TK4003']);
    // The reason: the MFMA shape, not the tile's sizes (16 and 64 are powers of two).
    expect(r.diagnostics[0]!.message).toContain('does not fit 32×32 MFMA');
    expect(r.diagnostics[0]!.message).not.toContain('powers of two');
    expect(compileHip(ir, 'gfx942', { mfma: 16 }).diagnostics).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI

describe('tilekit compile --target gfx942 and tilekit run --backend hip-cpu', () => {
  let dir: string;
  const path = (name: string): string => join(dir, name);
  const gemm = kernelPath('gemm.tile');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tilekit-hip-cli-'));
    await writeFile(path('scale.tile'), SCALE);
    // 1000 elements: a ragged last block for B=128 and B=256.
    const x = Array.from({ length: 1000 }, (_, i) => (((i * 37 + 11) % 199) - 99) * 0.0625);
    await writeFile(path('scale-args.json'), JSON.stringify({ args: { x: { dtype: 'f32', shape: [1000], data: x }, y: { dtype: 'f32', shape: [1000] }, s: 0.375 } }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.skipIf(!hasClang)('writes .hip, .hsaco, .s and .json and prints VGPRs, AGPRs, LDS and occupancy', async () => {
    const out = path('out-gemm');
    const r = await cli('compile', gemm, '--target', 'gfx942', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['gemm.gfx942.hip', 'gemm.gfx942.hsaco', 'gemm.gfx942.json', 'gemm.gfx942.s']);
    expect(r.out).toMatch(
      /^gemm \[[^\]]*\] for gfx942: \d+ VGPRs? \+ \d+ AGPRs?, \d+ SGPRs?, (no scratch|scratch \d+ bytes\/lane \(\d+ VGPR spills\)), LDS \d+ bytes, occupancy \d+ waves\/SIMD, 512 threads; clang \d+ ms$/m,
    );
    const hsaco = await readFile(join(out, 'gemm.gfx942.hsaco'));
    expect([...hsaco.subarray(0, 4)]).toEqual(ELF_MAGIC);
    const asm = await readFile(join(out, 'gemm.gfx942.s'), 'utf8');
    expect(asm).toContain('amdgcn-amd-amdhsa--gfx942');
    expect(asm).toContain('v_mfma_f32_16x16x16');
    const hip = await readFile(join(out, 'gemm.gfx942.hip'), 'utf8');
    expect(hip).toContain(`#line ${readFileSync(gemm, 'utf8').split('\n').findIndex((l) => l.includes('acc = dot(')) + 1} "`);
    const json = JSON.parse(await readFile(join(out, 'gemm.gfx942.json'), 'utf8'));
    expect(json).toMatchObject({ kernel: 'gemm', target: 'gfx942', entry: 'gemm', mfma: 16, threads: 512, config: { BM: 128, BN: 128, WARPS: 8 } });
    expect(json).not.toHaveProperty('source');
    expect(json.resources).toMatchObject({ kernel: 'gemm', scratchBytes: 0, vgprSpills: 0, ldsBytes: json.ldsBytes });
    expect(Array.isArray(json.params)).toBe(true);
    expect(Array.isArray(json.spanMap)).toBe(true);
  }, 60_000);

  it.skipIf(!hasClang)('--mfma 32 uses 32×32×8 MFMA', async () => {
    const out = path('out-gemm32');
    const r = await cli('compile', gemm, '--target', 'gfx942', '--mfma', '32', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'gemm.gfx942.json'), 'utf8')).mfma).toBe(32);
    expect(await readFile(join(out, 'gemm.gfx942.s'), 'utf8')).toContain('v_mfma_f32_32x32x8');
    expect(await readFile(join(out, 'gemm.gfx942.hip'), 'utf8')).toMatch(/=\s*tk_mfma_32x32x8_f16\(/);
  }, 60_000);

  it('--mfma 8 exits 2; --mfma with an NVIDIA target exits 2', async () => {
    const bad = await cli('compile', gemm, '--target', 'gfx942', '--mfma', '8', '--no-assemble', '-o', path('o-bad'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--mfma: expected 16 (16x16x16 MFMA) or 32 (32x32x8 MFMA), got '8'");
    const nv = await cli('compile', gemm, '--target', 'sm_80', '--mfma', '16', '--no-assemble', '-o', path('o-nv'));
    expect(nv.code).toBe(2);
    expect(nv.err).toContain('--mfma applies to AMD targets');
  });

  it('--no-assemble writes only the .hip (clang is not needed)', async () => {
    vi.stubEnv('TILEKIT_CLANG', path('no-such-clang'));
    const out = path('out-noasm');
    const r = await cli('compile', gemm, '--target', 'gfx942', '--no-assemble', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(await readdir(out)).toEqual(['gemm.gfx942.hip']);
    expect(r.out).toContain(join(out, 'gemm.gfx942.hip'));
  });

  it.skipIf(!hasClangxx).each(['128', '256'])(
    'run --backend hip-cpu: scale B=%s at N=1000 writes the interpreter’s outputs',
    async (B) => {
      const oi = path(`interp-${B}.json`);
      const oh = path(`hip-${B}.json`);
      const ri = await cli('run', path('scale.tile'), '--config', `B=${B}`, '--backend', 'interpret', '--args', path('scale-args.json'), '--out', oi);
      expect(ri.code, ri.err).toBe(0);
      const rh = await cli('run', path('scale.tile'), '--config', `B=${B}`, '--backend', 'hip-cpu', '--args', path('scale-args.json'), '--out', oh);
      expect(rh.code, rh.err).toBe(0);
      expect(rh.out).toMatch(new RegExp(`^scale \\[B=${B},WARPS=4\\]: grid \\[${B === '128' ? 8 : 4}\\] ran on hip-cpu \\(gfx942\\) in [\\d.]+ ms; wrote `));
      type Out = { outputs: Record<string, { dtype: string; shape: number[]; data: (number | string)[] }>; backend: string; target?: string };
      const interp = JSON.parse(await readFile(oi, 'utf8')) as Out;
      const hip = JSON.parse(await readFile(oh, 'utf8')) as Out;
      expect(hip).toMatchObject({ backend: 'hip-cpu', target: 'gfx942' });
      expect(Object.keys(hip.outputs).sort()).toEqual(Object.keys(interp.outputs).sort());
      for (const [name, t] of Object.entries(interp.outputs)) {
        const h = hip.outputs[name]!;
        expect([h.dtype, h.shape]).toEqual([t.dtype, t.shape]);
        expect(h.data.every((v) => typeof v === 'number')).toBe(true);
        // y = x · s rounds once to f32 on both backends.
        expect(relL2(h.data as number[], t.data as number[]), name).toBeLessThanOrEqual(1e-7);
      }
    },
    120_000,
  );

  it('run: --target sm_80 with --backend hip-cpu exits 2', async () => {
    const r = await cli('run', path('scale.tile'), '--backend', 'hip-cpu', '--target', 'sm_80', '--args', path('scale-args.json'), '--out', path('x.json'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--target sm_80 does not fit --backend hip-cpu');
  });
});
