/**
 * Shared-memory race detection. Per byte it remembers the last plain write and a summary of the
 * reads since: who, in which barrier epoch, and from which warp at which `bar.warp.sync` count.
 * Two accesses by different threads in one barrier epoch, one of them a write, race — unless
 * both threads are in one warp and a `bar.warp.sync` came between them. Atomics are checked
 * against plain accesses but never recorded, so atomics do not race with each other.
 *
 * Epochs increase across CTAs, so state left by an earlier CTA is simply old and needs no reset.
 */

export type AccessMode = 'read' | 'write' | 'atomic';

/** Who an access conflicts with: a description for the report, or undefined. */
export type Conflict = string | undefined;

const MANY = -1;

export class RaceDetector {
  private readonly wTid: Int32Array;
  private readonly wEpoch: Int32Array;
  private readonly wWarp: Int32Array;
  private readonly wSync: Int32Array;
  /** Thread id + 1 of the only reader, or MANY. */
  private readonly rTid: Int32Array;
  private readonly rEpoch: Int32Array;
  /** The readers' warp when they share one, else MANY. */
  private readonly rWarp: Int32Array;
  /** The latest warp-sync count among the readers. */
  private readonly rSync: Int32Array;

  constructor(bytes: number) {
    this.wTid = new Int32Array(bytes);
    this.wEpoch = new Int32Array(bytes);
    this.wWarp = new Int32Array(bytes);
    this.wSync = new Int32Array(bytes);
    this.rTid = new Int32Array(bytes);
    this.rEpoch = new Int32Array(bytes);
    this.rWarp = new Int32Array(bytes);
    this.rSync = new Int32Array(bytes);
  }

  /**
   * Checks and records an access of byte `i` by thread `tid` (of warp `warp`, whose
   * `bar.warp.sync` count is `sync`) in barrier epoch `epoch`.
   */
  access(i: number, tid: number, warp: number, sync: number, epoch: number, mode: AccessMode): Conflict {
    const me = tid + 1;
    const wt = this.wTid[i]!;
    if (wt !== 0 && wt !== me && this.wEpoch[i] === epoch && !(this.wWarp[i] === warp && this.wSync[i]! < sync)) {
      return `a write by thread ${wt - 1}`;
    }
    if (mode === 'read') {
      const rt = this.rTid[i]!;
      if (rt === 0 || this.rEpoch[i] !== epoch) {
        this.rTid[i] = me;
        this.rWarp[i] = warp;
        this.rSync[i] = sync;
        this.rEpoch[i] = epoch;
      } else {
        if (rt !== me) this.rTid[i] = MANY;
        if (this.rWarp[i] !== warp) this.rWarp[i] = MANY;
        if (sync > this.rSync[i]!) this.rSync[i] = sync;
      }
      return undefined;
    }
    const rt = this.rTid[i]!;
    if (rt !== 0 && rt !== me && this.rEpoch[i] === epoch && !(this.rWarp[i] === warp && this.rSync[i]! < sync)) {
      return rt === MANY ? 'reads by other threads' : `a read by thread ${rt - 1}`;
    }
    if (mode === 'write') {
      this.wTid[i] = me;
      this.wEpoch[i] = epoch;
      this.wWarp[i] = warp;
      this.wSync[i] = sync;
    }
    return undefined;
  }
}
