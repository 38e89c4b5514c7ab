/**
 * The ARGS.json / OUT.json contract of `tilekit run` (docs/cli.md), the interface external tools
 * script against:
 *
 *   ARGS.json  {"args": {"a": {"dtype": "f16", "shape": [77, 50], "data": [...]}, "scale": 0.125}}
 *   OUT.json   {"outputs": {"a": {...}, "c": {...}}, "backend": "interpret", "config": {...}}
 *
 * Data is flat and row-major. JSON has no NaN or infinities, so they are the strings "NaN",
 * "Infinity", "-Infinity" both ways; i64 values may be decimal strings. Every problem is collected
 * (not just the first), each naming the parameter, so one run shows everything to fix.
 */
import type { KernelArgs, TensorArg } from '../compiler/interpreter.js';
import { roundToDType } from '../dsl/float-rounding.js';
import type { ConfigValue, IRParam } from '../compiler/ir.js';
import { isFloat, type DType } from '../dsl/dtype.js';

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
/** Bad data entries reported per tensor before the rest are only counted. */
const MAX_ENTRY_ERRORS = 5;
const TENSOR_FIELDS = ['dtype', 'shape', 'data'];

/** A value as written in JSON: a number, a boolean (bool), or "NaN" / "Infinity" / "-Infinity" / an i64 decimal string. */
export type JsonScalar = number | boolean | string;

export interface OutputTensor {
  dtype: DType;
  shape: number[];
  data: JsonScalar[];
}

/** The contents of OUT.json. */
export interface OutputFile {
  outputs: Record<string, OutputTensor>;
  backend: string;
  config: Record<string, ConfigValue>;
}

type Parsed = { value: number } | { problem: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short rendering of a JSON value for messages. */
function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `an array of ${v.length}`;
  if (isRecord(v)) return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export function describeParam(p: IRParam): string {
  return p.kind === 'tensor' ? `tensor ${p.dtype}[${p.dims.join(', ')}]` : `${p.dtype} scalar`;
}

/** One JSON value as a value of `dtype` (floats rounded to nearest even), or what is wrong with it. */
function parseValue(dtype: DType, v: unknown): Parsed {
  if (dtype === 'bool') {
    if (v === true || v === 1) return { value: 1 };
    if (v === false || v === 0) return { value: 0 };
    return { problem: `${show(v)}: expected true, false, 0 or 1` };
  }
  if (isFloat(dtype)) {
    if (typeof v === 'number') return { value: roundToDType(dtype, v) };
    if (v === 'NaN') return { value: NaN };
    if (v === 'Infinity' || v === '-Infinity') return { value: roundToDType(dtype, v === 'Infinity' ? Infinity : -Infinity) };
    return { problem: `${show(v)}: expected a number, "NaN", "Infinity" or "-Infinity"` };
  }
  // i32, i64
  let n: number;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return { problem: `${show(v)}: expected an integer` };
    n = v;
  } else if (dtype === 'i64' && typeof v === 'string' && /^-?\d+$/.test(v)) {
    const b = BigInt(v);
    if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER)) {
      return { problem: `${show(v)}: i64 values are held in float64 and must be within ±(2^53 − 1)` };
    }
    n = Number(b);
  } else {
    return { problem: `${show(v)}: expected an integer${dtype === 'i64' ? ' (a number or a decimal string)' : ''}` };
  }
  if (dtype === 'i32' && (n < I32_MIN || n > I32_MAX)) return { problem: `${n}: outside the i32 range` };
  if (dtype === 'i64' && !Number.isSafeInteger(n)) return { problem: `${n}: i64 values are held in float64 and must be within ±(2^53 − 1)` };
  return { value: n + 0 }; // + 0: no -0 in integers
}

/** Sizes bound to each dim symbol so far, and where, to name both sides of a conflict. */
type DimBindings = Map<string, { size: number; where: string }>;

function parseTensor(p: Extract<IRParam, { kind: 'tensor' }>, entry: unknown, dims: DimBindings, errors: string[]): TensorArg | undefined {
  const what = `argument '${p.name}' (${describeParam(p)})`;
  if (!isRecord(entry)) {
    errors.push(`${what}: expected an object with "dtype", "shape" and "data", found ${show(entry)}`);
    return undefined;
  }
  const before = errors.length;
  for (const key of Object.keys(entry)) {
    if (!TENSOR_FIELDS.includes(key)) errors.push(`${what}: unknown field '${key}' (expected dtype, shape, data)`);
  }
  if (entry.dtype === undefined) errors.push(`${what}: "dtype" is missing (expected "${p.dtype}")`);
  else if (entry.dtype !== p.dtype) errors.push(`${what}: dtype ${show(entry.dtype)} does not match the parameter's dtype ${p.dtype}`);

  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((d): d is number => Number.isInteger(d) && d >= 0 && d <= I32_MAX)) {
    errors.push(`${what}: "shape" must be an array of integers from 0 to 2^31 − 1, found ${JSON.stringify(shape) ?? 'nothing'}`);
    return undefined;
  }
  if (shape.length !== p.dims.length) {
    errors.push(`${what}: shape [${shape.join(', ')}] has rank ${shape.length}, but the parameter has rank ${p.dims.length}`);
    return undefined;
  }
  p.dims.forEach((dim, axis) => {
    const size = shape[axis]!;
    if (typeof dim === 'number') {
      if (size !== dim) errors.push(`${what}: axis ${axis} has size ${size}, but the parameter fixes it to ${dim}`);
      return;
    }
    const where = `'${p.name}' axis ${axis}`;
    const bound = dims.get(dim);
    if (!bound) dims.set(dim, { size, where });
    else if (bound.size !== size) errors.push(`dim '${dim}' is bound to two sizes: ${bound.size} by ${bound.where} and ${size} by ${where}`);
  });

  let numel = 1;
  for (const d of shape) numel *= d;
  let data: Float64Array | undefined;
  if (entry.data === undefined) {
    // Outputs may omit data: NaN marks every element the kernel does not write.
    if (isFloat(p.dtype)) data = new Float64Array(numel).fill(NaN);
    else errors.push(`${what}: "data" is required for ${p.dtype} tensors (omitted data is filled with NaN, which ${p.dtype} cannot hold)`);
  } else if (!Array.isArray(entry.data)) {
    errors.push(`${what}: "data" must be a flat array of numbers in row-major order, found ${show(entry.data)}`);
  } else if (entry.data.length !== numel) {
    errors.push(`${what}: "data" has ${entry.data.length} elements, but shape [${shape.join(', ')}] has ${numel}`);
  } else {
    data = new Float64Array(numel);
    let bad = 0;
    entry.data.forEach((v: unknown, i) => {
      const r = parseValue(p.dtype, v);
      if ('value' in r) data![i] = r.value;
      else if (++bad <= MAX_ENTRY_ERRORS) errors.push(`${what}: data[${i}] is ${r.problem}${Array.isArray(v) ? ' (data is flat, row-major)' : ''}`);
    });
    if (bad > MAX_ENTRY_ERRORS) errors.push(`${what}: ${bad - MAX_ENTRY_ERRORS} more invalid data entries`);
  }
  return errors.length === before && data ? { dtype: p.dtype, shape: [...shape], data } : undefined;
}

/** Reads and validates the parsed contents of ARGS.json against the kernel's parameters. */
export function parseArgs(json: unknown, params: readonly IRParam[]): { args?: KernelArgs; errors: string[] } {
  if (!isRecord(json) || !isRecord(json.args)) {
    return { errors: ['expected a JSON object of the form {"args": {"<parameter>": ...}}'] };
  }
  const given = json.args;
  const errors: string[] = [];
  const names = params.map((p) => p.name);
  for (const key of Object.keys(given)) {
    if (!names.includes(key)) errors.push(`unknown argument '${key}': the kernel's parameters are ${names.join(', ') || 'none'}`);
  }
  const args: KernelArgs = new Map();
  const dims: DimBindings = new Map();
  for (const p of params) {
    const entry = given[p.name];
    if (entry === undefined) {
      errors.push(`missing argument '${p.name}' (${describeParam(p)})`);
    } else if (p.kind === 'tensor') {
      const t = parseTensor(p, entry, dims, errors);
      if (t) args.set(p.name, t);
    } else {
      const r = parseValue(p.dtype, entry);
      if ('value' in r) args.set(p.name, r.value);
      else errors.push(`argument '${p.name}' (${describeParam(p)}) is ${r.problem}`);
    }
  }
  return errors.length > 0 ? { errors } : { args, errors };
}

/** One element as written to OUT.json. */
function encodeValue(dtype: DType, x: number): JsonScalar {
  if (dtype === 'bool') return x !== 0;
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (dtype === 'i64' && !Number.isSafeInteger(x)) return BigInt(x).toString();
  return x;
}

/** OUT.json: every tensor parameter after the run (inputs too), with the backend and configuration. */
export function formatOutputs(
  args: KernelArgs,
  params: readonly IRParam[],
  meta: { backend: string; config: Readonly<Record<string, ConfigValue>> },
): OutputFile {
  const outputs: Record<string, OutputTensor> = {};
  for (const p of params) {
    const t = args.get(p.name);
    if (p.kind !== 'tensor' || t === undefined || typeof t === 'number') continue;
    outputs[p.name] = { dtype: t.dtype, shape: [...t.shape], data: Array.from(t.data, (x) => encodeValue(t.dtype, x)) };
  }
  return { outputs, backend: meta.backend, config: { ...meta.config } };
}

/**
 * JSON text with objects indented and arrays of plain values on one line (a tensor's data would
 * otherwise take a line per element); -0 is kept as `-0`, which JSON.parse reads back as -0.
 */
export function formatJson(value: unknown, indent = ''): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => formatJson(v)).join(', ')}]`;
    const inner = `${indent}  `;
    return `[\n${value.map((v) => `${inner}${formatJson(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (isRecord(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
