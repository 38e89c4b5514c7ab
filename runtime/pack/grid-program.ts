/**
 * A binary's launch grid as a pack carries it: the kernel's `grid` block, lowered with the binary's
 * configuration folded in, flattened into a tiny straight-line program over shape symbols and
 * scalar arguments. A serving runtime evaluates it for each call without the compiler or the
 * `.tile` source, with the same integer and float rules as the reference interpreter (the
 * dsl/scalar-ops functions), so the pack's grid is the grid the interpreter would launch.
 */
import type { Block, IRKernel, Op } from '../../compiler/ir.js';
import { type BinaryFn, type CmpPred, type UnaryFn, applyBinary, applyCmp, applyUnary } from '../../dsl/scalar-ops.js';
import type { DType } from '../../dsl/dtype.js';
import { roundToDType } from '../../dsl/float-rounding.js';

/** One instruction; operands are indices of earlier instructions. */
export type GridInstr =
  | readonly ['const', number]
  /** A shape symbol's size (e.g. `M`). */
  | readonly ['sym', string]
  /** A scalar argument, rounded to its dtype. */
  | readonly ['scalar', string, DType]
  | readonly ['binary', BinaryFn, number, number, DType]
  | readonly ['cmp', CmpPred, number, number]
  | readonly ['unary', UnaryFn, number, DType]
  | readonly ['select', number, number, number]
  | readonly ['cast', number, DType];

export interface GridProgram {
  readonly ops: readonly GridInstr[];
  /** The instructions whose values are the grid's sizes, x first (1–3 of them). */
  readonly yield: readonly number[];
}

export class GridProgramError extends Error {
  override name = 'GridProgramError';
}

/** Flattens `ir.grid` into a GridProgram (tensor dims become shape symbols or constants). */
export function gridProgramOf(ir: IRKernel): GridProgram {
  const ops: GridInstr[] = [];
  const index = new Map<number, number>();
  const tensors = new Map<number, string>();
  const emit = (id: number, instr: GridInstr): void => {
    index.set(id, ops.length);
    ops.push(instr);
  };
  const at = (id: number): number => {
    const i = index.get(id);
    if (i === undefined) throw new GridProgramError(`internal: grid value %${id} used before it is defined`);
    return i;
  };
  const block: Block = ir.grid;
  for (const op of block.ops as readonly Op[]) {
    switch (op.op) {
      case 'tensor':
        tensors.set(op.result.id, op.name);
        break;
      case 'dim': {
        const p = ir.params.find((x) => x.kind === 'tensor' && x.name === tensors.get(op.tensor.id));
        const d = p?.kind === 'tensor' ? p.dims[op.axis] : undefined;
        if (d === undefined) throw new GridProgramError(`grid: axis ${op.axis} of an unknown tensor`);
        emit(op.result.id, typeof d === 'number' ? ['const', d] : ['sym', d]);
        break;
      }
      case 'const':
        emit(op.result.id, ['const', op.value]);
        break;
      case 'param':
        emit(op.result.id, ['scalar', op.name, op.result.type.dtype]);
        break;
      case 'binary':
        emit(op.result.id, ['binary', op.fn, at(op.lhs.id), at(op.rhs.id), op.result.type.dtype]);
        break;
      case 'cmp':
        emit(op.result.id, ['cmp', op.pred, at(op.lhs.id), at(op.rhs.id)]);
        break;
      case 'unary':
        emit(op.result.id, ['unary', op.fn, at(op.src.id), op.result.type.dtype]);
        break;
      case 'select':
        emit(op.result.id, ['select', at(op.cond.id), at(op.a.id), at(op.b.id)]);
        break;
      case 'cast':
        emit(op.result.id, ['cast', at(op.src.id), op.result.type.dtype]);
        break;
      case 'broadcast': // a scalar stays a scalar
        index.set(op.result.id, at(op.src.id));
        break;
      case 'yield':
        return { ops, yield: op.values.map((v) => at(v.id)) };
      default:
        throw new GridProgramError(`grid: '${op.op}' cannot appear in a launch grid`);
    }
  }
  throw new GridProgramError('grid: the block has no yield');
}

/**
 * The grid for one call: 3 sizes (missing axes are 1), negatives clamped to 0 as the interpreter
 * does. Throws GridProgramError naming a missing shape symbol or scalar, or a malformed program.
 */
export function evalGrid(program: GridProgram, shape: Readonly<Record<string, number>>, scalars: Readonly<Record<string, number>> = {}): [number, number, number] {
  const v: number[] = [];
  const get = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= v.length) throw new GridProgramError(`grid program: operand ${i} does not name an earlier instruction`);
    return v[i]!;
  };
  for (const instr of program.ops) {
    switch (instr[0]) {
      case 'const':
        v.push(instr[1]);
        break;
      case 'sym': {
        const x = shape[instr[1]];
        if (x === undefined) throw new GridProgramError(`the grid needs shape symbol '${instr[1]}', which the shape does not give`);
        v.push(x);
        break;
      }
      case 'scalar': {
        const x = scalars[instr[1]];
        if (x === undefined) throw new GridProgramError(`the grid needs scalar argument '${instr[1]}'`);
        v.push(roundToDType(instr[2], x));
        break;
      }
      case 'binary':
        v.push(applyBinary(instr[1], get(instr[2]), get(instr[3]), instr[4]));
        break;
      case 'cmp':
        v.push(applyCmp(instr[1], get(instr[2]), get(instr[3])) ? 1 : 0);
        break;
      case 'unary':
        v.push(applyUnary(instr[1], get(instr[2]), instr[3]));
        break;
      case 'select':
        v.push(get(instr[1]) ? get(instr[2]) : get(instr[3]));
        break;
      case 'cast':
        v.push(roundToDType(instr[2], get(instr[1])));
        break;
      default:
        throw new GridProgramError(`grid program: unknown instruction ${JSON.stringify(instr)}`);
    }
  }
  if (program.yield.length < 1 || program.yield.length > 3) throw new GridProgramError(`grid program yields ${program.yield.length} sizes, expected 1 to 3`);
  const g = program.yield.map((i) => Math.max(0, get(i)));
  return [g[0] ?? 1, g[1] ?? 1, g[2] ?? 1];
}

/** Whether a parsed JSON value has the shape of a GridProgram (the verifier's schema check; evalGrid checks operands). */
export function isGridProgram(x: unknown): x is GridProgram {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as { ops?: unknown; yield?: unknown };
  const ints = (a: unknown): boolean => Array.isArray(a) && a.every((n) => Number.isInteger(n));
  return Array.isArray(p.ops) && p.ops.every((o) => Array.isArray(o) && typeof o[0] === 'string') && ints(p.yield) && (p.yield as unknown[]).length >= 1;
}
