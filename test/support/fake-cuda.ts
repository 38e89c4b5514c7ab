/**
 * Builds the FAKE CUDA driver (test/support/fake-cuda/fake_cuda.c) into a shared library, cached by
 * source hash under the OS temp folder, and points the GPU runtime at it. The fake exercises the
 * native addon's marshalling, lifetimes and error paths; it runs no kernel and measures nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';

const SOURCE = fileURLToPath(new URL('./fake-cuda/fake_cuda.c', import.meta.url));

/** The path of the built fake libcuda (compiled with cc on first use). */
export function buildFakeCuda(): string {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'tilekit-fake-cuda');
  const lib = join(dir, `libfakecuda-${hash}.so`);
  if (existsSync(lib)) return lib;
  mkdirSync(dir, { recursive: true });
  const partial = `${lib}.${process.pid}.tmp`; // rename: parallel test files never see a half-written library
  execFileSync(process.env.CC ?? 'cc', ['-shared', '-fPIC', '-O1', '-Wall', '-Werror', '-o', partial, SOURCE], { stdio: 'pipe' });
  renameSync(partial, lib);
  return lib;
}

/** Live counts the fake writes to $FAKE_CUDA_STATE after every change. */
export interface FakeCudaState {
  allocations: number;
  modules: number;
  streams: number;
  events: number;
  retains: number;
  launches: number;
}

export function readFakeState(path: string): FakeCudaState {
  return JSON.parse(readFileSync(path, 'utf8')) as FakeCudaState;
}

/** One launch as the fake recorded it: parameters as the hex of their bytes, in .param order. */
export interface FakeLaunch {
  kernel: string;
  grid: [number, number, number];
  block: [number, number, number];
  sharedBytes: number;
  params: string[];
}

export function readLaunches(path: string): FakeLaunch[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FakeLaunch);
}

/** The files a test file's fake driver writes: its launch log and its live-count state. */
export interface FakeCudaFiles {
  readonly dir: string;
  readonly launchLog: string;
  readonly stateFile: string;
}

const FAKE_ENV = ['TILEKIT_CUDA_LIBRARY', 'TILEKIT_HIP_LIBRARY', 'FAKE_CUDA_LAUNCH_LOG', 'FAKE_CUDA_STATE', 'FAKE_CUDA_ON_LAUNCH'] as const;

/**
 * Points this test file's GPU runtime at the fake driver (no HIP) for all its tests, with a fresh
 * launch log and state file, and restores the environment afterwards. Call at the top level of a
 * test file; read the paths inside tests (they are set in beforeAll).
 */
export function useFakeCuda(): FakeCudaFiles {
  const files = { dir: '', launchLog: '', stateFile: '' };
  const saved: Partial<Record<(typeof FAKE_ENV)[number], string>> = {};
  beforeAll(() => {
    for (const k of FAKE_ENV) if (process.env[k] !== undefined) saved[k] = process.env[k];
    files.dir = mkdtempSync(join(tmpdir(), 'tilekit-gpu-fake-'));
    files.launchLog = join(files.dir, 'launches.jsonl');
    files.stateFile = join(files.dir, 'state.json');
    process.env.TILEKIT_CUDA_LIBRARY = buildFakeCuda();
    process.env.TILEKIT_HIP_LIBRARY = '/nonexistent/libamdhip64.so';
    process.env.FAKE_CUDA_LAUNCH_LOG = files.launchLog;
    process.env.FAKE_CUDA_STATE = files.stateFile;
  });
  afterAll(() => {
    for (const k of FAKE_ENV) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(files.dir, { recursive: true, force: true });
  });
  return files;
}

/** Libraries that do not exist: what the GPU runtime finds on a machine with no driver (CI). */
export const NO_CUDA_LIBRARY = '/nonexistent/tilekit-test/libcuda.so.1';
export const NO_HIP_LIBRARY = '/nonexistent/tilekit-test/libamdhip64.so';

/** Points the GPU runtime at NO_CUDA_LIBRARY and NO_HIP_LIBRARY; returns the function that restores the environment. */
export function pointAtNoGpuDriver(): () => void {
  const saved = { TILEKIT_CUDA_LIBRARY: process.env.TILEKIT_CUDA_LIBRARY, TILEKIT_HIP_LIBRARY: process.env.TILEKIT_HIP_LIBRARY };
  process.env.TILEKIT_CUDA_LIBRARY = NO_CUDA_LIBRARY;
  process.env.TILEKIT_HIP_LIBRARY = NO_HIP_LIBRARY;
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
