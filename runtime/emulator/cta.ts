/**
 * One CTA in execution: its warps, shared memory, barriers and warp collectives.
 *
 * Scheduling. Each thread has its own program counter (independent thread scheduling). A warp
 * step picks the lowest PC among the warp's runnable threads and executes that instruction for
 * every runnable thread at that PC — so divergent threads reconverge where structured code
 * joins, and the threads that execute an instruction together form the warp request that the
 * memory statistics count. Warp collectives (`shfl.sync`, `vote.sync`, `mma.sync`, …) wait
 * until every thread of their member mask has arrived; `bar.sync` waits for the CTA. When no
 * thread can move, the CTA is deadlocked: that is reported, never a hang.
 *
 * Sanitizer state per shared byte: the last writer and reader with the barrier epoch (and
 * warp-sync epoch) of the access; two accesses by different threads in one epoch, one a write,
 * are a race.
 */
import type { Findings, FindingSite } from './findings.js';
import type { GlobalMemory } from './memory.js';
import { Region, spaceOfGeneric } from './memory.js';
import type { RegValue } from './alu.js';
import { type AccessMode, RaceDetector } from './race.js';
import type { Stats } from './stats.js';
import type { Dim3, FindingKind } from './types.js';

export const WARP = 32;

/** After this many warp steps in a row with lanes waiting at a higher PC, those lanes get a step. */
const SPIN_YIELD = 1024;

export const RUNNABLE = 0;
export const EXITED = 1;
export const AT_BARRIER = 2;
export const AT_COLLECTIVE = 3;

/** An executable instruction: runs for the listed lanes of a warp (their guards already passed). */
export interface Exec {
  run(cta: Cta, w: Warp, lanes: readonly number[]): void;
  readonly site: FindingSite;
  readonly cls: string;
  /** A predicate slot and polarity, when the instruction is guarded. */
  readonly guard?: { readonly slot: number; readonly negate: boolean };
}

/** Everything shared by all CTAs of one launch. */
export interface LaunchState {
  readonly code: readonly Exec[];
  /** `stats.classId` of each instruction's class, by PC. */
  readonly classIds: Int32Array;
  readonly regCount: number;
  readonly regWidths: Uint8Array;
  readonly global: GlobalMemory;
  readonly kparams: Region;
  readonly consts: Region;
  readonly findings: Findings;
  readonly stats: Stats;
  readonly grid: Dim3;
  readonly block: Dim3;
  readonly sharedBytes: number;
  readonly dynamicSmem: number;
  readonly localBytes: number;
  readonly callParamBytes: number;
  readonly maxSteps: number;
  steps: number;
  /** Set by `trap` or the step limit: the launch stops. */
  aborted: boolean;
  clock: number;
  readonly races: RaceDetector;
  /** Barrier epochs handed out so far (across CTAs, so race state never needs a reset). */
  epochs: number;
}

interface CpAsyncCopy {
  readonly dst: number;
  readonly src: number;
  readonly size: number;
  /** Bytes actually read from src; the rest is zero-filled. */
  readonly srcSize: number;
  readonly site: FindingSite;
}

export class Warp {
  readonly pc = new Int32Array(WARP);
  readonly state = new Uint8Array(WARP);
  readonly regs: RegValue[];
  readonly tid: Dim3[] = [];
  /** Linear thread index in the CTA of each lane. */
  readonly linear = new Int32Array(WARP);
  readonly local: (Region | undefined)[] = [];
  readonly callParams: (Region | undefined)[] = [];
  readonly callStack: { ret: number; fn: string; retParams: { from: number; to: number; size: number }[] }[][] = [];
  readonly cpGroups: CpAsyncCopy[][][] = [];
  readonly cpOpen: CpAsyncCopy[][] = [];
  /** Steps in a row while some lanes wait at a higher PC (see SPIN_YIELD). */
  spins = 0;
  /** The condition-code carry flag (CC.CF) of each lane, for add.cc/addc/sub.cc/subc/mad.cc/madc. */
  readonly carry = new Uint8Array(WARP);
  /** Increments at every `bar.warp.sync`, ordering shared accesses within the warp. */
  syncEpoch = 1;
  /** The collective the waiting lanes are gathered at, with each lane's operands. */
  collective: { kind: string; lanes: Map<number, { pc: number; mask: number; value: unknown }>; complete: (lanes: number[], values: ReadonlyMap<number, unknown>) => void } | undefined;
  readonly size: number;

  constructor(
    readonly index: number,
    first: number,
    count: number,
    block: Dim3,
    regCount: number,
    regWidths: Uint8Array,
  ) {
    this.size = count;
    this.regs = new Array<RegValue>(regCount * WARP);
    for (let s = 0; s < regCount; s++) {
      const init: RegValue = regWidths[s] === 1 ? false : regWidths[s] === 64 ? 0n : 0;
      this.regs.fill(init, s * WARP, (s + 1) * WARP);
    }
    for (let l = 0; l < WARP; l++) {
      const t = first + l;
      this.linear[l] = t;
      this.tid.push([t % block[0], Math.floor(t / block[0]) % block[1], Math.floor(t / (block[0] * block[1]))]);
      if (l >= count) this.state[l] = EXITED;
      this.callStack.push([]);
      this.cpGroups.push([]);
      this.cpOpen.push([]);
    }
  }
}

/** Where an access landed: the region, the offset in it, and the space for statistics. */
export interface Resolved {
  readonly region: Region;
  readonly off: number;
  readonly space: 'global' | 'shared' | 'other';
  readonly shared: boolean;
}

export interface BarrierArrival {
  readonly id: number;
  readonly count: number | undefined;
  readonly pc: number;
  readonly site: FindingSite;
  readonly mode: 'sync' | 'arrive';
  readonly aligned: boolean;
}

interface Barrier {
  readonly arrived: Set<number>;
  readonly pcs: Set<number>;
  readonly expected: number | undefined;
  readonly site: FindingSite;
  /** `bar.red`: each arriving thread's predicate, and who receives the result. */
  readonly preds: boolean[];
  readonly receivers: ((preds: readonly boolean[]) => void)[];
}

export class Cta {
  readonly warps: Warp[] = [];
  readonly shared: Region;
  /** 1 while a cp.async copy into the byte has not landed (waited for). */
  readonly pending: Uint8Array;
  /** Barrier epoch: a new one each time a barrier completes (numbered across the launch). */
  epoch: number;
  private readonly barriers = new Map<number, Barrier>();
  readonly threadCount: number;
  private exitedCount = 0;

  constructor(
    readonly launch: LaunchState,
    readonly ctaid: Dim3,
  ) {
    const b = launch.block;
    this.threadCount = b[0] * b[1] * b[2];
    for (let first = 0, i = 0; first < this.threadCount; first += WARP, i++) {
      this.warps.push(new Warp(i, first, Math.min(WARP, this.threadCount - first), b, launch.regCount, launch.regWidths));
    }
    const size = launch.sharedBytes;
    this.shared = new Region('shared memory', 0, size, true);
    this.epoch = ++launch.epochs;
    this.pending = new Uint8Array(size);
  }

  // ---- findings ----

  report(kind: FindingKind, message: string, site: FindingSite, w: Warp, lane: number): void {
    this.launch.findings.add(kind, message, site, this.ctaid, w.tid[lane]!);
  }

  // ---- running ----

  /** Runs the CTA to completion (or deadlock, trap, step limit). */
  run(): void {
    const L = this.launch;
    for (;;) {
      let progress = false;
      for (const w of this.warps) {
        if (this.runWarp(w)) progress = true;
        if (L.aborted) return;
      }
      if (this.warps.every((w) => w.state.every((s) => s === EXITED))) return;
      if (!progress) {
        this.reportDeadlock();
        return;
      }
    }
  }

  /** Runs one warp until none of its threads can move (or a quantum passes); returns whether it moved. */
  private runWarp(w: Warp): boolean {
    const L = this.launch;
    const code = L.code;
    const lanes: number[] = [];
    const exec: number[] = [];
    let moved = false;
    for (let quantum = 0; quantum < 4096; quantum++) {
      // One pass: the lanes at the lowest PC, and the highest PC.
      let minPc = 0x7fffffff;
      let maxPc = -1;
      lanes.length = 0;
      const pcs = w.pc;
      const state = w.state;
      for (let l = 0; l < WARP; l++) {
        if (state[l] !== RUNNABLE) continue;
        const pc = pcs[l]!;
        if (pc < minPc) {
          minPc = pc;
          lanes.length = 0;
        }
        if (pc === minPc) lanes.push(l);
        if (pc > maxPc) maxPc = pc;
      }
      if (minPc === 0x7fffffff) return moved;
      // Lowest PC first makes divergent paths reconverge. But a group spinning in a loop at a low PC
      // (waiting for a flag another lane will set) must not starve the lanes ahead of it: after
      // SPIN_YIELD steps in a row with lanes left waiting at a higher PC, the highest-PC group gets
      // a step (Volta's forward-progress guarantee).
      if (maxPc === minPc) w.spins = 0;
      else if (++w.spins >= SPIN_YIELD) {
        minPc = maxPc;
        w.spins = 0;
        lanes.length = 0;
        for (let l = 0; l < WARP; l++) if (state[l] === RUNNABLE && pcs[l] === minPc) lanes.push(l);
      }
      const inst = code[minPc];
      if (!inst) {
        // Falling off the end of the code: like `exit`.
        for (const l of lanes) this.exitLane(w, l);
        moved = true;
        continue;
      }
      exec.length = 0;
      const g = inst.guard;
      for (const l of lanes) {
        w.pc[l] = minPc + 1;
        if (!g || (w.regs[g.slot * WARP + l] as boolean) !== g.negate) exec.push(l);
      }
      moved = true;
      if (exec.length > 0) {
        L.stats.count(L.classIds[minPc]!, exec.length);
        L.steps += exec.length;
        L.clock++;
        inst.run(this, w, exec);
        if (L.steps > L.maxSteps) {
          this.report('step-limit', `the launch executed more than ${L.maxSteps} thread-instructions; raise maxSteps if the kernel is just long`, inst.site, w, exec[0]!);
          L.aborted = true;
          return true;
        }
        if (L.aborted) return true;
      }
    }
    return moved;
  }

  exitLane(w: Warp, lane: number): void {
    if (w.state[lane] === EXITED) return;
    w.state[lane] = EXITED;
    this.exitedCount++;
    // A collective that waits for this lane can never complete.
    const c = w.collective;
    if (c) {
      for (const [l, info] of c.lanes) {
        if (info.mask & (1 << lane)) {
          this.report('deadlock', `lane ${lane} exited while ${c.kind} waits for it (member mask 0x${(info.mask >>> 0).toString(16)})`, this.launch.code[info.pc]!.site, w, l);
          break;
        }
      }
    }
    this.checkBarriers();
  }

  // ---- barriers ----

  /**
   * `bar.sync|bar.arrive id[, count]`: arriving lanes count toward the barrier; `sync` lanes wait
   * until `count` threads (default: every live thread) arrived. An `.aligned` barrier (every
   * `bar.sync`) must be executed at one instruction by all its threads; `barrier.sync` without
   * `.aligned` and producer/consumer `bar.arrive` may be at different instructions.
   */
  barrier(w: Warp, lanes: readonly number[], b: BarrierArrival): void {
    const rec = this.barrierRecord(b.id, b.count, b.site);
    for (const l of lanes) {
      rec.arrived.add(w.linear[l]!);
      if (b.mode === 'sync') w.state[l] = AT_BARRIER;
    }
    if (b.mode === 'sync' && b.aligned) rec.pcs.add(b.pc);
    this.checkBarriers();
  }

  private barrierRecord(id: number, count: number | undefined, site: FindingSite): Barrier {
    let b = this.barriers.get(id);
    if (!b) this.barriers.set(id, (b = { arrived: new Set(), pcs: new Set(), expected: count, site, preds: [], receivers: [] }));
    return b;
  }

  /** `bar.red.popc|and|or`: a barrier that also reduces a predicate over the arriving threads. */
  barrierReduce(w: Warp, lanes: readonly number[], id: number, pc: number, site: FindingSite, kind: 'popc' | 'and' | 'or', pred: (lane: number) => boolean, write: (lane: number, v: number | boolean) => void): void {
    const b = this.barrierRecord(id, undefined, site);
    for (const l of lanes) {
      b.preds.push(pred(l));
      b.receivers.push((preds) => {
        const n = preds.filter((x) => x).length;
        write(l, kind === 'popc' ? n : kind === 'and' ? n === preds.length : n > 0);
      });
    }
    this.barrier(w, lanes, { id, count: undefined, pc, site, mode: 'sync', aligned: true });
  }

  private checkBarriers(): void {
    for (const [id, b] of this.barriers) {
      const live = this.threadCount - this.exitedCount;
      const expected = b.expected ?? this.threadCount;
      const waiting = b.expected === undefined ? live : expected;
      if (b.arrived.size < waiting) continue;
      if (b.expected === undefined && b.arrived.size < this.threadCount) {
        const some = this.firstWaiting();
        if (some) {
          this.report('barrier-divergence', `barrier ${id} was reached by ${b.arrived.size} of ${this.threadCount} threads: the others exited without reaching it`, b.site, some.w, some.lane);
        }
      } else if (b.pcs.size > 1) {
        const some = this.firstWaiting();
        if (some) this.report('barrier-divergence', `barrier ${id} was reached at ${b.pcs.size} different instructions (divergent barriers)`, b.site, some.w, some.lane);
      }
      this.barriers.delete(id);
      this.epoch = ++this.launch.epochs;
      for (const r of b.receivers) r(b.preds);
      for (const w of this.warps) {
        for (let l = 0; l < WARP; l++) if (w.state[l] === AT_BARRIER && b.arrived.has(w.linear[l]!)) w.state[l] = RUNNABLE;
      }
    }
  }

  private firstWaiting(): { w: Warp; lane: number } | undefined {
    for (const w of this.warps) for (let l = 0; l < WARP; l++) if (w.state[l] === AT_BARRIER) return { w, lane: l };
    return undefined;
  }

  private reportDeadlock(): void {
    for (const w of this.warps) {
      for (let l = 0; l < WARP; l++) {
        const s = w.state[l];
        if (s === AT_BARRIER || s === AT_COLLECTIVE) {
          const inst = this.launch.code[w.pc[l]! - 1] ?? this.launch.code[w.pc[l]!];
          const what = s === AT_BARRIER ? 'a barrier that not every thread reaches' : 'a warp collective whose other members never arrive';
          this.report('deadlock', `the CTA cannot make progress: threads wait at ${what}`, inst!.site, w, l);
          return;
        }
      }
    }
  }

  // ---- warp collectives ----

  /**
   * Gathers lanes at a collective. `masks[i]` is the member mask lane `lanes[i]` gave and
   * `values[i]` its operands. When every member has arrived, `complete` runs once for all
   * gathered lanes, with every lane's operands.
   */
  collective<T>(
    w: Warp,
    lanes: readonly number[],
    masks: readonly number[],
    values: readonly T[],
    kind: string,
    pc: number,
    site: FindingSite,
    complete: (lanes: number[], values: ReadonlyMap<number, T>) => void,
  ): void {
    let c = w.collective;
    if (c && c.kind !== kind) {
      this.report('deadlock', `warp lanes wait at different collectives (${c.kind} and ${kind})`, site, w, lanes[0]!);
      c = undefined;
    }
    if (!c) w.collective = c = { kind, lanes: new Map(), complete: complete as (lanes: number[], values: ReadonlyMap<number, unknown>) => void };
    lanes.forEach((l, i) => c!.lanes.set(l, { pc, mask: masks[i]! >>> 0, value: values[i] }));
    let needed = 0;
    for (const info of c.lanes.values()) needed |= info.mask;
    let arrived = 0;
    for (const l of c.lanes.keys()) arrived |= 1 << l;
    if ((needed & ~arrived) === 0) {
      w.collective = undefined;
      const all = [...c.lanes.keys()].sort((a, b) => a - b);
      for (const l of all) w.state[l] = RUNNABLE;
      c.complete(all, new Map([...c.lanes].map(([l, info]) => [l, info.value])));
      return;
    }
    for (const l of lanes) w.state[l] = AT_COLLECTIVE;
    // The lanes that still must come have exited: this can never complete.
    let exited = 0;
    for (let l = 0; l < WARP; l++) if (w.state[l] === EXITED) exited |= 1 << l;
    if ((needed & ~arrived & exited) !== 0) {
      this.report('deadlock', `${kind} waits for lanes that have exited (member mask 0x${(needed >>> 0).toString(16)})`, site, w, lanes[0]!);
    }
  }

  // ---- memory ----

  /**
   * Resolves an access of `n` bytes at `addr` in a state space to a region and offset, reporting
   * out-of-bounds and misaligned accesses (and returning undefined for them).
   */
  resolve(space: string, addr: number, n: number, w: Warp, lane: number, site: FindingSite, alignTo: number): Resolved | undefined {
    if (addr % alignTo !== 0) {
      this.report('misaligned', `${n}-byte access at ${space} address 0x${addr.toString(16)} is not ${alignTo}-byte aligned`, site, w, lane);
      return undefined;
    }
    let sp = space;
    let a = addr;
    if (sp === 'generic') ({ space: sp, addr: a } = spaceOfGeneric(a));
    let region: Region | undefined;
    switch (sp) {
      case 'global': {
        region = this.launch.global.find(a, n);
        if (!region) {
          const near = this.launch.global.nearest(a);
          const hint = near ? ` (${near.offset} bytes from the start of ${near.region.name}, which has ${near.region.size})` : '';
          this.report('out-of-bounds', `${n}-byte global access at 0x${a.toString(16)} is outside every allocation${hint}`, site, w, lane);
          return undefined;
        }
        return { region, off: a - region.base, space: 'global', shared: false };
      }
      case 'shared':
        region = this.shared;
        break;
      case 'local':
        region = this.localOf(w, lane);
        break;
      case 'param':
        region = this.launch.kparams;
        break;
      case 'cparam':
        region = this.callParamsOf(w, lane);
        break;
      case 'const':
        region = this.launch.consts;
        break;
      default:
        region = undefined;
    }
    if (!region || a < 0 || a + n > region.size) {
      this.report('out-of-bounds', `${n}-byte ${sp} access at offset ${a} is outside ${region?.name ?? sp} (${region?.size ?? 0} bytes)`, site, w, lane);
      return undefined;
    }
    return sp === 'shared' ? { region, off: a, space: 'shared', shared: true } : { region, off: a, space: 'other', shared: false };
  }

  localOf(w: Warp, lane: number): Region {
    let r = w.local[lane];
    if (!r) w.local[lane] = r = new Region('local memory', 0, this.launch.localBytes, true);
    return r;
  }

  callParamsOf(w: Warp, lane: number): Region {
    let r = w.callParams[lane];
    if (!r) w.callParams[lane] = r = new Region('call parameters', 0, this.launch.callParamBytes, true);
    return r;
  }

  /**
   * Sanitizer bookkeeping of a shared access: pending `cp.async` data and races. Returns false
   * when a read hits bytes a `cp.async` has not delivered yet (already reported).
   */
  sharedAccess(w: Warp, lane: number, off: number, n: number, mode: AccessMode, site: FindingSite): boolean {
    const tid = w.linear[lane]!;
    for (let i = off; i < off + n; i++) {
      if (mode !== 'write' && this.pending[i]) {
        this.report('cp-async-read-before-wait', `shared byte ${i} is read before the cp.async that fills it was waited for (cp.async.wait_group)`, site, w, lane);
        return false;
      }
      const conflict = this.launch.races.access(i, tid, w.index, w.syncEpoch, this.epoch, mode);
      if (conflict) {
        this.report('shared-race', `${mode} of shared byte ${i} races with ${conflict} since the last barrier`, site, w, lane);
        return true;
      }
    }
    return true;
  }

  // ---- cp.async ----

  cpAsync(w: Warp, lane: number, copy: CpAsyncCopy): void {
    w.cpOpen[lane]!.push(copy);
    this.pending.fill(1, copy.dst, copy.dst + copy.size);
  }

  cpCommit(w: Warp, lane: number): void {
    w.cpGroups[lane]!.push(w.cpOpen[lane]!.splice(0));
  }

  /** Completes all but the newest `keep` committed groups of a lane: their data lands now. */
  cpWait(w: Warp, lane: number, keep: number): void {
    const groups = w.cpGroups[lane]!;
    while (groups.length > keep) {
      for (const c of groups.shift()!) this.cpLand(w, lane, c);
    }
  }

  private cpLand(w: Warp, lane: number, c: CpAsyncCopy): void {
    const sh = this.shared;
    for (let i = 0; i < c.size; i++) {
      let v = 0;
      if (i < c.srcSize) {
        const src = this.resolve('global', c.src + i, 1, w, lane, c.site, 1);
        if (src) {
          if (!src.region.isInit(src.off, 1)) this.report('uninitialized-read', `cp.async reads uninitialized global memory at ${src.region.name}+${src.off}`, c.site, w, lane);
          v = src.region.bytes[src.off]!;
        }
      }
      sh.bytes[c.dst + i] = v;
    }
    sh.markInit(c.dst, c.size);
    this.pending.fill(0, c.dst, c.dst + c.size);
    this.sharedAccess(w, lane, c.dst, c.size, 'write', c.site);
  }
}
