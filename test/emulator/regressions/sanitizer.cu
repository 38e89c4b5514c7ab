// Regression kernels for the PTX emulator's sanitizer: bugs it once missed.
// Built to sanitizer.ptx by ./build.sh; run by ../regressions.test.ts.

// Guards against: atomics on shared memory that was never initialized going unreported (an atomic
// reads its target, so it must report 'uninitialized-read').
extern "C" __global__ void bug_atomic_uninit(const int* in, int* out) {
  __shared__ int h[8];
  int t = threadIdx.x;
  atomicAdd(&h[in[t] & 7], 1);  // BUG: h never zeroed
  __syncthreads();
  if (t < 8) out[t] = h[t];
}

// Guards against: "atomics do not race" being applied to an atomic that races with a plain store
// to the same shared word (no barrier between them): must report 'shared-race'.
extern "C" __global__ void bug_atomic_plain(int* out) {
  __shared__ int s;
  int t = threadIdx.x;
  if (t == 0) s = 5;           // BUG: plain store
  atomicAdd(&s, 1);            // races with the store above (no barrier)
  __syncthreads();
  if (t == 0) out[0] = s;
}

// Guards against: a write-after-read inside one warp going unreported when the written word was
// read by two lanes (its own lane t and lane t-1): the write by lane t must race with lane t-1's
// read, since no __syncwarp orders them. Must report 'shared-race'.
extern "C" __global__ void bug_rr_w(const float* in, float* out) {
  __shared__ float s[32];
  int t = threadIdx.x;
  s[t] = in[t];
  __syncwarp();
  float a = s[t];
  float b = s[(t + 1) & 31];
  s[t] = a + b;                // BUG: lane t-1 read s[t] above, no __syncwarp
  __syncwarp();
  out[t] = s[t];
}
