// Sum of a float array: each thread accumulates a grid-stride slice, warps reduce with
// __shfl_down_sync, warp totals meet in shared memory, and warp 0 reduces them.
// One partial sum per block; the host adds the partials.
//
// Launch: grid (G,1,1), block (B,1,1) with B a multiple of 32 and at most 1024.

__device__ __forceinline__ float warp_reduce_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

extern "C" __global__ void block_reduce_sum(const float* __restrict__ in, float* __restrict__ partial, int n) {
  __shared__ float warp_sums[32];
  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;

  float v = 0.0f;
  for (int i = blockIdx.x * blockDim.x + tid; i < n; i += blockDim.x * gridDim.x) v += in[i];

  v = warp_reduce_sum(v);
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();

  if (warp == 0) {
    const int num_warps = blockDim.x >> 5;
    v = lane < num_warps ? warp_sums[lane] : 0.0f;
    v = warp_reduce_sum(v);
    if (lane == 0) partial[blockIdx.x] = v;
  }
}
