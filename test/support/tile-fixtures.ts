/** Small elementwise kernels in the tile language, for backend and CLI tests. */

/** y = x · s over a 1-D tensor (a blocked layout). */
export const SCALE = `kernel scale(x: f32[N], y: f32[N], s: f32)
  tune { B in [128, 256]; WARPS in [4]; }
  grid [cdiv(N, B)]
{
  let i = program_id(0) * B;
  store(y[i : B], load(x[i : B]) * s);
}
`;

/** c = a + b over 2-D f16 tiles. */
export const ADD2 = `kernel add2(a: f16[M, N], b: f16[M, N], c: f16[M, N])
  tune { BM in [16, 32]; BN in [64]; WARPS in [4]; }
  grid [cdiv(M, BM), cdiv(N, BN)]
{
  let m0 = program_id(0) * BM;
  let n0 = program_id(1) * BN;
  store(c[m0 : BM, n0 : BN], load(a[m0 : BM, n0 : BN]) + load(b[m0 : BM, n0 : BN]));
}
`;
