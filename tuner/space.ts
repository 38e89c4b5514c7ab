/**
 * A kernel's tuning space: its tunables (each a dimension with integer candidates), its constants
 * fixed for the run (`--const`, else their defaults), and the `require` constraints as the
 * validity predicate. Target limits are not known here: a configuration over them is rejected when
 * it is compiled (compiler/*: TK4001/TK4002) or by the toolchain's resource report, and recorded
 * with its reason (tuner/evaluate.ts).
 */
import { checkRequires, formatVal, kernelSpace, type KernelSpace } from '../dsl/config-space.js';
import { type Diagnostic, error } from '../dsl/diagnostic.js';
import { isDType } from '../dsl/dtype.js';
import { parseProgram } from '../dsl/parser.js';
import type { SourceText } from '../dsl/source.js';
import type { Bindings, CVal } from '../dsl/symbols.js';
import { sourceHash } from './results-db.js';
import type { Dimension, Point } from './strategies/types.js';

export interface TuneSpace {
  readonly kernel: string;
  readonly source: SourceText;
  /** sha256 of the tile text: results are keyed by it, so an edited kernel is tuned afresh. */
  readonly sourceHash: string;
  /** Constants, fixed for the whole run. */
  readonly consts: ReadonlyMap<string, CVal>;
  readonly dims: readonly Dimension[];
  /** The kernel's default configuration (its `= value` defaults). */
  readonly defaultPoint: Point;
  /** Whether a point satisfies every `require`. */
  valid(p: Point): boolean;
  /** `--config`/`--const`-style overrides that build the point (compiler/compile.ts buildKernelIR). */
  overrides(p: Point): Map<string, string>;
  /** Every valid point, in a stable order (dimension order, candidates in declared order). */
  points(): Point[];
}

function bindings(space: KernelSpace, consts: ReadonlyMap<string, CVal>, p: Point): Bindings {
  const values = new Map<string, CVal>(consts);
  for (const t of space.tunables) values.set(t.name, { kind: 'int', value: p[t.name]! });
  return { values };
}

/**
 * The tuning space of kernel `name` in `source`, with constants from `constOverrides` (text, as on
 * the command line) or their defaults. Diagnostics: no such kernel, a tunable that is not an
 * integer with candidates, a constant without a value, a `--const` that is not a constant.
 */
export function tuneSpace(
  source: SourceText,
  name: string,
  constOverrides: ReadonlyMap<string, string> = new Map(),
): { space?: TuneSpace; diagnostics: Diagnostic[]; message?: string } {
  const { program } = parseProgram(source);
  const decl = program.kernels.find((k) => k.name.name === name);
  if (!decl) {
    const names = program.kernels.map((k) => k.name.name).join(', ') || 'none';
    return { diagnostics: [], message: `no kernel named '${name}' in ${source.path} (it has: ${names})` };
  }
  const ks = kernelSpace(decl);
  const diags: Diagnostic[] = [...ks.diagnostics];
  const consts = new Map<string, CVal>();
  for (const [k] of constOverrides) {
    if (!ks.consts.some((c) => c.name === k)) {
      diags.push(error('TK3005', decl.name.span, `kernel '${name}' has no constant named '${k}'`, `its constants: ${ks.consts.map((c) => c.name).join(', ') || 'none'}; tunables are searched, not set`));
    }
  }
  for (const c of ks.consts) {
    const text = constOverrides.get(c.name);
    const v = text !== undefined ? parseConst(text, c) : c.default;
    if (!v) {
      diags.push(
        text !== undefined
          ? error('TK3006', c.span, `'${text}' is not a valid value for constant '${c.name}'`, c.candidates ? `expected one of ${c.candidates.map(formatVal).join(', ')}` : undefined)
          : error('TK3007', c.span, `constant '${c.name}' has no default value`, `pass --const ${c.name}=<value>`),
      );
      continue;
    }
    consts.set(c.name, v);
  }
  const dims: Dimension[] = [];
  const def: Record<string, number> = {};
  for (const t of ks.tunables) {
    // The language makes every tunable an int with candidates (TK3001 otherwise).
    const values = (t.candidates ?? []).flatMap((v) => (v.kind === 'int' ? [v.value] : []));
    dims.push({ name: t.name, values });
    def[t.name] = t.default?.kind === 'int' ? t.default.value : values[0]!;
  }
  if (diags.some((d) => d.severity === 'error')) return { diagnostics: diags };
  const valid = (p: Point): boolean => checkRequires(ks, bindings(ks, consts, p), false).ok;
  const overrides = (p: Point): Map<string, string> => {
    const m = new Map<string, string>();
    for (const [k, v] of consts) m.set(k, formatVal(v));
    for (const d of dims) m.set(d.name, String(p[d.name]));
    return m;
  };
  const points = (): Point[] => {
    const out: Point[] = [];
    const idx = dims.map(() => 0);
    if (dims.length === 0) return [{}];
    for (;;) {
      const p: Record<string, number> = {};
      dims.forEach((d, i) => (p[d.name] = d.values[idx[i]!]!));
      if (valid(p)) out.push(p);
      let i = dims.length - 1;
      while (i >= 0 && ++idx[i]! >= dims[i]!.values.length) idx[i--] = 0;
      if (i < 0) return out;
    }
  };
  return {
    space: { kernel: name, source, sourceHash: sourceHash(source.text), consts, dims, defaultPoint: def, valid, overrides, points },
    diagnostics: diags,
  };
}

/** A `--const` value of a constant: one of its candidates when it has them. */
function parseConst(text: string, c: KernelSpace['consts'][number]): CVal | undefined {
  if (c.candidates) return c.candidates.find((x) => formatVal(x) === text);
  if (c.kind === 'int') return /^-?\d+$/.test(text) ? { kind: 'int', value: Number(text) } : undefined;
  if (c.kind === 'bool') return text === 'true' || text === 'false' ? { kind: 'bool', value: text === 'true' } : undefined;
  if (c.kind === 'float') return text.trim() === '' || Number.isNaN(Number(text)) ? undefined : { kind: 'float', value: Number(text) };
  return isDType(text) ? { kind: 'type', value: text } : undefined;
}
