/**
 * Tile IR → PTX for sm_80 and sm_90a (the mma.sync path).
 *
 * Anchored ops (loads, stores, dots, reductions, loops, ifs) are emitted in program order, each
 * value in the placement compiler/placement.ts chose. Cheap ops (constants, arange, elementwise)
 * are emitted where they are used, in the layout the user needs, and cached per scope — so a
 * broadcast never moves data and a mask is computed in the registers it masks.
 *
 * Numerics follow the reference interpreter: f32 math in f32 (exp and exp2 through
 * `ex2.approx`, log through `lg2.approx`, tanh through `tanh.approx`: documented in
 * docs/ARCHITECTURE.md), f16/bf16 elementwise ops computed in f32 and rounded to nearest even,
 * `dot` on tensor cores with f32 accumulation, reductions as trees (so sums round differently
 * than the interpreter's sequential order; tests compare with tolerances).
 */
import type { Diagnostic } from '../../dsl/diagnostic.js';
import { error } from '../../dsl/diagnostic.js';
import { byteSize, type DType } from '../../dsl/dtype.js';
import type { Span } from '../../dsl/span.js';
import type { AccessIndex, Block, IRKernel, Op, TileValue } from '../ir.js';
import { type AbiParam, abiParams } from '../kernel-abi.js';
import { CodegenBase, type RegTile as BaseRegTile, Unsupported } from '../codegen-base.js';
import { BLOCKED_VEC, type Layout, NVIDIA_LANE_BITS, SCALAR, isPow2, mmaLayout, replicationMask, vectorRuns } from '../layout.js';
import { pipelinableLoads, placeValues } from '../placement.js';
import { PtxBuilder, type Reg, type RegClass } from './ptx-builder.js';

/** A 2-D tile in shared memory, rows of `rowBytes`, 16-byte chunks XOR-swizzled when `swizzle`. */
interface SmemTile {
  readonly kind: 'smem';
  readonly offset: number;
  readonly rows: number;
  readonly cols: number;
  readonly dtype: DType;
  readonly rowBytes: number;
  readonly swizzle: boolean;
  /** A `transpose` view: element (r, c) of the value is (c, r) of the stored tile. */
  readonly transposed: boolean;
  /** A run-time byte offset on top of `offset`: the slot of a pipelined ring buffer. */
  readonly dyn?: Reg;
}

interface TensorBinding {
  readonly kind: 'tensor';
  readonly ptr: Reg;
  readonly dims: readonly Reg[];
  /** Strides in elements of every axis but the last (which is 1). */
  readonly strides: readonly Reg[];
  readonly dtype: DType;
}

type RegTile = BaseRegTile<Reg>;

/** What every element of an access shares: the index offsets, the scalar indices' bounds and address part. */
interface UniformAccess {
  readonly offsets: Reg[];
  readonly pred?: Reg;
  readonly partial?: Reg;
}

const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;

export function regClass(d: DType): RegClass {
  switch (d) {
    case 'f32':
      return 'f32';
    case 'f16':
    case 'bf16':
      return 'b16';
    case 'i32':
      return 'b32';
    case 'i64':
      return 'b64';
    case 'bool':
      return 'pred';
    default:
      throw new Unsupported(`${d} tiles are not supported by the NVIDIA backend yet`, undefined);
  }
}

/** How each dtype appears in PTX: its register class, and the type suffix for moves/selects (bits) and memory. */
const PTX_TYPES: Partial<Record<DType, { readonly bits: string; readonly mem: string }>> = {
  f32: { bits: 'f32', mem: 'f32' },
  f16: { bits: 'b16', mem: 'b16' },
  bf16: { bits: 'b16', mem: 'b16' },
  i32: { bits: 'b32', mem: 's32' },
  i64: { bits: 'b64', mem: 's64' },
  bool: { bits: 'pred', mem: 'pred' },
};

function ptxType(d: DType): { readonly bits: string; readonly mem: string } {
  const t = PTX_TYPES[d];
  if (!t) throw new Unsupported(`${d} tiles are not supported by the NVIDIA backend yet`, undefined);
  return t;
}

function f32Hex(x: number): string {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, x);
  return `0f${b.getUint32(0).toString(16).toUpperCase().padStart(8, '0')}`;
}

export interface CodegenResult {
  readonly builder: PtxBuilder;
  readonly params: readonly AbiParam[];
  readonly paramTypes: readonly { readonly name: string; readonly type: string }[];
  readonly smemBytes: number;
  readonly threads: number;
}

/** `fallback`: where a diagnostic points when the failing op has no span of its own. */
export function generate(k: IRKernel, fallback: Span): { result?: CodegenResult; diagnostics: Diagnostic[] } {
  const warps = Number(k.config.WARPS ?? 4);
  try {
    return { result: new Codegen(k, warps).run(), diagnostics: [] };
  } catch (e) {
    if (e instanceof Unsupported) return { diagnostics: [error('TK4003', e.span ?? fallback, `the NVIDIA backend cannot compile this yet: ${e.message}`)] };
    throw e;
  }
}

class Codegen extends CodegenBase<Reg, SmemTile, TensorBinding> {
  protected readonly b = new PtxBuilder();
  private readonly baseRegs = new Map<string, Reg | undefined>();
  private lane!: Reg;
  private warp!: Reg;
  private tid!: Reg;
  private smemBase!: Reg;

  constructor(
    private readonly k: IRKernel,
    private readonly warps: number,
  ) {
    super(placeValues(k, { threads: warps * 32, laneBits: NVIDIA_LANE_BITS, dotLayout: (M, N) => mmaLayout(M, N, warps) }), warps * 32, NVIDIA_LANE_BITS, 128);
  }

  run(): CodegenResult {
    const b = this.b;
    const { params, dimNames, badScalar } = abiParams(this.k);
    if (badScalar) throw new Unsupported(`scalar parameter '${badScalar.name}' of dtype ${badScalar.dtype}: scalar parameters are f32, i32 or i64`, this.k.span);
    const paramTypes = params.map((p) => ({ name: p.name, type: p.kind === 'tensor' || p.kind === 'stride' ? 'u64' : p.kind === 'dim' ? 'u32' : ptxType(p.dtype).mem }));
    const tensors = this.k.params.filter((p) => p.kind === 'tensor');

    // Prologue: thread coordinates, parameters.
    this.tid = this.pro('b32', (r) => `mov.u32 ${r}, %tid.x`);
    this.lane = this.pro('b32', (r) => `and.b32 ${r}, ${this.tid.name}, 31`);
    this.warp = this.pro('b32', (r) => `shr.u32 ${r}, ${this.tid.name}, 5`);
    this.smemBase = this.pro('b32', (r) => `mov.u32 ${r}, tk_smem`);
    const dimRegs = new Map<string, Reg>();
    for (const d of dimNames) dimRegs.set(d, this.pro('b32', (r) => `ld.param.u32 ${r}, [${d}]`));
    for (const t of tensors) {
      const raw = this.pro('b64', (r) => `ld.param.u64 ${r}, [${t.name}]`);
      const ptr = this.pro('b64', (r) => `cvta.to.global.u64 ${r}, ${raw.name}`);
      const dims = t.dims.map((d) => (typeof d === 'string' ? dimRegs.get(d)! : this.pro('b32', (r) => `mov.u32 ${r}, ${d}`)));
      const strides = t.dims.slice(0, -1).map((_, a) => this.pro('b64', (r) => `ld.param.u64 ${r}, [${t.name}_stride${a}]`));
      this.tensorBindings.set(t.name, { kind: 'tensor', ptr, dims, strides, dtype: t.dtype });
    }
    for (const p of this.k.params) {
      if (p.kind !== 'scalar') continue;
      const cls = regClass(p.dtype);
      const ty = ptxType(p.dtype).mem;
      this.scalarParams.set(p.name, this.pro(cls, (r) => `ld.param.${ty} ${r}, [${p.name}]`));
    }

    this.block(this.k.body);
    return { builder: b, params, paramTypes, smemBytes: this.sharedBytes(), threads: this.threads };
  }

  private readonly tensorBindings = new Map<string, TensorBinding>();
  private readonly scalarParams = new Map<string, Reg>();

  /** A register computed once at kernel entry. */
  private pro(cls: RegClass, text: (r: string) => string): Reg {
    const r = this.b.reg(cls);
    this.b.emitPrologue(text(r.name));
    return r;
  }

  // ---- values in registers ----

  /** The thread's base coordinate along an axis of a layout (computed once, at kernel entry). */
  private base(l: Layout, axis: number): Reg | undefined {
    const terms = l.base[axis] ?? [];
    if (terms.length === 0) return undefined;
    const key = JSON.stringify(terms);
    if (this.baseRegs.has(key)) return this.baseRegs.get(key);
    let acc: Reg | undefined;
    for (const t of terms) {
      const src = t.from === 'lane' ? this.lane : this.warp;
      const r = this.pro('b32', (n) => `bfe.u32 ${n}, ${src.name}, ${t.shift}, ${t.bits}`);
      const scaled = t.scale === 1 ? r : this.pro('b32', (n) => `mul.lo.u32 ${n}, ${r.name}, ${t.scale}`);
      acc = acc ? this.pro('b32', (n) => `add.u32 ${n}, ${acc!.name}, ${scaled.name}`) : scaled;
    }
    this.baseRegs.set(key, acc);
    return acc;
  }

  /** Coordinate registers (b32) of register `i` of a layout, one per axis. */
  private coord(l: Layout, axis: number, i: number): Reg | number {
    const base = this.base(l, axis);
    const off = l.offsets[axis]![i]!;
    if (!base) return off;
    if (off === 0) return base;
    const r = this.b.reg('b32');
    this.b.emit(`add.u32 ${r.name}, ${base.name}, ${off}`);
    return r;
  }

  private operand(x: Reg | number): string {
    return typeof x === 'number' ? String(x) : x.name;
  }

  // ---- cheap ops (compiler/codegen-base.ts materializes them on demand) ----

  protected coordinate(l: Layout, axis: number, i: number): Reg {
    const c = this.coord(l, axis, i);
    return typeof c === 'number' ? this.constant('i32', c) : c;
  }

  protected constant(d: DType, value: number): Reg {
    const key = `const|${d}|${Object.is(value, -0) ? '-0' : value}`;
    const c = this.cached(key);
    if (c) return c[0]!;
    const r = this.b.reg(regClass(d));
    switch (d) {
      case 'f32':
        this.b.emit(`mov.f32 ${r.name}, ${f32Hex(value)}`);
        break;
      case 'f16':
      case 'bf16': {
        const t = this.b.reg('f32');
        this.b.emit(`mov.f32 ${t.name}, ${f32Hex(value)}`);
        this.b.emit(`cvt.rn.${d}.f32 ${r.name}, ${t.name}`);
        break;
      }
      case 'i32':
        this.b.emit(`mov.s32 ${r.name}, ${value | 0}`);
        break;
      case 'i64':
        this.b.emit(`mov.s64 ${r.name}, ${Math.trunc(value)}`);
        break;
      case 'bool':
        this.b.emit(`setp.ne.u32 ${r.name}, ${value ? 1 : 0}, 0`);
        break;
      default:
        throw new Unsupported(`${d} constants`, this.b.span);
    }
    this.remember(key, [r]);
    return r;
  }

  /** f16/bf16 values are computed in f32: these move between the two. */
  private toF32(r: Reg, d: DType): Reg {
    if (d === 'f32') return r;
    const f = this.b.reg('f32');
    if (d === 'f16') this.b.emit(`cvt.f32.f16 ${f.name}, ${r.name}`);
    else {
      // cvt.f32.bf16 needs sm_90: widen by placing the bits in the high half.
      const w = this.b.reg('b32');
      this.b.emit(`cvt.u32.u16 ${w.name}, ${r.name}`);
      this.b.emit(`shl.b32 ${w.name}, ${w.name}, 16`);
      this.b.emit(`mov.b32 ${f.name}, ${w.name}`);
    }
    return f;
  }

  private fromF32(f: Reg, d: DType): Reg {
    if (d === 'f32') return f;
    const r = this.b.reg('b16');
    this.b.emit(`cvt.rn.${d}.f32 ${r.name}, ${f.name}`);
    return r;
  }

  private intType(d: DType): string {
    return d === 'i64' ? 's64' : 's32';
  }

  protected binary(fn: string, d: DType, a: Reg, c: Reg): Reg {
    const b = this.b;
    if (d === 'bool') {
      const r = b.reg('pred');
      if (fn !== 'and' && fn !== 'or') throw new Unsupported(`${fn} on bool`, b.span);
      b.emit(`${fn}.pred ${r.name}, ${a.name}, ${c.name}`);
      return r;
    }
    if (d === 'f16' || d === 'bf16') return this.fromF32(this.binary(fn, 'f32', this.toF32(a, d), this.toF32(c, d)), d);
    const r = b.reg(regClass(d));
    if (d === 'f32') {
      switch (fn) {
        case 'add':
        case 'sub':
        case 'mul':
          b.emit(`${fn}.rn.f32 ${r.name}, ${a.name}, ${c.name}`);
          return r;
        case 'div':
          b.emit(`div.rn.f32 ${r.name}, ${a.name}, ${c.name}`);
          return r;
        case 'max':
        case 'min':
          b.emit(`${fn}.NaN.f32 ${r.name}, ${a.name}, ${c.name}`);
          return r;
        default:
          throw new Unsupported(`${fn} on f32`, b.span);
      }
    }
    const t = this.intType(d);
    switch (fn) {
      case 'div':
      case 'rem': {
        // A run-time zero divisor gives 0, as in the interpreter (PTX leaves it undefined).
        const q = b.reg(regClass(d));
        b.emit(`${fn}.${t} ${q.name}, ${a.name}, ${c.name}`);
        const z = b.reg('pred');
        b.emit(`setp.eq.${t} ${z.name}, ${c.name}, 0`);
        b.emit(`selp.${t === 's64' ? 'b64' : 'b32'} ${r.name}, 0, ${q.name}, ${z.name}`);
        return r;
      }
      case 'add':
      case 'sub':
      case 'max':
      case 'min':
        b.emit(`${fn}.${t} ${r.name}, ${a.name}, ${c.name}`);
        return r;
      case 'mul':
        b.emit(`mul.lo.${t} ${r.name}, ${a.name}, ${c.name}`);
        return r;
      default:
        throw new Unsupported(`${fn} on ${d}`, b.span);
    }
  }

  protected compare(pred: string, d: DType, a: Reg, c: Reg): Reg {
    const b = this.b;
    const r = b.reg('pred');
    if (d === 'bool') {
      if (pred !== 'eq' && pred !== 'ne') throw new Unsupported(`ordering comparison of bools`, b.span);
      b.emit(`xor.pred ${r.name}, ${a.name}, ${c.name}`);
      if (pred === 'eq') b.emit(`not.pred ${r.name}, ${r.name}`);
      return r;
    }
    if (d === 'f16' || d === 'bf16') return this.compare(pred, 'f32', this.toF32(a, d), this.toF32(c, d));
    // `!=` is true for NaN, as in the interpreter: the unordered form.
    const p = d === 'f32' && pred === 'ne' ? 'neu' : pred;
    b.emit(`setp.${p}.${d === 'f32' ? 'f32' : this.intType(d)} ${r.name}, ${a.name}, ${c.name}`);
    return r;
  }

  protected select(d: DType, p: Reg, x: Reg, y: Reg): Reg {
    const b = this.b;
    if (d === 'bool') {
      const t = b.reg('pred');
      const u = b.reg('pred');
      const r = b.reg('pred');
      b.emit(`and.pred ${t.name}, ${p.name}, ${x.name}`);
      b.emit(`not.pred ${u.name}, ${p.name}`);
      b.emit(`and.pred ${u.name}, ${u.name}, ${y.name}`);
      b.emit(`or.pred ${r.name}, ${t.name}, ${u.name}`);
      return r;
    }
    const r = b.reg(regClass(d));
    b.emit(`selp.${ptxType(d).bits} ${r.name}, ${x.name}, ${y.name}, ${p.name}`);
    return r;
  }

  protected unary(fn: string, d: DType, a: Reg): Reg {
    const b = this.b;
    if (d === 'bool') {
      const r = b.reg('pred');
      b.emit(`not.pred ${r.name}, ${a.name}`);
      return r;
    }
    if (d === 'i32' || d === 'i64') {
      const r = b.reg(regClass(d));
      if (fn !== 'neg' && fn !== 'abs') throw new Unsupported(`${fn} on ${d}`, b.span);
      b.emit(`${fn}.${this.intType(d)} ${r.name}, ${a.name}`);
      return r;
    }
    if (d === 'f16' || d === 'bf16') return this.fromF32(this.unary(fn, 'f32', this.toF32(a, d)), d);
    const f = (text: (r: string) => string): Reg => {
      const r = b.reg('f32');
      b.emit(text(r.name));
      return r;
    };
    const mulc = (x: Reg, c: number): Reg => f((r) => `mul.rn.f32 ${r}, ${x.name}, ${f32Hex(c)}`);
    switch (fn) {
      case 'neg':
        return f((r) => `neg.f32 ${r}, ${a.name}`);
      case 'abs':
        return f((r) => `abs.f32 ${r}, ${a.name}`);
      case 'exp2':
        return f((r) => `ex2.approx.f32 ${r}, ${a.name}`);
      case 'exp': {
        const x = mulc(a, LOG2E);
        return f((r) => `ex2.approx.f32 ${r}, ${x.name}`);
      }
      case 'log2':
        return f((r) => `lg2.approx.f32 ${r}, ${a.name}`);
      case 'log': {
        const x = f((r) => `lg2.approx.f32 ${r}, ${a.name}`);
        return mulc(x, LN2);
      }
      case 'sqrt':
        return f((r) => `sqrt.rn.f32 ${r}, ${a.name}`);
      case 'rsqrt':
        return f((r) => `rsqrt.approx.f32 ${r}, ${a.name}`);
      case 'tanh':
        return f((r) => `tanh.approx.f32 ${r}, ${a.name}`);
      case 'sigmoid':
      case 'silu': {
        // 1 / (1 + 2^(-x·log2 e))
        const x = mulc(a, -LOG2E);
        const e = f((r) => `ex2.approx.f32 ${r}, ${x.name}`);
        const d1 = f((r) => `add.rn.f32 ${r}, ${e.name}, 0f3F800000`);
        const s = f((r) => `rcp.rn.f32 ${r}, ${d1.name}`);
        return fn === 'sigmoid' ? s : f((r) => `mul.rn.f32 ${r}, ${a.name}, ${s.name}`);
      }
      case 'gelu': {
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        const x2 = f((r) => `mul.rn.f32 ${r}, ${a.name}, ${a.name}`);
        const x3 = f((r) => `mul.rn.f32 ${r}, ${x2.name}, ${a.name}`);
        const inner = f((r) => `fma.rn.f32 ${r}, ${x3.name}, ${f32Hex(0.044715)}, ${a.name}`);
        const sc = mulc(inner, Math.sqrt(2 / Math.PI));
        const t = f((r) => `tanh.approx.f32 ${r}, ${sc.name}`);
        const one = f((r) => `add.rn.f32 ${r}, ${t.name}, 0f3F800000`);
        const hx = mulc(a, 0.5);
        return f((r) => `mul.rn.f32 ${r}, ${hx.name}, ${one.name}`);
      }
      default:
        throw new Unsupported(`${fn}`, b.span);
    }
  }

  protected cast(a: Reg, from: DType, to: DType): Reg {
    const b = this.b;
    if (from === to) return a;
    const r = b.reg(regClass(to));
    if (to === 'bool') {
      if (from === 'f32') b.emit(`setp.neu.f32 ${r.name}, ${a.name}, 0f00000000`);
      else if (from === 'f16' || from === 'bf16') return this.cast(this.toF32(a, from), 'f32', 'bool');
      else b.emit(`setp.ne.${this.intType(from)} ${r.name}, ${a.name}, 0`);
      return r;
    }
    if (from === 'bool') {
      const one = to === 'f32' ? '0f3F800000' : '1';
      const zero = to === 'f32' ? '0f00000000' : '0';
      if (to === 'f16' || to === 'bf16') return this.fromF32(this.cast(a, 'bool', 'f32'), to);
      b.emit(`selp.${ptxType(to).bits} ${r.name}, ${one}, ${zero}, ${a.name}`);
      return r;
    }
    const isF = (d: DType): boolean => d === 'f32' || d === 'f16' || d === 'bf16';
    if (isF(from) && isF(to)) {
      if (to === 'f32') return this.toF32(a, from);
      return this.fromF32(this.toF32(a, from), to);
    }
    if (isF(from)) {
      // Float → int: truncate toward zero, saturate, NaN → 0 (as the interpreter).
      b.emit(`cvt.rzi.${this.intType(to)}.f32 ${r.name}, ${this.toF32(a, from).name}`);
      return r;
    }
    if (isF(to)) {
      const f = b.reg('f32');
      if (to === 'f32') {
        b.emit(`cvt.rn.f32.${this.intType(from)} ${f.name}, ${a.name}`);
        return f;
      }
      // One rounding to the 16-bit type: truncate to f32 and make the result odd when inexact
      // (round to odd keeps the sticky bit), then round to nearest even.
      const it = this.intType(from);
      b.emit(`cvt.rz.f32.${it} ${f.name}, ${a.name}`);
      const back = b.reg(regClass(from));
      b.emit(`cvt.rzi.${it}.f32 ${back.name}, ${f.name}`);
      const inexact = b.reg('pred');
      b.emit(`setp.ne.${it} ${inexact.name}, ${back.name}, ${a.name}`);
      const bits = b.reg('b32');
      b.emit(`mov.b32 ${bits.name}, ${f.name}`);
      const odd = b.reg('b32');
      b.emit(`or.b32 ${odd.name}, ${bits.name}, 1`);
      b.emit(`selp.b32 ${bits.name}, ${odd.name}, ${bits.name}, ${inexact.name}`);
      const g = b.reg('f32');
      b.emit(`mov.b32 ${g.name}, ${bits.name}`);
      return this.fromF32(g, to);
    }
    b.emit(`cvt.${this.intType(to)}.${this.intType(from)} ${r.name}, ${a.name}`);
    return r;
  }

  // ---- anchored ops ----

  protected tensorBinding(name: string): TensorBinding {
    return this.tensorBindings.get(name)!;
  }

  protected scalarParam(name: string): Reg {
    return this.scalarParams.get(name)!;
  }

  protected programIndex(which: 'program_id' | 'num_programs', axis: number): Reg {
    const r = this.b.reg('b32');
    this.b.emit(`mov.u32 ${r.name}, %${which === 'program_id' ? 'ctaid' : 'nctaid'}.${'xyz'[axis]}`);
    return r;
  }

  /** Per-element address and in-bounds predicate for register `i` of a tile in layout `l`. */
  private access(t: TensorBinding, indices: readonly AccessIndex[], l: Layout, i: number, uniform: UniformAccess): { addr: Reg; pred: Reg | undefined } {
    const coords = l.shape.map((_, axis) => this.coord(l, axis, i));
    return { addr: this.elementAddress(t, indices, uniform, coords), pred: this.inBounds(t, indices, uniform, coords) };
  }

  /** The parts of an access that every element shares: offsets, scalar-index bounds and address part. */
  private uniformAccess(t: TensorBinding, indices: readonly AccessIndex[]): UniformAccess {
    const b = this.b;
    const offsets = indices.map((ix) => this.scalar(ix.offset));
    let pred: Reg | undefined;
    let partial: Reg | undefined;
    indices.forEach((ix, a) => {
      if (ix.size !== null) return;
      const p = b.reg('pred');
      b.emit(`setp.lt.u32 ${p.name}, ${offsets[a]!.name}, ${t.dims[a]!.name}`);
      if (pred) {
        const q = b.reg('pred');
        b.emit(`and.pred ${q.name}, ${pred.name}, ${p.name}`);
        pred = q;
      } else pred = p;
      const w = b.reg('b64');
      b.emit(`cvt.s64.s32 ${w.name}, ${offsets[a]!.name}`);
      if (a < indices.length - 1) b.emit(`mul.lo.s64 ${w.name}, ${w.name}, ${t.strides[a]!.name}`);
      if (partial) {
        const s = b.reg('b64');
        b.emit(`add.s64 ${s.name}, ${partial.name}, ${w.name}`);
        partial = s;
      } else partial = w;
    });
    return pred ? (partial ? { offsets, pred, partial } : { offsets, pred }) : partial ? { offsets, partial } : { offsets };
  }

  private memType(d: DType): string {
    const t = PTX_TYPES[d];
    if (!t || t.mem === 'pred') throw new Unsupported(`${d} tensors`, this.b.span);
    return t.mem;
  }

  /**
   * Vector accesses for a register tile: for each run of BLOCKED_VEC registers holding consecutive
   * elements of the tensor's contiguous last axis, a predicate that is true when the whole run is
   * inside the tensor and its address is aligned for one vector access (checked at run time, so
   * ragged edges and unaligned strides fall back to element accesses).
   */
  private vectorPlan(t: TensorBinding, indices: readonly AccessIndex[], l: Layout, uni: UniformAccess, masked: boolean): Map<number, { addr: Reg; ok: Reg }> {
    const plan = new Map<number, { addr: Reg; ok: Reg }>();
    const eb = byteSize(t.dtype);
    const last = indices.length - 1;
    if (masked || eb > 4 || l.shape.length === 0 || indices[last]!.size === null) return plan;
    const runs = vectorRuns(l, BLOCKED_VEC);
    if (!runs) return plan;
    const b = this.b;
    for (const i of runs) {
      const first = l.shape.map((_, axis) => this.coord(l, axis, i));
      const lastCoords = l.shape.map((_, axis) => this.coord(l, axis, i + BLOCKED_VEC - 1));
      const addr = this.elementAddress(t, indices, uni, first);
      const inFirst = this.inBounds(t, indices, uni, first);
      const inLast = this.inBounds(t, indices, uni, lastCoords);
      const lo = b.reg('b32');
      b.emit(`cvt.u32.u64 ${lo.name}, ${addr.name}`);
      b.emit(`and.b32 ${lo.name}, ${lo.name}, ${BLOCKED_VEC * eb - 1}`);
      let ok = b.reg('pred');
      b.emit(`setp.eq.u32 ${ok.name}, ${lo.name}, 0`);
      for (const p of [inFirst, inLast]) if (p) ok = this.and(ok, p);
      plan.set(i, { addr, ok });
    }
    return plan;
  }

  private not(p: Reg): Reg {
    const r = this.b.reg('pred');
    this.b.emit(`not.pred ${r.name}, ${p.name}`);
    return r;
  }

  protected load(op: Extract<Op, { op: 'load' }>): void {
    const t = this.bound.get(op.tensor.id) as TensorBinding;
    if (this.place.of.get(op.result.id) === 'smem') return this.loadToSmem(op, t);
    const l = this.layoutOf(op.result);
    const b = this.b;
    const uni = this.uniformAccess(t, op.indices);
    const other = this.get(op.other, l);
    const mask = op.mask ? this.get(op.mask, l) : undefined;
    const ty = this.memType(t.dtype);
    const regs = Array.from({ length: l.nregs }, (_, i) => {
      const r = b.reg(regClass(t.dtype));
      b.emit(`mov.${ptxType(t.dtype).bits} ${r.name}, ${other[i]!.name}`);
      return r;
    });
    const plan = this.vectorPlan(t, op.indices, l, uni, !!mask);
    let vec: { ok: Reg } | undefined;
    for (let i = 0; i < l.nregs; i++) {
      const run = plan.get(i);
      if (run) {
        b.emit(`@${run.ok.name} ld.global.v${BLOCKED_VEC}.${ty} {${regs.slice(i, i + BLOCKED_VEC).map((r) => r.name).join(', ')}}, [${run.addr.name}]`);
        vec = { ok: this.not(run.ok) };
      } else if (i % BLOCKED_VEC === 0) vec = undefined;
      const { addr, pred } = this.access(t, op.indices, l, i, uni);
      let p = pred;
      for (const extra of [mask?.[i], vec?.ok]) if (extra) p = p ? this.and(p, extra) : extra;
      b.emit(`${p ? `@${p.name} ` : ''}ld.global.${ty} ${regs[i]!.name}, [${addr.name}]`);
    }
    this.bound.set(op.result.id, { kind: 'regs', layout: l, regs });
  }

  protected store(op: Extract<Op, { op: 'store' }>): void {
    const t = this.bound.get(op.tensor.id) as TensorBinding;
    const l = this.layoutOf(op.value);
    const b = this.b;
    const uni = this.uniformAccess(t, op.indices);
    const vals = this.get(op.value, l);
    const mask = op.mask ? this.get(op.mask, l) : undefined;
    const ty = this.memType(t.dtype);
    // Threads that hold copies of the same elements: only one of them stores.
    const owner = this.owner(replicationMask(l, this.threads));
    const plan = this.vectorPlan(t, op.indices, l, uni, !!mask);
    let scalarOnly: Reg | undefined;
    for (let i = 0; i < l.nregs; i++) {
      const run = plan.get(i);
      if (run) {
        const ok = owner ? this.and(run.ok, owner) : run.ok;
        b.emit(`@${ok.name} st.global.v${BLOCKED_VEC}.${ty} [${run.addr.name}], {${vals.slice(i, i + BLOCKED_VEC).map((r) => r.name).join(', ')}}`);
        scalarOnly = this.not(run.ok);
      } else if (i % BLOCKED_VEC === 0) scalarOnly = undefined;
      const { addr, pred } = this.access(t, op.indices, l, i, uni);
      let p = pred;
      for (const extra of [mask?.[i], owner, scalarOnly]) if (extra) p = p ? this.and(p, extra) : extra;
      b.emit(`${p ? `@${p.name} ` : ''}st.global.${ty} [${addr.name}], ${vals[i]!.name}`);
    }
  }

  /** True in one thread of each group holding copies of the same elements (`repl`: the copying tid bits). */
  private owner(repl: number): Reg | undefined {
    if (repl === 0) return undefined;
    const m = this.b.reg('b32');
    this.b.emit(`and.b32 ${m.name}, ${this.tid.name}, ${repl}`);
    const p = this.b.reg('pred');
    this.b.emit(`setp.eq.u32 ${p.name}, ${m.name}, 0`);
    return p;
  }

  // ---- shared memory ----

  private barrier(): void {
    this.b.emit('bar.sync 0');
  }

  /** Byte address (b32, shared space) of element (row, col) of a swizzled tile; row/col registers or numbers. */
  private smemAddr(tile: SmemTile, row: Reg | number, col: Reg | number): Reg {
    const b = this.b;
    const eb = byteSize(tile.dtype);
    const r = b.reg('b32');
    // byte column, its 16-byte chunk and the offset within it
    const bc = b.reg('b32');
    b.emit(`mul.lo.u32 ${bc.name}, ${this.operand(col)}, ${eb}`);
    if (tile.swizzle) {
      const nc = tile.rowBytes / 16;
      const group = Math.max(1, 8 / nc);
      const chunks = Math.min(nc, 8);
      const f = b.reg('b32');
      b.emit(`shr.u32 ${f.name}, ${this.operand(row)}, ${Math.log2(group)}`);
      b.emit(`and.b32 ${f.name}, ${f.name}, ${chunks - 1}`);
      b.emit(`shl.b32 ${f.name}, ${f.name}, 4`);
      b.emit(`xor.b32 ${bc.name}, ${bc.name}, ${f.name}`);
    }
    b.emit(`mad.lo.u32 ${r.name}, ${this.operand(row)}, ${tile.rowBytes}, ${bc.name}`);
    b.emit(`add.u32 ${r.name}, ${r.name}, ${this.smemBase.name}`);
    if (tile.offset) b.emit(`add.u32 ${r.name}, ${r.name}, ${tile.offset}`);
    if (tile.dyn) b.emit(`add.u32 ${r.name}, ${r.name}, ${tile.dyn.name}`);
    return r;
  }

  private newSmemTile(rows: number, cols: number, dtype: DType, slots = 1): SmemTile {
    const eb = byteSize(dtype);
    const rowBytes = cols * eb;
    const swizzle = rowBytes >= 32 && rowBytes % 16 === 0 && isPow2(rowBytes / 16);
    return { kind: 'smem', offset: this.allocShared(rows * rowBytes * slots), rows, cols, dtype, rowBytes, swizzle, transposed: false };
  }

  private checkSmemLoad(op: Extract<Op, { op: 'load' }>): [number, number] {
    const [rows, cols] = op.result.type.shape as [number, number];
    if (op.mask) throw new Unsupported('masked loads feeding dot', op.span);
    if (!isPow2(rows) || !isPow2(cols)) throw new Unsupported(`dot operand tile [${rows}, ${cols}]: sizes must be powers of two`, op.span);
    return [rows, cols];
  }

  /** A load that only feeds dot, outside a pipelined loop: copy, wait, barrier. */
  private loadToSmem(op: Extract<Op, { op: 'load' }>, t: TensorBinding): void {
    const [rows, cols] = this.checkSmemLoad(op);
    const tile = this.newSmemTile(rows, cols, t.dtype);
    // The previous iteration's ldmatrix may still read this buffer.
    if (this.loopDepth > 0) this.barrier();
    this.emitCopy(op, t, tile);
    this.b.emit('cp.async.wait_all');
    this.barrier();
    this.bound.set(op.result.id, tile);
  }

  /**
   * Global → shared copy of a load's tile, without waiting. Where the tile's rows are 16-byte
   * aligned in memory (checked at run time: base address and row strides), 16-byte `cp.async`
   * copies with zero fill past the edge; otherwise element by element through registers (masked).
   */
  private emitCopy(op: Extract<Op, { op: 'load' }>, t: TensorBinding, tile: SmemTile): void {
    const b = this.b;
    const [rows, cols] = op.result.type.shape as [number, number];
    const eb = byteSize(t.dtype);
    const per = 16 / eb;
    const uni = this.uniformAccess(t, op.indices);
    const slice = op.indices.flatMap((ix, a) => (ix.size === null ? [] : [a]));
    const [ra, ca] = slice as [number, number];
    const lastIsContiguous = ca === op.indices.length - 1;
    const vectorOk = lastIsContiguous && cols % per === 0;
    const scalarPath = b.label('copy_elems');
    const done = b.label('copy_done');
    // Materialized before the branch: a value first computed on one path is not set on the other.
    const other = this.scalar(op.other);
    if (vectorOk) this.inScope(() => {
      // Aligned when the tile's first element and every row start are 16-byte aligned.
      const first = this.elementAddress(t, op.indices, uni, [0, 0]);
      const lo = b.reg('b32');
      b.emit(`cvt.u32.u64 ${lo.name}, ${first.name}`);
      const bits = b.reg('b32');
      b.emit(`and.b32 ${bits.name}, ${lo.name}, 15`);
      for (let a = 0; a < op.indices.length - 1; a++) {
        if (op.indices[a]!.size === null) continue;
        const sl = b.reg('b32');
        b.emit(`cvt.u32.u64 ${sl.name}, ${t.strides[a]!.name}`);
        b.emit(`and.b32 ${sl.name}, ${sl.name}, ${per - 1}`);
        b.emit(`or.b32 ${bits.name}, ${bits.name}, ${sl.name}`);
      }
      const unaligned = b.reg('pred');
      b.emit(`setp.ne.u32 ${unaligned.name}, ${bits.name}, 0`);
      b.emit(`@${unaligned.name} bra.uni ${scalarPath}`);
      const chunksPerRow = cols / per;
      const total = rows * chunksPerRow;
      for (let k = 0; k < Math.ceil(total / this.threads); k++) {
        const e = b.reg('b32');
        b.emit(`add.u32 ${e.name}, ${this.tid.name}, ${k * this.threads}`);
        const r = b.reg('b32');
        const c = b.reg('b32');
        b.emit(`shr.u32 ${r.name}, ${e.name}, ${Math.log2(chunksPerRow)}`);
        b.emit(`and.b32 ${c.name}, ${e.name}, ${chunksPerRow - 1}`);
        b.emit(`shl.b32 ${c.name}, ${c.name}, ${Math.log2(per)}`);
        // Elements of this chunk inside the tensor: 0 to `per`, by row and column bounds.
        const row = b.reg('b32');
        b.emit(`add.s32 ${row.name}, ${uni.offsets[ra]!.name}, ${r.name}`);
        const col = b.reg('b32');
        b.emit(`add.s32 ${col.name}, ${uni.offsets[ca]!.name}, ${c.name}`);
        const left = b.reg('b32');
        b.emit(`sub.s32 ${left.name}, ${t.dims[ca]!.name}, ${col.name}`);
        b.emit(`max.s32 ${left.name}, ${left.name}, 0`);
        b.emit(`min.s32 ${left.name}, ${left.name}, ${per}`);
        const rowIn = b.reg('pred');
        b.emit(`setp.lt.u32 ${rowIn.name}, ${row.name}, ${t.dims[ra]!.name}`);
        const colIn = b.reg('pred');
        b.emit(`setp.ge.s32 ${colIn.name}, ${col.name}, 0`);
        b.emit(`and.pred ${rowIn.name}, ${rowIn.name}, ${colIn.name}`);
        if (uni.pred) b.emit(`and.pred ${rowIn.name}, ${rowIn.name}, ${uni.pred.name}`);
        const bytes = b.reg('b32');
        b.emit(`selp.b32 ${bytes.name}, ${left.name}, 0, ${rowIn.name}`);
        b.emit(`shl.b32 ${bytes.name}, ${bytes.name}, ${Math.log2(eb)}`);
        // With nothing to read, point at the tensor's base: cp.async reads no byte of it.
        const src = this.elementAddress(t, op.indices, uni, [r, c]);
        const safe = b.reg('b64');
        b.emit(`selp.b64 ${safe.name}, ${src.name}, ${t.ptr.name}, ${rowIn.name}`);
        const guard = (k + 1) * this.threads > total ? b.reg('pred') : undefined;
        if (guard) b.emit(`setp.lt.u32 ${guard.name}, ${e.name}, ${total}`);
        const dst = this.smemAddr(tile, r, c);
        b.emit(`${guard ? `@${guard.name} ` : ''}cp.async.cg.shared.global [${dst.name}], [${safe.name}], 16, ${bytes.name}`);
      }
      b.emit(`bra.uni ${done}`);
    });
    b.placeLabel(scalarPath);
    this.inScope(() => {
    const ty = this.memType(t.dtype);
    const total = rows * cols;
    for (let k = 0; k < Math.ceil(total / this.threads); k++) {
      const e = b.reg('b32');
      b.emit(`add.u32 ${e.name}, ${this.tid.name}, ${k * this.threads}`);
      const guard = (k + 1) * this.threads > total ? b.reg('pred') : undefined;
      if (guard) b.emit(`setp.lt.u32 ${guard.name}, ${e.name}, ${total}`);
      const r = b.reg('b32');
      const c = b.reg('b32');
      b.emit(`shr.u32 ${r.name}, ${e.name}, ${Math.log2(cols)}`);
      b.emit(`and.b32 ${c.name}, ${e.name}, ${cols - 1}`);
      const pred = this.inBounds(t, op.indices, uni, [r, c]);
      const addr = this.elementAddress(t, op.indices, uni, [r, c]);
      const v = b.reg(regClass(t.dtype));
      b.emit(`mov.${ptxType(t.dtype).bits} ${v.name}, ${other.name}`);
      b.emit(`${pred ? `@${pred.name} ` : ''}ld.global.${ty} ${v.name}, [${addr.name}]`);
      const sa = this.smemAddr(tile, r, c);
      b.emit(`${guard ? `@${guard.name} ` : ''}st.shared.${ty} [${sa.name}], ${v.name}`);
    }
    });
    b.placeLabel(done);
  }

  /** Global address of the element at tile coordinates `coords` (one per sliced axis). */
  private elementAddress(t: TensorBinding, indices: readonly AccessIndex[], uni: UniformAccess, coords: readonly (Reg | number)[]): Reg {
    const b = this.b;
    let off64 = uni.partial;
    let axis = 0;
    indices.forEach((ix, a) => {
      if (ix.size === null) return;
      const idx = b.reg('b32');
      b.emit(`add.s32 ${idx.name}, ${uni.offsets[a]!.name}, ${this.operand(coords[axis++]!)}`);
      const w = b.reg('b64');
      b.emit(`cvt.s64.s32 ${w.name}, ${idx.name}`);
      if (a < indices.length - 1) b.emit(`mul.lo.s64 ${w.name}, ${w.name}, ${t.strides[a]!.name}`);
      if (off64) {
        const s = b.reg('b64');
        b.emit(`add.s64 ${s.name}, ${off64.name}, ${w.name}`);
        off64 = s;
      } else off64 = w;
    });
    const addr = b.reg('b64');
    if (!off64) {
      b.emit(`mov.b64 ${addr.name}, ${t.ptr.name}`);
      return addr;
    }
    const sh = b.reg('b64');
    b.emit(`shl.b64 ${sh.name}, ${off64.name}, ${Math.log2(byteSize(t.dtype))}`);
    b.emit(`add.s64 ${addr.name}, ${t.ptr.name}, ${sh.name}`);
    return addr;
  }

  /** Whether the element at `coords` is inside the tensor (and the scalar indices too); undefined: always. */
  private inBounds(t: TensorBinding, indices: readonly AccessIndex[], uni: UniformAccess, coords: readonly (Reg | number)[]): Reg | undefined {
    const b = this.b;
    let pred = uni.pred;
    let axis = 0;
    indices.forEach((ix, a) => {
      if (ix.size === null) return;
      const idx = b.reg('b32');
      b.emit(`add.s32 ${idx.name}, ${uni.offsets[a]!.name}, ${this.operand(coords[axis++]!)}`);
      const p = b.reg('pred');
      b.emit(`setp.lt.u32 ${p.name}, ${idx.name}, ${t.dims[a]!.name}`);
      pred = pred ? this.and(pred, p) : p;
    });
    return pred;
  }

  private and(p: Reg, q: Reg): Reg {
    const r = this.b.reg('pred');
    this.b.emit(`and.pred ${r.name}, ${p.name}, ${q.name}`);
    return r;
  }

  // ---- dot ----

  protected dot(op: Extract<Op, { op: 'dot' }>): void {
    const b = this.b;
    const l = this.layoutOf(op.result);
    const mm = l.mma;
    if (!mm) throw new Unsupported(`dot result [${op.result.type.shape.join(', ')}] does not fit the mma.sync layout for ${this.warps} warps`, op.span);
    const dt = op.a.type.dtype;
    if (dt !== 'f16' && dt !== 'bf16') throw new Unsupported(`dot of ${dt} operands (mma.sync takes f16 or bf16)`, op.span);
    const K = op.a.type.shape[1]!;
    if (K % 16 !== 0) throw new Unsupported(`dot with K = ${K}: mma.sync m16n8k16 needs a multiple of 16`, op.span);
    const acc = this.get(op.acc, l);
    // The result registers start as a copy of the accumulator; each mma updates them in place.
    const d = acc.map((r) => {
      const n = b.reg('f32');
      b.emit(`mov.f32 ${n.name}, ${r.name}`);
      return n;
    });
    const aFrag = this.aFragments(op.a, mm, K);
    const colWarp = this.warpAlong(mm, 'col');
    const bTile = this.bound.get(op.b.id);
    if (!bTile || bTile.kind !== 'smem') throw new Unsupported('dot whose second operand is not a loaded tile', op.span);
    for (let kb = 0; kb < K / 16; kb++) {
      const bFrag: Reg[][] = [];
      for (let ni = 0; ni < mm.nt; ni++) bFrag.push(this.ldmatrixB(bTile, colWarp, mm, ni, kb));
      for (let mi = 0; mi < mm.mt; mi++) {
        const a = aFrag(mi, kb);
        for (let ni = 0; ni < mm.nt; ni++) {
          const base = (mi * mm.nt + ni) * 4;
          const dd = `{${d.slice(base, base + 4).map((r) => r.name).join(', ')}}`;
          b.emit(
            `mma.sync.aligned.m16n8k16.row.col.f32.${dt}.${dt}.f32 ${dd}, {${a.map((r) => r.name).join(', ')}}, {${bFrag[ni]!.map((r) => r.name).join(', ')}}, ${dd}`,
          );
        }
      }
    }
    this.bound.set(op.result.id, { kind: 'regs', layout: l, regs: d });
  }

  /** The warp's index along the mma grid's rows or columns (b32). */
  private warpAlong(mm: NonNullable<Layout['mma']>, which: 'row' | 'col'): Reg | undefined {
    const key = `warp-${which}-${mm.wm}-${mm.wn}`;
    if (this.baseRegs.has(key)) return this.baseRegs.get(key);
    let r: Reg | undefined;
    if (which === 'row' && mm.wm > 1) r = this.pro('b32', (n) => `shr.u32 ${n}, ${this.warp.name}, ${Math.log2(mm.wn)}`);
    if (which === 'col' && mm.wn > 1) r = this.pro('b32', (n) => `and.b32 ${n}, ${this.warp.name}, ${mm.wn - 1}`);
    this.baseRegs.set(key, r);
    return r;
  }

  /** A-operand fragments (4 × b32 per 16×16 block) of the mma rows this warp owns. */
  private aFragments(a: TileValue, mm: NonNullable<Layout['mma']>, K: number): (mi: number, kb: number) => Reg[] {
    const b = this.b;
    const bound = this.bound.get(a.id) ?? this.stagedTile(a.id);
    const rowWarp = this.warpAlong(mm, 'row');
    const rowsPerWarp = mm.M / mm.wm;
    if (bound?.kind === 'smem') {
      if (bound.transposed) throw new Unsupported('dot whose first operand is transposed', this.b.span);
      return (mi, kb) => {
        // Lanes 0-15 give rows 0-15 at k 0-7, lanes 16-31 the same rows at k 8-15.
        const row = b.reg('b32');
        b.emit(`and.b32 ${row.name}, ${this.lane.name}, 15`);
        if (rowWarp) b.emit(`mad.lo.u32 ${row.name}, ${rowWarp.name}, ${rowsPerWarp}, ${row.name}`);
        if (mi) b.emit(`add.u32 ${row.name}, ${row.name}, ${mi * 16}`);
        const col = b.reg('b32');
        b.emit(`shr.u32 ${col.name}, ${this.lane.name}, 4`);
        b.emit(`shl.b32 ${col.name}, ${col.name}, 3`);
        if (kb) b.emit(`add.u32 ${col.name}, ${col.name}, ${kb * 16}`);
        const addr = this.smemAddr(bound, row, col);
        const regs = [0, 1, 2, 3].map(() => b.reg('b32'));
        b.emit(`ldmatrix.sync.aligned.m8n8.x4.shared.b16 {${regs.map((r) => r.name).join(', ')}}, [${addr.name}]`);
        return regs;
      };
    }
    // A tile in registers (e.g. attention's probabilities): its mma layout holds, per 16 rows,
    // exactly the A fragments when one warp owns all K columns — repack f16 pairs; otherwise
    // go through shared memory.
    const l = this.layoutOf(a);
    const src = l.mma;
    if (src && src.wn === 1 && src.wm === mm.wm && src.M === mm.M && src.N === K) {
      const regs = this.get(a, l);
      return (mi, kb) => {
        const at = (ni: number, c: number): Reg => regs[(mi * src.nt + ni) * 4 + c]!;
        const pack = (x: Reg, y: Reg): Reg => {
          const r = b.reg('b32');
          b.emit(`mov.b32 ${r.name}, {${x.name}, ${y.name}}`);
          return r;
        };
        return [pack(at(2 * kb, 0), at(2 * kb, 1)), pack(at(2 * kb, 2), at(2 * kb, 3)), pack(at(2 * kb + 1, 0), at(2 * kb + 1, 1)), pack(at(2 * kb + 1, 2), at(2 * kb + 1, 3))];
      };
    }
    this.stage(a.id, this.toSmem(a, l));
    return this.aFragments(a, mm, K);
  }

  /** Writes a register tile to a new shared-memory tile (one writer per element). */
  private toSmem(v: TileValue, l: Layout): SmemTile {
    const b = this.b;
    const [rows, cols] = v.type.shape as [number, number];
    const tile = this.newSmemTile(rows, cols, v.type.dtype);
    const regs = this.get(v, l);
    if (this.loopDepth > 0) this.barrier();
    const repl = replicationMask(l, this.threads);
    const owner = this.owner(repl);
    const ty = this.memType(v.type.dtype);
    for (let i = 0; i < l.nregs; i++) {
      const addr = this.smemAddr(tile, this.coord(l, 0, i), this.coord(l, 1, i));
      b.emit(`${owner ? `@${owner.name} ` : ''}st.shared.${ty} [${addr.name}], ${regs[i]!.name}`);
    }
    this.barrier();
    return tile;
  }

  /** B-operand fragment (2 × b32) for n-tile `ni`, k-block `kb`. */
  private ldmatrixB(tile: SmemTile, colWarp: Reg | undefined, mm: NonNullable<Layout['mma']>, ni: number, kb: number): Reg[] {
    const b = this.b;
    const colsPerWarp = mm.N / mm.wn;
    const regs = [b.reg('b32'), b.reg('b32')];
    const nBase = b.reg('b32');
    b.emit(`mov.u32 ${nBase.name}, ${ni * 8}`);
    if (colWarp) b.emit(`mad.lo.u32 ${nBase.name}, ${colWarp.name}, ${colsPerWarp}, ${nBase.name}`);
    if (!tile.transposed) {
      // Stored [K, N]: lanes 0-15 give rows k = kb·16 + lane; .trans yields the column fragments.
      const row = b.reg('b32');
      b.emit(`and.b32 ${row.name}, ${this.lane.name}, 15`);
      if (kb) b.emit(`add.u32 ${row.name}, ${row.name}, ${kb * 16}`);
      const addr = this.smemAddr(tile, row, nBase);
      b.emit(`ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {${regs[0]!.name}, ${regs[1]!.name}}, [${addr.name}]`);
    } else {
      // Stored [N, K] (a transposed view): rows are n; lanes 0-7 give k 0-7, lanes 8-15 k 8-15.
      const row = b.reg('b32');
      b.emit(`and.b32 ${row.name}, ${this.lane.name}, 7`);
      b.emit(`add.u32 ${row.name}, ${row.name}, ${nBase.name}`);
      const col = b.reg('b32');
      b.emit(`bfe.u32 ${col.name}, ${this.lane.name}, 3, 1`);
      b.emit(`shl.b32 ${col.name}, ${col.name}, 3`);
      if (kb) b.emit(`add.u32 ${col.name}, ${col.name}, ${kb * 16}`);
      const addr = this.smemAddr(tile, row, col);
      b.emit(`ldmatrix.sync.aligned.m8n8.x2.shared.b16 {${regs[0]!.name}, ${regs[1]!.name}}, [${addr.name}]`);
    }
    return regs;
  }

  // ---- reductions ----

  protected shuffleXor(v: Reg, mask: number, d: DType): Reg {
    const o = this.b.reg(regClass(d));
    this.b.emit(`shfl.sync.bfly.b32 ${o.name}, ${v.name}, ${mask}, 31, -1`);
    return o;
  }

  /** Combines per-warp partial results: each warp writes its partials, then every thread reads all of them. */
  protected crossWarp(op: Extract<Op, { op: 'reduce' }>, srcL: Layout, outL: Layout, vals: Reg[], d: DType): Reg[] {
    const b = this.b;
    const { terms, groups: nGroups, keptExtent, writerMask } = this.crossWarpPlan(op, srcL, outL);
    const kept = (j: number): Reg | number => (outL.shape.length === 0 ? 0 : this.coord(outL, 0, j));
    const buf = this.scratch(nGroups * keptExtent * 4);
    // This warp's index along the reduced axis.
    let g: Reg | undefined;
    let mult = 1;
    for (const t of terms) {
      const x = b.reg('b32');
      b.emit(`bfe.u32 ${x.name}, ${this.warp.name}, ${t.shift}, ${t.bits}`);
      if (g) b.emit(`mad.lo.u32 ${x.name}, ${x.name}, ${mult}, ${g.name}`);
      g = x;
      mult *= 2 ** t.bits;
    }
    const writer = this.owner(writerMask);
    if (this.loopDepth > 0) this.barrier();
    const ty = d === 'f32' ? 'f32' : 's32';
    vals.forEach((v, j) => {
      const c = kept(j);
      const a = b.reg('b32');
      b.emit(`mad.lo.u32 ${a.name}, ${g!.name}, ${keptExtent}, ${this.operand(c)}`);
      b.emit(`shl.b32 ${a.name}, ${a.name}, 2`);
      b.emit(`add.u32 ${a.name}, ${a.name}, ${this.smemBase.name}`);
      b.emit(`${writer ? `@${writer.name} ` : ''}st.shared.${ty} [${a.name}+${buf}], ${v.name}`);
    });
    this.barrier();
    const out = vals.map((_, j) => {
      const c = kept(j);
      let acc: Reg | undefined;
      for (let gi = 0; gi < nGroups; gi++) {
        const a = b.reg('b32');
        b.emit(`add.u32 ${a.name}, ${this.operand(c)}, ${gi * keptExtent}`);
        b.emit(`shl.b32 ${a.name}, ${a.name}, 2`);
        b.emit(`add.u32 ${a.name}, ${a.name}, ${this.smemBase.name}`);
        const x = b.reg(regClass(d));
        b.emit(`ld.shared.${ty} ${x.name}, [${a.name}+${buf}]`);
        acc = acc ? this.combine(op.fn, d, acc, x) : x;
      }
      return acc!;
    });
    this.barrier();
    return out;
  }

  // ---- conversions between layouts ----

  protected convert(x: RegTile, l: Layout, d: DType): Reg[] {
    const b = this.b;
    const shape = l.shape;
    const n = shape.reduce((a, c) => a * c, 1);
    const eb = Math.max(4, byteSize(d));
    const buf = this.scratch(n * eb);
    const ty = ptxType(d).mem;
    if (ty === 'pred') throw new Unsupported('a bool tile that changes layout', b.span);
    const linear = (lay: Layout, i: number): Reg => {
      const r = b.reg('b32');
      b.emit(`mov.u32 ${r.name}, 0`);
      for (let a = 0; a < shape.length; a++) {
        const c = this.coord(lay, a, i);
        const stride = shape.slice(a + 1).reduce((p, q) => p * q, 1);
        b.emit(`mad.lo.u32 ${r.name}, ${this.operand(c)}, ${stride}, ${r.name}`);
      }
      b.emit(`shl.b32 ${r.name}, ${r.name}, ${Math.log2(eb)}`);
      b.emit(`add.u32 ${r.name}, ${r.name}, ${this.smemBase.name}`);
      return r;
    };
    const repl = replicationMask(x.layout, this.threads);
    const owner = this.owner(repl);
    if (this.loopDepth > 0) this.barrier();
    x.regs.forEach((r, i) => b.emit(`${owner ? `@${owner.name} ` : ''}st.shared.${ty} [${linear(x.layout, i).name}+${buf}], ${r.name}`));
    this.barrier();
    const out = Array.from({ length: l.nregs }, (_, i) => {
      const r = b.reg(regClass(d));
      b.emit(`ld.shared.${ty} ${r.name}, [${linear(l, i).name}+${buf}]`);
      return r;
    });
    this.barrier();
    return out;
  }

  // ---- control flow ----

  private mov(d: DType, dst: Reg, src: Reg): void {
    this.b.emit(`mov.${ptxType(d).bits} ${dst.name}, ${src.name}`);
  }

  /** Copies `loads` for loop variable value `iv` into `tiles` (one per load), if `iv < hi`; commits a group either way. */
  private prefetch(op: Extract<Op, { op: 'for' }>, loads: readonly Extract<Op, { op: 'load' }>[], tiles: readonly SmemTile[], iv: Reg, hi: Reg): void {
    const b = this.b;
    const skip = b.label('prefetch_skip');
    const past = b.reg('pred');
    b.emit(`setp.ge.s32 ${past.name}, ${iv.name}, ${hi.name}`);
    b.emit(`@${past.name} bra.uni ${skip}`);
    const saved = this.bound.get(op.iv.id);
    this.inScope(() => {
      this.bound.set(op.iv.id, { kind: 'regs', layout: SCALAR, regs: [iv] });
      loads.forEach((ld, j) => {
        this.b.span = ld.span ?? this.b.span;
        this.emitCopy(ld, this.bound.get(ld.tensor.id) as TensorBinding, tiles[j]!);
      });
    });
    if (saved) this.bound.set(op.iv.id, saved);
    else this.bound.delete(op.iv.id);
    b.placeLabel(skip);
    b.emit('cp.async.commit_group');
  }

  protected forLoop(op: Extract<Op, { op: 'for' }>): void {
    const b = this.b;
    const pipelined = pipelinableLoads(op, this.place);
    const stages = op.stages ?? 1;
    const layouts = op.iterArgs.map((a) => this.layoutOf(a));
    const regs = op.iterArgs.map((a, i) => Array.from({ length: layouts[i]!.nregs }, () => b.reg(regClass(a.type.dtype))));
    op.inits.forEach((v, i) => {
      const src = this.get(v, layouts[i]!);
      regs[i]!.forEach((r, j) => this.mov(v.type.dtype, r, src[j]!));
    });
    const lo = this.scalar(op.lower);
    const hi = this.scalar(op.upper);
    // Pipelining: a ring of `stages` buffers per prefetched load; the copies for iteration
    // i + stages − 1 are issued at the start of iteration i, and iteration i waits until at most
    // stages − 1 groups are in flight.
    // One allocation of `stages` consecutive tiles per load; slot s starts s · stride bytes in.
    const rings = pipelined.map((ld) => {
      const [rows, cols] = this.checkSmemLoad(ld);
      const tile = this.newSmemTile(rows, cols, (this.bound.get(ld.tensor.id) as TensorBinding).dtype, stages);
      return { tile, stride: rows * tile.rowBytes };
    });
    let slotR: Reg | undefined;
    let slotW: Reg | undefined;
    if (pipelined.length > 0) {
      // Inside an outer loop, the ring may still be read by the previous outer iteration.
      if (this.loopDepth > 0) this.barrier();
      for (let s = 0; s < stages - 1; s++) {
        const fiv = b.reg('b32');
        b.emit(`add.s32 ${fiv.name}, ${lo.name}, ${s * op.step}`);
        this.prefetch(op, pipelined, rings.map((r) => ({ ...r.tile, offset: r.tile.offset + s * r.stride })), fiv, hi);
      }
      slotR = b.reg('b32');
      slotW = b.reg('b32');
      b.emit(`mov.u32 ${slotR.name}, 0`);
      b.emit(`mov.u32 ${slotW.name}, ${stages - 1}`);
    }
    const iv = b.reg('b32');
    b.emit(`mov.u32 ${iv.name}, ${lo.name}`);
    const top = b.label('loop');
    const end = b.label('loop_end');
    b.placeLabel(top);
    const done = b.reg('pred');
    b.emit(`setp.ge.s32 ${done.name}, ${iv.name}, ${hi.name}`);
    b.emit(`@${done.name} bra.uni ${end}`);
    this.loopDepth++;
    this.inScope(() => {
      this.bound.set(op.iv.id, { kind: 'regs', layout: SCALAR, regs: [iv] });
      op.iterArgs.forEach((a, i) => this.bound.set(a.id, { kind: 'regs', layout: layouts[i]!, regs: regs[i]! }));
      if (pipelined.length > 0) {
        const inSlot = (ring: { tile: SmemTile; stride: number }, slot: Reg): SmemTile => {
          const r = b.reg('b32');
          b.emit(`mul.lo.u32 ${r.name}, ${slot.name}, ${ring.stride}`);
          return { ...ring.tile, dyn: r };
        };
        // The slot about to be overwritten was read by the previous iteration.
        this.barrier();
        const fiv = b.reg('b32');
        b.emit(`add.s32 ${fiv.name}, ${iv.name}, ${(stages - 1) * op.step}`);
        this.prefetch(op, pipelined, rings.map((ring) => inSlot(ring, slotW!)), fiv, hi);
        b.emit(`cp.async.wait_group ${stages - 1}`);
        this.barrier();
        pipelined.forEach((ld, j) => this.bound.set(ld.result.id, inSlot(rings[j]!, slotR!)));
      }
      for (const o of op.body.ops) if (!pipelined.includes(o as Extract<Op, { op: 'load' }>)) this.op(o);
      const y = op.body.ops[op.body.ops.length - 1];
      if (y?.op !== 'yield') throw new Unsupported('internal: loop body without yield', op.span);
      // Values first, then the moves: a yielded value may be another iteration argument.
      const vals = y.values.map((v, i) => this.get(v, layouts[i]!).map((r) => {
        const t = b.reg(r.cls);
        this.mov(v.type.dtype, t, r);
        return t;
      }));
      vals.forEach((vs, i) => vs.forEach((t, j) => this.mov(op.iterArgs[i]!.type.dtype, regs[i]![j]!, t)));
    });
    this.loopDepth--;
    if (slotR && slotW) {
      for (const slot of [slotR, slotW]) {
        const wrap = b.reg('pred');
        b.emit(`add.u32 ${slot.name}, ${slot.name}, 1`);
        b.emit(`setp.eq.u32 ${wrap.name}, ${slot.name}, ${stages}`);
        b.emit(`selp.b32 ${slot.name}, 0, ${slot.name}, ${wrap.name}`);
      }
    }
    b.emit(`add.s32 ${iv.name}, ${iv.name}, ${op.step}`);
    b.emit(`bra.uni ${top}`);
    b.placeLabel(end);
    if (pipelined.length > 0) b.emit('cp.async.wait_all');
    op.results.forEach((r, i) => this.bound.set(r.id, { kind: 'regs', layout: layouts[i]!, regs: regs[i]! }));
  }

  protected ifOp(op: Extract<Op, { op: 'if' }>): void {
    const b = this.b;
    const layouts = op.results.map((r) => this.layoutOf(r));
    const regs = op.results.map((r, i) => Array.from({ length: layouts[i]!.nregs }, () => b.reg(regClass(r.type.dtype))));
    const cond = this.scalar(op.cond);
    const els = b.label('else');
    const end = b.label('endif');
    b.emit(`@!${cond.name} bra.uni ${els}`);
    const branch = (bl: Block): void =>
      this.inScope(() => {
        this.block(bl);
        const y = bl.ops[bl.ops.length - 1];
        if (y?.op === 'yield') y.values.forEach((v, i) => this.get(v, layouts[i]!).forEach((r, j) => this.mov(v.type.dtype, regs[i]![j]!, r)));
      });
    branch(op.then);
    b.emit(`bra.uni ${end}`);
    b.placeLabel(els);
    branch(op.else);
    b.placeLabel(end);
    op.results.forEach((r, i) => this.bound.set(r.id, { kind: 'regs', layout: layouts[i]!, regs: regs[i]! }));
  }
}
