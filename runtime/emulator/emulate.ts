/**
 * The emulator's entry point: parse PTX, load one kernel, lay out its arguments in emulated
 * memory, run every CTA of the grid, and return the buffers, the sanitizer's findings and the
 * statistics. CTAs run one after another (a kernel may not rely on CTAs running concurrently).
 */
import { decodeBits, encodeBits } from '../../dsl/float-rounding.js';
import type { DType } from '../../dsl/dtype.js';
import { Cta, type LaunchState } from './cta.js';
import { decodeKernel } from './decode.js';
import { Findings } from './findings.js';
import { type LoadedKernel, loadKernel, typeBytes, typeWidth } from './loader.js';
import { GlobalMemory, Region } from './memory.js';
import { PtxSyntaxError, type PtxModule, type VarDecl } from './ptx-ast.js';
import { parsePtx } from './ptx-parser.js';
import { RaceDetector } from './race.js';
import { Stats } from './stats.js';
import { type BufferDType, type EmuArg, type EmuResult, EmulatorInputError, type LaunchConfig } from './types.js';

export interface EmulateOptions {
  /** Stop (and report `step-limit`) after this many thread-instructions. */
  readonly maxSteps?: number;
}

export const DEFAULT_MAX_STEPS = 200_000_000;
/** Per-block limits of the largest target (sm_90a). */
const MAX_THREADS = 1024;
const MAX_SHARED = 227 * 1024;

const ELEM_BYTES: Record<BufferDType, number> = { f64: 8, f32: 4, f16: 2, bf16: 2, i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, i64: 8, u64: 8 };

export function bufferElemBytes(d: BufferDType): number {
  return ELEM_BYTES[d];
}

/** Parses PTX, turning syntax errors into input errors with their position. */
export function parseModule(ptx: string): PtxModule {
  try {
    return parsePtx(ptx);
  } catch (e) {
    if (e instanceof PtxSyntaxError) throw new EmulatorInputError(`PTX syntax error: ${e.message.replace(/^\d+:\d+: /, '')}`, e.pos.line, e.pos.column);
    throw e;
  }
}

function writeElem(r: Region, off: number, d: BufferDType, v: number | bigint): void {
  switch (d) {
    case 'f64':
      r.view.setFloat64(off, Number(v), true);
      break;
    case 'i64':
      r.view.setBigInt64(off, BigInt.asIntN(64, BigInt(v)), true);
      break;
    case 'u64':
      r.view.setBigUint64(off, BigInt.asUintN(64, BigInt(v)), true);
      break;
    case 'f32':
    case 'f16':
    case 'bf16':
      r.write(off, ELEM_BYTES[d], encodeBits(d as DType, Number(v)));
      break;
    default: {
      const n = ELEM_BYTES[d];
      r.write(off, n, Number(BigInt.asUintN(n * 8, BigInt(Math.trunc(Number(v))))));
    }
  }
  r.markInit(off, ELEM_BYTES[d]);
}

function readElem(r: Region, off: number, d: BufferDType): number | bigint {
  switch (d) {
    case 'f64':
      return r.view.getFloat64(off, true);
    case 'f32':
    case 'f16':
    case 'bf16':
      return decodeBits(d as DType, r.read(off, ELEM_BYTES[d]) as number);
    case 'i8':
      return r.view.getInt8(off);
    case 'u8':
      return r.view.getUint8(off);
    case 'i16':
      return r.view.getInt16(off, true);
    case 'u16':
      return r.view.getUint16(off, true);
    case 'i32':
      return r.view.getInt32(off, true);
    case 'u32':
      return r.view.getUint32(off, true);
    case 'i64':
      return r.view.getBigInt64(off, true);
    case 'u64':
      return r.view.getBigUint64(off, true);
  }
}

/** Writes a variable's initializer (or zeros: `.global`/`.const` variables are zero-initialised). */
function initVar(r: Region, off: number, d: VarDecl): void {
  const n = typeBytes(d.type);
  const isFloat = d.type.startsWith('f');
  (d.init ?? []).forEach((v, i) => {
    const at = off + i * n;
    if (isFloat && typeWidth(d.type) === 64) r.view.setFloat64(at, Number(v), true);
    else if (isFloat && typeWidth(d.type) === 32) r.view.setFloat32(at, Number(v), true);
    else if (n === 8) r.view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
    else r.write(at, n, Number(BigInt.asUintN(n * 8, BigInt(v))));
  });
}

function checkLaunch(k: LoadedKernel, launch: LaunchConfig): number {
  const [bx, by, bz] = launch.block;
  const threads = bx * by * bz;
  for (const x of [...launch.grid, ...launch.block]) {
    if (!Number.isInteger(x) || x < 1) throw new EmulatorInputError(`grid and block sizes must be positive integers, found grid [${launch.grid}] block [${launch.block}]`);
  }
  if (threads > MAX_THREADS) throw new EmulatorInputError(`a block of ${threads} threads exceeds the limit of ${MAX_THREADS}`);
  const dyn = launch.dynamicSmem ?? 0;
  const shared = (dyn > 0 ? k.dynamicSharedOffset : k.sharedStaticBytes) + dyn;
  if (shared > MAX_SHARED) throw new EmulatorInputError(`the kernel needs ${shared} bytes of shared memory (${k.sharedStaticBytes} static + ${dyn} dynamic); the limit is ${MAX_SHARED}`);
  return shared;
}

export function emulate(ptx: string, kernel: string, launch: LaunchConfig, args: readonly EmuArg[], options: EmulateOptions = {}): EmuResult {
  const k = loadKernel(parseModule(ptx), kernel);
  const sharedBytes = checkLaunch(k, launch);
  if (args.length !== k.kernelParams.length) {
    throw new EmulatorInputError(`kernel ${kernel} takes ${k.kernelParams.length} parameters, ${args.length} arguments were given`);
  }
  const global = new GlobalMemory();
  const kparams = new Region('kernel parameters', 0, k.kernelParamBytes, false);
  const buffers: { index: number; dtype: BufferDType; region: Region; count: number }[] = [];
  args.forEach((a, i) => {
    const p = k.kernelParams[i]!;
    const psize = p.size;
    if (a.type === 'ptr') {
      if (psize !== 8) throw new EmulatorInputError(`argument ${i} is a pointer, but parameter ${p.decl.name} is .${p.decl.type} (${psize} bytes)`);
      const elem = ELEM_BYTES[a.dtype];
      if (elem === undefined) throw new EmulatorInputError(`argument ${i}: unknown buffer dtype '${a.dtype}'`);
      const count = 'data' in a ? a.data.length : a.size;
      if (!Number.isInteger(count) || count < 0) throw new EmulatorInputError(`argument ${i}: buffer size must be a non-negative integer`);
      const poison = !('data' in a) && (a.fill ?? 'poison') === 'poison';
      const region = global.alloc(`buffer #${i} (${p.decl.name}, ${count} × ${a.dtype})`, count * elem, poison);
      if ('data' in a) for (let j = 0; j < count; j++) writeElem(region, j * elem, a.dtype, a.data[j]!);
      buffers.push({ index: i, dtype: a.dtype, region, count });
      kparams.view.setBigUint64(p.offset, BigInt(region.base), true);
      return;
    }
    const need = a.type === 'i64' || a.type === 'u64' || a.type === 'f64' ? 8 : 4;
    if (psize !== need) throw new EmulatorInputError(`argument ${i} is ${a.type} (${need} bytes), but parameter ${p.decl.name} is .${p.decl.type} (${psize} bytes)`);
    const v = a.value;
    if (a.type === 'f32') kparams.view.setFloat32(p.offset, Number(v), true);
    else if (a.type === 'f64') kparams.view.setFloat64(p.offset, Number(v), true);
    else if (need === 8) kparams.view.setBigUint64(p.offset, BigInt.asUintN(64, BigInt(v)), true);
    else kparams.view.setUint32(p.offset, Number(BigInt.asUintN(32, BigInt(v))), true);
  });

  const globalAddr = new Map<string, number>();
  for (const g of k.globalVars) {
    const r = global.alloc(`global variable ${g.decl.name}`, g.size, false);
    initVar(r, 0, g.decl);
    globalAddr.set(g.decl.name, r.base);
  }
  const consts = new Region('constant memory', 0, k.constBytes, false);
  for (const c of k.constVars) initVar(consts, c.offset, c.decl);

  const dynamicSmem = launch.dynamicSmem ?? 0;
  const code = decodeKernel(k, { globalAddr });
  const stats = new Stats();
  const state: LaunchState = {
    code,
    classIds: Int32Array.from(code.map((e) => stats.classId(e.cls))),
    regCount: k.regs.length,
    regWidths: Uint8Array.from(k.regs.map((r) => r.width)),
    global,
    kparams,
    consts,
    findings: new Findings(kernel),
    stats,
    grid: launch.grid,
    block: launch.block,
    sharedBytes,
    dynamicSmem,
    localBytes: k.localBytes,
    callParamBytes: k.callParamBytes,
    maxSteps: options.maxSteps ?? DEFAULT_MAX_STEPS,
    steps: 0,
    aborted: false,
    clock: 0,
    races: new RaceDetector(sharedBytes),
    epochs: 0,
  };
  const [gx, gy, gz] = launch.grid;
  outer: for (let z = 0; z < gz; z++) {
    for (let y = 0; y < gy; y++) {
      for (let x = 0; x < gx; x++) {
        new Cta(state, [x, y, z]).run();
        if (state.aborted) break outer;
      }
    }
  }
  return {
    buffers: buffers.map((b) => ({
      index: b.index,
      dtype: b.dtype,
      data: Array.from({ length: b.count }, (_, j) => readElem(b.region, j * ELEM_BYTES[b.dtype], b.dtype)),
    })),
    findings: state.findings.list(),
    stats: state.stats.snapshot(),
  };
}
