/**
 * The serving runtime's side of a kernel pack: open a pack (folder or `.tgz`) once, verified, and
 * for each call turn (kernel, target, device, constants, shape, scalars) into a launch plan — which
 * binary, why it was chosen (its bucket, the nearest bucket, or the default), its code and binary
 * image, the grid, block and shared memory to launch with, and the parameter order. The plan is
 * what a GPU launcher (runtime/gpu) needs and nothing more; no compiler, no `.tile` source.
 */
import type { ConfigValue } from '../../compiler/ir.js';
import type { AbiParam } from '../../compiler/kernel-abi.js';
import type { DispatchEntry, DispatchTable, PackBinary, PackKernel, PackManifest } from './format.js';
import { evalGrid, GridProgramError } from './grid-program.js';
import { loadPack, type PackTree, selectEntry, verifyPack } from './reader.js';

/** A pack that cannot be opened, or a call it cannot serve; the message says which and why. */
export class PackDispatchError extends Error {
  override name = 'PackDispatchError';
}

export interface DispatchRequest {
  readonly kernel: string;
  readonly target: string;
  /** Needed when the pack has tables for several devices of the target. */
  readonly device?: string;
  /** Needed when the pack has tables for several constant sets (e.g. dtype=f16 and bf16). */
  readonly consts?: Readonly<Record<string, ConfigValue>>;
  /** Every shape symbol of the kernel. */
  readonly shape: Readonly<Record<string, number>>;
  /** Scalar arguments the grid reads, if any. */
  readonly scalars?: Readonly<Record<string, number>>;
}

export interface LaunchPlan {
  readonly kernel: string;
  readonly target: string;
  readonly device: string;
  readonly binary: PackBinary;
  /** `bucket`: the shape's bucket has an entry; `nearest`: the nearest bucket's; `default`: the table is empty. */
  readonly how: 'bucket' | 'nearest' | 'default';
  /** The dispatch entry used (absent for `default`). */
  readonly entry?: DispatchEntry;
  readonly grid: readonly [number, number, number];
  readonly block: readonly [number, 1, 1];
  /** NVIDIA: dynamic shared memory to launch with; AMD: 0 (LDS is static, `binary.ldsBytes`). */
  readonly sharedBytes: number;
  readonly params: readonly AbiParam[];
  /** The PTX or HIP text, and the cubin or code object. */
  readonly code: Buffer;
  readonly image: Buffer;
}

const constsText = (c: Readonly<Record<string, unknown>>): string =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(',') || '(none)';

export class PackDispatcher {
  private constructor(
    readonly manifest: PackManifest,
    private readonly tree: PackTree,
  ) {}

  /** Loads and verifies a pack; throws PackDispatchError naming the first bad file. */
  static open(path: string): PackDispatcher {
    let tree: PackTree;
    try {
      tree = loadPack(path);
    } catch (e) {
      throw new PackDispatchError(`${path}: cannot read the pack: ${e instanceof Error ? e.message : String(e)}`);
    }
    const v = verifyPack(tree);
    if (!v.ok) throw new PackDispatchError(`${path}: ${v.file}: ${v.problem}`);
    return new PackDispatcher(v.manifest, tree);
  }

  plan(req: DispatchRequest): LaunchPlan {
    const k = this.kernel(req.kernel);
    const table = this.table(k, req);
    for (const s of k.signature.shapeSymbols) {
      const x = req.shape[s];
      if (x === undefined || !Number.isInteger(x) || x < 0) throw new PackDispatchError(`kernel ${k.name}: the shape needs ${s} as a whole number ≥ 0 (got ${x === undefined ? 'nothing' : x})`);
    }
    const chosen = selectEntry(table, req.shape);
    const id = chosen.entry?.config ?? table.default;
    const binary = k.binaries.find((b) => b.target === table.target && b.id === id);
    if (!binary) throw new PackDispatchError(`kernel ${k.name}: binary ${id} for ${table.target} is not in the pack`); // verifyPack rules this out
    let grid: [number, number, number];
    try {
      grid = evalGrid(binary.grid, req.shape, req.scalars);
    } catch (e) {
      if (e instanceof GridProgramError) throw new PackDispatchError(`kernel ${k.name}, binary ${id}: ${e.message}`);
      throw e;
    }
    return {
      kernel: k.name,
      target: table.target,
      device: table.device,
      binary,
      how: chosen.how,
      ...(chosen.entry ? { entry: chosen.entry } : {}),
      grid,
      block: [binary.threadsPerBlock, 1, 1],
      sharedBytes: binary.dynamicSmemBytes ?? 0,
      params: binary.params,
      code: this.tree.get(binary.files.code)!,
      image: this.tree.get(binary.files.binary)!,
    };
  }

  private kernel(name: string): PackKernel {
    const k = this.manifest.kernels.find((x) => x.name === name);
    if (!k) throw new PackDispatchError(`the pack has no kernel '${name}' (it has ${this.manifest.kernels.map((x) => x.name).join(', ') || 'none'})`);
    return k;
  }

  /** The one table for the target, device and constants; an ambiguity or a miss lists what there is. */
  private table(k: PackKernel, req: DispatchRequest): DispatchTable {
    const forTarget = k.dispatch.filter((t) => t.target === req.target);
    if (forTarget.length === 0) throw new PackDispatchError(`kernel ${k.name} has no binaries for ${req.target} (the pack has ${[...new Set(k.dispatch.map((t) => t.target))].join(', ')})`);
    const forDevice = req.device === undefined ? forTarget : forTarget.filter((t) => t.device === req.device);
    if (forDevice.length === 0) throw new PackDispatchError(`kernel ${k.name} for ${req.target} was tuned for ${[...new Set(forTarget.map((t) => t.device))].join(', ')}, not ${req.device}`);
    const matching = forDevice.filter((t) => Object.entries(req.consts ?? {}).every(([c, v]) => String(t.consts[c]) === String(v)));
    if (matching.length === 0) {
      throw new PackDispatchError(`kernel ${k.name} for ${req.target} has no table with constants ${constsText(req.consts ?? {})} (it has ${forDevice.map((t) => `[${constsText(t.consts)}]`).join(', ')})`);
    }
    if (matching.length > 1) {
      const devices = new Set(matching.map((t) => t.device));
      const what = devices.size > 1 ? `devices ${[...devices].join(', ')}: give the device` : `constants ${matching.map((t) => `[${constsText(t.consts)}]`).join(', ')}: give the constants`;
      throw new PackDispatchError(`kernel ${k.name} for ${req.target} has tables for several ${what}`);
    }
    return matching[0]!;
  }
}
