import { Command } from 'commander';
import { wrap } from '../shared/doc-text.js';

/**
 * docs/cli.md's command reference, generated from the commands themselves (`npm run docs`): each
 * command's `--help`, as commander prints it, at a fixed width so the text does not depend on the
 * terminal that generated it.
 */

const HELP_WIDTH = 100;

const programs = new Map<string, Command>();

/**
 * The CLI's program, without running it: the entry (`mainUrl`: src/cli/main.ts or
 * dist/cli/main.js) builds the program and parses the command line as it is imported, so the one
 * `parseAsync` made while importing it is caught instead of run (and an entry that does not run on
 * import gives its `buildProgram`).
 */
export async function loadProgram(mainUrl: string): Promise<Command> {
  // A module runs once: the program it built is kept for the next call.
  const loaded = programs.get(mainUrl);
  if (loaded) return loaded;
  const parseAsync = Command.prototype.parseAsync;
  let program: Command | undefined;
  Command.prototype.parseAsync = async function (this: Command) {
    program = this;
    return this;
  };
  let entry: { buildProgram?: () => Command };
  try {
    entry = await import(mainUrl);
  } finally {
    Command.prototype.parseAsync = parseAsync;
  }
  // An entry that runs only as the main module leaves building the program to us.
  program ??= entry.buildProgram?.();
  if (!program) throw new Error(`${mainUrl} built no program`);
  programs.set(mainUrl, program);
  return program;
}

function helpOf(cmd: Command): string {
  const parts: string[] = [];
  cmd.configureOutput({
    writeOut: (s) => parts.push(s),
    getOutHelpWidth: () => HELP_WIDTH,
    getOutHasColors: () => false,
  });
  cmd.outputHelp();
  return parts.join('').trimEnd();
}

function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every command and subcommand, depth first, in the order `--help` lists them. */
function walk(cmd: Command, out: Command[] = []): Command[] {
  for (const sub of cmd.commands) {
    out.push(sub);
    walk(sub, out);
  }
  return out;
}

export function cliReference(program: Command): string {
  const parts = [`### \`${program.name()}\``, '', '```text', helpOf(program), '```'];
  for (const cmd of walk(program)) {
    parts.push('', `### \`${fullName(cmd)}\``, '', '```text', helpOf(cmd), '```');
  }
  return parts.join('\n');
}

/** The README's list of commands: each top-level command, its subcommands and what it does. */
export function cliSummary(program: Command): string {
  return program.commands
    .map((cmd) => {
      const subs = cmd.commands.map((s) => s.name());
      const name = subs.length ? `${cmd.name()} ${subs.join('|')}` : cmd.name();
      return wrap(`\`${name}\`: ${cmd.description()}`, HELP_WIDTH, '- ', '  ');
    })
    .join('\n');
}
