/** A readable text form of the tile IR, for `tilekit ir`, tests and the editor. */
import type { Block, IRKernel, IRType, Op, Value } from './ir.js';

function ty(t: IRType): string {
  if (t.kind === 'tensor') return `tensor<${t.dtype}, rank ${t.rank}>`;
  return t.shape.length === 0 ? t.dtype : `${t.dtype}[${t.shape.join(', ')}]`;
}

function v(x: Value): string {
  return x.hint ? `%${x.hint}.${x.id}` : `%${x.id}`;
}

function list(xs: readonly Value[]): string {
  return xs.map(v).join(', ');
}

function num(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return Object.is(x, -0) ? '-0.0' : String(x);
}

function printOp(op: Op, indent: string, out: string[]): void {
  const line = (s: string): void => {
    out.push(indent + s);
  };
  switch (op.op) {
    case 'const':
      return line(`${v(op.result)} = const ${num(op.value)} : ${ty(op.result.type)}`);
    case 'param':
      return line(`${v(op.result)} = param ${op.name} : ${ty(op.result.type)}`);
    case 'tensor':
      return line(`${v(op.result)} = tensor ${op.name} : ${ty(op.result.type)}`);
    case 'dim':
      return line(`${v(op.result)} = dim ${v(op.tensor)}, ${op.axis} : i32`);
    case 'program_id':
    case 'num_programs':
      return line(`${v(op.result)} = ${op.op} ${op.axis} : i32`);
    case 'arange':
      return line(`${v(op.result)} = arange : ${ty(op.result.type)}`);
    case 'broadcast':
    case 'transpose':
    case 'cast':
      return line(`${v(op.result)} = ${op.op} ${v(op.src)} : ${ty(op.src.type)} -> ${ty(op.result.type)}`);
    case 'expand_dims':
      return line(`${v(op.result)} = expand_dims ${v(op.src)}, axis ${op.axis} : ${ty(op.result.type)}`);
    case 'binary':
      return line(`${v(op.result)} = ${op.fn} ${v(op.lhs)}, ${v(op.rhs)} : ${ty(op.result.type)}`);
    case 'cmp':
      return line(`${v(op.result)} = cmp ${op.pred} ${v(op.lhs)}, ${v(op.rhs)} : ${ty(op.lhs.type)}`);
    case 'unary':
      return line(`${v(op.result)} = ${op.fn} ${v(op.src)} : ${ty(op.result.type)}`);
    case 'select':
      return line(`${v(op.result)} = select ${v(op.cond)}, ${v(op.a)}, ${v(op.b)} : ${ty(op.result.type)}`);
    case 'reduce':
      return line(`${v(op.result)} = reduce ${op.fn} ${v(op.src)}, axis ${op.axis} : ${ty(op.src.type)} -> ${ty(op.result.type)}`);
    case 'dot':
      return line(`${v(op.result)} = dot ${v(op.a)}, ${v(op.b)}, ${v(op.acc)} : ${ty(op.a.type)} x ${ty(op.b.type)} -> ${ty(op.result.type)}`);
    case 'load':
    case 'store': {
      const idx = op.indices.map((i) => (i.size === null ? v(i.offset) : `${v(i.offset)} : ${i.size}`)).join(', ');
      const mask = op.mask ? `, mask ${v(op.mask)}` : '';
      if (op.op === 'load') return line(`${v(op.result)} = load ${v(op.tensor)}[${idx}], other ${v(op.other)}${mask} : ${ty(op.result.type)}`);
      return line(`store ${v(op.tensor)}[${idx}], ${v(op.value)}${mask} : ${ty(op.value.type)}`);
    }
    case 'yield':
      return line(op.values.length ? `yield ${list(op.values)}` : 'yield');
    case 'for': {
      const res = op.results.length ? `${list(op.results)} = ` : '';
      const iter = op.iterArgs.length ? ` iter(${op.iterArgs.map((a, i) => `${v(a)} = ${v(op.inits[i]!)}`).join(', ')})` : '';
      const pipe = op.stages !== undefined ? ` pipelined(${op.stages})` : '';
      line(`${res}for ${v(op.iv)} = ${v(op.lower)} to ${v(op.upper)} step ${op.step}${iter}${pipe} {`);
      printBlock(op.body, indent + '  ', out);
      return line('}');
    }
    case 'if': {
      const res = op.results.length ? `${list(op.results)} = ` : '';
      line(`${res}if ${v(op.cond)} {`);
      printBlock(op.then, indent + '  ', out);
      line('} else {');
      printBlock(op.else, indent + '  ', out);
      return line('}');
    }
  }
}

function printBlock(b: Block, indent: string, out: string[]): void {
  for (const op of b.ops) printOp(op, indent, out);
}

export function printKernel(k: IRKernel): string {
  const params = k.params.map((p) => (p.kind === 'tensor' ? `${p.name}: ${p.dtype}[${p.dims.join(', ')}]` : `${p.name}: ${p.dtype}`));
  const config = Object.entries(k.config)
    .map(([n, x]) => `${n}=${x}`)
    .join(', ');
  const out = [`kernel ${k.name}(${params.join(', ')})`, `  config {${config}}`, 'grid {'];
  printBlock(k.grid, '  ', out);
  out.push('}', 'body {');
  printBlock(k.body, '  ', out);
  out.push('}');
  return out.join('\n') + '\n';
}
