/**
 * Builds the FAKE CUDA driver (test/support/fake-cuda/fake_cuda.c) into a shared library, cached by
 * source hash under the OS temp folder, and points the GPU runtime at it. The fake exercises the
 * native addon's marshalling, lifetimes and error paths; it runs no kernel and measures nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
