import { readFileSync } from 'node:fs';

/**
 * The commands of a Markdown file, as a reader would paste them: every command of a ```sh block
 * (lines joined at a trailing `\`, comment lines left out), and every `$ command` line of a
 * ```text block. Each keeps the output the doc shows for it, when it shows one: the block right
 * after an ```sh block (for its last command), or the lines after a `$ ` line up to the next one.
 */
export interface DocCommand {
  file: string;
  /** 1-based line of the command's first line. */
  line: number;
  /** The command as written (continuation lines included, trailing comments included). */
  text: string;
  /** The command without comments and with whitespace collapsed: the key of the lists in the test. */
  key: string;
  output?: { lang: string; text: string };
}

const SHELL = new Set(['sh', 'bash', 'shell']);

interface Block {
  lang: string;
  lines: string[];
  /** 1-based line of the first line inside the fence. */
  start: number;
  /** Whether only blank lines separate it from the block before it. */
  follows: boolean;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  let current: Block | undefined;
  let lastEnd = -10;
  for (const [i, line] of lines.entries()) {
    const fence = /^```(\S*)\s*$/.exec(line);
    if (current) {
      if (line.startsWith('```')) {
        out.push(current);
        current = undefined;
        lastEnd = i;
      } else current.lines.push(line);
    } else if (fence) {
      const between = lines.slice(lastEnd + 1, i);
      current = { lang: fence[1] ?? '', lines: [], start: i + 2, follows: between.every((l) => l.trim() === '') };
    }
  }
  return out;
}

/** Text without a trailing `# comment` (a `#` outside quotes, after whitespace). */
export function withoutComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) return text.slice(0, i).trimEnd();
  }
  return text;
}

const keyOf = (text: string) =>
  text.split('\n').map(withoutComment).join(' ').replace(/\\\s/g, ' ').replace(/\s+/g, ' ').trim();

function shellCommands(file: string, b: Block): DocCommand[] {
  const out: DocCommand[] = [];
  let pending: { line: number; lines: string[] } | undefined;
  for (const [i, line] of b.lines.entries()) {
    if (!pending) {
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      pending = { line: b.start + i, lines: [] };
    }
    pending.lines.push(line);
    if (!withoutComment(line).endsWith('\\')) {
      const text = pending.lines.join('\n');
      out.push({ file, line: pending.line, text, key: keyOf(text) });
      pending = undefined;
    }
  }
  return out;
}

function promptCommands(file: string, b: Block): DocCommand[] {
  const out: DocCommand[] = [];
  let current: DocCommand | undefined;
  let pending: string[] | undefined;
  for (const [i, line] of b.lines.entries()) {
    if (pending) {
      pending.push(line);
      if (!line.endsWith('\\') && current) {
        current.text = pending.join('\n');
        current.key = keyOf(current.text);
        pending = undefined;
      }
      continue;
    }
    if (line.startsWith('$ ')) {
      current = { file, line: b.start + i, text: '', key: '', output: { lang: b.lang, text: '' } };
      out.push(current);
      pending = [line.slice(2)];
      if (!line.endsWith('\\')) {
        current.text = line.slice(2);
        current.key = keyOf(current.text);
        pending = undefined;
      }
    } else if (current?.output) current.output.text += `${current.output.text ? '\n' : ''}${line}`;
  }
  for (const c of out) if (c.output) c.output.text = c.output.text.trimEnd();
  return out;
}

export function docCommands(file: string): DocCommand[] {
  const all = blocks(readFileSync(file, 'utf8'));
  const out: DocCommand[] = [];
  for (const [i, b] of all.entries()) {
    if (SHELL.has(b.lang)) {
      const commands = shellCommands(file, b);
      const next = all[i + 1];
      const last = commands.at(-1);
      const isOutput = next?.follows && !SHELL.has(next.lang) && !next.lines.some((l) => l.startsWith('$ '));
      if (last && isOutput) last.output = { lang: next?.lang ?? '', text: next?.lines.join('\n') ?? '' };
      out.push(...commands);
    } else if (b.lines.some((l) => l.startsWith('$ '))) out.push(...promptCommands(file, b));
  }
  return out;
}
