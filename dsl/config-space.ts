/**
 * A kernel's configuration space: its `const` parameters (set per build) and its tunables
 * (searched by the tuner), their candidates and defaults, and the `require` constraints.
 */
import type { ConstDecl, Expr, KernelDecl } from './ast.js';
import { MISSING } from './ast.js';
import { Checker } from './checker.js';
import { type Diagnostic, error } from './diagnostic.js';
import { isDType } from './dtype.js';
import type { Span } from './span.js';
import type { Bindings, CVal } from './symbols.js';

export interface ParamSpace {
  readonly name: string;
  readonly tunable: boolean;
  /** Allowed values; undefined when any value of the kind is allowed. */
  readonly candidates?: readonly CVal[];
  readonly default?: CVal;
  readonly kind: CVal['kind'];
  readonly span: Span;
}

export interface KernelSpace {
  readonly kernel: KernelDecl;
  readonly consts: readonly ParamSpace[];
  readonly tunables: readonly ParamSpace[];
  readonly diagnostics: readonly Diagnostic[];
}

const KINDS: readonly CVal['kind'][] = ['int', 'bool', 'float', 'type'];

/** A literal in a candidate list or a default, read as a value of the given kind. */
function literal(e: Expr, kind: CVal['kind']): CVal | undefined {
  const neg = e.kind === 'Unary' && e.op === '-' ? e.operand : undefined;
  const lit = neg ?? e;
  const sign = neg ? -1 : 1;
  switch (kind) {
    case 'int':
      return lit.kind === 'Int' ? { kind, value: sign * lit.value } : undefined;
    case 'float':
      if (lit.kind === 'Float' || lit.kind === 'Int') return { kind, value: sign * lit.value };
      if (lit.kind === 'Name' && lit.name === 'inf') return { kind, value: sign * Infinity };
      return undefined;
    case 'bool':
      return !neg && lit.kind === 'Bool' ? { kind, value: lit.value } : undefined;
    case 'type':
      return !neg && lit.kind === 'Name' && isDType(lit.name) ? { kind, value: lit.name } : undefined;
  }
}

function sameVal(a: CVal, b: CVal): boolean {
  return a.kind === b.kind && a.value === b.value;
}

export function formatVal(v: CVal): string {
  return String(v.value);
}

function declSpace(
  d: { name: { name: string; span: Span }; candidates?: readonly Expr[]; default?: Expr; span: Span },
  kind: CVal['kind'],
  tunable: boolean,
  diags: Diagnostic[],
): ParamSpace {
  const what = tunable ? 'tunable' : 'constant';
  const expected = kind === 'type' ? 'a dtype name such as f16' : `a ${kind} literal`;
  const candidates = d.candidates?.map((c) => {
    const v = literal(c, kind);
    if (!v) diags.push(error('TK3001', c.span, `candidates of ${what} '${d.name.name}' must be literals: expected ${expected}`, 'tune spaces are lists of literal values'));
    return v;
  });
  const cands = candidates?.filter((c): c is CVal => c !== undefined);
  if (d.candidates && d.candidates.length === 0) diags.push(error('TK3001', d.span, `${what} '${d.name.name}' has an empty candidate list`));
  let def: CVal | undefined;
  if (d.default) {
    def = literal(d.default, kind);
    if (!def) diags.push(error('TK3001', d.default.span, `the default of ${what} '${d.name.name}' must be ${expected}`));
    else if (cands && !cands.some((c) => sameVal(c, def!))) {
      diags.push(
        error('TK3002', d.default.span, `default ${formatVal(def)} of ${what} '${d.name.name}' is not among its candidates [${cands.map(formatVal).join(', ')}]`),
      );
    }
  } else def = cands?.[0];
  return { name: d.name.name, tunable, kind, span: d.span, ...(cands ? { candidates: cands } : {}), ...(def ? { default: def } : {}) };
}

export function kernelSpace(k: KernelDecl): KernelSpace {
  const diags: Diagnostic[] = [];
  const seen = new Set<string>();
  const consts: ParamSpace[] = [];
  const tunables: ParamSpace[] = [];
  const dup = (name: { name: string; span: Span }): boolean => {
    if (name.name === MISSING) return true;
    if (seen.has(name.name)) {
      diags.push(error('TK1002', name.span, `'${name.name}' is already defined`, 'constants and tunables share one namespace'));
      return true;
    }
    seen.add(name.name);
    return false;
  };
  for (const c of k.consts as readonly ConstDecl[]) {
    if (dup(c.name)) continue;
    const kind = KINDS.find((x) => x === c.type.kind);
    if (!kind) {
      diags.push(error('TK1005', c.type.span, `unknown constant kind '${c.type.kind}'`, 'expected int, bool, float or type'));
      continue;
    }
    consts.push(declSpace(c, kind, false, diags));
  }
  for (const t of k.tunables) {
    if (dup(t.name)) continue;
    tunables.push(declSpace(t, 'int', true, diags));
  }
  return { kernel: k, consts, tunables, diagnostics: diags };
}

function bindingsOf(values: Map<string, CVal>): Bindings {
  return { values };
}

/**
 * Evaluates the `require` constraints under a configuration. `ok` is whether every well-formed
 * constraint holds; a malformed one (not a compile-time bool) is reported and does not count.
 */
export function checkRequires(
  space: KernelSpace,
  b: Bindings,
  reportFailures: boolean,
  hint = 'choose other values with --config / --const',
): { ok: boolean; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  let ok = true;
  const checker = new Checker(space.kernel, b);
  // Only what the constraints themselves raise: parameter errors are the body check's to report.
  const before = checker.diags.length;
  for (const r of space.kernel.requires) {
    const t = checker.expr(r);
    if (t.kind === 'error') continue;
    if (t.kind !== 'tile' || t.dtype !== 'bool' || t.shape.length !== 0 || t.value === undefined) {
      diags.push(error('TK3003', r.span, 'a require constraint must be a compile-time bool over constants and tunables', 'e.g. `require BM * BN <= 128 * 256;`'));
      continue;
    }
    if (!t.value) {
      ok = false;
      if (reportFailures) diags.push(error('TK3004', r.span, `the configuration ${describe(b)} violates this require constraint`, hint));
    }
  }
  diags.unshift(...checker.diags.slice(before));
  return { ok, diagnostics: diags };
}

export function describe(b: Bindings): string {
  return [...b.values].map(([k, v]) => `${k}=${formatVal(v)}`).join(',');
}

/** Parses a command-line value (`--config BM=64`) as a value of the given kind. */
function parseValue(text: string, kind: CVal['kind']): CVal | undefined {
  switch (kind) {
    case 'int':
      return /^-?\d+$/.test(text) ? { kind, value: Number(text) } : undefined;
    case 'float': {
      const v = text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
      return text.trim() !== '' && !Number.isNaN(v) ? { kind, value: v } : undefined;
    }
    case 'bool':
      return text === 'true' || text === 'false' ? { kind, value: text === 'true' } : undefined;
    case 'type':
      return isDType(text) ? { kind, value: text } : undefined;
  }
}

/**
 * Binds a configuration: every constant and tunable gets its default unless overridden.
 * `overrides` come from `--config` and `--const` (strings) or from the tuner (values).
 */
export function bindConfig(space: KernelSpace, overrides: ReadonlyMap<string, string | CVal>): { bindings?: Bindings; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const values = new Map<string, CVal>();
  const all = [...space.consts, ...space.tunables];
  for (const [name] of overrides) {
    if (!all.some((p) => p.name === name)) {
      const known = all.map((p) => p.name).join(', ') || 'none';
      diags.push(error('TK3005', space.kernel.name.span, `kernel '${space.kernel.name.name}' has no constant or tunable named '${name}'`, `it has: ${known}`));
    }
  }
  for (const p of all) {
    const o = overrides.get(p.name);
    let v: CVal | undefined;
    if (o !== undefined) {
      v = typeof o === 'string' ? parseValue(o, p.kind) : o.kind === p.kind ? o : undefined;
      const shown = typeof o === 'string' ? o : formatVal(o);
      if (!v) {
        diags.push(error('TK3006', p.span, `'${shown}' is not a valid ${p.kind} for '${p.name}'`, p.candidates ? `expected one of ${p.candidates.map(formatVal).join(', ')}` : undefined));
        continue;
      }
      if (p.candidates && !p.candidates.some((c) => sameVal(c, v!))) {
        diags.push(error('TK3006', p.span, `${shown} is not a candidate of '${p.name}'`, `expected one of ${p.candidates.map(formatVal).join(', ')}`));
        continue;
      }
    } else v = p.default;
    if (!v) {
      diags.push(
        error('TK3007', p.span, `constant '${p.name}' has no default value`, `give it one (\`${p.name}: ${p.kind} = ...\`) or pass --const ${p.name}=<value>`),
      );
      continue;
    }
    values.set(p.name, v);
  }
  if (diags.length > 0) return { diagnostics: diags };
  const bindings = bindingsOf(values);
  const req = checkRequires(space, bindings, true, overrides.size === 0 ? 'the defaults must satisfy every require: change a default (`= value`) or the constraint' : undefined);
  return req.diagnostics.length === 0 ? { bindings, diagnostics: [] } : { diagnostics: req.diagnostics };
}

/**
 * The values to visit for a parameter without a candidate list: both booleans; else its default;
 * else, for a float, a stand-in (1.0: types do not depend on a float's value). An int or type
 * constant with neither default nor candidates has no value to visit.
 */
function allValues(p: ParamSpace): CVal[] {
  if (p.kind === 'bool') return [{ kind: 'bool', value: false }, { kind: 'bool', value: true }];
  if (p.default) return [p.default];
  return p.kind === 'float' ? [{ kind: 'float', value: 1 }] : [];
}

export interface ConfigEnumeration {
  /** Configurations that satisfy `require`, in a stable order; at most `limit`. */
  readonly configs: Bindings[];
  /** How many satisfying configurations were found (a lower bound when not `complete`). */
  readonly total: number;
  /** Whether the whole space was visited (it is not when it exceeds `maxVisits`). */
  readonly complete: boolean;
  /** Constants that have no value to visit (no default, no candidates, not bool or float). */
  readonly unbound: readonly string[];
}

/**
 * Every configuration of the space that satisfies `require`, constants fixed to their defaults
 * (or enumerated over their candidates when `allConsts`), in a stable order. At most `limit` are
 * returned and at most `maxVisits` points of the space are visited.
 */
export function enumerateConfigs(
  space: KernelSpace,
  opts: { fixed?: ReadonlyMap<string, CVal>; allConsts?: boolean; limit?: number; maxVisits?: number } = {},
): ConfigEnumeration {
  const limit = opts.limit ?? 100_000;
  const maxVisits = opts.maxVisits ?? 1_000_000;
  const axes: { name: string; values: readonly CVal[] }[] = [];
  const unbound: string[] = [];
  for (const p of [...space.consts, ...space.tunables]) {
    const fixed = opts.fixed?.get(p.name);
    const values = fixed ? [fixed] : p.tunable || opts.allConsts ? (p.candidates ?? allValues(p)) : p.default ? [p.default] : [];
    if (values.length === 0) unbound.push(p.name);
    axes.push({ name: p.name, values });
  }
  const configs: Bindings[] = [];
  if (unbound.length > 0) return { configs, total: 0, complete: true, unbound };
  let total = 0;
  let visits = 0;
  const idx = axes.map(() => 0);
  for (;;) {
    if (visits++ >= maxVisits) return { configs, total, complete: false, unbound };
    const values = new Map<string, CVal>();
    axes.forEach((a, i) => values.set(a.name, a.values[idx[i]!]!));
    const b = bindingsOf(values);
    if (checkRequires(space, b, false).ok) {
      total++;
      if (configs.length < limit) configs.push(b);
      else if (total > limit) return { configs, total, complete: false, unbound };
    }
    let i = axes.length - 1;
    while (i >= 0 && ++idx[i]! >= axes[i]!.values.length) idx[i--] = 0;
    if (i < 0) break;
  }
  return { configs, total, complete: true, unbound };
}
