/**
 * Static extraction of `` tile`…` `` templates from a TypeScript host file, for `tilekit check`
 * and the editor: each template becomes a SourceText whose host map points every character that
 * came from a template literal at its place in the host file, so diagnostics land there.
 *
 * Interpolations are resolved without running the program: literals, top-level `const`s bound
 * to resolvable values, and other `tile` templates of the same file (fragments, which keep their
 * own host map). Values are spliced exactly as the runtime tag does (template.ts).
 *
 * Which templates come back as sources: only those whose composed text has the keyword `kernel`
 * at top level. A fragment (a piece of a kernel, e.g. a body or an expression) would not parse
 * on its own; its errors are reported through the kernels that splice it, at the fragment's own
 * place in the host file. A kernel template spliced into another returned template is not
 * returned separately either, so that its diagnostics are not reported twice.
 */
import ts from 'typescript';
import { error, type Diagnostic } from './diagnostic.js';
import { SourceText, type HostSegment } from './source.js';
import { span } from './span.js';
import { formatTileNumber } from './template.js';

export interface HostDiagnostic {
  readonly source: SourceText;
  readonly diagnostic: Diagnostic;
}

export interface ExtractedTemplates {
  sources: SourceText[];
  diagnostics: HostDiagnostic[];
  /** How many `tile` templates the file holds, fragments included (to tell "none" from "only fragments"). */
  templates: number;
}

const UNRESOLVED_HINT =
  'tilekit check resolves literals, top-level consts bound to literals, and other tile templates in the same file; ' +
  'other values are only known when the program runs';

/** Tile text with its host map (segment offsets relative to the start of `text`). */
interface Code {
  readonly kind: 'code';
  readonly text: string;
  readonly segments: readonly HostSegment[];
  /** Every template spliced in, transitively. */
  readonly fragments: ReadonlySet<ts.TaggedTemplateExpression>;
}

interface NumberValue {
  readonly kind: 'number';
  readonly value: number;
}

type Value = Code | NumberValue;

const NO_FRAGMENTS: ReadonlySet<ts.TaggedTemplateExpression> = new Set();

export function extractTileTemplates(hostPath: string, hostText: string): ExtractedTemplates {
  const kind = /\.tsx$/i.test(hostPath) ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const file = ts.createSourceFile(hostPath, hostText, ts.ScriptTarget.Latest, true, kind);
  const hostSource = new SourceText(hostPath, hostText);
  const diagnostics: HostDiagnostic[] = [];
  const reported = new Set<string>();

  function report(d: Diagnostic): void {
    // A fragment spliced into several templates would otherwise report its problem once per use.
    const key = `${d.code}:${d.span.start}:${d.span.end}`;
    if (reported.has(key)) return;
    reported.add(key);
    diagnostics.push({ source: hostSource, diagnostic: d });
  }

  function unresolved(expr: ts.Expression): undefined {
    report(error('TK0101', nodeSpan(expr), `cannot resolve interpolation \`${excerpt(expr.getText(file))}\` statically`, UNRESOLVED_HINT));
    return undefined;
  }

  // Top-level bindings: `const`s may be resolved; any other top-level name may not.
  const topConsts = new Map<string, ts.VariableDeclaration>();
  for (const stmt of file.statements) {
    if (!ts.isVariableStatement(stmt)) continue;
    const isConst = (stmt.declarationList.flags & ts.NodeFlags.Const) !== 0;
    for (const decl of stmt.declarationList.declarations) {
      if (isConst && ts.isIdentifier(decl.name) && decl.initializer) topConsts.set(decl.name.text, decl);
    }
  }

  const composed = new Map<ts.TaggedTemplateExpression, Code | null>();
  // In progress, to detect cycles: constants being resolved and templates being composed.
  const resolving = new Set<ts.VariableDeclaration>();
  const composing = new Set<ts.TaggedTemplateExpression>();

  function compose(node: ts.TaggedTemplateExpression): Code | undefined {
    const memo = composed.get(node);
    if (memo !== undefined) return memo ?? undefined;
    composing.add(node);
    try {
      return composeUncached(node);
    } finally {
      composing.delete(node);
    }
  }

  function composeUncached(node: ts.TaggedTemplateExpression): Code | undefined {
    let text = '';
    const segments: HostSegment[] = [];
    const fragments = new Set<ts.TaggedTemplateExpression>();
    let ok = true;

    // Copies host text [start, end) verbatim, except that line breaks are normalised as
    // `strings.raw` does at runtime (CRLF and CR become LF); each run keeps its host offset.
    function literal(start: number, end: number): void {
      let run = start;
      const flush = (to: number): void => {
        segments.push({ textStart: text.length, length: to - run, hostStart: run });
        text += hostText.slice(run, to);
      };
      for (let i = start; i < end; i++) {
        if (hostText.charCodeAt(i) !== 13) continue;
        flush(i);
        if (hostText.charCodeAt(i + 1) === 10) {
          run = i + 1;
        } else {
          segments.push({ textStart: text.length, length: 1, hostStart: i });
          text += '\n';
          run = i + 1;
        }
      }
      flush(end);
    }

    const tpl = node.template;
    if (ts.isNoSubstitutionTemplateLiteral(tpl)) {
      literal(tpl.getStart(file) + 1, closeEnd(tpl.end, '`'));
    } else {
      literal(tpl.head.getStart(file) + 1, closeEnd(tpl.head.end, '${'));
      for (const part of tpl.templateSpans) {
        const v = resolve(part.expression);
        if (v === undefined) ok = false;
        else if (v.kind === 'number') text += formatTileNumber(v.value);
        else {
          const base = text.length;
          for (const s of v.segments) segments.push({ ...s, textStart: base + s.textStart });
          for (const f of v.fragments) fragments.add(f);
          text += v.text;
        }
        const lit = part.literal;
        literal(lit.getStart(file) + 1, closeEnd(lit.end, ts.isTemplateTail(lit) ? '`' : '${'));
      }
    }
    const result: Code | null = ok ? { kind: 'code', text, segments, fragments } : null;
    composed.set(node, result);
    return result ?? undefined;
  }

  /** End of a literal's text: before its closing delimiter, when the (possibly broken) host has one. */
  function closeEnd(end: number, delimiter: string): number {
    return hostText.slice(end - delimiter.length, end) === delimiter ? end - delimiter.length : end;
  }

  function resolve(expr: ts.Expression): Value | undefined {
    const e = skipWrappers(expr);
    if (ts.isNumericLiteral(e)) return { kind: 'number', value: Number(e.getText(file).replace(/_/g, '')) };
    if (e.kind === ts.SyntaxKind.TrueKeyword) return code('true');
    if (e.kind === ts.SyntaxKind.FalseKeyword) return code('false');
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return stringCode(e);
    if (ts.isPrefixUnaryExpression(e) && (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken)) {
      const inner = resolve(e.operand);
      if (inner === undefined) return undefined;
      if (inner.kind !== 'number') return unresolved(expr);
      return { kind: 'number', value: e.operator === ts.SyntaxKind.MinusToken ? -inner.value : inner.value };
    }
    if (ts.isTaggedTemplateExpression(e) && isTileTag(e)) {
      const c = compose(e);
      return c && { ...c, fragments: new Set([...c.fragments, e]) };
    }
    if (ts.isIdentifier(e)) return resolveIdentifier(e, expr);
    return unresolved(expr);
  }

  function resolveIdentifier(id: ts.Identifier, expr: ts.Expression): Value | undefined {
    const name = id.text;
    if (shadowed(id)) return unresolved(expr);
    const decl = topConsts.get(name);
    if (decl === undefined) {
      // Globals that the runtime tag prints as tile literals; a top-level binding would shadow them.
      if (name === 'Infinity' && !declaredAtTop(name)) return { kind: 'number', value: Infinity };
      return unresolved(expr);
    }
    const init = decl.initializer && skipWrappers(decl.initializer);
    // A template reached from the top-level walk is composing without its name being resolved.
    if (resolving.has(decl) || (init && ts.isTaggedTemplateExpression(init) && composing.has(init))) {
      const what = init && ts.isTaggedTemplateExpression(init) ? 'fragment' : 'constant';
      report(error('TK0104', nodeSpan(expr), `${what} \`${name}\` refers to itself`, 'a tile template cannot splice itself, directly or through other constants'));
      return undefined;
    }
    resolving.add(decl);
    try {
      return decl.initializer && resolve(decl.initializer);
    } finally {
      resolving.delete(decl);
    }
  }

  function declaredAtTop(name: string): boolean {
    return file.statements.some((s) => declaresName(s, name));
  }

  /** Whether a binding nearer than the top level (a parameter, a local) gives `id` another meaning. */
  function shadowed(id: ts.Identifier): boolean {
    for (let n: ts.Node = id.parent; !ts.isSourceFile(n); n = n.parent) {
      if (ts.isFunctionLike(n)) {
        if (n.parameters.some((p) => bindsName(p.name, id.text))) return true;
        if ((ts.isFunctionExpression(n) || ts.isClassExpression(n)) && n.name?.text === id.text) return true;
      }
      if (ts.isBlock(n) || ts.isModuleBlock(n) || ts.isCaseClause(n) || ts.isDefaultClause(n)) {
        if (n.statements.some((s) => declaresName(s, id.text))) return true;
      }
      if ((ts.isForStatement(n) || ts.isForInStatement(n) || ts.isForOfStatement(n)) && n.initializer && ts.isVariableDeclarationList(n.initializer)) {
        if (n.initializer.declarations.some((d) => bindsName(d.name, id.text))) return true;
      }
      if (ts.isCatchClause(n) && n.variableDeclaration && bindsName(n.variableDeclaration.name, id.text)) return true;
    }
    return false;
  }

  function code(text: string): Code {
    return { kind: 'code', text, segments: [], fragments: NO_FRAGMENTS };
  }

  /** A string of tile code; mapped to its place in the host when written without escapes. */
  function stringCode(lit: ts.StringLiteral | ts.NoSubstitutionTemplateLiteral): Code {
    const start = lit.getStart(file) + 1;
    const end = lit.end - 1;
    const mapped = end >= start && hostText.slice(start, end) === lit.text;
    return { kind: 'code', text: lit.text, segments: mapped ? [{ textStart: 0, length: lit.text.length, hostStart: start }] : [], fragments: NO_FRAGMENTS };
  }

  // Every `tile` template in document order (outer before inner).
  const templates: ts.TaggedTemplateExpression[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isTaggedTemplateExpression(n) && isTileTag(n)) templates.push(n);
    ts.forEachChild(n, visit);
  };
  visit(file);

  const kernels: { node: ts.TaggedTemplateExpression; code: Code }[] = [];
  for (const node of templates) {
    const c = compose(node);
    // A template with an unresolved interpolation is not returned: parsing the text without the
    // value would only add misleading errors after the TK0101 that says what is missing.
    if (c && hasTopLevelKernel(c.text)) kernels.push({ node, code: c });
  }
  const splicedIntoKernel = new Set<ts.TaggedTemplateExpression>();
  for (const k of kernels) for (const f of k.code.fragments) splicedIntoKernel.add(f);
  const sources = kernels
    .filter((k) => !splicedIntoKernel.has(k.node))
    .map((k) => new SourceText(hostPath, k.code.text, { text: hostText, segments: k.code.segments }));

  diagnostics.sort((a, b) => a.diagnostic.span.start - b.diagnostic.span.start);
  return { sources, diagnostics, templates: templates.length };

  function nodeSpan(n: ts.Node) {
    return span(n.getStart(file), n.end);
  }
}

function isTileTag(n: ts.TaggedTemplateExpression): boolean {
  return ts.isIdentifier(n.tag) && n.tag.text === 'tile';
}

/** Parentheses and type-only wrappers (`64 as const`, `x satisfies T`, `x!`) do not change the value. */
function skipWrappers(e: ts.Expression): ts.Expression {
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e)) {
      e = e.expression;
    } else {
      return e;
    }
  }
}

function bindsName(name: ts.BindingName, text: string): boolean {
  if (ts.isIdentifier(name)) return name.text === text;
  return name.elements.some((el) => !ts.isOmittedExpression(el) && bindsName(el.name, text));
}

function declaresName(s: ts.Statement, text: string): boolean {
  if (ts.isVariableStatement(s)) return s.declarationList.declarations.some((d) => bindsName(d.name, text));
  if (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isEnumDeclaration(s)) return s.name?.text === text;
  if (ts.isImportDeclaration(s)) {
    const c = s.importClause;
    if (!c) return false;
    if (c.name?.text === text) return true;
    const b = c.namedBindings;
    if (!b) return false;
    return ts.isNamespaceImport(b) ? b.name.text === text : b.elements.some((el) => el.name.text === text);
  }
  if (ts.isImportEqualsDeclaration(s)) return s.name.text === text;
  return false;
}

/** One line of an expression, short enough for a message. */
function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

/**
 * Whether `kernel` appears as a word outside any brackets and comments: what tells a template
 * that declares kernels from a fragment (which cannot contain the keyword anywhere else).
 */
export function hasTopLevelKernel(text: string): boolean {
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 2;
    } else if (c === '{' || c === '(' || c === '[') {
      depth++;
      i++;
    } else if (c === '}' || c === ')' || c === ']') {
      depth = Math.max(0, depth - 1);
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_]/.test(text[j] ?? '')) j++;
      if (depth === 0 && text.slice(i, j) === 'kernel') return true;
      i = j;
    } else {
      i++;
    }
  }
  return false;
}
