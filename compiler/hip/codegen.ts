/**
 * Tile IR → HIP C++ for CDNA (gfx942, gfx90a): wave64, `dot` on MFMA, LDS staging.
 *
 * The structure follows the NVIDIA backend (compiler/ptx/codegen.ts): anchored ops in program
 * order, each value in the placement compiler/placement.ts chose (with AMD's MFMA accumulator
 * layout for `dot`); cheap ops emitted where they are used, in the layout the user needs, cached
 * per scope. Every register of a tile is one C++ local (`const float r12 = …;`), so clang sees
 * plain SSA values and allocates VGPRs/AGPRs itself.
 *
 * Values: f32, f16 and bf16 tiles are held as `float` (f16/bf16 ones exactly representable in
 * their type: every op computes in f32 and rounds once, as the NVIDIA backend does); i32 `int`,
 * i64 `long long`, bool `bool`. Integer arithmetic wraps (through unsigned), as in the interpreter.
 */
import type { Diagnostic } from '../../dsl/diagnostic.js';
import { error } from '../../dsl/diagnostic.js';
import { byteSize, type DType } from '../../dsl/dtype.js';
import type { Span } from '../../dsl/span.js';
import type { AccessIndex, Block, IRKernel, Op, TileValue } from '../ir.js';
import { type AbiParam, abiParams } from '../kernel-abi.js';
import { CodegenBase, type RegTile as BaseRegTile, Unsupported } from '../codegen-base.js';
import { BLOCKED_VEC, type Layout, type MmaGrid, SCALAR, isPow2, replicationMask, vectorRuns } from '../layout.js';
import { pipelinableLoads, placeValues } from '../placement.js';
import { HipBuilder } from './hip-builder.js';
import { WAVE_SIZE } from './kernel-abi.js';
import { AMD_LANE_BITS, type MfmaSize, mfmaAccRegs, mfmaK, mfmaLayout } from './mfma-layout.js';

/** A 2-D tile in LDS: rows of `pitch` bytes (padded against bank conflicts). */
interface LdsTile {
  readonly kind: 'smem';
  readonly offset: number;
  readonly rows: number;
  readonly cols: number;
  readonly dtype: DType;
  readonly pitch: number;
  /** A `transpose` view: element (r, c) of the value is (c, r) of the stored tile. */
  readonly transposed: boolean;
  /** A run-time byte offset on top of `offset`: the slot of a pipelined ring. */
  readonly dyn?: string;
}

/** One thread's 4-element chunk of a tile on its way to LDS: a local array and where it goes. */
interface Chunk {
  readonly data: string;
  readonly row: string;
  readonly col: string;
  /** When the chunk exists (past the tile's last chunk, or a prefetch past the loop's end: not). */
  readonly guard?: string;
}

interface TensorBinding {
  readonly kind: 'tensor';
  readonly ptr: string;
  readonly dims: readonly string[];
  /** Strides in elements (as `long long` expressions) of every axis but the last (which is 1). */
  readonly strides: readonly string[];
  readonly dtype: DType;
}

/** A register tile: one C++ expression (usually a local's name) per register of the layout. */
type RegTile = BaseRegTile<string>;

/** What every element of an access shares: the index offsets, the scalar indices' bounds and element offset. */
interface UniformAccess {
  readonly offsets: readonly string[];
  readonly pred?: string;
  readonly partial?: string;
}

/** Bytes of padding at the end of each LDS row of a dot operand: rows start on different banks. */
export const LDS_ROW_PAD = 8;

/** The C++ type a dtype's registers have. */
function regType(d: DType): string {
  switch (d) {
    case 'f32':
    case 'f16':
    case 'bf16':
      return 'float';
    case 'i32':
      return 'int';
    case 'i64':
      return 'long long';
    case 'bool':
      return 'bool';
    default:
      throw new Unsupported(`${d} tiles are not supported by the AMD backend yet`, undefined);
  }
}

/** The C++ type of a tensor's elements in memory. */
export function memType(d: DType): string {
  switch (d) {
    case 'f32':
      return 'float';
    case 'f16':
      return '_Float16';
    case 'bf16':
      return 'tk_bf16';
    case 'i32':
      return 'tk_i32';
    case 'i64':
      return 'tk_i64';
    case 'bool':
    case 'f8e4m3':
    case 'f8e5m2':
      return 'tk_u8';
  }
}

/** A memory element (an lvalue/rvalue of memType) as a register value. */
function fromMem(d: DType, x: string): string {
  switch (d) {
    case 'f16':
      return `(float)${x}`;
    case 'bf16':
      return `tk_bf16_to_f32(${x})`;
    case 'bool':
      return `(${x} != 0)`;
    case 'f32':
    case 'i32':
    case 'i64':
      return x;
    default:
      throw new Unsupported(`${d} tensors`, undefined);
  }
}

/** A register value as a memory element. */
function toMem(d: DType, x: string): string {
  switch (d) {
    case 'f16':
      return `(_Float16)${x}`;
    case 'bf16':
      return `tk_f32_to_bf16(${x})`;
    case 'bool':
      return `(tk_u8)${x}`;
    case 'f32':
    case 'i32':
    case 'i64':
      return x;
    default:
      throw new Unsupported(`${d} tensors`, undefined);
  }
}

/** An f32 value as an exact C++ literal. */
export function f32Literal(x: number): string {
  const f = Math.fround(x);
  if (Number.isNaN(f)) return '__builtin_nanf("")';
  if (f === Infinity) return '__builtin_inff()';
  if (f === -Infinity) return '(-__builtin_inff())';
  if (Object.is(f, -0)) return '(-0.0f)';
  // 9 significant digits identify every f32.
  const t = f.toPrecision(9);
  return `${t.includes('e') || t.includes('.') ? t : `${t}.0`}f`.replace(/^(-?\d+)e/, '$1.0e');
}

export interface HipCodegenResult {
  readonly builder: HipBuilder;
  readonly params: readonly AbiParam[];
  /** The kernel's C++ parameter declarations, in ABI order. */
  readonly paramDecls: readonly string[];
  readonly ldsBytes: number;
  readonly threads: number;
}

/** `fallback`: where a diagnostic points when the failing op has no span of its own. */
export function generateHip(k: IRKernel, mfma: MfmaSize, fallback: Span): { result?: HipCodegenResult; diagnostics: Diagnostic[] } {
  const waves = Number(k.config.WARPS ?? 4);
  try {
    return { result: new HipCodegen(k, waves, mfma).run(), diagnostics: [] };
  } catch (e) {
    if (e instanceof Unsupported) return { diagnostics: [error('TK4003', e.span ?? fallback, `the AMD backend cannot compile this yet: ${e.message}`)] };
    throw e;
  }
}

class HipCodegen extends CodegenBase<string, LdsTile, TensorBinding> {
  protected readonly b = new HipBuilder();
  private readonly baseExprs = new Map<string, string | undefined>();
  private readonly tensorBindings = new Map<string, TensorBinding>();
  private readonly scalarParams = new Map<string, string>();

  constructor(
    private readonly k: IRKernel,
    private readonly waves: number,
    private readonly mfma: MfmaSize,
  ) {
    super(placeValues(k, { threads: waves * WAVE_SIZE, laneBits: AMD_LANE_BITS, dotLayout: (M, N) => mfmaLayout(M, N, waves, mfma) }), waves * WAVE_SIZE, AMD_LANE_BITS, 16);
  }

  run(): HipCodegenResult {
    const b = this.b;
    const { params, dimNames, badScalar } = abiParams(this.k);
    if (badScalar) throw new Unsupported(`scalar parameter '${badScalar.name}' of dtype ${badScalar.dtype}: scalar parameters are f32, i32 or i64`, this.k.span);
    // C++ names get a `p_` prefix, so no user name can collide with a keyword or a prelude name.
    const decls = params.map((p) => {
      switch (p.kind) {
        case 'tensor':
          return `${memType(p.dtype)}* __restrict__ p_${p.name}`;
        case 'dim':
          return `tk_u32 p_${p.name}`;
        case 'stride':
          return `tk_u64 p_${p.name}`;
        case 'scalar':
          this.scalarParams.set(p.name, `p_${p.name}`);
          return `${memType(p.dtype)} p_${p.name}`;
      }
    });
    const tensors = this.k.params.filter((p) => p.kind === 'tensor');

    b.emitPrologue('const int tk_tid = tk_thread_id();');
    b.emitPrologue(`const int tk_lane = tk_tid & ${WAVE_SIZE - 1};`);
    b.emitPrologue(`const int tk_wave = tk_tid >> ${AMD_LANE_BITS};`);
    const dimExpr = new Map<string, string>();
    for (const d of dimNames) {
      b.emitPrologue(`const int d_${d} = (int)p_${d};`);
      dimExpr.set(d, `d_${d}`);
    }
    for (const t of tensors) {
      const dims = t.dims.map((d) => (typeof d === 'string' ? dimExpr.get(d)! : String(d)));
      const strides = t.dims.slice(0, -1).map((_, a) => `(long long)p_${t.name}_stride${a}`);
      this.tensorBindings.set(t.name, { kind: 'tensor', ptr: `p_${t.name}`, dims, strides, dtype: t.dtype });
    }

    this.block(this.k.body);
    return { builder: b, params, paramDecls: decls, ldsBytes: this.sharedBytes(), threads: this.threads };
  }

  // ---- values in registers ----

  /** The thread's base coordinate along an axis of a layout (a prologue local), or undefined for 0. */
  private base(l: Layout, axis: number): string | undefined {
    const terms = l.base[axis] ?? [];
    if (terms.length === 0) return undefined;
    const key = JSON.stringify(terms);
    if (this.baseExprs.has(key)) return this.baseExprs.get(key);
    const parts = terms.map((t) => {
      const src = t.from === 'lane' ? 'tk_lane' : 'tk_wave';
      const field = `((${src} >> ${t.shift}) & ${(1 << t.bits) - 1})`;
      return t.scale === 1 ? field : `${field} * ${t.scale}`;
    });
    const name = this.b.fresh('tk_base');
    this.b.emitPrologue(`const int ${name} = ${parts.join(' + ')};`);
    this.baseExprs.set(key, name);
    return name;
  }

  /** Coordinate of register `i` of a layout along an axis: a C++ int expression. */
  private coord(l: Layout, axis: number, i: number): string {
    const base = this.base(l, axis);
    const off = l.offsets[axis]![i]!;
    if (!base) return String(off);
    return off === 0 ? base : `(${base} + ${off})`;
  }

  // ---- cheap ops (compiler/codegen-base.ts materializes them on demand) ----

  protected coordinate(l: Layout, axis: number, i: number): string {
    return this.coord(l, axis, i);
  }

  protected binary(fn: string, d: DType, a: string, c: string): string {
    return this.value(d, this.binaryExpr(fn, d, a, c));
  }

  protected compare(pred: string, d: DType, a: string, c: string): string {
    return this.value('bool', this.compareExpr(pred, d, a, c));
  }

  protected unary(fn: string, d: DType, a: string): string {
    return this.value(d, this.unaryExpr(fn, d, a));
  }

  protected select(d: DType, p: string, x: string, y: string): string {
    return this.value(d, `(${p} ? ${x} : ${y})`);
  }

  protected cast(a: string, from: DType, to: DType): string {
    return from === to ? a : this.value(to, this.castExpr(a, from, to));
  }

  /** Binds an expression of dtype `d` to a new local. */
  private value(d: DType, expr: string): string {
    return this.b.let(regType(d), expr);
  }

  protected constant(d: DType, value: number): string {
    switch (d) {
      case 'f32':
      case 'f16':
      case 'bf16':
        return f32Literal(value);
      case 'i32':
        return `(${value | 0})`;
      case 'i64':
        return `(${Math.trunc(value)}ll)`;
      case 'bool':
        return value ? 'true' : 'false';
      default:
        throw new Unsupported(`${d} constants`, this.b.span);
    }
  }

  /** Rounds an f32 expression to the dtype's values (f16/bf16), or leaves it. */
  private round(d: DType, expr: string): string {
    if (d === 'f16') return `tk_round_f16(${expr})`;
    if (d === 'bf16') return `tk_round_bf16(${expr})`;
    return expr;
  }

  private binaryExpr(fn: string, d: DType, a: string, c: string): string {
    if (d === 'bool') {
      if (fn === 'and') return `(${a} && ${c})`;
      if (fn === 'or') return `(${a} || ${c})`;
      throw new Unsupported(`${fn} on bool`, this.b.span);
    }
    if (d === 'f32' || d === 'f16' || d === 'bf16') {
      const ops: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/' };
      if (ops[fn]) return this.round(d, `(${a} ${ops[fn]} ${c})`);
      if (fn === 'max' || fn === 'min') return this.round(d, `tk_${fn}f(${a}, ${c})`);
      throw new Unsupported(`${fn} on ${d}`, this.b.span);
    }
    const [s, u] = d === 'i64' ? ['tk_i64', 'tk_u64'] : ['tk_i32', 'tk_u32'];
    const bits = d === 'i64' ? 'i64' : 'i32';
    switch (fn) {
      case 'add':
        return `(${s})((${u})${a} + (${u})${c})`;
      case 'sub':
        return `(${s})((${u})${a} - (${u})${c})`;
      case 'mul':
        return `(${s})((${u})${a} * (${u})${c})`;
      case 'div':
      case 'rem':
        return `tk_${fn}_${bits}(${a}, ${c})`;
      case 'max':
        return `(${a} > ${c} ? ${a} : ${c})`;
      case 'min':
        return `(${a} < ${c} ? ${a} : ${c})`;
      default:
        throw new Unsupported(`${fn} on ${d}`, this.b.span);
    }
  }

  private compareExpr(pred: string, d: DType, a: string, c: string): string {
    const ops: Record<string, string> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
    if (d === 'bool' && pred !== 'eq' && pred !== 'ne') throw new Unsupported('ordering comparison of bools', this.b.span);
    return `(${a} ${ops[pred]} ${c})`;
  }

  private unaryExpr(fn: string, d: DType, a: string): string {
    if (d === 'bool') return `(!${a})`;
    if (d === 'i32' || d === 'i64') {
      const [s, u] = d === 'i64' ? ['tk_i64', 'tk_u64'] : ['tk_i32', 'tk_u32'];
      if (fn === 'neg') return `(${s})(0 - (${u})${a})`;
      if (fn === 'abs') return `(${a} < 0 ? (${s})(0 - (${u})${a}) : ${a})`;
      throw new Unsupported(`${fn} on ${d}`, this.b.span);
    }
    const f = ((): string => {
      switch (fn) {
        case 'neg':
          return `(-${a})`;
        case 'abs':
          return `__builtin_fabsf(${a})`;
        case 'exp':
          return `tk_expf(${a})`;
        case 'exp2':
          return `tk_exp2f(${a})`;
        case 'log':
          return `tk_logf(${a})`;
        case 'log2':
          return `tk_log2f(${a})`;
        case 'sqrt':
          return `tk_sqrtf(${a})`;
        case 'rsqrt':
          return `tk_rcpf(tk_sqrtf(${a}))`;
        case 'tanh':
          return `tk_tanhf(${a})`;
        case 'sigmoid':
          return `tk_sigmoidf(${a})`;
        case 'silu':
          return `(${a} * tk_sigmoidf(${a}))`;
        case 'gelu':
          // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
          return `(0.5f * ${a} * (1.0f + tk_tanhf(${f32Literal(Math.sqrt(2 / Math.PI))} * (${a} + ${f32Literal(0.044715)} * ${a} * ${a} * ${a}))))`;
        default:
          throw new Unsupported(fn, this.b.span);
      }
    })();
    return this.round(d, f);
  }

  private castExpr(a: string, from: DType, to: DType): string {
    if (from === to) return a;
    const isF = (d: DType): boolean => d === 'f32' || d === 'f16' || d === 'bf16';
    if (to === 'bool') return isF(from) ? `(${a} != 0.0f)` : `(${a} != 0)`;
    if (from === 'bool') return isF(to) ? `(${a} ? 1.0f : 0.0f)` : `(${a} ? 1 : 0)`;
    if (isF(from) && isF(to)) return this.round(to, a);
    if (isF(from)) return to === 'i64' ? `tk_f2i64(${a})` : `tk_f2i32(${a})`;
    if (isF(to)) return to === 'f32' ? `(float)${a}` : this.round(to, `tk_i64_to_f32_odd((tk_i64)${a})`);
    // Integer to integer keeps the low bits.
    return to === 'i64' ? `(tk_i64)${a}` : `(tk_i32)(tk_u32)${a}`;
  }

  // ---- anchored ops ----

  protected tensorBinding(name: string): TensorBinding {
    return this.tensorBindings.get(name)!;
  }

  protected scalarParam(name: string): string {
    return this.scalarParams.get(name)!;
  }

  protected programIndex(which: 'program_id' | 'num_programs', axis: number): string {
    return this.b.let('int', `${which === 'program_id' ? 'tk_block_id' : 'tk_grid_dim'}(${axis})`);
  }

  protected override noLayout(shape: readonly number[]): string {
    return shape.every(isPow2) ? this.mfmaMisfit(shape) : super.noLayout(shape);
  }

  // ---- global memory ----

  /** The parts of an access that every element shares: offsets, scalar-index bounds and element offset. */
  private uniformAccess(t: TensorBinding, indices: readonly AccessIndex[]): UniformAccess {
    const offsets = indices.map((ix) => this.scalar(ix.offset));
    const preds: string[] = [];
    const parts: string[] = [];
    indices.forEach((ix, a) => {
      if (ix.size !== null) return;
      preds.push(`(unsigned)${offsets[a]} < (unsigned)${t.dims[a]}`);
      parts.push(a < indices.length - 1 ? `(long long)${offsets[a]} * ${t.strides[a]}` : `(long long)${offsets[a]}`);
    });
    const pred = preds.length ? this.b.let('bool', preds.join(' && '), 'ok') : undefined;
    const partial = parts.length ? this.b.let('long long', parts.join(' + '), 'off') : undefined;
    return { offsets, ...(pred ? { pred } : {}), ...(partial ? { partial } : {}) };
  }

  /** Element offset (long long expression) of the element at tile coordinates `coords`. */
  private elementOffset(t: TensorBinding, indices: readonly AccessIndex[], uni: UniformAccess, coords: readonly string[]): string {
    const parts: string[] = uni.partial ? [uni.partial] : [];
    let axis = 0;
    indices.forEach((ix, a) => {
      if (ix.size === null) return;
      const idx = `(long long)(${uni.offsets[a]} + ${coords[axis++]})`;
      parts.push(a < indices.length - 1 ? `${idx} * ${t.strides[a]}` : idx);
    });
    return parts.length ? parts.join(' + ') : '0';
  }

  /** In-bounds condition of the element at `coords` (and the scalar indices), or undefined: always. */
  private inBounds(t: TensorBinding, indices: readonly AccessIndex[], uni: UniformAccess, coords: readonly string[]): string | undefined {
    const conds: string[] = uni.pred ? [uni.pred] : [];
    let axis = 0;
    indices.forEach((ix, a) => {
      if (ix.size === null) return;
      conds.push(`(unsigned)(${uni.offsets[a]} + ${coords[axis++]}) < (unsigned)${t.dims[a]}`);
    });
    return conds.length ? conds.join(' && ') : undefined;
  }

  private coords(l: Layout, i: number): string[] {
    return l.shape.map((_, axis) => this.coord(l, axis, i));
  }

  /**
   * Vector runs of a register tile: BLOCKED_VEC registers holding consecutive elements of the
   * tensor's contiguous last axis. Each gets a condition that the whole run is inside the tensor
   * and aligned for one vector access (checked at run time: ragged edges and odd strides fall back
   * to element accesses). Float dtypes only.
   */
  private vectorPlan(t: TensorBinding, indices: readonly AccessIndex[], l: Layout, uni: UniformAccess, masked: boolean): Map<number, { off: string; ok: string }> {
    const plan = new Map<number, { off: string; ok: string }>();
    const last = indices.length - 1;
    if (masked || !['f32', 'f16', 'bf16'].includes(t.dtype) || l.shape.length === 0 || indices[last]!.size === null) return plan;
    const runs = vectorRuns(l, BLOCKED_VEC);
    if (!runs) return plan;
    const bytes = BLOCKED_VEC * byteSize(t.dtype);
    for (const i of runs) {
      const off = this.b.let('long long', this.elementOffset(t, indices, uni, this.coords(l, i)), 'off');
      const conds = [`((unsigned long long)(${t.ptr} + ${off}) & ${bytes - 1}) == 0`];
      for (const c of [this.inBounds(t, indices, uni, this.coords(l, i)), this.inBounds(t, indices, uni, this.coords(l, i + BLOCKED_VEC - 1))]) if (c) conds.push(c);
      plan.set(i, { off, ok: this.b.let('bool', conds.join(' && '), 'vok') });
    }
    return plan;
  }

  /** The C++ vector type of BLOCKED_VEC elements of a float dtype in memory. */
  private vecType(d: DType): string {
    return d === 'f32' ? 'tk_float4' : d === 'f16' ? 'tk_half4' : 'tk_short4';
  }

  private vecElem(d: DType, v: string, e: number): string {
    return d === 'bf16' ? `tk_bf16_to_f32((tk_bf16)${v}[${e}])` : d === 'f16' ? `(float)${v}[${e}]` : `${v}[${e}]`;
  }

  protected load(op: Extract<Op, { op: 'load' }>): void {
    const t = this.bound.get(op.tensor.id) as TensorBinding;
    if (this.place.of.get(op.result.id) === 'smem') return this.loadToLds(op, t);
    const b = this.b;
    const l = this.layoutOf(op.result);
    const d = t.dtype;
    const uni = this.uniformAccess(t, op.indices);
    const other = this.get(op.other, l);
    const mask = op.mask ? this.get(op.mask, l) : undefined;
    const regs = other.map((o) => {
      const r = b.fresh();
      b.emit(`${regType(d)} ${r} = ${o};`);
      return r;
    });
    const plan = this.vectorPlan(t, op.indices, l, uni, !!mask);
    const elem = (i: number): void => {
      const cond = [this.inBounds(t, op.indices, uni, this.coords(l, i)), mask?.[i]].filter((c) => c !== undefined).join(' && ');
      const read = `${regs[i]} = ${fromMem(d, `${t.ptr}[${this.elementOffset(t, op.indices, uni, this.coords(l, i))}]`)};`;
      b.emit(cond ? `if (${cond}) ${read}` : read);
    };
    for (let i = 0; i < l.nregs; i++) {
      const run = plan.get(i);
      if (!run) {
        elem(i);
        continue;
      }
      b.open(`if (${run.ok})`);
      const v = b.fresh('v');
      b.emit(`${this.vecType(d)} ${v};`);
      b.emit(`__builtin_memcpy(&${v}, __builtin_assume_aligned(${t.ptr} + ${run.off}, ${BLOCKED_VEC * byteSize(d)}), sizeof(${v}));`);
      for (let e = 0; e < BLOCKED_VEC; e++) b.emit(`${regs[i + e]} = ${this.vecElem(d, v, e)};`);
      b.mid('} else {');
      for (let e = 0; e < BLOCKED_VEC; e++) elem(i + e);
      b.close();
      i += BLOCKED_VEC - 1;
    }
    this.bound.set(op.result.id, { kind: 'regs', layout: l, regs });
  }

  protected store(op: Extract<Op, { op: 'store' }>): void {
    const t = this.bound.get(op.tensor.id) as TensorBinding;
    const b = this.b;
    const l = this.layoutOf(op.value);
    const d = t.dtype;
    const uni = this.uniformAccess(t, op.indices);
    const vals = this.get(op.value, l);
    const mask = op.mask ? this.get(op.mask, l) : undefined;
    // Threads that hold copies of the same elements: only one of them stores.
    const owner = this.owner(replicationMask(l, this.threads, AMD_LANE_BITS));
    const plan = this.vectorPlan(t, op.indices, l, uni, !!mask);
    const elem = (i: number): void => {
      const cond = [this.inBounds(t, op.indices, uni, this.coords(l, i)), mask?.[i], owner].filter((c) => c !== undefined).join(' && ');
      const write = `${t.ptr}[${this.elementOffset(t, op.indices, uni, this.coords(l, i))}] = ${toMem(d, vals[i]!)};`;
      b.emit(cond ? `if (${cond}) ${write}` : write);
    };
    for (let i = 0; i < l.nregs; i++) {
      const run = plan.get(i);
      if (!run) {
        elem(i);
        continue;
      }
      b.open(`if (${owner ? `${owner} && ` : ''}${run.ok})`);
      const v = b.fresh('v');
      const parts = vals.slice(i, i + BLOCKED_VEC).map((x) => (d === 'bf16' ? `(short)tk_f32_to_bf16(${x})` : d === 'f16' ? `(_Float16)${x}` : x));
      b.emit(`const ${this.vecType(d)} ${v} = {${parts.join(', ')}};`);
      b.emit(`__builtin_memcpy(__builtin_assume_aligned(${t.ptr} + ${run.off}, ${BLOCKED_VEC * byteSize(d)}), &${v}, sizeof(${v}));`);
      b.mid(`} else if (!${run.ok}) {`);
      for (let e = 0; e < BLOCKED_VEC; e++) elem(i + e);
      b.close();
      i += BLOCKED_VEC - 1;
    }
  }

  /** True in one thread of each group holding copies of the same elements (`repl`: the copying tid bits). */
  private owner(repl: number): string | undefined {
    if (repl === 0) return undefined;
    return this.b.let('bool', `(tk_tid & ${repl}) == 0`, 'own');
  }

  // ---- LDS ----

  private barrier(): void {
    this.b.emit('tk_barrier();');
  }

  /** A new LDS tile (`slots` of them back to back, for a pipelined ring). */
  private newLdsTile(rows: number, cols: number, dtype: DType, slots = 1): LdsTile {
    const pitch = cols * byteSize(dtype) + LDS_ROW_PAD;
    return { kind: 'smem', offset: this.allocShared(rows * pitch * slots), rows, cols, dtype, pitch, transposed: false };
  }

  /** A pointer expression to element (row, col) of an LDS tile, typed as its memory element. */
  private ldsPtr(tile: LdsTile, row: string, col: string): string {
    return `((${memType(tile.dtype)}*)(tk_lds + ${tile.offset}${tile.dyn ? ` + ${tile.dyn}` : ''} + (${row}) * ${tile.pitch}) + (${col}))`;
  }

  /** Checks a load feeding dot and gives its tile's shape. */
  private ldsLoadShape(op: Extract<Op, { op: 'load' }>, t: TensorBinding): [number, number] {
    const [rows, cols] = op.result.type.shape as [number, number];
    if (op.mask) throw new Unsupported('masked loads feeding dot', op.span);
    if (!isPow2(rows) || !isPow2(cols) || cols < BLOCKED_VEC) throw new Unsupported(`dot operand tile [${rows}, ${cols}]: sizes must be powers of two, at least ${BLOCKED_VEC} columns`, op.span);
    if (t.dtype !== 'f16' && t.dtype !== 'bf16') throw new Unsupported(`dot of ${t.dtype} operands (MFMA here takes f16 or bf16)`, op.span);
    return [rows, cols];
  }

  /** A load that only feeds dot, outside a pipelined loop: read, write to LDS, barrier. */
  private loadToLds(op: Extract<Op, { op: 'load' }>, t: TensorBinding): void {
    const [rows, cols] = this.ldsLoadShape(op, t);
    const tile = this.newLdsTile(rows, cols, t.dtype);
    // The previous iteration's MFMA reads may still use this buffer.
    if (this.loopDepth > 0) this.barrier();
    this.writeChunks(tile, this.readChunks(op, t));
    this.barrier();
    this.bound.set(op.result.id, tile);
  }

  /**
   * Each thread's share of a load's tile, read from global memory into locals: 4-element chunks,
   * chunk e = tid + k · threads. A chunk inside the tensor and 8-byte aligned (checked at run time)
   * is one 8-byte load; otherwise element loads with the `other` value past the edges. `when`: a
   * condition for reading at all (a prefetch past the loop's end reads nothing).
   */
  private readChunks(op: Extract<Op, { op: 'load' }>, t: TensorBinding, when?: string): Chunk[] {
    const b = this.b;
    const [rows, cols] = op.result.type.shape as [number, number];
    const uni = this.uniformAccess(t, op.indices);
    const other = toMem(t.dtype, this.scalar(op.other));
    const slice = op.indices.flatMap((ix, a) => (ix.size === null ? [] : [a]));
    const contiguous = slice[1] === op.indices.length - 1;
    const total = (rows * cols) / BLOCKED_VEC;
    const perRow = cols / BLOCKED_VEC;
    const mt = memType(t.dtype);
    const out: Chunk[] = [];
    for (let k = 0; k * this.threads < total; k++) {
      const e = b.let('int', `tk_tid + ${k * this.threads}`, 'e');
      const row = b.let('int', `${e} / ${perRow}`);
      const col = b.let('int', `(${e} % ${perRow}) * ${BLOCKED_VEC}`);
      const guard = [...((k + 1) * this.threads > total ? [`${e} < ${total}`] : []), ...(when ? [when] : [])].join(' && ') || undefined;
      const data = b.fresh('ch');
      b.emit(`${mt} ${data}[${BLOCKED_VEC}];`);
      if (guard) b.open(`if (${guard})`);
      const first = b.let('long long', this.elementOffset(t, op.indices, uni, [row, col]), 'off');
      if (contiguous) {
        const lastIn = this.inBounds(t, op.indices, uni, [row, `${col} + ${BLOCKED_VEC - 1}`]);
        b.open(`if (${[`((unsigned long long)(${t.ptr} + ${first}) & 7) == 0`, ...(lastIn ? [lastIn] : [])].join(' && ')})`);
        b.emit(`__builtin_memcpy(${data}, __builtin_assume_aligned(${t.ptr} + ${first}, 8), 8);`);
        b.mid('} else {');
      }
      for (let j = 0; j < BLOCKED_VEC; j++) {
        const cond = this.inBounds(t, op.indices, uni, [row, `${col} + ${j}`]);
        const off = this.elementOffset(t, op.indices, uni, [row, `${col} + ${j}`]);
        b.emit(`${data}[${j}] = ${cond ? `(${cond}) ? ${t.ptr}[${off}] : (${mt})${other}` : `${t.ptr}[${off}]`};`);
      }
      if (contiguous) b.close();
      if (guard) b.close();
      out.push({ data, row, col, ...(guard ? { guard } : {}) });
    }
    return out;
  }

  /** Writes chunks read by readChunks into an LDS tile (8 bytes each; rows are 8-byte aligned). */
  private writeChunks(tile: LdsTile, chunks: readonly Chunk[]): void {
    for (const c of chunks) {
      const write = `__builtin_memcpy(__builtin_assume_aligned(${this.ldsPtr(tile, c.row, c.col)}, 8), ${c.data}, 8);`;
      this.b.emit(c.guard ? `if (${c.guard}) ${write}` : write);
    }
  }

  /** Writes a register tile to a new LDS tile (one writer per element), then a barrier. */
  private toLds(v: TileValue, l: Layout): LdsTile {
    const [rows, cols] = v.type.shape as [number, number];
    const tile = this.newLdsTile(rows, cols, v.type.dtype);
    const regs = this.get(v, l);
    if (this.loopDepth > 0) this.barrier();
    const owner = this.owner(replicationMask(l, this.threads, AMD_LANE_BITS));
    for (let i = 0; i < l.nregs; i++) {
      const write = `*${this.ldsPtr(tile, this.coord(l, 0, i), this.coord(l, 1, i))} = ${toMem(v.type.dtype, regs[i]!)};`;
      this.b.emit(owner ? `if (${owner}) ${write}` : write);
    }
    this.barrier();
    return tile;
  }

  // ---- dot ----

  protected dot(op: Extract<Op, { op: 'dot' }>): void {
    const b = this.b;
    const l = this.layoutOf(op.result);
    const mm = l.mma;
    if (!mm?.mfma) {
      throw new Unsupported(this.mfmaMisfit(op.result.type.shape), op.span);
    }
    const dt = op.a.type.dtype;
    if (dt !== 'f16' && dt !== 'bf16') throw new Unsupported(`dot of ${dt} operands (MFMA here takes f16 or bf16)`, op.span);
    const K = op.a.type.shape[1]!;
    const S = mm.mfma;
    const KS = mfmaK(S);
    if (K % KS !== 0) throw new Unsupported(`dot with K = ${K}: ${S}×${S}×${KS} MFMA needs a multiple of ${KS}`, op.span);
    const aTile = this.operandTile(op.a);
    const bTile = this.bound.get(op.b.id);
    if (!bTile || bTile.kind !== 'smem') throw new Unsupported('dot whose second operand is not a loaded tile', op.span);
    const acc = this.get(op.acc, l);
    const per = mfmaAccRegs(S);
    const accType = S === 32 ? 'tk_float16' : 'tk_float4';
    const fragType = dt === 'f16' ? 'tk_half4' : 'tk_short4';
    const fn = `tk_mfma_${S}x${S}x${KS}_${dt}`;
    // The wave's fragment origin, and this lane's row/column and k group within a fragment.
    const rowWave = this.waveAlong(mm, 'row');
    const colWave = this.waveAlong(mm, 'col');
    const frags: string[] = [];
    for (let f = 0; f < mm.mt * mm.nt; f++) {
      const c = b.fresh('c');
      b.emit(`${accType} ${c} = {${acc.slice(f * per, (f + 1) * per).join(', ')}};`);
      frags.push(c);
    }
    const laneRc = b.let('int', `tk_lane % ${S}`, 'lrc');
    const laneK = b.let('int', `(tk_lane / ${S}) * 4`, 'lk');
    b.open(`for (int kk = 0; kk < ${K}; kk += ${KS})`);
    const aFrag: string[] = [];
    for (let mi = 0; mi < mm.mt; mi++) {
      const row = `${rowWave ? `${rowWave} * ${mm.M / mm.wm} + ` : ''}${mi * S} + ${laneRc}`;
      aFrag.push(this.fragment(aTile, row, `kk + ${laneK}`, fragType));
    }
    for (let ni = 0; ni < mm.nt; ni++) {
      const col = `${colWave ? `${colWave} * ${mm.N / mm.wn} + ` : ''}${ni * S} + ${laneRc}`;
      // B is read as Bᵀ: element (n, k) of the transposed view is B[k][n].
      const bf = this.fragment({ ...bTile, transposed: !bTile.transposed }, col, `kk + ${laneK}`, fragType);
      for (let mi = 0; mi < mm.mt; mi++) {
        const c = frags[mi * mm.nt + ni]!;
        b.emit(`${c} = ${fn}(${aFrag[mi]}, ${bf}, ${c});`);
      }
    }
    b.close();
    const regs: string[] = [];
    frags.forEach((c) => {
      for (let r = 0; r < per; r++) regs.push(`${c}[${r}]`);
    });
    // Fragment elements are read once into locals, so later ops see plain values.
    this.bound.set(op.result.id, { kind: 'regs', layout: l, regs: regs.map((x) => b.let('float', x)) });
  }

  private mfmaMisfit(shape: readonly number[]): string {
    const other = this.mfma === 32 ? ' (16×16 MFMA, --mfma 16, fits smaller tiles)' : '';
    return `a [${shape.join(', ')}] dot result does not fit ${this.mfma}×${this.mfma} MFMA tiles over ${this.waves} wavefronts${other}`;
  }

  /**
   * Four consecutive k elements (k0 … k0+3) of row `row` of an operand in LDS (as the MFMA
   * A layout wants them): one 8-byte read when the row is stored contiguously, else four reads.
   */
  private fragment(tile: LdsTile, row: string, k0: string, fragType: string): string {
    const b = this.b;
    const v = b.fresh('f');
    if (!tile.transposed) {
      b.emit(`${fragType} ${v};`);
      b.emit(`__builtin_memcpy(&${v}, __builtin_assume_aligned(${this.ldsPtr(tile, row, k0)}, 8), 8);`);
      return v;
    }
    const elem = (j: number): string => {
      const x = `*${this.ldsPtr(tile, `${k0} + ${j}`, row)}`;
      return fragType === 'tk_short4' ? `(short)${x}` : x;
    };
    b.emit(`const ${fragType} ${v} = {${[0, 1, 2, 3].map(elem).join(', ')}};`);
    return v;
  }

  /** A dot's first operand in LDS: a loaded tile, or a register tile staged there. */
  private operandTile(a: TileValue): LdsTile {
    const bound = this.bound.get(a.id) ?? this.stagedTile(a.id);
    if (bound?.kind === 'smem') return bound;
    const tile = this.toLds(a, this.layoutOf(a));
    this.stage(a.id, tile);
    return tile;
  }

  /** The wave's index along the MFMA grid's rows or columns (a prologue local), or undefined when 1 wave spans it. */
  private waveAlong(mm: MmaGrid, which: 'row' | 'col'): string | undefined {
    const key = `wave-${which}-${mm.wm}-${mm.wn}`;
    if (this.baseExprs.has(key)) return this.baseExprs.get(key);
    let r: string | undefined;
    if (which === 'row' && mm.wm > 1) r = `tk_wave >> ${Math.log2(mm.wn)}`;
    if (which === 'col' && mm.wn > 1) r = `tk_wave & ${mm.wn - 1}`;
    let name: string | undefined;
    if (r) {
      name = this.b.fresh('tk_w');
      this.b.emitPrologue(`const int ${name} = ${r};`);
    }
    this.baseExprs.set(key, name);
    return name;
  }

  // ---- reductions ----

  protected shuffleXor(v: string, mask: number, d: DType): string {
    return this.value(d, d === 'f32' ? `tk_shfl_xor(${v}, ${mask})` : `__builtin_bit_cast(int, tk_shfl_xor(__builtin_bit_cast(float, ${v}), ${mask}))`);
  }

  /** Combines per-wave partial results: each wave writes its partials to LDS, then every thread reads all of them. */
  protected crossWarp(op: Extract<Op, { op: 'reduce' }>, srcL: Layout, outL: Layout, vals: string[], d: DType): string[] {
    const b = this.b;
    const { terms, groups: nGroups, keptExtent, writerMask } = this.crossWarpPlan(op, srcL, outL);
    const kept = (j: number): string => (outL.shape.length === 0 ? '0' : this.coord(outL, 0, j));
    const buf = this.scratch(nGroups * keptExtent * 4);
    const ct = d === 'f32' ? 'float' : 'int';
    // This wave's index along the reduced axis.
    let mult = 1;
    const g = b.let(
      'int',
      terms
        .map((t) => {
          const s = `((tk_wave >> ${t.shift}) & ${(1 << t.bits) - 1}) * ${mult}`;
          mult *= 2 ** t.bits;
          return s;
        })
        .join(' + '),
      'grp',
    );
    const writer = this.owner(writerMask);
    if (this.loopDepth > 0) this.barrier();
    vals.forEach((v, j) => {
      const write = `((${ct}*)(tk_lds + ${buf}))[${g} * ${keptExtent} + ${kept(j)}] = ${v};`;
      b.emit(writer ? `if (${writer}) ${write}` : write);
    });
    this.barrier();
    const out = vals.map((_, j) => {
      let acc: string | undefined;
      for (let gi = 0; gi < nGroups; gi++) {
        const x = b.let(ct, `((${ct}*)(tk_lds + ${buf}))[${gi * keptExtent} + ${kept(j)}]`);
        acc = acc !== undefined ? this.combine(op.fn, d, acc, x) : x;
      }
      return acc!;
    });
    this.barrier();
    return out;
  }

  // ---- conversions between layouts ----

  protected convert(x: RegTile, l: Layout, d: DType): string[] {
    const b = this.b;
    const shape = l.shape;
    const n = shape.reduce((a, c) => a * c, 1);
    const ct = regType(d);
    const buf = this.scratch(n * Math.max(4, byteSize(d === 'bool' ? 'i32' : d)));
    const st = d === 'bool' ? 'int' : ct;
    const linear = (lay: Layout, i: number): string =>
      shape.map((_, a) => `${this.coord(lay, a, i)} * ${shape.slice(a + 1).reduce((p, q) => p * q, 1)}`).join(' + ');
    const owner = this.owner(replicationMask(x.layout, this.threads, AMD_LANE_BITS));
    if (this.loopDepth > 0) this.barrier();
    x.regs.forEach((r, i) => {
      const write = `((${st}*)(tk_lds + ${buf}))[${linear(x.layout, i)}] = ${r};`;
      b.emit(owner ? `if (${owner}) ${write}` : write);
    });
    this.barrier();
    const out = Array.from({ length: l.nregs }, (_, i) => b.let(ct, `(${ct})((${st}*)(tk_lds + ${buf}))[${linear(l, i)}]`));
    this.barrier();
    return out;
  }

  // ---- control flow ----

  /** Declares mutable locals for a loop's or an if's results. */
  private declare(d: DType, n: number, init?: readonly string[]): string[] {
    return Array.from({ length: n }, (_, j) => {
      const r = this.b.fresh('m');
      this.b.emit(`${regType(d)} ${r}${init ? ` = ${init[j]}` : ''};`);
      return r;
    });
  }

  /**
   * Reads `loads` for loop variable value `iv` (a C++ expression) into chunks, inside a TS scope
   * where the loop variable means `iv`, so index expressions are recomputed for that iteration.
   */
  private prefetch(op: Extract<Op, { op: 'for' }>, loads: readonly Extract<Op, { op: 'load' }>[], iv: string, when: string): Chunk[][] {
    const saved = this.bound.get(op.iv.id);
    const out = this.inScope(() => {
      this.bound.set(op.iv.id, { kind: 'regs', layout: SCALAR, regs: [iv] });
      return loads.map((ld) => {
        this.b.span = ld.span ?? this.b.span;
        return this.readChunks(ld, this.bound.get(ld.tensor.id) as TensorBinding, when);
      });
    });
    if (saved) this.bound.set(op.iv.id, saved);
    else this.bound.delete(op.iv.id);
    return out;
  }

  /**
   * A loop; with `pipelined(N ≥ 2)`, its dot-only loads go through a ring of N − 1 LDS slots
   * (registers hold the N-th stage, so a stage costs LDS only once it is needed there): slots for
   * the first N − 1 iterations are filled before the loop; iteration i issues the global reads of
   * iteration i + N − 1 into registers, computes on slot i mod (N − 1), waits at a barrier until
   * every wave is done with that slot, writes the registers into it, and waits again. The global
   * latency hides behind the iteration's MFMAs, with the two barriers a non-pipelined loop has too.
   */
  protected forLoop(op: Extract<Op, { op: 'for' }>): void {
    const b = this.b;
    const layouts = op.iterArgs.map((a) => this.layoutOf(a));
    const regs = op.iterArgs.map((a, i) => this.declare(a.type.dtype, layouts[i]!.nregs, this.get(op.inits[i]!, layouts[i]!)));
    const lo = this.scalar(op.lower);
    const hi = this.scalar(op.upper);
    const pipelined = pipelinableLoads(op, this.place);
    const slots = (op.stages ?? 1) - 1;
    const rings = pipelined.map((ld) => {
      const t = this.bound.get(ld.tensor.id) as TensorBinding;
      const [rows, cols] = this.ldsLoadShape(ld, t);
      const tile = this.newLdsTile(rows, cols, t.dtype, slots);
      return { tile, stride: rows * tile.pitch };
    });
    const inSlot = (slot: string | number): LdsTile[] => rings.map((r) => (slots === 1 ? r.tile : { ...r.tile, dyn: `${slot} * ${r.stride}` }));
    let slot: string | undefined;
    if (pipelined.length > 0) {
      // Inside an outer loop, the ring may still be read by the previous outer iteration.
      if (this.loopDepth > 0) this.barrier();
      for (let s = 0; s < slots; s++) {
        const iv = b.let('int', `${lo} + ${s * op.step}`, 'iv');
        const chunks = this.prefetch(op, pipelined, iv, `${iv} < ${hi}`);
        inSlot(s).forEach((tile, j) => this.writeChunks(tile, chunks[j]!));
      }
      this.barrier();
      slot = b.fresh('slot');
      if (slots > 1) b.emit(`int ${slot} = 0;`);
    }
    const iv = b.fresh('iv');
    b.open(`for (int ${iv} = ${lo}; ${iv} < ${hi}; ${iv} += ${op.step})`);
    this.loopDepth++;
    this.inScope(() => {
      let ahead: Chunk[][] = [];
      if (slot !== undefined) {
        const next = b.let('int', `${iv} + ${slots * op.step}`, 'iv');
        ahead = this.prefetch(op, pipelined, next, `${next} < ${hi}`);
        inSlot(slot).forEach((tile, j) => this.bound.set(pipelined[j]!.result.id, tile));
      }
      this.bound.set(op.iv.id, { kind: 'regs', layout: SCALAR, regs: [iv] });
      op.iterArgs.forEach((a, i) => this.bound.set(a.id, { kind: 'regs', layout: layouts[i]!, regs: regs[i]! }));
      for (const o of op.body.ops) if (!pipelined.includes(o as Extract<Op, { op: 'load' }>)) this.op(o);
      const y = op.body.ops[op.body.ops.length - 1];
      if (y?.op !== 'yield') throw new Unsupported('internal: loop body without yield', op.span);
      // Values first, then the assignments: a yielded value may be another iteration argument.
      const vals = y.values.map((v, i) => this.get(v, layouts[i]!).map((r) => b.let(regType(v.type.dtype), r)));
      vals.forEach((vs, i) => vs.forEach((t, j) => b.emit(`${regs[i]![j]} = ${t};`)));
      if (slot !== undefined) {
        b.span = op.span ?? b.span;
        this.barrier();
        inSlot(slot).forEach((tile, j) => this.writeChunks(tile, ahead[j]!));
        this.barrier();
        if (slots > 1) b.emit(`${slot} = ${slot} == ${slots - 1} ? 0 : ${slot} + 1;`);
      }
    });
    this.loopDepth--;
    b.close();
    op.results.forEach((r, i) => this.bound.set(r.id, { kind: 'regs', layout: layouts[i]!, regs: regs[i]! }));
  }

  protected ifOp(op: Extract<Op, { op: 'if' }>): void {
    const b = this.b;
    const layouts = op.results.map((r) => this.layoutOf(r));
    const regs = op.results.map((r, i) => this.declare(r.type.dtype, layouts[i]!.nregs));
    const branch = (bl: Block): void =>
      this.inScope(() => {
        this.block(bl);
        const y = bl.ops[bl.ops.length - 1];
        if (y?.op === 'yield') y.values.forEach((v, i) => this.get(v, layouts[i]!).forEach((r, j) => b.emit(`${regs[i]![j]} = ${r};`)));
      });
    b.open(`if (${this.scalar(op.cond)})`);
    branch(op.then);
    b.mid('} else {');
    branch(op.else);
    b.close();
    op.results.forEach((r, i) => this.bound.set(r.id, { kind: 'regs', layout: layouts[i]!, regs: regs[i]! }));
  }
}
