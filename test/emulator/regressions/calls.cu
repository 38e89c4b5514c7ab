// Regression kernels for the PTX emulator: device-function calls, module globals, const space.
// Built to calls.ptx by ./build.sh; run by ../regressions.test.ts.

// Guards against: two out-of-line calls in one kernel whose call-site `.param`s differ in type
// (scale_d's first param is .b64, twice's is .b32) being given each other's param layout.
// Expected: out[t] = 2 * p[t], iout[t] = 2t + 1.
__device__ __noinline__ double scale_d(const double* p, int i) { return p[i] * 2.0; }
__device__ __noinline__ int twice(int x) { return x * 2 + 1; }
extern "C" __global__ void call_params(const double* p, double* out, int* iout) {
  int t = threadIdx.x;
  out[t] = scale_d(p, t);
  iout[t] = twice(t);
}

// Guards against: a pointer into __constant__ memory (made generic by `cvta.const`) passed to a
// device function and dereferenced there with generic loads; also __device__ globals with
// initializers, an atomic on a __device__ int, and a 64-bit __constant__ scalar.
// Expected (one CTA of 32, k = 3): out[t] = c_tab[(t+k)%6] + g_table[t%5], out[32] = 210
// (sum of c_tab), out[33] = 1.5 + 2.5 - 3 + 4.25, out64 = {0x123456789abc, 32}.
__device__ int g_counter;
__device__ float g_table[5] = {1.5f, 2.5f, -3.0f, 4.25f, 1e30f};
__constant__ float c_tab[6] = {10.f, 20.f, 30.f, 40.f, 50.f, 60.f};
__constant__ long long c_big = 0x123456789abcLL;
__device__ __noinline__ float sum_ptr(const float* p, int n) { float s = 0; for (int i = 0; i < n; i++) s += p[i]; return s; }
extern "C" __global__ void globals_consts(float* out, long long* out64, int k) {
  int t = threadIdx.x;
  int old = atomicAdd(&g_counter, 1);
  out[t] = c_tab[(t + k) % 6] + g_table[t % 5];
  __syncthreads();
  if (t == 0) { out64[0] = c_big; out64[1] = g_counter; out[blockDim.x] = sum_ptr(c_tab, 6); out[blockDim.x + 1] = sum_ptr(g_table, 4); }
  (void)old;
}

// Guards against: mutual recursion between device functions (f calls g calls f) silently running
// with one shared frame per function and returning wrong values. The emulator does not model
// recursion, so it must refuse the kernel with an EmulatorInputError
// ("recursive calls are not supported", with a PTX line).
__device__ __noinline__ int rec_g(int n);
__device__ __noinline__ int rec_f(int n) { return n <= 0 ? 0 : n * 3 + rec_g(n - 1) * 5; }
__device__ __noinline__ int rec_g(int n) { return n <= 0 ? 1 : (n ^ 5) + rec_f(n - 1) * 7; }
extern "C" __global__ void mutual_recursion(int* out) { out[threadIdx.x] = rec_f(threadIdx.x); }
