/**
 * The `gpu` backend of `tilekit run`: launches a compiled kernel on a real device through the GPU
 * runtime (runtime/gpu, the native addon) on the tensors and scalars of a `tilekit run` argument
 * map, and copies every tensor back, so the results compare one to one with the interpreter's.
 *
 * Arguments follow `compiled.params` (the ABI's order, as the emulator and the HIP CPU harness take
 * them): each tensor a device buffer of its dtype's bytes (runtime/tensor-bytes.ts), shape symbols
 * u32, strides u64 (row-major elements), scalars in their own type. Output tensors arrive NaN-filled
 * from `tilekit run` and are uploaded as such, so an element the kernel never writes reads back NaN.
 */
import { gridOf, type KernelArgs } from '../compiler/interpreter.js';
import type { IRKernel } from '../compiler/ir.js';
import type { CompiledHip } from '../compiler/hip/kernel-abi.js';
import type { CompiledPtx } from '../compiler/ptx/kernel-abi.js';
import { AbiArgsError, type AbiValue, abiValue } from './abi-args.js';
import { arg, Buffer, type Device, type DeviceInfo, type KernelArg, Module, type ScalarArg } from './gpu/index.js';
import { readTensor, tensorBytes } from './tensor-bytes.js';

export interface GpuRun {
  /** The grid the kernel's `grid` clause computed (1 to 3 sizes). */
  readonly grid: number[];
  /** Milliseconds from the launch to its completion, host clock (includes launch overhead; not a benchmark). */
  readonly kernelMs: number;
}

/**
 * The Tilekit target that runs on a device: sm_90a from compute capability 9.0 (Hopper), sm_80 for
 * other 8.x and newer NVIDIA devices, the gfx architecture itself for AMD; undefined for a device
 * no Tilekit backend generates code for.
 */
export function targetForDevice(info: DeviceInfo): 'sm_80' | 'sm_90a' | 'gfx942' | 'gfx90a' | undefined {
  if (info.api === 'hip') return info.arch === 'gfx942' || info.arch === 'gfx90a' ? info.arch : undefined;
  const m = /^sm_(\d+)(\d)$/.exec(info.arch);
  if (!m) return undefined;
  const major = Number(m[1]);
  return major === 9 ? 'sm_90a' : major >= 8 ? 'sm_80' : undefined;
}

type TensorValue = Extract<AbiValue, { tensor: unknown }>;

/**
 * The kernel argument for one ABI value: `buffer` gives a tensor's device buffer; shape symbols are
 * u32, strides 64-bit, scalars in their own type (f32, i32, i64: what the ABI passes).
 */
export function kernelArg<B>(v: AbiValue, buffer: (t: TensorValue) => B): B | ScalarArg {
  if ('tensor' in v) return buffer(v);
  switch (v.param.kind) {
    case 'dim':
      return arg.u32(v.value);
    case 'stride':
      return arg.i64(v.value);
    case 'scalar':
      if (v.param.dtype === 'f32') return arg.f32(v.value);
      if (v.param.dtype === 'i32') return arg.i32(v.value);
      if (v.param.dtype === 'i64') return arg.i64(v.value);
      throw new AbiArgsError(`parameter '${v.param.name}': ${v.param.dtype} scalars cannot be passed to a GPU kernel (f32, i32 and i64 can)`);
    default:
      throw new AbiArgsError(`parameter '${v.param.name}' has no value`);
  }
}

/**
 * Runs `compiled` (built from `ir`) on `device`: PTX through the driver's JIT (CUDA), a HIP code
 * object (`image`) through the HIP runtime. Writes every tensor back into its TensorArg. Throws
 * AbiArgsError when the arguments do not fit, GpuError (runtime/gpu/errors.ts) for a driver failure.
 */
export function runOnGpu(device: Device, compiled: CompiledPtx | CompiledHip, ir: IRKernel, args: KernelArgs, image?: Uint8Array): GpuRun {
  const grid = gridOf(ir, args);
  const launchGrid: [number, number, number] = [grid[0] ?? 1, grid[1] ?? 1, grid[2] ?? 1];
  if (launchGrid.some((g) => !Number.isInteger(g) || g > 0x7fff_ffff)) throw new AbiArgsError(`grid [${grid.join(', ')}] is not a launchable grid`);
  const values = compiled.params.map((p) => abiValue(p, ir, args));
  // An empty grid (a zero-sized tensor) launches nothing.
  if (launchGrid.some((g) => g < 1)) return { grid, kernelMs: 0 };

  let module: Module | undefined;
  const buffers = new Map<string, Buffer>();
  try {
    if ('ptx' in compiled) module = Module.fromPtx(device, compiled.ptx);
    else {
      if (!image) throw new AbiArgsError(`kernel '${compiled.entry}': a HIP launch needs the code object`);
      module = Module.fromHipCodeObject(device, image);
    }
    const kernel = module.kernel(compiled.entry);
    const kargs: KernelArg[] = values.map((v) =>
      kernelArg(v, (t) => {
        let b = buffers.get(t.param.tensor);
        if (!b) {
          const bytes = tensorBytes(t.param.dtype, t.tensor.data);
          b = Buffer.alloc(device, Math.max(1, bytes.byteLength));
          if (bytes.byteLength > 0) b.upload(bytes);
          buffers.set(t.param.tensor, b);
        }
        return b;
      }),
    );
    const sharedBytes = 'dynamicSmem' in compiled ? compiled.dynamicSmem : 0;
    const t0 = performance.now();
    kernel.launch({ grid: launchGrid, block: [compiled.threads, 1, 1], sharedBytes, args: kargs, raiseSharedLimit: sharedBytes > 48 * 1024 });
    device.synchronize();
    const kernelMs = performance.now() - t0;
    for (const v of values) {
      if (!('tensor' in v)) continue;
      const b = buffers.get(v.param.tensor)!;
      if (v.tensor.data.length > 0) readTensor(v.tensor, v.param.dtype, b.download());
    }
    return { grid, kernelMs };
  } finally {
    for (const b of buffers.values()) b.dispose();
    module?.dispose();
  }
}
