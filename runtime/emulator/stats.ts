/**
 * Execution statistics, counted per warp instruction as the hardware counts them:
 * - shared memory: 32 banks of 4 bytes; a warp request is served in phases of 128 bytes
 *   (32 lanes for ≤ 4-byte accesses, 16 for 8-byte, 8 for 16-byte); in each phase the bank with
 *   the most distinct words sets the number of wavefronts. Extra wavefronts beyond one per phase
 *   are bank conflicts.
 * - global memory: the distinct 32-byte sectors a warp request touches (4 per request is perfect
 *   coalescing for 4-byte accesses by 32 lanes).
 */
import type { EmuStats } from './types.js';

export class Stats {
  /** Thread-instructions per class, indexed by `classId` (a string-keyed record is too slow here). */
  private readonly counts: number[] = [];
  private readonly classes: string[] = [];
  threadInstructions = 0;
  readonly shared = { requests: 0, wavefronts: 0, conflictWavefronts: 0 };
  readonly global = { requests: 0, sectors: 0 };

  /** The id `count` takes for an instruction class; resolved once per instruction. */
  classId(cls: string): number {
    let id = this.classes.indexOf(cls);
    if (id < 0) {
      id = this.classes.push(cls) - 1;
      this.counts.push(0);
    }
    return id;
  }

  count(classId: number, lanes: number): void {
    this.counts[classId]! += lanes;
    this.threadInstructions += lanes;
  }

  get instructions(): Record<string, number> {
    const out: Record<string, number> = {};
    this.classes.forEach((c, i) => {
      if (this.counts[i]) out[c] = this.counts[i]!;
    });
    return out;
  }

  /** One warp request: `addrs[i]` is the shared address of lane `lanes[i]`, each `size` bytes. */
  sharedRequest(lanes: readonly number[], addrs: readonly number[], size: number): void {
    if (addrs.length === 0) return;
    const perPhase = size <= 4 ? 32 : 128 / size;
    const phases = new Map<number, Map<number, Set<number>>>();
    for (let i = 0; i < addrs.length; i++) {
      const phase = Math.floor(lanes[i]! / perPhase);
      let banks = phases.get(phase);
      if (!banks) phases.set(phase, (banks = new Map()));
      const first = Math.floor(addrs[i]! / 4);
      const words = Math.max(1, size / 4);
      for (let w = 0; w < words; w++) {
        const word = first + w;
        const bank = word % 32;
        let set = banks.get(bank);
        if (!set) banks.set(bank, (set = new Set()));
        set.add(word);
      }
    }
    let wavefronts = 0;
    for (const banks of phases.values()) {
      let worst = 1;
      for (const s of banks.values()) worst = Math.max(worst, s.size);
      wavefronts += worst;
    }
    this.shared.requests++;
    this.shared.wavefronts += wavefronts;
    this.shared.conflictWavefronts += wavefronts - phases.size;
  }

  globalRequest(addrs: readonly number[], size: number): void {
    if (addrs.length === 0) return;
    const sectors = new Set<number>();
    for (const a of addrs) for (let s = Math.floor(a / 32); s <= Math.floor((a + size - 1) / 32); s++) sectors.add(s);
    this.global.requests++;
    this.global.sectors += sectors.size;
  }

  snapshot(): EmuStats {
    return {
      instructions: this.instructions,
      threadInstructions: this.threadInstructions,
      shared: { ...this.shared },
      global: { ...this.global },
    };
  }
}

/** The addresses one warp instruction touched, split by space, to count as one request each. */
export class WarpAccesses {
  private readonly sharedLanes: number[] = [];
  private readonly sharedAddrs: number[] = [];
  private readonly globalAddrs: number[] = [];

  reset(): void {
    this.sharedLanes.length = 0;
    this.sharedAddrs.length = 0;
    this.globalAddrs.length = 0;
  }

  add(space: 'global' | 'shared' | 'other', lane: number, addr: number): void {
    if (space === 'shared') {
      this.sharedLanes.push(lane);
      this.sharedAddrs.push(addr);
    } else if (space === 'global') this.globalAddrs.push(addr);
  }

  /** Records the requests of `bytes` per lane (the whole vector for .v2/.v4). */
  flush(stats: Stats, bytes: number): void {
    stats.sharedRequest(this.sharedLanes, this.sharedAddrs, bytes);
    stats.globalRequest(this.globalAddrs, bytes);
  }
}
