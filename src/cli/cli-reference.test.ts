import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { markedSection } from '../shared/doc-text.js';
import { cliReference, cliSummary } from './cli-reference.js';
import { buildProgram } from './program.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const regenerate = 'run npm run docs to regenerate it';

/** docs/cli.md's reference and the README's list of commands are what the commands print now. */
describe('the CLI reference', () => {
  it('in docs/cli.md and the README is generated from the commands', async () => {
    const program = buildProgram();
    expect(markedSection(read('docs/cli.md'), 'commands'), regenerate).toBe(cliReference(program));
    expect(markedSection(read('README.md'), 'commands'), regenerate).toBe(cliSummary(program));
  });

  it('has a section for every command, subcommands included', async () => {
    const program = buildProgram();
    const reference = cliReference(program);
    expect(reference).toContain('### `llm-proxy token revoke-where`');
    expect(reference).toContain('### `llm-proxy maintenance`');
    expect(reference).toContain('--audit-retention-days <n>');
  });
});
