/**
 * Emulated memory: byte arrays with an "initialized" shadow, little-endian like the GPU.
 * Global memory is one address space of regions (kernel buffers, `.global` variables); shared,
 * local, param and const spaces are regions addressed from 0. Generic addresses put shared and
 * local memory in windows far above global memory, as the hardware's generic space does.
 */

/** Generic-address windows (below 2^53, so addresses stay exact JS numbers). */
export const GLOBAL_BASE = 0x1_0000_0000;
export const WINDOW_SIZE = 0x1_0000_0000;
const WINDOWS = { shared: 0x7e00_0000_0000, local: 0x7f00_0000_0000, const: 0x7d00_0000_0000, param: 0x7c00_0000_0000 } as const;
export type WindowSpace = keyof typeof WINDOWS;
export const SHARED_WINDOW = WINDOWS.shared;

function isWindowSpace(space: string): space is WindowSpace {
  return space in WINDOWS;
}

/** `cvta.<space>`: a state-space address as a generic one (global addresses are generic already). */
export function toGeneric(space: string, addr: number): number {
  return isWindowSpace(space) ? WINDOWS[space] + addr : addr;
}

/** `cvta.to.<space>`. */
export function fromGeneric(space: string, addr: number): number {
  return isWindowSpace(space) ? addr - WINDOWS[space] : addr;
}

/** The state space a generic address points into, and the address within it. */
export function spaceOfGeneric(addr: number): { space: WindowSpace | 'global'; addr: number } {
  for (const space of Object.keys(WINDOWS) as WindowSpace[]) {
    const base = WINDOWS[space];
    if (addr >= base && addr < base + WINDOW_SIZE) return { space, addr: addr - base };
  }
  return { space: 'global', addr };
}

export class Region {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** 1 where a byte holds a defined value; undefined when every byte is defined. */
  init: Uint8Array | undefined;

  constructor(
    readonly name: string,
    readonly base: number,
    readonly size: number,
    poison: boolean,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.init = poison ? new Uint8Array(size) : undefined;
  }

  /** Whether [off, off+n) is initialized. */
  isInit(off: number, n: number): boolean {
    const init = this.init;
    if (!init) return true;
    for (let i = 0; i < n; i++) if (!init[off + i]) return false;
    return true;
  }

  markInit(off: number, n: number): void {
    const init = this.init;
    if (init) init.fill(1, off, off + n);
  }

  /** Reads `n` bytes (1, 2, 4 or 8) at `off`: a number for ≤ 4 bytes, a bigint for 8. */
  read(off: number, n: number): number | bigint {
    switch (n) {
      case 1:
        return this.bytes[off]!;
      case 2:
        return this.view.getUint16(off, true);
      case 4:
        return this.view.getUint32(off, true);
      default:
        return this.view.getBigUint64(off, true);
    }
  }

  write(off: number, n: number, v: number | bigint): void {
    switch (n) {
      case 1:
        this.bytes[off] = Number(v) & 0xff;
        break;
      case 2:
        this.view.setUint16(off, Number(v) & 0xffff, true);
        break;
      case 4:
        this.view.setUint32(off, Number(v) >>> 0, true);
        break;
      default:
        this.view.setBigUint64(off, BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(v)), true);
    }
    this.markInit(off, n);
  }
}

/** The global address space: regions at increasing, 256-byte-aligned addresses, with gaps between them. */
export class GlobalMemory {
  private readonly regions: Region[] = [];
  private next = GLOBAL_BASE;
  private last: Region | undefined;

  alloc(name: string, size: number, poison: boolean): Region {
    const r = new Region(name, this.next, Math.max(0, size), poison);
    this.regions.push(r);
    // A 256-byte gap after each region, so an overrun never lands in the next buffer.
    this.next += Math.ceil(Math.max(1, size) / 256) * 256 + 256;
    return r;
  }

  /** The region holding [addr, addr+n), or undefined when the access is out of bounds. */
  find(addr: number, n: number): Region | undefined {
    const l = this.last;
    if (l && addr >= l.base && addr + n <= l.base + l.size) return l;
    let lo = 0;
    let hi = this.regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.regions[mid]!;
      if (addr < r.base) hi = mid - 1;
      else if (addr >= r.base + Math.max(1, r.size)) lo = mid + 1;
      else {
        if (addr + n > r.base + r.size) return undefined;
        this.last = r;
        return r;
      }
    }
    return undefined;
  }

  /** The region nearest to an out-of-bounds address, to name it in a report. */
  nearest(addr: number): { region: Region; offset: number } | undefined {
    let best: Region | undefined;
    for (const r of this.regions) if (r.base <= addr) best = r;
    return best ? { region: best, offset: addr - best.base } : undefined;
  }
}
