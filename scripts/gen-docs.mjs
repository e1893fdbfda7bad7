/**
 * Writes the generated parts of the docs from the program itself (`npm run docs`, after a build):
 * docs/configuration.md's settings reference, the README's short list of settings and
 * `.env.example` from the configuration schema, and docs/cli.md's command reference and the
 * README's list of commands from the CLI's commands. The tests that compare them
 * (src/config/config-docs.test.ts, src/cli/cli-reference.test.ts) fail when a committed file
 * differs from what this writes.
 * `--check` writes nothing and exits 1 when a file would change.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const dist = new URL('../dist/', import.meta.url);
const root = new URL('../', import.meta.url);
const { configurationSettings, clientSettings, readmeSettings, envExample } = await import(
  new URL('config/settings-reference.js', dist).href
);
const { cliReference, cliSummary } = await import(new URL('cli/cli-reference.js', dist).href);
const { buildProgram } = await import(new URL('cli/program.js', dist).href);
const { replaceSection } = await import(new URL('shared/doc-text.js', dist).href);

const program = buildProgram();

/** file → what it should hold, given what it holds. */
const outputs = {
  'README.md': (text) =>
    replaceSection(replaceSection(text, 'settings', readmeSettings()), 'commands', cliSummary(program)),
  'docs/configuration.md': (text) =>
    replaceSection(replaceSection(text, 'settings', configurationSettings()), 'client-settings', clientSettings()),
  '.env.example': () => envExample(),
  'docs/cli.md': (text) => replaceSection(text, 'commands', cliReference(program)),
};

const check = process.argv.includes('--check');
let stale = 0;
for (const [file, generate] of Object.entries(outputs)) {
  const url = new URL(file, root);
  const before = readFileSync(url, 'utf8');
  const after = generate(before);
  if (after === before) continue;
  stale++;
  if (check) process.stderr.write(`${file} differs from what npm run docs generates\n`);
  else {
    writeFileSync(url, after);
    process.stdout.write(`wrote ${file}\n`);
  }
}
if (check && stale > 0) process.exitCode = 1;
