// tk_hip_cpu.h — the HIP CPU harness: runs Tilekit's emitted HIP kernels on the host, with real threads.
//
// An emitted `.hip` file is HIP_PRELUDE (compiler/hip/prelude.ts) + one kernel, and the kernel calls only
// the primitives in HIP_PRIMITIVES. Built for the host as
//
//   clang++-19 -std=c++20 -O2 -pthread -DTILEKIT_HIP_CPU  main.cpp   (main.cpp: this header, then the .hip)
//
// this header defines every primitive with the device's semantics:
// - a workgroup is `threads` std::threads (threads a multiple of 64); tk_barrier() is a std::barrier over
//   all of them; a thread that returns from the kernel drops out of it (finished waves no longer count on
//   AMD hardware either), so early returns never deadlock the rest;
// - a wave is 64 consecutive threads (lane = tid % 64); the wave collectives (tk_shfl_xor, the MFMAs) are
//   called by all 64 lanes together and exchange operands through a per-wave buffer fenced by a 64-thread
//   std::barrier;
// - LDS is one buffer per workgroup, filled with 0xFF before the workgroup runs, so a read of LDS nobody
//   wrote is NaN in f16, bf16 and f32;
// - workgroups run one after another, x fastest, then y, then z.
// clang is required (g++ ignores ext_vector_type and has no _Float16 in C++ before GCC 13).
//
// The driver is runtime/hip-cpu/hip-cpu-backend.ts; its generated main.cpp uses tk_cpu::Args (reads the
// argument file) and tk_cpu_launch (below).

#ifndef TK_HIP_CPU_H
#define TK_HIP_CPU_H

#if !defined(__clang__) || !defined(__cplusplus) || __cplusplus < 202002L
#error "tk_hip_cpu.h needs clang++ in C++20 mode (_Float16, ext_vector_type, std::barrier): clang++-19 -std=c++20 -O2 -pthread -DTILEKIT_HIP_CPU"
#endif

#ifndef TILEKIT_HIP_CPU
#define TILEKIT_HIP_CPU 1  // the prelude's switch: it then leaves the primitives to this header
#endif

// tk_float16 (16 floats) is returned by value; without AVX-512 that changes the ABI and clang says so for
// every MFMA call. Everything here is one translation unit, so the warning is noise.
#pragma clang diagnostic ignored "-Wpsabi"

#include <barrier>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <vector>

// ---- The prelude's types (repeated identically in the prelude, which C++ allows) ----
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

namespace tk_cpu {

constexpr int kWaveSize = 64;
/** LDS per workgroup on MI300X (gfx942) and MI200 (gfx90a). */
constexpr long kMaxLdsBytes = 65536;
/** Largest workgroup HIP allows. */
constexpr int kMaxThreads = 1024;

/** Prints `tk_hip_cpu: <message>` and ends the process with exit code 3 (from any thread). */
[[noreturn]] __attribute__((format(printf, 1, 2))) inline void fail(const char* fmt, ...) {
  std::fputs("tk_hip_cpu: ", stderr);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::_Exit(3);  // not exit(): other threads may be blocked in barriers whose destructors would run
}

/** What one lane publishes to its wave for a collective: MFMA operands (as f32) or a shuffled value. */
struct LaneSlot {
  float a[4];
  float b[4];
  float v;
};

/**
 * One wave's exchange. Two slot sets, alternated per collective: a lane writes set p, waits at the
 * barrier, reads set p. The next collective writes set p^1, and the one after (set p again) starts only
 * after its predecessor's barrier, which every lane reaches after its reads of set p — so one barrier per
 * collective suffices.
 */
struct Wave {
  std::barrier<> bar{kWaveSize};
  LaneSlot slot[2][kWaveSize];
};

/** The workgroup being run: ids, LDS, barriers. Rebuilt between workgroups (dropped threads stay dropped). */
struct Workgroup {
  int id[3] = {0, 0, 0};
  int grid[3] = {1, 1, 1};
  int threads = 0;
  long ldsBytes = 0;
  unsigned char* lds = nullptr;
  std::unique_ptr<std::barrier<>> bar;
  std::vector<std::unique_ptr<Wave>> waves;
};

// Per-thread state, set by tk_cpu_launch before each kernel call.
inline thread_local Workgroup* t_wg = nullptr;
inline thread_local int t_tid = 0;
/** LDS bytes this thread's TK_LDS statements have claimed in the current kernel call. */
inline thread_local long t_ldsUsed = 0;
/** Collectives this thread has entered in the current kernel call (selects the exchange slot set). */
inline thread_local unsigned t_phase = 0;

inline Workgroup& workgroup(const char* what) {
  if (t_wg == nullptr) fail("%s called outside a kernel launched by tk_cpu_launch", what);
  return *t_wg;
}

/**
 * The LDS for one TK_LDS statement: the next 16-byte-aligned `bytes` of the workgroup's buffer. Every
 * thread runs the kernel's TK_LDS statements in the same order, so all threads get the same addresses.
 */
inline unsigned char* lds(long bytes, const char* name) {
  Workgroup& wg = workgroup("TK_LDS");
  if (bytes < 0) fail("TK_LDS(%s, %ld): negative size", name, bytes);
  const long off = (t_ldsUsed + 15) & ~15L;
  const long end = off + bytes;
  if (end > kMaxLdsBytes) {
    fail("TK_LDS(%s, %ld): the kernel declares %ld bytes of LDS; MI300X (gfx942) has at most %ld per workgroup", name, bytes, end, kMaxLdsBytes);
  }
  if (end > wg.ldsBytes) {
    fail("TK_LDS(%s, %ld): the kernel declares %ld bytes of LDS, more than the %ld bytes the launch provides (the compiled kernel's ldsBytes is wrong)",
         name, bytes, end, wg.ldsBytes);
  }
  t_ldsUsed = end;
  return wg.lds + off;
}

inline Wave& wave(const char* what) {
  Workgroup& wg = workgroup(what);
  return *wg.waves[t_tid / kWaveSize];
}

// ---- MFMA register layouts ------------------------------------------------------------------------
// AMD's documented layouts (CDNA3 ISA guide, "Dependent Arithmetic / Matrix"; AMD's matrix instruction
// calculator) for D = A·B + C with A M×K, B K×N, C and D M×N, over the 64 lanes of a wave. Operands a and
// b are 4 elements per lane (register j = k % 4); C/D `Regs` floats per lane. Written once, here.

/** v_mfma_f32_32x32x8f16 / v_mfma_f32_32x32x8bf16_1k. */
struct Mfma32x32x8 {
  static constexpr int M = 32, N = 32, K = 8, Regs = 16;
  /** A[i][k] is in lane i + 32·(k / 4), register k % 4. */
  static int aLane(int i, int k) { return i + 32 * (k / 4); }
  /** B[k][n] is in lane n + 32·(k / 4), register k % 4. */
  static int bLane(int k, int n) { return n + 32 * (k / 4); }
  static int abReg(int k) { return k % 4; }
  /** D register r of lane l is D[8·(r / 4) + 4·(l / 32) + r % 4][l % 32]. */
  static int dRow(int lane, int r) { return 8 * (r / 4) + 4 * (lane / 32) + r % 4; }
  static int dCol(int lane) { return lane % 32; }
};

/** v_mfma_f32_16x16x16f16 / v_mfma_f32_16x16x16bf16_1k. */
struct Mfma16x16x16 {
  static constexpr int M = 16, N = 16, K = 16, Regs = 4;
  /** A[i][k] is in lane i + 16·(k / 4), register k % 4. */
  static int aLane(int i, int k) { return i + 16 * (k / 4); }
  /** B[k][n] is in lane n + 16·(k / 4), register k % 4. */
  static int bLane(int k, int n) { return n + 16 * (k / 4); }
  static int abReg(int k) { return k % 4; }
  /** D register r of lane l is D[4·(l / 16) + r][l % 16]. */
  static int dRow(int lane, int r) { return 4 * (lane / 16) + r; }
  static int dCol(int lane) { return lane % 16; }
};

/**
 * One MFMA for the calling lane: publishes its a and b, then computes its own D registers as C plus
 * the products in k order, each product exact in f32 (f16·f16 and bf16·bf16 fit in 24 bits) and the
 * running sum rounded to f32 after every addition.
 */
template <class L, class VecC>
inline VecC mfma(const float (&a)[4], const float (&b)[4], VecC c) {
#pragma clang fp contract(off)
  Wave& w = wave("tk_mfma");
  const int lane = t_tid % kWaveSize;
  LaneSlot* s = w.slot[t_phase++ & 1];
  for (int j = 0; j < 4; j++) {
    s[lane].a[j] = a[j];
    s[lane].b[j] = b[j];
  }
  w.bar.arrive_and_wait();
  VecC d;
  for (int r = 0; r < L::Regs; r++) {
    const int row = L::dRow(lane, r), col = L::dCol(lane);
    float acc = c[r];  // C has D's layout: this lane's register r is C[row][col]
    for (int k = 0; k < L::K; k++) {
      const float p = s[L::aLane(row, k)].a[L::abReg(k)] * s[L::bLane(k, col)].b[L::abReg(k)];
      acc = acc + p;
    }
    d[r] = acc;
  }
  return d;
}

inline void f16x4(tk_half4 v, float (&out)[4]) {
  for (int j = 0; j < 4; j++) out[j] = (float)v[j];
}
inline void bf16x4(tk_short4 v, float (&out)[4]) {
  for (int j = 0; j < 4; j++) out[j] = __builtin_bit_cast(float, (unsigned)(unsigned short)v[j] << 16);
}

// ---- The argument file (written by hip-cpu-backend.ts `encodeInput`) ----------------------------------
// Little-endian: "TKHIPIN1", u32 params, u32 threads, u32 ldsBytes, u32 grid[3]; then one 16-byte record
// per ABI parameter: u32 kind (0 tensor, 1 value), u32 element/value size in bytes, u64 element count or
// the value's bits; then each tensor's elements, padded to 8 bytes. The output file is the tensors again,
// in the same order and padding.

struct Param {
  unsigned kind = 0, size = 0;
  std::uint64_t value = 0;
  unsigned char* data = nullptr;  // tensors: 64-byte-aligned elements
};

inline std::size_t pad8(std::size_t n) { return (n + 7) & ~std::size_t(7); }

struct Args {
  unsigned threads = 0, ldsBytes = 0;
  int grid[3] = {1, 1, 1};
  std::vector<Param> params;

  /** Reads the argument file; any mismatch with what main.cpp expects is fatal. */
  Args(const char* path, unsigned expectedParams) {
    std::FILE* f = std::fopen(path, "rb");
    if (f == nullptr) fail("cannot open the argument file %s", path);
    std::vector<unsigned char> buf;
    unsigned char chunk[1 << 16];
    std::size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) buf.insert(buf.end(), chunk, chunk + n);
    std::fclose(f);
    std::size_t at = 0;
    auto take = [&](void* dst, std::size_t len) {
      if (at + len > buf.size()) fail("argument file %s is truncated (%zu bytes)", path, buf.size());
      std::memcpy(dst, buf.data() + at, len);
      at += len;
    };
    char magic[8];
    take(magic, 8);
    if (std::memcmp(magic, "TKHIPIN1", 8) != 0) fail("%s is not a Tilekit HIP CPU argument file", path);
    unsigned count = 0, g[3];
    take(&count, 4);
    take(&threads, 4);
    take(&ldsBytes, 4);
    take(g, 12);
    for (int i = 0; i < 3; i++) grid[i] = (int)g[i];
    if (count != expectedParams) fail("argument file has %u parameters, the kernel takes %u", count, expectedParams);
    params.resize(count);
    for (Param& p : params) {
      take(&p.kind, 4);
      take(&p.size, 4);
      take(&p.value, 8);
    }
    for (Param& p : params) {
      if (p.kind != 0) continue;
      const std::size_t bytes = (std::size_t)p.value * p.size;
      p.data = new (std::align_val_t(64)) unsigned char[bytes == 0 ? 1 : bytes];
      take(p.data, bytes);
      at = pad8(at);
    }
    if (at != buf.size()) fail("argument file %s has %zu bytes after the last tensor", path, buf.size() - at);
  }

  /** Parameter i as a tensor of T (checked against the file's element size). */
  template <class T>
  T* tensor(unsigned i) const {
    const Param& p = params.at(i);
    if (p.kind != 0 || p.size != sizeof(T)) fail("parameter %u: expected a tensor of %zu-byte elements", i, sizeof(T));
    return reinterpret_cast<T*>(p.data);
  }

  /** Parameter i as a value of T (the low bytes of its 8-byte slot). */
  template <class T>
  T value(unsigned i) const {
    const Param& p = params.at(i);
    if (p.kind != 1 || p.size != sizeof(T)) fail("parameter %u: expected a %zu-byte value", i, sizeof(T));
    T v;
    std::memcpy(&v, &p.value, sizeof(T));
    return v;
  }

  /** Writes every tensor, in parameter order, to `path`; returns the process exit code. */
  int writeTensors(const char* path) const {
    std::FILE* f = std::fopen(path, "wb");
    if (f == nullptr) fail("cannot create the output file %s", path);
    static const unsigned char zeros[8] = {0};
    for (const Param& p : params) {
      if (p.kind != 0) continue;
      const std::size_t bytes = (std::size_t)p.value * p.size;
      if (std::fwrite(p.data, 1, bytes, f) != bytes || std::fwrite(zeros, 1, pad8(bytes) - bytes, f) != pad8(bytes) - bytes) {
        fail("cannot write the output file %s", path);
      }
    }
    if (std::fclose(f) != 0) fail("cannot write the output file %s", path);
    return 0;
  }
};

}  // namespace tk_cpu

// ---- The primitives (HIP_PRIMITIVES in compiler/hip/prelude.ts) -------------------------------------

/** The kernel is a plain C function that each thread of the workgroup calls. */
#define TK_KERNEL(threads)                                                                        \
  static_assert((threads) >= 1 && (threads) <= 1024, "TK_KERNEL: a workgroup has 1 to 1024 threads"); \
  extern "C"
#define TK_DEVICE static inline
/**
 * `unsigned char* name`: this workgroup's LDS (shared by its threads, 0xFF-poisoned at its start). Each
 * execution of the statement claims new bytes, so it belongs in the kernel body, run once per thread (as
 * the backend emits it), not in a loop or a helper called repeatedly.
 */
#define TK_LDS(name, bytes) unsigned char* name = tk_cpu::lds((long)(bytes), #name)

/** threadIdx.x */
inline int tk_thread_id() { return tk_cpu::t_tid; }
/** blockIdx.{x,y,z} */
inline int tk_block_id(int axis) { return tk_cpu::workgroup("tk_block_id").id[axis]; }
/** gridDim.{x,y,z}, in workgroups. */
inline int tk_grid_dim(int axis) { return tk_cpu::workgroup("tk_grid_dim").grid[axis]; }
/** __syncthreads(): every thread of the workgroup still running the kernel. */
inline void tk_barrier() { tk_cpu::workgroup("tk_barrier").bar->arrive_and_wait(); }

/** The value of v in lane (lane ^ mask) of this wave (ds_bpermute: the lane index wraps at 64). */
inline float tk_shfl_xor(float v, int mask) {
  tk_cpu::Wave& w = tk_cpu::wave("tk_shfl_xor");
  const int lane = tk_cpu::t_tid % tk_cpu::kWaveSize;
  tk_cpu::LaneSlot* s = w.slot[tk_cpu::t_phase++ & 1];
  s[lane].v = v;
  w.bar.arrive_and_wait();
  return s[(lane ^ mask) & (tk_cpu::kWaveSize - 1)].v;
}

inline tk_float16 tk_mfma_32x32x8_f16(tk_half4 a, tk_half4 b, tk_float16 c) {
  float fa[4], fb[4];
  tk_cpu::f16x4(a, fa);
  tk_cpu::f16x4(b, fb);
  return tk_cpu::mfma<tk_cpu::Mfma32x32x8>(fa, fb, c);
}
inline tk_float4 tk_mfma_16x16x16_f16(tk_half4 a, tk_half4 b, tk_float4 c) {
  float fa[4], fb[4];
  tk_cpu::f16x4(a, fa);
  tk_cpu::f16x4(b, fb);
  return tk_cpu::mfma<tk_cpu::Mfma16x16x16>(fa, fb, c);
}
inline tk_float16 tk_mfma_32x32x8_bf16(tk_short4 a, tk_short4 b, tk_float16 c) {
  float fa[4], fb[4];
  tk_cpu::bf16x4(a, fa);
  tk_cpu::bf16x4(b, fb);
  return tk_cpu::mfma<tk_cpu::Mfma32x32x8>(fa, fb, c);
}
inline tk_float4 tk_mfma_16x16x16_bf16(tk_short4 a, tk_short4 b, tk_float4 c) {
  float fa[4], fb[4];
  tk_cpu::bf16x4(a, fa);
  tk_cpu::bf16x4(b, fb);
  return tk_cpu::mfma<tk_cpu::Mfma16x16x16>(fa, fb, c);
}

inline float tk_exp2f(float x) { return ::exp2f(x); }
inline float tk_log2f(float x) { return ::log2f(x); }
inline float tk_rcpf(float x) { return 1.0f / x; }
inline float tk_sqrtf(float x) { return ::sqrtf(x); }

// ---- The launch --------------------------------------------------------------------------------------

/**
 * Runs `kernelCall()` (which calls the kernel with its arguments) over `grid` workgroups of `threads`
 * threads, with `ldsBytes` of LDS per workgroup. Workgroups run one after another, x fastest; each runs on
 * `threads` std::threads (one pool, reused: between workgroups all threads meet at a barrier whose
 * completion step builds the next workgroup's barriers and poisons its LDS). Returns 0, or prints the
 * problem to stderr and returns 2 for a launch the hardware could not run.
 */
template <class F>
int tk_cpu_launch(const int grid[3], int threads, int ldsBytes, F&& kernelCall) {
  using namespace tk_cpu;
  if (threads < kWaveSize || threads > kMaxThreads || threads % kWaveSize != 0) {
    std::fprintf(stderr, "tk_hip_cpu: a workgroup of %d threads: it must be a multiple of the wave size 64, at most %d\n", threads, kMaxThreads);
    return 2;
  }
  if (ldsBytes < 0 || ldsBytes > kMaxLdsBytes) {
    std::fprintf(stderr, "tk_hip_cpu: %d bytes of LDS per workgroup: MI300X (gfx942) has at most %ld\n", ldsBytes, kMaxLdsBytes);
    return 2;
  }
  for (int i = 0; i < 3; i++) {
    if (grid[i] < 0) {
      std::fprintf(stderr, "tk_hip_cpu: grid [%d, %d, %d] has a negative size\n", grid[0], grid[1], grid[2]);
      return 2;
    }
  }
  const long long total = (long long)grid[0] * grid[1] * grid[2];
  if (total == 0) return 0;  // an empty grid launches nothing

  Workgroup wg;
  wg.threads = threads;
  wg.ldsBytes = ldsBytes;
  for (int i = 0; i < 3; i++) wg.grid[i] = grid[i];
  struct AlignedDelete {
    void operator()(unsigned char* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<unsigned char[], AlignedDelete> ldsBuf(new (std::align_val_t(64)) unsigned char[ldsBytes > 0 ? ldsBytes : 1]);
  wg.lds = ldsBuf.get();

  long long next = 0;  // the workgroup the next completion step sets up
  auto setUp = [&]() noexcept {
    const long long n = next++;
    if (n >= total) return;  // never reached: each thread meets the barrier once per workgroup
    wg.id[0] = (int)(n % grid[0]);
    wg.id[1] = (int)(n / grid[0] % grid[1]);
    wg.id[2] = (int)(n / ((long long)grid[0] * grid[1]));
    wg.bar = std::make_unique<std::barrier<>>(threads);
    wg.waves.clear();
    for (int w = 0; w < threads / kWaveSize; w++) wg.waves.push_back(std::make_unique<Wave>());
    std::memset(wg.lds, 0xFF, (std::size_t)ldsBytes);  // NaN in f16, bf16 and f32
  };
  std::barrier<decltype(setUp)> between(threads, setUp);

  auto& call = kernelCall;
  auto body = [&](int tid) {
    for (long long n = 0; n < total; n++) {
      between.arrive_and_wait();  // previous workgroup done everywhere; this one set up
      t_wg = &wg;
      t_tid = tid;
      t_ldsUsed = 0;
      t_phase = 0;
      call();
      // Finished threads stop counting, like finished waves on the hardware.
      wg.waves[tid / kWaveSize]->bar.arrive_and_drop();
      wg.bar->arrive_and_drop();
      t_wg = nullptr;
    }
  };
  std::vector<std::thread> pool;
  pool.reserve((std::size_t)threads);
  for (int tid = 0; tid < threads; tid++) pool.emplace_back(body, tid);
  for (std::thread& t : pool) t.join();
  return 0;
}

#endif  // TK_HIP_CPU_H
