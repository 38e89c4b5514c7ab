/**
 * The text every emitted `.hip` file starts with. Generated kernels call only the `tk_*`
 * primitives and `TK_*` macros below, never HIP's own names, so one source builds three ways:
 * - with the real HIP headers (hipcc/hiprtc on a ROCm box): the guarded include;
 * - header-free for offline device compiles (`clang-19 -x hip -nogpuinc`): the builtins below;
 * - on the CPU (`-DTILEKIT_HIP_CPU`): runtime/hip-cpu/tk_hip_cpu.h, included first, defines every
 *   primitive for threads of the host (docs/hip-backend.md lists the contract).
 */

/** The primitives every environment defines (the harness header must define each of them). */
export const HIP_PRIMITIVES = [
  'TK_KERNEL',
  'TK_DEVICE',
  'TK_LDS',
  'tk_thread_id',
  'tk_block_id',
  'tk_grid_dim',
  'tk_barrier',
  'tk_mfma_32x32x8_f16',
  'tk_mfma_16x16x16_f16',
  'tk_mfma_32x32x8_bf16',
  'tk_mfma_16x16x16_bf16',
  'tk_shfl_xor',
  'tk_exp2f',
  'tk_log2f',
  'tk_rcpf',
  'tk_sqrtf',
] as const;

export const HIP_PRELUDE = String.raw`// ---- Tilekit HIP prelude (compiler/hip/prelude.ts) ----
typedef _Float16 tk_half4 __attribute__((ext_vector_type(4)));
typedef short tk_short4 __attribute__((ext_vector_type(4)));
typedef float tk_float4 __attribute__((ext_vector_type(4)));
typedef float tk_float16 __attribute__((ext_vector_type(16)));
typedef unsigned short tk_bf16;
typedef unsigned char tk_u8;
typedef int tk_i32;
typedef long long tk_i64;
typedef unsigned tk_u32;
typedef unsigned long long tk_u64;

#if defined(TILEKIT_HIP_CPU)
// The CPU harness (runtime/hip-cpu/tk_hip_cpu.h), included before this file, defines the primitives.
#else
#if !defined(TILEKIT_NO_HIP_RUNTIME) && defined(__has_include)
#if __has_include(<hip/hip_runtime.h>)
#include <hip/hip_runtime.h>
#endif
#endif
#ifndef __global__
#define __global__ __attribute__((global))
#endif
#ifndef __device__
#define __device__ __attribute__((device))
#endif
#ifndef __shared__
#define __shared__ __attribute__((shared))
#endif
#define TK_KERNEL(threads) extern "C" __global__ __attribute__((amdgpu_flat_work_group_size(1, threads)))
#define TK_DEVICE __device__ static inline __attribute__((always_inline, nodebug))
#define TK_LDS(name, bytes) __shared__ __attribute__((aligned(16))) unsigned char name[bytes]
TK_DEVICE int tk_thread_id() { return __builtin_amdgcn_workitem_id_x(); }
TK_DEVICE int tk_block_id(int axis) {
  return axis == 0 ? __builtin_amdgcn_workgroup_id_x() : axis == 1 ? __builtin_amdgcn_workgroup_id_y() : __builtin_amdgcn_workgroup_id_z();
}
// Workgroups per axis: the HSA dispatch packet holds the grid in work-items and the workgroup size.
TK_DEVICE int tk_grid_dim(int axis) {
  const unsigned short* p = (const unsigned short*)__builtin_amdgcn_dispatch_ptr();
  unsigned wg = p[2 + axis];
  unsigned items = ((const unsigned*)p)[3 + axis];
  return (int)((items + wg - 1) / wg);
}
TK_DEVICE void tk_barrier() {
  __builtin_amdgcn_fence(__ATOMIC_RELEASE, "workgroup");
  __builtin_amdgcn_s_barrier();
  __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "workgroup");
}
TK_DEVICE tk_float16 tk_mfma_32x32x8_f16(tk_half4 a, tk_half4 b, tk_float16 c) { return __builtin_amdgcn_mfma_f32_32x32x8f16(a, b, c, 0, 0, 0); }
TK_DEVICE tk_float4 tk_mfma_16x16x16_f16(tk_half4 a, tk_half4 b, tk_float4 c) { return __builtin_amdgcn_mfma_f32_16x16x16f16(a, b, c, 0, 0, 0); }
TK_DEVICE tk_float16 tk_mfma_32x32x8_bf16(tk_short4 a, tk_short4 b, tk_float16 c) { return __builtin_amdgcn_mfma_f32_32x32x8bf16_1k(a, b, c, 0, 0, 0); }
TK_DEVICE tk_float4 tk_mfma_16x16x16_bf16(tk_short4 a, tk_short4 b, tk_float4 c) { return __builtin_amdgcn_mfma_f32_16x16x16bf16_1k(a, b, c, 0, 0, 0); }
TK_DEVICE float tk_shfl_xor(float v, int mask) {
  int lane = __builtin_amdgcn_mbcnt_hi(~0u, __builtin_amdgcn_mbcnt_lo(~0u, 0u));
  return __builtin_bit_cast(float, __builtin_amdgcn_ds_bpermute((lane ^ mask) << 2, __builtin_bit_cast(int, v)));
}
TK_DEVICE float tk_exp2f(float x) { return __builtin_amdgcn_exp2f(x); }
TK_DEVICE float tk_log2f(float x) { return __builtin_amdgcn_logf(x); }
TK_DEVICE float tk_rcpf(float x) { return __builtin_amdgcn_rcpf(x); }
TK_DEVICE float tk_sqrtf(float x) { return __builtin_sqrtf(x); }
#endif

// Rounding to the narrow float types: f16 by conversion, bf16 to nearest even on the bits.
TK_DEVICE float tk_f16_to_f32(_Float16 h) { return (float)h; }
TK_DEVICE float tk_round_f16(float x) { return (float)(_Float16)x; }
TK_DEVICE float tk_bf16_to_f32(tk_bf16 b) { return __builtin_bit_cast(float, (tk_u32)b << 16); }
TK_DEVICE tk_bf16 tk_f32_to_bf16(float f) {
  tk_u32 u = __builtin_bit_cast(tk_u32, f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (tk_bf16)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (tk_bf16)(u >> 16);
}
TK_DEVICE float tk_round_bf16(float x) { return tk_bf16_to_f32(tk_f32_to_bf16(x)); }
// Math on f32 from the primitives (exp and log in base 2, as the hardware has them).
TK_DEVICE float tk_expf(float x) { return tk_exp2f(x * 1.4426950408889634f); }
TK_DEVICE float tk_logf(float x) { return tk_log2f(x) * 0.6931471805599453f; }
TK_DEVICE float tk_sigmoidf(float x) { return tk_rcpf(1.0f + tk_expf(-x)); }
TK_DEVICE float tk_tanhf(float x) {
  float e = tk_exp2f(2.8853900817779268f * (x < 0.0f ? -x : x));
  float t = 1.0f - 2.0f * tk_rcpf(e + 1.0f);
  return x < 0.0f ? -t : t;
}
// Integer ops with the interpreter's meaning: wrap on overflow, x / 0 = x % 0 = 0.
TK_DEVICE tk_i32 tk_div_i32(tk_i32 a, tk_i32 b) { return b == 0 ? 0 : b == -1 ? (tk_i32)(0u - (tk_u32)a) : a / b; }
TK_DEVICE tk_i32 tk_rem_i32(tk_i32 a, tk_i32 b) { return (b == 0 || b == -1) ? 0 : a % b; }
TK_DEVICE tk_i64 tk_div_i64(tk_i64 a, tk_i64 b) { return b == 0 ? 0 : b == -1 ? (tk_i64)(0ull - (tk_u64)a) : a / b; }
TK_DEVICE tk_i64 tk_rem_i64(tk_i64 a, tk_i64 b) { return (b == 0 || b == -1) ? 0 : a % b; }
// Float → int: toward zero, saturating, NaN → 0.
TK_DEVICE tk_i32 tk_f2i32(float x) { return x != x ? 0 : x >= 2147483648.0f ? 2147483647 : x <= -2147483648.0f ? (-2147483647 - 1) : (tk_i32)x; }
TK_DEVICE tk_i64 tk_f2i64(float x) {
  return x != x ? 0 : x >= 9223372036854775808.0f ? 9223372036854775807ll : x <= -9223372036854775808.0f ? (-9223372036854775807ll - 1) : (tk_i64)x;
}
// An integer as f32 rounded to odd: rounding that once more to f16/bf16 is a single rounding.
TK_DEVICE float tk_i64_to_f32_odd(tk_i64 a) {
  double d = (double)a;
  float t = (float)d;
  if ((double)t == d) return t;
  if ((t < 0.0f ? -(double)t : (double)t) > (d < 0.0 ? -d : d)) t = __builtin_bit_cast(float, __builtin_bit_cast(tk_u32, t) - 1u);
  return __builtin_bit_cast(float, __builtin_bit_cast(tk_u32, t) | 1u);
}
TK_DEVICE float tk_maxf(float a, float b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
TK_DEVICE float tk_minf(float a, float b) { return (a != a || b != b) ? a + b : (a < b ? a : b); }
// ---- end of prelude ----
`;
