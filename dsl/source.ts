/**
 * The text a kernel is parsed from, and how its offsets map to what the user edits:
 * a `.tile` file maps one to one; a `tile` template inside a `.ts` file maps each
 * piece of the template back to its place in the host file.
 */
export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, in UTF-16 code units. */
  readonly column: number;
}

/** A run of tile text copied verbatim from the host file. */
export interface HostSegment {
  /** Offset of the run in the tile text. */
  readonly textStart: number;
  readonly length: number;
  /** Offset of the same run in the host file's text. */
  readonly hostStart: number;
}

export class SourceText {
  private readonly hostLineStarts: number[];

  /**
   * @param path the file the user edits (a `.tile` file, or the `.ts` host of a template)
   * @param text the tile-language text that is parsed
   * @param host the host file's whole text and the segment map, for templates
   */
  constructor(
    readonly path: string,
    readonly text: string,
    readonly host?: { readonly text: string; readonly segments: readonly HostSegment[] },
  ) {
    this.hostLineStarts = lineStarts(host ? host.text : text);
  }

  /** Offset in the host file (or in the text itself for a plain `.tile` file). */
  hostOffset(offset: number): number {
    if (!this.host) return offset;
    const segs = this.host.segments;
    let best = segs[0];
    for (const s of segs) {
      if (s.textStart <= offset) best = s;
      else break;
    }
    if (!best) return offset;
    // Offsets inside an interpolated value have no host text: pin them to the segment end.
    return best.hostStart + Math.min(offset - best.textStart, best.length);
  }

  /** 1-based line and column of a tile-text offset, in the file the user edits. */
  position(offset: number): Position {
    return positionIn(this.hostLineStarts, this.hostOffset(offset));
  }

  /** The full line (without newline) of the edited file that holds the given tile-text offset. */
  lineText(line: number): string {
    const full = this.host ? this.host.text : this.text;
    const start = this.hostLineStarts[line - 1] ?? full.length;
    const next = this.hostLineStarts[line];
    const end = next === undefined ? full.length : next - 1;
    return full.slice(start, end).replace(/\r$/, '');
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function positionIn(starts: number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}
