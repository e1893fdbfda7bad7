import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { CONTROL_ROUTES } from '../../src/mock-upstream/help.js';
import { MOCK_HEADERS, type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';

/**
 * `llm-proxy mock-upstream`'s help and docs/proxy.md's section on it, against the mock itself: the
 * flags the command takes, the headers it reads and the control routes it answers, both ways.
 */

const section = (() => {
  const doc = readFileSync('docs/proxy.md', 'utf8');
  const start = doc.indexOf('## The mock upstream');
  return doc.slice(start, doc.indexOf('\n## ', start + 1));
})();

/** The first column of the doc's table whose header starts with `header`, without backticks. */
function column(header: string): string[] {
  const lines = section.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${header}`));
  const out: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    out.push((line.split('|')[1] ?? '').trim().replace(/`/g, ''));
  }
  return out;
}

const headers = Object.values(MOCK_HEADERS).sort();
const routes = Object.keys(CONTROL_ROUTES).sort();

describe('the mock upstream, as documented', () => {
  let mock: MockUpstream;
  beforeAll(async () => {
    mock = await startMockUpstream({ port: 0 });
  });
  afterAll(async () => mock?.close());

  it('--help lists every per-request header and control route', async () => {
    const program = buildProgram();
    const command = program.commands.find((c) => c.name() === 'mock-upstream');
    let help = '';
    command?.configureOutput({ writeOut: (s) => (help += s) }).outputHelp();
    for (const h of [...headers, ...routes]) expect(help).toContain(h);
  });

  it('docs/proxy.md documents its flags, headers and control routes, and no others', async () => {
    const program = buildProgram();
    const command = program.commands.find((c) => c.name() === 'mock-upstream');
    const flags = (command?.options ?? []).map((o) => o.flags).sort();
    expect(column('Flag').sort()).toEqual(flags.filter((f) => f !== '-h, --help'));
    expect(column('Header').sort()).toEqual(headers);
    expect(column('Route').sort()).toEqual(routes);
  });

  it('answers exactly its control routes', async () => {
    for (const route of routes) {
      const [method, path] = route.split(' ');
      const res = await fetch(`${mock.url}${path}`, { method });
      await res.arrayBuffer();
      expect(res.status, route).not.toBe(404);
    }
    const unknown = await fetch(`${mock.url}/__mock/nothing`);
    await unknown.arrayBuffer();
    expect(unknown.status).toBe(404);
  });
});
