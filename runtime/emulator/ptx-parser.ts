/**
 * PTX text → PtxModule (ptx-ast.ts), for PTX up to ISA 9.0 as nvcc 13 and Tilekit emit it.
 *
 * Chevrotain lexes; a small hand-written recursive-descent parser reads the tokens, because PTX statements are
 * flat and this gives exact control over the "expected X, found Y" messages and positions.
 * The first problem throws a PtxSyntaxError; there is no recovery.
 */
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';
import {
  PtxSyntaxError,
  type Guard,
  type Instruction,
  type Label,
  type Operand,
  type PtxFunction,
  type PtxModule,
  type PtxPos,
  type Scope,
  type SourceLoc,
  type StateSpace,
  type Statement,
  type VarDecl,
} from './ptx-ast.js';

// ---------------------------------------------------------------------------------------------
// Tokens

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\ufeff]+/, group: Lexer.SKIPPED });
const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: Lexer.SKIPPED });
const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\n]|\\.)*"/ });
// Every numeric form in one token; the parser tells them apart (and rejects `0f` with the wrong digit count).
// Alternatives are tried in order, so the prefixed forms come before plain decimals.
const NumberLit = createToken({
  name: 'NumberLit',
  pattern:
    /0[xX][0-9a-fA-F]+[uU]?|0[bB][01]+[uU]?|0[fFdD][0-9a-fA-F]+|[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|[0-9]+[uU]?/,
});
// `%r1`, `%rd<10>`'s `%rd`, and special registers whose name includes a component: `%tid.x`, `%ctaid.y`.
const Register = createToken({ name: 'Register', pattern: /%[A-Za-z0-9_$]+(?:\.[A-Za-z][A-Za-z0-9_]*)?/ });
const Directive = createToken({ name: 'Directive', pattern: /\.[A-Za-z_][A-Za-z0-9_$]*/ });
// Identifiers, and opcodes with their modifiers in one piece: `ld.global.nc.L1::no_allocate.v4.f32`,
// `cp.async.bulk.tensor.2d.shared::cluster.global` (modifiers may start with a digit or contain `::`).
const Word = createToken({
  name: 'Word',
  pattern: /[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z0-9_]+(?:::[A-Za-z0-9_]+)*)*/,
});
const punct = (name: string, text: string): TokenType => createToken({ name, pattern: text });
const LCurly = punct('LCurly', '{');
const RCurly = punct('RCurly', '}');
const LParen = punct('LParen', '(');
const RParen = punct('RParen', ')');
const LBracket = punct('LBracket', '[');
const RBracket = punct('RBracket', ']');
const Comma = punct('Comma', ',');
const Semicolon = punct('Semicolon', ';');
const Colon = punct('Colon', ':');
const Pipe = punct('Pipe', '|');
const Plus = punct('Plus', '+');
const Minus = punct('Minus', '-');
const Bang = punct('Bang', '!');
const At = punct('At', '@');
const Lt = punct('Lt', '<');
const Gt = punct('Gt', '>');
const Eq = punct('Eq', '=');

const ptxLexer = new Lexer(
  [
    WhiteSpace,
    LineComment,
    BlockComment,
    StringLit,
    NumberLit,
    Register,
    Directive,
    Word,
    LCurly,
    RCurly,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Semicolon,
    Colon,
    Pipe,
    Plus,
    Minus,
    Bang,
    At,
    Lt,
    Gt,
    Eq,
  ],
  { positionTracking: 'full', ensureOptimizations: false },
);

// ---------------------------------------------------------------------------------------------
// Vocabulary

const SPACES: ReadonlySet<string> = new Set(['.reg', '.sreg', '.const', '.global', '.local', '.param', '.shared']);
const LINKAGE: ReadonlySet<string> = new Set(['.visible', '.extern', '.weak', '.common']);
/** Directives that start something at module level; never a function-header performance directive. */
const MODULE_DIRECTIVES: ReadonlySet<string> = new Set([
  '.version',
  '.target',
  '.address_size',
  '.file',
  '.loc',
  '.section',
  '.entry',
  '.func',
  '.alias',
  ...LINKAGE,
  ...SPACES,
]);
const TYPE_RE =
  /^(?:[bsu](?:8|16|32|64|128)|f(?:16|32|64)|f16x2|bf16|bf16x2|pred|tf32|e[0-9]m[0-9](?:x[0-9]+)?|ue8m0(?:x2)?|texref|samplerref|surfref)$/;
/** Function-header performance and ABI directives (values as written; `.noreturn` has none). */
const HEADER_DIRECTIVES: ReadonlySet<string> = new Set([
  '.maxntid',
  '.reqntid',
  '.minnctapersm',
  '.maxnctapersm',
  '.maxnreg',
  '.noreturn',
  '.explicitcluster',
  '.reqnctapercluster',
  '.maxclusterrank',
  '.blocksareclusters',
  '.abi_preserve',
  '.abi_preserve_control',
]);
/** Opcodes whose bare-name operands are code labels rather than variables. */
const BRANCH_OPCODES: ReadonlySet<string> = new Set(['bra', 'brx']);

const MAX_U64 = (1n << 64n) - 1n;

// ---------------------------------------------------------------------------------------------

/** Parses a PTX module; throws PtxSyntaxError at the first error. */
export function parsePtx(text: string): PtxModule {
  const lexed = ptxLexer.tokenize(text);
  const lexError = lexed.errors[0];
  if (lexError) {
    const pos = { line: lexError.line ?? 1, column: lexError.column ?? 1 };
    const at = text.slice(lexError.offset, lexError.offset + 2);
    if (at === '/*') throw new PtxSyntaxError('unterminated block comment', pos);
    if (at.startsWith('"')) throw new PtxSyntaxError('unterminated string literal', pos);
    throw new PtxSyntaxError(`unexpected character ${JSON.stringify(at[0] ?? '')}`, pos);
  }
  return new PtxParser(text, lexed.tokens).module();
}

type NumValue = { readonly kind: 'int'; readonly value: number | bigint } | Extract<Operand, { kind: 'float' }>;

interface Linkage {
  visible?: boolean;
  extern?: boolean;
  weak?: boolean;
}

class PtxParser {
  private i = 0;
  /** The latest `.loc` in the current function; reset at each function. */
  private loc: SourceLoc | undefined;
  private version = '';
  private target: string[] = [];
  private addressSize = 32; // the PTX default when `.address_size` is absent
  private readonly globals: VarDecl[] = [];
  private readonly functions: PtxFunction[] = [];
  private readonly files = new Map<number, string>();

  constructor(
    private readonly text: string,
    private readonly tokens: readonly IToken[],
  ) {}

  module(): PtxModule {
    while (!this.atEnd()) this.moduleItem();
    return {
      version: this.version,
      target: this.target,
      addressSize: this.addressSize,
      globals: this.globals,
      functions: this.functions,
      files: this.files,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Module level

  private moduleItem(): void {
    const t = this.peek();
    if (t === undefined) return;
    if (t.tokenType !== Directive) {
      throw this.error(t, "expected a directive ('.version', '.target', '.entry', '.func', '.global', …)");
    }
    switch (t.image) {
      case '.version': {
        this.next();
        const v = this.expect(NumberLit, 'a version number such as 9.0');
        this.version = v.image;
        return;
      }
      case '.target': {
        this.next();
        this.target = [this.expect(Word, 'a target name such as sm_80').image];
        while (this.eat(Comma)) this.target.push(this.expect(Word, 'a target name').image);
        return;
      }
      case '.address_size': {
        this.next();
        const at = this.peek();
        this.addressSize = this.smallInt('an address size (32 or 64)');
        if (this.addressSize !== 32 && this.addressSize !== 64) throw this.error(at, 'expected an address size of 32 or 64');
        return;
      }
      case '.file':
        this.next();
        this.fileDirective();
        return;
      case '.loc':
        this.next();
        this.locDirective();
        return;
      case '.pragma':
        this.next();
        this.pragma();
        return;
      case '.section':
        this.next();
        this.skipSection();
        return;
      default:
        break;
    }
    const start = t;
    const linkage = this.linkage();
    const d = this.peek();
    if (d?.tokenType === Directive && (d.image === '.entry' || d.image === '.func')) {
      this.functions.push(this.func(linkage, start));
      return;
    }
    if (d?.tokenType === Directive && SPACES.has(d.image) && d.image !== '.reg' && d.image !== '.param' && d.image !== '.sreg') {
      this.next();
      this.globals.push(...this.varDecl(d.image.slice(1) as StateSpace, linkage, true));
      this.expectSemicolon("expected ',' or ';' after a declaration");
      return;
    }
    if (d?.tokenType === Directive && !MODULE_DIRECTIVES.has(d.image)) {
      throw this.error(d, `unknown directive '${d.image}'`);
    }
    if (d?.tokenType === Directive && d.image === '.alias') throw this.error(d, "'.alias' is not supported");
    throw this.error(d, "expected '.entry', '.func' or a variable declaration ('.global', '.const', '.shared')");
  }

  private linkage(): Linkage {
    const l: Linkage = {};
    for (let t = this.peek(); t?.tokenType === Directive && LINKAGE.has(t.image); t = this.peek()) {
      this.next();
      if (t.image === '.visible') l.visible = true;
      else if (t.image === '.extern') l.extern = true;
      else l.weak = true; // `.weak` and `.common`: both are weak definitions as far as an emulator cares
    }
    return l;
  }

  /** `.file 1 "path"` with optional `, timestamp, size`. */
  private fileDirective(): void {
    const n = this.smallInt('a file number');
    const s = this.expect(StringLit, 'a quoted file name');
    this.files.set(n, unquote(s.image));
    while (this.eat(Comma)) this.intLiteral('a file timestamp or size');
  }

  /** `.loc file line col`, then maybe `, function_name …, inlined_at …` on the same line (ignored). */
  private locDirective(): void {
    const file = this.smallInt('a file number');
    const line = this.smallInt('a line number');
    const column = this.smallInt('a column number');
    this.loc = { file, line, column };
    const c = this.peek();
    if (c?.tokenType === Comma && c.startLine === this.prev().endLine) {
      // .loc has no terminator: everything else on its line belongs to it.
      const lineNo = c.startLine;
      while (!this.atEnd() && this.peek()?.startLine === lineNo) this.next();
    }
  }

  /** `.pragma "a", "b";` (ignored). */
  private pragma(): void {
    this.expect(StringLit, 'a quoted pragma string');
    while (this.eat(Comma)) this.expect(StringLit, 'a quoted pragma string');
    this.expectSemicolon();
  }

  /** `.section .debug_str { … }`: DWARF data, irrelevant to execution; skipped with its braces. */
  private skipSection(): void {
    const name = this.peek();
    if (name?.tokenType !== Directive && name?.tokenType !== Word) throw this.error(name, 'expected a section name');
    this.next();
    const open = this.expect(LCurly, "'{'");
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t === undefined) throw this.error(undefined, `expected '}' to close the '{' at ${posText(open)}`);
      if (t.tokenType === LCurly) depth++;
      else if (t.tokenType === RCurly) depth--;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Functions

  private func(linkage: Linkage, start: IToken): PtxFunction {
    const kindTok = this.next() as IToken;
    const kind = kindTok.image === '.entry' ? 'entry' : 'func';
    this.loc = undefined;
    let returns: VarDecl[] = [];
    if (kind === 'func' && this.peek()?.tokenType === LParen) returns = this.paramList();
    const nameTok = this.expectName(`a ${kind === 'entry' ? 'kernel' : 'function'} name`);
    const params = this.peek()?.tokenType === LParen ? this.paramList() : [];
    const directives: Record<string, number[]> = {};
    for (let t = this.peek(); t?.tokenType === Directive && !MODULE_DIRECTIVES.has(t.image); t = this.peek()) {
      if (t.image !== '.pragma' && !HEADER_DIRECTIVES.has(t.image)) throw this.error(t, `unknown directive '${t.image}'`);
      this.next();
      if (t.image === '.pragma') {
        this.pragma();
        continue;
      }
      // `.maxntid 128, 1, 1`, `.minnctapersm 2`, `.noreturn`, `.explicitcluster`, …: kept as written.
      const values: number[] = [];
      if (this.peek()?.tokenType === NumberLit) {
        values.push(this.smallInt('a number'));
        while (this.eat(Comma)) values.push(this.smallInt('a number'));
      }
      directives[t.image.slice(1)] = values;
    }
    const base = {
      kind,
      name: nameTok.image,
      params,
      returns,
      directives,
      visible: linkage.visible === true,
      pos: pos(start),
    } as const;
    const open = this.peek();
    if (open?.tokenType === LCurly) {
      this.next();
      const body = this.block(open);
      return { ...base, body };
    }
    if (open?.tokenType === Semicolon) {
      this.next();
      return base;
    }
    throw this.error(open, "expected '{' to start the body, ';' or a performance directive");
  }

  /** `( .param .u64 a, .param .align 8 .b8 b[16] )`. */
  private paramList(): VarDecl[] {
    this.expect(LParen, "'('");
    const out: VarDecl[] = [];
    if (this.eat(RParen)) return out;
    for (;;) {
      const sp = this.peek();
      if (sp?.tokenType !== Directive || (sp.image !== '.param' && sp.image !== '.reg')) {
        throw this.error(sp, "expected a parameter ('.param' or '.reg')");
      }
      this.next();
      out.push(...this.varDecl(sp.image.slice(1) as StateSpace, {}, false));
      if (this.eat(RParen)) return out;
      if (!this.eat(Comma)) throw this.error(this.peek(), "expected ',' or ')' after a parameter");
    }
  }

  // -------------------------------------------------------------------------------------------
  // Declarations

  /**
   * After the state space: `[.align N] [.vN] .type [.ptr …] name[<count>][dims][= init] (, name…)*`.
   * Each declared name gets its own VarDecl, positioned at the name.
   */
  private varDecl(space: StateSpace, linkage: Linkage, allowList: boolean): VarDecl[] {
    let align: number | undefined;
    let vector: number | undefined;
    let type: string | undefined;
    for (let t = this.peek(); t?.tokenType === Directive; t = this.peek()) {
      const name = t.image.slice(1);
      if (name === 'align') {
        this.next();
        align = this.smallInt('an alignment');
      } else if (/^v[0-9]+$/.test(name)) {
        this.next();
        vector = Number(name.slice(1));
      } else if (name === 'ptr') {
        // Kernel-parameter pointee attributes (`.ptr .global .align 16`): hints only.
        this.next();
        const sp = this.peek();
        if (sp?.tokenType === Directive && SPACES.has(sp.image)) this.next();
        const al = this.peek();
        if (al?.tokenType === Directive && al.image === '.align') {
          this.next();
          this.smallInt('an alignment');
        }
      } else if (name === 'attribute') {
        // `.attribute(.managed)`: linker attributes, irrelevant here.
        this.next();
        this.skipParens();
      } else if (type === undefined && TYPE_RE.test(name)) {
        this.next();
        type = name;
      } else if (type === undefined) {
        throw this.error(t, `unknown type '${t.image}'`);
      } else {
        throw this.error(t, 'expected a variable name');
      }
    }
    if (type === undefined) throw this.error(this.peek(), "expected a type ('.b32', '.f32', '.pred', …)");
    const out: VarDecl[] = [];
    for (;;) {
      const nameTok = this.peek();
      if (nameTok?.tokenType !== Register && !(nameTok?.tokenType === Word && !nameTok.image.includes('.'))) {
        throw this.error(nameTok, 'expected a variable name');
      }
      this.next();
      let count: number | undefined;
      if (this.eat(Lt)) {
        count = this.smallInt('a register count');
        this.expect(Gt, "'>'");
      }
      let dims: (number | null)[] | undefined;
      while (this.eat(LBracket)) {
        dims ??= [];
        if (this.eat(RBracket)) {
          dims.push(null);
          continue;
        }
        dims.push(this.smallInt('an array size'));
        this.expect(RBracket, "']'");
      }
      let init: (number | bigint)[] | undefined;
      let initSymbols: { index: number; symbol: string; offset: number; generic: boolean }[] | undefined;
      if (this.eat(Eq)) {
        init = [];
        initSymbols = [];
        this.initializer(init, initSymbols);
      }
      out.push({
        kind: 'var',
        space,
        type,
        name: nameTok.image,
        ...(align !== undefined && { align }),
        ...(vector !== undefined && { vector }),
        ...(dims && { dims }),
        ...(count !== undefined && { count }),
        ...(linkage.extern && { extern: true }),
        ...(linkage.visible && { visible: true }),
        ...(linkage.weak && { weak: true }),
        ...(init && { init }),
        ...(initSymbols && initSymbols.length > 0 && { initSymbols }),
        pos: pos(nameTok),
      });
      if (!allowList || this.peek()?.tokenType !== Comma) return out;
      this.next();
    }
  }

  /** `= 5`, `= {1, 2}`, `= {{1, 2}, {3, 4}}`, `= generic(x)`, `= {f, g}`: flattened into `init`. */
  private initializer(init: (number | bigint)[], syms: { index: number; symbol: string; offset: number; generic: boolean }[]): void {
    if (this.eat(LCurly)) {
      if (this.eat(RCurly)) return;
      do this.initializer(init, syms);
      while (this.eat(Comma));
      this.expect(RCurly, "',' or '}' in the initializer");
      return;
    }
    const t = this.peek();
    if (t?.tokenType === Word && !t.image.includes('.')) {
      this.next();
      let generic = false;
      let symbol = t.image;
      if (t.image === 'generic' && this.eat(LParen)) {
        generic = true;
        symbol = this.expectName('a variable name').image;
        this.expect(RParen, "')'");
      }
      let offset = 0;
      if (this.peek()?.tokenType === Plus || this.peek()?.tokenType === Minus) {
        const sign = this.next()?.tokenType === Minus ? -1 : 1;
        offset = sign * this.smallInt('an offset');
      }
      syms.push({ index: init.length, symbol, offset, generic });
      init.push(0);
      return;
    }
    const n = this.signedNumber('an initializer value');
    if (n === undefined) throw this.error(t, 'expected an initializer value (a number, a symbol or a brace list)');
    init.push(n.value);
  }

  // -------------------------------------------------------------------------------------------
  // Bodies

  /** Statements up to the `}` that closes `open` (already consumed). */
  private block(open: IToken): Statement[] {
    const body: Statement[] = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined) throw this.error(undefined, `expected '}' to close the '{' at ${posText(open)}`);
      const type = t.tokenType;
      if (type === RCurly) {
        this.next();
        return body;
      }
      if (type === LCurly) {
        this.next();
        const scope: Scope = { kind: 'scope', body: this.block(t), pos: pos(t) };
        body.push(scope);
      } else if (type === Directive) {
        this.bodyDirective(t, body);
      } else if (type === Word && this.peek(1)?.tokenType === Colon) {
        this.label(t, body);
      } else if (type === At || type === Word) {
        body.push(this.instruction());
      } else {
        throw this.error(t, "expected an instruction, a label, a declaration or '}'");
      }
    }
  }

  private bodyDirective(t: IToken, body: Statement[]): void {
    if (SPACES.has(t.image) && t.image !== '.sreg') {
      this.next();
      body.push(...this.varDecl(t.image.slice(1) as StateSpace, {}, true));
      this.expectSemicolon("expected ',' or ';' after a declaration");
      return;
    }
    switch (t.image) {
      case '.loc':
        this.next();
        this.locDirective();
        return;
      case '.pragma':
        this.next();
        this.pragma();
        return;
      case '.file':
        this.next();
        this.fileDirective();
        return;
      default:
        break;
    }
    if (MODULE_DIRECTIVES.has(t.image)) throw this.error(t, `'${t.image}' is not allowed inside a function body`);
    throw this.error(t, `unknown directive '${t.image}'`);
  }

  private label(t: IToken, body: Statement[]): void {
    this.next();
    this.next(); // ':'
    const d = this.peek();
    if (d?.tokenType === Directive && (d.image === '.callprototype' || d.image === '.calltargets')) {
      // Names a prototype or target list for an indirect `call`; the emulator calls through the register
      // alone, so neither the label nor the directive is kept.
      this.skipToSemicolon();
      return;
    }
    if (d?.tokenType === Directive && d.image === '.branchtargets') {
      throw this.error(d, "'.branchtargets' (for brx.idx) is not supported");
    }
    const label: Label = { kind: 'label', name: t.image, pos: pos(t) };
    body.push(label);
  }

  private instruction(): Instruction {
    const first = this.peek() as IToken;
    let guard: Guard | undefined;
    if (this.eat(At)) {
      const negate = this.eat(Bang);
      const p = this.peek();
      if (p?.tokenType !== Register && !(p?.tokenType === Word && !p.image.includes('.'))) {
        throw this.error(p, "expected a predicate register after '@'");
      }
      this.next();
      guard = { pred: p.image, negate };
    }
    const opTok = this.peek();
    if (opTok?.tokenType !== Word || !/^[A-Za-z]/.test(opTok.image)) throw this.error(opTok, 'expected an instruction opcode');
    this.next();
    const [opcode = '', ...modifiers] = opTok.image.split('.');
    const operands: Operand[] = [];
    let call: Instruction['call'];
    if (opcode === 'call') {
      call = this.callOperands(modifiers.includes('uni'));
    } else if (this.peek()?.tokenType !== Semicolon) {
      const labels = BRANCH_OPCODES.has(opcode);
      operands.push(this.operand(labels, true));
      while (this.eat(Comma)) operands.push(this.operand(labels, true));
    }
    const last = this.prev();
    this.expectSemicolon(opcode === 'call' ? "expected ';' after the call" : "expected ',' or ';' after an operand");
    return {
      kind: 'inst',
      ...(guard && { guard }),
      opcode,
      modifiers,
      operands,
      ...(call && { call }),
      pos: pos(first),
      ...(this.loc && { loc: this.loc }),
      text: this.text.slice(first.startOffset, (last.endOffset ?? last.startOffset) + 1).trim(),
    };
  }

  /** `(ret, …), target, (arg, …)[, prototype]`, each group optional except the target. */
  private callOperands(uni: boolean): NonNullable<Instruction['call']> {
    let returns: Operand[] = [];
    if (this.peek()?.tokenType === LParen) {
      returns = this.operandGroup();
      this.expect(Comma, "',' after the call's return values");
    }
    const target = this.peek();
    if (target?.tokenType !== Register && !(target?.tokenType === Word && !target.image.includes('.'))) {
      throw this.error(target, 'expected a function name or register to call');
    }
    this.next();
    let args: Operand[] = [];
    if (this.eat(Comma)) {
      if (this.peek()?.tokenType === LParen) {
        args = this.operandGroup();
        if (this.eat(Comma)) this.expectName('a call prototype or target list name');
      } else {
        this.expectName('a call prototype or target list name');
      }
    }
    return { returns, target: target.image, args, uni };
  }

  private operandGroup(): Operand[] {
    this.expect(LParen, "'('");
    const out: Operand[] = [];
    if (this.eat(RParen)) return out;
    do out.push(this.operand(false, false));
    while (this.eat(Comma));
    this.expect(RParen, "',' or ')'");
    return out;
  }

  /** One operand; `allowVec` is false inside brace lists (they do not nest). */
  private operand(labels: boolean, allowVec: boolean): Operand {
    const t = this.peek();
    const type = t?.tokenType;
    if (type === LCurly && allowVec) {
      this.next();
      const elems: Operand[] = [this.operand(false, false)];
      while (this.eat(Comma)) elems.push(this.operand(false, false));
      this.expect(RCurly, "',' or '}' in the brace list");
      return { kind: 'vec', elems };
    }
    if (type === LBracket) return this.address();
    if (type === Bang) {
      this.next();
      const r = this.peek();
      if (r?.tokenType !== Register && !(r?.tokenType === Word && !r.image.includes('.'))) {
        throw this.error(r, "expected a predicate register after '!'");
      }
      this.next();
      return { kind: 'reg', name: r.image, negate: true };
    }
    if (type === Register || (type === Word && t !== undefined && !t.image.includes('.'))) {
      this.next();
      const img = (t as IToken).image;
      const first: Operand = img === '_' ? { kind: 'sink' } : labels && type === Word ? { kind: 'label', name: img } : { kind: 'reg', name: img };
      if (allowVec && this.eat(Pipe)) {
        // `setp.lt.s32 %p1|%p2, …`, `shfl.sync.down.b32 %r1|%p1, …`: two destinations.
        const s = this.peek();
        if (s?.tokenType !== Register && !(s?.tokenType === Word && !s.image.includes('.'))) {
          throw this.error(s, "expected a register after '|'");
        }
        this.next();
        const second: Operand = s.image === '_' ? { kind: 'sink' } : { kind: 'reg', name: s.image };
        return { kind: 'vec', elems: [first, second] };
      }
      return first;
    }
    const n = this.signedNumber('an operand');
    if (n !== undefined) return n;
    throw this.error(t, 'expected an operand (a register, an immediate, an address, a brace list or a label)');
  }

  /** `[%rd1]`, `[%rd1+16]`, `[%rd1+-16]`, `[smem+128]`, `[0x10]`, `[tex, {%f1, %f2}]`. */
  private address(): Operand {
    this.next(); // '['
    const t = this.peek();
    let base: string | undefined;
    let offset = 0;
    if (t?.tokenType === Register || (t?.tokenType === Word && !t.image.includes('.'))) {
      this.next();
      base = t.image;
      const op = this.peek();
      if (op?.tokenType === Plus || op?.tokenType === Minus) {
        this.next();
        const n = this.signedNumber('an address offset');
        if (n?.kind !== 'int') throw this.error(this.peek(), 'expected an integer address offset');
        offset = (op.tokenType === Minus ? -1 : 1) * this.offsetValue(n.value, op);
      }
    } else {
      const n = this.signedNumber('an address');
      if (n?.kind !== 'int') throw this.error(t, 'expected a register, a variable name or an integer address');
      offset = this.offsetValue(n.value, t as IToken);
    }
    let coords: Operand[] | undefined;
    if (this.eat(Comma)) {
      const v = this.operand(false, true);
      coords = v.kind === 'vec' ? [...v.elems] : [v];
    }
    this.expect(RBracket, base === undefined ? "']'" : "'+', '-' or ']' in the address");
    return { kind: 'addr', ...(base !== undefined && { base }), offset, ...(coords && { coords }) };
  }

  // -------------------------------------------------------------------------------------------
  // Numbers

  /** An optionally negated number, or undefined (nothing consumed) when the next token starts none. */
  private signedNumber(what: string): NumValue | undefined {
    const t = this.peek();
    if (t?.tokenType === Minus) {
      this.next();
      const n = this.expect(NumberLit, `a number after '-' (${what})`);
      return negate(this.number(n));
    }
    if (t?.tokenType === NumberLit) {
      this.next();
      return this.number(t);
    }
    return undefined;
  }

  private number(t: IToken): NumValue {
    const s = t.image;
    const after = this.text.charAt((t.endOffset ?? t.startOffset) + 1);
    if (/[A-Za-z0-9_$.]/.test(after)) throw this.error(t, `malformed number '${s}${after}…'`);
    const p = s.slice(0, 2).toLowerCase();
    if (p === '0f') {
      if (s.length !== 10) throw this.error(t, `an f32 literal '0f…' needs exactly 8 hex digits, found '${s}'`);
      const bits = parseInt(s.slice(2), 16);
      const dv = new DataView(new ArrayBuffer(4));
      dv.setUint32(0, bits);
      return { kind: 'float', value: dv.getFloat32(0), width: 32, bits32: bits };
    }
    if (p === '0d') {
      if (s.length !== 18) throw this.error(t, `an f64 literal '0d…' needs exactly 16 hex digits, found '${s}'`);
      const bits = BigInt(`0x${s.slice(2)}`);
      const dv = new DataView(new ArrayBuffer(8));
      dv.setBigUint64(0, bits);
      return { kind: 'float', value: dv.getFloat64(0), width: 64, bits64: bits };
    }
    if (p !== '0x' && /[.eE]/.test(s)) return { kind: 'float', value: Number(s), width: 64 };
    const digits = s.replace(/[uU]$/, '');
    let v: bigint;
    if (p === '0x' || p === '0b') v = BigInt(digits);
    else if (digits.length > 1 && digits.startsWith('0')) {
      // PTX follows C: a leading 0 means octal.
      if (!/^[0-7]+$/.test(digits)) throw this.error(t, `invalid octal literal '${s}'`);
      v = BigInt(`0o${digits.slice(1)}`);
    } else v = BigInt(digits);
    if (v > MAX_U64) throw this.error(t, `integer literal '${s}' does not fit in 64 bits`);
    return { kind: 'int', value: intValue(v) };
  }

  private offsetValue(v: number | bigint, at: IToken): number {
    if (typeof v === 'number') return v;
    throw this.error(at, 'address offset out of range');
  }

  /** A non-negative integer that fits a JS number (counts, sizes, line numbers). */
  private smallInt(what: string): number {
    const t = this.expect(NumberLit, what);
    const n = this.number(t);
    if (n.kind !== 'int' || typeof n.value !== 'number') throw this.error(t, `expected ${what}, found '${t.image}'`);
    return n.value;
  }

  private intLiteral(what: string): number | bigint {
    const t = this.expect(NumberLit, what);
    const n = this.number(t);
    if (n.kind !== 'int') throw this.error(t, `expected ${what}, found '${t.image}'`);
    return n.value;
  }

  // -------------------------------------------------------------------------------------------
  // Token helpers

  private atEnd(): boolean {
    return this.i >= this.tokens.length;
  }

  private peek(k = 0): IToken | undefined {
    return this.tokens[this.i + k];
  }

  private next(): IToken | undefined {
    return this.tokens[this.i++];
  }

  private prev(): IToken {
    return this.tokens[this.i - 1] as IToken;
  }

  private eat(type: TokenType): boolean {
    if (this.peek()?.tokenType !== type) return false;
    this.i++;
    return true;
  }

  private expect(type: TokenType, what: string): IToken {
    const t = this.peek();
    if (t?.tokenType !== type) throw this.error(t, `expected ${what}`);
    this.i++;
    return t;
  }

  private expectName(what: string): IToken {
    const t = this.peek();
    if (t?.tokenType !== Word || t.image.includes('.')) throw this.error(t, `expected ${what}`);
    this.i++;
    return t;
  }

  /**
   * A missing `;` at the end of a line is reported just after the last token of the statement
   * (where it belongs), not at the next line's first token.
   */
  private expectSemicolon(message = "expected ';'"): void {
    const t = this.peek();
    if (t?.tokenType === Semicolon) {
      this.i++;
      return;
    }
    const last = this.i > 0 ? this.prev() : undefined;
    if (last && (t === undefined || (t.startLine ?? 0) > (last.endLine ?? 0))) {
      throw new PtxSyntaxError(`${message}, found ${describe(t)}`, {
        line: last.endLine ?? 1,
        column: (last.endColumn ?? 0) + 1,
      });
    }
    throw this.error(t, message);
  }

  private skipParens(): void {
    const open = this.expect(LParen, "'('");
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t === undefined) throw this.error(undefined, `expected ')' to close the '(' at ${posText(open)}`);
      if (t.tokenType === LParen) depth++;
      else if (t.tokenType === RParen) depth--;
    }
  }

  private skipToSemicolon(): void {
    for (let t = this.next(); t?.tokenType !== Semicolon; t = this.next()) {
      if (t === undefined) throw this.error(undefined, "expected ';'");
    }
  }

  /** An error at `t`, or at the end of the text when `t` is undefined; appends what was found. */
  private error(t: IToken | undefined, message: string): PtxSyntaxError {
    return new PtxSyntaxError(`${message}, found ${describe(t)}`, t ? pos(t) : endPos(this.text));
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function pos(t: IToken): PtxPos {
  return { line: t.startLine ?? 1, column: t.startColumn ?? 1 };
}

function posText(t: IToken): string {
  return `${t.startLine ?? 1}:${t.startColumn ?? 1}`;
}

function endPos(text: string): PtxPos {
  const lines = text.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
}

function describe(t: IToken | undefined): string {
  if (t === undefined) return 'end of input';
  const img = t.image.length > 40 ? `${t.image.slice(0, 40)}…` : t.image;
  return `'${img}'`;
}

function unquote(s: string): string {
  return s.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Integers within ±2^53 stay numbers; larger ones are bigints so no bit is lost. */
function intValue(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function negate(n: NumValue): NumValue {
  if (n.kind === 'int') return { kind: 'int', value: typeof n.value === 'bigint' ? intValue(-n.value) : n.value === 0 ? 0 : -n.value };
  return {
    kind: 'float',
    value: -n.value,
    width: n.width,
    ...(n.bits32 !== undefined && { bits32: (n.bits32 ^ 0x80000000) >>> 0 }),
    ...(n.bits64 !== undefined && { bits64: n.bits64 ^ (1n << 63n) }),
  };
}
