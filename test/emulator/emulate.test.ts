/** The emulator end to end on small hand-written PTX: arguments, memory, control flow, findings, statistics. */
import { describe, expect, it } from 'vitest';
import { emulate } from '../../runtime/emulator/emulate.js';
import { PTX_HEADER, elementwisePtx } from '../support/ptx-fixtures.js';

const HEADER = PTX_HEADER;

const SCALE = elementwisePtx('scale', 'mul');

describe('emulate', () => {
  it('runs a guarded elementwise kernel over a ragged grid', () => {
    const n = 100;
    const x = Array.from({ length: n }, (_, i) => i - 50);
    const r = emulate(SCALE, 'scale', { grid: [4, 1, 1], block: [32, 1, 1] }, [
      { type: 'ptr', dtype: 'f32', data: x },
      { type: 'ptr', dtype: 'f32', size: n },
      { type: 'f32', value: 0.5 },
      { type: 'u32', value: n },
    ]);
    expect(r.findings, JSON.stringify(r.findings, null, 1)).toEqual([]);
    expect(r.buffers[1]!.data).toEqual(x.map((v) => v * 0.5));
    expect(r.stats.global.requests).toBeGreaterThan(0);
    // 4-byte accesses by 32 consecutive lanes: 4 sectors per request.
    expect(r.stats.global.sectors / r.stats.global.requests).toBeLessThanOrEqual(4.5);
  });

  it('reports an out-of-bounds store with its PTX line', () => {
    const n = 100;
    const r = emulate(SCALE, 'scale', { grid: [4, 1, 1], block: [32, 1, 1] }, [
      { type: 'ptr', dtype: 'f32', data: new Array(n + 8).fill(1) },
      { type: 'ptr', dtype: 'f32', size: n - 4 },
      { type: 'f32', value: 2 },
      { type: 'u32', value: n + 8 },
    ]);
    const oob = r.findings.find((f) => f.kind === 'out-of-bounds');
    expect(oob?.instruction).toContain('st.global.f32');
    expect(oob?.ptxLine).toBe(SCALE.split('\n').findIndex((l) => l.includes('st.global.f32')) + 1);
  });
});

/** A kernel `k(.param .u64 out)` with the given body; %rd1 holds the global address of `out`. */
function kernel(body: string, decls = ''): string {
  return `${HEADER}
.visible .entry k(.param .u64 out)
{
  .reg .pred %p<4>;
  .reg .b32 %r<16>;
  .reg .f32 %f<8>;
  .reg .b64 %rd<8>;
  ${decls}
  ld.param.u64 %rd1, [out];
  cvta.to.global.u64 %rd1, %rd1;
  mov.u32 %r1, %tid.x;
${body}
  ret;
}
`;
}

function run(ptx: string, block = 32, out: Parameters<typeof emulate>[3][number] = { type: 'ptr', dtype: 'u32', size: 64, fill: 'zero' }, maxSteps?: number) {
  return emulate(ptx, 'k', { grid: [1, 1, 1], block: [block, 1, 1] }, [out], maxSteps ? { maxSteps } : {});
}

describe('sanitizer findings', () => {
  it('misaligned: a 4-byte load at an odd address', () => {
    const r = run(kernel('  ld.global.u32 %r2, [%rd1+2];'));
    expect(r.findings.map((f) => f.kind)).toEqual(['misaligned']);
    expect(r.findings[0]!.message).toContain('not 4-byte aligned');
  });

  it('uninitialized-read: a poisoned buffer read before any write', () => {
    const r = run(kernel('  ld.global.u32 %r2, [%rd1];\n  st.global.u32 [%rd1+4], %r2;'), 1, { type: 'ptr', dtype: 'u32', size: 4, fill: 'poison' });
    expect(r.findings.map((f) => f.kind)).toEqual(['uninitialized-read']);
  });

  it('step-limit: an infinite loop is reported, not waited for', () => {
    const r = run(kernel('$L_spin:\n  add.s32 %r2, %r2, 1;\n  bra $L_spin;'), 32, undefined, 100_000);
    expect(r.findings.map((f) => f.kind)).toEqual(['step-limit']);
    expect(r.findings[0]!.instruction).toMatch(/add|bra/);
  });

  it('deadlock: half the block waits at a barrier the other half never reaches', () => {
    const body = [
      '  setp.lt.u32 %p1, %r1, 32;',
      '  @%p1 bra $L_wait;',
      '$L_spin:',
      '  bar.sync 1, 64;',
      '  bra $L_done;',
      '$L_wait:',
      '  bar.sync 0;',
      '$L_done:',
    ].join('\n');
    const r = run(kernel(body), 64);
    expect(r.findings.some((f) => f.kind === 'deadlock' || f.kind === 'barrier-divergence')).toBe(true);
  });

  it('trap stops the launch with a finding', () => {
    const r = run(kernel('  trap;'));
    expect(r.findings.map((f) => f.kind)).toEqual(['trap']);
  });

  it('cp-async-read-before-wait: shared data read before cp.async.wait_group', () => {
    const decls = '.shared .align 16 .b8 buf[512];';
    const body = [
      '  mul.lo.u32 %r2, %r1, 4;',
      '  mov.u32 %r3, buf;',
      '  add.u32 %r4, %r3, %r2;',
      '  cvt.u64.u32 %rd2, %r2;',
      '  add.s64 %rd3, %rd1, %rd2;',
      '  cp.async.ca.shared.global [%r4], [%rd3], 4;',
      '  cp.async.commit_group;',
      '  ld.shared.u32 %r5, [%r4];',
      '  cp.async.wait_group 0;',
      '  ld.shared.u32 %r6, [%r4];',
      '  st.global.u32 [%rd3], %r6;',
    ].join('\n');
    const r = run(kernel(body, decls), 32, { type: 'ptr', dtype: 'u32', data: Array.from({ length: 32 }, (_, i) => i * 3) });
    expect(r.findings.map((f) => f.kind)).toEqual(['cp-async-read-before-wait']);
    expect(r.findings[0]!.instruction).toBe('ld.shared.u32 %r5, [%r4]');
    expect(r.buffers[0]!.data).toEqual(Array.from({ length: 32 }, (_, i) => i * 3));
  });
});

describe('control flow', () => {
  it('call and ret pass parameters through .param space', () => {
    const ptx = `${HEADER}
.func (.param .b32 ret0) twice(.param .b32 a0)
{
  .reg .b32 %r<3>;
  ld.param.b32 %r1, [a0];
  add.s32 %r2, %r1, %r1;
  st.param.b32 [ret0], %r2;
  ret;
}
.visible .entry k(.param .u64 out)
{
  .reg .b32 %r<4>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  cvta.to.global.u64 %rd1, %rd1;
  mov.u32 %r1, %tid.x;
  {
    .param .b32 p0;
    .param .b32 r0;
    st.param.b32 [p0], %r1;
    call.uni (r0), twice, (p0);
    ld.param.b32 %r2, [r0];
  }
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r2;
  ret;
}
`;
    const r = emulate(ptx, 'k', { grid: [1, 1, 1], block: [8, 1, 1] }, [{ type: 'ptr', dtype: 'u32', size: 8 }]);
    expect(r.findings).toEqual([]);
    expect(r.buffers[0]!.data).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
  });
});

describe('bad input is an EmulatorInputError with a position', () => {
  it('a PTX syntax error names line and column', () => {
    expect(() => run(kernel('  add.s32 %r2, %r2 1;'))).toThrow(/^\d+:\d+: PTX syntax error/);
  });
  it('an unknown kernel lists the entries', () => {
    expect(() => emulate(SCALE, 'nope', { grid: [1, 1, 1], block: [1, 1, 1] }, [])).toThrow(/no kernel .* named 'nope'.*scale/);
  });
  it('a wrong argument count or type', () => {
    expect(() => emulate(SCALE, 'scale', { grid: [1, 1, 1], block: [1, 1, 1] }, [])).toThrow(/takes 4 parameters, 0 arguments/);
    expect(() =>
      emulate(SCALE, 'scale', { grid: [1, 1, 1], block: [1, 1, 1] }, [
        { type: 'i32', value: 1 },
        { type: 'ptr', dtype: 'f32', size: 1 },
        { type: 'f32', value: 1 },
        { type: 'u32', value: 1 },
      ]),
    ).toThrow(/argument 0 is i32 \(4 bytes\), but parameter x is \.u64/);
  });
  it('an unsupported instruction is named with its line, before anything runs', () => {
    const ptx = kernel('  tex.1d.v4.f32.f32 {%f1, %f2, %f3, %f4}, [%rd1, {%f5}];');
    expect(() => run(ptx)).toThrow(/unsupported instruction: tex\.1d\.v4\.f32\.f32/);
  });
});
