/**
 * Loads the native addon (runtime/native/, built by `npm install` into build/Release/) and gives
 * its raw classes types. Every call into it goes through `native()`, which turns the addon's
 * errors (plain Errors tagged with `tilekitKind`) into the classes of errors.ts. Only runtime/gpu/
 * uses this module; everyone else uses the typed API.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GpuDisposedError, GpuDriverError, GpuUsageError, NativeAddonError, NoGpuDriverError } from './errors.js';

export interface NativeDeviceInfo {
  name: string;
  arch: string;
  computeCapability: string;
  multiprocessors: number;
  totalMemoryBytes: number;
  clockKHz: number;
  memoryClockKHz: number;
  memoryBusWidthBits: number;
  l2CacheBytes: number;
  warpSize: number;
  maxThreadsPerBlock: number;
  maxThreadsPerMultiprocessor: number;
  sharedBytesPerBlock: number;
  sharedBytesPerBlockOptin: number;
  sharedBytesPerMultiprocessor: number;
  registersPerBlock: number;
  pciBusId: number;
}

export interface NativeProbe {
  api: 'cuda' | 'hip';
  library: string;
  driverVersion: number;
  deviceCount: number;
}

export interface NativeFunctionInfo {
  registers: number;
  staticSharedBytes: number;
  localBytes: number;
  maxThreadsPerBlock: number;
  maxDynamicSharedBytes: number;
}

export interface NativeDevice {
  info(): NativeDeviceInfo;
  synchronize(): void;
  dispose(): void;
  readonly disposed: boolean;
}
export interface NativeBuffer {
  upload(source: ArrayBufferView, offset?: number): void;
  download(target: ArrayBufferView, offset?: number): void;
  memset(value: number, offset?: number, bytes?: number): void;
  dispose(): void;
  readonly pointer: bigint;
  readonly bytes: number;
  readonly disposed: boolean;
}
export interface NativeModule {
  dispose(): void;
  readonly infoLog: string;
  readonly disposed: boolean;
}
export interface NativeStream {
  synchronize(): void;
  dispose(): void;
  readonly disposed: boolean;
}
export interface NativeFunction {
  info(): NativeFunctionInfo;
  setMaxDynamicShared(bytes: number): void;
  launch(grid: Uint32Array, block: Uint32Array, sharedBytes: number, stream: NativeStream | null, params: Uint8Array, offsets: Uint32Array): void;
}
export interface NativeEvent {
  record(stream: NativeStream | null): void;
  synchronize(): void;
  elapsedMsSince(start: NativeEvent): number;
  dispose(): void;
}

export interface NativeAddon {
  probe(): NativeProbe;
  deviceInfo(index: number): NativeDeviceInfo;
  NativeDevice: new (index: number) => NativeDevice;
  NativeBuffer: new (device: NativeDevice, bytes: number) => NativeBuffer;
  NativeModule: new (device: NativeDevice, image: Uint8Array) => NativeModule;
  NativeFunction: new (module: NativeModule, name: string) => NativeFunction;
  NativeStream: new (device: NativeDevice) => NativeStream;
  NativeEvent: new (device: NativeDevice) => NativeEvent;
}

const ADDON_FILE = join('build', 'Release', 'tilekit_native.node');
export const REBUILD_HINT = 'run `npm rebuild` (or `npm run install`, which runs node-gyp rebuild) in the package folder';

/**
 * Where the addon is looked for: `TILEKIT_NATIVE_ADDON` when set (taken as given: a bundled CLI
 * carries the addon beside it, test/gpu/), else build/Release under the package root, from source
 * (runtime/gpu/) or from dist/.
 */
export function addonCandidates(): string[] {
  const given = process.env.TILEKIT_NATIVE_ADDON;
  if (given) return [given];
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, '..', '..', ADDON_FILE), join(here, '..', '..', '..', ADDON_FILE)];
}

let loaded: NativeAddon | undefined;

/** The addon, loaded on first use; a NativeAddonError (never a raw require stack) when it is not built or does not load. */
export function loadAddon(): NativeAddon {
  loaded ??= requireAddon(addonCandidates());
  return loaded;
}

/** Loads the first existing candidate; exported so the not-built and broken-file errors are testable. */
export function requireAddon(candidates: readonly string[]): NativeAddon {
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new NativeAddonError(`the native addon is not built (looked for ${candidates.join(', ')}): ${REBUILD_HINT}`);
  }
  try {
    return createRequire(import.meta.url)(path) as NativeAddon;
  } catch (e) {
    const first = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new NativeAddonError(`the native addon at ${path} does not load (${first}): ${REBUILD_HINT}`);
  }
}

/** Maps an error thrown by the addon to the typed errors; anything else passes through. */
export function translateError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const tagged = e as Error & {
    tilekitKind?: string;
    api?: string;
    call?: string;
    driverCode?: string;
    driverNumber?: number;
    driverMessage?: string;
    log?: string;
  };
  switch (tagged.tilekitKind) {
    case 'driver':
      return new GpuDriverError({
        api: tagged.api ?? '',
        call: tagged.call ?? '',
        driverCode: tagged.driverCode ?? '',
        driverNumber: tagged.driverNumber ?? -1,
        driverMessage: tagged.driverMessage ?? '',
        log: tagged.log,
      });
    case 'no-driver':
      return new NoGpuDriverError(e.message);
    case 'disposed':
      return new GpuDisposedError(e.message);
    case 'usage':
      return new GpuUsageError(e.message);
    default:
      return e;
  }
}

/** Runs `f` with the addon, translating its errors. */
export function native<T>(f: (addon: NativeAddon) => T): T {
  const addon = loadAddon();
  try {
    return f(addon);
  } catch (e) {
    throw translateError(e);
  }
}
