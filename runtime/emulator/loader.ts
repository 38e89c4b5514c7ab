/**
 * Loads one kernel of a parsed PTX module into a flat program: every register gets a slot
 * (nested `{ }` scopes and called `.func`s get their own), labels become instruction indices,
 * and variables get their place in their state space. Decoding instructions into closures is
 * done by ./decode.ts on this result.
 */
import type { Instruction, PtxFunction, PtxModule, Statement, VarDecl } from './ptx-ast.js';
import { EmulatorInputError } from './types.js';

/** Bit width of a PTX type as held in a register: 1 for predicates. */
export function typeWidth(type: string): number {
  switch (type) {
    case 'pred':
      return 1;
    case 'b8':
    case 'u8':
    case 's8':
      return 8;
    case 'b16':
    case 'u16':
    case 's16':
    case 'f16':
    case 'bf16':
      return 16;
    case 'b64':
    case 'u64':
    case 's64':
    case 'f64':
      return 64;
    default:
      return 32;
  }
}

export function typeBytes(type: string): number {
  return Math.max(1, typeWidth(type) / 8);
}

export interface RegInfo {
  readonly name: string;
  /** 1 (predicate), 16, 32 or 64: the width values are normalised to when written. */
  readonly width: number;
}

export type VarSpace = 'shared' | 'local' | 'const' | 'global' | 'param' | 'kparam';

/** Where a named variable lives. `kparam` is a kernel parameter (the launch's param buffer). */
export interface VarPlace {
  readonly space: VarSpace;
  readonly offset: number;
  readonly size: number;
  readonly decl: VarDecl;
}

export interface LoadedInst {
  readonly inst: Instruction;
  /** Register slots of the names in scope at this instruction. */
  readonly scope: ReadonlyMap<string, number>;
  /** Variables declared in the enclosing `{ }` scopes (call-site `.param`s, mostly), innermost first. */
  readonly vars: ReadonlyMap<string, VarPlace>;
  /** The function this instruction belongs to (for `ret` and param lookups). */
  readonly fn: string;
}

export interface LoadedFunction {
  readonly name: string;
  readonly entry: number;
  readonly params: readonly VarPlace[];
  readonly returns: readonly VarPlace[];
}

export interface LoadedKernel {
  readonly name: string;
  readonly code: readonly LoadedInst[];
  readonly labels: ReadonlyMap<string, number>;
  readonly regs: readonly RegInfo[];
  /** Kernel parameters in order, laid out in the param buffer. */
  readonly kernelParams: readonly VarPlace[];
  readonly kernelParamBytes: number;
  /** Named variables, per function (`''` for module scope). */
  readonly vars: ReadonlyMap<string, VarPlace>;
  readonly functionVars: ReadonlyMap<string, ReadonlyMap<string, VarPlace>>;
  readonly sharedStaticBytes: number;
  /** Offset of dynamic (`extern .shared`) memory: after the static part, 16-byte aligned. */
  readonly dynamicSharedOffset: number;
  readonly localBytes: number;
  /** Per-thread `.param` memory of device-function calls. */
  readonly callParamBytes: number;
  readonly constBytes: number;
  readonly globalVars: readonly VarPlace[];
  readonly constVars: readonly VarPlace[];
  readonly functions: ReadonlyMap<string, LoadedFunction>;
  readonly files: ReadonlyMap<number, string>;
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function varSize(d: VarDecl): number {
  const elems = (d.dims ?? []).reduce<number>((n, x) => n * (x ?? 0), 1);
  return elems * typeBytes(d.type) * (d.vector ?? 1);
}

class Layout {
  bytes = 0;
  place(d: VarDecl): number {
    const a = Math.max(d.align ?? 1, typeBytes(d.type) * (d.vector ?? 1));
    const off = align(this.bytes, a);
    this.bytes = off + varSize(d);
    return off;
  }
}

interface Call {
  readonly from: string;
  readonly to: string;
  readonly inst: Instruction;
}

/** Each function has one set of registers and parameters, so a call cycle cannot be emulated. */
function rejectRecursion(calls: readonly Call[]): void {
  const out = new Map<string, Call[]>();
  for (const c of calls) out.set(c.from, [...(out.get(c.from) ?? []), c]);
  const state = new Map<string, 'open' | 'done'>();
  const visit = (fn: string, path: string[]): void => {
    state.set(fn, 'open');
    for (const c of out.get(fn) ?? []) {
      if (state.get(c.to) === 'open') {
        const cycle = [...path.slice(path.indexOf(c.to)), c.to].join(' → ');
        throw new EmulatorInputError(`recursive calls are not supported (${cycle})`, c.inst.pos.line, c.inst.pos.column);
      }
      if (!state.has(c.to)) visit(c.to, [...path, c.to]);
    }
    state.set(fn, 'done');
  };
  for (const c of calls) if (!state.has(c.from)) visit(c.from, [c.from]);
}

export function loadKernel(mod: PtxModule, name: string): LoadedKernel {
  const fnByName = new Map(mod.functions.map((f) => [f.name, f]));
  const entry = fnByName.get(name);
  if (!entry || entry.kind !== 'entry' || !entry.body) {
    const entries = mod.functions.filter((f) => f.kind === 'entry').map((f) => f.name);
    throw new EmulatorInputError(`no kernel (.entry) named '${name}'; the module defines: ${entries.join(', ') || 'none'}`);
  }
  const code: LoadedInst[] = [];
  const labels = new Map<string, number>();
  const regs: RegInfo[] = [];
  const shared = new Layout();
  const local = new Layout();
  const callParams = new Layout();
  const consts = new Layout();
  const moduleVars = new Map<string, VarPlace>();
  const functionVars = new Map<string, Map<string, VarPlace>>();
  const globalVars: VarPlace[] = [];
  const constVars: VarPlace[] = [];
  let dynamicShared: VarDecl[] = [];

  const placeVar = (d: VarDecl, into: Map<string, VarPlace>): void => {
    switch (d.space) {
      case 'shared':
        if (d.extern) dynamicShared.push(d);
        else into.set(d.name, { space: 'shared', offset: shared.place(d), size: varSize(d), decl: d });
        return;
      case 'local':
        into.set(d.name, { space: 'local', offset: local.place(d), size: varSize(d), decl: d });
        return;
      case 'const': {
        const p: VarPlace = { space: 'const', offset: consts.place(d), size: varSize(d), decl: d };
        into.set(d.name, p);
        constVars.push(p);
        return;
      }
      case 'global': {
        const p: VarPlace = { space: 'global', offset: 0, size: varSize(d), decl: d };
        into.set(d.name, p);
        globalVars.push(p);
        return;
      }
      case 'param':
        into.set(d.name, { space: 'param', offset: callParams.place(d), size: varSize(d), decl: d });
        return;
      default:
        return;
    }
  };
  for (const g of mod.globals) placeVar(g, moduleVars);

  // Kernel parameters: laid out in order in the launch's param buffer.
  const kparams = new Layout();
  const kernelParams: VarPlace[] = entry.params.map((p) => ({ space: 'kparam', offset: kparams.place(p), size: varSize(p), decl: p }));

  // The kernel and every function it can call, without recursion (each gets its own registers).
  const functions = new Map<string, LoadedFunction>();
  const calls: Call[] = [];
  const pending: PtxFunction[] = [entry];
  const queued = new Set([entry.name]);
  while (pending.length > 0) {
    const fn = pending.shift()!;
    const vars = new Map<string, VarPlace>();
    functionVars.set(fn.name, vars);
    const params = fn.kind === 'entry' ? kernelParams : fn.params.map((p) => (placeVar(p, vars), vars.get(p.name)!));
    const returns = fn.returns.map((p) => (placeVar(p, vars), vars.get(p.name)!));
    if (fn.kind === 'entry') for (const p of kernelParams) vars.set(p.decl.name, p);
    functions.set(fn.name, { name: fn.name, entry: code.length, params, returns });
    const walk = (body: readonly Statement[], outer: ReadonlyMap<string, number>, outerVars: ReadonlyMap<string, VarPlace>): void => {
      const scope = new Map(outer);
      // nvcc re-declares `param0`/`retval0` with other types in each call's scope: scope them like registers.
      const scopeVars = new Map(outerVars);
      for (const s of body) {
        if (s.kind !== 'var') continue;
        if (s.space === 'reg') {
          const width = s.type === 'pred' ? 1 : Math.max(16, typeWidth(s.type) * (s.vector ?? 1));
          const names = s.count !== undefined ? Array.from({ length: s.count }, (_, i) => `${s.name}${i}`) : [s.name];
          for (const n of names) {
            scope.set(n, regs.length);
            regs.push({ name: n, width });
          }
        } else placeVar(s, scopeVars);
      }
      for (const s of body) {
        if (s.kind === 'label') labels.set(`${fn.name}::${s.name}`, code.length);
        else if (s.kind === 'scope') walk(s.body, scope, scopeVars);
        else if (s.kind === 'inst') {
          code.push({ inst: s, scope, vars: scopeVars, fn: fn.name });
          if (s.opcode === 'call' && s.call) {
            const callee = fnByName.get(s.call.target);
            if (!callee || !callee.body) {
              throw new EmulatorInputError(`call to '${s.call.target}', which has no body in this module (external functions such as vprintf are not emulated)`, s.pos.line, s.pos.column);
            }
            calls.push({ from: fn.name, to: callee.name, inst: s });
            if (!queued.has(callee.name)) {
              queued.add(callee.name);
              pending.push(callee);
            }
          }
        }
      }
    };
    walk(fn.body ?? [], new Map(), vars);
  }
  rejectRecursion(calls);

  const dynamicSharedOffset = align(shared.bytes, 16);
  for (const d of dynamicShared) moduleVars.set(d.name, { space: 'shared', offset: dynamicSharedOffset, size: 0, decl: d });
  dynamicShared = [];
  return {
    name,
    code,
    labels,
    regs,
    kernelParams,
    kernelParamBytes: kparams.bytes,
    vars: moduleVars,
    functionVars,
    sharedStaticBytes: shared.bytes,
    dynamicSharedOffset,
    localBytes: local.bytes,
    callParamBytes: callParams.bytes,
    constBytes: consts.bytes,
    globalVars,
    constVars,
    functions,
    files: mod.files,
  };
}
