/**
 * Shapes and shape buckets. A tuning run measures exact shapes; results and packs are keyed by the
 * bucket a shape falls in, so a serving runtime can pick a configuration for a shape nobody tuned:
 * per dimension, a size of at most SMALL_EXACT is its own bucket (decode: M = 1, 2, …, 16 behave
 * differently), a larger one the power-of-two range [2^k, 2^(k+1)) that holds it.
 */

/** Sizes up to this are buckets of their own. */
export const SMALL_EXACT = 16;

/** Sizes of a kernel's shape symbols, e.g. { M: 4096, N: 4096, K: 4096 }. */
export type Shape = Readonly<Record<string, number>>;

/** The bucket of one size: `7`, or `4096-8191`. */
export function sizeBucket(v: number): string {
  if (v <= SMALL_EXACT) return String(v);
  const lo = 2 ** Math.floor(Math.log2(v));
  return `${lo}-${2 * lo - 1}`;
}

/** `M=1,N=4096-8191,K=4096-8191`, in the order of `dims`. */
export function bucketOf(shape: Shape, dims: readonly string[]): string {
  return dims.map((d) => `${d}=${sizeBucket(shape[d]!)}`).join(',');
}

/** `M=4096,N=4096,K=4096`, in the order of `dims`. */
export function formatShape(shape: Shape, dims: readonly string[]): string {
  return dims.map((d) => `${d}=${shape[d]}`).join(',');
}

/**
 * `--shapes "M=4096,N=4096,K=4096;M=1,N=4096,K=4096"`: one shape per `;`, each naming every shape
 * symbol of the kernel once with a positive integer. Every problem is reported, not just the first.
 */
export function parseShapes(text: string, dims: readonly string[]): { shapes: Shape[]; errors: string[] } {
  const shapes: Shape[] = [];
  const errors: string[] = [];
  const parts = text.split(';').map((s) => s.trim());
  parts.forEach((part, i) => {
    const where = `--shapes, shape ${i + 1} ('${part}')`;
    if (part === '') {
      errors.push(`${where}: empty`);
      return;
    }
    const shape: Record<string, number> = {};
    const named = new Set<string>();
    for (const entry of part.split(',')) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\d+)\s*$/.exec(entry);
      if (!m) {
        errors.push(`${where}: '${entry.trim()}' is not NAME=SIZE`);
        continue;
      }
      const [, name, size] = m as unknown as [string, string, string];
      const twice = named.has(name);
      named.add(name);
      if (!dims.includes(name)) errors.push(`${where}: the kernel has no shape symbol '${name}' (it has ${dims.join(', ')})`);
      else if (twice) errors.push(`${where}: '${name}' is given twice`);
      else if (Number(size) < 1 || !Number.isSafeInteger(Number(size))) errors.push(`${where}: ${name}=${size} is not a positive size`);
      else shape[name] = Number(size);
    }
    const missing = dims.filter((d) => !named.has(d));
    if (missing.length > 0) errors.push(`${where}: missing ${missing.join(', ')}`);
    shapes.push(shape);
  });
  return errors.length > 0 ? { shapes: [], errors } : { shapes, errors };
}
