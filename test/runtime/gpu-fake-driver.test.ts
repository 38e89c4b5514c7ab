/**
 * The GPU runtime against the FAKE CUDA driver (test/support/fake-cuda/fake_cuda.c): these tests
 * check the addon's marshalling (what reaches the driver), lifetimes and error paths. The fake
 * runs no kernel and its times mean nothing: nothing here is a GPU result.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Buffer, Device, GpuDisposedError, GpuDriverError, GpuUsageError, Module, Stream, arg, time } from '../../runtime/gpu/index.js';
import { devicesCommand } from '../../runtime/gpu/devices-command.js';
import { addonCandidates } from '../../runtime/gpu/native.js';
import type { CliIO } from '../../dsl/cli-io.js';
import { readFakeState, readLaunches, useFakeCuda } from '../support/fake-cuda.js';
import { makeRng } from '../support/random.js';
import { buildShipped } from '../support/build.js';
import { compilePtx } from '../../compiler/ptx/compile-ptx.js';
import type { KernelArg } from '../../runtime/gpu/index.js';

const PTX = `
.version 8.0
.target sm_90
.address_size 64
.visible .entry scale(
  .param .u64 scale_param_0,
  .param .u32 scale_param_1,
  .param .f32 scale_param_2,
  .param .u64 scale_param_3,
  .param .f64 scale_param_4
)
{ ret; }
.visible .entry big_shared(.param .u64 out) { ret; }
`;

const fake = useFakeCuda();

let open: Device[] = [];
function device(): Device {
  const d = Device.open(0);
  open.push(d);
  return d;
}
afterEach(() => {
  for (const d of open) d.dispose();
  open = [];
});

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('device query (fake driver)', () => {
  it('lists the fake device with the attributes it reports', () => {
    const probe = Device.driver();
    expect(probe).toMatchObject({ found: true, api: 'cuda', driverVersion: 12040, deviceCount: 1 });
    const [d, ...rest] = Device.list();
    expect(rest).toEqual([]);
    expect(d).toMatchObject({
      index: 0,
      api: 'cuda',
      name: 'Tilekit fake CUDA device',
      arch: 'sm_90',
      computeCapability: '9.0',
      multiprocessors: 7,
      totalMemoryBytes: 2 ** 34,
      clockKHz: 1234000,
      memoryClockKHz: 2600000,
      memoryBusWidthBits: 5120,
      l2CacheBytes: 4 << 20,
      warpSize: 32,
      maxThreadsPerBlock: 1024,
      maxThreadsPerMultiprocessor: 2048,
      sharedBytesPerBlock: 48 * 1024,
      sharedBytesPerBlockOptin: 227 * 1024,
      sharedBytesPerMultiprocessor: 228 * 1024,
      registersPerBlock: 65536,
      pciBusId: 42,
    });
    expect(device().info.name).toBe('Tilekit fake CUDA device');
  });

  it('a missing device index is a usage error', () => {
    expect(() => Device.open(1)).toThrow(GpuUsageError);
    expect(() => Device.open(1)).toThrow(/reports 1 device/);
  });

  it('tilekit devices prints the device and exits 0', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = { out: (t) => void out.push(t), err: (t) => void err.push(t) };
    expect(await devicesCommand(io)).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toMatch(/^cuda driver 12040 \(.*libfakecuda.*\): 1 device\(s\)$/);
    expect(out[1]).toContain('0: Tilekit fake CUDA device  sm_90  7 SMs');
  });
});

describe('memory (fake driver)', () => {
  it('round-trips seeded random data', () => {
    const seed = 0x7e57;
    const rng = makeRng(seed);
    const data = Float32Array.from({ length: 4099 }, () => rng.normal());
    expect(data.some((x) => x !== 0)).toBe(true);
    const d = device();
    const b = Buffer.from(d, data);
    expect(b.bytes).toBe(data.byteLength);
    expect(b.download(new Float32Array(data.length)), `seed ${seed}`).toEqual(data);
    expect(b.download()).toEqual(new Uint8Array(data.buffer));
    // a partial upload at an offset, then a partial download
    b.upload(Float32Array.of(7, 8), 8);
    expect([...b.download(new Float32Array(4))]).toEqual([data[0], data[1], 7, 8]);
    expect([...b.download(new Float32Array(2), 8)]).toEqual([7, 8]);
  });

  it('memset writes bytes, all or a range', () => {
    const d = device();
    const b = Buffer.alloc(d, 64);
    b.memset(0xab);
    expect(b.download().every((x) => x === 0xab)).toBe(true);
    b.memset(1, 8, 4);
    const bytes = b.download();
    expect([...bytes.subarray(6, 14)]).toEqual([0xab, 0xab, 1, 1, 1, 1, 0xab, 0xab]);
  });

  it('out-of-range copies are usage errors before they reach the driver', () => {
    const b = Buffer.alloc(device(), 16);
    expect(() => b.upload(new Uint8Array(17))).toThrow(GpuUsageError);
    expect(() => b.download(new Uint8Array(8), 9)).toThrow(/do not fit in a buffer of 16 bytes/);
    expect(() => b.memset(300)).toThrow(/byte/);
  });
});

describe('modules and kernels (fake driver)', () => {
  it('loads PTX and finds its kernels; a missing kernel names the call, the code and the kernel', () => {
    const m = Module.fromPtx(device(), PTX);
    expect(m.infoLog).toContain('fake JIT: 2 entries');
    expect(m.kernel('scale').name).toBe('scale');
    const e = thrown(() => m.kernel('gemm_kernel'));
    expect(e).toBeInstanceOf(GpuDriverError);
    const d = e as GpuDriverError;
    expect(d.code).toBe('TK_GPU_DRIVER');
    expect(d.call).toBe('cuModuleGetFunction(gemm_kernel)');
    expect(d.driverCode).toBe('CUDA_ERROR_NOT_FOUND');
    expect(d.driverNumber).toBe(500);
    expect(d.message).toBe('cuModuleGetFunction(gemm_kernel): CUDA_ERROR_NOT_FOUND: named symbol not found');
  });

  it('a JIT failure carries the JIT error log', () => {
    const e = thrown(() => Module.fromPtx(device(), `${PTX}\n// FAKE_JIT_ERROR`));
    expect(e).toBeInstanceOf(GpuDriverError);
    const d = e as GpuDriverError;
    expect(d.call).toBe('cuModuleLoadDataEx');
    expect(d.driverCode).toBe('CUDA_ERROR_INVALID_PTX');
    expect(d.log).toContain('fake JIT rejected the module');
    expect(d.message).toContain('cuModuleLoadDataEx: CUDA_ERROR_INVALID_PTX: a PTX JIT compilation failed\nptxas fatal   : fake JIT rejected the module');
  });

  it('passes grid, block, shared bytes and every argument byte to the driver', () => {
    const d = device();
    const buf = Buffer.alloc(d, 256);
    const other = Buffer.alloc(d, 8);
    const k = Module.fromPtx(d, PTX).kernel('scale');
    rmSync(fake.launchLog, { force: true });
    k.launch({ grid: [3, 2, 1], block: [128, 1, 1], sharedBytes: 1024, args: [buf, arg.u32(0xdeadbeef), arg.f32(-1.5), arg.pointer(other.devicePointer + 4n), arg.f64(0.1)] });
    const [launch, ...more] = readLaunches(fake.launchLog);
    expect(more).toEqual([]);
    const hex64 = (v: bigint): string => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, v, true);
      return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    };
    const f64 = new Uint8Array(new Float64Array([0.1]).buffer);
    expect(launch).toEqual({
      kernel: 'scale',
      grid: [3, 2, 1],
      block: [128, 1, 1],
      sharedBytes: 1024,
      params: [hex64(buf.devicePointer), 'efbeadde', '0000c0bf', hex64(other.devicePointer + 4n), Array.from(f64, (x) => x.toString(16).padStart(2, '0')).join('')],
    });
  });

  it('more than 48 KB of dynamic shared memory fails unless the limit is raised', () => {
    const d = device();
    const k = Module.fromPtx(d, PTX).kernel('big_shared');
    const out = Buffer.alloc(d, 4);
    const launch = { grid: [1, 1, 1], block: [256, 1, 1], sharedBytes: 100 * 1024, args: [out] } as const;
    const e = thrown(() => k.launch(launch));
    expect(e).toBeInstanceOf(GpuDriverError);
    expect((e as GpuDriverError).message).toBe('cuLaunchKernel(big_shared): CUDA_ERROR_INVALID_VALUE: invalid argument');
    expect(k.info().maxDynamicSharedBytes).toBe(48 * 1024);
    k.launch({ ...launch, raiseSharedLimit: true });
    expect(k.info().maxDynamicSharedBytes).toBe(100 * 1024);
    expect(readLaunches(fake.launchLog).at(-1)).toMatchObject({ kernel: 'big_shared', sharedBytes: 100 * 1024 });
    // beyond the opt-in maximum the raise itself fails, naming the attribute
    expect(() => k.setMaxDynamicSharedBytes(300 * 1024)).toThrow(/cuFuncSetAttribute\(big_shared, MAX_DYNAMIC_SHARED_SIZE_BYTES=307200\): CUDA_ERROR_INVALID_VALUE/);
  });

  it('a compiled shipped kernel loads, and its kernel-ABI arguments reach the driver in its .param layout', () => {
    // gemm at the 128×256×64 configuration needs more than 48 KB of dynamic shared memory.
    const { compiled } = compilePtx(buildShipped('gemm.tile', 'gemm', { BM: 128, BN: 256, BK: 64 }), 'sm_90a');
    expect(compiled).toBeDefined();
    const c = compiled!;
    expect(c.dynamicSmem).toBeGreaterThan(48 * 1024);
    const d = device();
    const k = Module.fromPtx(d, c.ptx).kernel(c.entry);
    const M = 1000, N = 1000, K = 1000;
    const bufs = new Map(['a', 'b', 'c'].map((t) => [t, Buffer.alloc(d, 2 * M * N)]));
    const dims: Record<string, number> = { M, N, K };
    const strides: Record<string, number> = { a: K, b: N, c: N };
    const args: KernelArg[] = c.params.map((p) => {
      switch (p.kind) {
        case 'tensor':
          return bufs.get(p.tensor)!;
        case 'dim':
          return arg.u32(dims[p.dim]!);
        case 'stride':
          return arg.i64(strides[p.tensor]!);
        case 'scalar':
          return p.dtype === 'f32' ? arg.f32(1) : p.dtype === 'i64' ? arg.i64(1) : arg.i32(1);
      }
    });
    rmSync(fake.launchLog, { force: true });
    k.launch({ grid: [8, 4, 1], block: [c.threads, 1, 1], sharedBytes: c.dynamicSmem, raiseSharedLimit: true, args });
    const [launch] = readLaunches(fake.launchLog);
    expect(launch!.kernel).toBe(c.entry);
    expect(launch!.sharedBytes).toBe(c.dynamicSmem);
    expect(launch!.params).toHaveLength(c.params.length);
    const le = (v: bigint, bytes: number): string =>
      Array.from({ length: bytes }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0')).join('');
    c.params.forEach((p, i) => {
      const expected =
        p.kind === 'tensor' ? le(bufs.get(p.tensor)!.devicePointer, 8) : p.kind === 'dim' ? le(BigInt(dims[p.dim]!), 4) : p.kind === 'stride' ? le(BigInt(strides[p.tensor]!), 8) : launch!.params[i];
      expect(launch!.params[i], p.name).toBe(expected);
    });
  });

  it('rejects bad launch dimensions before the driver', () => {
    const k = Module.fromPtx(device(), PTX).kernel('big_shared');
    expect(() => k.launch({ grid: [0, 1, 1], block: [1, 1, 1], args: [arg.pointer(0)] })).toThrow(/grid must be three positive integers/);
  });

  it('launches on a stream', () => {
    const d = device();
    const s = Stream.create(d);
    const k = Module.fromPtx(d, PTX).kernel('big_shared');
    k.launch({ grid: [1, 1, 1], block: [32, 1, 1], args: [arg.pointer(0)], stream: s });
    s.synchronize();
    s.dispose();
    expect(() => s.synchronize()).toThrow(GpuDisposedError);
  });
});

describe('timing (fake driver: host-clock events, the numbers mean nothing)', () => {
  it('returns finite statistics over every sample, with and without an L2 flush', () => {
    const d = device();
    const k = Module.fromPtx(d, PTX).kernel('big_shared');
    let calls = 0;
    const fn = (): void => {
      calls++;
      k.launch({ grid: [1, 1, 1], block: [32, 1, 1], args: [arg.pointer(0)] });
    };
    const t = time(d, fn, { warmup: 2, reps: 5 });
    expect(calls).toBe(7);
    expect(t.samples).toHaveLength(5);
    for (const v of [t.median, t.min, t.max, t.spread, ...t.samples]) expect(Number.isFinite(v)).toBe(true);
    expect(t.min).toBeLessThanOrEqual(t.median);
    expect(t.median).toBeLessThanOrEqual(t.max);
    expect(t.spreadKind).toBe('iqr/median');
    const flushed = time(d, fn, { warmup: 0, reps: 3, flushL2: true });
    expect(flushed.flushedL2).toBe(true);
    expect(flushed.samples).toHaveLength(3);
    // the flush buffer and both events are freed afterwards
    expect(readFakeState(fake.stateFile)).toMatchObject({ events: 0 });
  });
});

describe('lifetimes (fake driver)', () => {
  it('dispose twice is harmless; use after dispose is a clear error', () => {
    const d = device();
    const b = Buffer.alloc(d, 16);
    const m = Module.fromPtx(d, PTX);
    const k = m.kernel('scale');
    b.dispose();
    b.dispose();
    expect(b.disposed).toBe(true);
    const e = thrown(() => b.download());
    expect(e).toBeInstanceOf(GpuDisposedError);
    expect((e as GpuDisposedError).code).toBe('TK_GPU_DISPOSED');
    expect((e as Error).message).toBe('Buffer used after dispose()');
    expect(() => b.devicePointer).toThrow(GpuDisposedError);
    m.dispose();
    m.dispose();
    expect(() => k.launch({ grid: [1, 1, 1], block: [1, 1, 1], args: [] })).toThrow(/Kernel scale used after its Module was disposed/);
    expect(() => m.kernel('scale')).toThrow(GpuDisposedError);
  });

  it('disposing a device frees what it still owns and releases its context', () => {
    const before = Device.open(0); // the state file exists after the first retain
    before.dispose();
    const base = readFakeState(fake.stateFile);
    const d = Device.open(0);
    const b = Buffer.alloc(d, 1024);
    Module.fromPtx(d, PTX);
    Stream.create(d);
    expect(readFakeState(fake.stateFile)).toMatchObject({
      allocations: base.allocations + 1,
      modules: base.modules + 1,
      streams: base.streams + 1,
      retains: base.retains + 1,
    });
    d.dispose();
    d.dispose();
    expect(readFakeState(fake.stateFile)).toMatchObject({ allocations: base.allocations, modules: base.modules, streams: base.streams, retains: base.retains });
    expect(() => b.download()).toThrow(GpuDisposedError);
    expect(() => Buffer.alloc(d, 4)).toThrow(/the Device was disposed/);
    expect(() => d.synchronize()).toThrow(GpuDisposedError);
  });

  it('finalizers release what is garbage-collected undisposed (the safety net)', () => {
    // A child process with --expose-gc: makes a device, a buffer, a module and an event through the
    // raw addon, drops them, collects, and prints the fake's live counts before and after.
    const script = `
      const a = require(process.argv[1]);
      const fs = require('node:fs');
      (() => {
        const d = new a.NativeDevice(0);
        new a.NativeBuffer(d, 1024);
        new a.NativeModule(d, new TextEncoder().encode('.entry k() { ret; }\\0'));
        new a.NativeEvent(d);
      })();
      const state = () => JSON.parse(fs.readFileSync(process.env.FAKE_CUDA_STATE, 'utf8'));
      const before = state();
      (async () => {
        for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setImmediate(r)); }
        console.log(JSON.stringify({ before, after: state() }));
      })();`;
    const childState = join(fake.dir, 'gc-state.json');
    const addon = addonCandidates().find((p) => existsSync(p))!;
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', script, addon], { env: { ...process.env, FAKE_CUDA_STATE: childState }, encoding: 'utf8' });
    const { before, after } = JSON.parse(out) as { before: Record<string, number>; after: Record<string, number> };
    expect(before).toMatchObject({ allocations: 1, modules: 1, events: 1, retains: 1 });
    expect(after).toMatchObject({ allocations: 0, modules: 0, events: 0, retains: 0 });
  });
});
