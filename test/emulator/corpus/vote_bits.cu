// Warp votes, warp-level collectives and integer bit tricks. Threads past n return first, so the
// last warp is partial: every collective uses the mask of the lanes still running.
// Each thread writes NUM_OUT u32 results to out[i * NUM_OUT + k] and NUM_OUT64 u64 results to
// out64[i * NUM_OUT64 + k]; the slots are listed below. x = a[i], y = b[i].
//
// Launch: grid (ceil(n/B),1,1), block (B,1,1) with B a multiple of 32; requires sm_80+ (__reduce_*_sync).

#define NUM_OUT 36
#define NUM_OUT64 4

__device__ __forceinline__ unsigned prmt(unsigned a, unsigned b, unsigned sel) {
  unsigned d;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(sel));
  return d;
}
__device__ __forceinline__ unsigned bfe_u32(unsigned a, unsigned pos, unsigned len) {
  unsigned d;
  asm("bfe.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(pos), "r"(len));
  return d;
}
__device__ __forceinline__ int bfe_s32(int a, unsigned pos, unsigned len) {
  int d;
  asm("bfe.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(pos), "r"(len));
  return d;
}
__device__ __forceinline__ unsigned bfi_b32(unsigned a, unsigned b, unsigned pos, unsigned len) {
  unsigned d;
  asm("bfi.b32 %0, %1, %2, %3, %4;" : "=r"(d) : "r"(a), "r"(b), "r"(pos), "r"(len));
  return d;
}

extern "C" __global__ void vote_bits(const unsigned* __restrict__ a, const unsigned* __restrict__ b,
                                     unsigned* __restrict__ out, unsigned long long* __restrict__ out64, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const unsigned mask = __activemask();  // the lanes of this warp with i < n
  const unsigned x = a[i];
  const unsigned y = b[i];
  unsigned* o = out + static_cast<size_t>(i) * NUM_OUT;

  // Votes.
  o[0] = __ballot_sync(mask, x & 1);
  o[1] = __any_sync(mask, (x >> 28) == 0xfu && (y & 3) == 0);
  o[2] = __all_sync(mask, (x & 0x3f) != 0);
  // Under divergence: only the lanes that take the branch are active.
  if (x & 2) {
    o[3] = __activemask();
  } else {
    o[3] = 0;
  }
  if (x & 4) {
    const unsigned inner = __activemask();
    o[4] = __ballot_sync(inner, y & 1);
  } else {
    o[4] = 0xdeadbeefu;
  }

  // Bit counting and permutation.
  o[5] = __popc(x);
  o[6] = __clz(x);
  o[7] = __brev(x);
  o[8] = __byte_perm(x, y, y & 0x7777u);
  o[9] = prmt(x, y, y >> 16);  // selector nibbles with bit 3 set replicate the byte's sign
  o[10] = __funnelshift_l(x, y, y >> 8);
  o[11] = __funnelshift_lc(x, y, (y >> 8) & 63u);
  o[12] = __funnelshift_r(x, y, y >> 3);

  // Warp match and reduce.
  o[13] = __match_any_sync(mask, x & 3u);
  int all_equal = 0;
  o[14] = __match_all_sync(mask, (x & 0xffu) < 250u ? 7u : x, &all_equal);
  o[15] = static_cast<unsigned>(all_equal);
  o[16] = __reduce_add_sync(mask, x & 0xffffu);
  o[17] = static_cast<unsigned>(__reduce_min_sync(mask, static_cast<int>(x)));
  o[18] = __reduce_max_sync(mask, y);
  o[19] = __reduce_and_sync(mask, x | y);
  o[20] = __reduce_or_sync(mask, x & y);
  o[21] = __reduce_xor_sync(mask, x);

  // High halves of products, bit fields.
  o[22] = __umulhi(x, y);
  o[23] = static_cast<unsigned>(__mulhi(static_cast<int>(x), static_cast<int>(y)));
  o[24] = (x >> 7) & 0x3ffu;
  o[25] = static_cast<unsigned>(static_cast<int>(x << 9) >> 20);
  o[26] = bfe_u32(x, y & 0x3fu, (y >> 6) & 0x3fu);
  o[27] = static_cast<unsigned>(bfe_s32(static_cast<int>(x), y & 0x3fu, (y >> 6) & 0x3fu));
  o[28] = bfi_b32(y, x, (y >> 12) & 0x3fu, (y >> 18) & 0x3fu);
  o[29] = __ffs(static_cast<int>(x));

  const unsigned long long p = (static_cast<unsigned long long>(x) << 32) | y;
  const unsigned long long q = (static_cast<unsigned long long>(y * 2654435761u) << 32) | (x ^ y);
  o[30] = __clzll(static_cast<long long>(q >> (x & 63)));
  o[31] = __popcll(p);

  // Shuffles: an arbitrary active source lane, then segmented shuffles on full warps only.
  o[32] = __shfl_sync(mask, x, (y & 31u) % __popc(mask));
  if (mask == 0xffffffffu) {
    o[33] = __shfl_up_sync(mask, x, 3, 8);
    o[34] = __shfl_down_sync(mask, x, 5, 16);
    o[35] = __shfl_xor_sync(mask, x, 6, 16);
  } else {
    o[33] = o[34] = o[35] = 0;
  }

  unsigned long long* o64 = out64 + static_cast<size_t>(i) * NUM_OUT64;
  o64[0] = __umul64hi(p, q);
  o64[1] = static_cast<unsigned long long>(__mul64hi(static_cast<long long>(p), static_cast<long long>(q)));
  o64[2] = __brevll(p);
  o64[3] = p * q + (q >> (y & 63));
}
