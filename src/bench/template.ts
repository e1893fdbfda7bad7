import { randomUUID } from 'node:crypto';

/**
 * Request-body templates: text with `{{variable}}` or `{{variable:arg:arg}}` placeholders, compiled
 * once into literal parts and generators so each request costs one string concatenation.
 * Every value is plain ASCII without quotes or backslashes, so it is safe inside a JSON string.
 */

export interface TemplateContext {
  /** `{{model}}`. */
  model: string;
  /** `{{stream}}`: `true` or `false`. */
  stream: boolean;
}

/** Renders the body of request number `seq` (0-based, counted per run). */
export type Render = (seq: number) => string;

type Part = string | Render;

export const TEMPLATE_VARIABLES = [
  'seq',
  'uuid',
  'random_int',
  'random_word',
  'random_prompt',
  'timestamp',
  'iso_time',
  'model',
  'stream',
] as const;

const WORDS = (
  'the of and to in is it you that he was for on are with as his they be at one have this from or had by word ' +
  'but what some we can out other were all there when up use your how said an each she which do their time if ' +
  'will way about many then them write would like so these her long make thing see him two has look more day ' +
  'could go come did number sound no most people my over know water than call first who may down side been now'
).split(' ');

const randomWord = () => WORDS[(Math.random() * WORDS.length) | 0] as string;

function randomWords(n: number): string {
  let out = randomWord();
  for (let i = 1; i < n; i++) out += ` ${randomWord()}`;
  return out;
}

function integerArg(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new TemplateError(`{{${name}}}: ${JSON.stringify(raw)} is not an integer`);
  return n;
}

export class TemplateError extends Error {}

function generator(expr: string, ctx: TemplateContext): Render {
  const [name = '', ...args] = expr.split(':').map((s) => s.trim());
  switch (name) {
    case 'seq':
      return (seq) => String(seq);
    case 'uuid':
      return () => randomUUID();
    case 'random_int': {
      const min = integerArg(name, args[0], 0);
      const max = integerArg(name, args[1], args[0] === undefined ? 1_000_000_000 : min + 1_000_000_000);
      if (max < min) throw new TemplateError(`{{random_int:${min}:${max}}}: max is below min`);
      const span = max - min + 1;
      return () => String(min + Math.floor(Math.random() * span));
    }
    case 'random_word':
      return randomWord;
    case 'random_prompt': {
      const words = integerArg(name, args[0], 12);
      if (words < 1) throw new TemplateError('{{random_prompt:N}}: N must be at least 1');
      return () => randomWords(words);
    }
    case 'timestamp':
      return () => String(Date.now());
    case 'iso_time':
      return () => new Date().toISOString();
    case 'model': {
      const model = ctx.model;
      return () => model;
    }
    case 'stream': {
      const stream = String(ctx.stream);
      return () => stream;
    }
    default:
      throw new TemplateError(
        `unknown template variable {{${expr}}}; known: ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}`,
      );
  }
}

export interface CompiledTemplate {
  /** True when every request gets the same body (no variables, or only constant ones). */
  constant: boolean;
  render: Render;
}

const CONSTANT_VARIABLES = new Set(['model', 'stream']);

/** Compiles template text; throws TemplateError on an unknown variable or a bad argument. */
export function compileTemplate(text: string, ctx: TemplateContext): CompiledTemplate {
  const parts: Part[] = [];
  let constant = true;
  let last = 0;
  for (const m of text.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)) {
    const expr = m[1] ?? '';
    if (m.index > last) parts.push(text.slice(last, m.index));
    const render = generator(expr, ctx);
    if (CONSTANT_VARIABLES.has(expr.split(':')[0]?.trim() ?? '')) parts.push(render(0));
    else {
      parts.push(render);
      constant = false;
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  const joined = mergeLiterals(parts);
  if (constant) {
    const body = joined.join('');
    return { constant, render: () => body };
  }
  return { constant, render: concatenator(joined) };
}

function mergeLiterals(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    if (typeof p === 'string' && typeof prev === 'string') out[out.length - 1] = prev + p;
    else out.push(p);
  }
  return out;
}

function concatenator(parts: Part[]): Render {
  return (seq) => {
    let s = '';
    for (const p of parts) s += typeof p === 'string' ? p : p(seq);
    return s;
  };
}
