import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { json, type ProxyStack, startProxyStack } from '../helpers/proxy.js';

/** `llm-proxy logs` over the lines a real server wrote, split into a rotated set: app.log.2.gz, app.log.1, app.log. */
describe('llm-proxy logs', () => {
  let st: ProxyStack;
  let dir: string;
  let files: string[];
  let other: { id: string; token: string };
  const requestLines = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => typeof l.status === 'number' && String(l.path).startsWith('/v1')); // proxy request and proxy refused lines

  beforeAll(async () => {
    st = await startProxyStack();
    other = await st.issueToken({ name: 'other' });
    const chat = (model: string) => json({ model, messages: [{ role: 'user', content: 'hi' }] });
    for (const model of ['gpt-4o-mini', 'gpt-4o'])
      await st.recordOf(await st.proxy('/v1/chat/completions', chat(model)));
    await st.recordOf(
      await st.proxy('/v1/embeddings', {
        ...json({ model: 'text-embedding-3-small', input: 'x' }),
        token: other.token,
      }),
      other.id,
    );
    const refused = await st.proxy('/v1/models', { token: 'sk-llmp-not-a-token' });
    expect(refused.status).toBe(401);
    await refused.text();
    await st.usage();
    const lines = st.s.logs().trim().split('\n');
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-logs-'));
    const third = Math.ceil(lines.length / 3);
    const part = (i: number) => `${lines.slice(i * third, (i + 1) * third).join('\n')}\n`;
    files = [path.join(dir, 'app.log'), path.join(dir, 'app.log.1'), path.join(dir, 'app.log.2.gz')];
    writeFileSync(files[2] as string, gzipSync(part(0)));
    writeFileSync(files[1] as string, `${part(1)}not json at all\n`);
    writeFileSync(files[0] as string, part(2));
  });
  afterAll(async () => {
    await st.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads rotated and gzipped files oldest first, and filters by token', async () => {
    const all = await runCli(['logs', '--json', ...files]);
    expect(all.code).toBe(0);
    expect(all.stderr).toContain('skipped 1 line(s)');
    const times = requestLines(all.stdout).map((l) => l.time as string);
    expect(times).toHaveLength(4);
    expect([...times].sort()).toEqual(times);

    const mine = requestLines((await runCli(['logs', '--json', '--token', other.id, ...files])).stdout);
    expect(mine.map((l) => l.path)).toEqual(['/v1/embeddings']);
  });

  it('filters by status, model, path, project and time', async () => {
    const lines = async (...args: string[]) =>
      requestLines((await runCli(['logs', '--json', ...args, ...files])).stdout);
    expect((await lines('--status', '4xx')).map((l) => l.status)).toEqual([401]);
    expect((await lines('--status', '>=200,<300')).length).toBe(4); // either comparison
    expect((await lines('--status', '200')).length).toBe(3);
    expect((await lines('--model', 'gpt-4o*')).map((l) => l.model)).toEqual(['gpt-4o-mini', 'gpt-4o']);
    expect((await lines('--path', '/v1/chat')).length).toBe(2);
    expect((await lines('--project', st.projectId)).length).toBe(3);
    expect((await lines('--since', '1h')).length).toBe(4);
    expect((await lines('--until', '1h')).length).toBe(0);
    expect((await lines('--since', '2000-01-01T00:00:00Z', '--until', '2999-01-01')).length).toBe(4);
  });

  it('prints a table, with application events by level', async () => {
    const res = await runCli(['logs', '--status', '200', ...files]);
    expect(res.code).toBe(0);
    const [header, ...rows] = res.stdout.trim().split('\n');
    expect(header).toMatch(/^time\s+status\s+method\s+path\s+model\s+tokens\s+cost_usd\s+ms\s+token_id$/);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/200\s+POST\s+\/v1\/chat\/completions\s+gpt-4o-mini\s+\d+\s+0\.\d{9}\s+\d+/);
    const warnings = await runCli(['logs', '--level', 'info', ...files]);
    expect(warnings.stdout).toContain('llm-proxy listening');
  });

  it('says what is wrong with a bad filter or file', async () => {
    const bad = await runCli(['logs', '--status', 'teapot', ...files]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--status');
    const since = await runCli(['logs', '--since', 'yesterday-ish', ...files]);
    expect(since.stderr).toContain('--since');
    const missing = await runCli(['logs', path.join(dir, 'nope.log')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('ENOENT');
    expect(missing.stderr).not.toContain('    at ');
  });
});
