/**
 * runtime/emulate-backend.ts: the kernel ABI (compiler/ptx/kernel-abi.ts) turned into emulator
 * arguments and back. The first part runs hand-written PTX that follows the ABI, so it checks the
 * launcher on its own; the second runs PTX from compilePtx against the interpreter; the last runs
 * `tilekit run --backend emulate` on deliberately broken PTX to see findings exit 3.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CliIO } from '../../cli/tilekit.js';
import { buildKernelIR } from '../../compiler/compile.js';
import { interpret, type KernelArgs, type TensorArg } from '../../compiler/interpreter.js';
import type { IRKernel } from '../../compiler/ir.js';
import type { AbiParam } from '../../compiler/kernel-abi.js';
import type { CompiledPtx, NvidiaTarget } from '../../compiler/ptx/kernel-abi.js';
import { SourceText } from '../../dsl/source.js';
import { parseArgs } from '../../runtime/args.js';
import { AbiArgsError } from '../../runtime/abi-args.js';
import { runOnEmulator } from '../../runtime/emulate-backend.js';
import { ADD2, SCALE } from '../support/tile-fixtures.js';

// ---------------------------------------------------------------------------------------------
// Kernels and helpers


/** The ABI's parameter order: tensors, then shape symbols, then strides, then scalars. */
const PROBE = `kernel probe(a: f16[M, N], b: bool[K, M], o: i64[8], s: i32) grid [1] {
  store(o[0 : 8], load(o[0 : 8]));
}
`;

const BYTES = `kernel bytes(x: f8e4m3[N], y: f8e4m3[N], p: bool[N], q: bool[N]) grid [cdiv(N, 128)] {
  let i = program_id(0) * 128;
  store(y[i : 128], load(x[i : 128]));
  store(q[i : 128], load(p[i : 128]));
}
`;

function build(text: string, config: Record<string, string> = {}): IRKernel {
  const { ir, diagnostics } = buildKernelIR(new SourceText('k.tile', text), undefined, new Map(Object.entries(config)));
  if (!ir) throw new Error(`kernel does not build: ${JSON.stringify(diagnostics)}`);
  return ir;
}

/** KernelArgs from ARGS.json-style values, exactly as `tilekit run` reads them. */
function argsFor(ir: IRKernel, json: Record<string, unknown>): KernelArgs {
  const parsed = parseArgs({ args: json }, ir.params);
  if (!parsed.args) throw new Error(parsed.errors.join('\n'));
  return parsed.args;
}

function tensor(args: KernelArgs, name: string): TensorArg {
  const t = args.get(name);
  if (t === undefined || typeof t === 'number') throw new Error(`no tensor ${name}`);
  return t;
}

/** Deterministic values that are exact in f16 (and so in f32), with a sign mix. */
const values = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => (((i * 37 + seed * 11) % 199) - 99) * 0.0625);

const HEAD = (target: NvidiaTarget): string => `.version 8.0\n.target ${target}\n.address_size 64\n`;

const SCALE_PARAMS: AbiParam[] = [
  { kind: 'tensor', name: 'x', tensor: 'x', dtype: 'f32' },
  { kind: 'tensor', name: 'y', tensor: 'y', dtype: 'f32' },
  { kind: 'dim', name: 'N', dim: 'N' },
  { kind: 'scalar', name: 's', dtype: 'f32' },
];

/**
 * `scale` by hand: thread t of program p handles element p*B + t (one per thread: B must equal
 * the block). `guarded: false` drops the bounds check, so the ragged last block reads and writes
 * past the ends of x and y.
 */
function scalePtx(B: number, guarded = true): CompiledPtx {
  const ptx = `${HEAD('sm_80')}.visible .entry scale(.param .u64 x, .param .u64 y, .param .u32 N, .param .f32 s)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .f32 %f<4>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [x];
  ld.param.u64 %rd2, [y];
  ld.param.u32 %r1, [N];
  ld.param.f32 %f1, [s];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, ${B}, %r4;
${guarded ? '  setp.ge.u32 %p1, %r5, %r1;\n  @%p1 bra $L_end;' : ''}
  cvta.to.global.u64 %rd3, %rd1;
  cvta.to.global.u64 %rd4, %rd2;
  mul.wide.u32 %rd5, %r5, 4;
  add.s64 %rd6, %rd3, %rd5;
  add.s64 %rd7, %rd4, %rd5;
  ld.global.f32 %f2, [%rd6];
  mul.rn.f32 %f3, %f2, %f1;
  st.global.f32 [%rd7], %f3;
$L_end:
  ret;
}
`;
  return { target: 'sm_80', entry: 'scale', ptx, params: SCALE_PARAMS, threads: B, dynamicSmem: 0, spanMap: [] };
}

// ---------------------------------------------------------------------------------------------
// Hand-written PTX: the launcher alone

describe('runOnEmulator on hand-written PTX', () => {
  it('passes tensors, shape symbols and scalars in ABI order and copies results back (equal to the interpreter)', () => {
    const ir = build(SCALE, { B: '128' });
    const json = { x: { dtype: 'f32', shape: [1000], data: values(1000, 1) }, y: { dtype: 'f32', shape: [1000] }, s: 0.7 };
    const emu = argsFor(ir, json);
    const ref = argsFor(ir, json);
    const run = runOnEmulator(scalePtx(128), ir, emu);
    interpret(ir, ref);
    expect(run.findings).toEqual([]);
    expect(run.grid).toEqual([8]);
    expect(run.stats.threadInstructions).toBeGreaterThan(0);
    expect(Array.from(tensor(emu, 'y').data)).toEqual(Array.from(tensor(ref, 'y').data));
    expect(Array.from(tensor(emu, 'x').data)).toEqual(Array.from(tensor(ref, 'x').data));
  });

  it('dims come from the first tensor that names them, strides are row-major in elements, i32 scalars keep their sign', () => {
    const ir = build(PROBE);
    const ptx = `${HEAD('sm_80')}.visible .entry probe(.param .u64 a, .param .u64 b, .param .u64 o, .param .u32 M, .param .u32 N, .param .u32 K,
    .param .u64 a_stride0, .param .u64 b_stride0, .param .s32 s)
{
  .reg .pred %p<2>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<10>;
  mov.u32 %r1, %tid.x;
  setp.ne.u32 %p1, %r1, 0;
  @%p1 bra $L_end;
  ld.param.u64 %rd1, [o];
  cvta.to.global.u64 %rd1, %rd1;
  ld.param.u32 %r2, [M];
  cvt.u64.u32 %rd2, %r2;
  st.global.u64 [%rd1], %rd2;
  ld.param.u32 %r3, [N];
  cvt.u64.u32 %rd3, %r3;
  st.global.u64 [%rd1+8], %rd3;
  ld.param.u32 %r4, [K];
  cvt.u64.u32 %rd4, %r4;
  st.global.u64 [%rd1+16], %rd4;
  ld.param.u64 %rd5, [a_stride0];
  st.global.u64 [%rd1+24], %rd5;
  ld.param.u64 %rd6, [b_stride0];
  st.global.u64 [%rd1+32], %rd6;
  ld.param.s32 %r5, [s];
  cvt.s64.s32 %rd7, %r5;
  st.global.u64 [%rd1+40], %rd7;
$L_end:
  ret;
}
`;
    const params: AbiParam[] = [
      { kind: 'tensor', name: 'a', tensor: 'a', dtype: 'f16' },
      { kind: 'tensor', name: 'b', tensor: 'b', dtype: 'bool' },
      { kind: 'tensor', name: 'o', tensor: 'o', dtype: 'i64' },
      { kind: 'dim', name: 'M', dim: 'M' },
      { kind: 'dim', name: 'N', dim: 'N' },
      { kind: 'dim', name: 'K', dim: 'K' },
      { kind: 'stride', name: 'a_stride0', tensor: 'a', axis: 0 },
      { kind: 'stride', name: 'b_stride0', tensor: 'b', axis: 0 },
      { kind: 'scalar', name: 's', dtype: 'i32' },
    ];
    const args = argsFor(ir, {
      a: { dtype: 'f16', shape: [3, 5], data: values(15, 2) },
      b: { dtype: 'bool', shape: [7, 3], data: Array.from({ length: 21 }, (_, i) => i % 3 === 0) },
      o: { dtype: 'i64', shape: [8], data: [0, 0, 0, 0, 0, 0, 11, 12] },
      s: -7,
    });
    const run = runOnEmulator({ target: 'sm_80', entry: 'probe', ptx, params, threads: 32, dynamicSmem: 0, spanMap: [] }, ir, args);
    expect(run.findings).toEqual([]);
    expect(Array.from(tensor(args, 'o').data)).toEqual([3, 5, 7, 5, 3, -7, 11, 12]);
  });

  it('bool and fp8 tensors travel as bytes and come back as exact values, NaN included', () => {
    const ir = build(BYTES);
    const ptx = `${HEAD('sm_80')}.visible .entry bytes(.param .u64 x, .param .u64 y, .param .u64 p, .param .u64 q, .param .u32 N)
{
  .reg .pred %p<2>;
  .reg .b16 %h<3>;
  .reg .b32 %r<6>;
  .reg .b64 %rd<12>;
  ld.param.u32 %r1, [N];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %tid.x;
  mad.lo.s32 %r4, %r2, 128, %r3;
  setp.ge.u32 %p1, %r4, %r1;
  @%p1 bra $L_end;
  cvt.u64.u32 %rd9, %r4;
  ld.param.u64 %rd1, [x];
  ld.param.u64 %rd2, [y];
  ld.param.u64 %rd3, [p];
  ld.param.u64 %rd4, [q];
  add.s64 %rd5, %rd1, %rd9;
  add.s64 %rd6, %rd2, %rd9;
  add.s64 %rd7, %rd3, %rd9;
  add.s64 %rd8, %rd4, %rd9;
  ld.global.u8 %h1, [%rd5];
  st.global.u8 [%rd6], %h1;
  ld.global.u8 %h2, [%rd7];
  st.global.u8 [%rd8], %h2;
$L_end:
  ret;
}
`;
    const params: AbiParam[] = [
      { kind: 'tensor', name: 'x', tensor: 'x', dtype: 'f8e4m3' },
      { kind: 'tensor', name: 'y', tensor: 'y', dtype: 'f8e4m3' },
      { kind: 'tensor', name: 'p', tensor: 'p', dtype: 'bool' },
      { kind: 'tensor', name: 'q', tensor: 'q', dtype: 'bool' },
      { kind: 'dim', name: 'N', dim: 'N' },
    ];
    const x = [448, -448, 0.001953125, -0.5, 'NaN', 1.125, -0, 3, 240, -6];
    const n = 300;
    const args = argsFor(ir, {
      x: { dtype: 'f8e4m3', shape: [n], data: Array.from({ length: n }, (_, i) => x[i % x.length]) },
      y: { dtype: 'f8e4m3', shape: [n] },
      p: { dtype: 'bool', shape: [n], data: Array.from({ length: n }, (_, i) => i % 3 === 1) },
      q: { dtype: 'bool', shape: [n], data: Array.from({ length: n }, () => false) },
    });
    const run = runOnEmulator({ target: 'sm_80', entry: 'bytes', ptx, params, threads: 128, dynamicSmem: 0, spanMap: [] }, ir, args);
    expect(run.findings).toEqual([]);
    expect(Array.from(tensor(args, 'y').data)).toEqual(Array.from(tensor(args, 'x').data));
    expect(Object.is(tensor(args, 'y').data[6], -0)).toBe(true);
    expect(Array.from(tensor(args, 'q').data)).toEqual(Array.from(tensor(args, 'p').data));
  });

  it('an output the kernel never writes stays NaN, and is not an uninitialized read', () => {
    const ir = build(SCALE, { B: '128' });
    const ptx = `${HEAD('sm_80')}.visible .entry scale(.param .u64 x, .param .u64 y, .param .u32 N, .param .f32 s)\n{\n  ret;\n}\n`;
    const args = argsFor(ir, { x: { dtype: 'f32', shape: [300], data: values(300, 3) }, y: { dtype: 'f32', shape: [300] }, s: 2 });
    const run = runOnEmulator({ ...scalePtx(128), ptx }, ir, args);
    expect(run.findings).toEqual([]);
    expect(Array.from(tensor(args, 'y').data).every(Number.isNaN)).toBe(true);
  });

  it('reports sanitizer findings (a missing bounds check on the ragged last block)', () => {
    const ir = build(SCALE, { B: '128' });
    const args = argsFor(ir, { x: { dtype: 'f32', shape: [1000], data: values(1000, 4) }, y: { dtype: 'f32', shape: [1000] }, s: 2 });
    const run = runOnEmulator(scalePtx(128, false), ir, args);
    expect(run.findings.map((f) => f.kind)).toContain('out-of-bounds');
  });

  it('an empty grid launches nothing', () => {
    const ir = build(SCALE, { B: '128' });
    const args = argsFor(ir, { x: { dtype: 'f32', shape: [0], data: [] }, y: { dtype: 'f32', shape: [0] }, s: 2 });
    const run = runOnEmulator(scalePtx(128), ir, args);
    expect(run).toMatchObject({ findings: [], grid: [0] });
    expect(run.stats.threadInstructions).toBe(0);
  });

  it('arguments the emulator cannot pass are an AbiArgsError naming the parameter', () => {
    const ir = build(SCALE, { B: '128' });
    const args = argsFor(ir, { x: { dtype: 'f32', shape: [10], data: values(10, 5) }, y: { dtype: 'f32', shape: [10] }, s: 2 });
    const f16Scalar: CompiledPtx = { ...scalePtx(128), params: [...SCALE_PARAMS.slice(0, 3), { kind: 'scalar', name: 's', dtype: 'f16' }] };
    expect(() => runOnEmulator(f16Scalar, ir, args)).toThrow(AbiArgsError);
    expect(() => runOnEmulator(f16Scalar, ir, args)).toThrow(/parameter 's': f16 scalars/);
    const missing: CompiledPtx = { ...scalePtx(128), params: [{ kind: 'tensor', name: 'z', tensor: 'z', dtype: 'f32' }, ...SCALE_PARAMS.slice(1)] };
    expect(() => runOnEmulator(missing, ir, args)).toThrow(/tensor argument 'z' is missing/);
  });
});

// ---------------------------------------------------------------------------------------------
// PTX from the code generator, against the interpreter

describe('runOnEmulator on compilePtx output matches the interpreter', () => {
  const cases: { name: string; text: string; config: Record<string, string>; target: NvidiaTarget; json: Record<string, unknown> }[] = [];
  for (const B of ['128', '256']) {
    cases.push({
      name: `scale B=${B} N=1000`,
      text: SCALE,
      config: { B },
      target: 'sm_80',
      json: { x: { dtype: 'f32', shape: [1000], data: values(1000, 6) }, y: { dtype: 'f32', shape: [1000] }, s: 0.3 },
    });
  }
  for (const [BM, target] of [
    ['16', 'sm_80'],
    ['32', 'sm_90a'],
  ] as const) {
    cases.push({
      name: `add2 BM=${BM} 37x100 ${target}`,
      text: ADD2,
      config: { BM },
      target,
      json: {
        a: { dtype: 'f16', shape: [37, 100], data: values(3700, 7) },
        b: { dtype: 'f16', shape: [37, 100], data: values(3700, 8).map((v) => v * 0.5) },
        c: { dtype: 'f16', shape: [37, 100] },
      },
    });
  }

  it.each(cases)('$name', async ({ text, config, target, json }) => {
    const { compilePtx } = await import('../../compiler/ptx/compile-ptx.js');
    const ir = build(text, config);
    const { compiled, diagnostics } = compilePtx(ir, target);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    if (!compiled) throw new Error('no PTX');
    expect(compiled.target).toBe(target);
    const emu = argsFor(ir, json);
    const ref = argsFor(ir, json);
    const run = runOnEmulator(compiled, ir, emu);
    interpret(ir, ref);
    expect(run.findings).toEqual([]);
    for (const p of ir.params) {
      if (p.kind !== 'tensor') continue;
      expect(Array.from(tensor(emu, p.name).data), p.name).toEqual(Array.from(tensor(ref, p.name).data));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// `tilekit run --backend emulate`: findings exit 3 and are written to OUT.json

describe('run --backend emulate with findings', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tilekit-emulate-backend-'));
  });
  afterAll(async () => {
    vi.doUnmock('../../compiler/ptx/compile-ptx.js');
    vi.resetModules();
    await rm(dir, { recursive: true, force: true });
  });

  it('exit 3, the findings printed and in OUT.json, which is still written with the backend and target', async () => {
    // The code generator is replaced by one that forgets the bounds check.
    vi.resetModules();
    vi.doMock('../../compiler/ptx/compile-ptx.js', () => ({
      compilePtx: (_ir: IRKernel, target: NvidiaTarget) => ({ compiled: { ...scalePtx(128, false), target }, diagnostics: [] }),
    }));
    const { runCli } = await import('../../cli/tilekit.js');
    await writeFile(join(dir, 'scale.tile'), SCALE);
    await writeFile(join(dir, 'args.json'), JSON.stringify({ args: { x: { dtype: 'f32', shape: [1000], data: values(1000, 9) }, y: { dtype: 'f32', shape: [1000] }, s: 2 } }));
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t) };
    const argv = ['run', join(dir, 'scale.tile'), '--config', 'B=128', '--backend', 'emulate', '--target', 'sm_90a', '--args', join(dir, 'args.json'), '--out', join(dir, 'out.json')];
    const code = await runCli(argv, io);
    expect(code, err.join('\n')).toBe(3);
    expect(err.join('\n')).toMatch(/out-of-bounds: .*\n {2}at PTX line \d+/);
    expect(out.join('\n')).toMatch(/scale \[B=128,WARPS=4\]: grid \[8\] ran on emulate \(sm_90a\) in [\d.]+ ms, \d+ thread-instructions, \d+ sanitizer findings?; wrote /);
    const written = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8'));
    expect(written).toMatchObject({ backend: 'emulate', target: 'sm_90a', config: { B: 128, WARPS: 4 } });
    expect(written.findings.length).toBeGreaterThan(0);
    expect(written.findings[0]).toMatchObject({ kind: 'out-of-bounds', kernel: 'scale' });
    expect(written.outputs.y.data).toHaveLength(1000);
  });
});
