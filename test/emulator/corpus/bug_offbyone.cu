// PLANTED BUG (out-of-bounds): meant to compute out[i] = 2 * in[i], but the store is shifted by
// one, so the thread with i == n - 1 writes one element past the end of `out`.
// Launch: grid (ceil(n/B),1,1), block (B,1,1); in and out have n floats.

extern "C" __global__ void scale_shifted(const float* __restrict__ in, float* __restrict__ out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    const float v = in[i];
    out[i + 1] = 2.0f * v;  // BUG: should be out[i]; i == n - 1 writes out[n]
  }
}
