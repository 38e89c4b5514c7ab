/**
 * A pack binary's launch grid (runtime/pack/grid-program.ts): the kernel's grid block flattened with
 * the configuration folded in, evaluated without the compiler — checked against the reference
 * interpreter's gridOf on seeded random shapes for every shipped kernel, plus its error paths.
 */
import { describe, expect, it } from 'vitest';
import { gridOf, type KernelArgs } from '../../compiler/interpreter.js';
import type { IRKernel } from '../../compiler/ir.js';
import { abiParams } from '../../compiler/kernel-abi.js';
import { makeRng } from '../../runtime/random.js';
import { evalGrid, type GridProgram, GridProgramError, gridProgramOf, isGridProgram } from '../../runtime/pack/grid-program.js';
import { SourceText } from '../../dsl/source.js';
import { buildShipped, buildText } from '../support/build.js';

/** Arguments gridOf reads: tensor shapes from the shape (data unused: empty), scalars as given. */
function argsFor(ir: IRKernel, shape: Record<string, number>, scalars: Record<string, number> = {}): KernelArgs {
  const args: KernelArgs = new Map();
  for (const p of ir.params) {
    if (p.kind === 'scalar') args.set(p.name, scalars[p.name] ?? 0);
    else args.set(p.name, { dtype: p.dtype, shape: p.dims.map((d) => (typeof d === 'number' ? d : shape[d]!)), data: new Float64Array(0) });
  }
  return args;
}

describe('grid programs', () => {
  it.each([
    ['gemm.tile', 'gemm', { BM: 64, BN: 256 }],
    ['attention.tile', 'attention', { BM: 128 }],
    ['mlp.tile', 'mlp_gate_up', {}],
    ['mlp.tile', 'mlp_down', {}],
  ] as const)('%s %s: the same grid as the interpreter on random shapes', (file, kernel, config) => {
    const ir = buildShipped(file, kernel, config);
    const program = gridProgramOf(ir);
    expect(isGridProgram(JSON.parse(JSON.stringify(program)))).toBe(true);
    const seed = 20261129;
    const rng = makeRng(seed);
    for (let t = 0; t < 50; t++) {
      const shape = Object.fromEntries(abiParams(ir).dimNames.map((d) => [d, 1 + Math.floor(rng.next() * 5000)]));
      const want = gridOf(ir, argsFor(ir, shape));
      const got = evalGrid(program, shape);
      expect(got, `seed ${seed}, shape ${JSON.stringify(shape)}`).toEqual([want[0] ?? 1, want[1] ?? 1, want[2] ?? 1]);
    }
  });

  it('folds the configuration in: gemm with BM=64 launches twice the programs of BM=128 along x', () => {
    const shape = { M: 4096, N: 4096, K: 4096 };
    expect(evalGrid(gridProgramOf(buildShipped('gemm.tile', 'gemm', { BM: 64, BN: 128 })), shape)).toEqual([64, 32, 1]);
    expect(evalGrid(gridProgramOf(buildShipped('gemm.tile', 'gemm', { BM: 128, BN: 128 })), shape)).toEqual([32, 32, 1]);
  });

  it('reads scalar arguments and integer arithmetic as the interpreter does', () => {
    const src = new SourceText(
      'scaled.tile',
      `kernel scaled(x: f32[N, 16], n: i32)
  grid [cdiv(N, 64) + n, 16 / 8]
{
  store(x[program_id(0) * 64 : 64, 0 : 16], zeros([64, 16], f32));
}
`,
    );
    const ir = buildText(src, 'scaled');
    const program = gridProgramOf(ir);
    expect(program.ops.some((o) => o[0] === 'scalar')).toBe(true);
    expect(evalGrid(program, { N: 130 }, { n: 2 })).toEqual(gridOf(ir, argsFor(ir, { N: 130 }, { n: 2 })).concat([1]).slice(0, 3));
    expect(evalGrid(program, { N: 130 }, { n: 2 })).toEqual([5, 2, 1]);
    expect(() => evalGrid(program, { N: 130 })).toThrow(GridProgramError);
    expect(() => evalGrid(program, { N: 130 })).toThrow("the grid needs scalar argument 'n'");
  });

  it('names a missing shape symbol; rejects malformed programs', () => {
    const program = gridProgramOf(buildShipped('gemm.tile', 'gemm'));
    expect(() => evalGrid(program, { M: 64, K: 64 })).toThrow("the grid needs shape symbol 'N', which the shape does not give");
    const forward: GridProgram = { ops: [['binary', 'add', 1, 1, 'i32'], ['const', 2]], yield: [0] };
    expect(() => evalGrid(forward, {})).toThrow('operand 1 does not name an earlier instruction');
    expect(() => evalGrid({ ops: [['const', 1]], yield: [0, 0, 0, 0] }, {})).toThrow('yields 4 sizes');
    expect(isGridProgram({ ops: [], yield: [] })).toBe(false);
    expect(isGridProgram({ ops: [[1]], yield: [0] })).toBe(false);
    expect(isGridProgram('[cdiv(M, BM)]')).toBe(false);
  });
});
