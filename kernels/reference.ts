/** Float64 reference implementations the kernels are checked against. All tensors are row-major. */

export interface AttentionDims {
  B: number; // batch
  H: number; // query heads
  HKV: number; // key/value heads (H % HKV === 0)
  S: number; // query length
  T: number; // key/value length
  D: number; // head dimension
}

function checkDims(fn: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${fn}: ${name} must be a non-negative integer, got ${v}`);
  }
}

function checkLen(fn: string, name: string, t: ArrayLike<number>, shape: string, expected: number): void {
  if (t.length !== expected) {
    throw new Error(`${fn}: ${name} has length ${t.length}, expected ${shape} = ${expected}`);
  }
}

export function silu(z: number): number {
  return z / (1 + Math.exp(-z));
}

/** c[M,N] = a[M,K] · b[K,N]. */
export function gemmRef(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number): Float64Array {
  checkDims('gemmRef', { M, K, N });
  checkLen('gemmRef', 'a', a, 'M*K', M * K);
  checkLen('gemmRef', 'b', b, 'K*N', K * N);
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) {
      const aik = a[i * K + k];
      for (let j = 0; j < N; j++) c[i * N + j] += aik * b[k * N + j];
    }
  }
  return c;
}

/**
 * o[B,H,S,D] = softmax(scale · q·kᵀ) · v with q [B,H,S,D], k and v [B,HKV,T,D].
 * Query head h reads KV head floor(h / (H / HKV)) (torch repeat_interleave).
 * Causal is bottom-right aligned (PyTorch causal_lower_right): query i sees key j iff j ≤ i + T − S;
 * a row that sees no key outputs 0.
 */
export function attentionRef(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dims: AttentionDims,
  scale: number,
  causal: boolean,
): Float64Array {
  const { B, H, HKV, S, T, D } = dims;
  checkDims('attentionRef', { B, H, HKV, S, T, D });
  if (HKV === 0 || H % HKV !== 0) throw new Error(`attentionRef: H (${H}) must be a multiple of HKV (${HKV})`);
  checkLen('attentionRef', 'q', q, 'B*H*S*D', B * H * S * D);
  checkLen('attentionRef', 'k', k, 'B*HKV*T*D', B * HKV * T * D);
  checkLen('attentionRef', 'v', v, 'B*HKV*T*D', B * HKV * T * D);
  const group = H / HKV;
  const o = new Float64Array(B * H * S * D);
  const p = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvBase = (b * HKV + Math.floor(h / group)) * T * D;
      for (let i = 0; i < S; i++) {
        const qBase = ((b * H + h) * S + i) * D;
        const visible = causal ? Math.max(0, Math.min(T, i + T - S + 1)) : T; // keys 0..visible-1
        if (visible === 0) continue; // row stays 0
        let max = -Infinity;
        for (let j = 0; j < visible; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[qBase + d] * k[kvBase + j * D + d];
          p[j] = scale * dot;
          max = Math.max(max, p[j]);
        }
        let sum = 0;
        for (let j = 0; j < visible; j++) {
          p[j] = Math.exp(p[j] - max); // subtracting the max keeps exp from overflowing
          sum += p[j];
        }
        for (let j = 0; j < visible; j++) {
          const w = p[j] / sum;
          for (let d = 0; d < D; d++) o[qBase + d] += w * v[kvBase + j * D + d];
        }
      }
    }
  }
  return o;
}

/** h[M,F] = silu(x·wg) ⊙ (x·wu) with x [M,E], wg and wu [E,F]. */
export function mlpGateUpRef(
  x: ArrayLike<number>,
  wg: ArrayLike<number>,
  wu: ArrayLike<number>,
  M: number,
  E: number,
  F: number,
): Float64Array {
  checkDims('mlpGateUpRef', { M, E, F });
  checkLen('mlpGateUpRef', 'x', x, 'M*E', M * E);
  checkLen('mlpGateUpRef', 'wg', wg, 'E*F', E * F);
  checkLen('mlpGateUpRef', 'wu', wu, 'E*F', E * F);
  const g = gemmRef(x, wg, M, E, F);
  const u = gemmRef(x, wu, M, E, F);
  for (let i = 0; i < g.length; i++) g[i] = silu(g[i]) * u[i];
  return g;
}

/** y[M,E] = h·wd + r with h [M,F], wd [F,E], r [M,E]. */
export function mlpDownRef(
  h: ArrayLike<number>,
  wd: ArrayLike<number>,
  r: ArrayLike<number>,
  M: number,
  F: number,
  E: number,
): Float64Array {
  checkDims('mlpDownRef', { M, F, E });
  checkLen('mlpDownRef', 'h', h, 'M*F', M * F);
  checkLen('mlpDownRef', 'wd', wd, 'F*E', F * E);
  checkLen('mlpDownRef', 'r', r, 'M*E', M * E);
  const y = gemmRef(h, wd, M, F, E);
  for (let i = 0; i < y.length; i++) y[i] += r[i];
  return y;
}
