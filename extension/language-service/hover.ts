/**
 * Hover: what a name is. Tensor parameters show dtype and symbolic shape; locals their tile
 * dtype and shape in the default configuration (tile shapes are numbers only per
 * configuration); constants and tunables their candidates and default; builtins their usage.
 */
import type { ForStmt, LetStmt, Param } from '../../dsl/ast.js';
import { BUILTINS } from '../../dsl/builtins.js';
import type { ExprType } from '../../dsl/types.js';
import type { AnalyzedDocument, KernelInfo, Region } from './document.js';
import { configNote, constText, typeLabel, defaultLine, dtypeDoc, kernelSignature, paramText, tunableText } from './describe.js';
import { spanRange } from './positions.js';
import type { Hover } from './protocol.js';
import { type Def, type Ref, refAt } from './resolve.js';

export function hover(doc: AnalyzedDocument, region: Region, offset: number): Hover | undefined {
  const ref = refAt(region.index, offset);
  if (!ref) return undefined;
  const contents = hoverText(region, ref);
  return contents ? { contents, range: spanRange(region.source, doc.lines, ref.span) } : undefined;
}

const code = (s: string): string => '```tile\n' + s + '\n```';

function hoverText(region: Region, ref: Ref): string | undefined {
  if (ref.def) return defText(region, ref.def, ref);
  if (ref.dtype) return `${code(ref.dtype)}\ndtype: ${dtypeDoc(ref.dtype)}`;
  if (ref.builtin === 'inf') return `${code('inf: f32')}\nThe float constant +∞ (\`-inf\` for −∞).`;
  if (ref.builtin === 'range') return `${code('range(start, end, step)')}\nThe iteration space of a \`for\` loop; \`step\` is a positive constant.`;
  if (ref.builtin === 'pipelined') return `${code('pipelined(N)')}\nOverlap the loads of N loop iterations on the GPU.`;
  if (ref.builtin) {
    const b = BUILTINS[ref.builtin];
    return b ? `${code(b.usage)}\nbuiltin: ${b.doc}` : undefined;
  }
  if (ref.namedArg) return `${code(`${ref.name} = …`)}\nnamed argument`;
  return undefined;
}

function infoOf(region: Region, def: Def): KernelInfo | undefined {
  return region.kernels.find((k) => k.kernel === def.kernel);
}

function defText(region: Region, def: Def, ref: Ref): string {
  const info = infoOf(region, def);
  const checked = info?.checked;
  switch (def.kind) {
    case 'kernel': {
      const tun = def.kernel.tunables.map((t) => t.name.name);
      return `${code(kernelSignature(def.kernel))}\nkernel${tun.length ? `; tunables: ${tun.join(', ')}` : ''}`;
    }
    case 'parameter': {
      const p = def.node as Param;
      const sym = checked?.params.find((s) => s.name === def.name);
      const what = p.kind === 'TensorParam' ? 'tensor parameter' : 'scalar parameter';
      // A dtype or dim that names a constant is resolved in the default configuration.
      const resolved = sym ? (sym.kind === 'tensor' ? `${sym.dtype}[${sym.dims.join(', ')}]` : sym.dtype) : undefined;
      const declared = paramText(p).slice(def.name.length + 2);
      return `${code(paramText(p))}\n${what}${resolved && resolved !== declared ? `; ${resolved} ${configNote(checked!)}` : ''}`;
    }
    case 'dimension': {
      const p = def.node as Param;
      return `${code(`${def.name}: i32`)}\nshape symbol, bound at launch from \`${p.name.name}\``;
    }
    case 'constant': {
      const c = def.kernel.consts.find((x) => x.name.span === def.span);
      return `${code(c ? constText(c) : def.name)}\nconstant (set per build); ${defaultLine(info?.space, def.name)}`;
    }
    case 'tunable': {
      const t = def.kernel.tunables.find((x) => x.name.span === def.span);
      return `${code(t ? tunableText(t) : def.name)}\ntunable; ${defaultLine(info?.space, def.name)}`;
    }
    case 'local': {
      const kw = (def.node as LetStmt | ForStmt).kind === 'For' ? 'for' : def.mutable ? 'var' : 'let';
      const type = localType(info, def, ref);
      if (!type || !checked) return `${code(`${kw} ${def.name}`)}\n${checked ? 'not checked in the default configuration (a branch not taken)' : 'no default configuration to infer its type in'}`;
      return `${code(`${kw} ${def.name}: ${typeLabel(type)}`)}\n${configNote(checked)}`;
    }
  }
}

/** The checker's type of a local: at its declaration, or of this use. */
export function localType(info: KernelInfo | undefined, def: Def, ref?: Ref): ExprType | undefined {
  const checked = info?.checked;
  if (!checked) return undefined;
  if (ref?.expr) {
    const t = checked.types.get(ref.expr);
    if (t && t.kind !== 'error') return t;
  }
  return checked.locals.get(def.node as LetStmt | ForStmt)?.type;
}
