/** Test helpers: positions of a needle in a text, a service with one document open. */
import { readFileSync } from 'node:fs';
import { LanguageService, type LanguageServiceOptions } from '../../extension/language-service/index.js';
import type { Position, Range } from '../../extension/language-service/protocol.js';

/** 0-based position of the `nth` occurrence of `needle`, plus `delta` characters. */
export function pos(text: string, needle: string, nth = 0, delta = 0): Position {
  let offset = -1;
  for (let k = 0; k <= nth; k++) {
    offset = text.indexOf(needle, offset + 1);
    if (offset < 0) throw new Error(`'${needle}' #${nth} not in text`);
  }
  offset += delta;
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

/** The range of the `nth` occurrence of `needle`. */
export function rangeOf(text: string, needle: string, nth = 0): Range {
  const start = pos(text, needle, nth);
  return { start, end: { line: start.line, character: start.character + needle.length } };
}

export function kernelText(name: string): string {
  return readFileSync(new URL(`../../kernels/${name}.tile`, import.meta.url), 'utf8');
}

export function serviceWith(uri: string, text: string, options?: LanguageServiceOptions): LanguageService {
  const ls = new LanguageService(options);
  ls.update(uri, text);
  return ls;
}
