/**
 * The entry of the bundled CLI the GPU check carries (test/gpu/bundle.mjs): `tilekit` itself, plus
 * `run-vs-interpret BACKEND [--kernel NAME]...` (test/gpu/run-vs-interpret.ts).
 */
import { processIO, runCli } from '../../cli/tilekit.js';
import { runVsInterpret } from './run-vs-interpret.js';

const [command, ...rest] = process.argv.slice(2);
if (command === 'run-vs-interpret') {
  const backend = rest[0] ?? 'gpu';
  const kernels = rest.flatMap((a, i) => (rest[i - 1] === '--kernel' ? [a] : []));
  process.exitCode = await runVsInterpret({ backend, kernels }, processIO);
} else {
  process.exitCode = await runCli(process.argv.slice(2));
}
