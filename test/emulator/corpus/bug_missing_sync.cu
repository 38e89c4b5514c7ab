// PLANTED BUG (shared-memory race): a tree reduction in shared memory with no __syncthreads()
// between the steps, so a thread reads s[tid + stride] while (or before) the thread owning that
// element is still updating it in the previous step.
// Launch: grid (G,1,1), block (B,1,1) with B a power of two <= 256; partial has G floats.

extern "C" __global__ void reduce_no_sync(const float* __restrict__ in, float* __restrict__ partial, int n) {
  __shared__ float s[256];
  const int tid = threadIdx.x;
  const int i = blockIdx.x * blockDim.x + tid;
  s[tid] = i < n ? in[i] : 0.0f;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (tid < stride) s[tid] += s[tid + stride];  // BUG: no __syncthreads() after each step: races with the previous step
  }
  if (tid == 0) partial[blockIdx.x] = s[0];
}
