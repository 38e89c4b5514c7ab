/**
 * What one launch of a kernel does, read off its IR (one configuration) and a problem shape:
 * the grid, and per program the tensor-core FLOPs, the bytes its loads and stores move, the
 * elementwise and transcendental op counts and the loop trip counts; plus the launch's unique
 * DRAM bytes. The cost model (cost-model.ts) turns this into a modeled time.
 *
 * Counting rules (docs/cost-model.md, "Work estimates"):
 * - `dot` of [m, k] × [k, n]: 2·m·k·n FLOPs per execution.
 * - `load` / `store`: tile elements × element bytes per execution, masking ignored (a masked-off
 *   or out-of-bounds element is still counted).
 * - elementwise: one op per result element of `binary`, `cmp`, `select`, `cast` and non-
 *   transcendental `unary`, one per source element of `reduce`; `broadcast`, `expand_dims`,
 *   `transpose`, `arange`, `const` are free (layouts), as is index math the backends add.
 * - loops: bounds are evaluated on scalars (shape sizes, scalar params, program ids, constants).
 *   A body whose own control flow does not depend on the induction variable or carried scalars
 *   is counted once and multiplied by the trip count; otherwise it is run iteration by iteration.
 * - programs: only grid axes whose `program_id` reaches a loop bound or `if` condition can change
 *   a program's work; the sub-grid over those axes is evaluated point by point (past 65536
 *   points, an even sample of 4096), the others held at 0. No such axis: one program, `uniform`.
 */
import type { DType } from '../dsl/dtype.js';
import { byteSize } from '../dsl/dtype.js';
import { convert, roundToDType } from '../dsl/float-rounding.js';
import { applyBinary, applyCmp, applyUnary } from '../dsl/scalar-ops.js';
import type { UnaryFn } from '../dsl/scalar-ops.js';
import { gridOf, InterpretError } from '../compiler/interpreter.js';
import type { KernelArgs, TensorArg } from '../compiler/interpreter.js';
import type { Block, IRKernel, Op } from '../compiler/ir.js';
import { numel, opOperands } from '../compiler/ir.js';
import type { Span } from '../dsl/span.js';

/** Sizes of the kernel's shape symbols (`M`, `N`, …) and values of its scalar params, by name. */
export type ProblemShape = Readonly<Record<string, number>>;

export interface ProgramWork {
  /** Tensor-core FLOPs: Σ 2·m·k·n over `dot` executions. */
  readonly mmaFlops: number;
  /** Bytes read from / written to global memory by `load` / `store` (tile traffic, masking ignored). */
  readonly loadBytes: number;
  readonly storeBytes: number;
  /** Executions of `load` / `store` / `dot` ops. */
  readonly loads: number;
  readonly stores: number;
  readonly dots: number;
  /** Element ops on the FP32/ALU pipes (see the counting rules). */
  readonly elementwiseOps: number;
  /** Element ops of exp, exp2, log, log2, sqrt, rsqrt, tanh, sigmoid, silu, gelu. */
  readonly transcendentalOps: number;
}

export interface LoopTrips {
  /** The induction variable's source name (`k0`), or `loop N` in body order. */
  readonly name: string;
  readonly span?: Span;
  /** Trip counts over the evaluated programs (weighted by how often the loop runs in each). */
  readonly meanTrips: number;
  readonly minTrips: number;
  readonly maxTrips: number;
  /** How many times the loop itself starts per program, on average (1 for a top-level loop). */
  readonly executionsPerProgram: number;
  /** `pipelined(N)`, when given. */
  readonly stages?: number;
}

export interface TensorTraffic {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The whole tensor's size in bytes. */
  readonly bytes: number;
  /** Σ over all programs of the tile bytes loaded from / stored to it. */
  readonly loadTraffic: number;
  readonly storeTraffic: number;
}

export interface WorkEstimate {
  readonly kernel: string;
  readonly config: IRKernel['config'];
  readonly shape: ProblemShape;
  /** The launch grid [x, y, z] (gridOf on the shapes). */
  readonly grid: readonly [number, number, number];
  readonly programs: number;
  /** Mean work of one program. */
  readonly perProgram: ProgramWork;
  /** The evaluated program with the most mmaFlops (ties: the most bytes). */
  readonly maxProgram: ProgramWork;
  /** Σ over all programs (mean × programs when sampled). */
  readonly total: ProgramWork;
  /** Every program does the same work (no control flow depends on program_id). */
  readonly uniform: boolean;
  /**
   * How many programs were evaluated: 1 (uniform), every point of the grid axes whose program_id
   * reaches control flow (the other axes cannot change the work), or an even sample of them.
   */
  readonly programsEvaluated: number;
  readonly loops: readonly LoopTrips[];
  readonly tensors: readonly TensorTraffic[];
  /**
   * The DRAM floor's bytes: each tensor loaded read once and each tensor stored written once
   * (capped per tensor by its tile traffic, for kernels that touch only part of a tensor).
   */
  readonly uniqueBytes: number;
  readonly uniqueReadBytes: number;
  readonly uniqueWriteBytes: number;
  /** The `dot` operand dtype (the first one met); undefined when the kernel has no `dot`. */
  readonly mmaDtype?: DType;
  /** Things the estimate had to guess (data-dependent branches, loops counted without iterating). */
  readonly notes: readonly string[];
}

export class WorkError extends Error {
  override name = 'WorkError';
}

const TRANSCENDENTAL: ReadonlySet<UnaryFn> = new Set(['exp', 'exp2', 'log', 'log2', 'sqrt', 'rsqrt', 'tanh', 'sigmoid', 'silu', 'gelu']);

/** Programs evaluated one by one at most; beyond, an even sample of SAMPLE_PROGRAMS. */
const MAX_PROGRAMS_EVALUATED = 1 << 16;
const SAMPLE_PROGRAMS = 4096;
/** A loop whose body must be iterated is iterated at most this many times per execution. */
const MAX_ITERATIONS = 1 << 16;

interface MutableWork {
  mmaFlops: number;
  loadBytes: number;
  storeBytes: number;
  loads: number;
  stores: number;
  dots: number;
  elementwiseOps: number;
  transcendentalOps: number;
}

function zeroWork(): MutableWork {
  return { mmaFlops: 0, loadBytes: 0, storeBytes: 0, loads: 0, stores: 0, dots: 0, elementwiseOps: 0, transcendentalOps: 0 };
}

const WORK_KEYS = Object.keys(zeroWork()) as (keyof MutableWork)[];

function addScaled(into: MutableWork, w: ProgramWork, k: number): void {
  for (const key of WORK_KEYS) into[key] += w[key] * k;
}

function scaled(w: ProgramWork, k: number): ProgramWork {
  const out = zeroWork();
  addScaled(out, w, k);
  return out;
}

interface LoopAcc {
  readonly op: Extract<Op, { op: 'for' }>;
  readonly index: number;
  weight: number;
  tripsSum: number;
  min: number;
  max: number;
}

/**
 * Does any loop bound or `if` condition inside `block` depend on a tainted value? `tainted` starts
 * with the seeds and grows with everything computed from them; `isSource` marks ops whose result is
 * tainted by themselves (`program_id`).
 */
function controlDependsOn(block: Block, tainted: Set<number>, isSource: (op: Op) => boolean): boolean {
  let depends = false;
  const t = (id: number) => tainted.has(id);
  for (const op of block.ops) {
    switch (op.op) {
      case 'for': {
        if (t(op.lower.id) || t(op.upper.id)) depends = true;
        if (t(op.lower.id)) tainted.add(op.iv.id);
        op.inits.forEach((v, i) => t(v.id) && tainted.add(op.iterArgs[i]!.id));
        // Twice: a value carried around the loop taints its iteration argument for the next pass.
        for (let pass = 0; pass < 2; pass++) {
          if (controlDependsOn(op.body, tainted, isSource)) depends = true;
          const y = op.body.ops[op.body.ops.length - 1];
          if (y?.op === 'yield') y.values.forEach((v, i) => t(v.id) && tainted.add(op.iterArgs[i]!.id));
        }
        op.iterArgs.forEach((a, i) => t(a.id) && tainted.add(op.results[i]!.id));
        break;
      }
      case 'if': {
        const condT = t(op.cond.id);
        if (condT) depends = true;
        for (const b of [op.then, op.else]) {
          if (controlDependsOn(b, tainted, isSource)) depends = true;
          const y = b.ops[b.ops.length - 1];
          if (y?.op === 'yield') y.values.forEach((v, i) => (condT || t(v.id)) && tainted.add(op.results[i]!.id));
        }
        break;
      }
      case 'yield':
      case 'store':
        break;
      default: {
        if (isSource(op) || opOperands(op).some((v) => t(v.id))) tainted.add(op.result.id);
      }
    }
  }
  return depends;
}

/** Scalar values known so far (value id → number); a missing id is unknown (data, or a tile). */
type Env = Map<number, number>;

class ProgramWalker {
  work: MutableWork = zeroWork();
  readonly loops: Map<Op, LoopAcc>;
  readonly traffic: Map<string, { load: number; store: number }>;
  readonly notes: Set<string>;
  mmaDtype: DType | undefined;
  private readonly iterateCache = new Map<Op, boolean>();
  private loopCounter: { n: number };

  constructor(
    private readonly tensorShapes: ReadonlyMap<string, readonly number[]>,
    private readonly scalars: ProblemShape,
    private readonly grid: readonly number[],
    shared: { loops: Map<Op, LoopAcc>; traffic: Map<string, { load: number; store: number }>; notes: Set<string>; loopCounter: { n: number } },
  ) {
    this.loops = shared.loops;
    this.traffic = shared.traffic;
    this.notes = shared.notes;
    this.loopCounter = shared.loopCounter;
  }

  /** Runs one program; returns its work. */
  program(body: Block, pid: readonly number[]): MutableWork {
    this.work = zeroWork();
    this.block(body, new Map(), 1, pid, new Map());
    return this.work;
  }

  /** Walks a block with weight `mult`; returns its yield's values (undefined where unknown). */
  private block(b: Block, env: Env, mult: number, pid: readonly number[], tensors: Map<number, string>): (number | undefined)[] {
    for (const op of b.ops) {
      if (op.op === 'yield') return op.values.map((v) => env.get(v.id));
      this.op(op, env, mult, pid, tensors);
    }
    return [];
  }

  private tensorTraffic(name: string): { load: number; store: number } {
    let t = this.traffic.get(name);
    if (!t) this.traffic.set(name, (t = { load: 0, store: 0 }));
    return t;
  }

  private op(op: Op, env: Env, mult: number, pid: readonly number[], tensors: Map<number, string>): void {
    const w = this.work;
    const setScalar = (id: number, shape: readonly number[], x: number | undefined) => {
      if (shape.length === 0 && x !== undefined) env.set(id, x);
      else env.delete(id);
    };
    switch (op.op) {
      case 'const':
        return setScalar(op.result.id, op.result.type.shape, op.value);
      case 'param': {
        const x = this.scalars[op.name];
        return setScalar(op.result.id, [], x === undefined ? undefined : roundToDType(op.result.type.dtype, x));
      }
      case 'tensor':
        tensors.set(op.result.id, op.name);
        return;
      case 'dim': {
        const name = tensors.get(op.tensor.id);
        const shape = name === undefined ? undefined : this.tensorShapes.get(name);
        return setScalar(op.result.id, [], shape?.[op.axis]);
      }
      case 'program_id':
        return setScalar(op.result.id, [], pid[op.axis] ?? 0);
      case 'num_programs':
        return setScalar(op.result.id, [], this.grid[op.axis] ?? 1);
      case 'arange':
      case 'broadcast':
      case 'expand_dims':
      case 'transpose':
        env.delete(op.result.id);
        return;
      case 'binary':
      case 'cmp':
      case 'select':
      case 'cast':
      case 'unary': {
        const shape = op.result.type.shape;
        const n = numel(shape);
        if (op.op === 'unary' && TRANSCENDENTAL.has(op.fn)) w.transcendentalOps += n * mult;
        else w.elementwiseOps += n * mult;
        if (shape.length !== 0) return void env.delete(op.result.id);
        const d = op.result.type.dtype;
        let x: number | undefined;
        if (op.op === 'binary') {
          const a = env.get(op.lhs.id);
          const c = env.get(op.rhs.id);
          x = a === undefined || c === undefined ? undefined : applyBinary(op.fn, a, c, d);
        } else if (op.op === 'cmp') {
          const a = env.get(op.lhs.id);
          const c = env.get(op.rhs.id);
          x = a === undefined || c === undefined ? undefined : applyCmp(op.pred, a, c) ? 1 : 0;
        } else if (op.op === 'select') {
          const c = env.get(op.cond.id);
          x = c === undefined ? undefined : env.get(c ? op.a.id : op.b.id);
        } else if (op.op === 'cast') {
          const a = env.get(op.src.id);
          x = a === undefined ? undefined : convert(a, d, op.src.type.dtype);
        } else {
          const a = env.get(op.src.id);
          x = a === undefined ? undefined : applyUnary(op.fn, a, d);
        }
        return setScalar(op.result.id, shape, x);
      }
      case 'reduce':
        w.elementwiseOps += numel(op.src.type.shape) * mult;
        env.delete(op.result.id);
        return;
      case 'dot': {
        const [m, k] = op.a.type.shape as [number, number];
        const n = op.b.type.shape[1]!;
        w.mmaFlops += 2 * m * k * n * mult;
        w.dots += mult;
        this.mmaDtype ??= op.a.type.dtype;
        env.delete(op.result.id);
        return;
      }
      case 'load': {
        const bytes = numel(op.result.type.shape) * byteSize(op.result.type.dtype) * mult;
        w.loadBytes += bytes;
        w.loads += mult;
        const name = tensors.get(op.tensor.id);
        if (name !== undefined) this.tensorTraffic(name).load += bytes;
        env.delete(op.result.id);
        return;
      }
      case 'store': {
        const bytes = numel(op.value.type.shape) * byteSize(op.tensor.type.dtype) * mult;
        w.storeBytes += bytes;
        w.stores += mult;
        const name = tensors.get(op.tensor.id);
        if (name !== undefined) this.tensorTraffic(name).store += bytes;
        return;
      }
      case 'for':
        return this.forOp(op, env, mult, pid, tensors);
      case 'if': {
        const c = env.get(op.cond.id);
        if (c !== undefined) {
          const out = this.block(c ? op.then : op.else, env, mult, pid, tensors);
          op.results.forEach((r, i) => setScalar(r.id, r.type.shape, out[i]));
          return;
        }
        this.notes.add('an `if` condition depends on data: both branches are counted at half weight');
        this.block(op.then, env, mult / 2, pid, tensors);
        this.block(op.else, env, mult / 2, pid, tensors);
        op.results.forEach((r) => env.delete(r.id));
        return;
      }
      case 'yield':
        return;
    }
  }

  /** Whether a loop's body must be run iteration by iteration (see the module comment). */
  private mustIterate(op: Extract<Op, { op: 'for' }>): boolean {
    let v = this.iterateCache.get(op);
    if (v === undefined) {
      const seeds = new Set<number>([op.iv.id, ...op.iterArgs.map((a) => a.id)]);
      v = op.iterArgs.some((a) => a.type.shape.length === 0) || controlDependsOn(op.body, seeds, () => false);
      this.iterateCache.set(op, v);
    }
    return v;
  }

  private forOp(op: Extract<Op, { op: 'for' }>, env: Env, mult: number, pid: readonly number[], tensors: Map<number, string>): void {
    const lo = env.get(op.lower.id);
    const hi = env.get(op.upper.id);
    if (lo === undefined || hi === undefined) {
      throw new WorkError(
        `loop ${op.iv.hint ?? `%${op.iv.id}`}: its ${lo === undefined ? 'lower' : 'upper'} bound depends on tensor data or a missing scalar; give every scalar param in the shape`,
      );
    }
    if (!(op.step > 0)) throw new WorkError(`loop ${op.iv.hint ?? `%${op.iv.id}`}: step ${op.step} is not positive`);
    const trips = hi > lo ? Math.ceil((hi - lo) / op.step) : 0;
    let acc = this.loops.get(op);
    if (!acc) {
      acc = { op, index: this.loopCounter.n++, weight: 0, tripsSum: 0, min: Infinity, max: -Infinity };
      this.loops.set(op, acc);
    }
    acc.weight += mult;
    acc.tripsSum += trips * mult;
    acc.min = Math.min(acc.min, trips);
    acc.max = Math.max(acc.max, trips);

    const carried = op.inits.map((v) => env.get(v.id));
    if (trips === 0) {
      op.results.forEach((r, i) => (carried[i] === undefined ? env.delete(r.id) : env.set(r.id, carried[i]!)));
      return;
    }
    if (this.mustIterate(op) && trips <= MAX_ITERATIONS) {
      let cur = carried;
      for (let i = 0; i < trips; i++) {
        env.set(op.iv.id, lo + i * op.step);
        op.iterArgs.forEach((a, k) => (cur[k] === undefined ? env.delete(a.id) : env.set(a.id, cur[k]!)));
        cur = this.block(op.body, env, mult, pid, tensors);
      }
      op.results.forEach((r, i) => (cur[i] === undefined ? env.delete(r.id) : env.set(r.id, cur[i]!)));
      return;
    }
    if (this.mustIterate(op)) this.notes.add(`loop ${op.iv.hint ?? `%${op.iv.id}`} runs ${trips} times: its body was counted once and multiplied`);
    env.delete(op.iv.id);
    op.iterArgs.forEach((a) => env.delete(a.id));
    this.block(op.body, env, mult * trips, pid, tensors);
    op.results.forEach((r) => env.delete(r.id));
  }
}

/** The tensor shapes and scalar values the kernel's params take for `shape`. */
function resolveParams(ir: IRKernel, shape: ProblemShape): { tensors: Map<string, { dtype: DType; shape: number[] }>; args: KernelArgs } {
  const missing = new Set<string>();
  const tensors = new Map<string, { dtype: DType; shape: number[] }>();
  const args: KernelArgs = new Map();
  for (const p of ir.params) {
    if (p.kind === 'tensor') {
      const dims = p.dims.map((d) => {
        if (typeof d === 'number') return d;
        const v = shape[d];
        if (v === undefined) missing.add(d);
        else if (!Number.isInteger(v) || v < 0) throw new WorkError(`shape symbol ${d} = ${v} is not a non-negative integer`);
        return v ?? 0;
      });
      tensors.set(p.name, { dtype: p.dtype, shape: dims });
      const arg: TensorArg = { dtype: p.dtype, shape: dims, data: new Float64Array(0) };
      args.set(p.name, arg);
    } else {
      const v = shape[p.name];
      if (v !== undefined) args.set(p.name, v);
    }
  }
  if (missing.size > 0) throw new WorkError(`kernel ${ir.name}: the shape gives no size for ${[...missing].join(', ')}`);
  return { tensors, args };
}

/**
 * The work of one launch of `ir` on a problem of `shape` (shape symbols and scalar params by
 * name). Throws WorkError when a size is missing or a loop bound depends on tensor data.
 */
export function estimateWork(ir: IRKernel, shape: ProblemShape): WorkEstimate {
  const { tensors, args } = resolveParams(ir, shape);
  let gridSizes: number[];
  try {
    // gridOf reads only tensor shapes (`dim`) and scalar params: the data can be empty.
    gridSizes = gridOf(ir, args);
  } catch (e) {
    if (e instanceof InterpretError) throw new WorkError(`kernel ${ir.name}: cannot evaluate the grid: ${e.message}`);
    throw e;
  }
  const grid: [number, number, number] = [gridSizes[0] ?? 1, gridSizes[1] ?? 1, gridSizes[2] ?? 1];
  const programs = grid[0] * grid[1] * grid[2];

  const shared = { loops: new Map<Op, LoopAcc>(), traffic: new Map<string, { load: number; store: number }>(), notes: new Set<string>(), loopCounter: { n: 0 } };
  const shapes = new Map([...tensors].map(([n, t]) => [n, t.shape] as const));
  const walker = new ProgramWalker(shapes, shape, grid, shared);

  // Only the grid axes whose program_id reaches a loop bound or `if` condition can change a
  // program's work: evaluate the sub-grid over those axes (the others held at 0).
  const dependentAxes = [0, 1, 2].filter((a) => controlDependsOn(ir.body, new Set(), (op) => op.op === 'program_id' && op.axis === a));
  const uniform = dependentAxes.length === 0;
  const sub = grid.map((g, a) => (dependentAxes.includes(a) ? g : 1)) as [number, number, number];
  const subPrograms = sub[0] * sub[1] * sub[2];
  const sum = zeroWork();
  let max: ProgramWork = zeroWork();
  let evaluated = 0;
  const visit = (linear: number) => {
    const pid = [linear % sub[0], Math.floor(linear / sub[0]) % sub[1], Math.floor(linear / (sub[0] * sub[1]))];
    const w = walker.program(ir.body, pid);
    addScaled(sum, w, 1);
    if (evaluated === 0 || w.mmaFlops > max.mmaFlops || (w.mmaFlops === max.mmaFlops && w.loadBytes + w.storeBytes > max.loadBytes + max.storeBytes)) max = { ...w };
    evaluated++;
  };
  if (programs > 0) {
    if (subPrograms <= MAX_PROGRAMS_EVALUATED) for (let i = 0; i < subPrograms; i++) visit(i);
    else {
      for (let s = 0; s < SAMPLE_PROGRAMS; s++) visit(Math.floor((s * subPrograms) / SAMPLE_PROGRAMS));
      shared.notes.add(`${subPrograms} distinct programs: work averaged over an even sample of ${SAMPLE_PROGRAMS}`);
    }
  }
  const perProgram = evaluated > 0 ? scaled(sum, 1 / evaluated) : zeroWork();
  const total = scaled(perProgram, programs);
  // Traffic was accumulated over the evaluated programs: scale it to the whole grid.
  const trafficScale = evaluated > 0 ? programs / evaluated : 0;

  const tensorList: TensorTraffic[] = [];
  let uniqueReadBytes = 0;
  let uniqueWriteBytes = 0;
  for (const [name, t] of tensors) {
    const bytes = numel(t.shape) * byteSize(t.dtype);
    const tr = shared.traffic.get(name) ?? { load: 0, store: 0 };
    const loadTraffic = tr.load * trafficScale;
    const storeTraffic = tr.store * trafficScale;
    tensorList.push({ name, dtype: t.dtype, shape: t.shape, bytes, loadTraffic, storeTraffic });
    uniqueReadBytes += Math.min(bytes, loadTraffic);
    uniqueWriteBytes += Math.min(bytes, storeTraffic);
  }

  const loops: LoopTrips[] = [...shared.loops.values()]
    .sort((a, b) => a.index - b.index)
    .map((acc) => ({
      name: acc.op.iv.hint ?? `loop ${acc.index}`,
      ...(acc.op.span ? { span: acc.op.span } : {}),
      meanTrips: acc.weight > 0 ? acc.tripsSum / acc.weight : 0,
      minTrips: acc.min,
      maxTrips: acc.max,
      executionsPerProgram: evaluated > 0 ? acc.weight / evaluated : 0,
      ...(acc.op.stages !== undefined ? { stages: acc.op.stages } : {}),
    }));

  return {
    kernel: ir.name,
    config: ir.config,
    shape,
    grid,
    programs,
    perProgram,
    maxProgram: max,
    total,
    uniform,
    programsEvaluated: evaluated,
    loops,
    tensors: tensorList,
    uniqueBytes: uniqueReadBytes + uniqueWriteBytes,
    uniqueReadBytes,
    uniqueWriteBytes,
    ...(walker.mmaDtype !== undefined ? { mmaDtype: walker.mmaDtype } : {}),
    notes: [...shared.notes],
  };
}

/** Mean trips of the loop that runs the most iterations per program (≥ 1): where a spill would sit. */
export function hottestLoopTrips(work: WorkEstimate): number {
  let best = 1;
  for (const l of work.loops) best = Math.max(best, l.meanTrips * l.executionsPerProgram);
  return best;
}
