/** The emulator end to end on small hand-written PTX: arguments, memory, control flow, findings, statistics. */
import { describe, expect, it } from 'vitest';
import { emulate } from '../../runtime/emulator/emulate.js';

const HEADER = '.version 8.0\n.target sm_80\n.address_size 64\n';

const SCALE = `${HEADER}
.visible .entry scale(.param .u64 x, .param .u64 y, .param .f32 s, .param .u32 n)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .f32 %f<4>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [x];
  ld.param.u64 %rd2, [y];
  ld.param.f32 %f1, [s];
  ld.param.u32 %r1, [n];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.u32 %p1, %r5, %r1;
  @%p1 bra $L_end;
  cvta.to.global.u64 %rd3, %rd1;
  cvta.to.global.u64 %rd4, %rd2;
  mul.wide.u32 %rd5, %r5, 4;
  add.s64 %rd6, %rd3, %rd5;
  add.s64 %rd7, %rd4, %rd5;
  ld.global.f32 %f2, [%rd6];
  mul.f32 %f3, %f2, %f1;
  st.global.f32 [%rd7], %f3;
$L_end:
  ret;
}
`;

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
