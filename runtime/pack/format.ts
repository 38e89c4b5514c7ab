/**
 * The kernel-pack format (docs/pack-format.md): the manifest a pack carries, its version, and the
 * rules every reader and writer share. Written by tuner/pack.ts, read and verified by
 * runtime/pack/reader.ts (the serving runtime's side).
 */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ConfigValue } from '../../compiler/ir.js';
import type { AbiParam } from '../../compiler/kernel-abi.js';
import type { GridProgram } from './grid-program.js';

export const PACK_FORMAT = 'tilekit-pack';
/** 2: every binary carries its launch grid as a GridProgram (`grid`). */
export const PACK_VERSION = 2;
export const TILEKIT_VERSION = '0.1.0';
/** What every Tilekit kernel assumes of its arguments' alignment and divisibility. */
export const ALIGNMENT_CONTRACT = 'none: edges masked, vector accesses checked at run time';
export const FALLBACK_RULE =
  "a shape in no bucket takes the nearest bucket: distance = sum over the shape symbols of |log2(size) - log2(the entry's shape size)|, " +
  'ties to the bucket whose shape has the smaller product of sizes, then the smaller bucket text; with no entry, the default configuration';

// ---------------------------------------------------------------------------------------------
// Manifest types (docs/pack-format.md)

export interface PackFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export interface PackBinary {
  /** Unique within the kernel and target; the file name stem. */
  readonly id: string;
  readonly target: string;
  readonly config: Readonly<Record<string, ConfigValue>>;
  readonly entry: string;
  readonly params: readonly AbiParam[];
  readonly threadsPerBlock: number;
  /** The launch grid for a call's shape and scalars (runtime/pack/grid-program.ts `evalGrid`). */
  readonly grid: GridProgram;
  /** NVIDIA: bytes of dynamic shared memory to launch with. */
  readonly dynamicSmemBytes?: number;
  /** AMD: bytes of LDS the kernel declares (static). */
  readonly ldsBytes?: number;
  readonly alignment: string;
  /** `code`: the .ptx or .hip; `binary`: the .cubin or .hsaco. Relative to the pack root. */
  readonly files: { readonly code: string; readonly binary: string };
}

export interface DispatchEntry {
  readonly bucket: string;
  /** The exact shape the configuration was evaluated at (the bucket's representative). */
  readonly shape: Readonly<Record<string, number>>;
  /** A binary id of this kernel and target. */
  readonly config: string;
  readonly chosenBy: {
    readonly label: 'measured' | 'modeled';
    readonly device: string;
    readonly backend: string;
    readonly costUs: number;
    readonly runId: number;
    readonly toolchain: Readonly<Record<string, string>>;
  };
}

export interface DispatchTable {
  readonly target: string;
  readonly device: string;
  /** The constants (e.g. dtype) every binary of this table was built with. */
  readonly consts: Readonly<Record<string, ConfigValue>>;
  readonly entries: readonly DispatchEntry[];
  /** The kernel's default configuration: the last resort. */
  readonly default: string;
}

export type SignatureParam =
  | { readonly kind: 'tensor'; readonly name: string; readonly dtype: string; readonly dims: readonly (string | number)[] }
  | { readonly kind: 'scalar'; readonly name: string; readonly dtype: string };

export interface PackKernel {
  readonly name: string;
  readonly sourceHash: string;
  readonly sourcePath: string;
  readonly signature: { readonly params: readonly SignatureParam[]; readonly shapeSymbols: readonly string[] };
  readonly grid: { readonly expr: string; readonly reads: readonly string[] };
  readonly binaries: readonly PackBinary[];
  readonly dispatch: readonly DispatchTable[];
}

export interface PackManifest {
  readonly format: typeof PACK_FORMAT;
  readonly version: typeof PACK_VERSION;
  readonly created: string;
  readonly tilekit: string;
  /** Per target: the toolchain versions of the results the dispatch tables chose. */
  readonly toolchains: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly fallback: string;
  readonly kernels: readonly PackKernel[];
  readonly files: readonly PackFile[];
}

/** Every regular file under `dir`, as `/`-separated relative paths, sorted. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

