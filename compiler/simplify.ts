/**
 * Dead-code elimination after lowering: constants folded by the builder and branches removed
 * by specialization leave values nobody reads. Only `store` has an effect.
 */
import { type Block, type IRKernel, type Op, opBlocks, opOperands, opResults } from './ir.js';

function hasEffect(op: Op): boolean {
  if (op.op === 'store') return true;
  return opBlocks(op).some((b) => b.ops.some(hasEffect));
}

function dce(block: Block, live: Set<number>): Block {
  const kept: Op[] = [];
  for (let i = block.ops.length - 1; i >= 0; i--) {
    const op = block.ops[i]!;
    const needed = op.op === 'yield' || hasEffect(op) || opResults(op).some((r) => live.has(r.id));
    if (!needed) continue;
    let out = op;
    if (op.op === 'for') out = { ...op, body: dce(op.body, live) };
    else if (op.op === 'if') out = { ...op, then: dce(op.then, live), else: dce(op.else, live) };
    for (const v of opOperands(out)) live.add(v.id);
    // Loop bodies read their own results of the previous iteration: rerun until stable.
    if (op.op === 'for') {
      let size = -1;
      while (size !== live.size) {
        size = live.size;
        out = { ...op, body: dce(op.body, live) };
      }
    }
    kept.push(out);
  }
  kept.reverse();
  return { ops: kept };
}

export function simplify(k: IRKernel): IRKernel {
  return { ...k, grid: dce(k.grid, new Set()), body: dce(k.body, new Set()) };
}
