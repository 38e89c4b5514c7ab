import { describe, expect, it } from 'vitest';
import type { TensorArg } from '../../compiler/interpreter.js';
import type { IRParam } from '../../compiler/ir.js';
import { formatJson, formatOutputs, parseArgs } from '../../runtime/args.js';

const gemmParams: IRParam[] = [
  { kind: 'tensor', name: 'a', dtype: 'f16', dims: ['M', 'K'] },
  { kind: 'tensor', name: 'b', dtype: 'f16', dims: ['K', 'N'] },
  { kind: 'tensor', name: 'c', dtype: 'f32', dims: ['M', 'N'] },
  { kind: 'scalar', name: 'scale', dtype: 'f32' },
];

const fill = (n: number, v = 1): number[] => new Array<number>(n).fill(v);

function goodArgs(): Record<string, unknown> {
  return {
    a: { dtype: 'f16', shape: [2, 3], data: fill(6) },
    b: { dtype: 'f16', shape: [3, 4], data: fill(12) },
    c: { dtype: 'f32', shape: [2, 4] },
    scale: 0.5,
  };
}

/** The errors parseArgs reports for `args` (expects at least one). */
function errorsOf(args: Record<string, unknown>, params: readonly IRParam[] = gemmParams): string[] {
  const r = parseArgs({ args }, params);
  expect(r.args).toBeUndefined();
  expect(r.errors.length).toBeGreaterThan(0);
  return r.errors;
}

function tensor(r: ReturnType<typeof parseArgs>, name: string): TensorArg {
  const t = r.args?.get(name);
  if (t === undefined || typeof t === 'number') throw new Error(`no tensor ${name}: ${r.errors.join('; ')}`);
  return t;
}

describe('parseArgs: valid arguments', () => {
  it('reads tensors and scalars, and fills omitted float data with NaN', () => {
    const r = parseArgs({ args: goodArgs() }, gemmParams);
    expect(r.errors).toEqual([]);
    expect(tensor(r, 'a').shape).toEqual([2, 3]);
    expect(Array.from(tensor(r, 'b').data)).toEqual(fill(12));
    const c = tensor(r, 'c');
    expect(c.data.length).toBe(8);
    expect(Array.from(c.data).every(Number.isNaN)).toBe(true);
    expect(r.args?.get('scale')).toBe(0.5);
  });

  it('rounds float inputs to the dtype, to nearest even', () => {
    const params: IRParam[] = [
      { kind: 'tensor', name: 'x', dtype: 'f16', dims: ['N'] },
      { kind: 'tensor', name: 'y', dtype: 'f32', dims: ['N'] },
      { kind: 'scalar', name: 's', dtype: 'bf16' },
    ];
    // 1 + 2^-11 is halfway between f16 neighbours 1 and 1 + 2^-10: ties to even gives 1.
    // 1 + 3·2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: ties to even gives 1 + 2^-9.
    const r = parseArgs({ args: { x: { dtype: 'f16', shape: [4], data: [1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000, 0.1] }, y: { dtype: 'f32', shape: [4], data: [0.1, 0, 0, 0] }, s: 1 + 2 ** -9 } }, params);
    expect(r.errors).toEqual([]);
    const x = tensor(r, 'x').data;
    expect(x[0]).toBe(1);
    expect(x[1]).toBe(1 + 2 ** -9);
    expect(x[2]).toBe(Infinity); // beyond f16's max: overflows like a store would
    expect(x[3]).toBe(0.0999755859375);
    expect(tensor(r, 'y').data[0]).toBe(Math.fround(0.1));
    expect(r.args?.get('s')).toBe(1); // bf16 has 7 fraction bits
  });

  it('reads "NaN", "Infinity" and "-Infinity" in data and scalars', () => {
    const params: IRParam[] = [
      { kind: 'tensor', name: 'x', dtype: 'f32', dims: [3] },
      { kind: 'scalar', name: 'lo', dtype: 'f32' },
      { kind: 'scalar', name: 'hi', dtype: 'f16' },
    ];
    const r = parseArgs({ args: { x: { dtype: 'f32', shape: [3], data: ['NaN', 'Infinity', '-Infinity'] }, lo: '-Infinity', hi: 'NaN' } }, params);
    expect(r.errors).toEqual([]);
    expect(Array.from(tensor(r, 'x').data)).toEqual([NaN, Infinity, -Infinity]);
    expect(r.args?.get('lo')).toBe(-Infinity);
    expect(r.args?.get('hi')).toBeNaN();
  });

  it('reads i64 values as numbers or decimal strings, and bools as true/false or 0/1', () => {
    const params: IRParam[] = [
      { kind: 'tensor', name: 'idx', dtype: 'i64', dims: ['N'] },
      { kind: 'tensor', name: 'm', dtype: 'bool', dims: ['N'] },
      { kind: 'scalar', name: 'off', dtype: 'i64' },
      { kind: 'scalar', name: 'n', dtype: 'i32' },
    ];
    const r = parseArgs(
      { args: { idx: { dtype: 'i64', shape: [3], data: ['-9007199254740991', 5, '12'] }, m: { dtype: 'bool', shape: [3], data: [true, 0, 1] }, off: '4294967296', n: -7 } },
      params,
    );
    expect(r.errors).toEqual([]);
    expect(Array.from(tensor(r, 'idx').data)).toEqual([-9007199254740991, 5, 12]);
    expect(Array.from(tensor(r, 'm').data)).toEqual([1, 0, 1]);
    expect(r.args?.get('off')).toBe(4294967296);
    expect(r.args?.get('n')).toBe(-7);
  });

  it('accepts fixed dims that match and a symbol shared by several tensors', () => {
    const params: IRParam[] = [
      { kind: 'tensor', name: 'x', dtype: 'f32', dims: ['N', 4] },
      { kind: 'tensor', name: 'y', dtype: 'f32', dims: ['N'] },
    ];
    const r = parseArgs({ args: { x: { dtype: 'f32', shape: [2, 4], data: fill(8) }, y: { dtype: 'f32', shape: [2], data: [0, 0] } } }, params);
    expect(r.errors).toEqual([]);
  });
});

describe('parseArgs: errors name the parameter', () => {
  it('rejects a file without an "args" object', () => {
    expect(parseArgs([1, 2], gemmParams).errors).toEqual([expect.stringContaining('"args"')]);
    expect(parseArgs({ a: 1 }, gemmParams).errors).toEqual([expect.stringContaining('"args"')]);
  });

  it('reports a missing parameter', () => {
    const args = goodArgs();
    delete args.b;
    expect(errorsOf(args)).toEqual([expect.stringMatching(/missing argument 'b' \(tensor f16\[K, N\]\)/)]);
  });

  it('reports an unknown parameter, listing the real ones', () => {
    expect(errorsOf({ ...goodArgs(), bias: 1 })).toEqual([expect.stringMatching(/unknown argument 'bias'.*a, b, c, scale/)]);
  });

  it('reports a wrong dtype', () => {
    const errs = errorsOf({ ...goodArgs(), a: { dtype: 'f32', shape: [2, 3], data: fill(6) } });
    expect(errs).toEqual([expect.stringMatching(/argument 'a'.*dtype "f32" does not match the parameter's dtype f16/)]);
  });

  it('reports a missing dtype and an unknown field', () => {
    const errs = errorsOf({ ...goodArgs(), a: { shape: [2, 3], Data: fill(6), data: fill(6) } });
    expect(errs).toEqual([expect.stringMatching(/argument 'a'.*unknown field 'Data'/), expect.stringMatching(/argument 'a'.*"dtype" is missing/)]);
  });

  it('reports a shape of the wrong rank', () => {
    const errs = errorsOf({ ...goodArgs(), b: { dtype: 'f16', shape: [12], data: fill(12) } });
    expect(errs).toEqual([expect.stringMatching(/argument 'b'.*shape \[12\] has rank 1, but the parameter has rank 2/)]);
  });

  it('reports a malformed shape', () => {
    const errs = errorsOf({ ...goodArgs(), b: { dtype: 'f16', shape: [3, -4], data: fill(12) } });
    expect(errs).toEqual([expect.stringMatching(/argument 'b'.*"shape" must be an array of integers/)]);
  });

  it('reports a shape that contradicts a fixed dim', () => {
    const params: IRParam[] = [{ kind: 'tensor', name: 'w', dtype: 'f32', dims: ['N', 64] }];
    const errs = errorsOf({ w: { dtype: 'f32', shape: [2, 32], data: fill(64) } }, params);
    expect(errs).toEqual([expect.stringMatching(/argument 'w'.*axis 1 has size 32, but the parameter fixes it to 64/)]);
  });

  it('reports a dim symbol bound to two sizes, naming both tensors and axes', () => {
    const errs = errorsOf({ ...goodArgs(), b: { dtype: 'f16', shape: [5, 4], data: fill(20) } });
    expect(errs).toEqual([`dim 'K' is bound to two sizes: 3 by 'a' axis 1 and 5 by 'b' axis 0`]);
  });

  it('reports a data length that is not the product of the shape', () => {
    const errs = errorsOf({ ...goodArgs(), a: { dtype: 'f16', shape: [2, 3], data: fill(5) } });
    expect(errs).toEqual([expect.stringMatching(/argument 'a'.*"data" has 5 elements, but shape \[2, 3\] has 6/)]);
  });

  it('reports non-numeric data entries (a few, then a count)', () => {
    const data: unknown[] = fill(6);
    data[1] = 'x';
    data[4] = null;
    expect(errorsOf({ ...goodArgs(), a: { dtype: 'f16', shape: [2, 3], data } })).toEqual([
      expect.stringMatching(/argument 'a'.*data\[1\] is "x": expected a number/),
      expect.stringMatching(/argument 'a'.*data\[4\] is null: expected a number/),
    ]);
    const many = errorsOf({ ...goodArgs(), b: { dtype: 'f16', shape: [3, 4], data: new Array(12).fill('?') } });
    expect(many).toHaveLength(6);
    expect(many[5]).toMatch(/argument 'b'.*7 more invalid data entries/);
  });

  it('points out nested data: it must be flat', () => {
    const errs = errorsOf({ ...goodArgs(), a: { dtype: 'f16', shape: [2, 3], data: [[1, 2, 3], [4, 5, 6]] } });
    expect(errs[0]).toMatch(/"data" has 2 elements/);
  });

  it('reports a non-integer or out-of-range int scalar, and a non-numeric float scalar', () => {
    const params: IRParam[] = [
      { kind: 'scalar', name: 'n', dtype: 'i32' },
      { kind: 'scalar', name: 'big', dtype: 'i32' },
      { kind: 'scalar', name: 'off', dtype: 'i64' },
      { kind: 'scalar', name: 'eps', dtype: 'f32' },
      { kind: 'scalar', name: 'flag', dtype: 'bool' },
    ];
    expect(errorsOf({ n: 1.5, big: 2 ** 31, off: '12345678901234567890', eps: '1e-5', flag: 2 }, params)).toEqual([
      expect.stringMatching(/argument 'n' \(i32 scalar\) is 1\.5: expected an integer/),
      expect.stringMatching(/argument 'big' \(i32 scalar\) is 2147483648: outside the i32 range/),
      expect.stringMatching(/argument 'off' \(i64 scalar\).*2\^53/),
      expect.stringMatching(/argument 'eps' \(f32 scalar\) is "1e-5": expected a number/),
      expect.stringMatching(/argument 'flag' \(bool scalar\) is 2: expected true, false, 0 or 1/),
    ]);
  });

  it('reports non-integer data for an int tensor, and "NaN" where ints cannot hold it', () => {
    const params: IRParam[] = [{ kind: 'tensor', name: 'idx', dtype: 'i32', dims: ['N'] }];
    expect(errorsOf({ idx: { dtype: 'i32', shape: [3], data: [1, 2.5, 'NaN'] } }, params)).toEqual([
      expect.stringMatching(/argument 'idx'.*data\[1\] is 2\.5: expected an integer/),
      expect.stringMatching(/argument 'idx'.*data\[2\] is "NaN": expected an integer/),
    ]);
  });

  it('requires data for non-float tensors', () => {
    const params: IRParam[] = [{ kind: 'tensor', name: 'idx', dtype: 'i32', dims: ['N'] }];
    expect(errorsOf({ idx: { dtype: 'i32', shape: [3] } }, params)).toEqual([expect.stringMatching(/argument 'idx'.*"data" is required for i32 tensors/)]);
  });

  it('reports a tensor given as a number and a scalar given as an object', () => {
    expect(errorsOf({ ...goodArgs(), a: 3, scale: { dtype: 'f32' } })).toEqual([
      expect.stringMatching(/argument 'a' \(tensor f16\[M, K\]\): expected an object/),
      expect.stringMatching(/argument 'scale' \(f32 scalar\) is an object/),
    ]);
  });

  it('reports every problem, not just the first', () => {
    const errs = errorsOf({ a: { dtype: 'f32', shape: [2, 3], data: fill(6) }, b: { dtype: 'f16', shape: [3], data: fill(3) }, scale: 'x', extra: 0 });
    expect(errs.length).toBe(5); // extra, a's dtype, b's rank, c missing, scale
    for (const name of ['extra', "'a'", "'b'", "'c'", "'scale'"]) expect(errs.some((e) => e.includes(name))).toBe(true);
  });
});

describe('formatOutputs', () => {
  const params: IRParam[] = [
    { kind: 'tensor', name: 'x', dtype: 'f32', dims: ['N'] },
    { kind: 'tensor', name: 'i', dtype: 'i64', dims: ['N'] },
    { kind: 'tensor', name: 'm', dtype: 'bool', dims: ['N'] },
    { kind: 'scalar', name: 's', dtype: 'f32' },
  ];

  it('writes every tensor (not scalars) with NaN/±Infinity as strings, plus backend and config', () => {
    const args = new Map<string, TensorArg | number>([
      ['x', { dtype: 'f32', shape: [4], data: Float64Array.of(NaN, Infinity, -Infinity, 1.5) }],
      ['i', { dtype: 'i64', shape: [4], data: Float64Array.of(1, -2, 2 ** 60, 0) }],
      ['m', { dtype: 'bool', shape: [4], data: Float64Array.of(1, 0, 0, 1) }],
      ['s', 2],
    ]);
    const out = formatOutputs(args, params, { backend: 'interpret', config: { B: 64, dtype: 'f16', causal: true } });
    expect(out).toEqual({
      outputs: {
        x: { dtype: 'f32', shape: [4], data: ['NaN', 'Infinity', '-Infinity', 1.5] },
        i: { dtype: 'i64', shape: [4], data: [1, -2, '1152921504606846976', 0] },
        m: { dtype: 'bool', shape: [4], data: [true, false, false, true] },
      },
      backend: 'interpret',
      config: { B: 64, dtype: 'f16', causal: true },
    });
  });

  it('round-trips through JSON text and parseArgs', () => {
    const src = new Map<string, TensorArg | number>([
      ['x', { dtype: 'f32', shape: [5], data: Float64Array.of(NaN, -Infinity, Infinity, -0, Math.fround(0.1)) }],
      ['i', { dtype: 'i64', shape: [5], data: Float64Array.of(0, 1, -1, 2 ** 52, -(2 ** 53 - 1)) }],
      ['m', { dtype: 'bool', shape: [5], data: Float64Array.of(0, 1, 1, 0, 1) }],
    ]);
    const text = formatJson(formatOutputs(src, params, { backend: 'interpret', config: {} }));
    const reread = JSON.parse(text) as { outputs: Record<string, unknown> };
    const r = parseArgs({ args: { ...reread.outputs, s: 'Infinity' } }, params);
    expect(r.errors).toEqual([]);
    for (const name of ['x', 'i', 'm']) {
      const a = Array.from(tensor(r, name).data);
      const b = Array.from((src.get(name) as TensorArg).data);
      expect(a.length).toBe(b.length);
      a.forEach((v, k) => expect(Object.is(v, b[k])).toBe(true)); // -0 and NaN exactly
    }
    expect(r.args?.get('s')).toBe(Infinity);
  });

  it('formatJson keeps data arrays on one line', () => {
    const text = formatJson({ outputs: { y: { dtype: 'f32', shape: [3], data: [1, 'NaN', -0] } } });
    expect(text).toContain('"data": [1, "NaN", -0]');
    expect(text.split('\n').length).toBe(9);
  });
});
