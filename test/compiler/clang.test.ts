/**
 * The clang (AMD) wrapper: the parsers on output captured from Debian's clang 19.1.7 (pure), finding
 * clang and its linker with fake executables, and — where clang-19 and lld are installed (required
 * when TILEKIT_REQUIRE_TOOLCHAINS=1) — real device-only compiles for gfx942 and gfx90a.
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  clangCandidates,
  clangVersion,
  buildCodeObject,
  findClang,
  findLld,
  parseAmdgpuMetadata,
  parseClangDiagnostics,
  parseResourceRemarks,
  probeLinker,
  requireClang,
  type AmdResourceReport,
} from '../../compiler/toolchain/clang.js';
import { ToolchainError, ToolchainMissingError } from '../../compiler/toolchain/errors.js';
import { requireTool } from '../support/toolchains.js';
import { fakeTool } from '../support/fake-tool.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: output of Debian clang 19.1.7, verbatim unless marked abridged.

/**
 * `clang-19 -x hip --offload-arch=gfx90a --cuda-device-only … -O3 -S` of a file with a `noinline`
 * device function, a kernel with a dynamically indexed float[256] (scratch), and a second kernel
 * after a `#line 40 "gemm.tile"`. Abridged: instructions, `.amdhsa_` directives and the
 * COMPUTE_PGM_RSRC comment lines are left out.
 */
const TWO_KERNELS_GFX90A = `	.amdgcn_target "amdgcn-amd-amdhsa--gfx90a"
	.p2align	2                               ; -- Begin function _Z6helperPfi
_Z6helperPfi:                           ; @_Z6helperPfi
.Lfunc_end0:
                                        ; -- End function
; Function info:
; codeLenInByte = 44
; NumSgprs: 36
; NumVgprs: 4
; NumAgprs: 0
; TotalNumVgprs: 4
; ScratchSize: 0
; MemoryBound: 0
	.text
	.protected	scratchy                ; -- Begin function scratchy
scratchy:                               ; @scratchy
.Lfunc_end1:
                                        ; -- End function
; Kernel info:
; codeLenInByte = 432
; NumSgprs: 39
; NumVgprs: 21
; NumAgprs: 0
; TotalNumVgprs: 21
; ScratchSize: 1040
; MemoryBound: 0
; FloatMode: 240
; IeeeMode: 1
; LDSByteSize: 0 bytes/workgroup (compile time only)
; SGPRBlocks: 4
; VGPRBlocks: 2
; NumSGPRsForWavesPerEU: 39
; NumVGPRsForWavesPerEU: 21
; AccumOffset: 24
; Occupancy: 8
; WaveLimiterHint : 0
	.text
	.protected	second                  ; -- Begin function second
second:                                 ; @second
.Lfunc_end2:
                                        ; -- End function
; Kernel info:
; codeLenInByte = 32
; NumSgprs: 10
; NumVgprs: 2
; NumAgprs: 0
; TotalNumVgprs: 2
; ScratchSize: 0
; MemoryBound: 0
; FloatMode: 240
; IeeeMode: 1
; LDSByteSize: 0 bytes/workgroup (compile time only)
; SGPRBlocks: 1
; VGPRBlocks: 0
; NumSGPRsForWavesPerEU: 10
; NumVGPRsForWavesPerEU: 2
; AccumOffset: 4
; Occupancy: 8
; WaveLimiterHint : 0
	.text
	.amdgpu_metadata
---
amdhsa.kernels:
  - .agpr_count:     0
    .args:
      - .address_space:  global
        .offset:         0
        .size:           8
        .value_kind:     global_buffer
      - .offset:         8
        .size:           4
        .value_kind:     by_value
    .group_segment_fixed_size: 0
    .kernarg_segment_align: 8
    .kernarg_segment_size: 12
    .max_flat_workgroup_size: 1024
    .name:           scratchy
    .private_segment_fixed_size: 1040
    .sgpr_count:     39
    .sgpr_spill_count: 0
    .symbol:         scratchy.kd
    .uniform_work_group_size: 1
    .uses_dynamic_stack: false
    .vgpr_count:     21
    .vgpr_spill_count: 0
    .wavefront_size: 64
  - .agpr_count:     0
    .args:
      - .address_space:  global
        .offset:         0
        .size:           8
        .value_kind:     global_buffer
    .group_segment_fixed_size: 0
    .kernarg_segment_align: 8
    .kernarg_segment_size: 8
    .max_flat_workgroup_size: 1024
    .name:           second
    .private_segment_fixed_size: 0
    .sgpr_count:     10
    .sgpr_spill_count: 0
    .symbol:         second.kd
    .uniform_work_group_size: 1
    .uses_dynamic_stack: false
    .vgpr_count:     2
    .vgpr_spill_count: 0
    .wavefront_size: 64
amdhsa.target:   amdgcn-amd-amdhsa--gfx90a
amdhsa.version:
  - 1
  - 2
...

	.end_amdgpu_metadata
`;

/** A C++ (mangled) kernel writing `a15` by inline asm, with 2 KB of LDS, for gfx942. Abridged like the above. */
const AGPR_GFX942 = `	.amdgcn_target "amdgcn-amd-amdhsa--gfx942"
	.protected	_Z3accPf                ; -- Begin function _Z3accPf
_Z3accPf:                               ; @_Z3accPf
.Lfunc_end0:
                                        ; -- End function
; Kernel info:
; codeLenInByte = 68
; NumSgprs: 8
; NumVgprs: 3
; NumAgprs: 16
; TotalNumVgprs: 20
; ScratchSize: 0
; MemoryBound: 0
; FloatMode: 240
; IeeeMode: 1
; LDSByteSize: 2048 bytes/workgroup (compile time only)
; SGPRBlocks: 0
; VGPRBlocks: 2
; NumSGPRsForWavesPerEU: 8
; NumVGPRsForWavesPerEU: 20
; AccumOffset: 4
; Occupancy: 8
; WaveLimiterHint : 0
	.text
	.amdgpu_metadata
---
amdhsa.kernels:
  - .agpr_count:     16
    .args:
      - .address_space:  global
        .offset:         0
        .size:           8
        .value_kind:     global_buffer
    .group_segment_fixed_size: 2048
    .kernarg_segment_align: 8
    .kernarg_segment_size: 8
    .max_flat_workgroup_size: 256
    .name:           _Z3accPf
    .private_segment_fixed_size: 0
    .sgpr_count:     8
    .sgpr_spill_count: 0
    .symbol:         _Z3accPf.kd
    .uniform_work_group_size: 1
    .uses_dynamic_stack: false
    .vgpr_count:     20
    .vgpr_spill_count: 0
    .wavefront_size: 64
amdhsa.target:   amdgcn-amd-amdhsa--gfx942
amdhsa.version:
  - 1
  - 2
...

	.end_amdgpu_metadata
`;

/** `-Rpass-analysis=kernel-resource-usage` for the two kernels above: the second one's position comes from `#line`. */
const REMARKS = `m.hip:5:1: remark: Function Name: scratchy [-Rpass-analysis=kernel-resource-usage]
    5 | extern "C" __global__ void scratchy(float* c, int n) {
      | ^
m.hip:5:1: remark:     SGPRs: 39 [-Rpass-analysis=kernel-resource-usage]
m.hip:5:1: remark:     VGPRs: 21 [-Rpass-analysis=kernel-resource-usage]
m.hip:5:1: remark:     AGPRs: 0 [-Rpass-analysis=kernel-resource-usage]
m.hip:5:1: remark:     ScratchSize [bytes/lane]: 1040 [-Rpass-analysis=kernel-resource-usage]
m.hip:5:1: remark:     Dynamic Stack: False [-Rpass-analysis=kernel-resource-usage]
m.hip:5:1: remark:     Occupancy [waves/SIMD]: 8 [-Rpass-analysis=kernel-resource-usage]
m.hip:5:1: remark:     SGPRs Spill: 0 [-Rpass-analysis=kernel-resource-usage]
m.hip:5:1: remark:     VGPRs Spill: 0 [-Rpass-analysis=kernel-resource-usage]
m.hip:5:1: remark:     LDS Size [bytes/block]: 0 [-Rpass-analysis=kernel-resource-usage]
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: remark: Function Name: second [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: remark:     SGPRs: 10 [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: remark:     VGPRs: 2 [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: remark:     AGPRs: 0 [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: remark:     ScratchSize [bytes/lane]: 0 [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: remark:     Dynamic Stack: False [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: remark:     Occupancy [waves/SIMD]: 8 [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: remark:     SGPRs Spill: 0 [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: remark:     VGPRs Spill: 0 [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
gemm.tile:40:28: remark:     LDS Size [bytes/block]: 0 [-Rpass-analysis=kernel-resource-usage]
   40 | extern "C" __global__ void second(float* c) {
      |                            ^
gemm.tile:40:28: note: could not determine the original source location for gemm.tile:40:0
`;

/** Two errors, the first with a fix-it line. */
const SYNTAX_ERRORS = `kernel.hip:3:43: error: expected ';' at end of declaration
    3 |   int t = __builtin_amdgcn_workitem_id_x()
      |                                           ^
      |                                           ;
kernel.hip:5:3: error: use of undeclared identifier 'undeclared_thing'
    5 |   undeclared_thing(t);
      |   ^
2 errors generated when compiling for gfx942.
`;

/** A warning, then an error inside a macro with its "expanded from macro" note. */
const MACRO_ERROR = `kernel.hip:3:24: warning: non-void function does not return a value [-Wreturn-type]
    3 | int host_only(int x) { }
      |                        ^
kernel.hip:5:10: error: use of undeclared identifier 'undefined_scale'
    5 |   c[0] = LOAD(c, 1);
      |          ^
kernel.hip:2:32: note: expanded from macro 'LOAD'
    2 | #define LOAD(p, i) ((p)[(i)] + undefined_scale)
      |                                ^
1 warning and 1 error generated when compiling for gfx942.
`;

const TOOL_ERROR = `clang-19: error: invalid target ID 'gfx999'; format is a processor name followed by an optional colon-delimited list of features followed by an enable/disable sign (e.g., 'gfx908:sramecc+:xnack-')
`;

// ---------------------------------------------------------------------------------------------
// Pure parsers

describe('parseAmdgpuMetadata', () => {
  it('one report per kernel in the metadata, completed from its "; Kernel info" comments', () => {
    const r = parseAmdgpuMetadata(TWO_KERNELS_GFX90A);
    expect(r).toEqual<AmdResourceReport[]>([
      {
        kernel: 'scratchy',
        arch: 'gfx90a',
        vgprs: 21,
        agprs: 0,
        totalVgprs: 21,
        sgprs: 39,
        vgprSpills: 0,
        sgprSpills: 0,
        scratchBytes: 1040,
        dynamicStack: false,
        ldsBytes: 0,
        occupancyWavesPerSimd: 8,
        wavefrontSize: 64,
        maxFlatWorkgroupSize: 1024,
      },
      {
        kernel: 'second',
        arch: 'gfx90a',
        vgprs: 2,
        agprs: 0,
        totalVgprs: 2,
        sgprs: 10,
        vgprSpills: 0,
        sgprSpills: 0,
        scratchBytes: 0,
        dynamicStack: false,
        ldsBytes: 0,
        occupancyWavesPerSimd: 8,
        wavefrontSize: 64,
        maxFlatWorkgroupSize: 1024,
      },
    ]);
    // The device function's "; Function info" block is not a kernel.
    expect(r.map((k) => k.kernel)).not.toContain('_Z6helperPfi');
  });

  it('AGPRs: vgprs are the architectural ones, totalVgprs the unified file (metadata .vgpr_count)', () => {
    const [k] = parseAmdgpuMetadata(AGPR_GFX942);
    expect(k).toMatchObject({ kernel: '_Z3accPf', arch: 'gfx942', vgprs: 3, agprs: 16, totalVgprs: 20, sgprs: 8, ldsBytes: 2048, maxFlatWorkgroupSize: 256, occupancyWavesPerSimd: 8 });
  });

  it('text without metadata has no kernels', () => {
    expect(parseAmdgpuMetadata('')).toEqual([]);
    expect(parseAmdgpuMetadata('\t.text\n; Kernel info:\n; NumVgprs: 3\n')).toEqual([]);
  });

  it('a target ID with features keeps them (clang quotes it in the YAML)', () => {
    const asm = AGPR_GFX942.replace('"amdgcn-amd-amdhsa--gfx942"', '"amdgcn-amd-amdhsa--gfx90a:xnack+"').replace(
      'amdhsa.target:   amdgcn-amd-amdhsa--gfx942',
      "amdhsa.target:   'amdgcn-amd-amdhsa--gfx90a:xnack+'",
    );
    expect(asm).toContain("'amdgcn-amd-amdhsa--gfx90a:xnack+'");
    expect(parseAmdgpuMetadata(asm)[0]!.arch).toBe('gfx90a:xnack+');
  });
});

describe('parseResourceRemarks', () => {
  it('one entry per "Function Name" remark, at the position clang gave (a #line file too)', () => {
    const r = parseResourceRemarks(REMARKS);
    expect(r).toEqual([
      { kernel: 'scratchy', file: 'm.hip', line: 5, column: 1, sgprs: 39, vgprs: 21, agprs: 0, scratchBytes: 1040, dynamicStack: false, occupancyWavesPerSimd: 8, sgprSpills: 0, vgprSpills: 0, ldsBytes: 0 },
      { kernel: 'second', file: 'gemm.tile', line: 40, column: 28, sgprs: 10, vgprs: 2, agprs: 0, scratchBytes: 0, dynamicStack: false, occupancyWavesPerSimd: 8, sgprSpills: 0, vgprSpills: 0, ldsBytes: 0 },
    ]);
  });

  it('agrees with the metadata on what both report', () => {
    const fromAsm = parseAmdgpuMetadata(TWO_KERNELS_GFX90A);
    for (const [i, rem] of parseResourceRemarks(REMARKS).entries()) {
      const { file: _f, line: _l, column: _c, ...usage } = rem;
      const { arch: _a, totalVgprs: _t, wavefrontSize: _w, maxFlatWorkgroupSize: _m, ...fromMeta } = fromAsm[i]!;
      expect(usage).toEqual(fromMeta);
    }
  });

  it('items joined by " / " on one remark line parse the same', () => {
    const oneLine =
      'k.hip:7:1: remark: Function Name: k [-Rpass-analysis=kernel-resource-usage]\n' +
      'k.hip:7:1: remark:     SGPRs: 14 / VGPRs: 12 / AGPRs: 16 / ScratchSize [bytes/lane]: 0 / Dynamic Stack: True / Occupancy [waves/SIMD]: 8 / SGPRs Spill: 0 / VGPRs Spill: 3 / LDS Size [bytes/block]: 4096 [-Rpass-analysis=kernel-resource-usage]\n';
    expect(parseResourceRemarks(oneLine)).toEqual([
      { kernel: 'k', file: 'k.hip', line: 7, column: 1, sgprs: 14, vgprs: 12, agprs: 16, scratchBytes: 0, dynamicStack: true, occupancyWavesPerSimd: 8, sgprSpills: 0, vgprSpills: 3, ldsBytes: 4096 },
    ]);
  });

  it('no remarks, no entries; other diagnostics are ignored', () => {
    expect(parseResourceRemarks(SYNTAX_ERRORS + MACRO_ERROR)).toEqual([]);
  });
});

describe('parseClangDiagnostics', () => {
  it('file:line:col, severity, message and clang\'s excerpt lines', () => {
    const d = parseClangDiagnostics(SYNTAX_ERRORS);
    expect(d).toHaveLength(2);
    expect(d[0]).toEqual({
      severity: 'error',
      message: "expected ';' at end of declaration",
      file: 'kernel.hip',
      line: 3,
      column: 43,
      snippet: ['    3 |   int t = __builtin_amdgcn_workitem_id_x()', '      |                                           ^', '      |                                           ;'],
    });
    expect(d[1]).toMatchObject({ severity: 'error', message: "use of undeclared identifier 'undeclared_thing'", line: 5, column: 3 });
  });

  it('warnings with their flag, notes, and tool-level messages without a file', () => {
    const d = parseClangDiagnostics(MACRO_ERROR);
    expect(d.map((x) => [x.severity, x.line, x.flag])).toEqual([
      ['warning', 3, 'Wreturn-type'],
      ['error', 5, undefined],
      ['note', 2, undefined],
    ]);
    expect(d[0]!.message).toBe('non-void function does not return a value');
    const [t] = parseClangDiagnostics(TOOL_ERROR);
    expect(t).toEqual({ severity: 'error', message: expect.stringMatching(/^invalid target ID 'gfx999'/), snippet: [] });
    expect(parseClangDiagnostics('kernel.hip:1:1: fatal error: too many errors emitted, stopping now [-ferror-limit=]')[0]).toMatchObject({ severity: 'fatal', flag: 'ferror-limit=' });
  });
});

describe('ToolchainError.format for clang', () => {
  it("draws clang's own marker under the line, at the file clang named", () => {
    const e = new ToolchainError({
      tool: 'clang',
      summary: "clang failed (exit 1): use of undeclared identifier 'nope' (attention.tile:14:14)",
      exitCode: 1,
      stderr: '',
      command: 'clang-19 -x hip … /tmp/k/kernel.hip',
      inputPath: '/tmp/k/kernel.hip',
      file: 'attention.tile',
      line: 14,
      column: 14,
      lineText: '  c[t] = t + nope;',
      marker: '             ^',
      notes: ['kernel.hip:2:32: expanded from macro'],
    });
    expect(e.format()).toBe(
      [
        "error: clang failed (exit 1): use of undeclared identifier 'nope' (attention.tile:14:14)",
        '  --> attention.tile:14:14',
        '   |',
        '14 |   c[t] = t + nope;',
        '   |              ^',
        '   = note: kernel.hip:2:32: expanded from macro',
        '   = reproduce: clang-19 -x hip … /tmp/k/kernel.hip',
      ].join('\n'),
    );
  });

  it('without a location: the message and the command', () => {
    const e = new ToolchainError({ tool: 'clang', summary: 'clang timed out after 5 ms and was killed', exitCode: null, stderr: '', command: 'clang-19 …', timedOut: true });
    expect(e.format()).toBe('error: clang timed out after 5 ms and was killed\n  = reproduce: clang-19 …');
  });
});

// ---------------------------------------------------------------------------------------------
// Finding clang and lld (fake executables)

const scratch = mkdtempSync(join(tmpdir(), 'tilekit-clang-test-'));
const keptDirs = new Set<string>();
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  for (const d of keptDirs) rmSync(d, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('finding clang and its linker', () => {
  const empty = join(scratch, 'empty');
  mkdirSync(empty, { recursive: true });
  const nowhere = join(scratch, 'no-llvm');

  it('looks at TILEKIT_CLANG, then clang-19 on PATH, then <llvm>/bin/clang', () => {
    const c = clangCandidates({ TILEKIT_CLANG: '/x/clang', PATH: `/a${':'}/b` }, '/opt/llvm');
    expect(c.map((x) => x.path)).toEqual(['/x/clang', '/a/clang-19', '/b/clang-19', '/opt/llvm/bin/clang']);
  });

  it('finds clang-19 on PATH before the LLVM folder, and the LLVM folder last', () => {
    const onPath = fakeTool(join(scratch, 'bin'), 'clang-19', 'exit 0');
    const llvm = join(scratch, 'llvm');
    const inLlvm = fakeTool(join(llvm, 'bin'), 'clang', 'exit 0');
    expect(findClang({ PATH: `${empty}:${dirname(onPath)}` }, llvm)).toBe(onPath);
    expect(findClang({ PATH: empty }, llvm)).toBe(inLlvm);
    expect(findClang({ PATH: empty }, nowhere)).toBeUndefined();
  });

  it('TILEKIT_CLANG is taken as given: one that is not there is the error, naming the Debian packages', () => {
    expect(findClang({ TILEKIT_CLANG: '/nonexistent', PATH: empty }, nowhere)).toBe('/nonexistent');
    let err: unknown;
    try {
      requireClang({ TILEKIT_CLANG: '/nonexistent', PATH: empty }, nowhere);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ToolchainMissingError);
    const m = (err as ToolchainMissingError).message;
    expect(m).toContain('TILEKIT_CLANG=/nonexistent (not an executable file');
    expect(m).toContain('apt-get install clang-19 lld-19');
    expect((err as ToolchainMissingError).tool).toBe('clang');
  });

  it('nothing found: every place looked at, and how to install', () => {
    expect(() => requireClang({ PATH: empty }, nowhere)).toThrow(
      new RegExp(`clang not found\\. Looked at:[\\s\\S]*PATH: ${join(empty, 'clang-19')}[\\s\\S]*${join(nowhere, 'bin', 'clang')}[\\s\\S]*apt-get install clang-19 lld-19`),
    );
  });

  it('buildCodeObject with TILEKIT_CLANG=/nonexistent rejects with ToolchainMissingError', async () => {
    vi.stubEnv('TILEKIT_CLANG', '/nonexistent');
    const p = buildCodeObject('', { arch: 'gfx942' });
    await expect(p).rejects.toBeInstanceOf(ToolchainMissingError);
    await expect(p).rejects.toThrow(/apt-get install clang-19 lld-19/);
  });

  it('the linker is the one clang -### names; a bare name means clang found none', () => {
    // A clang whose link step names `lld` without a path: what clang prints when lld is not installed.
    const noLld = fakeTool(join(scratch, 'no-lld'), 'clang', `echo ' "lld" "-flavor" "gnu" "-m" "elf64_amdgpu" "--no-undefined" "-shared"' >&2`);
    expect(findLld(noLld, { PATH: empty })).toBeUndefined();
    expect(probeLinker(noLld, { PATH: empty }).problem).toMatch(/runs `lld` .* found none/);
    let err: unknown;
    try {
      requireClang({ TILEKIT_CLANG: noLld, PATH: empty }, nowhere);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ToolchainMissingError);
    expect((err as ToolchainMissingError).tool).toBe('lld');
    expect((err as ToolchainMissingError).message).toContain('apt-get install clang-19 lld-19');

    const lld = fakeTool(join(scratch, 'with-lld'), 'lld', 'exit 0');
    const withLld = fakeTool(join(scratch, 'with-lld'), 'clang', `echo ' "${lld}" "-flavor" "gnu" "-m" "elf64_amdgpu"' >&2`);
    expect(findLld(withLld, { PATH: empty })).toBe(lld);
    expect(requireClang({ TILEKIT_CLANG: withLld, PATH: empty }, nowhere)).toBe(withLld);
  });

  it('emitting assembly only does not need the linker', async () => {
    // A clang that "compiles" by writing a file where -o says; it has no linker.
    const asmOnly = fakeTool(join(scratch, 'asm-only'), 'clang', 'while [ "$1" != "-o" ]; do shift; done\nprintf "\\t.text\\n" > "$2"');
    const r = await buildCodeObject('', { arch: 'gfx942', clangPath: asmOnly, emit: ['assembly'] });
    expect(r.assembly).toBe('\t.text\n');
    expect(r.codeObject).toBeUndefined();
    expect(r.report).toEqual([]);
    await expect(buildCodeObject('', { arch: 'gfx942', clangPath: asmOnly })).rejects.toThrow(/lld not found/);
  });

  it('rejects bad options before starting anything', async () => {
    await expect(buildCodeObject('', { arch: 'gfx942', optLevel: 4 })).rejects.toThrow(RangeError);
    await expect(buildCodeObject('', { arch: 'gfx942', emit: ['ptx' as 'object'] })).rejects.toThrow(/emit/);
    await expect(buildCodeObject('', { arch: 'gfx942', fileName: '../k.hip' })).rejects.toThrow(/fileName/);
    await expect(buildCodeObject('', { arch: 'gfx942', fileName: 'kernel.s' })).rejects.toThrow(/fileName/);
    await expect(buildCodeObject('', { arch: 'gfx942', defines: { 'A=B': '1' } })).rejects.toThrow(/not a macro name/);
  });
});

// ---------------------------------------------------------------------------------------------
// Real clang

const PRELUDE = `#define __global__ __attribute__((global))
#define __shared__ __attribute__((shared))
`;

/** The brief's sample: 256 floats of LDS, a barrier, at most 256 threads. */
const SAMPLE = `${PRELUDE}extern "C" __global__ __attribute__((amdgpu_flat_work_group_size(1, 256))) void k(float* c) {
  __shared__ float lds[256];
  int t = __builtin_amdgcn_workitem_id_x();
  lds[t] = t; __builtin_amdgcn_s_barrier();
  c[t] = lds[t ^ 1];
}
`;

/** 80 000 bytes of LDS: over the 64 KB gfx942 and gfx90a have. */
const TOO_MUCH_LDS = SAMPLE.replace('__shared__ float lds[256];', '__shared__ float lds[20000];');

/** A local array indexed at run time lives in scratch. */
const SCRATCH = `${PRELUDE}extern "C" __global__ void scratchy(float* c, int n) {
  float a[256];
  int t = __builtin_amdgcn_workitem_id_x();
  for (int i = 0; i < 256; i++) a[(i * 7 + t) & 255] = c[i + t];
  c[t] = a[n & 255];
}
`;

/** 48 floats live across a loop with 24 VGPRs allowed: VGPRs spill to scratch. */
const SPILL = `${PRELUDE}extern "C" __global__ __attribute__((amdgpu_num_vgpr(24))) void spill(float* c, int n) {
  int t = __builtin_amdgcn_workitem_id_x();
  float v[48];
#pragma unroll
  for (int i = 0; i < 48; i++) v[i] = c[t + i * 64];
  for (int k = 0; k < n; k++) {
#pragma unroll
    for (int i = 0; i < 48; i++) v[i] = v[i] * v[(i + 1) % 48] + v[(i + 7) % 48];
  }
#pragma unroll
  for (int i = 0; i < 48; i++) c[t + i * 64] = v[i];
}
`;

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const EM_AMDGPU = 0xe0;

function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line contains ${needle}`);
  return i + 1;
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

/** Runs a reproducing command in a shell: it must fail, and its stderr is returned. */
function shellFails(command: string): string {
  try {
    execSync(command, { stdio: 'pipe' });
  } catch (x) {
    return String((x as { stderr?: Buffer }).stderr ?? '');
  }
  throw new Error(`expected to fail: ${command}`);
}

describe('buildCodeObject (runs clang)', () => {
  const clang = findClang();
  const have = requireTool('clang-19', clang) && requireTool('lld (for clang-19)', clang !== undefined && findLld(clang) !== undefined);

  it.skipIf(!have)('clangVersion reads the release', async () => {
    expect(await clangVersion()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.skipIf(!have)('the sample kernel for gfx942 and gfx90a: an AMDGPU ELF, assembly, and its report', async () => {
    const [r942, r90a] = await Promise.all([buildCodeObject(SAMPLE, { arch: 'gfx942' }), buildCodeObject(SAMPLE, { arch: 'gfx90a' })]);
    for (const [r, arch] of [
      [r942, 'gfx942'],
      [r90a, 'gfx90a'],
    ] as const) {
      const obj = r.codeObject!;
      expect(Array.from(obj.subarray(0, 4))).toEqual(ELF_MAGIC);
      expect(obj.readUInt16LE(18)).toBe(EM_AMDGPU); // e_machine
      expect(r.assembly).toContain(`.amdgcn_target "amdgcn-amd-amdhsa--${arch}"`);
      expect(r.report).toHaveLength(1);
      const k = r.report[0]!;
      expect(k).toMatchObject({ kernel: 'k', arch, ldsBytes: 1024, wavefrontSize: 64, scratchBytes: 0, vgprSpills: 0, sgprSpills: 0, dynamicStack: false, maxFlatWorkgroupSize: 256 });
      expect(k.vgprs).toBeGreaterThan(0);
      expect(k.sgprs).toBeGreaterThan(0);
      expect(k.occupancyWavesPerSimd).toBeGreaterThan(0);
      expect(r.warnings).toEqual([]);
      expect(r.command).toMatch(new RegExp(`--offload-arch=${arch} --cuda-device-only -nogpulib -nogpuinc --no-gpu-bundle-output .*-O3 -c \\S+/kernel\\.hip -o \\S+/kernel\\.hsaco && `));
      // The temp folder is gone after success.
      expect(existsSync(dirname(r.command.split(' ').at(-1)!))).toBe(false);
    }
    // -fuse-cuid=none: the same source gives the same bytes from another temp folder.
    const again = await buildCodeObject(SAMPLE, { arch: 'gfx942', emit: ['object'] });
    expect(again.assembly).toBeUndefined();
    expect(again.report).toEqual(r942.report);
    expect(again.codeObject!.equals(r942.codeObject!)).toBe(true);
  });

  it.skipIf(!have)('defines reach the source', async () => {
    const src = SAMPLE.replace('float lds[256]', 'float lds[N]');
    const r = await buildCodeObject(src, { arch: 'gfx942', defines: { N: '512' }, emit: ['assembly'] });
    expect(r.report[0]!.ldsBytes).toBe(2048);
  });

  it.skipIf(!have)('scratch and spills show in the report; the remarks agree with the metadata', async () => {
    const remarks = ['-Rpass-analysis=kernel-resource-usage'];
    const [s, sp] = await Promise.all([buildCodeObject(SCRATCH, { arch: 'gfx942', extraArgs: remarks, emit: [] }), buildCodeObject(SPILL, { arch: 'gfx90a', extraArgs: remarks, emit: [] })]);
    expect(s.report[0]!.scratchBytes).toBeGreaterThanOrEqual(1024); // the float[256]
    expect(sp.report[0]!.vgprSpills).toBeGreaterThan(0);
    expect(sp.report[0]!.scratchBytes).toBeGreaterThan(0);
    for (const r of [s, sp]) {
      const [rem] = parseResourceRemarks(r.log);
      const { file, line, column: _c, ...usage } = rem!;
      const { arch: _a, totalVgprs: _t, wavefrontSize: _w, maxFlatWorkgroupSize: _m, ...fromMeta } = r.report[0]!;
      expect(usage).toEqual(fromMeta);
      expect(file).toMatch(/kernel\.hip$/);
      expect(line).toBe(3);
    }
  });

  it.skipIf(!have)('warnings are returned, naming the file by its name', async () => {
    const r = await buildCodeObject(`${SAMPLE}int host_only(int x) { }\n`, { arch: 'gfx942', emit: ['assembly'] });
    expect(r.warnings).toEqual([`kernel.hip:${lineOf(SAMPLE, 'c[t] = lds') + 2}:24: non-void function does not return a value [-Wreturn-type]`]);
  });

  it.skipIf(!have)("too much LDS: ToolchainError with clang's message and a command that reproduces it", async () => {
    const e = await failure(buildCodeObject(TOO_MUCH_LDS, { arch: 'gfx942' }));
    expect(e.tool).toBe('clang');
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain("local memory (80000) exceeds limit (65536) in 'k'");
    expect(e.line).toBe(lineOf(TOO_MUCH_LDS, 'void k('));
    expect(e.file).toBe(e.inputPath);
    expect(e.format()).toContain(`${e.line} | ${e.lineText}`);
    expect(readFileSync(e.inputPath!, 'utf8')).toBe(TOO_MUCH_LDS);
    expect(shellFails(e.command)).toContain('local memory (80000) exceeds limit (65536)');
    // The same input fails into the same folder.
    const again = await failure(buildCodeObject(TOO_MUCH_LDS, { arch: 'gfx942' }));
    expect(again.inputPath).toBe(e.inputPath);
  });

  it.skipIf(!have)('a syntax error: file, line and column, the line, the marker, and the count of the rest', async () => {
    const src = `${PRELUDE}extern "C" __global__ void syn(float* c) {\n  int t = __builtin_amdgcn_workitem_id_x()\n  c[t] = t;\n  undeclared_thing(t);\n}\n`;
    const e = await failure(buildCodeObject(src, { arch: 'gfx942' }));
    const line = lineOf(src, 'int t =');
    expect(e.message).toMatch(new RegExp(`^clang failed \\(exit 1\\): expected ';' at end of declaration \\(kernel\\.hip:${line}:43\\) \\(and 1 more error\\)`));
    expect([e.line, e.column]).toEqual([line, 43]);
    expect(e.lineText).toBe('  int t = __builtin_amdgcn_workitem_id_x()');
    expect(e.marker).toBe(`${' '.repeat(42)}^`);
    expect(e.diagnostics.filter((d) => d.severity === 'error')).toHaveLength(2);
    expect(e.format()).toContain(`--> ${e.inputPath}:${line}:43`);
  });

  it.skipIf(!have)('through #line, the error names the .tile file and line clang reported', async () => {
    const src = `${PRELUDE}#line 12 "attention.tile"\nextern "C" __global__ void syn(float* c) {\n  int t = __builtin_amdgcn_workitem_id_x();\n  c[t] = t + nope;\n}\n`;
    const e = await failure(buildCodeObject(src, { arch: 'gfx90a' }));
    expect([e.file, e.line, e.column]).toEqual(['attention.tile', 14, 14]);
    expect(e.lineText).toBe('  c[t] = t + nope;');
    expect(e.format()).toContain('--> attention.tile:14:14');
    // The command still names the kept .hip file.
    expect(e.command).toContain(e.inputPath);
  });

  it.skipIf(!have)('a compile that outlives timeoutMs is killed: ToolchainError, timedOut', async () => {
    const e = await failure(buildCodeObject(SAMPLE, { arch: 'gfx942', timeoutMs: 1 }));
    expect(e.timedOut).toBe(true);
    expect(e.exitCode).toBeNull();
    expect(e.message).toMatch(/timed out after 1 ms/);
  });
});
