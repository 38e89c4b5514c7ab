/**
 * The IR verifier: SSA scoping (every operand defined earlier in an enclosing block) and the
 * typing rule of each op. Lowering and every later pass must leave a kernel that passes.
 */
import { type Block, type IRKernel, type Op, type TileType, type Value, numel, opOperands, opResults, sameShape } from './ir.js';

function t(x: Value): string {
  return x.type.kind === 'tensor' ? `tensor<${x.type.dtype}>` : `${x.type.dtype}[${x.type.shape.join(',')}]`;
}

export function verifyKernel(k: IRKernel): string[] {
  const problems: string[] = [];
  const fail = (op: Op, msg: string): void => {
    problems.push(`${op.op}: ${msg}`);
  };
  const tile = (x: Value): TileType | undefined => (x.type.kind === 'tile' ? x.type : undefined);
  const sameType = (a: Value, b: Value): boolean => {
    const ta = tile(a);
    const tb = tile(b);
    return !!ta && !!tb && ta.dtype === tb.dtype && sameShape(ta.shape, tb.shape);
  };

  const checkOp = (op: Op): void => {
    switch (op.op) {
      case 'binary':
        if (!sameType(op.lhs, op.rhs) || !sameType(op.lhs, op.result)) fail(op, `operand types ${t(op.lhs)}, ${t(op.rhs)} -> ${t(op.result)} differ`);
        if ((op.fn === 'and' || op.fn === 'or') && op.lhs.type.dtype !== 'bool') fail(op, `${op.fn} needs bool operands`);
        break;
      case 'cmp':
        if (!sameType(op.lhs, op.rhs)) fail(op, `operand types ${t(op.lhs)}, ${t(op.rhs)} differ`);
        if (op.result.type.dtype !== 'bool' || !sameShape(op.result.type.shape, op.lhs.type.kind === 'tile' ? op.lhs.type.shape : [])) fail(op, 'result must be bool of the operand shape');
        break;
      case 'unary':
        if (!sameType(op.src, op.result)) fail(op, `${t(op.src)} -> ${t(op.result)}`);
        break;
      case 'select':
        if (op.cond.type.dtype !== 'bool' || !sameShape(op.cond.type.shape, op.result.type.shape)) fail(op, 'condition must be bool of the result shape');
        if (!sameType(op.a, op.result) || !sameType(op.b, op.result)) fail(op, 'branches must have the result type');
        break;
      case 'cast':
        if (!sameShape(op.src.type.shape, op.result.type.shape)) fail(op, 'cast changes shape');
        break;
      case 'broadcast': {
        const s = op.src.type.shape;
        const d = op.result.type.shape;
        const splat = s.length === 0;
        if ((!splat && (s.length !== d.length || s.some((x, i) => x !== d[i] && x !== 1))) || op.src.type.dtype !== op.result.type.dtype) {
          fail(op, `${t(op.src)} does not broadcast to ${t(op.result)}`);
        }
        break;
      }
      case 'expand_dims':
        if (numel(op.src.type.shape) !== numel(op.result.type.shape) || op.result.type.shape[op.axis] !== 1) fail(op, 'bad axis');
        break;
      case 'transpose': {
        const [a, b] = op.src.type.shape;
        if (op.src.type.shape.length !== 2 || op.result.type.shape[0] !== b || op.result.type.shape[1] !== a) fail(op, 'needs rank 2');
        break;
      }
      case 'reduce': {
        const expect = op.src.type.shape.filter((_, i) => i !== op.axis);
        if (op.axis < 0 || op.axis >= op.src.type.shape.length || !sameShape(expect, op.result.type.shape)) fail(op, 'bad axis or result shape');
        if (op.src.type.dtype !== op.result.type.dtype) fail(op, 'reduce keeps the dtype');
        break;
      }
      case 'dot': {
        const [m, ka] = op.a.type.shape;
        const [kb, n] = op.b.type.shape;
        if (op.a.type.shape.length !== 2 || op.b.type.shape.length !== 2 || ka !== kb) fail(op, `${t(op.a)} x ${t(op.b)}`);
        if (op.a.type.dtype !== op.b.type.dtype) fail(op, 'operand dtypes differ');
        if (op.acc.type.dtype !== 'f32' || !sameShape(op.acc.type.shape, [m ?? 0, n ?? 0]) || !sameType(op.acc, op.result)) fail(op, 'accumulator must be f32[M, N]');
        break;
      }
      case 'load':
      case 'store': {
        if (op.tensor.type.kind !== 'tensor') return fail(op, 'not a tensor');
        if (op.indices.length !== op.tensor.type.rank) fail(op, `${op.indices.length} indices for rank ${op.tensor.type.rank}`);
        if (op.indices.some((i) => i.offset.type.dtype !== 'i32' || i.offset.type.shape.length !== 0)) fail(op, 'offsets must be i32 scalars');
        const shape = op.indices.flatMap((i) => (i.size === null ? [] : [i.size]));
        const data = op.op === 'load' ? op.result : op.value;
        if (data.type.dtype !== op.tensor.type.dtype || !sameShape(data.type.shape, shape)) fail(op, `data ${t(data)} does not match the access`);
        if (op.op === 'load' && !sameType(op.other, op.result)) fail(op, 'other must have the result type');
        if (op.mask && (op.mask.type.dtype !== 'bool' || !sameShape(op.mask.type.shape, shape))) fail(op, 'mask must be bool of the access shape');
        break;
      }
      case 'for':
        if (op.inits.length !== op.iterArgs.length || op.inits.length !== op.results.length) fail(op, 'iter arg counts differ');
        op.inits.forEach((x, i) => {
          if (!sameType(x, op.iterArgs[i]!) || !sameType(x, op.results[i]!)) fail(op, `iter arg ${i} types differ`);
        });
        checkYield(op, op.body, op.results);
        if (!Number.isInteger(op.step) || op.step <= 0) fail(op, 'step must be a positive integer');
        break;
      case 'if':
        if (op.cond.type.dtype !== 'bool' || op.cond.type.shape.length !== 0) fail(op, 'condition must be a bool scalar');
        checkYield(op, op.then, op.results);
        checkYield(op, op.else, op.results);
        break;
      default:
        break;
    }
  };

  const checkYield = (op: Op, b: Block, results: readonly Value[]): void => {
    const y = b.ops[b.ops.length - 1];
    if (y?.op !== 'yield') return fail(op, 'block does not end with yield');
    if (y.values.length !== results.length || y.values.some((x, i) => !sameType(x, results[i]!))) fail(op, 'yield does not match the results');
  };

  const walk = (b: Block, scope: Set<number>): void => {
    const local = new Set(scope);
    b.ops.forEach((op, i) => {
      if (op.op === 'yield' && i !== b.ops.length - 1) fail(op, 'yield before the end of a block');
      for (const x of opOperands(op)) if (!local.has(x.id)) fail(op, `operand %${x.id} is not defined before use`);
      checkOp(op);
      if (op.op === 'for') walk(op.body, new Set([...local, op.iv.id, ...op.iterArgs.map((a) => a.id)]));
      if (op.op === 'if') {
        walk(op.then, local);
        walk(op.else, local);
      }
      for (const r of opResults(op)) {
        if (local.has(r.id)) fail(op, `%${r.id} is defined twice`);
        local.add(r.id);
      }
    });
    if (b.ops[b.ops.length - 1]?.op !== 'yield') problems.push('block does not end with yield');
  };
  walk(k.grid, new Set());
  walk(k.body, new Set());
  const gy = k.grid.ops[k.grid.ops.length - 1];
  if (gy?.op === 'yield' && (gy.values.length < 1 || gy.values.length > 3 || gy.values.some((x) => x.type.dtype !== 'i32' || x.type.shape.length !== 0))) {
    problems.push('grid must yield 1 to 3 i32 scalars');
  }
  return problems;
}
