// Half-precision and bfloat16 conversions and arithmetic, exercised at edge values (ties,
// subnormals, overflow, NaN, infinities, signed zeros). 16-bit values travel as raw bit patterns
// (unsigned short) so the host sees exactly what the device produced.
//
// convert_f32: for each float x[i]
//   f16_bits[i]  = bits of __float2half_rn(x)          (round to nearest even, overflow -> inf)
//   f16_back[i]  = __half2float(__float2half_rn(x))
//   bf16_bits[i] = bits of __float2bfloat16_rn(x)
//   bf16_back[i] = __bfloat162float(__float2bfloat16_rn(x))
// widen_16: half / bf16 bit patterns to float (exact): f16_wide[i], bf16_wide[i].
// half_arith: a, b, c are half bit patterns; pairs (x[2k], x[2k+1]) load as one half2:
//   sum2 = __hadd2(a2, b2), prod2 = __hmul2(a2, b2) (stored back as pairs),
//   fma[i] = __hfma(a[i], b[i], c[i]) (one rounding).
// bf16_arith: the same on bfloat16 bit patterns (__nv_bfloat162, __hadd2/__hmul2/__hfma).
//
// Launch: grid (ceil(n/B),1,1), block (B,1,1); n elements (n even for half_arith).

#include <cuda_fp16.h>
#include <cuda_bf16.h>

extern "C" __global__ void convert_f32(const float* __restrict__ x, unsigned short* __restrict__ f16_bits,
                                       float* __restrict__ f16_back, unsigned short* __restrict__ bf16_bits,
                                       float* __restrict__ bf16_back, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float v = x[i];
  const __half h = __float2half_rn(v);
  const __nv_bfloat16 b = __float2bfloat16_rn(v);
  f16_bits[i] = __half_as_ushort(h);
  f16_back[i] = __half2float(h);
  bf16_bits[i] = __bfloat16_as_ushort(b);
  bf16_back[i] = __bfloat162float(b);
}

extern "C" __global__ void widen_16(const unsigned short* __restrict__ h_bits, const unsigned short* __restrict__ b_bits,
                                    float* __restrict__ f16_wide, float* __restrict__ bf16_wide, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  f16_wide[i] = __half2float(__ushort_as_half(h_bits[i]));
  bf16_wide[i] = __bfloat162float(__ushort_as_bfloat16(b_bits[i]));
}

extern "C" __global__ void half_arith(const unsigned short* __restrict__ a, const unsigned short* __restrict__ b,
                                      const unsigned short* __restrict__ c, unsigned short* __restrict__ sum2,
                                      unsigned short* __restrict__ prod2, unsigned short* __restrict__ fma, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  fma[i] = __half_as_ushort(__hfma(__ushort_as_half(a[i]), __ushort_as_half(b[i]), __ushort_as_half(c[i])));
  if ((i & 1) == 0) {  // even threads handle a pair, loaded and stored as one 32-bit half2
    const __half2 a2 = *reinterpret_cast<const __half2*>(a + i);
    const __half2 b2 = *reinterpret_cast<const __half2*>(b + i);
    *reinterpret_cast<__half2*>(sum2 + i) = __hadd2(a2, b2);
    *reinterpret_cast<__half2*>(prod2 + i) = __hmul2(a2, b2);
  }
}

extern "C" __global__ void bf16_arith(const unsigned short* __restrict__ a, const unsigned short* __restrict__ b,
                                      const unsigned short* __restrict__ c, unsigned short* __restrict__ sum2,
                                      unsigned short* __restrict__ prod2, unsigned short* __restrict__ fma, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  fma[i] = __bfloat16_as_ushort(
      __hfma(__ushort_as_bfloat16(a[i]), __ushort_as_bfloat16(b[i]), __ushort_as_bfloat16(c[i])));
  if ((i & 1) == 0) {
    const __nv_bfloat162 a2 = *reinterpret_cast<const __nv_bfloat162*>(a + i);
    const __nv_bfloat162 b2 = *reinterpret_cast<const __nv_bfloat162*>(b + i);
    *reinterpret_cast<__nv_bfloat162*>(sum2 + i) = __hadd2(a2, b2);
    *reinterpret_cast<__nv_bfloat162*>(prod2 + i) = __hmul2(a2, b2);
  }
}
