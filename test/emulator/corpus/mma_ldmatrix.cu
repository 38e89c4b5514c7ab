// Tensor-core tiles with inline PTX: ldmatrix loads fragments from shared memory, mma.sync
// multiplies them. One warp per block; block b works on batch entry b of every buffer.
// All matrices are row-major; D = A * B + C.
//
// mma_f16_m16n8k16:  A 16x16 f16, B 16x16 f16, C/D 16x16 f32. A via ldmatrix.x4, B via
//                    ldmatrix.x4.trans, two m16n8k16 mma (one per 8-column half of D).
// mma_bf16_m16n8k16: A 16x16 bf16, B given transposed (Bt = B^T, 8x16 bf16, i.e. B column-major),
//                    C/D 16x8 f32. A via ldmatrix.x4, Bt via ldmatrix.x2 (no .trans).
// mma_f16_m16n8k8:   A 16x8 f16, B 8x8 f16, C/D 16x8. A via ldmatrix.x2, B via ldmatrix.x1.trans;
//                    D32 accumulates in f32 (C32 f32), D16 in f16 (C16 f16).
//
// Launch: grid (batch,1,1), block (32,1,1).

#include <cuda_fp16.h>
#include <cuda_bf16.h>

__device__ __forceinline__ unsigned smem_u32(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_u32(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_u32(p)));
}
__device__ __forceinline__ void ldmatrix_x2(unsigned (&r)[2], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r[0]), "=r"(r[1])
               : "r"(smem_u32(p)));
}
__device__ __forceinline__ void ldmatrix_x1_trans(unsigned& r, const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n" : "=r"(r) : "r"(smem_u32(p)));
}

// Accumulator fragment of a 16x8 f32 tile: lane holds (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1)
// with g = lane / 4, t = lane % 4.
__device__ __forceinline__ void load_acc(float (&c)[4], const float* tile, int ld, int lane) {
  const int g = lane >> 2, t = lane & 3;
  c[0] = tile[g * ld + 2 * t];
  c[1] = tile[g * ld + 2 * t + 1];
  c[2] = tile[(g + 8) * ld + 2 * t];
  c[3] = tile[(g + 8) * ld + 2 * t + 1];
}
__device__ __forceinline__ void store_acc(float* tile, int ld, int lane, const float (&d)[4]) {
  const int g = lane >> 2, t = lane & 3;
  tile[g * ld + 2 * t] = d[0];
  tile[g * ld + 2 * t + 1] = d[1];
  tile[(g + 8) * ld + 2 * t] = d[2];
  tile[(g + 8) * ld + 2 * t + 1] = d[3];
}

extern "C" __global__ void mma_f16_m16n8k16(const __half* __restrict__ A, const __half* __restrict__ B,
                                            const float* __restrict__ C, float* __restrict__ D) {
  __shared__ __align__(16) __half As[16][16];
  __shared__ __align__(16) __half Bs[16][16];
  const int lane = threadIdx.x;
  const __half* a = A + blockIdx.x * 256;
  const __half* b = B + blockIdx.x * 256;
  for (int e = lane; e < 256; e += 32) {
    As[e / 16][e % 16] = a[e];
    Bs[e / 16][e % 16] = b[e];
  }
  __syncwarp();

  unsigned ra[4], rb[4];
  ldmatrix_x4(ra, &As[lane % 16][(lane / 16) * 8]);        // a0..a3 of the m16n8k16 A fragment
  ldmatrix_x4_trans(rb, &Bs[lane % 16][(lane / 16) * 8]);  // {b0,b1} for columns 0-7, then 8-15

  for (int half_n = 0; half_n < 2; ++half_n) {
    const float* c = C + blockIdx.x * 256 + half_n * 8;
    float acc[4], d[4];
    load_acc(acc, c, 16, lane);
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%10, %11, %12, %13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(ra[0]), "r"(ra[1]), "r"(ra[2]), "r"(ra[3]), "r"(rb[2 * half_n]), "r"(rb[2 * half_n + 1]),
          "f"(acc[0]), "f"(acc[1]), "f"(acc[2]), "f"(acc[3]));
    store_acc(D + blockIdx.x * 256 + half_n * 8, 16, lane, d);
  }
}

extern "C" __global__ void mma_bf16_m16n8k16(const __nv_bfloat16* __restrict__ A, const __nv_bfloat16* __restrict__ Bt,
                                             const float* __restrict__ C, float* __restrict__ D) {
  __shared__ __align__(16) __nv_bfloat16 As[16][16];
  __shared__ __align__(16) __nv_bfloat16 Bts[8][16];
  const int lane = threadIdx.x;
  const __nv_bfloat16* a = A + blockIdx.x * 256;
  const __nv_bfloat16* bt = Bt + blockIdx.x * 128;
  for (int e = lane; e < 256; e += 32) As[e / 16][e % 16] = a[e];
  for (int e = lane; e < 128; e += 32) Bts[e / 16][e % 16] = bt[e];
  __syncwarp();

  unsigned ra[4], rb[2];
  ldmatrix_x4(ra, &As[lane % 16][(lane / 16) * 8]);
  ldmatrix_x2(rb, &Bts[lane % 8][((lane / 8) % 2) * 8]);  // lanes 0-7: k 0-7, lanes 8-15: k 8-15

  float acc[4], d[4];
  load_acc(acc, C + blockIdx.x * 128, 8, lane);
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(ra[0]), "r"(ra[1]), "r"(ra[2]), "r"(ra[3]), "r"(rb[0]), "r"(rb[1]), "f"(acc[0]), "f"(acc[1]),
        "f"(acc[2]), "f"(acc[3]));
  store_acc(D + blockIdx.x * 128, 8, lane, d);
}

extern "C" __global__ void mma_f16_m16n8k8(const __half* __restrict__ A, const __half* __restrict__ B,
                                           const float* __restrict__ C32, const __half* __restrict__ C16,
                                           float* __restrict__ D32, __half* __restrict__ D16) {
  __shared__ __align__(16) __half As[16][8];
  __shared__ __align__(16) __half Bs[8][8];
  const int lane = threadIdx.x;
  const __half* a = A + blockIdx.x * 128;
  const __half* b = B + blockIdx.x * 64;
  for (int e = lane; e < 128; e += 32) As[e / 8][e % 8] = a[e];
  for (int e = lane; e < 64; e += 32) Bs[e / 8][e % 8] = b[e];
  __syncwarp();

  unsigned ra[2], rb;
  ldmatrix_x2(ra, &As[lane % 16][0]);
  ldmatrix_x1_trans(rb, &Bs[lane % 8][0]);

  float acc[4], d[4];
  load_acc(acc, C32 + blockIdx.x * 128, 8, lane);
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5}, {%6}, {%7, %8, %9, %10};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(ra[0]), "r"(ra[1]), "r"(rb), "f"(acc[0]), "f"(acc[1]), "f"(acc[2]), "f"(acc[3]));
  store_acc(D32 + blockIdx.x * 128, 8, lane, d);

  // f16 accumulators: one half2 register per row pair, (g, 2t..2t+1) and (g+8, 2t..2t+1).
  const int g = lane >> 2, t = lane & 3;
  const __half* c16 = C16 + blockIdx.x * 128;
  const __half2 c_lo = __halves2half2(c16[g * 8 + 2 * t], c16[g * 8 + 2 * t + 1]);
  const __half2 c_hi = __halves2half2(c16[(g + 8) * 8 + 2 * t], c16[(g + 8) * 8 + 2 * t + 1]);
  unsigned d16[2];
  asm volatile("mma.sync.aligned.m16n8k8.row.col.f16.f16.f16.f16 {%0, %1}, {%2, %3}, {%4}, {%5, %6};\n"
               : "=r"(d16[0]), "=r"(d16[1])
               : "r"(ra[0]), "r"(ra[1]), "r"(rb), "r"(*reinterpret_cast<const unsigned*>(&c_lo)),
                 "r"(*reinterpret_cast<const unsigned*>(&c_hi)));
  __half* out16 = D16 + blockIdx.x * 128;
  const __half2 d_lo = *reinterpret_cast<const __half2*>(&d16[0]);
  const __half2 d_hi = *reinterpret_cast<const __half2*>(&d16[1]);
  out16[g * 8 + 2 * t] = __low2half(d_lo);
  out16[g * 8 + 2 * t + 1] = __high2half(d_lo);
  out16[(g + 8) * 8 + 2 * t] = __low2half(d_hi);
  out16[(g + 8) * 8 + 2 * t + 1] = __high2half(d_hi);
}
