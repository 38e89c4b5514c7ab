/**
 * How the external-tool wrappers (ptxas.ts, clang.ts) fail: the tool is not installed
 * (ToolchainMissingError), or it ran and rejected its input, crashed or timed out (ToolchainError,
 * which keeps the input on disk and carries a command that reproduces the failure).
 */

/** A required external tool is not installed (or not where it was said to be). */
export class ToolchainMissingError extends Error {
  constructor(
    readonly tool: string,
    /** Where it was looked for, in order, as readable lines. */
    readonly searched: readonly string[],
    readonly hint: string,
  ) {
    super(`${tool} not found. Looked at:\n${searched.map((s) => `  ${s}`).join('\n')}\n${hint}`);
    this.name = 'ToolchainMissingError';
  }
}

/** One message of a tool, tool-neutral: ptxas's and clang's diagnostics both fit. */
export interface ToolDiagnostic {
  readonly severity: 'error' | 'fatal' | 'warning' | 'note' | 'remark';
  readonly message: string;
  /** The file the tool named (for clang, a `#line` directive's file, e.g. a `.tile` file). */
  readonly file?: string;
  /** 1-based line and column, when the tool gave them. */
  readonly line?: number;
  readonly column?: number;
}

/** An external tool ran and failed (non-zero exit, killed, timed out, or no output). */
export class ToolchainError extends Error {
  readonly tool: string;
  /** null when the process was killed (timeout) instead of exiting. */
  readonly exitCode: number | null;
  readonly stderr: string;
  /** A shell command that reproduces the failure; the files it names are kept on disk. */
  readonly command: string;
  readonly timedOut: boolean;
  readonly diagnostics: readonly ToolDiagnostic[];
  /** The kept input file the command names (`…/kernel.ptx`, `…/kernel.hip`). */
  readonly inputPath?: string;
  /**
   * Where the first located error is, as the tool reported it: the file it named (the kept input,
   * or for clang the file of a `#line` directive), the 1-based line, and that line's text.
   */
  readonly file?: string;
  readonly line?: number;
  readonly lineText?: string;
  /** 1-based column on `lineText`, and the token there when the message quotes one (ptxas). */
  readonly column?: number;
  readonly token?: string;
  /** The marker line under `lineText` as the tool drew it (clang: `~~~^~~~`), instead of one built from column/token. */
  readonly marker?: string;
  /** Extra `= note:` lines for format(). */
  readonly notes: readonly string[];

  constructor(init: {
    tool: string;
    summary: string;
    exitCode: number | null;
    stderr: string;
    command: string;
    timedOut?: boolean;
    diagnostics?: readonly ToolDiagnostic[];
    inputPath?: string;
    file?: string;
    line?: number;
    lineText?: string;
    column?: number;
    token?: string;
    marker?: string;
    notes?: readonly string[];
  }) {
    super(`${init.summary}\n  reproduce: ${init.command}`);
    this.name = 'ToolchainError';
    this.tool = init.tool;
    this.exitCode = init.exitCode;
    this.stderr = init.stderr;
    this.command = init.command;
    this.timedOut = init.timedOut ?? false;
    this.diagnostics = init.diagnostics ?? [];
    this.notes = init.notes ?? [];
    if (init.inputPath !== undefined) this.inputPath = init.inputPath;
    if (init.file !== undefined) this.file = init.file;
    if (init.line !== undefined) this.line = init.line;
    if (init.lineText !== undefined) this.lineText = init.lineText;
    if (init.column !== undefined) this.column = init.column;
    if (init.token !== undefined) this.token = init.token;
    if (init.marker !== undefined) this.marker = init.marker;
  }

  /**
   * The error as the CLI shows it, in the shape of formatDiagnostic:
   *
   *   error: ptxas failed (exit 255): Unknown modifier '.parm'
   *     --> /tmp/tilekit-ptxas-…/kernel.ptx:40:2
   *      |
   *   40 |     ld.parm.u32     %r39, [gemm_mma_param_5];
   *      |     ^^^^^
   *      = reproduce: /usr/local/bin/ptxas -arch=sm_80 …
   */
  format(): string {
    const head = `error: ${this.message.split('\n')[0]}`;
    const where = this.file ?? this.inputPath ?? this.tool;
    if (this.line === undefined) return [head, ...this.notes.map((n) => `  = note: ${n}`), `  = reproduce: ${this.command}`].join('\n');
    const gutter = String(this.line).length;
    const pad = ' '.repeat(gutter);
    const col = this.column ?? 1;
    if (this.lineText === undefined) {
      return [head, `${pad}--> ${where}:${this.line}:${col}`, ...this.notes.map((n) => `${pad} = note: ${n}`), `${pad} = reproduce: ${this.command}`].join('\n');
    }
    const caretLen = this.token?.length ?? Math.max(1, this.lineText.trimEnd().length - col + 1);
    // Keep tabs under tabs (PTX from nvcc is tab-indented) so the caret lines up.
    const marker = this.marker ?? `${this.lineText.slice(0, col - 1).replace(/[^\t]/g, ' ')}${'^'.repeat(caretLen)}`;
    return [
      head,
      `${pad}--> ${where}:${this.line}:${col}`,
      `${pad} |`,
      `${this.line} | ${this.lineText}`,
      `${pad} | ${marker}`,
      ...this.notes.map((n) => `${pad} = note: ${n}`),
      `${pad} = reproduce: ${this.command}`,
    ].join('\n');
  }
}
