/**
 * `tilekit pack select PACK --kernel K --target T [--device D] [--const K=V,...] --shape "M=…,N=…"
 * [--scalar NAME=V,...] [--format text|json]`: what the runtime would launch for one call — the
 * binary, why it was chosen, grid, block, shared memory, parameter order and files — from the pack
 * alone (runtime/pack/dispatcher.ts).
 */
import { parseAssignments } from '../../compiler/ir-command.js';
import type { AbiParam } from '../../compiler/kernel-abi.js';
import { EXIT_ERRORS, EXIT_OK, EXIT_USAGE, type CliIO } from '../../dsl/cli-io.js';
import { type LaunchPlan, PackDispatchError, PackDispatcher } from './dispatcher.js';

export interface SelectFlags {
  kernel: string;
  target: string;
  device?: string;
  const: string[];
  shape: string;
  scalar: string[];
  format?: string;
}

/** `NAME=number` lists as a record; errors name the flag and the entry. */
function numbers(flag: string, lists: readonly string[]): { values: Record<string, number>; errors: string[] } {
  const parsed = parseAssignments(flag, lists);
  const values: Record<string, number> = {};
  const errors = [...parsed.errors];
  for (const [k, v] of parsed.values) {
    const n = Number(v);
    if (!Number.isFinite(n)) errors.push(`${flag}: '${k}=${v}' is not a number`);
    else values[k] = n;
  }
  return { values, errors };
}

/** How a launcher passes the parameter: `a: f16*`, `M: u32`, `a_stride0: u64`, `alpha: f32`. */
function abiText(p: AbiParam): string {
  switch (p.kind) {
    case 'tensor':
      return `${p.name}: ${p.dtype}*`;
    case 'dim':
      return `${p.name}: u32`;
    case 'stride':
      return `${p.name}: u64`;
    case 'scalar':
      return `${p.name}: ${p.dtype}`;
  }
}

export function packSelectCommand(path: string, flags: SelectFlags, io: CliIO): number {
  const format = flags.format ?? 'text';
  const shape = numbers('--shape', [flags.shape]);
  const scalars = numbers('--scalar', flags.scalar);
  const consts = parseAssignments('--const', flags.const);
  const errors = [...(format === 'text' || format === 'json' ? [] : [`--format: unknown format '${format}': expected text or json`]), ...shape.errors, ...scalars.errors, ...consts.errors];
  if (errors.length > 0) {
    for (const e of errors) io.err(`error: ${e}`);
    return EXIT_USAGE;
  }
  let plan: LaunchPlan;
  try {
    plan = PackDispatcher.open(path).plan({
      kernel: flags.kernel,
      target: flags.target,
      ...(flags.device !== undefined ? { device: flags.device } : {}),
      consts: Object.fromEntries(consts.values),
      shape: shape.values,
      scalars: scalars.values,
    });
  } catch (e) {
    if (!(e instanceof PackDispatchError)) throw e;
    io.err(`error: ${e.message}`);
    return EXIT_ERRORS;
  }
  const b = plan.binary;
  const summary = {
    kernel: plan.kernel,
    target: plan.target,
    device: plan.device,
    binary: b.id,
    config: b.config,
    how: plan.how,
    ...(plan.entry ? { bucket: plan.entry.bucket, chosenBy: plan.entry.chosenBy } : {}),
    entry: b.entry,
    grid: plan.grid,
    block: plan.block,
    sharedBytes: plan.sharedBytes,
    ...(b.ldsBytes !== undefined ? { ldsBytes: b.ldsBytes } : {}),
    params: plan.params.map(abiText),
    files: b.files,
  };
  if (format === 'json') {
    io.out(JSON.stringify(summary, null, 2));
    return EXIT_OK;
  }
  const why =
    plan.how === 'default'
      ? 'the table has no entries: the default configuration'
      : `${plan.how === 'bucket' ? 'its bucket' : 'the nearest bucket'} ${plan.entry!.bucket}, chosen by ${plan.entry!.chosenBy.costUs.toFixed(2)} µs ${plan.entry!.chosenBy.label} on ${plan.entry!.chosenBy.device} (${plan.entry!.chosenBy.backend})`;
  io.out(`${plan.kernel} on ${plan.target} (${plan.device}): binary ${b.id}, from ${why}`);
  io.out(`  launch ${b.entry}: grid [${plan.grid.join(', ')}], block [${plan.block.join(', ')}], ${plan.sharedBytes} bytes dynamic shared memory${b.ldsBytes !== undefined ? ` (${b.ldsBytes} bytes LDS, static)` : ''}`);
  io.out(`  parameters: ${summary.params.join(', ')}`);
  io.out(`  files: ${b.files.code}, ${b.files.binary}`);
  return EXIT_OK;
}
