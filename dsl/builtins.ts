/** The builtin functions: arity, named arguments and a usage line for diagnostics. */
export interface BuiltinSig {
  /** Minimum and maximum number of positional arguments. */
  readonly args: readonly [number, number];
  readonly named: readonly string[];
  readonly usage: string;
  readonly doc: string;
}

export const MATH_FNS: ReadonlySet<string> = new Set([
  'exp',
  'exp2',
  'log',
  'log2',
  'sqrt',
  'rsqrt',
  'tanh',
  'sigmoid',
  'silu',
  'gelu',
  'abs',
]);

const math = (name: string, doc: string): BuiltinSig => ({ args: [1, 1], named: [], usage: `${name}(x)`, doc });

export const BUILTINS: Readonly<Record<string, BuiltinSig>> = {
  program_id: { args: [1, 1], named: [], usage: 'program_id(axis)', doc: "This program instance's index along a grid axis." },
  num_programs: { args: [1, 1], named: [], usage: 'num_programs(axis)', doc: 'The grid size along an axis.' },
  cdiv: { args: [2, 2], named: [], usage: 'cdiv(a, b)', doc: 'Ceiling division of non-negative integers.' },
  load: { args: [1, 1], named: ['other', 'mask'], usage: 'load(t[m0 : BM, k0 : BK], other = 0, mask = m)', doc: 'Reads a tile; out-of-bounds elements read `other`.' },
  store: { args: [2, 2], named: ['mask'], usage: 'store(t[m0 : BM, n0 : BN], value, mask = m)', doc: 'Writes a tile; out-of-bounds elements are dropped.' },
  zeros: { args: [1, 2], named: [], usage: 'zeros([BM, BN], f32)', doc: 'A tile of zeros.' },
  full: { args: [2, 3], named: [], usage: 'full([BM], value, f32)', doc: 'A tile filled with one value.' },
  arange: { args: [1, 1], named: [], usage: 'arange(n)', doc: 'i32[n] holding 0 … n−1.' },
  dot: { args: [2, 3], named: [], usage: 'dot(a, b, acc)', doc: 'Matrix product [M, K]·[K, N] accumulated in f32.' },
  transpose: { args: [1, 1], named: [], usage: 'transpose(x)', doc: 'Swaps the axes of a rank-2 tile.' },
  sum: { args: [1, 1], named: ['axis'], usage: 'sum(x, axis = 1)', doc: 'Sum along an axis (f16/bf16 accumulate in f32).' },
  max: { args: [1, 1], named: ['axis'], usage: 'max(x, axis = 1)', doc: 'Maximum along an axis.' },
  min: { args: [1, 1], named: ['axis'], usage: 'min(x, axis = 1)', doc: 'Minimum along an axis.' },
  maximum: { args: [2, 2], named: [], usage: 'maximum(a, b)', doc: 'Elementwise maximum.' },
  minimum: { args: [2, 2], named: [], usage: 'minimum(a, b)', doc: 'Elementwise minimum.' },
  where: { args: [3, 3], named: [], usage: 'where(cond, a, b)', doc: 'Elementwise select.' },
  exp: math('exp', 'e^x'),
  exp2: math('exp2', '2^x'),
  log: math('log', 'Natural logarithm.'),
  log2: math('log2', 'Base-2 logarithm.'),
  sqrt: math('sqrt', 'Square root.'),
  rsqrt: math('rsqrt', '1 / sqrt(x).'),
  tanh: math('tanh', 'Hyperbolic tangent.'),
  sigmoid: math('sigmoid', '1 / (1 + e^-x).'),
  silu: math('silu', 'x · sigmoid(x).'),
  gelu: math('gelu', 'GELU, tanh approximation.'),
  abs: math('abs', 'Absolute value.'),
};
