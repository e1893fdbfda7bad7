import type { Command } from 'commander';
import { wrap } from '../shared/doc-text.js';

/**
 * docs/cli.md's command reference, generated from the commands themselves (`npm run docs`): each
 * command's `--help`, as commander prints it, at a fixed width so the text does not depend on the
 * terminal that generated it.
 */

const HELP_WIDTH = 100;

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
