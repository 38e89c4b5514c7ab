// Regression kernels for the PTX emulator: memory instructions.
// Built to memory.ptx by ./build.sh; run by ../regressions.test.ts.

// Guards against: cp.async with src-size 0 (zero fill) reading its source (here past the end of
// `in`: a false out-of-bounds finding) or leaving the destination uninitialized. Expected: the
// tail of s is zero, out[t] = s[4t] + s[127 - t], no findings.
extern "C" __global__ void cp_zfill(const float* in, float* out, int n) {
  __shared__ __align__(16) float s[128];
  int t = threadIdx.x;
  const float* src = in + t * 4;
  unsigned dst = (unsigned)__cvta_generic_to_shared(&s[t * 4]);
  int bytes = (t * 4 < n) ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(dst), "l"(src), "r"(bytes));
  asm volatile("cp.async.wait_all;" ::: "memory");
  __syncthreads();
  out[t] = s[t * 4] + s[127 - t];
}

// Guards against: ld.global.s8 / ld.global.s16 into a 64-bit register zero-extending instead of
// sign-extending (-128 read as 128). Expected: out = {a[t], b[t], a[t] * b[t]} as int64.
extern "C" __global__ void narrow_loads(const signed char* a, const short* b, long long* out) {
  int t = threadIdx.x;
  long long x, y;
  asm volatile("ld.global.s8 %0, [%1];" : "=l"(x) : "l"(a + t));
  asm volatile("ld.global.s16 %0, [%1];" : "=l"(y) : "l"(b + t));
  out[t * 3] = x; out[t * 3 + 1] = y; out[t * 3 + 2] = (long long)a[t] * (long long)b[t];
}
