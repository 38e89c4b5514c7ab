// Regression kernels for the PTX emulator: multi-word integer arithmetic with carry chains.
// Built to math.ptx by ./build.sh; run by ../regressions.test.ts.

// Guards against: wrong carries in extended-precision integer instructions. CUDA's double sin()
// reduces large arguments (Payne-Hanek) with mad.lo.cc.u64 / madc.hi.cc.u64 chains; a wrong carry
// gives a wrong result only for large |x|. Expected: Math.sin(x) within 1e-15 relative.
extern "C" __global__ void k_sin_d(const double* a, double* out) { out[threadIdx.x] = sin(a[threadIdx.x]); }

// Guards against: wrong carry/borrow in add.cc / addc / mul.hi on 64-bit registers, as used by
// unsigned __int128 arithmetic. Expected: y = x + (lo << 32) + 3x mod 2^128, exact.
extern "C" __global__ void int128(const unsigned long long* a, unsigned long long* out) {
  int t = threadIdx.x;
  unsigned __int128 x = ((unsigned __int128)a[2*t] << 64) | a[2*t+1];
  unsigned __int128 y = x + ((unsigned __int128)a[2*t+1] << 32) + x * 3u;
  out[2*t] = (unsigned long long)(y >> 64); out[2*t+1] = (unsigned long long)y;
}
