/**
 * A hand-written guarded elementwise PTX kernel, `entry(x, y, a: f32, n: u32)`:
 * thread i < n computes y[i] = x[i]·a (`op: 'mul'`) or y[i] = x[i]·a + y[i] (`op: 'fma'`).
 */
export const PTX_HEADER = '.version 8.0\n.target sm_80\n.address_size 64\n';

export function elementwisePtx(entry: string, op: 'mul' | 'fma'): string {
  const compute =
    op === 'mul'
      ? '  mul.f32 %f4, %f2, %f1;'
      : '  ld.global.f32 %f3, [%rd7];\n  fma.rn.f32 %f4, %f2, %f1, %f3;';
  return `${PTX_HEADER}.visible .entry ${entry}(.param .u64 x, .param .u64 y, .param .f32 a, .param .u32 n)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .f32 %f<5>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [x];
  ld.param.u64 %rd2, [y];
  ld.param.f32 %f1, [a];
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
${compute}
  st.global.f32 [%rd7], %f4;
$L_end:
  ret;
}
`;
}
