/**
 * The runtime side of embedding: the `tile` tag for `` tile`…` `` templates in TypeScript.
 * Interpolations splice compile-time text (numbers, booleans, strings of tile code, or other
 * templates used as fragments). `tilekit check` reads the same templates statically; see
 * extract-templates.ts, which must splice values exactly as this file does.
 */
import { SourceText } from './source.js';

/** What a `${…}` inside a `tile` template may hold. */
export type TileInterpolation = number | boolean | string | TileTemplate;

/** A run of a template's text copied verbatim from one string of a template literal. */
export interface TilePiece {
  /** Offset of the run in `TileTemplate.text`. */
  readonly textStart: number;
  readonly length: number;
  /**
   * `strings.raw` of the tagged template the run came from. The array is the same object for
   * every evaluation of one literal in the program, so it identifies the call site.
   */
  readonly literal: readonly string[];
  /** Which string of `literal` the run is. */
  readonly index: number;
}

export class TileTemplate {
  constructor(
    /** The composed tile-language text. */
    readonly text: string,
    /** Ranges of `text` that came verbatim from template literals, in order; interpolated values have none. */
    readonly pieces: readonly TilePiece[],
  ) {}

  /** The text as a source with no host map: for runtime compilation, where only the text is known. */
  toSource(path: string): SourceText {
    return new SourceText(path, this.text);
  }

  /** So that a template spliced into an ordinary string yields its code. */
  toString(): string {
    return this.text;
  }
}

/**
 * Prints a number so that the tile lexer reads back exactly the same value: integers without
 * a fraction or exponent (so they stay integer literals, even above 2^53), other finite values
 * by JavaScript's shortest round-tripping form, ±Infinity as `inf` / `-inf`. NaN has no tile
 * literal and throws.
 */
export function formatTileNumber(x: number): string {
  if (Number.isNaN(x)) throw new Error('tile`…`: NaN cannot be interpolated: the tile language has no literal for it');
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  // -0 would print as `0`, an integer; keep the sign as a float literal.
  if (Object.is(x, -0)) return '-0.0';
  // String(1e21) is `1e+21`, which would read back as a float; BigInt prints every digit.
  if (Number.isInteger(x)) return BigInt(x).toString();
  return String(x);
}

/** The text one interpolated value contributes. */
function spliceValue(value: unknown, index: number): string | TileTemplate {
  if (value instanceof TileTemplate) return value;
  switch (typeof value) {
    case 'number':
      return formatTileNumber(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return value;
    default:
      // Callers may be plain JavaScript, so check what the type says cannot happen.
      throw new TypeError(
        `tile\`…\`: interpolation #${index + 1} is ${value === null ? 'null' : typeof value}; expected a number, boolean, string of tile code, or tile template`,
      );
  }
}

/**
 * The tag: `` tile`kernel k(...) ...` ``. Uses `strings.raw`, so that the text of each literal
 * string is character for character what the host file holds (escapes stay as written), which
 * keeps offsets in the composed text mappable to the host file.
 */
export function tile(strings: TemplateStringsArray, ...values: TileInterpolation[]): TileTemplate {
  const raw = strings.raw;
  let text = '';
  const pieces: TilePiece[] = [];
  for (let i = 0; i < raw.length; i++) {
    const s = raw[i] ?? '';
    pieces.push({ textStart: text.length, length: s.length, literal: raw, index: i });
    text += s;
    if (i < values.length) {
      const v = spliceValue(values[i], i);
      if (v instanceof TileTemplate) {
        // A fragment's own pieces still point at its own literal.
        const base = text.length;
        for (const p of v.pieces) pieces.push({ ...p, textStart: base + p.textStart });
        text += v.text;
      } else {
        text += v;
      }
    }
  }
  return new TileTemplate(text, pieces);
}
