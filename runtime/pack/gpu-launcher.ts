/**
 * What a serving runtime does with a kernel pack on a GPU: `PackDispatcher.plan` picks the binary
 * and the launch geometry for a call; `PackLauncher` loads each binary's module once per device,
 * lays the caller's device buffers, shape and scalars out in the binary's ABI order (strides
 * row-major, from the kernel's signature and the shape) and launches. Nothing here compiles.
 */
import type { AbiParam } from '../../compiler/kernel-abi.js';
import { arg, type Device, type Kernel, type KernelArg, Module, type PointerSource, type Stream } from '../gpu/index.js';
import { type DispatchRequest, type LaunchPlan, PackDispatchError, type PackDispatcher } from './dispatcher.js';

export interface PackCall extends DispatchRequest {
  /** A device buffer for every tensor parameter, by name. */
  readonly tensors: Readonly<Record<string, PointerSource>>;
  readonly stream?: Stream;
}

export class PackLauncher {
  private readonly loaded = new Map<string, { module: Module; kernel: Kernel }>();

  /**
   * `image`: `binary` (default) loads the cubin or code object the pack ships; `code` loads the PTX
   * through the driver's JIT instead (NVIDIA; e.g. a card newer than the pack's targets).
   */
  constructor(
    readonly device: Device,
    readonly pack: PackDispatcher,
    private readonly image: 'binary' | 'code' = 'binary',
  ) {}

  /** Plans and launches one call (asynchronously, on `call.stream` or the default stream); returns the plan. */
  launch(call: PackCall): LaunchPlan {
    const plan = this.pack.plan(call);
    if (plan.grid.some((g) => g < 1)) return plan; // an empty tensor: nothing to launch
    const { kernel } = this.module(plan);
    const dims = this.tensorDims(plan.kernel, call.shape);
    const args = plan.params.map((p) => this.argument(p, plan, call, dims));
    kernel.launch({ grid: plan.grid, block: plan.block, sharedBytes: plan.sharedBytes, args, raiseSharedLimit: plan.sharedBytes > 48 * 1024, ...(call.stream ? { stream: call.stream } : {}) });
    return plan;
  }

  /** Unloads every module this launcher loaded. */
  dispose(): void {
    for (const { module } of this.loaded.values()) module.dispose();
    this.loaded.clear();
  }

  private module(plan: LaunchPlan): { module: Module; kernel: Kernel } {
    const key = `${plan.target}/${plan.binary.id}`;
    let m = this.loaded.get(key);
    if (!m) {
      const module =
        this.image === 'code' && plan.binary.files.code.endsWith('.ptx')
          ? Module.fromPtx(this.device, plan.code.toString('utf8'))
          : plan.binary.ldsBytes !== undefined
            ? Module.fromHipCodeObject(this.device, plan.image)
            : Module.fromCubin(this.device, plan.image);
      m = { module, kernel: module.kernel(plan.binary.entry) };
      this.loaded.set(key, m);
    }
    return m;
  }

  /** Each tensor parameter's sizes for this shape, from the kernel's signature. */
  private tensorDims(kernel: string, shape: Readonly<Record<string, number>>): Map<string, number[]> {
    const k = this.pack.manifest.kernels.find((x) => x.name === kernel)!;
    const out = new Map<string, number[]>();
    for (const p of k.signature.params) if (p.kind === 'tensor') out.set(p.name, p.dims.map((d) => (typeof d === 'number' ? d : shape[d]!)));
    return out;
  }

  private argument(p: AbiParam, plan: LaunchPlan, call: PackCall, dims: Map<string, number[]>): KernelArg {
    switch (p.kind) {
      case 'tensor': {
        const b = call.tensors[p.tensor];
        if (!b) throw new PackDispatchError(`kernel ${plan.kernel}: no device buffer for tensor '${p.tensor}'`);
        return b;
      }
      case 'dim':
        return arg.u32(call.shape[p.dim]!);
      case 'stride': {
        const d = dims.get(p.tensor);
        if (!d) throw new PackDispatchError(`kernel ${plan.kernel}: the signature has no tensor '${p.tensor}'`);
        return arg.i64(d.slice(p.axis + 1).reduce((a, b) => a * b, 1));
      }
      case 'scalar': {
        const v = call.scalars?.[p.name];
        if (v === undefined) throw new PackDispatchError(`kernel ${plan.kernel}: scalar argument '${p.name}' is missing`);
        return p.dtype === 'f32' ? arg.f32(v) : p.dtype === 'i32' ? arg.i32(v) : arg.i64(v);
      }
    }
  }
}
