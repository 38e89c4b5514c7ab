// Control flow that splits warps: nested data-dependent branches, loops with data-dependent trip
// counts, break/continue, and early returns; plus a warp-synchronous exchange through shared
// memory ordered only by __syncwarp().
//
// branchy: per element x = in[i] (int32), out[i] =
//   x < 0, x odd:   -x
//   x < 0, x even:  sum over k < (-x & 15) of k * x, skipping k divisible by 3
//   x >= 0:         Collatz steps from x, capped at 60 (break); if x <= 1 the thread returns
//                   early with out[i] = 1000 + x
// Launch: grid (ceil(n/B),1,1), block (B,1,1).
//
// nested_loops: per element x = in[i]: (x & 7) outer rounds r, each with an inner loop over the
//   base-4 digits of (x >> 3) + r that breaks on a digit 3, then a dense switch on (x >> r) & 7;
//   a thread whose accumulator passes 2000 returns early without writing (out keeps its old value).
// Launch: grid (ceil(n/B),1,1), block (B,1,1).
//
// warp_exchange: v = in[i] (0 past n); each lane publishes v, __syncwarp(), reads lane^1's value,
//   publishes v + that, __syncwarp(), reads lane^2's partial: out[i] = sum of the 4 lanes of its quad.
// Launch: grid (ceil(n/B),1,1), block (B,1,1), B a multiple of 32 and <= 256.

extern "C" __global__ void branchy(const int* __restrict__ in, int* __restrict__ out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const int x = in[i];
  int acc = 0;
  if (x < 0) {
    if (x & 1) {
      acc = -x;
    } else {
      const int trips = -x & 15;
      for (int k = 0; k < trips; ++k) {
        if (k % 3 == 0) continue;
        acc += k * x;
      }
    }
  } else {
    if (x <= 1) {
      out[i] = 1000 + x;
      return;
    }
    unsigned v = static_cast<unsigned>(x);
    while (v != 1) {
      v = (v & 1) ? 3 * v + 1 : v >> 1;
      if (++acc >= 60) break;
    }
  }
  out[i] = acc;
}

extern "C" __global__ void nested_loops(const int* __restrict__ in, int* __restrict__ out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const int x = in[i];
  int acc = 0;
  for (int r = 0; r < (x & 7); ++r) {
    int y = (x >> 3) + r;
    while (y > 0) {
      if ((y & 3) == 3) break;
      acc += y & 7;
      y >>= 2;
    }
    switch ((x >> r) & 7) {
      case 0: acc += 1; break;
      case 1: acc ^= 0x55; break;
      case 2: acc *= 3; break;
      case 3: acc -= 7; break;
      case 4: acc <<= 1; break;
      case 5: acc |= 0x100; break;
      case 6: acc /= 3; break;
      default: acc += r; break;
    }
    if (acc > 2000) return;
  }
  out[i] = acc;
}

extern "C" __global__ void warp_exchange(const int* __restrict__ in, int* __restrict__ out, int n) {
  __shared__ int slots[256];
  const int tid = threadIdx.x;
  const int i = blockIdx.x * blockDim.x + tid;
  const int v = i < n ? in[i] : 0;

  slots[tid] = v;
  __syncwarp();
  const int pair = v + slots[tid ^ 1];
  __syncwarp();  // everyone has read before the slots are overwritten
  slots[tid] = pair;
  __syncwarp();
  const int quad = pair + slots[tid ^ 2];
  if (i < n) out[i] = quad;
}
