import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findClang } from '../../compiler/toolchain/clang.js';
import { findClangxx } from '../../runtime/hip-cpu/hip-cpu-backend.js';
import { cli } from '../support/cli.js';
import { pointAtNoGpuDriver } from '../support/fake-cuda.js';
import { requireTool } from '../support/toolchains.js';



const COPY = `kernel copy(x: f32[N], y: f32[N])
  tune { B in [64, 128]; }
  grid [cdiv(N, B)]
{
  let i = program_id(0) * B;
  store(y[i : B], load(x[i : B]));
}
`;

const TWO_KERNELS_TS = `import { tile } from 'tilekit/dsl';
export const copy = tile\`${COPY}\`;
export const scale = tile\`
kernel scale(x: f32[N], y: f32[N], s: f32) grid [cdiv(N, 64)] {
  let i = program_id(0) * 64;
  store(y[i : 64], load(x[i : 64]) * s);
}
\`;
`;

let dir: string;
let copyFile: string;
let badFile: string;
let hostFile: string;
const path = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tilekit-cli-'));
  copyFile = path('copy.tile');
  badFile = path('bad.tile');
  hostFile = path('kernels.ts');
  await writeFile(copyFile, COPY);
  await writeFile(badFile, 'kernel broken(x: f32[N]) grid [1] {\n  let = 3;\n}\n');
  await writeFile(hostFile, TWO_KERNELS_TS);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const x100 = Array.from({ length: 100 }, (_, i) => i * 0.5 - 7);

describe('usage', () => {
  it('--help exits 0 and lists the commands', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const c of ['check', 'ir', 'run']) expect(r.out).toContain(c);
  });

  it('run --help exits 0 and lists its flags', async () => {
    const r = await cli('run', '--help');
    expect(r.code).toBe(0);
    for (const f of ['--backend', '--args', '--out', '--config', '--const', '--kernel']) expect(r.out).toContain(f);
  });

  it('no command, an unknown command, an unknown option or a missing argument exit 2', async () => {
    expect((await cli()).code).toBe(2);
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("unknown command 'frobnicate'");
    expect((await cli('check', '--frob', copyFile)).code).toBe(2);
    expect((await cli('check')).code).toBe(2);
    const noArgs = await cli('run', copyFile, '--out', path('o.json'));
    expect(noArgs.code).toBe(2);
    expect(noArgs.err).toContain('--args');
  });

  it('malformed --config entries exit 2 naming the entry', async () => {
    const r = await cli('ir', copyFile, '--config', 'B=64,x');
    expect(r.code).toBe(2);
    expect(r.err).toContain("--config: expected NAME=VALUE, found 'x'");
  });

  it('the same name in --config and --const exits 2', async () => {
    const r = await cli('ir', copyFile, '--config', 'B=64', '--const', 'B=128');
    expect(r.code).toBe(2);
    expect(r.err).toContain("'B' is given in both --config and --const");
  });
});

describe('run: backends', () => {
  it('an unknown backend exits 2 listing the valid names', async () => {
    const r = await cli('run', copyFile, '--backend', 'cuda', '--args', path('a.json'), '--out', path('o.json'));
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown backend 'cuda': expected one of interpret, emulate, hip-cpu, gpu");
  });
});

describe('lsp', () => {
  it('needs --stdio (exit 2): it has no other transport', async () => {
    const r = await cli('lsp');
    expect(r.code).toBe(2);
    expect(r.err).toContain('tilekit lsp needs --stdio');
  });
});

describe('check', () => {
  it('a syntax error exits 1 with a rendered diagnostic', async () => {
    const r = await cli('check', badFile);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[TK\d{4}\]/);
    expect(r.err).toMatch(/^\s*\|\s*\^+/m); // the caret line
    expect(r.out).toMatch(/bad\.tile: .*[1-9]\d* errors?/);
  });

  it('a valid kernel exits 0 with a summary line', async () => {
    const r = await cli('check', copyFile);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/copy\.tile: 1 kernel, \d+ configurations checked, 0 errors, 0 warnings/);
  });

  it('checks every file and fails when any fails', async () => {
    const r = await cli('check', copyFile, badFile);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toHaveLength(2);
  });

  it('a missing file exits 1', async () => {
    const r = await cli('check', path('nope.tile'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('TK0100');
  });
});

describe('ir', () => {
  it('prints the IR of the kernel (--kernel optional with one kernel)', async () => {
    const r = await cli('ir', copyFile);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('load');
    expect(r.out).toContain('store');
  });

  it('takes a configuration', async () => {
    const r = await cli('ir', copyFile, '--kernel', 'copy', '--config', 'B=128');
    expect(r.code).toBe(0);
    expect(r.out).toContain('128');
  });

  it('an unknown tunable or a bad value is a diagnostic: exit 1', async () => {
    expect((await cli('ir', copyFile, '--config', 'BM=64')).code).toBe(1);
    const r = await cli('ir', copyFile, '--config', 'B=96');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[TK\d{4}\]/);
  });

  it('chooses the template that defines the kernel in a .ts file', async () => {
    const r = await cli('ir', hostFile, '--kernel', 'scale');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('scale');
    const none = await cli('ir', hostFile);
    expect(none.code).toBe(1);
    expect(none.err).toContain('choose one with --kernel');
    const missing = await cli('ir', hostFile, '--kernel', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("no kernel named 'nope'");
  });
});

describe('run --backend interpret', () => {
  it('copies x into y for N = 100 (a ragged edge), with y omitted', async () => {
    const args = path('copy-args.json');
    const out = path('copy-out.json');
    await writeFile(args, JSON.stringify({ args: { x: { dtype: 'f32', shape: [100], data: x100 }, y: { dtype: 'f32', shape: [100] } } }));
    const r = await cli('run', copyFile, '--kernel', 'copy', '--backend', 'interpret', '--args', args, '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/copy.*B=64.*interpret.*ms/);
    const written = JSON.parse(await readFile(out, 'utf8')) as {
      outputs: Record<string, { dtype: string; shape: number[]; data: unknown[] }>;
      backend: string;
      config: Record<string, unknown>;
    };
    expect(written.backend).toBe('interpret');
    expect(written.config).toEqual({ B: 64 });
    expect(written.outputs.y).toEqual({ dtype: 'f32', shape: [100], data: x100 });
    expect(written.outputs.x?.data).toEqual(x100);
  });

  it('takes --config (B=128: one program covers all 100)', async () => {
    const args = path('copy-args-128.json');
    const out = path('copy-out-128.json');
    await writeFile(args, JSON.stringify({ args: { x: { dtype: 'f32', shape: [100], data: x100 }, y: { dtype: 'f32', shape: [100] } } }));
    const r = await cli('run', copyFile, '--config', 'B=128', '--args', args, '--out', out);
    expect(r.code).toBe(0);
    const written = JSON.parse(await readFile(out, 'utf8')) as { outputs: { y: { data: unknown[] } }; config: unknown };
    expect(written.config).toEqual({ B: 128 });
    expect(written.outputs.y.data).toEqual(x100);
  });

  it('bad args exit 2, naming every bad parameter', async () => {
    const args = path('bad-args.json');
    await writeFile(args, JSON.stringify({ args: { x: { dtype: 'f16', shape: [100], data: x100 }, y: { dtype: 'f32', shape: [99] }, z: 1 } }));
    const r = await cli('run', copyFile, '--args', args, '--out', path('never.json'));
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown argument 'z'");
    expect(r.err).toMatch(/argument 'x'.*dtype "f16"/);
    expect(r.err).toMatch(/dim 'N' is bound to two sizes: 100 by 'x' axis 0 and 99 by 'y' axis 0/);
  });

  it('invalid JSON exits 2 with the parser message and the path', async () => {
    const args = path('broken.json');
    await writeFile(args, '{"args": {');
    const r = await cli('run', copyFile, '--args', args, '--out', path('never.json'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(args);
    expect(r.err).toContain('invalid JSON');
  });

  it('a missing args file exits 2', async () => {
    const r = await cli('run', copyFile, '--args', path('absent.json'), '--out', path('never.json'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('absent.json');
  });

  it('a runtime failure exits 1', async () => {
    const big = path('big.tile');
    const args = path('big-args.json');
    await writeFile(big, 'kernel big(y: f32[N], g: i32) grid [g] {\n  store(y[0 : 64], zeros([64], f32));\n}\n');
    await writeFile(args, JSON.stringify({ args: { y: { dtype: 'f32', shape: [3] }, g: 100_000_000 } }));
    const r = await cli('run', big, '--args', args, '--out', path('never.json'));
    expect(r.code).toBe(1);
    expect(r.err).toContain("kernel 'big' failed at run time");
  });

  it('a kernel with errors exits 1', async () => {
    const args = path('copy-args.json');
    const r = await cli('run', badFile, '--args', args, '--out', path('never.json'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[TK\d{4}\]/);
  });
});

describe('tilekit selftest', () => {
  const hasAmdTools = requireTool('clang-19', findClang() !== undefined && findClangxx() !== undefined);

  it('runs the chosen kernels against their references and ends with a pass/fail count', async () => {
    const r = await cli('selftest', '--kernel', 'mlp_down', '--seed', '3');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('seed 3');
    expect(r.out).toMatch(/mlp_down .* interpret .* L1 +ok/);
    expect(r.out).toMatch(/mlp_down .* emulate .* L3 +ok/);
    if (hasAmdTools) {
      expect(r.out).toMatch(/mlp_down .* hip-cpu .* L3 +ok/);
      expect(r.out).toContain('6 passed, 0 failed');
    } else {
      expect(r.out).toContain('clang-19 not found');
      expect(r.out).toContain('4 passed, 0 failed');
    }
  });

  it('--backend limits the run to one backend', async () => {
    const r = await cli('selftest', '--kernel', 'mlp_down', '--backend', 'interpret');
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain(' emulate ');
    expect(r.out).toContain('2 passed, 0 failed');
    expect((await cli('selftest', '--backend', 'cuda')).code).toBe(2);
  });

  it('without a GPU driver: gpu is left out with a note by default, and asking for it exits 1', async () => {
    const restore = pointAtNoGpuDriver();
    try {
      const r = await cli('selftest', '--kernel', 'mlp_down', '--backend', 'interpret', '--backend', 'gpu');
      expect(r.code).toBe(1);
      expect(r.err).toContain('error: --backend gpu: no GPU driver found');
      const d = await cli('selftest', '--kernel', 'mlp_down', '--seed', '3');
      expect(d.out).toContain('(gpu not run: no GPU driver found');
      expect(d.out).not.toMatch(/ gpu +[\d.]/);
    } finally {
      restore();
    }
  });

  it('rejects an unknown kernel and a malformed seed with exit 2', async () => {
    expect((await cli('selftest', '--kernel', 'nope')).code).toBe(2);
    const bad = await cli('selftest', '--seed', 'x');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('non-negative integer');
  });
});
