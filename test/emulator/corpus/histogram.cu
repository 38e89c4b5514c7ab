// Atomics.
//
// histogram: 64-bin histogram of `value % 64` — per-block bins in shared memory (atomicAdd on
// shared), then one atomicAdd per non-empty bin into the global bins (which start zeroed).
// Launch: grid (G,1,1), block (B,1,1); bins has NUM_BINS u32 elements, zero-filled.
//
// atomics_misc: one global atomic of each kind, all order-independent so the result is
// deterministic: a float max built from an atomicCAS loop, atomicMin/Max (signed), atomicAnd/Or/Xor,
// atomicInc (wrapping counter), atomicAdd on unsigned long long and on float (integer-valued,
// so exact in any order), and atomicExch whose returned old values are recorded per thread
// (old values + final value = the initial value + every thread's value, as multisets).
// Launch: grid (G,1,1), block (B,1,1); see the parameter comments for buffer sizes.

#define NUM_BINS 64

extern "C" __global__ void histogram(const unsigned* __restrict__ values, unsigned* __restrict__ bins, int n) {
  __shared__ unsigned local_bins[NUM_BINS];
  for (int b = threadIdx.x; b < NUM_BINS; b += blockDim.x) local_bins[b] = 0;
  __syncthreads();

  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
    atomicAdd(&local_bins[values[i] % NUM_BINS], 1u);
  __syncthreads();

  for (int b = threadIdx.x; b < NUM_BINS; b += blockDim.x) {
    const unsigned count = local_bins[b];
    if (count != 0) atomicAdd(&bins[b], count);
  }
}

// Float atomic max via compare-and-swap on the bit pattern.
__device__ float atomic_max_float(float* addr, float value) {
  int* addr_as_int = reinterpret_cast<int*>(addr);
  int old = *addr_as_int;
  while (__int_as_float(old) < value) {
    const int assumed = old;
    old = atomicCAS(addr_as_int, assumed, __float_as_int(value));
    if (old == assumed) break;
  }
  return __int_as_float(old);
}

// Shared-memory counterpart, used for a per-block max that thread 0 then publishes. It never reads
// the location non-atomically: the first CAS starts from a guess (-inf) and returns the real value.
__device__ float atomic_max_float_shared(float* addr, float value) {
  unsigned* addr_as_u = reinterpret_cast<unsigned*>(addr);
  unsigned old = 0xff800000u;  // -inf
  while (__uint_as_float(old) < value) {
    const unsigned assumed = old;
    old = atomicCAS(addr_as_u, assumed, __float_as_uint(value));
    if (old == assumed) break;
  }
  return __uint_as_float(old);
}

extern "C" __global__ void atomics_misc(const int* __restrict__ ivals,   // [n]
                                        const float* __restrict__ fvals, // [n]
                                        int* __restrict__ iresult,       // [2]: [0] min (init INT_MAX), [1] max (init INT_MIN)
                                        unsigned* __restrict__ uresult,  // [5]: [0] and (init ~0), [1] or, [2] xor, [3] inc counter, [4] exch slot
                                        float* __restrict__ fresult,     // [2]: [0] CAS max (init -inf), [1] sum (init 0)
                                        float* __restrict__ fblock,      // [gridDim.x]: per-block CAS max through shared memory
                                        unsigned long long* __restrict__ wide_sum, // [1]
                                        unsigned* __restrict__ exch_old, // [n]: value atomicExch returned to thread i
                                        unsigned* __restrict__ inc_old,  // [n]: value atomicInc returned to thread i
                                        unsigned inc_limit, int n) {
  __shared__ float block_max;
  if (threadIdx.x == 0) block_max = __int_as_float(0xff800000);  // -inf
  __syncthreads();

  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    const int v = ivals[i];
    const unsigned u = static_cast<unsigned>(v);
    const float f = fvals[i];
    atomicMin(&iresult[0], v);
    atomicMax(&iresult[1], v);
    atomicAnd(&uresult[0], u | 0x80000001u);
    atomicOr(&uresult[1], u & 0x0f0f0f0fu);
    atomicXor(&uresult[2], u);
    inc_old[i] = atomicInc(&uresult[3], inc_limit);
    exch_old[i] = atomicExch(&uresult[4], u);
    atomic_max_float(&fresult[0], f);
    atomicAdd(&fresult[1], static_cast<float>(v & 0xff));
    atomicAdd(wide_sum, static_cast<unsigned long long>(u) << 8);
    atomic_max_float_shared(&block_max, f);
  }
  __syncthreads();
  if (threadIdx.x == 0) fblock[blockIdx.x] = block_max;
}
