// Double-buffered global -> shared copies with the cuda_pipeline.h primitives (cp.async on sm_80+):
// while a block computes on one shared-memory stage, the next tile is already in flight into the
// other. Tiles are assigned grid-stride, so every block runs the loop several times.
//
// cp_async_pipeline: 4-byte copies (cp.async.ca); out[i] = x[i] + a * x[i ^ 1] (the neighbour
//   was copied by another thread, hence __syncthreads after the wait). x past n counts as 0.
//   Launch: grid (G,1,1), block (B,1,1), B even and <= 256.
// cp_async_vec4: 16-byte copies (cp.async.cg) with zero fill for the ragged tail: each thread
//   copies 4 floats, of which only the ones below n come from global memory. Each thread reads
//   only what it copied itself, so waiting for its own groups is enough.
//   out[i] = x[i] * a + b, and sums[v] = sum of the 4 staged floats of vector v (zeros included).
//   Launch: grid (G,1,1), block (B,1,1), B <= 128; sums has ceil(n/4) elements.

#include <cuda_pipeline.h>

extern "C" __global__ void cp_async_pipeline(const float* __restrict__ in, float* __restrict__ out, int n, float a) {
  __shared__ __align__(16) float stage[2][256];
  const int tid = threadIdx.x;
  const int tile = blockDim.x;
  const int num_tiles = (n + tile - 1) / tile;

  int t = blockIdx.x;
  if (t < num_tiles) {
    const int i = t * tile + tid;
    if (i < n) __pipeline_memcpy_async(&stage[0][tid], &in[i], sizeof(float));
  }
  __pipeline_commit();

  int buf = 0;
  for (; t < num_tiles; t += gridDim.x) {
    const int next = t + gridDim.x;
    if (next < num_tiles) {
      const int j = next * tile + tid;
      if (j < n) __pipeline_memcpy_async(&stage[buf ^ 1][tid], &in[j], sizeof(float));
    }
    __pipeline_commit();
    __pipeline_wait_prior(1);  // everything but the group just committed has landed
    __syncthreads();           // ... for every thread of the block

    const int i = t * tile + tid;
    if (i < n) {
      const int nb = tid ^ 1;
      const float right = t * tile + nb < n ? stage[buf][nb] : 0.0f;
      out[i] = stage[buf][tid] + a * right;
    }
    __syncthreads();  // all reads of stage[buf] are done before it is refilled
    buf ^= 1;
  }
}

extern "C" __global__ void cp_async_vec4(const float* __restrict__ in, float* __restrict__ out, float* __restrict__ sums,
                                         int n, float a, float b) {
  __shared__ __align__(16) float stage[2][4 * 128];
  const int tid = threadIdx.x;
  const int tile = 4 * blockDim.x;  // floats per tile
  const int num_tiles = (n + tile - 1) / tile;

  int t = blockIdx.x;
  int buf = 0;
  if (t < num_tiles) {
    const int base = t * tile + 4 * tid;
    const int valid = min(max(n - base, 0), 4);
    __pipeline_memcpy_async(&stage[0][4 * tid], valid > 0 ? &in[base] : in, 16, (4 - valid) * sizeof(float));
  }
  __pipeline_commit();

  for (; t < num_tiles; t += gridDim.x) {
    const int next = t + gridDim.x;
    if (next < num_tiles) {
      const int base = next * tile + 4 * tid;
      const int valid = min(max(n - base, 0), 4);
      __pipeline_memcpy_async(&stage[buf ^ 1][4 * tid], valid > 0 ? &in[base] : in, 16,
                              (4 - valid) * sizeof(float));
    }
    __pipeline_commit();
    __pipeline_wait_prior(1);

    const int base = t * tile + 4 * tid;
    const float* s = &stage[buf][4 * tid];
    for (int k = 0; k < 4; ++k) {
      if (base + k < n) out[base + k] = s[k] * a + b;
    }
    if (base < n) sums[base / 4] = s[0] + s[1] + s[2] + s[3];
    buf ^= 1;
  }
  __pipeline_wait_prior(0);
}
