/**
 * `tilekit emulate FILE.ptx --kernel NAME --grid X[,Y,Z] --block X[,Y,Z] [--smem BYTES]
 *  --args ARGS.json --out OUT.json` — runs PTX in the emulator (docs/cli.md has the contract).
 * Exit 0: a clean run; 3: the sanitizer found errors (OUT.json is still written); 2: bad input.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type CliIO, EXIT_OK, EXIT_USAGE } from '../../dsl/cli-io.js';
import { emulate } from './emulate.js';
import { formatFinding } from './findings.js';
import { type BufferDType, type Dim3, type EmuArg, EmulatorInputError, type ScalarType } from './types.js';

export const EXIT_FINDINGS = 3;

const BUFFER_DTYPES: readonly BufferDType[] = ['f64', 'f32', 'f16', 'bf16', 'i8', 'u8', 'i16', 'u16', 'i32', 'u32', 'i64', 'u64'];
const SCALAR_TYPES: readonly ScalarType[] = ['i32', 'u32', 'i64', 'u64', 'f32', 'f64'];

export interface EmulateFlags {
  kernel: string;
  grid: string;
  block: string;
  smem?: string;
  args: string;
  out: string;
  maxSteps?: string;
}

/** `X[,Y,Z]` → a Dim3, or an error message. */
export function parseDim3(flag: string, text: string): Dim3 | string {
  const parts = text.split(',').map((s) => s.trim());
  if (parts.length < 1 || parts.length > 3 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1)) {
    return `${flag}: expected 1 to 3 positive integers separated by commas (X[,Y,Z]), found '${text}'`;
  }
  const n = parts.map(Number);
  return [n[0]!, n[1] ?? 1, n[2] ?? 1];
}

/** JSON number, or the strings "NaN", "Infinity", "-Infinity", or a decimal string for 64-bit integers. */
function jsonNumber(v: unknown, where: string, errors: string[]): number | bigint | undefined {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  errors.push(`${where}: expected a number (or "NaN", "Infinity", "-Infinity", or a decimal string for 64-bit integers), found ${JSON.stringify(v)}`);
  return undefined;
}

/** Reads ARGS.json (`{"args": [ … ]}`) into emulator arguments; every problem is listed. */
export function parseEmuArgs(json: unknown): { args?: EmuArg[]; errors: string[] } {
  const errors: string[] = [];
  const list = (json as { args?: unknown } | null)?.args;
  if (!Array.isArray(list)) return { errors: ['expected an object {"args": [ …one entry per kernel parameter… ]}'] };
  const args: EmuArg[] = [];
  list.forEach((e: unknown, i) => {
    const where = `args[${i}]`;
    if (typeof e !== 'object' || e === null) {
      errors.push(`${where}: expected an object with a "type"`);
      return;
    }
    const o = e as Record<string, unknown>;
    if (o.type === 'ptr') {
      const dtype = o.dtype as BufferDType;
      if (!BUFFER_DTYPES.includes(dtype)) {
        errors.push(`${where}: dtype must be one of ${BUFFER_DTYPES.join(', ')}, found ${JSON.stringify(o.dtype)}`);
        return;
      }
      if (o.data !== undefined) {
        if (!Array.isArray(o.data)) {
          errors.push(`${where}: data must be an array`);
          return;
        }
        const data = o.data.map((x: unknown, j: number) => jsonNumber(x, `${where}.data[${j}]`, errors) ?? 0);
        args.push({ type: 'ptr', dtype, data });
        return;
      }
      if (typeof o.size !== 'number' || !Number.isInteger(o.size) || o.size < 0) {
        errors.push(`${where}: a buffer needs "data" or a non-negative integer "size"`);
        return;
      }
      const fill = o.fill ?? 'poison';
      if (fill !== 'poison' && fill !== 'zero') {
        errors.push(`${where}: fill must be "poison" or "zero", found ${JSON.stringify(o.fill)}`);
        return;
      }
      args.push({ type: 'ptr', dtype, size: o.size, fill });
      return;
    }
    if (SCALAR_TYPES.includes(o.type as ScalarType)) {
      const v = jsonNumber(o.value, `${where}.value`, errors);
      if (v !== undefined) args.push({ type: o.type as ScalarType, value: v });
      return;
    }
    errors.push(`${where}: type must be "ptr" or one of ${SCALAR_TYPES.join(', ')}, found ${JSON.stringify(o.type)}`);
  });
  return errors.length > 0 ? { errors } : { args, errors };
}

function jsonValue(v: number | bigint): number | string {
  if (typeof v === 'bigint') return v.toString();
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export async function emulateCommand(file: string, flags: EmulateFlags, io: CliIO): Promise<number> {
  const grid = parseDim3('--grid', flags.grid);
  const block = parseDim3('--block', flags.block);
  const smem = flags.smem === undefined ? 0 : Number(flags.smem);
  const maxSteps = flags.maxSteps === undefined ? undefined : Number(flags.maxSteps);
  const usage: string[] = [];
  if (typeof grid === 'string') usage.push(grid);
  if (typeof block === 'string') usage.push(block);
  if (!Number.isInteger(smem) || smem < 0) usage.push(`--smem: expected a non-negative integer of bytes, found '${flags.smem}'`);
  if (maxSteps !== undefined && (!Number.isInteger(maxSteps) || maxSteps < 1)) usage.push(`--max-steps: expected a positive integer, found '${flags.maxSteps}'`);
  if (usage.length > 0) {
    for (const u of usage) io.err(`error: ${u}`);
    return EXIT_USAGE;
  }
  let ptx: string;
  let json: unknown;
  try {
    ptx = await readFile(file, 'utf8');
  } catch (e) {
    io.err(`error: ${file}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_USAGE;
  }
  try {
    json = JSON.parse(await readFile(flags.args, 'utf8'));
  } catch (e) {
    io.err(`error: ${flags.args}: ${e instanceof SyntaxError ? `invalid JSON: ${e.message}` : `cannot read: ${e instanceof Error ? e.message : String(e)}`}`);
    return EXIT_USAGE;
  }
  const parsed = parseEmuArgs(json);
  if (!parsed.args) {
    for (const e of parsed.errors) io.err(`error: ${flags.args}: ${e}`);
    return EXIT_USAGE;
  }
  const t0 = performance.now();
  let result;
  try {
    result = emulate(ptx, flags.kernel, { grid: grid as Dim3, block: block as Dim3, dynamicSmem: smem }, parsed.args, maxSteps ? { maxSteps } : {});
  } catch (e) {
    if (e instanceof EmulatorInputError) {
      io.err(`error: ${e.line !== undefined ? `${file}:` : `${file}: `}${e.message}`);
      return EXIT_USAGE;
    }
    throw e;
  }
  const ms = performance.now() - t0;
  const out = {
    buffers: result.buffers.map((b) => ({ index: b.index, dtype: b.dtype, data: b.data.map(jsonValue) })),
    errors: result.findings,
    stats: result.stats,
  };
  try {
    await writeFile(flags.out, JSON.stringify(out));
  } catch (e) {
    io.err(`error: ${flags.out}: cannot write: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_USAGE;
  }
  for (const f of result.findings) io.err(`${formatFinding(f)}\n`);
  const rate = result.stats.threadInstructions / Math.max(ms / 1000, 1e-9);
  io.out(
    `${flags.kernel}: grid [${(grid as Dim3).join(',')}] block [${(block as Dim3).join(',')}]: ${result.stats.threadInstructions} thread-instructions in ${ms.toFixed(0)} ms (${(rate / 1e6).toFixed(1)} M/s), ${result.findings.length} sanitizer finding${result.findings.length === 1 ? '' : 's'}; wrote ${flags.out}`,
  );
  return result.findings.length > 0 ? EXIT_FINDINGS : EXIT_OK;
}
