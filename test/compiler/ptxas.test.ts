/**
 * The ptxas wrapper: the `-v` report parser on output captured from ptxas 13.0 (pure), and — where
 * ptxas is installed (required when TILEKIT_REQUIRE_TOOLCHAINS=1) — real runs.
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  assemble,
  findPtxas,
  parsePtxasDiagnostics,
  parsePtxasReport,
  ptxasCandidates,
  ptxasVersion,
  requirePtxas,
  type ResourceReport,
} from '../../compiler/toolchain/ptxas.js';
import { ToolchainError, ToolchainMissingError } from '../../compiler/toolchain/errors.js';
import { requireTool } from '../support/toolchains.js';
import { fakeTool } from '../support/fake-tool.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: stderr of ptxas 13.0 (V13.0.88), verbatim.

/** `ptxas -arch=sm_80 -v --warn-on-spills -O3 bench/cuda/gemm_mma.sm_80.ptx` */
const GEMM_SM80 = `ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'gemm_mma' for 'sm_80'
ptxas info    : Function properties for gemm_mma
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 80 registers, used 1 barriers, 9728 bytes smem, 388 bytes cmem[0]
ptxas info    : Compile time = 42.529 ms
`;

/** The same PTX with `.target sm_90a`, `-arch=sm_90a`: sm_90 prints no cmem[0]. */
const GEMM_SM90A = `ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'gemm_mma' for 'sm_90a'
ptxas info    : Function properties for gemm_mma
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 72 registers, used 1 barriers, 9728 bytes smem
ptxas info    : Compile time = 30.012 ms
`;

/** `manyLivePtx(48)` (below) with `-arch=sm_80 -v --warn-on-spills --maxrregcount 16`. */
const SPILL = `ptxas warning : For profile sm_80 adjusting per thread register count of 16 to lower bound of 24
ptxas info    : Overriding maximum register limit 256 for 'many_live' with  24 of maxrregcount option
ptxas warning : Registers are spilled to local memory in function 'many_live', 468 bytes spill stores, 492 bytes spill loads
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'many_live' for 'sm_80'
ptxas info    : Function properties for many_live
    232 bytes stack frame, 468 bytes spill stores, 492 bytes spill loads
ptxas info    : Used 24 registers, used 0 barriers, 232 bytes cumulative stack size, 372 bytes cmem[0]
ptxas info    : Compile time = 16.458 ms
`;

/**
 * A CUDA file with two kernels, a `__noinline__` helper called by both, a `__constant__` array and
 * a `__device__` table (nvcc -ptx -arch=sm_80), then `ptxas -v --warn-on-spills --maxrregcount 24`:
 * the helper's properties follow each caller's section; module-level cmem[3] is not per kernel.
 */
const TWO_KERNELS_WITH_CALLEE = `ptxas info    : Overriding maximum register limit 256 for 'small' with  24 of maxrregcount option
ptxas info    : Overriding maximum register limit 256 for 'spilly' with  24 of maxrregcount option
ptxas warning : Registers are spilled to local memory in function 'spilly', 516 bytes spill stores, 1036 bytes spill loads
ptxas info    : 1024 bytes gmem, 256 bytes cmem[3], 8 bytes cmem[4]
ptxas info    : Compiling entry function 'small' for 'sm_80'
ptxas info    : Function properties for small
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 24 registers, used 1 barriers, 512 bytes smem, 364 bytes cmem[0]
ptxas info    : Compile time = 11.397 ms
ptxas info    : Function properties for _Z6helperfi
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Compiling entry function 'spilly' for 'sm_80'
ptxas info    : Function properties for spilly
    520 bytes stack frame, 516 bytes spill stores, 1036 bytes spill loads
ptxas info    : Used 24 registers, used 0 barriers, 520 bytes cumulative stack size, 372 bytes cmem[0]
ptxas info    : Compile time = 32.419 ms
ptxas info    : Function properties for _Z6helperfi
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
`;

/** `ptxas -arch=sm_80 -v test/emulator/corpus/divergence.sm_80.ptx`: three kernels. */
const THREE_ENTRIES = `ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'warp_exchange' for 'sm_80'
ptxas info    : Function properties for warp_exchange
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 10 registers, used 0 barriers, 1024 bytes smem, 372 bytes cmem[0]
ptxas info    : Compile time = 3.094 ms
ptxas info    : Compiling entry function 'nested_loops' for 'sm_80'
ptxas info    : Function properties for nested_loops
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 13 registers, used 0 barriers, 372 bytes cmem[0]
ptxas info    : Compile time = 4.037 ms
ptxas info    : Compiling entry function 'branchy' for 'sm_80'
ptxas info    : Function properties for branchy
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 20 registers, used 0 barriers, 372 bytes cmem[0]
ptxas info    : Compile time = 5.706 ms
`;

/** `ptxas -arch=sm_80 -v -c` (relocatable) on two kernels and a `.visible .func twice` defined last. */
const RELOCATABLE = `ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function 'second' for 'sm_80'
ptxas info    : Function properties for second
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 8 registers, used 0 barriers, 360 bytes cmem[0]
ptxas info    : Compile time = 1.570 ms
ptxas info    : Function properties for twice
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Compile time = 1.046 ms
ptxas info    : Compiling entry function 'first' for 'sm_80'
ptxas info    : Function properties for first
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 24 registers, used 0 barriers, 360 bytes cmem[0]
ptxas info    : Compile time = 0.984 ms
`;

/** Failures: an unknown register on line 40; a missing `;` at the end of line 7. */
const ERRORS = `ptxas b2.ptx, line 40; error   : Arguments mismatch for instruction 'ld'
ptxas b2.ptx, line 40; error   : Unknown symbol '%r9999'
ptxas fatal   : Ptx assembly aborted due to errors
`;
const PARSE_ERROR = `ptxas b5.ptx, line 8; fatal   : Parsing error near 'mov': syntax error
ptxas fatal   : Ptx assembly aborted due to errors
`;
const BAD_ARCH = `ptxas fatal   : Value 'sm_99' is not defined for option 'gpu-name'
`;

const ZERO = { spillStoresBytes: 0, spillLoadsBytes: 0, stackFrameBytes: 0, cumulativeStackBytes: 0 };

describe('parsePtxasReport', () => {
  it('reads one kernel: registers, barriers, smem, cmem banks, compile time', () => {
    expect(parsePtxasReport(GEMM_SM80)).toEqual<ResourceReport[]>([
      { function: 'gemm_mma', kind: 'entry', arch: 'sm_80', registers: 80, ...ZERO, sharedBytes: 9728, constantBytes: { 0: 388 }, barriers: 1, compileMs: 42.529 },
    ]);
  });

  it('sm_90a prints no cmem: the bank map is empty', () => {
    const [r] = parsePtxasReport(GEMM_SM90A);
    expect(r).toMatchObject({ function: 'gemm_mma', arch: 'sm_90a', registers: 72, sharedBytes: 9728, barriers: 1, constantBytes: {} });
  });

  it('reads spills, the stack frame and the cumulative stack size', () => {
    expect(parsePtxasReport(SPILL)).toEqual<ResourceReport[]>([
      {
        function: 'many_live',
        kind: 'entry',
        arch: 'sm_80',
        registers: 24,
        spillStoresBytes: 468,
        spillLoadsBytes: 492,
        stackFrameBytes: 232,
        cumulativeStackBytes: 232,
        sharedBytes: 0,
        constantBytes: { 0: 372 },
        barriers: 0,
        compileMs: 16.458,
      },
    ]);
  });

  it('reads several kernels in order', () => {
    const rs = parsePtxasReport(THREE_ENTRIES);
    expect(rs.map((r) => [r.function, r.kind, r.registers, r.sharedBytes])).toEqual([
      ['warp_exchange', 'entry', 10, 1024],
      ['nested_loops', 'entry', 13, 0],
      ['branchy', 'entry', 20, 0],
    ]);
  });

  it('lists a non-inlined callee under each kernel that calls it', () => {
    const rs = parsePtxasReport(TWO_KERNELS_WITH_CALLEE);
    expect(rs.map((r) => [r.function, r.kind, r.caller])).toEqual([
      ['small', 'entry', undefined],
      ['_Z6helperfi', 'function', 'small'],
      ['spilly', 'entry', undefined],
      ['_Z6helperfi', 'function', 'spilly'],
    ]);
    expect(rs[2]).toMatchObject({ spillStoresBytes: 516, spillLoadsBytes: 1036, stackFrameBytes: 520, cumulativeStackBytes: 520, constantBytes: { 0: 372 } });
    expect(rs[0]).toMatchObject({ registers: 24, barriers: 1, sharedBytes: 512, constantBytes: { 0: 364 } });
    // ptxas prints no registers for a .func; its arch is the enclosing kernel's.
    expect(rs[1]).toMatchObject({ registers: 0, arch: 'sm_80', ...ZERO });
    expect(rs[1]!.compileMs).toBeUndefined();
  });

  it('a function compiled on its own (-c) has a compile time and no caller', () => {
    const rs = parsePtxasReport(RELOCATABLE);
    expect(rs.map((r) => [r.function, r.kind, r.caller, r.compileMs])).toEqual([
      ['second', 'entry', undefined, 1.57],
      ['twice', 'function', undefined, 1.046],
      ['first', 'entry', undefined, 0.984],
    ]);
    expect('caller' in rs[1]!).toBe(false);
  });

  it('takes the default arch for functions printed before any kernel, and tolerates CRLF', () => {
    const text = 'ptxas info    : Function properties for f\r\n    8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads\r\n';
    expect(parsePtxasReport(text, 'sm_90a')).toMatchObject([{ function: 'f', kind: 'function', arch: 'sm_90a', stackFrameBytes: 8, spillStoresBytes: 4 }]);
  });

  it('returns nothing for output without a report', () => {
    expect(parsePtxasReport('')).toEqual([]);
    expect(parsePtxasReport(ERRORS)).toEqual([]);
  });
});

describe('parsePtxasDiagnostics', () => {
  it('reads file, line, severity and message', () => {
    expect(parsePtxasDiagnostics(ERRORS)).toEqual([
      { severity: 'error', message: "Arguments mismatch for instruction 'ld'", file: 'b2.ptx', line: 40 },
      { severity: 'error', message: "Unknown symbol '%r9999'", file: 'b2.ptx', line: 40 },
      { severity: 'fatal', message: 'Ptx assembly aborted due to errors' },
    ]);
    expect(parsePtxasDiagnostics(PARSE_ERROR)[0]).toEqual({ severity: 'fatal', message: "Parsing error near 'mov': syntax error", file: 'b5.ptx', line: 8 });
    expect(parsePtxasDiagnostics(BAD_ARCH)).toEqual([{ severity: 'fatal', message: "Value 'sm_99' is not defined for option 'gpu-name'" }]);
  });

  it('reads warnings among the info lines, and not the stack-frame lines', () => {
    expect(parsePtxasDiagnostics(SPILL)).toEqual([
      { severity: 'warning', message: 'For profile sm_80 adjusting per thread register count of 16 to lower bound of 24' },
      { severity: 'warning', message: "Registers are spilled to local memory in function 'many_live', 468 bytes spill stores, 492 bytes spill loads" },
    ]);
  });

  it('joins an indented continuation line to its warning', () => {
    const text = 'ptxas warning : Value of threads per SM for entry k is out of range.\n                .minnctapersm will be ignored\nptxas info    : 0 bytes gmem\n';
    expect(parsePtxasDiagnostics(text)).toEqual([{ severity: 'warning', message: 'Value of threads per SM for entry k is out of range. .minnctapersm will be ignored' }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Finding ptxas (fake executables in a temp folder; no real ptxas needed)

const scratch = mkdtempSync(join(tmpdir(), 'tilekit-ptxas-test-'));
const keptDirs = new Set<string>();
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  for (const d of keptDirs) rmSync(d, { recursive: true, force: true });
});

describe('findPtxas', () => {
  const empty = join(scratch, 'empty');
  mkdirSync(empty, { recursive: true });
  const nowhere = join(scratch, 'no-cuda');

  it('looks at TILEKIT_PTXAS, PATH, CUDA_HOME, CUDA_PATH, /usr/local/cuda, in that order', () => {
    const c = ptxasCandidates({ PATH: ['/a', '/b'].join(':'), CUDA_HOME: '/ch', CUDA_PATH: '/cp' });
    expect(c.map((x) => [x.source, x.path])).toEqual([
      ['TILEKIT_PTXAS', undefined],
      ['PATH', '/a/ptxas'],
      ['PATH', '/b/ptxas'],
      ['CUDA_HOME', '/ch/bin/ptxas'],
      ['CUDA_PATH', '/cp/bin/ptxas'],
      ['default', '/usr/local/cuda/bin/ptxas'],
    ]);
  });

  it('takes TILEKIT_PTXAS as given, even where nothing is', () => {
    expect(findPtxas({ TILEKIT_PTXAS: '/opt/nowhere/ptxas', PATH: empty })).toBe('/opt/nowhere/ptxas');
  });

  it('takes the first executable ptxas on PATH, skipping non-executable files', () => {
    const notExec = join(scratch, 'not-exec');
    mkdirSync(notExec, { recursive: true });
    writeFileSync(join(notExec, 'ptxas'), '');
    const onPath = fakeTool(join(scratch, 'on-path'), 'ptxas', 'exit 0');
    expect(findPtxas({ PATH: [empty, notExec, dirname(onPath)].join(':') }, nowhere)).toBe(onPath);
  });

  it('falls back to $CUDA_HOME/bin, then $CUDA_PATH/bin', () => {
    const home = fakeTool(join(scratch, 'cuda-home', 'bin'), 'ptxas', 'exit 0');
    const path = fakeTool(join(scratch, 'cuda-path', 'bin'), 'ptxas', 'exit 0');
    expect(findPtxas({ PATH: empty, CUDA_HOME: join(scratch, 'cuda-home'), CUDA_PATH: join(scratch, 'cuda-path') }, nowhere)).toBe(home);
    expect(findPtxas({ PATH: empty, CUDA_PATH: join(scratch, 'cuda-path') }, nowhere)).toBe(path);
  });

  it('finds nothing in an empty environment without /usr/local/cuda', () => {
    expect(findPtxas({}, nowhere)).toBeUndefined();
    expect(findPtxas({ PATH: empty }, nowhere)).toBeUndefined();
  });

  it('a missing ptxas is a ToolchainMissingError saying where it looked and how to get it', () => {
    let err: unknown;
    try {
      requirePtxas({ PATH: empty }, nowhere);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ToolchainMissingError);
    const m = (err as ToolchainMissingError).message;
    expect(m).toContain('ptxas not found');
    expect(m).toContain(`PATH: ${join(empty, 'ptxas')}`);
    expect(m).toContain('CUDA_HOME not set');
    expect(m).toContain(join(nowhere, 'bin', 'ptxas'));
    expect(m).toContain('CUDA toolkit');
    expect(m).toContain('TILEKIT_PTXAS');
    expect((err as ToolchainMissingError).tool).toBe('ptxas');
  });

  it('a TILEKIT_PTXAS that is not there is reported as such, not replaced', () => {
    expect(() => requirePtxas({ TILEKIT_PTXAS: '/opt/nowhere/ptxas', PATH: empty }, nowhere)).toThrow(/TILEKIT_PTXAS=\/opt\/nowhere\/ptxas \(not an executable file/);
  });

  it('assemble with a ptxasPath that does not exist raises ToolchainMissingError', async () => {
    const p = assemble('.version 8.0\n', { arch: 'sm_80', ptxasPath: join(scratch, 'missing', 'ptxas') });
    await expect(p).rejects.toBeInstanceOf(ToolchainMissingError);
    await expect(p).rejects.toThrow(/ptxasPath option: .*missing\/ptxas \(not an executable file\)[\s\S]*CUDA toolkit/);
  });
});

describe('running a tool that misbehaves (fake ptxas scripts)', () => {
  it('a ptxas that hangs is killed at the timeout: ToolchainError saying so', async () => {
    // No `exec`: the orphaned sleep keeps the pipes open, which must not delay the error.
    const slow = fakeTool(join(scratch, 'slow'), 'ptxas', 'sleep 30');
    const t0 = Date.now();
    const err = await assemble('// hang\n', { arch: 'sm_80', ptxasPath: slow, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(err).toBeInstanceOf(ToolchainError);
    const te = err as ToolchainError;
    keptDirs.add(dirname(te.inputPath!));
    expect(te.timedOut).toBe(true);
    expect(te.exitCode).toBeNull();
    expect(te.message).toMatch(/timed out after 300 ms/);
    expect(te.command).toContain(slow);
  });

  it('a ptxas that exits 0 without writing a cubin is a failure', async () => {
    const lazy = fakeTool(join(scratch, 'lazy'), 'ptxas', 'exit 0');
    const err = await assemble('// nothing\n', { arch: 'sm_80', ptxasPath: lazy }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolchainError);
    keptDirs.add(dirname((err as ToolchainError).inputPath!));
    expect((err as ToolchainError).message).toMatch(/wrote no cubin/);
  });

  it('passes the options as arguments, in order', async () => {
    // Echo the arguments to stderr, then write a one-byte "cubin" where -o says.
    const echo = fakeTool(join(scratch, 'echo'), 'ptxas', 'echo "ARGS $*" >&2\nwhile [ "$1" != "-o" ]; do shift; done\nprintf x > "$2"');
    const r = await assemble('// args\n', { arch: 'sm_90a', ptxasPath: echo, lineinfo: true, optLevel: 2, extraArgs: ['--maxrregcount', '64'] });
    expect(r.log).toMatch(/^ARGS -arch=sm_90a -v --warn-on-spills -lineinfo -O2 --maxrregcount 64 -o \S+\/kernel\.cubin \S+\/kernel\.ptx$/m);
    const r2 = await assemble('// args\n', { arch: 'sm_80', ptxasPath: echo, warnOnSpills: false });
    expect(r2.log).toMatch(/^ARGS -arch=sm_80 -v -O3 -o /m);
    expect(Array.from(r2.cubin)).toEqual([0x78]);
  });
});

// ---------------------------------------------------------------------------------------------
// Real ptxas

const GEMM_PTX = readFileSync(new URL('../../bench/cuda/gemm_mma.sm_80.ptx', import.meta.url), 'utf8');
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** A kernel keeping `n` floats live across a loop: spills under a low --maxrregcount. */
function manyLivePtx(n: number): string {
  const L = ['.version 8.0', '.target sm_80', '.address_size 64', '', '.visible .entry many_live(.param .u64 p_in, .param .u64 p_out, .param .u32 p_iters)', '{'];
  L.push(` .reg .f32 %f<${n}>;`, ' .reg .b32 %r<4>;', ' .reg .b64 %rd<4>;', ' .reg .pred %p<2>;');
  L.push(' ld.param.u64 %rd1, [p_in];', ' ld.param.u64 %rd2, [p_out];', ' ld.param.u32 %r1, [p_iters];', ' mov.u32 %r2, 0;');
  for (let i = 0; i < n; i++) L.push(` ld.global.f32 %f${i}, [%rd1+${4 * i}];`);
  L.push('LOOP:');
  for (let i = 0; i < n; i++) L.push(` fma.rn.f32 %f${i}, %f${i}, %f${(i + 1) % n}, %f${(i + 7) % n};`);
  L.push(' add.s32 %r2, %r2, 1;', ' setp.lt.s32 %p1, %r2, %r1;', ' @%p1 bra LOOP;');
  for (let i = 0; i < n; i++) L.push(` st.global.f32 [%rd2+${4 * i}], %f${i};`);
  L.push(' ret;', '}', '');
  return L.join('\n');
}

/** 1-based number of the first line containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line contains ${needle}`);
  return i + 1;
}

function editLine(text: string, line: number, edit: (l: string) => string): string {
  const lines = text.split('\n');
  lines[line - 1] = edit(lines[line - 1]!);
  return lines.join('\n');
}

async function failure(p: Promise<unknown>): Promise<ToolchainError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ToolchainError);
  const te = e as ToolchainError;
  if (te.inputPath !== undefined) keptDirs.add(dirname(te.inputPath));
  return te;
}

describe('assemble (runs ptxas)', () => {
  const ptxas = findPtxas();
  const have = requireTool('ptxas', ptxas);

  it.skipIf(!have)('ptxasVersion reads the release', async () => {
    expect(await ptxasVersion()).toMatch(/^\d+\.\d+(\.\d+)?$/);
  });

  it.skipIf(!have)('gemm_mma for sm_80 and sm_90a: an ELF cubin, registers > 0, no spills', async () => {
    // sm_90a needs PTX ISA 8.0+; the file's 9.0 already is, so only the target changes.
    const ptx90 = GEMM_PTX.replace(/^\.target sm_80$/m, '.target sm_90a').replace(/^\.version [0-7]\.\d+$/m, '.version 8.0');
    expect(ptx90).toContain('.target sm_90a');
    // Both at once: different inputs run in different folders.
    const [r80, r90] = await Promise.all([assemble(GEMM_PTX, { arch: 'sm_80' }), assemble(ptx90, { arch: 'sm_90a' })]);
    for (const [r, arch] of [
      [r80, 'sm_80'],
      [r90, 'sm_90a'],
    ] as const) {
      expect(r.cubin.length).toBeGreaterThan(1000);
      expect(Array.from(r.cubin.slice(0, 4))).toEqual(ELF_MAGIC);
      expect(r.report).toHaveLength(1);
      const g = r.report[0]!;
      expect(g).toMatchObject({ function: 'gemm_mma', kind: 'entry', arch, spillStoresBytes: 0, spillLoadsBytes: 0, stackFrameBytes: 0, sharedBytes: 9728 });
      expect(g.registers).toBeGreaterThan(0);
      expect(g.barriers).toBe(1);
      expect(r.warnings).toEqual([]);
      expect(r.command).toMatch(new RegExp(`-arch=${arch} -v --warn-on-spills -O3 -o `));
      expect(r.ms).toBeGreaterThan(0);
      // The temp folder is gone after success.
      expect(existsSync(r.command.split(' ').at(-1)!)).toBe(false);
    }
    expect(r80.report[0]!.constantBytes[0]).toBeGreaterThan(0);
  });

  it.skipIf(!have)('a kernel that spills: spill bytes in the report and a warning', async () => {
    const r = await assemble(manyLivePtx(48), { arch: 'sm_80', extraArgs: ['--maxrregcount', '24'] });
    const [k] = r.report;
    expect(k).toMatchObject({ function: 'many_live', registers: 24 });
    expect(k!.spillStoresBytes).toBeGreaterThan(0);
    expect(k!.spillLoadsBytes).toBeGreaterThan(0);
    expect(k!.stackFrameBytes).toBeGreaterThan(0);
    expect(r.warnings.some((w) => w.startsWith("Registers are spilled to local memory in function 'many_live'"))).toBe(true);
  });

  it.skipIf(!have)('a PTX error: ToolchainError at the line, with a command that reproduces it', async () => {
    const line = lineOf(GEMM_PTX, '[gemm_mma_param_5]');
    const bad = editLine(GEMM_PTX, line, (l) => l.replace('ld.param.u32', 'ld.parm.u32'));
    const e = await failure(assemble(bad, { arch: 'sm_80' }));
    expect(e.tool).toBe('ptxas');
    expect(e.exitCode).not.toBe(0);
    expect(e.line).toBe(line);
    expect(e.lineText).toContain('ld.parm.u32');
    expect(e.token).toBe('.parm');
    expect(e.lineText!.slice(e.column! - 1)).toMatch(/^\.parm/);
    expect(e.message).toContain("Unknown modifier '.parm'");
    expect(e.stderr).toContain(`kernel.ptx, line ${line}; error`);
    expect(e.format()).toContain(`${line} | ${e.lineText}`);
    expect(e.format()).toMatch(/\n\s+\|\s+\^{5}\n/);
    // The kept input reproduces the failure from a shell.
    expect(readFileSync(e.inputPath!, 'utf8')).toBe(bad);
    let shellErr = '';
    expect(() => {
      try {
        execSync(e.command, { stdio: 'pipe' });
      } catch (x) {
        shellErr = String((x as { stderr?: Buffer }).stderr ?? '');
        throw x;
      }
    }).toThrow();
    expect(shellErr).toContain(`line ${line}; error   : Unknown modifier '.parm'`);
    // The same input fails into the same folder: repeated failures don't pile up.
    const again = await failure(assemble(bad, { arch: 'sm_80' }));
    expect(again.inputPath).toBe(e.inputPath);
  });

  it.skipIf(!have)('a missing `;` is reported at the next token, i.e. on the following line', async () => {
    const line = lineOf(GEMM_PTX, '[gemm_mma_param_5]');
    const bad = editLine(GEMM_PTX, line, (l) => l.replace(/;\s*$/, ''));
    const e = await failure(assemble(bad, { arch: 'sm_80' }));
    expect(e.message).toMatch(/Parsing error near '[^']+': syntax error/);
    expect(e.line).toBe(line + 1);
    expect(e.lineText).toBe(GEMM_PTX.split('\n')[line]);
    expect(() => execSync(e.command, { stdio: 'pipe' })).toThrow();
  });

  it.skipIf(!have)('an unknown arch fails without a PTX line', async () => {
    const e = await failure(assemble(GEMM_PTX, { arch: 'sm_99' }));
    expect(e.line).toBeUndefined();
    expect(e.message).toContain("Value 'sm_99' is not defined");
  });
});

describe('requireTool', () => {
  it('skips with a warning, or throws when TILEKIT_REQUIRE_TOOLCHAINS=1', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(requireTool('ptxas', '/usr/bin/ptxas', { TILEKIT_REQUIRE_TOOLCHAINS: '1' })).toBe(true);
      expect(requireTool('ptxas', undefined, {})).toBe(false);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/SKIPPING ptxas tests/));
      expect(() => requireTool('ptxas', undefined, { TILEKIT_REQUIRE_TOOLCHAINS: '1' })).toThrow(/TILEKIT_REQUIRE_TOOLCHAINS=1/);
    } finally {
      warn.mockRestore();
    }
  });
});
