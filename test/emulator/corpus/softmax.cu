// Row softmax, one block per row: out[r][c] = exp(x[r][c] - max_r) / sum_c exp(x[r][c] - max_r).
// Each thread strides over the row; the max and the sum are reduced across the block with
// __shfl_xor_sync inside warps and a shared-memory step across warps.
// softmax_rows uses expf (accurate), softmax_rows_fast uses __expf (ex2.approx).
//
// Launch: grid (rows,1,1), block (B,1,1) with B a multiple of 32 and at most 1024; cols is any size.

__device__ __forceinline__ float warp_max(float v) {
  for (int m = 16; m > 0; m >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, m));
  return v;
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}

// Every thread gets the block-wide result. `scratch` holds one value per warp.
template <bool IS_MAX>
__device__ __forceinline__ float block_all_reduce(float v, float* scratch) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int num_warps = blockDim.x >> 5;
  v = IS_MAX ? warp_max(v) : warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const float identity = IS_MAX ? -INFINITY : 0.0f;
  v = lane < num_warps ? scratch[lane] : identity;
  v = IS_MAX ? warp_max(v) : warp_sum(v);
  __syncthreads();  // scratch is reused by the next reduction
  return v;
}

template <bool FAST>
__device__ __forceinline__ void softmax_row(const float* __restrict__ x, float* __restrict__ out, int cols) {
  __shared__ float scratch[32];
  const float* row = x + static_cast<size_t>(blockIdx.x) * cols;
  float* out_row = out + static_cast<size_t>(blockIdx.x) * cols;

  float m = -INFINITY;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, row[c]);
  m = block_all_reduce<true>(m, scratch);

  float s = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) s += FAST ? __expf(row[c] - m) : expf(row[c] - m);
  s = block_all_reduce<false>(s, scratch);

  const float inv = 1.0f / s;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    const float e = FAST ? __expf(row[c] - m) : expf(row[c] - m);
    out_row[c] = e * inv;
  }
}

extern "C" __global__ void softmax_rows(const float* __restrict__ x, float* __restrict__ out, int cols) {
  softmax_row<false>(x, out, cols);
}

extern "C" __global__ void softmax_rows_fast(const float* __restrict__ x, float* __restrict__ out, int cols) {
  softmax_row<true>(x, out, cols);
}
