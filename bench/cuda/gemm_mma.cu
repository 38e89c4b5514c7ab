// The emulator benchmark kernel (npm run bench): C = A·B, f16 in, f32 out, row-major, written with
// inline-asm ldmatrix + mma.sync m16n8k16 as a hand-tuned CUDA GEMM would be. 64×64 tiles per CTA,
// BK = 32, 4 warps in a 2×2 arrangement, each computing 32×32. M, N, K multiples of 64 / 32.
// Regenerate: nvcc -O3 -lineinfo -ptx -arch=sm_80 gemm_mma.cu -o gemm_mma.sm_80.ptx
#include <cuda_fp16.h>
#include <stdint.h>

extern "C" __global__ void __launch_bounds__(128) gemm_mma(const half* __restrict__ A, const half* __restrict__ B, float* __restrict__ C, int M, int N, int K) {
  // +8 halves of padding per row keeps ldmatrix free of bank conflicts.
  __shared__ __align__(16) half As[64][32 + 8];
  __shared__ __align__(16) half Bs[32][64 + 8];
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const int wm = warp / 2, wn = warp % 2;
  const int m0 = blockIdx.y * 64, n0 = blockIdx.x * 64;
  float acc[2][4][4];
#pragma unroll
  for (int mi = 0; mi < 2; mi++)
#pragma unroll
    for (int ni = 0; ni < 4; ni++)
#pragma unroll
      for (int i = 0; i < 4; i++) acc[mi][ni][i] = 0.f;

  for (int k0 = 0; k0 < K; k0 += 32) {
    for (int i = tid; i < 64 * 32 / 8; i += 128) {
      const int r = i / 4, c = (i % 4) * 8;
      *reinterpret_cast<uint4*>(&As[r][c]) = *reinterpret_cast<const uint4*>(&A[(size_t)(m0 + r) * K + k0 + c]);
    }
    for (int i = tid; i < 32 * 64 / 8; i += 128) {
      const int r = i / 8, c = (i % 8) * 8;
      *reinterpret_cast<uint4*>(&Bs[r][c]) = *reinterpret_cast<const uint4*>(&B[(size_t)(k0 + r) * N + n0 + c]);
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < 32; kk += 16) {
      uint32_t a[2][4], b[4][2];
#pragma unroll
      for (int mi = 0; mi < 2; mi++) {
        const uint32_t addr = (uint32_t)__cvta_generic_to_shared(&As[wm * 32 + mi * 16 + (lane % 16)][kk + (lane / 16) * 8]);
        asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                     : "=r"(a[mi][0]), "=r"(a[mi][1]), "=r"(a[mi][2]), "=r"(a[mi][3])
                     : "r"(addr));
      }
#pragma unroll
      for (int ni = 0; ni < 4; ni++) {
        const uint32_t addr = (uint32_t)__cvta_generic_to_shared(&Bs[kk + (lane % 16)][wn * 32 + ni * 8]);
        asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];" : "=r"(b[ni][0]), "=r"(b[ni][1]) : "r"(addr));
      }
#pragma unroll
      for (int mi = 0; mi < 2; mi++)
#pragma unroll
        for (int ni = 0; ni < 4; ni++)
          asm volatile(
              "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
              : "+f"(acc[mi][ni][0]), "+f"(acc[mi][ni][1]), "+f"(acc[mi][ni][2]), "+f"(acc[mi][ni][3])
              : "r"(a[mi][0]), "r"(a[mi][1]), "r"(a[mi][2]), "r"(a[mi][3]), "r"(b[ni][0]), "r"(b[ni][1]));
    }
    __syncthreads();
  }
  const int g = lane / 4, t = lane % 4;
#pragma unroll
  for (int mi = 0; mi < 2; mi++)
#pragma unroll
    for (int ni = 0; ni < 4; ni++)
#pragma unroll
      for (int i = 0; i < 4; i++) {
        const int r = m0 + wm * 32 + mi * 16 + g + 8 * (i >> 1);
        const int c = n0 + wn * 32 + ni * 8 + 2 * t + (i & 1);
        C[(size_t)r * N + c] = acc[mi][ni][i];
      }
}
