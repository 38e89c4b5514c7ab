// Regression kernels for the PTX emulator: barriers and warp collectives that must run clean.
// Built to sync.ptx by ./build.sh; run by ../regressions.test.ts.

// Guards against: false findings (deadlock, barrier-divergence, shared-race) for a producer warp
// that signals with `bar.arrive 1, 64` and a consumer warp that waits with `bar.sync 1, 64`.
// Expected: out[i] = 2 * in[31 - i], no findings.
extern "C" __global__ void named_barrier(const float* in, float* out) {
  __shared__ float buf[32];
  int t = threadIdx.x;
  if (t < 32) {                         // producer warp
    buf[t] = in[t] * 2.f;
    asm volatile("bar.arrive 1, 64;" ::: "memory");
  } else {                              // consumer warp
    asm volatile("bar.sync 1, 64;" ::: "memory");
    out[t - 32] = buf[63 - t];
  }
}

// Guards against: a 'barrier-divergence' finding for the non-.aligned `barrier.sync 0` reached at
// two different instructions (legal: only `bar.sync` / `barrier.sync.aligned` require the same one).
// Expected: out[t] = in[63 - t] + (in[t] odd ? 1 : 2), no findings.
extern "C" __global__ void nonaligned_barrier(const int* in, int* out) {
  __shared__ int s[64];
  int t = threadIdx.x;
  s[t] = in[t];
  if (in[t] & 1) { asm volatile("barrier.sync 0;" ::: "memory"); out[t] = s[63 - t] + 1; }
  else           { asm volatile("barrier.sync 0;" ::: "memory"); out[t] = s[63 - t] + 2; }
}

// Clean case kept as a regression test: a 2-D block (12 x 8 = 96 threads, so warps span rows);
// linear thread ids, lanes, a warp shuffle across rows and a transposed shared-tile read.
extern "C" __global__ void block2d(int* out, int* tile_out) {
  __shared__ int tile[8][12];
  int tx = threadIdx.x, ty = threadIdx.y;
  int lin = ty * blockDim.x + tx;
  int lane = lin & 31;
  int nb = __shfl_down_sync(0xffffffffu, lin, 1);  // neighbour in warp (lane+1), own for lane 31
  tile[ty][tx] = lin * 10 + blockIdx.x;
  __syncthreads();
  int t = tile[7 - ty][11 - tx];
  out[blockIdx.x * 96 + lin] = nb * 1000 + lane;
  tile_out[blockIdx.x * 96 + lin] = t;
}

// Clean case kept as a regression test: __syncthreads_count / _and / _or (bar.red.popc/and/or).
extern "C" __global__ void sync_preds(int* out, int n) {
  int t = threadIdx.x;
  int c = __syncthreads_count(t % 3 == 0 && t < n);
  int a = __syncthreads_and(t < n);
  int o = __syncthreads_or(t == 77);
  out[t * 3 + 0] = c; out[t * 3 + 1] = a; out[t * 3 + 2] = o;
}

// Clean case kept as a regression test: shuffles with width < 32 (segments of 8, 16 and 4 lanes;
// shfl's c operand packs the segment mask).
extern "C" __global__ void shfl_width(const int* in, int* out) {
  int t = threadIdx.x;
  int v = in[t];
  int s8 = v;
  for (int d = 4; d > 0; d >>= 1) s8 += __shfl_down_sync(0xffffffffu, s8, d, 8);
  int x16 = __shfl_xor_sync(0xffffffffu, v, 5, 16);
  int up4 = __shfl_up_sync(0xffffffffu, v, 1, 4);
  int idx8 = __shfl_sync(0xffffffffu, v, t + 3, 8);
  out[t * 4 + 0] = s8; out[t * 4 + 1] = x16; out[t * 4 + 2] = up4; out[t * 4 + 3] = idx8;
}

// Clean case kept as a regression test: atomicAdd on a global double and on shared floats.
extern "C" __global__ void atomics_fd(const float* in, double* gsum, float* out) {
  __shared__ float ssum[4];
  int t = threadIdx.x;
  if (t < 4) ssum[t] = 0.f;
  __syncthreads();
  atomicAdd(&ssum[t & 3], in[blockIdx.x * blockDim.x + t]);
  atomicAdd(gsum, (double)in[blockIdx.x * blockDim.x + t] * 0.25);
  __syncthreads();
  if (t < 4) out[blockIdx.x * 4 + t] = ssum[t];
}
