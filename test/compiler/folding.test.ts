/**
 * Compile-time folding must give what the same op gives at run time. Each kernel stores a value
 * computed from literals (folded by the checker and the builder) next to the same computation
 * on a value read from a tensor (computed by the interpreter).
 */
import { describe, expect, it } from 'vitest';
import { interpret, type TensorArg } from '../../compiler/interpreter.js';
import { SourceText } from '../../dsl/source.js';
import { buildText } from '../support/build.js';

function run(body: string, x: number[], xType = 'i32', yType = 'i32'): number[] {
  const text = `kernel k(x: ${xType}[N], y: ${yType}[M]) grid [1] {\n  ${body}\n}\n`;
  const ir = buildText(new SourceText('fold.tile', text), 'k');
  const y: TensorArg = { dtype: yType as TensorArg['dtype'], shape: [4], data: new Float64Array(4).fill(NaN) };
  interpret(ir, new Map<string, TensorArg | number>([['x', { dtype: xType as TensorArg['dtype'], shape: [x.length], data: Float64Array.from(x) }], ['y', y]]));
  return [...y.data];
}

describe('constant folding agrees with run-time arithmetic', () => {
  it('unary minus wraps in i32: -(-2147483647 - 1)', () => {
    const [folded, runtime] = run('store(y[0], -(-2147483647 - 1));\n  store(y[1], -load(x[0]));', [-2147483648]);
    expect(folded).toBe(-2147483648);
    expect(runtime).toBe(folded);
  });

  it('a folded comparison sees the wrapped value', () => {
    const [v] = run('let a = -2147483647 - 1;\n  if -a > 0 { store(y[0], 1); } else { store(y[0], 0); }', [0]);
    expect(v).toBe(0);
  });

  it('i64 → i32 keeps the low 32 bits at compile time and at run time', () => {
    const [folded, runtime] = run('store(y[0], ((3 as i64) * 1000000000) as i32);\n  store(y[1], load(x[0]) as i32);', [3000000000], 'i64');
    expect(folded).toBe(3000000000 - 2 ** 32);
    expect(runtime).toBe(folded);
  });

  it('f32 → i32 saturates at compile time and at run time', () => {
    const [folded, runtime] = run('store(y[0], 3.0e9 as i32);\n  store(y[1], load(x[0]) as i32);', [3e9], 'f32');
    expect(folded).toBe(2147483647);
    expect(runtime).toBe(folded);
  });

  it('cdiv, maximum and abs fold like the ops they lower to', () => {
    const [c, m, a] = run('store(y[0], cdiv(7, 2));\n  store(y[1], maximum(-3, 2));\n  store(y[2], abs(-2147483647 - 1));', [0]);
    expect([c, m, a]).toEqual([4, 2, -2147483648]);
  });
});
