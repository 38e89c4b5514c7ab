/**
 * Decodes a loaded kernel's instructions into executable closures, once per launch. Operand
 * readers and writers are resolved here (register slots, immediates in the instruction's type,
 * variable addresses), so executing an instruction does no string work.
 */
import { type AluOp, type RegValue, immediateBits, makeAluOp } from './alu.js';
import { type Cta, type Exec, type Resolved, WARP, type Warp } from './cta.js';
import type { FindingSite } from './findings.js';
import { type LoadedInst, type LoadedKernel, type VarPlace, typeWidth } from './loader.js';
import { fromGeneric, spaceOfGeneric, toGeneric } from './memory.js';
import type { Instruction, Operand } from './ptx-ast.js';
import { ldmatrix, mmaFragmentSizes, mmaSync, parseMmaModifiers, stmatrix } from './tensor-core.js';
import { WarpAccesses } from './stats.js';
import { EmulatorInputError } from './types.js';

type Reader = (cta: Cta, w: Warp, lane: number) => RegValue;
type Writer = (cta: Cta, w: Warp, lane: number, v: RegValue) => void;

const TYPES = new Set([
  'b8', 'b16', 'b32', 'b64', 'b128', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64',
  'f16', 'f16x2', 'bf16', 'bf16x2', 'f32', 'f64', 'pred', 'tf32', 'e4m3x2', 'e5m2x2',
]);
const SPACES = new Set(['global', 'shared', 'local', 'param', 'const']);

function isType(m: string): boolean {
  return TYPES.has(m);
}

/** Normalises a value to `width` bits in the register representation. */
function fit(v: RegValue, width: number): RegValue {
  if (width === 1) return typeof v === 'boolean' ? v : v !== 0 && v !== 0n;
  // A number reaching a 64-bit register is a value (an address, a sign-extended load), not a bit pattern to zero-extend from 32 bits.
  if (width === 64) return typeof v === 'bigint' ? v : BigInt.asUintN(64, BigInt(typeof v === 'boolean' ? Number(v) : Math.trunc(v)));
  const n = typeof v === 'bigint' ? Number(BigInt.asUintN(32, v)) : typeof v === 'boolean' ? Number(v) : v;
  return width >= 32 ? n >>> 0 : n & ((1 << width) - 1);
}

function toNumber(v: RegValue): number {
  return typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : v;
}

function signExtend(v: number, bits: number): number {
  const shift = 32 - bits;
  return ((v << shift) >> shift) >>> 0;
}

export interface DecodeEnv {
  /** Global addresses of module `.global` variables. */
  readonly globalAddr: ReadonlyMap<string, number>;
}

export function decodeKernel(k: LoadedKernel, env: DecodeEnv): Exec[] {
  return k.code.map((li, pc) => decodeOne(k, env, li, pc));
}

function decodeOne(k: LoadedKernel, env: DecodeEnv, li: LoadedInst, pc: number): Exec {
  const inst = li.inst;
  const file = inst.loc ? k.files.get(inst.loc.file) : undefined;
  const site: FindingSite = {
    instruction: inst.text,
    ptxLine: inst.pos.line,
    ...(inst.loc && file !== undefined ? { source: { file, line: inst.loc.line, column: inst.loc.column } } : {}),
  };
  const d = new Decoder(k, env, li, pc, site);
  let guard: Exec['guard'];
  if (inst.guard) {
    const slot = li.scope.get(inst.guard.pred);
    if (slot === undefined) throw d.fail(`unknown predicate register ${inst.guard.pred}`);
    guard = { slot, negate: inst.guard.negate };
  }
  const { run, cls } = d.decode();
  return guard ? { run, site, cls, guard } : { run, site, cls };
}

class Decoder {
  private readonly mods: readonly string[];
  private readonly types: readonly string[];
  constructor(
    private readonly k: LoadedKernel,
    private readonly env: DecodeEnv,
    private readonly li: LoadedInst,
    private readonly pc: number,
    private readonly site: FindingSite,
  ) {
    this.mods = li.inst.modifiers;
    this.types = this.mods.filter(isType);
  }

  get inst(): Instruction {
    return this.li.inst;
  }

  fail(msg: string): EmulatorInputError {
    return new EmulatorInputError(`${msg} in \`${this.inst.text}\``, this.inst.pos.line, this.inst.pos.column);
  }

  unsupported(): EmulatorInputError {
    return new EmulatorInputError(`unsupported instruction: ${[this.inst.opcode, ...this.mods].join('.')}`, this.inst.pos.line, this.inst.pos.column);
  }

  private op(i: number): Operand {
    const o = this.inst.operands[i];
    if (!o) throw this.fail(`missing operand ${i + 1}`);
    return o;
  }

  private has(m: string): boolean {
    return this.mods.includes(m);
  }

  private get type(): string {
    return this.types[this.types.length - 1] ?? 'b32';
  }

  // ---- operands ----

  private findVar(name: string): VarPlace | undefined {
    return this.li.vars.get(name) ?? this.k.functionVars.get(this.li.fn)?.get(name) ?? this.k.vars.get(name);
  }

  /** The address of a variable in its own state space (global variables: their global address). */
  private varAddress(p: VarPlace): number {
    if (p.space === 'global') {
      const a = this.env.globalAddr.get(p.decl.name);
      if (a === undefined) throw this.fail(`global variable ${p.decl.name} has no address`);
      return a;
    }
    return p.offset;
  }

  private special(name: string): Reader | undefined {
    const [base, comp] = name.split('.') as [string, string | undefined];
    const axis = comp === 'y' ? 1 : comp === 'z' ? 2 : 0;
    switch (base) {
      case '%tid':
        return (_c, w, l) => w.tid[l]![axis]!;
      case '%ntid':
        return (c) => c.launch.block[axis]!;
      case '%ctaid':
        return (c) => c.ctaid[axis]!;
      case '%nctaid':
        return (c) => c.launch.grid[axis]!;
      case '%laneid':
        return (_c, _w, l) => l;
      case '%warpid':
        return (_c, w) => w.index;
      case '%nwarpid':
        return (c) => c.warps.length;
      case '%smid':
      case '%gridid':
        return () => 0;
      case '%nsmid':
        return () => 1;
      case '%clock':
        return (c) => c.launch.clock >>> 0;
      case '%clock64':
      case '%globaltimer':
        return (c) => BigInt(c.launch.clock);
      case '%globaltimer_lo':
        return (c) => c.launch.clock >>> 0;
      case '%lanemask_eq':
        return (_c, _w, l) => (1 << l) >>> 0;
      case '%lanemask_lt':
        return (_c, _w, l) => ((1 << l) - 1) >>> 0;
      case '%lanemask_le':
        return (_c, _w, l) => (l === 31 ? 0xffffffff : (1 << (l + 1)) - 1) >>> 0;
      case '%lanemask_gt':
        return (_c, _w, l) => (l === 31 ? 0 : ~((1 << (l + 1)) - 1)) >>> 0;
      case '%lanemask_ge':
        return (_c, _w, l) => ~((1 << l) - 1) >>> 0;
      case '%dynamic_smem_size':
        return (c) => c.launch.dynamicSmem;
      case '%total_smem_size':
        return (c) => c.launch.sharedBytes;
      default:
        return undefined;
    }
  }

  /** Reads an operand as a value of `type` (immediates are encoded in that type; registers are fitted to its width). */
  reader(o: Operand, type: string): Reader {
    const width = typeWidth(type);
    switch (o.kind) {
      case 'reg': {
        const name = o.name;
        const negate = o.negate === true;
        const slot = this.li.scope.get(name);
        if (slot !== undefined) {
          const rw = this.k.regs[slot]!.width;
          const base = slot * WARP;
          if (negate) return (_c, w, l) => !(w.regs[base + l] as boolean);
          if (rw === width || (width === 1 && rw === 1)) return (_c, w, l) => w.regs[base + l]!;
          return (_c, w, l) => fit(w.regs[base + l]!, width);
        }
        const sp = this.special(name);
        if (sp) return width === 64 ? (c, w, l) => fit(sp(c, w, l), 64) : sp;
        const v = this.findVar(name);
        if (v) {
          const addr = this.varAddress(v);
          const val = fit(addr, width);
          return () => val;
        }
        throw this.fail(`unknown register or symbol ${name}`);
      }
      case 'int': {
        const v = immediateBits(o.value, 'int', type);
        return () => v;
      }
      case 'float': {
        const v = immediateBits(o.value, o.width === 32 ? 'float32' : 'float64', type);
        return () => v;
      }
      case 'label': {
        // A bare name in operand position: a variable's address.
        const v = this.findVar(o.name);
        if (!v) throw this.fail(`unknown symbol ${o.name}`);
        const val = fit(this.varAddress(v), width);
        return () => val;
      }
      default:
        throw this.fail(`expected a register or immediate operand, found ${o.kind}`);
    }
  }

  writer(o: Operand): Writer {
    if (o.kind === 'sink') return () => {};
    if (o.kind !== 'reg') throw this.fail(`expected a destination register, found ${o.kind}`);
    const slot = this.li.scope.get(o.name);
    if (slot === undefined) throw this.fail(`unknown register ${o.name}`);
    const width = this.k.regs[slot]!.width;
    const base = slot * WARP;
    return (_c, w, l, v) => {
      w.regs[base + l] = fit(v, width);
    };
  }

  private regWidth(o: Operand): number {
    if (o.kind !== 'reg') return 32;
    const slot = this.li.scope.get(o.name);
    return slot === undefined ? 32 : this.k.regs[slot]!.width;
  }

  /** An address operand: its state space (from a symbol base, if any) and a per-lane address reader. */
  private address(o: Operand): { space?: string; read: (c: Cta, w: Warp, l: number) => number } {
    if (o.kind !== 'addr') throw this.fail(`expected an address [..], found ${o.kind}`);
    const off = o.offset;
    if (o.base === undefined) return { read: () => off };
    const slot = this.li.scope.get(o.base);
    if (slot !== undefined) {
      const base = slot * WARP;
      return { read: (_c, w, l) => toNumber(w.regs[base + l]!) + off };
    }
    const v = this.findVar(o.base);
    if (!v) throw this.fail(`unknown register or symbol ${o.base}`);
    const a = this.varAddress(v) + off;
    const space = v.space === 'kparam' ? 'param' : v.space === 'param' ? 'cparam' : v.space;
    return { space, read: () => a };
  }

  private vecRegs(o: Operand): Operand[] {
    return o.kind === 'vec' ? [...o.elems] : [o];
  }

  // ---- instructions ----

  decode(): { run: Exec['run']; cls: string } {
    const op = this.inst.opcode;
    switch (op) {
      case 'mov':
        return { run: this.mov(), cls: 'move' };
      case 'ld':
      case 'ldu':
        return this.load();
      case 'st':
        return this.store();
      case 'atom':
      case 'red':
        return this.atomic(op === 'red');
      case 'cvta':
        return { run: this.cvta(), cls: 'int' };
      case 'isspacep':
        return { run: this.isspacep(), cls: 'int' };
      case 'bra':
        return { run: this.bra(), cls: 'control' };
      case 'call':
        return { run: this.call(), cls: 'control' };
      case 'ret':
        return { run: this.ret(), cls: 'control' };
      case 'exit':
        return { run: (c, w, lanes) => lanes.forEach((l) => c.exitLane(w, l)), cls: 'control' };
      case 'trap':
        return {
          run: (c, w, lanes) => {
            c.report('trap', 'the kernel executed trap', this.site, w, lanes[0]!);
            c.launch.aborted = true;
          },
          cls: 'control',
        };
      case 'brkpt':
      case 'membar':
      case 'fence':
      case 'prefetch':
      case 'prefetchu':
      case 'nanosleep':
      case 'pmevent':
      case 'discard':
      case 'applypriority':
      case 'griddepcontrol':
        return { run: () => {}, cls: 'control' };
      case 'createpolicy': {
        const dst = this.writer(this.op(0));
        return { run: (c, w, lanes) => lanes.forEach((l) => dst(c, w, l, 0n)), cls: 'int' };
      }
      case 'bar':
      case 'barrier':
        return { run: this.bar(), cls: 'barrier' };
      case 'shfl':
        return { run: this.shfl(), cls: 'warp' };
      case 'vote':
        return { run: this.vote(), cls: 'warp' };
      case 'match':
        return { run: this.match(), cls: 'warp' };
      case 'redux':
        return { run: this.redux(), cls: 'warp' };
      case 'activemask': {
        const dst = this.writer(this.op(0));
        return {
          run: (c, w, lanes) => {
            let m = 0;
            for (const l of lanes) m |= 1 << l;
            for (const l of lanes) dst(c, w, l, m >>> 0);
          },
          cls: 'warp',
        };
      }
      case 'elect':
        return { run: this.elect(), cls: 'warp' };
      case 'mma':
        return { run: this.mma(), cls: 'mma' };
      case 'ldmatrix':
      case 'stmatrix':
        return { run: this.matrix(op === 'stmatrix'), cls: op === 'ldmatrix' ? 'ld.shared' : 'st.shared' };
      case 'cp':
        return this.cp();
      case 'addc':
      case 'subc':
      case 'madc':
        return { run: this.carryChain(), cls: 'int' };
      default: {
        if ((op === 'add' || op === 'sub' || op === 'mad') && this.has('cc')) return { run: this.carryChain(), cls: 'int' };
        let alu: AluOp | undefined;
        try {
          alu = makeAluOp(op, this.mods);
        } catch (e) {
          // The ALU names the instruction; the position is ours to add.
          if (e instanceof EmulatorInputError && e.line === undefined) throw new EmulatorInputError(e.message, this.inst.pos.line, this.inst.pos.column);
          throw e;
        }
        if (!alu) throw this.unsupported();
        return { run: this.alu(alu), cls: alu.cls };
      }
    }
  }

  private alu(alu: AluOp): Exec['run'] {
    const ops = this.inst.operands;
    const first = ops[0];
    // `setp … p|q, …` writes two predicates; plain `setp … p, …` only the first.
    const pair = alu.dsts === 2 && first?.kind === 'vec';
    const dstOps: Operand[] = pair ? [...(first as Extract<Operand, { kind: 'vec' }>).elems] : ops.slice(0, alu.dsts === 2 ? 1 : alu.dsts);
    const srcOps = ops.slice(pair ? 1 : dstOps.length);
    if (srcOps.length !== alu.srcs) throw this.fail(`expected ${alu.srcs} source operands, found ${srcOps.length}`);
    const readers = srcOps.map((o, i) => this.reader(o, alu.srcTypes[i]!));
    const writers = dstOps.map((o, i) => this.extendingWriter(o, alu.dstTypes[i] ?? this.type));
    const srcs: RegValue[] = new Array<RegValue>(readers.length);
    const nr = readers.length;
    if (writers.length === 1) {
      const w0 = writers[0]!;
      const first = (r: RegValue | readonly RegValue[]): RegValue => (Array.isArray(r) ? (r as readonly RegValue[])[0]! : (r as RegValue));
      // The hot path of the emulator: specialised for the common operand counts.
      const [r0, r1, r2] = readers;
      if (nr === 2) {
        return (c, w, lanes) => {
          for (let k = 0; k < lanes.length; k++) {
            const l = lanes[k]!;
            srcs[0] = r0!(c, w, l);
            srcs[1] = r1!(c, w, l);
            w0(c, w, l, first(alu.exec(srcs)));
          }
        };
      }
      if (nr === 1 || nr === 3) {
        return (c, w, lanes) => {
          for (let k = 0; k < lanes.length; k++) {
            const l = lanes[k]!;
            srcs[0] = r0!(c, w, l);
            if (nr === 3) {
              srcs[1] = r1!(c, w, l);
              srcs[2] = r2!(c, w, l);
            }
            w0(c, w, l, first(alu.exec(srcs)));
          }
        };
      }
      return (c, w, lanes) => {
        for (const l of lanes) {
          for (let i = 0; i < nr; i++) srcs[i] = readers[i]!(c, w, l);
          w0(c, w, l, first(alu.exec(srcs)));
        }
      };
    }
    return (c, w, lanes) => {
      for (const l of lanes) {
        for (let i = 0; i < nr; i++) srcs[i] = readers[i]!(c, w, l);
        const r = alu.exec(srcs) as readonly RegValue[];
        writers.forEach((wr, i) => wr(c, w, l, r[i]!));
      }
    };
  }

  /**
   * Extended-precision arithmetic through the carry flag: `add.cc`/`addc` (d = a + b + CF),
   * `sub.cc`/`subc` (d = a − (b + CF), CF = borrow), `mad.lo|hi.cc`/`madc` (d = part(a·b) + c + CF).
   * `.cc` writes the carry (or borrow) out; the `c` forms read it in.
   */
  private carryChain(): Exec['run'] {
    const op = this.inst.opcode;
    const kind = op.startsWith('add') ? 'add' : op.startsWith('sub') ? 'sub' : 'mad';
    const carryIn = op.endsWith('c');
    const carryOut = this.has('cc');
    const t = this.type;
    const width = typeWidth(t);
    if (width !== 32 && width !== 64) throw this.unsupported();
    const W = BigInt(width);
    const hi = this.has('hi');
    const dst = this.writer(this.op(0));
    const a = this.reader(this.op(1), t);
    const b = this.reader(this.op(2), t);
    const c = kind === 'mad' ? this.reader(this.op(3), t) : undefined;
    return (cta, w, lanes) => {
      for (const l of lanes) {
        const x = BigInt.asUintN(width, BigInt(a(cta, w, l) as number | bigint));
        const y = BigInt.asUintN(width, BigInt(b(cta, w, l) as number | bigint));
        const ci = carryIn ? BigInt(w.carry[l]!) : 0n;
        let r: bigint;
        let out: number;
        if (kind === 'sub') {
          r = x - y - ci;
          out = r < 0n ? 1 : 0;
        } else {
          const signedHi = hi && t.startsWith('s');
          const prod = signedHi ? BigInt.asIntN(width, x) * BigInt.asIntN(width, y) : x * y;
          const base = kind === 'add' ? x : hi ? BigInt.asUintN(width, prod >> W) : BigInt.asUintN(width, prod);
          const addend = kind === 'add' ? y : BigInt.asUintN(width, BigInt(c!(cta, w, l) as number | bigint));
          r = base + addend + ci;
          out = Number(r >> W);
        }
        r = BigInt.asUintN(width, r);
        dst(cta, w, l, width === 64 ? r : Number(r));
        if (carryOut) w.carry[l] = out;
      }
    };
  }

  /** A writer that sign-extends a signed result narrower than its destination register. */
  private extendingWriter(o: Operand, type: string): Writer {
    const write = this.writer(o);
    const bits = typeWidth(type);
    if (!type.startsWith('s') || bits >= this.regWidth(o) || bits >= 32) return write;
    return (c, w, l, v) => write(c, w, l, signExtend(v as number, bits));
  }

  private mov(): Exec['run'] {
    const dst = this.op(0);
    const src = this.op(1);
    const t = this.type;
    const width = typeWidth(t);
    if (dst.kind === 'vec') {
      // Unpack: mov.b64 {%r1, %r2}, %rd1 — element 0 is the low part.
      const parts = dst.elems.map((e) => this.writer(e));
      const pw = width / parts.length;
      const read = this.reader(src, t);
      return (c, w, lanes) => {
        for (const l of lanes) {
          const v = BigInt.asUintN(64, BigInt(read(c, w, l) as number | bigint));
          parts.forEach((p, i) => p(c, w, l, Number((v >> BigInt(i * pw)) & ((1n << BigInt(pw)) - 1n))));
        }
      };
    }
    const write = this.writer(dst);
    if (src.kind === 'vec') {
      const pw = width / src.elems.length;
      const parts = src.elems.map((e) => this.reader(e, `b${pw}`));
      return (c, w, lanes) => {
        for (const l of lanes) {
          let v = 0n;
          parts.forEach((p, i) => {
            v |= BigInt(p(c, w, l) as number | bigint) << BigInt(i * pw);
          });
          write(c, w, l, width === 64 ? v : Number(v));
        }
      };
    }
    const read = this.reader(src, t);
    return (c, w, lanes) => {
      for (const l of lanes) write(c, w, l, read(c, w, l));
    };
  }

  private space(): string {
    return this.mods.find((m) => SPACES.has(m)) ?? 'generic';
  }

  private vecCount(): number {
    return this.has('v4') ? 4 : this.has('v2') ? 2 : this.has('v8') ? 8 : 1;
  }

  private load(): { run: Exec['run']; cls: string } {
    const t = this.type;
    const size = Math.max(1, typeWidth(t) / 8);
    const n = this.vecCount();
    const dstOps = this.vecRegs(this.op(0));
    const dsts = dstOps.map((o) => this.writer(o));
    const dstWidths = dstOps.map((o) => this.regWidth(o));
    const addr = this.address(this.op(1));
    const space = addr.space ?? this.space();
    if (dsts.length !== n) throw this.fail(`a .v${n} load needs ${n} destinations`);
    const signed = t.startsWith('s');
    const site = this.site;
    const run = this.vectorAccess(addr.read, space, size, n, (c, w, l, r, i) => {
      const delivered = !r.shared || c.sharedAccess(w, l, r.off, size, 'read', site);
      if (delivered && !r.region.isInit(r.off, size)) {
        c.report('uninitialized-read', `read of ${size} uninitialized byte${size > 1 ? 's' : ''} at ${r.region.name}+${r.off}`, site, w, l);
      }
      let v = r.region.read(r.off, size);
      if (signed && typeof v === 'number' && size < 8) {
        // Sign-extend to the destination register, whatever its width.
        const sv = (signExtend(v, size * 8) | 0);
        v = dstWidths[i] === 64 ? BigInt.asUintN(64, BigInt(sv)) : sv >>> 0;
      }
      dsts[i]!(c, w, l, v);
    });
    return { run, cls: `ld.${space === 'cparam' ? 'param' : space}` };
  }

  private store(): { run: Exec['run']; cls: string } {
    const t = this.type;
    const size = Math.max(1, typeWidth(t) / 8);
    const n = this.vecCount();
    const addr = this.address(this.op(0));
    const space = addr.space ?? this.space();
    const srcs = this.vecRegs(this.op(1)).map((o) => this.reader(o, t));
    if (srcs.length !== n) throw this.fail(`a .v${n} store needs ${n} values`);
    const site = this.site;
    const run = this.vectorAccess(addr.read, space, size, n, (c, w, l, r, i) => {
      if (r.shared) c.sharedAccess(w, l, r.off, size, 'write', site);
      r.region.write(r.off, size, srcs[i]!(c, w, l) as number | bigint);
    });
    return { run, cls: `st.${space === 'cparam' ? 'param' : space}` };
  }

  /**
   * The lanes' accesses of an `ld`/`st` of `n` elements of `size` bytes: each element resolved and
   * checked (the first against the whole vector's alignment), then handed to `each`; the warp's
   * addresses are counted as one request.
   */
  private vectorAccess(
    address: (c: Cta, w: Warp, l: number) => number,
    space: string,
    size: number,
    n: number,
    each: (c: Cta, w: Warp, l: number, r: Resolved, i: number) => void,
  ): Exec['run'] {
    const site = this.site;
    const req = new WarpAccesses();
    return (c, w, lanes) => {
      req.reset();
      for (const l of lanes) {
        const a = address(c, w, l);
        for (let i = 0; i < n; i++) {
          const r = c.resolve(space, a + i * size, size, w, l, site, i === 0 ? size * n : size);
          if (!r) break;
          if (i === 0) req.add(r.space, l, r.shared ? r.off : a);
          each(c, w, l, r, i);
        }
      }
      req.flush(c.launch.stats, size * n);
    };
  }

  private atomic(isRed: boolean): { run: Exec['run']; cls: string } {
    const ATOM_OPS = ['add', 'min', 'max', 'exch', 'cas', 'and', 'or', 'xor', 'inc', 'dec'];
    const aop = this.mods.find((m) => ATOM_OPS.includes(m));
    if (!aop) throw this.unsupported();
    const t = this.type;
    const size = Math.max(1, typeWidth(t) / 8);
    const base = isRed ? 0 : 1;
    const dst = isRed ? undefined : this.writer(this.op(0));
    const addr = this.address(this.op(base));
    const space = addr.space ?? this.space();
    const b = this.reader(this.op(base + 1), t);
    const cOp = aop === 'cas' ? this.reader(this.op(base + 2), t) : undefined;
    const f = atomicFn(aop, t);
    if (!f) throw this.unsupported();
    const site = this.site;
    const req = new WarpAccesses();
    const run: Exec['run'] = (c, w, lanes) => {
      req.reset();
      for (const l of lanes) {
        const a = addr.read(c, w, l);
        const r = c.resolve(space, a, size, w, l, site, size);
        if (!r) continue;
        req.add(r.space, l, r.shared ? r.off : a);
        // An atomic reads the old value: it must be initialized, and must not race with plain accesses.
        if (!r.region.isInit(r.off, size)) c.report('uninitialized-read', `atomic on ${size} uninitialized byte${size > 1 ? 's' : ''} at ${r.region.name}+${r.off}`, site, w, l);
        if (r.shared) c.sharedAccess(w, l, r.off, size, 'atomic', site);
        const old = r.region.read(r.off, size);
        const nv = f(old, b(c, w, l) as number | bigint, cOp ? (cOp(c, w, l) as number | bigint) : 0);
        r.region.write(r.off, size, nv);
        dst?.(c, w, l, old);
      }
      req.flush(c.launch.stats, size);
    };
    return { run, cls: `atom.${space}` };
  }

  private cvta(): Exec['run'] {
    const to = this.has('to');
    const sp = this.mods.find((m) => SPACES.has(m)) ?? 'global';
    const dst = this.writer(this.op(0));
    const src = this.reader(this.op(1), this.type);
    return (c, w, lanes) => {
      for (const l of lanes) {
        const a = toNumber(src(c, w, l));
        dst(c, w, l, to ? fromGeneric(sp, a) : toGeneric(sp, a));
      }
    };
  }

  private isspacep(): Exec['run'] {
    const sp = this.mods.find((m) => SPACES.has(m)) ?? 'global';
    const dst = this.writer(this.op(0));
    const src = this.reader(this.op(1), 'u64');
    return (c, w, lanes) => {
      for (const l of lanes) dst(c, w, l, spaceOfGeneric(toNumber(src(c, w, l))).space === sp);
    };
  }

  private label(name: string): number {
    const pc = this.k.labels.get(`${this.li.fn}::${name}`);
    if (pc === undefined) throw this.fail(`unknown label ${name}`);
    return pc;
  }

  private bra(): Exec['run'] {
    const t = this.op(0);
    const name = t.kind === 'label' ? t.name : t.kind === 'reg' ? t.name : undefined;
    if (!name) throw this.fail('bra needs a label');
    const target = this.label(name);
    return (_c, w, lanes) => {
      for (const l of lanes) w.pc[l] = target;
    };
  }

  private call(): Exec['run'] {
    const call = this.inst.call;
    if (!call) throw this.fail('malformed call');
    const callee = this.k.functions.get(call.target);
    if (!callee) throw this.fail(`unknown function ${call.target}`);
    const argPlaces = call.args.map((a) => this.callParam(a));
    const retPlaces = call.returns.map((a) => this.callParam(a));
    if (argPlaces.length !== callee.params.length || retPlaces.length !== callee.returns.length) {
      throw this.fail(`call to ${callee.name} passes ${argPlaces.length} arguments and ${retPlaces.length} results; it takes ${callee.params.length} and ${callee.returns.length}`);
    }
    const copies = argPlaces.map((p, i) => ({ from: p.offset, to: callee.params[i]!.offset, size: Math.min(p.size, callee.params[i]!.size) }));
    const rets = retPlaces.map((p, i) => ({ from: callee.returns[i]!.offset, to: p.offset, size: Math.min(p.size, callee.returns[i]!.size) }));
    const entry = callee.entry;
    return (c, w, lanes) => {
      for (const l of lanes) {
        const mem = c.callParamsOf(w, l);
        for (const cp of copies) {
          mem.bytes.copyWithin(cp.to, cp.from, cp.from + cp.size);
          mem.markInit(cp.to, cp.size);
        }
        w.callStack[l]!.push({ ret: w.pc[l]!, fn: callee.name, retParams: rets });
        w.pc[l] = entry;
      }
    };
  }

  private callParam(o: Operand): VarPlace {
    const name = o.kind === 'reg' || o.kind === 'label' ? o.name : undefined;
    const p = name ? this.findVar(name) : undefined;
    if (!p || p.space !== 'param') throw this.fail(`call arguments must be .param variables, found ${name ?? o.kind}`);
    return p;
  }

  private ret(): Exec['run'] {
    return (c, w, lanes) => {
      for (const l of lanes) {
        const frame = w.callStack[l]!.pop();
        if (!frame) {
          c.exitLane(w, l);
          continue;
        }
        const mem = c.callParamsOf(w, l);
        for (const r of frame.retParams) {
          mem.bytes.copyWithin(r.to, r.from, r.from + r.size);
          mem.markInit(r.to, r.size);
        }
        w.pc[l] = frame.ret;
      }
    };
  }

  private bar(): Exec['run'] {
    const m = this.mods;
    const pc = this.pc;
    const site = this.site;
    if (m.includes('warp')) {
      // bar.warp.sync membermask
      const mask = this.reader(this.op(0), 'b32');
      return (c, w, lanes) =>
        c.collective(w, lanes, lanes.map((l) => toNumber(mask(c, w, l))), lanes, 'bar.warp.sync', pc, site, () => {
          w.syncEpoch++;
        });
    }
    if (m.includes('red')) {
      // bar.red.popc.u32 d, id, {!}p   /   bar.red.and|or.pred d, id, {!}p
      const kind = m.includes('popc') ? 'popc' : m.includes('and') ? 'and' : 'or';
      const dst = this.writer(this.op(0));
      const id = this.reader(this.op(1), 'u32');
      const pred = this.reader(this.op(this.inst.operands.length - 1), 'pred');
      return (c, w, lanes) => {
        c.barrierReduce(w, lanes, toNumber(id(c, w, lanes[0]!)), pc, site, kind, (l) => pred(c, w, l) as boolean, (l, v) => dst(c, w, l, v));
      };
    }
    const arrive = m.includes('arrive');
    // `bar.sync` is `barrier.sync.aligned`.
    const aligned = this.inst.opcode === 'bar' || m.includes('aligned');
    if (!arrive && !m.includes('sync') && this.inst.opcode === 'bar' && m.length > 0 && !m.includes('cta') && !m.includes('aligned')) throw this.unsupported();
    const id = this.reader(this.op(0), 'u32');
    const count = this.inst.operands.length > 1 ? this.reader(this.op(1), 'u32') : undefined;
    return (c, w, lanes) => {
      c.barrier(w, lanes, {
        id: toNumber(id(c, w, lanes[0]!)),
        count: count ? toNumber(count(c, w, lanes[0]!)) : undefined,
        pc,
        site,
        mode: arrive ? 'arrive' : 'sync',
        aligned,
      });
    };
  }

  /** Reads the member mask operand (the last operand) of a `.sync` collective. */
  private memberMask(): Reader {
    return this.reader(this.op(this.inst.operands.length - 1), 'b32');
  }

  private shfl(): Exec['run'] {
    const mode = this.mods.find((m) => m === 'up' || m === 'down' || m === 'bfly' || m === 'idx');
    if (!mode) throw this.unsupported();
    const d0 = this.op(0);
    const [dOp, pOp] = d0.kind === 'vec' ? [d0.elems[0]!, d0.elems[1]] : [d0, undefined];
    const dst = this.writer(dOp);
    const pdst = pOp ? this.writer(pOp) : undefined;
    const a = this.reader(this.op(1), 'b32');
    const b = this.reader(this.op(2), 'b32');
    const cc = this.reader(this.op(3), 'b32');
    return this.gather(
      'shfl',
      (c, w, l) => ({ a: toNumber(a(c, w, l)), b: toNumber(b(c, w, l)), c: toNumber(cc(c, w, l)) }),
      (c, w, members, v) => {
        for (const l of members) {
          const { b: bv, c: cv } = v.get(l)!;
          const segmask = (cv >> 8) & 0x1f;
          const clamp = cv & 0x1f;
          const maxLane = (l & segmask) | (clamp & ~segmask);
          const minLane = l & segmask;
          let j: number;
          let ok: boolean;
          switch (mode) {
            case 'up':
              j = l - (bv & 0x1f);
              ok = j >= maxLane;
              break;
            case 'down':
              j = l + (bv & 0x1f);
              ok = j <= maxLane;
              break;
            case 'bfly':
              j = l ^ (bv & 0x1f);
              ok = j <= maxLane;
              break;
            default:
              j = minLane | (bv & 0x1f & ~segmask);
              ok = j <= maxLane;
          }
          if (!ok) j = l;
          // A source lane outside the member mask gives an undefined value: we return the lane's own.
          dst(c, w, l, (v.get(j) ?? v.get(l)!).a);
          pdst?.(c, w, l, ok);
        }
      },
    );
  }

  /** A `.sync` warp collective: each lane's operands are read, then combined once all members arrived. */
  private gather<T>(kind: string, read: (c: Cta, w: Warp, l: number) => T, finish: (c: Cta, w: Warp, members: number[], vals: ReadonlyMap<number, T>) => void): Exec['run'] {
    const mask = this.memberMask();
    const pc = this.pc;
    const site = this.site;
    return (c, w, lanes) =>
      c.collective(
        w,
        lanes,
        lanes.map((l) => toNumber(mask(c, w, l))),
        lanes.map((l) => read(c, w, l)),
        kind,
        pc,
        site,
        (members, vals) => finish(c, w, members, vals),
      );
  }

  private vote(): Exec['run'] {
    const mode = this.mods.find((m) => m === 'all' || m === 'any' || m === 'uni' || m === 'ballot');
    if (!mode) throw this.unsupported();
    const dst = this.writer(this.op(0));
    const p = this.reader(this.op(1), 'pred');
    return this.gather('vote', (c, w, l) => p(c, w, l) as boolean, (c, w, members, vals) => {
      let ballot = 0;
      for (const l of members) if (vals.get(l)) ballot |= 1 << l;
      const count = members.filter((l) => vals.get(l)).length;
      for (const l of members) {
        const v = mode === 'ballot' ? ballot >>> 0 : mode === 'all' ? count === members.length : mode === 'any' ? count > 0 : count === 0 || count === members.length;
        dst(c, w, l, v);
      }
    });
  }

  private match(): Exec['run'] {
    const all = this.has('all');
    const t = this.type;
    const d0 = this.op(0);
    const [dOp, pOp] = d0.kind === 'vec' ? [d0.elems[0]!, d0.elems[1]] : [d0, undefined];
    const dst = this.writer(dOp);
    const pdst = pOp ? this.writer(pOp) : undefined;
    const a = this.reader(this.op(1), t);
    return this.gather('match', (c, w, l) => a(c, w, l), (c, w, members, vals) => {
      for (const l of members) {
        let m = 0;
        for (const o of members) if (vals.get(o) === vals.get(l)) m |= 1 << o;
        const everyone = members.every((o) => vals.get(o) === vals.get(l));
        if (all) {
          let full = 0;
          for (const o of members) full |= 1 << o;
          dst(c, w, l, everyone ? full >>> 0 : 0);
          pdst?.(c, w, l, everyone);
        } else dst(c, w, l, m >>> 0);
      }
    });
  }

  private redux(): Exec['run'] {
    const kind = this.mods.find((m) => ['add', 'min', 'max', 'and', 'or', 'xor'].includes(m));
    if (!kind || this.has('f32')) throw this.unsupported();
    const signed = this.type === 's32';
    const dst = this.writer(this.op(0));
    const a = this.reader(this.op(1), 'b32');
    return this.gather('redux', (c, w, l) => toNumber(a(c, w, l)), (c, w, members, vals) => {
      const xs = members.map((l) => (signed ? vals.get(l)! | 0 : vals.get(l)! >>> 0));
      let r = xs[0] ?? 0;
      for (const x of xs.slice(1)) {
        switch (kind) {
          case 'add':
            r = (r + x) >>> 0;
            break;
          case 'min':
            r = Math.min(r, x);
            break;
          case 'max':
            r = Math.max(r, x);
            break;
          case 'and':
            r = (r & x) >>> 0;
            break;
          case 'or':
            r = (r | x) >>> 0;
            break;
          default:
            r = (r ^ x) >>> 0;
        }
      }
      for (const l of members) dst(c, w, l, r >>> 0);
    });
  }

  private elect(): Exec['run'] {
    const d0 = this.op(0);
    const [dOp, pOp] = d0.kind === 'vec' ? [d0.elems[0]!, d0.elems[1]] : [d0, undefined];
    const dst = this.writer(dOp);
    const pdst = pOp ? this.writer(pOp) : undefined;
    return this.gather('elect', () => 0, (c, w, members) => {
      const leader = Math.min(...members);
      for (const l of members) {
        dst(c, w, l, leader);
        pdst?.(c, w, l, l === leader);
      }
    });
  }

  /** Lanes that must all take part in a `.sync.aligned` warp-wide instruction: every lane of the warp. */
  private warpWide(kind: string, finish: (c: Cta, w: Warp, members: number[]) => void): Exec['run'] {
    const pc = this.pc;
    const site = this.site;
    return (c, w, lanes) => {
      const full = w.size === WARP ? 0xffffffff : (1 << w.size) - 1;
      c.collective(w, lanes, lanes.map(() => full), lanes, kind, pc, site, (members) => finish(c, w, members));
    };
  }

  private mma(): Exec['run'] {
    let spec;
    try {
      spec = parseMmaModifiers(this.mods);
    } catch (e) {
      throw this.fail(e instanceof Error ? e.message : String(e));
    }
    const sizes = mmaFragmentSizes(spec);
    const regsOf = (i: number, n: number, what: string): Operand[] => {
      const o = this.op(i);
      const r = this.vecRegs(o);
      if (r.length !== n) throw this.fail(`mma ${what} needs ${n} registers, found ${r.length}`);
      return r;
    };
    const d = regsOf(0, sizes.dRegs, 'D').map((o) => this.writer(o));
    const a = regsOf(1, sizes.aRegs, 'A').map((o) => this.reader(o, 'b32'));
    const b = regsOf(2, sizes.bRegs, 'B').map((o) => this.reader(o, 'b32'));
    const cc = regsOf(3, sizes.cRegs, 'C').map((o) => this.reader(o, 'b32'));
    const get = (c: Cta, w: Warp, rs: Reader[]): number[][] => {
      const out: number[][] = new Array<number[]>(WARP);
      for (let l = 0; l < WARP; l++) {
        const regs = new Array<number>(rs.length);
        for (let i = 0; i < rs.length; i++) regs[i] = toNumber(rs[i]!(c, w, l));
        out[l] = regs;
      }
      return out;
    };
    return this.warpWide('mma.sync', (c, w) => {
      const out = mmaSync(spec, get(c, w, a), get(c, w, b), get(c, w, cc));
      for (let l = 0; l < w.size; l++) d.forEach((wr, i) => wr(c, w, l, out[l]![i]!));
    });
  }

  private matrix(store: boolean): Exec['run'] {
    const count = this.has('x4') ? 4 : this.has('x2') ? 2 : 1;
    const trans = this.has('trans');
    const site = this.site;
    const addrOp = this.address(this.op(store ? 0 : 1));
    const space = addrOp.space ?? (this.mods.some((m) => m.startsWith('shared')) ? 'shared' : 'generic');
    const regs = this.vecRegs(this.op(store ? 1 : 0));
    if (regs.length !== count) throw this.fail(`${this.inst.opcode} .x${count} needs ${count} registers`);
    const writers = store ? [] : regs.map((o) => this.writer(o));
    const readers = store ? regs.map((o) => this.reader(o, 'b32')) : [];
    return this.warpWide(this.inst.opcode, (c, w) => {
      const addrs = Array.from({ length: WARP }, (_, l) => (l < w.size ? addrOp.read(c, w, l) : 0));
      const shOff = (a: number): number => (space === 'generic' ? fromGeneric('shared', a) : a);
      const check = (a: number, lane: number, write: boolean): number | undefined => {
        const r = c.resolve('shared', shOff(a), 2, w, lane, site, 2);
        if (!r) return undefined;
        const delivered = c.sharedAccess(w, lane, r.off, 2, write ? 'write' : 'read', site);
        if (!write && delivered && !r.region.isInit(r.off, 2)) c.report('uninitialized-read', `read of uninitialized shared memory at offset ${r.off}`, site, w, lane);
        return r.off;
      };
      const rowLanes = Array.from({ length: 8 * count }, (_, i) => i);
      c.launch.stats.sharedRequest(rowLanes, rowLanes.map((l) => shOff(addrs[l]!)), 16);
      if (!store) {
        const owner = (a: number): number => Math.max(0, addrs.findIndex((x) => a >= x && a < x + 16));
        const out = ldmatrix(count as 1 | 2 | 4, trans, addrs, (a) => {
          const off = check(a, owner(a), false);
          return off === undefined ? 0 : (c.shared.read(off, 2) as number);
        });
        for (let l = 0; l < w.size; l++) writers.forEach((wr, i) => wr(c, w, l, out[l]![i]!));
      } else {
        const vals = Array.from({ length: WARP }, (_, l) => readers.map((r) => (l < w.size ? toNumber(r(c, w, l)) : 0)));
        for (const wr of stmatrix(count as 1 | 2 | 4, trans, addrs, vals)) {
          const lane = Math.max(0, addrs.findIndex((x) => wr.addr >= x && wr.addr < x + 16));
          const off = check(wr.addr, lane, true);
          if (off !== undefined) c.shared.write(off, 2, wr.value);
        }
      }
    });
  }

  private cp(): { run: Exec['run']; cls: string } {
    const m = this.mods;
    if (!m.includes('async') || m.includes('bulk') || m.includes('mbarrier')) throw this.unsupported();
    if (m.includes('commit_group')) return { run: (c, w, lanes) => lanes.forEach((l) => c.cpCommit(w, l)), cls: 'cp.async' };
    if (m.includes('wait_all')) {
      return {
        run: (c, w, lanes) =>
          lanes.forEach((l) => {
            c.cpCommit(w, l);
            c.cpWait(w, l, 0);
          }),
        cls: 'cp.async',
      };
    }
    if (m.includes('wait_group')) {
      const n = this.reader(this.op(0), 'u32');
      return { run: (c, w, lanes) => lanes.forEach((l) => c.cpWait(w, l, toNumber(n(c, w, l)))), cls: 'cp.async' };
    }
    const dst = this.address(this.op(0));
    const src = this.address(this.op(1));
    const size = this.reader(this.op(2), 'u32');
    const srcSize = this.inst.operands[3] && this.inst.operands[3].kind !== 'addr' ? this.reader(this.inst.operands[3], 'u32') : undefined;
    const site = this.site;
    const dstGeneric = !dst.space && !m.includes('shared');
    const req = new WarpAccesses();
    return {
      run: (c, w, lanes) => {
        req.reset();
        let bytes = 16;
        for (const l of lanes) {
          const n = toNumber(size(c, w, l));
          let d = dst.read(c, w, l);
          if (dstGeneric) d = fromGeneric('shared', d);
          const r = c.resolve('shared', d, n, w, l, site, n);
          const s = src.read(c, w, l);
          // src-size < cp-size zero-fills the rest; a src-size of 0 reads no global memory at all.
          const fromSrc = srcSize ? Math.min(n, toNumber(srcSize(c, w, l))) : n;
          if (!r || (fromSrc > 0 && !c.resolve('global', s, fromSrc, w, l, site, fromSrc === n ? n : 1))) continue;
          if (fromSrc > 0) req.add('global', l, s);
          bytes = n;
          c.cpAsync(w, l, { dst: r.off, src: s, size: n, srcSize: fromSrc, site });
        }
        req.flush(c.launch.stats, bytes);
      },
      cls: 'cp.async',
    };
  }
}

type AtomicFn = (old: number | bigint, b: number | bigint, c: number | bigint) => number | bigint;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

function atomicFn(op: string, t: string): AtomicFn | undefined {
  const width = typeWidth(t);
  if (t === 'f32' && op === 'add') {
    // atom.add.f32 flushes subnormal inputs and results to sign-preserving zero.
    const ftz = (x: number): number => (Math.abs(x) < 2 ** -126 ? x * 0 : x);
    return (old, b) => {
      u32[0] = Number(old);
      const x = ftz(f32[0]!);
      u32[0] = Number(b);
      f32[0] = x + ftz(f32[0]!);
      f32[0] = ftz(f32[0]!);
      return u32[0]!;
    };
  }
  if (t === 'f64' && op === 'add') {
    return (old, b) => {
      u64[0] = BigInt(old);
      const x = f64[0]!;
      u64[0] = BigInt(b);
      f64[0] = x + f64[0]!;
      return u64[0]!;
    };
  }
  if (t.startsWith('f')) return undefined;
  const signed = t.startsWith('s');
  const asS = (v: number | bigint): bigint => BigInt.asIntN(width, BigInt(v));
  const asU = (v: number | bigint): bigint => BigInt.asUintN(width, BigInt(v));
  const out = (v: bigint): number | bigint => (width === 64 ? BigInt.asUintN(64, v) : Number(BigInt.asUintN(width, v)));
  switch (op) {
    case 'add':
      return (o, b) => out(asU(o) + asU(b));
    case 'min':
      return (o, b) => out(signed ? (asS(o) < asS(b) ? asS(o) : asS(b)) : asU(o) < asU(b) ? asU(o) : asU(b));
    case 'max':
      return (o, b) => out(signed ? (asS(o) > asS(b) ? asS(o) : asS(b)) : asU(o) > asU(b) ? asU(o) : asU(b));
    case 'exch':
      return (_o, b) => out(asU(b));
    case 'cas':
      return (o, b, c) => (asU(o) === asU(b) ? out(asU(c)) : out(asU(o)));
    case 'and':
      return (o, b) => out(asU(o) & asU(b));
    case 'or':
      return (o, b) => out(asU(o) | asU(b));
    case 'xor':
      return (o, b) => out(asU(o) ^ asU(b));
    case 'inc':
      return (o, b) => out(asU(o) >= asU(b) ? 0n : asU(o) + 1n);
    case 'dec':
      return (o, b) => out(asU(o) === 0n || asU(o) > asU(b) ? asU(b) : asU(o) - 1n);
    default:
      return undefined;
  }
}
