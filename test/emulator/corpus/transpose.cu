// Tiled matrix transpose through shared memory: out (cols x rows) = transpose(in (rows x cols)),
// both row-major. Each 32x8 block moves one 32x32 tile, 4 rows per thread; bounds checks handle
// ragged edges. `transpose` pads each tile row by one float so the column-wise reads hit 32
// different banks; `transpose_nopad` is the same kernel without the padding (32-way bank conflicts).
//
// Launch: grid (ceil(cols/32), ceil(rows/32), 1), block (32, 8, 1).

#define TILE 32
#define BLOCK_ROWS 8

template <int PAD>
__device__ __forceinline__ void transpose_tile(float* __restrict__ out, const float* __restrict__ in, int rows, int cols) {
  __shared__ float tile[TILE][TILE + PAD];

  int x = blockIdx.x * TILE + threadIdx.x;  // column in `in`
  int y = blockIdx.y * TILE + threadIdx.y;  // row in `in`
  for (int j = 0; j < TILE; j += BLOCK_ROWS) {
    if (x < cols && y + j < rows) tile[threadIdx.y + j][threadIdx.x] = in[(y + j) * cols + x];
  }
  __syncthreads();

  x = blockIdx.y * TILE + threadIdx.x;  // column in `out` (= row in `in`)
  y = blockIdx.x * TILE + threadIdx.y;  // row in `out` (= column in `in`)
  for (int j = 0; j < TILE; j += BLOCK_ROWS) {
    if (x < rows && y + j < cols) out[(y + j) * rows + x] = tile[threadIdx.x][threadIdx.y + j];
  }
}

extern "C" __global__ void transpose(float* __restrict__ out, const float* __restrict__ in, int rows, int cols) {
  transpose_tile<1>(out, in, rows, cols);
}

extern "C" __global__ void transpose_nopad(float* __restrict__ out, const float* __restrict__ in, int rows, int cols) {
  transpose_tile<0>(out, in, rows, cols);
}
