/**
 * A fixed number of slots for expensive work (ptxas and clang processes): tasks beyond the limit
 * wait for a slot, in the order they asked. The tuner compiles configurations for several shapes'
 * searches through one pool sized to the machine's cores.
 */
export class Pool {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a pool needs at least one slot, got ${size}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}
