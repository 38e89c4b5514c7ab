/**
 * The GPU check's `tilekit run --backend gpu` vs interpret comparison (run-vs-interpret.ts), run
 * here with the emulate backend (no GPU): every GEMM case matches; a backend that writes nothing is
 * caught.
 */
import { describe, expect, it } from 'vitest';
import { runVsInterpret } from './run-vs-interpret.js';

function capture(): { out: (t: string) => void; err: (t: string) => void; text: () => string } {
  const lines: string[] = [];
  return { out: (t) => lines.push(t), err: (t) => lines.push(t), text: () => lines.join('\n') };
}

describe('run vs interpret', () => {
  it('emulate matches interpret on every GEMM case through `tilekit run`', async () => {
    const io = capture();
    const code = await runVsInterpret({ backend: 'emulate', kernels: ['gemm'] }, io);
    expect(code, io.text()).toBe(0);
    expect(io.text()).toMatch(/gemm .* emulate vs interpret: rel L2 \d\.\d\de[-+]\d+ \(tol 0\.003\)  ok/);
    expect(io.text()).toMatch(/^(\d+) passed, 0 failed$/m);
  }, 120_000);

  it('a backend run that fails is a failed case, never a pass', async () => {
    const io = capture();
    const code = await runVsInterpret({ backend: 'no-such-backend', kernels: ['gemm'] }, io);
    expect(code).toBe(1);
    expect(io.text()).toContain('FAIL (exit codes 0, 2)');
  }, 60_000);
});
