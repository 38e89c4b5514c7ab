// PLANTED BUG (barrier divergence): __syncthreads() inside a data-dependent branch, so only the
// threads whose value is positive reach it; the others never arrive.
// Launch: grid (ceil(n/B),1,1), block (B,1,1) with B <= 256.

extern "C" __global__ void normalize_positive(const float* __restrict__ in, float* __restrict__ out, int n) {
  __shared__ float s[256];
  const int tid = threadIdx.x;
  const int i = blockIdx.x * blockDim.x + tid;
  float v = i < n ? in[i] : 0.0f;
  s[tid] = v;
  if (v > 0.0f) {
    __syncthreads();  // BUG: only the threads with v > 0 reach this barrier
    v = v / fmaxf(s[0], 1.0f);
  }
  if (i < n) out[i] = v;
}
