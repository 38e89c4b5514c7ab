/**
 * The values a launcher passes for a kernel's ABI parameters (compiler/kernel-abi.ts), taken from
 * a `tilekit run` argument map: each tensor parameter's TensorArg, each shape symbol's size, each
 * stride (row-major, in elements) and each scalar. Every backend that launches compiled code (the
 * emulator, the HIP CPU harness) reads its arguments through here, so they agree on the ABI.
 */
import type { KernelArgs, TensorArg } from '../compiler/interpreter.js';
import { type IRKernel, rowMajorStrides } from '../compiler/ir.js';
import type { AbiParam } from '../compiler/kernel-abi.js';

/**
 * The arguments do not fit the compiled kernel (a parameter the ABI names has no argument, a dtype
 * the backend cannot pass). The CLI reports it as a run-time failure of the kernel (exit 1).
 */
export class AbiArgsError extends Error {
  override name = 'AbiArgsError';
}

export type AbiValue = { readonly param: AbiParam & { kind: 'tensor' }; readonly tensor: TensorArg } | { readonly param: AbiParam; readonly value: number };

export function tensorArg(args: KernelArgs, name: string, what: string): TensorArg {
  const t = args.get(name);
  if (t === undefined || typeof t === 'number') throw new AbiArgsError(`${what}: tensor argument '${name}' is missing`);
  return t;
}

/** The size bound to a shape symbol: that axis of the first tensor parameter whose shape names it. */
function dimValue(ir: IRKernel, args: KernelArgs, dim: string): number {
  for (const p of ir.params) {
    if (p.kind !== 'tensor') continue;
    const axis = p.dims.indexOf(dim);
    if (axis >= 0) return tensorArg(args, p.name, `shape symbol '${dim}'`).shape[axis]!;
  }
  throw new AbiArgsError(`shape symbol '${dim}' is a kernel parameter, but no tensor of kernel '${ir.name}' has it in its shape`);
}

/** The value of one ABI parameter; throws AbiArgsError when the arguments do not provide it. */
export function abiValue(p: AbiParam, ir: IRKernel, args: KernelArgs): AbiValue {
  switch (p.kind) {
    case 'tensor': {
      const t = tensorArg(args, p.tensor, `parameter '${p.name}'`);
      if (t.dtype !== p.dtype) throw new AbiArgsError(`parameter '${p.name}': tensor '${p.tensor}' is ${t.dtype}, but the kernel was compiled for ${p.dtype}`);
      return { param: p, tensor: t };
    }
    case 'dim':
      return { param: p, value: dimValue(ir, args, p.dim) };
    case 'stride': {
      const t = tensorArg(args, p.tensor, `parameter '${p.name}'`);
      const strides = rowMajorStrides(t.shape);
      if (!Number.isInteger(p.axis) || p.axis < 0 || p.axis >= strides.length) {
        throw new AbiArgsError(`parameter '${p.name}': axis ${p.axis} of tensor '${p.tensor}', which has rank ${t.shape.length}`);
      }
      return { param: p, value: strides[p.axis]! };
    }
    case 'scalar': {
      const v = args.get(p.name);
      if (typeof v !== 'number') throw new AbiArgsError(`parameter '${p.name}': scalar argument '${p.name}' is missing`);
      return { param: p, value: v };
    }
  }
}
