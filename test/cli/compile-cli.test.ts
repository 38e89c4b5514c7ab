/**
 * `tilekit compile` (PTX, ptxas, .cubin and the .json launch contract) and
 * `tilekit run --backend emulate [--target]` (equal to the interpreter on ragged shapes).
 * Tests that run the real ptxas skip where it is missing, unless TILEKIT_REQUIRE_TOOLCHAINS=1.
 */
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli } from '../support/cli.js';
import { findPtxas } from '../../compiler/toolchain/ptxas.js';
import { requireTool } from '../support/toolchains.js';
import { ADD2, SCALE } from '../support/tile-fixtures.js';


const hasPtxas = requireTool('ptxas', findPtxas());

let dir: string;
const path = (name: string): string => join(dir, name);


/** Deterministic values that are exact in f16 (and so in f32), with a sign mix. */
const values = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => (((i * 37 + seed * 11) % 199) - 99) * 0.0625);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tilekit-compile-'));
  await writeFile(path('scale.tile'), SCALE);
  await writeFile(path('add2.tile'), ADD2);
  await writeFile(
    path('scale-args.json'),
    JSON.stringify({ args: { x: { dtype: 'f32', shape: [1000], data: values(1000, 1) }, y: { dtype: 'f32', shape: [1000] }, s: 0.375 } }),
  );
  await writeFile(
    path('add2-args.json'),
    JSON.stringify({
      args: {
        a: { dtype: 'f16', shape: [37, 100], data: values(3700, 2) },
        b: { dtype: 'f16', shape: [37, 100], data: values(3700, 3).map((v) => v * 0.75) },
        c: { dtype: 'f16', shape: [37, 100] },
      },
    }),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('tilekit compile', () => {
  it.skipIf(!hasPtxas)('writes .ptx, .cubin and .json for sm_80 and prints the resource report', async () => {
    const out = path('out-scale');
    const r = await cli('compile', path('scale.tile'), '--kernel', 'scale', '--target', 'sm_80', '--config', 'B=256', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^scale \[B=256,WARPS=4\] for sm_80: \d+ registers?, (no spills|spills \d+ bytes stored, \d+ bytes loaded), shared memory \d+ static \+ \d+ dynamic bytes, \d+ barriers?, 128 threads; ptxas \d+ ms$/m);
    expect((await readdir(out)).sort()).toEqual(['scale.sm_80.cubin', 'scale.sm_80.json', 'scale.sm_80.ptx']);

    const ptx = await readFile(join(out, 'scale.sm_80.ptx'), 'utf8');
    const cubin = await readFile(join(out, 'scale.sm_80.cubin'));
    const json = JSON.parse(await readFile(join(out, 'scale.sm_80.json'), 'utf8'));
    expect(ptx).toMatch(/\.target\s+sm_80/);
    expect(ptx).toContain(`.entry ${json.entry}`);
    expect([...cubin.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]); // ELF
    expect(json).toMatchObject({ kernel: 'scale', target: 'sm_80', threads: 128, config: { B: 256, WARPS: 4 } });
    expect(json).not.toHaveProperty('ptx');
    // The ABI: tensors, then shape symbols, then strides (none for 1-D tensors), then scalars.
    expect(json.params).toEqual([
      { kind: 'tensor', name: expect.any(String), tensor: 'x', dtype: 'f32' },
      { kind: 'tensor', name: expect.any(String), tensor: 'y', dtype: 'f32' },
      { kind: 'dim', name: expect.any(String), dim: 'N' },
      { kind: 'scalar', name: expect.any(String), dtype: 'f32' },
    ]);
    expect(json.resources).toMatchObject({ function: json.entry, kind: 'entry', arch: 'sm_80' });
    expect(json.resources.registers).toBeGreaterThan(0);
    expect(typeof json.ptxas.ms).toBe('number');
    expect(Number.isInteger(json.dynamicSmem)).toBe(true);
    expect(Array.isArray(json.spanMap)).toBe(true);
  });

  it.skipIf(!hasPtxas)('a 2-D f16 kernel for sm_90a: strides for every axis but the last', async () => {
    const out = path('out-add2');
    const r = await cli('compile', path('add2.tile'), '--target', 'sm_90a', '--config', 'BM=32', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/add2 \[BM=32,BN=64,WARPS=4\] for sm_90a: \d+ registers?/);
    const json = JSON.parse(await readFile(join(out, 'add2.sm_90a.json'), 'utf8'));
    expect(json.target).toBe('sm_90a');
    expect(json.resources.arch).toBe('sm_90a');
    expect(json.params.map((p: { kind: string; tensor?: string; dim?: string; axis?: number }) => [p.kind, p.tensor ?? p.dim, p.axis])).toEqual([
      ['tensor', 'a', undefined],
      ['tensor', 'b', undefined],
      ['tensor', 'c', undefined],
      ['dim', 'M', undefined],
      ['dim', 'N', undefined],
      ['stride', 'a', 0],
      ['stride', 'b', 0],
      ['stride', 'c', 0],
    ]);
    expect(await readFile(join(out, 'add2.sm_90a.ptx'), 'utf8')).toMatch(/\.target\s+sm_90a/);
  });

  it('--no-assemble writes only the .ptx (ptxas is not needed)', async () => {
    vi.stubEnv('TILEKIT_PTXAS', path('no-such-ptxas'));
    const out = path('out-noptxas');
    const r = await cli('compile', path('scale.tile'), '--target', 'sm_80', '--no-assemble', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(await readdir(out)).toEqual(['scale.sm_80.ptx']);
    expect(r.out).toContain(join(out, 'scale.sm_80.ptx'));
  });

  it('ptxas missing: exit 1, saying where it looked and how to install it; the .ptx is kept', async () => {
    vi.stubEnv('TILEKIT_PTXAS', path('no-such-ptxas'));
    const out = path('out-missing');
    const r = await cli('compile', path('scale.tile'), '--target', 'sm_80', '-o', out);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: ptxas not found');
    expect(r.err).toContain(`TILEKIT_PTXAS=${path('no-such-ptxas')}`);
    expect(r.err).toContain('CUDA toolkit');
    expect(await readdir(out)).toEqual(['scale.sm_80.ptx']);
  });

  it('ptxas failing: exit 1 with the PTX line, a caret and the command that reproduces it', async () => {
    const fake = path('fake-ptxas.sh');
    await writeFile(fake, `#!/bin/sh\nfor a; do last="$a"; done\necho "ptxas $last, line 3; error   : Unknown symbol 'zzz'" >&2\nexit 255\n`);
    await chmod(fake, 0o755);
    vi.stubEnv('TILEKIT_PTXAS', fake);
    const r = await cli('compile', path('scale.tile'), '--target', 'sm_80', '-o', path('out-fail'));
    expect(r.code).toBe(1);
    expect(r.err).toContain("error: ptxas failed (exit 255): Unknown symbol 'zzz' (PTX line 3)");
    expect(r.err).toMatch(/^3 \| /m);
    expect(r.err).toMatch(/^\s*\|\s*\^+/m);
    expect(r.err).toMatch(/= reproduce: .*fake-ptxas\.sh -arch=sm_80 .*-lineinfo/);
  });

  it('--target sm_70 exits 2 naming the valid targets; a missing --target exits 2', async () => {
    const r = await cli('compile', path('scale.tile'), '--target', 'sm_70');
    expect(r.code).toBe(2);
    expect(r.err).toContain("--target: unknown target 'sm_70': expected one of sm_80, sm_90a");
    const none = await cli('compile', path('scale.tile'));
    expect(none.code).toBe(2);
    expect(none.err).toContain('--target');
  });

  it('errors in the kernel exit 1 (no such kernel, a rejected --config value)', async () => {
    expect((await cli('compile', path('scale.tile'), '--kernel', 'nope', '--target', 'sm_80', '--no-assemble', '-o', path('o1'))).code).toBe(1);
    expect((await cli('compile', path('scale.tile'), '--config', 'B=100', '--target', 'sm_80', '--no-assemble', '-o', path('o2'))).code).toBe(1);
  });

  it('compile --help lists its flags', async () => {
    const r = await cli('compile', '--help');
    expect(r.code).toBe(0);
    for (const f of ['--target', '--out-dir', '--no-assemble', '--config', '--const', '--kernel']) expect(r.out).toContain(f);
  });
});

describe('tilekit run --backend emulate', () => {
  /** Runs the kernel on both backends; `emuFlags` (`--target`) go to the emulate run only. */
  async function both(
    file: string,
    argsFile: string,
    flags: string[],
    emuFlags: string[] = [],
  ): Promise<{ interp: Record<string, unknown>; emu: Record<string, unknown>; out: string }> {
    const tag = [...flags, ...emuFlags].join('_').replace(/[^A-Za-z0-9_]/g, '');
    const oi = path(`interp-${tag}.json`);
    const oe = path(`emu-${tag}.json`);
    const ri = await cli('run', path(file), ...flags, '--backend', 'interpret', '--args', path(argsFile), '--out', oi);
    expect(ri.code, ri.err).toBe(0);
    const re = await cli('run', path(file), ...flags, ...emuFlags, '--backend', 'emulate', '--args', path(argsFile), '--out', oe);
    expect(re.code, re.err).toBe(0);
    return { interp: JSON.parse(await readFile(oi, 'utf8')), emu: JSON.parse(await readFile(oe, 'utf8')), out: re.out };
  }

  it.each(['128', '256'])('scale B=%s at N=1000 writes the interpreter\'s outputs, with backend, target and no findings', async (B) => {
    const { interp, emu, out } = await both('scale.tile', 'scale-args.json', ['--config', `B=${B}`]);
    expect(emu.outputs).toEqual(interp.outputs);
    expect(emu).toMatchObject({ backend: 'emulate', target: 'sm_80', findings: [], config: interp.config });
    expect(out).toMatch(new RegExp(`^scale \\[B=${B},WARPS=4\\]: grid \\[${B === '128' ? 8 : 4}\\] ran on emulate \\(sm_80\\) in [\\d.]+ ms, \\d+ thread-instructions, 0 sanitizer findings; wrote `));
  });

  it.each([
    ['16', 'sm_80'],
    ['32', 'sm_90a'],
  ])('add2 BM=%s (%s) at 37x100 f16 writes the interpreter\'s outputs', async (BM, target) => {
    // sm_80 is the default target: give --target only for sm_90a.
    const { interp, emu } = await both('add2.tile', 'add2-args.json', ['--config', `BM=${BM}`], target === 'sm_80' ? [] : ['--target', target]);
    expect(emu.outputs).toEqual(interp.outputs);
    expect(emu).toMatchObject({ backend: 'emulate', target, findings: [] });
    expect((emu.outputs as { c: { data: unknown[] } }).c.data).not.toContain('NaN');
  });

  it('--target sm_70 exits 2; --target with the interpret backend exits 2', async () => {
    const bad = await cli('run', path('scale.tile'), '--backend', 'emulate', '--target', 'sm_70', '--args', path('scale-args.json'), '--out', path('x.json'));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--target: unknown target 'sm_70': expected one of sm_80, sm_90a, gfx942, gfx90a");
    const interp = await cli('run', path('scale.tile'), '--target', 'sm_80', '--args', path('scale-args.json'), '--out', path('x.json'));
    expect(interp.code).toBe(2);
    expect(interp.err).toContain('--target applies to --backend emulate, hip-cpu and gpu, not to');
    const amd = await cli('run', path('scale.tile'), '--backend', 'emulate', '--target', 'gfx942', '--args', path('scale-args.json'), '--out', path('x.json'));
    expect(amd.code).toBe(2);
    expect(amd.err).toContain('--target gfx942 does not fit --backend emulate');
  });

  it('run --help lists --target', async () => {
    const r = await cli('run', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--target');
  });
});
