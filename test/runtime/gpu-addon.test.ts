/**
 * The native GPU addon without a GPU: it is built by the install step and loads; with no driver
 * every entry point fails with the "no GPU driver found" error naming what was looked for; the
 * pure parts (argument packing, timing statistics) on their own.
 */
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Device, GpuUsageError, NoGpuDriverError, arg, packArgs, summarize, l2FlushBytes } from '../../runtime/gpu/index.js';
import { addonCandidates, loadAddon, requireAddon } from '../../runtime/gpu/native.js';
import { NativeAddonError } from '../../runtime/gpu/errors.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devicesCommand } from '../../runtime/gpu/devices-command.js';
import type { CliIO } from '../../dsl/cli-io.js';
import { pointAtNoGpuDriver } from '../support/fake-cuda.js';

function captureIO(): CliIO & { stdout(): string; stderr(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (t) => void out.push(t), err: (t) => void err.push(t), stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

describe('the native addon', () => {
  it('is built by the install step and loads', () => {
    expect(addonCandidates().some((p) => existsSync(p))).toBe(true);
    const addon = loadAddon();
    expect(typeof addon.probe).toBe('function');
    expect(typeof addon.NativeDevice).toBe('function');
  });

  it('TILEKIT_NATIVE_ADDON names the addon to load instead (a bundled CLI carries its own)', () => {
    const saved = process.env.TILEKIT_NATIVE_ADDON;
    process.env.TILEKIT_NATIVE_ADDON = '/nonexistent/bundle/tilekit_native.node';
    try {
      expect(addonCandidates()).toEqual(['/nonexistent/bundle/tilekit_native.node']);
      expect(() => requireAddon(addonCandidates())).toThrow('the native addon is not built (looked for /nonexistent/bundle/tilekit_native.node)');
    } finally {
      if (saved === undefined) delete process.env.TILEKIT_NATIVE_ADDON;
      else process.env.TILEKIT_NATIVE_ADDON = saved;
    }
  });

  it('says how to build it when it is missing, and when the file does not load', () => {
    expect(() => requireAddon(['/nonexistent/build/Release/tilekit_native.node'])).toThrow(NativeAddonError);
    expect(() => requireAddon(['/nonexistent/build/Release/tilekit_native.node'])).toThrow(
      'the native addon is not built (looked for /nonexistent/build/Release/tilekit_native.node): run `npm rebuild`',
    );
    const broken = join(mkdtempSync(join(tmpdir(), 'tilekit-addon-')), 'tilekit_native.node');
    writeFileSync(broken, 'not an ELF file');
    expect(() => requireAddon([broken])).toThrow(/^the native addon at .* does not load \(.*\): run `npm rebuild`/);
  });
});

describe('with no GPU driver', () => {
  let restore: () => void;
  beforeEach(() => {
    restore = pointAtNoGpuDriver();
  });
  afterEach(() => restore());

  const expectNoDriver = (f: () => unknown): void => {
    let caught: unknown;
    try {
      f();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NoGpuDriverError);
    const e = caught as NoGpuDriverError;
    expect(e.code).toBe('TK_GPU_NO_DRIVER');
    expect(e.message).toMatch(/^no GPU driver found: looked for TILEKIT_CUDA_LIBRARY=\/nonexistent\/tilekit-test\/libcuda\.so\.1 \(/);
    expect(e.message).toContain('TILEKIT_HIP_LIBRARY=/nonexistent/tilekit-test/libamdhip64.so (');
    expect(e.message).toContain('cannot open shared object file'); // dlerror()
  };

  it('Device.driver() says none was found and Device.list() is empty', () => {
    const probe = Device.driver();
    expect(probe.found).toBe(false);
    if (!probe.found) expect(probe.message).toContain('no GPU driver found: looked for');
    expect(Device.list()).toEqual([]);
  });

  it('Device.open() fails with the no-driver error naming both libraries and dlerror', () => {
    expectNoDriver(() => Device.open());
    expectNoDriver(() => Device.open(3));
  });

  it('the raw addon entry points fail the same way', () => {
    const a = loadAddon();
    const raw = (f: () => unknown) => () => {
      try {
        return f();
      } catch (e) {
        expect((e as { tilekitKind?: string }).tilekitKind).toBe('no-driver');
        throw new NoGpuDriverError((e as Error).message);
      }
    };
    expectNoDriver(raw(() => a.probe()));
    expectNoDriver(raw(() => a.deviceInfo(0)));
    expectNoDriver(raw(() => new a.NativeDevice(0)));
  });

  it('tilekit devices exits 1 with the message on stderr', async () => {
    const io = captureIO();
    expect(await devicesCommand(io)).toBe(1);
    expect(io.stdout()).toBe('');
    expect(io.stderr()).toContain('no GPU driver found: looked for TILEKIT_CUDA_LIBRARY=/nonexistent/tilekit-test/libcuda.so.1');
  });
});

describe('kernel argument packing', () => {
  it('places each value at its natural alignment, little-endian', () => {
    const buffer = { devicePointer: 0x1122334455667788n };
    const { bytes, offsets } = packArgs([arg.i32(-2), buffer, arg.f32(1.5), arg.u32(0xffffffff), arg.f64(-0.25), arg.i64(-3n), arg.pointer(16)]);
    expect([...offsets]).toEqual([0, 8, 16, 20, 24, 32, 40]);
    const v = new DataView(bytes.buffer);
    expect(v.getInt32(0, true)).toBe(-2);
    expect(v.getBigUint64(8, true)).toBe(0x1122334455667788n);
    expect(v.getFloat32(16, true)).toBe(1.5);
    expect(v.getUint32(20, true)).toBe(0xffffffff);
    expect(v.getFloat64(24, true)).toBe(-0.25);
    expect(v.getBigInt64(32, true)).toBe(-3n);
    expect(v.getBigUint64(40, true)).toBe(16n);
  });

  it('rejects values outside their type', () => {
    expect(() => packArgs([arg.i32(2 ** 31)])).toThrow(GpuUsageError);
    expect(() => packArgs([arg.u32(-1)])).toThrow(/argument 0 \(u32\)/);
    expect(() => packArgs([arg.i32(1.5)])).toThrow(/not an integer/);
    expect(() => packArgs([arg.pointer(-1)])).toThrow(/out of range/);
  });
});

describe('timing statistics', () => {
  it('reports median, min, max and IQR/median over all samples', () => {
    const t = summarize([4, 1, 3, 2, 5]);
    expect(t).toMatchObject({ median: 3, min: 1, max: 5, spreadKind: 'iqr/median', samples: [4, 1, 3, 2, 5] });
    expect(t.spread).toBeCloseTo((4 - 2) / 3);
  });
  it('flushes with a buffer larger than L2', () => {
    expect(l2FlushBytes(50 << 20)).toBe(100 << 20);
    expect(l2FlushBytes(0)).toBe(8 << 20);
  });
});
