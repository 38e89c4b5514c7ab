// PLANTED BUG (uninitialized shared memory): a 3-point stencil that stages the block's elements
// in shared memory with one halo slot on each side, but never loads the halo, so the first and
// last thread of every block read a slot no thread wrote.
// Launch: grid (ceil(n/B),1,1), block (B,1,1) with B <= 256.

extern "C" __global__ void stencil_no_halo(const float* __restrict__ in, float* __restrict__ out, int n) {
  __shared__ float s[256 + 2];
  const int tid = threadIdx.x;
  const int i = blockIdx.x * blockDim.x + tid;
  s[tid + 1] = i < n ? in[i] : 0.0f;
  // (missing: the halo, s[0] = in[first - 1] and s[blockDim.x + 1] = in[last + 1])
  __syncthreads();
  if (i < n) {
    out[i] = (s[tid] + s[tid + 1] + s[tid + 2]) / 3.0f;  // BUG: s[0] and s[blockDim.x + 1] were never written
  }
}
