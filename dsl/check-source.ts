/**
 * `tilekit check`: parse a source, then check every kernel in every configuration of its space
 * (constants over their candidates too), so an error that only some tile sizes trigger is
 * found before the tuner meets it. Diagnostics repeated across configurations are reported once,
 * with a note naming the first configuration that shows them.
 */
import type { KernelDecl, Program } from './ast.js';
import { MISSING } from './ast.js';
import { checkKernel, type CheckedKernel } from './checker.js';
import { bindConfig, describe, enumerateConfigs, kernelSpace, type KernelSpace } from './config-space.js';
import { type Diagnostic, error } from './diagnostic.js';
import { parseProgram } from './parser.js';
import type { SourceText } from './source.js';
import type { CVal } from './symbols.js';

/** How many configurations of one kernel `check` visits at most (they are enumerated in order). */
export const CHECK_CONFIG_LIMIT = 4096;

export interface SourceCheck {
  readonly program: Program;
  readonly diagnostics: Diagnostic[];
  /** Configurations checked per kernel. */
  readonly checked: Map<string, number>;
}

export function checkSource(src: SourceText): SourceCheck {
  const { program, diagnostics } = parseProgram(src);
  const checked = new Map<string, number>();
  const seen = new Set<string>();
  const add = (d: Diagnostic, note?: string): void => {
    // The same error at the same place in several configurations is one error.
    const key = `${d.code}:${d.span.start}:${d.span.end}`;
    if (seen.has(key)) return;
    seen.add(key);
    diagnostics.push(note ? { ...d, notes: [...(d.notes ?? []), note] } : d);
  };
  const names = new Set<string>();
  for (const k of program.kernels) {
    if (k.name.name !== MISSING && names.has(k.name.name)) {
      add(error('TK1006', k.name.span, `a kernel named '${k.name.name}' is already defined in this file`));
    }
    names.add(k.name.name);
    checked.set(k.name.name, checkAllConfigs(k, add));
  }
  return { program, diagnostics, checked };
}

function checkAllConfigs(k: KernelDecl, add: (d: Diagnostic, note?: string) => void): number {
  const space = kernelSpace(k);
  space.diagnostics.forEach((d) => add(d));
  if (space.diagnostics.length > 0) return 0;
  const { configs, total, complete, unbound } = enumerateConfigs(space, { allConsts: true, limit: CHECK_CONFIG_LIMIT });
  for (const name of unbound) {
    const p = space.consts.find((c) => c.name === name)!;
    add({
      ...error('TK3010', p.span, `constant '${name}' has no default or candidates, so the kernel body cannot be checked`, `give it a default (\`${name}: ${p.kind} = ...\`) or candidates`),
      severity: 'warning',
    });
  }
  if (unbound.length > 0) return 0;
  // The default configuration first (its errors need no note); a constant without a default is
  // legal — it must be given at build time — so only other problems are reported here.
  const def = bindConfig(space, new Map());
  const malformed = def.diagnostics.some((d) => d.code !== 'TK3004' && d.code !== 'TK3007');
  if (total === 0 && complete && !malformed) {
    add(error('TK3008', k.name.span, `no configuration of kernel '${k.name.name}' satisfies its require constraints`, 'loosen a constraint or add candidates'));
    return 0;
  }
  def.diagnostics.filter((d) => d.code !== 'TK3007').forEach((d) => add(d));
  if (def.bindings) checkKernel(k, def.bindings).diagnostics.forEach((d) => add(d));
  for (const b of configs) {
    for (const d of checkKernel(k, b).diagnostics) add(d, `in configuration ${describe(b)}`);
  }
  if (!complete) {
    add({
      ...error('TK3009', k.name.span, `only ${configs.length} configurations of kernel '${k.name.name}' were checked: its space is larger (${total}+ satisfy its require constraints)`, 'tighten the require constraints, or check a part of the space with `tilekit ir --config`'),
      severity: 'warning',
    });
  }
  return configs.length;
}

/** Finds a kernel by name (or the only kernel of the program). */
export function findKernel(program: Program, name: string | undefined): KernelDecl | string {
  if (name === undefined) {
    if (program.kernels.length === 1) return program.kernels[0]!;
    return `the file defines ${program.kernels.length} kernels (${program.kernels.map((k) => k.name.name).join(', ')}); choose one with --kernel`;
  }
  const k = program.kernels.find((x) => x.name.name === name);
  return k ?? `no kernel named '${name}'; the file defines: ${program.kernels.map((x) => x.name.name).join(', ') || 'none'}`;
}

/** Parses and checks one kernel in one configuration, for the compiler. */
export function checkForBuild(
  src: SourceText,
  kernelName: string | undefined,
  overrides: ReadonlyMap<string, string | CVal>,
): { checked?: CheckedKernel; space?: KernelSpace; diagnostics: Diagnostic[] } {
  const { program, diagnostics } = parseProgram(src);
  if (diagnostics.length > 0) return { diagnostics };
  const k = findKernel(program, kernelName);
  if (typeof k === 'string') return { diagnostics: [error('TK1008', { start: 0, end: 0 }, k)] };
  const space = kernelSpace(k);
  if (space.diagnostics.length > 0) return { diagnostics: [...space.diagnostics] };
  const bound = bindConfig(space, overrides);
  if (!bound.bindings) return { diagnostics: bound.diagnostics, space };
  const checked = checkKernel(k, bound.bindings);
  return checked.diagnostics.some((d) => d.severity === 'error') ? { diagnostics: [...checked.diagnostics], space } : { checked, space, diagnostics: [...checked.diagnostics] };
}
