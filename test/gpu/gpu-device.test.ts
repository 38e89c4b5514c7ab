/**
 * The GPU runtime on a REAL device: runs only where a CUDA GPU is attached (and the fake driver is
 * not selected); skipped with a loud warning everywhere else, including CI. TILEKIT_REQUIRE_GPU=1
 * turns the skip into a failure (set it on a GPU machine so a broken driver cannot pass silently).
 *
 * Covers: PTX through the driver's JIT and a cubin from ptxas (compiler/toolchain/ptxas.ts),
 * launches checked against a CPU reference on seeded random data, copies, memset, >48 KB dynamic
 * shared memory with and without raising the limit, a missing kernel name, a JIT error log, timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPtxas, assemble } from '../../compiler/toolchain/ptxas.js';
import { Buffer, Device, GpuDriverError, Module, arg, time } from '../../runtime/gpu/index.js';
import { elementwisePtx } from '../support/ptx-fixtures.js';
import { makeRng } from '../support/random.js';

function realDevicePresent(): boolean {
  if (process.env.TILEKIT_CUDA_LIBRARY) return false; // a test override (the fake) is not a GPU
  try {
    const probe = Device.driver();
    return probe.found && probe.api === 'cuda' && probe.deviceCount > 0;
  } catch {
    return false;
  }
}

const present = realDevicePresent();
if (!present) {
  if (process.env.TILEKIT_REQUIRE_GPU === '1') throw new Error('TILEKIT_REQUIRE_GPU=1 but no CUDA GPU is usable here (see `tilekit devices`)');
  console.warn('!!! SKIPPING real-GPU tests (test/gpu/gpu-device.test.ts): no CUDA GPU here; TILEKIT_REQUIRE_GPU=1 makes this a failure');
}

// saxpy: y[i] = x[i]·a + y[i] for i < n (test/support/ptx-fixtures.ts), and in the same module:
const SAXPY = `${elementwisePtx('saxpy', 'fma')}
// Each thread writes its index at the top end of the dynamic shared memory and reads it back,
// so a launch with less shared memory than asked for would fault or read garbage.
.extern .shared .align 16 .b8 smem[];
.visible .entry shared_echo(.param .u64 out, .param .u32 top)
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [out];
  ld.param.u32 %r1, [top];
  mov.u32 %r2, %tid.x;
  shl.b32 %r3, %r2, 2;
  sub.u32 %r4, %r1, %r3;
  mov.u32 %r5, smem;
  add.u32 %r6, %r5, %r4;
  st.shared.u32 [%r6+-4], %r2;
  bar.sync 0;
  ld.shared.u32 %r7, [%r6+-4];
  cvta.to.global.u64 %rd2, %rd1;
  mul.wide.u32 %rd3, %r2, 4;
  add.s64 %rd4, %rd2, %rd3;
  st.global.u32 [%rd4], %r7;
  ret;
}
`;

describe.skipIf(!present)('the GPU runtime on a real device', () => {
  let device: Device;
  beforeAll(() => {
    device = Device.open(0);
    console.log(`GPU: ${device.info.name} ${device.info.arch}, ${device.info.multiprocessors} SMs, L2 ${device.info.l2CacheBytes} B, opt-in shared ${device.info.sharedBytesPerBlockOptin} B`);
  });
  afterAll(() => device?.dispose());

  const runSaxpy = (m: Module, seed: number): void => {
    const n = (1 << 20) + 3; // ragged: the last block is partial
    const rng = makeRng(seed);
    const x = Float32Array.from({ length: n }, () => rng.normal());
    const y = Float32Array.from({ length: n }, () => rng.normal());
    const a = 0.75;
    const dx = Buffer.from(device, x);
    const dy = Buffer.from(device, y);
    m.kernel('saxpy').launch({ grid: [Math.ceil(n / 256), 1, 1], block: [256, 1, 1], args: [dx, dy, arg.f32(a), arg.u32(n)] });
    const out = dy.download(new Float32Array(n));
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const ref = a * x[i]! + y[i]!; // fma rounds once; the float64 value differs by at most half an f32 ulp
      if (Math.abs(out[i]! - ref) > 1e-6 * (1 + Math.abs(ref))) bad++;
    }
    expect(bad, `seed ${seed}`).toBe(0);
    dx.dispose();
    dy.dispose();
  };

  it('runs PTX through the JIT and checks the result', () => {
    const m = Module.fromPtx(device, SAXPY);
    runSaxpy(m, 11);
    m.dispose();
  });

  it.skipIf(!findPtxas())('runs a cubin assembled by ptxas', async () => {
    const { cubin } = await assemble(SAXPY, { arch: device.info.arch });
    const m = Module.fromCubin(device, cubin);
    runSaxpy(m, 12);
    m.dispose();
  });

  it('copies and memsets', () => {
    const b = Buffer.alloc(device, 1 << 20);
    b.memset(0x5a);
    expect(b.download().every((v) => v === 0x5a)).toBe(true);
    const rng = makeRng(13);
    const data = Uint32Array.from({ length: 1000 }, () => Math.floor(rng.next() * 2 ** 32));
    b.upload(data, 4096);
    expect(b.download(new Uint32Array(1000), 4096)).toEqual(data);
    b.dispose();
  });

  it('needs the raised limit for more than 48 KB of dynamic shared memory', () => {
    const m = Module.fromPtx(device, SAXPY);
    const k = m.kernel('shared_echo');
    const shared = Math.min(100 * 1024, device.info.sharedBytesPerBlockOptin);
    const out = Buffer.alloc(device, 256 * 4);
    const launch = { grid: [1, 1, 1], block: [256, 1, 1], sharedBytes: shared, args: [out, arg.u32(shared)] } as const;
    expect(() => k.launch(launch)).toThrow(GpuDriverError);
    k.launch({ ...launch, raiseSharedLimit: true });
    expect([...out.download(new Uint32Array(256))]).toEqual(Array.from({ length: 256 }, (_, i) => i));
    expect(() => k.launch({ ...launch, sharedBytes: device.info.sharedBytesPerBlockOptin + 1024, raiseSharedLimit: true })).toThrow(GpuDriverError);
    m.dispose();
  });

  it('names a missing kernel and returns the JIT log for bad PTX', () => {
    const m = Module.fromPtx(device, SAXPY);
    expect(() => m.kernel('gemm_kernel')).toThrow('cuModuleGetFunction(gemm_kernel): CUDA_ERROR_NOT_FOUND: named symbol not found');
    m.dispose();
    let caught: unknown;
    try {
      Module.fromPtx(device, SAXPY.replace('fma.rn.f32', 'fma.bogus.f32'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GpuDriverError);
    expect((caught as GpuDriverError).call).toBe('cuModuleLoadDataEx');
    expect((caught as GpuDriverError).log ?? '').toMatch(/error/i);
    console.log(`JIT error as reported: ${(caught as Error).message}`);
  });

  it('times a kernel with and without an L2 flush', () => {
    const m = Module.fromPtx(device, SAXPY);
    const n = 1 << 24;
    const dx = Buffer.alloc(device, n * 4);
    const dy = Buffer.alloc(device, n * 4);
    dx.memset(0);
    dy.memset(0);
    const fn = (): void => m.kernel('saxpy').launch({ grid: [n / 256, 1, 1], block: [256, 1, 1], args: [dx, dy, arg.f32(1), arg.u32(n)] });
    const warm = time(device, fn, { warmup: 3, reps: 20 });
    const cold = time(device, fn, { warmup: 3, reps: 20, flushL2: true });
    for (const t of [warm, cold]) {
      expect(t.samples).toHaveLength(20);
      expect(t.min).toBeGreaterThan(0);
      expect(Number.isFinite(t.median)).toBe(true);
    }
    console.log(`saxpy 2^24: median ${warm.median.toFixed(4)} ms (spread ${warm.spread.toFixed(3)}), with L2 flush ${cold.median.toFixed(4)} ms`);
    dx.dispose();
    dy.dispose();
    m.dispose();
  });
});
