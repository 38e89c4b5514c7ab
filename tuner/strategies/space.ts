/**
 * The valid points of a search space, enumerated once in lexicographic order (the first dimension
 * varies slowest, as `dsl/config-space.ts` `enumerateConfigs` visits configurations), with each
 * point's value indices for the strategies that reason about neighbourhoods.
 */
import { type Dimension, type Point, type SearchSpace, pointKey } from './types.js';

/** Points of the full product (valid or not) a strategy will visit before refusing the space as too large. */
export const MAX_SPACE_POINTS = 1 << 22;

export class SpaceTable {
  readonly dims: readonly Dimension[];
  /** Valid points, in lexicographic order of their value indices. */
  readonly points: readonly Point[];
  readonly keys: readonly string[];
  /** Value index of point i in dimension d at `idx[i * dims.length + d]`. */
  readonly idx: Uint16Array;
  private readonly byKey: Map<string, number>;

  constructor(space: SearchSpace) {
    checkDims(space.dims);
    this.dims = space.dims;
    const D = space.dims.length;
    const product = space.dims.reduce((n, d) => n * d.values.length, 1);
    if (product > MAX_SPACE_POINTS) {
      throw new RangeError(`search space has ${product} points (more than ${MAX_SPACE_POINTS}); narrow its dimensions`);
    }
    const points: Point[] = [];
    const idx: number[] = [];
    const cur = new Array<number>(D).fill(0);
    for (let n = 0; n < product; n++) {
      const p: Record<string, number> = {};
      for (let d = 0; d < D; d++) p[space.dims[d]!.name] = space.dims[d]!.values[cur[d]!]!;
      if (space.valid(p)) {
        points.push(Object.freeze(p));
        idx.push(...cur);
      }
      for (let d = D - 1; d >= 0 && ++cur[d]! >= space.dims[d]!.values.length; d--) cur[d] = 0;
    }
    this.points = points;
    this.keys = points.map(pointKey);
    this.idx = Uint16Array.from(idx);
    this.byKey = new Map(this.keys.map((k, i) => [k, i]));
  }

  get size(): number {
    return this.points.length;
  }

  /** The index of the valid point with this `pointKey`, if there is one. */
  indexOf(key: string): number | undefined {
    return this.byKey.get(key);
  }
}

function checkDims(dims: readonly Dimension[]): void {
  const names = new Set<string>();
  for (const d of dims) {
    if (names.has(d.name)) throw new RangeError(`search space: dimension '${d.name}' appears twice`);
    names.add(d.name);
    if (d.values.length === 0) throw new RangeError(`search space: dimension '${d.name}' has no values`);
    if (d.values.length > 0xffff) throw new RangeError(`search space: dimension '${d.name}' has too many values`);
    if (new Set(d.values).size !== d.values.length) throw new RangeError(`search space: dimension '${d.name}' repeats a value`);
    for (const v of d.values) {
      if (!Number.isFinite(v)) throw new RangeError(`search space: dimension '${d.name}' has a non-finite value ${v}`);
    }
  }
}
