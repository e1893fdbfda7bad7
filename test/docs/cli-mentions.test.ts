import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { docCommands } from './doc-commands.js';
import { USER_DOCS } from './doc-files.js';

/**
 * The CLI as the docs write it exists: every `llm-proxy …` command line of the README, docs/ and
 * CONTRIBUTING.md (in a shell example or an inline code span) names a command, subcommand and
 * options that the program has. The other way, every command is documented, holds because
 * docs/cli.md's reference is generated from the commands (src/cli/cli-reference.test.ts).
 */

/** Inline code spans outside fenced blocks. */
function codeSpans(file: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    else if (!fenced) for (const m of line.matchAll(/`([^`]+)`/g)) out.push(m[1] as string);
  }
  return out;
}

/**
 * The argument words of each llm-proxy invocation in a shell text: where a command starts (the
 * line's start, after `$(`, a pipe, `&&`, `;` or `--`), optionally through `npx`, up to a shell
 * operator or a comment.
 */
function invocations(text: string): string[][] {
  const out: string[][] = [];
  const re = /(?:^|\$\(|\|\s*|&&\s*|;\s*|\s--\s+)(?:npx\s+)?llm-proxy(?=\s|$)([^|;&)#\n]*)/gm;
  for (const m of text.replace(/\\\n/g, ' ').matchAll(re)) {
    out.push((m[1] ?? '').trim().split(/\s+/).filter(Boolean));
  }
  return out;
}

const program = buildProgram();

/** Log messages that start with the program's name (`llm-proxy stopped`): not command lines. */
const MESSAGES = new Set(
  ['src/main.ts', 'src/cli/serve.ts', 'src/server/app.ts'].flatMap((f) =>
    [...readFileSync(f, 'utf8').matchAll(/(?:msg|info|warn|error)\(\s*(?:[^'"]*,\s*)?'(llm-proxy [^']+)'/g)].map(
      (m) => m[1] as string,
    ),
  ),
);
const optionNames = (cmd: Command) =>
  new Set([...cmd.options.flatMap((o) => [o.long, o.short]), '--help', '-h'].filter(Boolean) as string[]);

/** What is wrong with one invocation, or undefined. */
function problem(words: string[]): string | undefined {
  let cmd: Command = program;
  let i = 0;
  const named = words[0];
  const placeholder = (w: string) => w.startsWith('<') || w.startsWith('…');
  if (named !== undefined && !named.startsWith('-') && !placeholder(named)) {
    // `admin-user add|list|remove|passwd`: each alternative must exist.
    const found = program.commands.find((c) => c.name() === named || c.aliases().includes(named));
    if (!found) return `no command ${named}`;
    cmd = found;
    i = 1;
    // Subcommands, as deep as they go (`project key add`).
    for (let sub = words[i]; cmd.commands.length > 0 && sub !== undefined; sub = words[i]) {
      if (sub.startsWith('-') || placeholder(sub)) break;
      const names = sub.split('|');
      const missing = names.filter((n) => !cmd.commands.some((c) => c.name() === n));
      if (missing.length) return `no command ${words.slice(0, i).join(' ')} ${missing.join(', ')}`;
      if (names.length > 1) return undefined;
      cmd = cmd.commands.find((c) => c.name() === sub) as Command;
      i++;
    }
  }
  const known = optionNames(cmd);
  if (cmd === program) for (const o of ['--version', '-V']) known.add(o);
  for (const w of words.slice(i)) {
    const flag = /^(--?[A-Za-z][\w-]*)/.exec(w)?.[1];
    if (flag && !known.has(flag)) return `${cmd.name()} has no option ${flag}`;
  }
  return undefined;
}

describe('llm-proxy commands in the docs', () => {
  const found = USER_DOCS.flatMap((file) => [
    ...docCommands(file).flatMap((c) => invocations(c.text).map((words) => ({ where: `${file}:${c.line}`, words }))),
    ...codeSpans(file)
      .filter((span) => !MESSAGES.has(span))
      .flatMap((span) => invocations(span).map((words) => ({ where: file, words }))),
  ]);

  it('are found in the docs, and log messages are told apart', () => {
    expect(found.length).toBeGreaterThan(100);
    expect(MESSAGES).toContain('llm-proxy stopped');
  });

  it('name only commands, subcommands and options that exist', () => {
    const wrong = found.flatMap(({ where, words }) => {
      const p = problem(words);
      return p ? [`${where}: llm-proxy ${words.join(' ')}: ${p}`] : [];
    });
    expect(wrong).toEqual([]);
  });

  it('are read as a shell reads them', () => {
    expect(invocations('ID=$(npx llm-proxy token create --project "$P" --json | jq -r .id)')).toEqual([
      ['token', 'create', '--project', '"$P"', '--json'],
    ]);
    expect(invocations('docker exec llm-proxy llm-proxy project list')).toEqual([]);
    expect(problem(['token', 'create', '--project', 'x'])).toBeUndefined();
    expect(problem(['token', 'destroy'])).toBe('no command token destroy');
    expect(problem(['token', 'create', '--projekt', 'x'])).toBe('create has no option --projekt');
    expect(problem(['admin-user', 'add|list|remove|passwd'])).toBeUndefined();
    expect(problem(['nope'])).toBe('no command nope');
    expect(problem(['project', 'key', 'add', '"$P"', '--name', 'x'])).toBeUndefined();
    expect(problem(['project', 'key', 'add', '"$P"', '--nam', 'x'])).toBe('add has no option --nam');
    expect(problem(['project', 'key', 'rotate'])).toBe('no command project key rotate');
  });
});
