// Block-wide inclusive scans (prefix sums) of int32 over dynamic shared memory: each block scans
// its own blockDim.x-element segment of `in` and writes the segment's total to block_sums.
// Elements past n count as 0 (ragged tail).
//
// scan_hillis_steele: double-buffered Hillis-Steele scan, log2(blockDim.x) steps.
//   Launch: grid (ceil(n/B),1,1), block (B,1,1), dynamic smem = 2 * B * sizeof(int).
// scan_warp_shuffle: __shfl_up_sync scan inside each warp, then the warp totals are scanned by
//   warp 0 and added back.
//   Launch: grid (ceil(n/B),1,1), block (B,1,1) with B a multiple of 32,
//   dynamic smem = (B / 32) * sizeof(int).

extern "C" __global__ void scan_hillis_steele(const int* __restrict__ in, int* __restrict__ out,
                                              int* __restrict__ block_sums, int n) {
  extern __shared__ int smem[];  // two buffers of blockDim.x ints
  const int tid = threadIdx.x;
  const int i = blockIdx.x * blockDim.x + tid;
  int* src = smem;
  int* dst = smem + blockDim.x;

  src[tid] = i < n ? in[i] : 0;
  __syncthreads();
  for (int offset = 1; offset < blockDim.x; offset <<= 1) {
    dst[tid] = tid >= offset ? src[tid] + src[tid - offset] : src[tid];
    __syncthreads();
    int* t = src;
    src = dst;
    dst = t;
  }
  if (i < n) out[i] = src[tid];
  if (tid == blockDim.x - 1) block_sums[blockIdx.x] = src[tid];
}

extern "C" __global__ void scan_warp_shuffle(const int* __restrict__ in, int* __restrict__ out,
                                             int* __restrict__ block_sums, int n) {
  extern __shared__ int warp_totals[];  // blockDim.x / 32 ints
  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int i = blockIdx.x * blockDim.x + tid;

  int v = i < n ? in[i] : 0;
  for (int offset = 1; offset < 32; offset <<= 1) {
    const int up = __shfl_up_sync(0xffffffffu, v, offset);
    if (lane >= offset) v += up;
  }
  if (lane == 31) warp_totals[warp] = v;
  __syncthreads();

  if (warp == 0) {
    const int num_warps = blockDim.x >> 5;
    int t = lane < num_warps ? warp_totals[lane] : 0;
    for (int offset = 1; offset < 32; offset <<= 1) {
      const int up = __shfl_up_sync(0xffffffffu, t, offset);
      if (lane >= offset) t += up;
    }
    if (lane < num_warps) warp_totals[lane] = t;  // inclusive scan of the warp totals
  }
  __syncthreads();

  if (warp > 0) v += warp_totals[warp - 1];
  if (i < n) out[i] = v;
  if (tid == blockDim.x - 1) block_sums[blockIdx.x] = v;
}
