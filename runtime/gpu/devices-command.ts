/**
 * `tilekit devices`: lists the attached GPUs through the native addon.
 *
 * Exit status: 0 when a driver is loaded (even with zero devices: the driver says so, and that is an
 * answer); 1 when no GPU driver is found or the addon is not built, with the message on stderr.
 * A script can then write `tilekit devices >/dev/null && run-gpu-tests`, and the "no GPU driver
 * found: looked for …" line never pollutes a pipe that parses the device list.
 */
import { EXIT_ERRORS, EXIT_OK, type CliIO } from '../../dsl/cli-io.js';
import { Device } from './device.js';
import { GpuError } from './errors.js';

function mib(bytes: number): string {
  return `${Math.round(bytes / (1 << 20))} MiB`;
}

export async function devicesCommand(io: CliIO): Promise<number> {
  try {
    const driver = Device.driver();
    if (!driver.found) {
      io.err(driver.message);
      return EXIT_ERRORS;
    }
    io.out(`${driver.api} driver ${driver.driverVersion} (${driver.library}): ${driver.deviceCount} device(s)`);
    for (const d of Device.list()) {
      io.out(
        `  ${d.index}: ${d.name}  ${d.arch}  ${d.multiprocessors} ${d.api === 'hip' ? 'CUs' : 'SMs'}  ${mib(d.totalMemoryBytes)}  ` +
          `clock ${d.clockKHz / 1000} MHz  memory ${d.memoryClockKHz / 1000} MHz × ${d.memoryBusWidthBits} bit  L2 ${mib(d.l2CacheBytes)}  ` +
          `shared/block ${d.sharedBytesPerBlock} B (opt-in ${d.sharedBytesPerBlockOptin} B)  shared/SM ${d.sharedBytesPerMultiprocessor} B`,
      );
    }
    return EXIT_OK;
  } catch (e) {
    if (e instanceof GpuError) {
      io.err(e.message);
      return EXIT_ERRORS;
    }
    throw e;
  }
}
