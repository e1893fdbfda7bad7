import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { type ProxyStack, startProxyStack } from './helpers/proxy.js';

let st: ProxyStack;
let env: Record<string, string>;
beforeAll(async () => {
  st = await startProxyStack({ env: { MAINTENANCE_INTERVAL_MS: '0' } });
  env = { LLM_PROXY_URL: st.url, MANAGEMENT_TOKEN: st.s.managementToken };
});
afterAll(async () => st?.stop());

const cli = async (args: string[]) => {
  const res = await runCli(args, env);
  expect(res.code, `${args.join(' ')}\n${res.stderr}`).toBe(0);
  return res.stdout;
};
const json = async (args: string[]) => JSON.parse(await cli([...args, '--json']));

describe('CLI: limits, batches, usage and pricing', () => {
  it('sets every limit on project create and update, and clears them', async () => {
    const p = await json([
      'project',
      'create',
      '--name',
      'cli-limits',
      '--api-key',
      'sk-cli-limits-0000',
      '--max-requests',
      '1000',
      '--requests-per-minute',
      '60',
      '--max-concurrent',
      '8',
      '--tokens-per-minute',
      '90000',
      '--budget-usd',
      '25.5',
      '--budget-period',
      'month',
      '--allowed-models',
      'gpt-4o*, gpt-4.1*',
      '--allowed-endpoints',
      'POST /v1/chat/*,/v1/embeddings',
    ]);
    expect(p).toMatchObject({
      max_requests: 1000,
      requests_per_minute: 60,
      max_concurrent: 8,
      tokens_per_minute: 90000,
      budget_usd: 25.5,
      budget_period: 'month',
      allowed_models: ['gpt-4o*', 'gpt-4.1*'],
      allowed_endpoints: ['POST /v1/chat/*', '/v1/embeddings'],
    });
    const cleared = await json([
      'project',
      'update',
      p.id,
      '--max-requests',
      'none',
      '--requests-per-minute',
      '0',
      '--max-concurrent',
      'none',
      '--budget-usd',
      'none',
      '--allowed-models',
      '',
      '--budget-period',
      'total',
    ]);
    expect(cleared).toMatchObject({
      max_requests: null,
      requests_per_minute: null,
      max_concurrent: null,
      tokens_per_minute: 90000,
      budget_usd: null,
      budget_period: 'total',
      allowed_models: null,
      allowed_endpoints: ['POST /v1/chat/*', '/v1/embeddings'],
    });
  });

  it('sets limits on token create and update', async () => {
    const t = await json([
      'token',
      'create',
      '--project',
      st.projectId,
      '--requests-per-minute',
      '5',
      '--max-concurrent',
      '2',
      '--budget-usd',
      '0.5',
      '--budget-period',
      'day',
      '--allowed-models',
      'gpt-4o-mini',
    ]);
    expect(t).toMatchObject({
      requests_per_minute: 5,
      max_concurrent: 2,
      budget_usd: 0.5,
      budget_period: 'day',
      allowed_models: ['gpt-4o-mini'],
    });
    const u = await json([
      'token',
      'update',
      t.id,
      '--tokens-per-minute',
      '1000',
      '--allowed-models',
      '',
      '--allowed-endpoints',
      'GET /v1/models',
      '--max-requests',
      '7',
    ]);
    expect(u).toMatchObject({
      requests_per_minute: 5,
      tokens_per_minute: 1000,
      allowed_models: null,
      allowed_endpoints: ['GET /v1/models'],
      max_requests: 7,
    });
  });

  it('refuses bad limit values before calling the server', async () => {
    for (const args of [
      ['--budget-usd', 'lots'],
      ['--budget-period', 'week'],
      ['--requests-per-minute', '-3'],
      ['--tokens-per-minute', '1.5'],
    ]) {
      const res = await runCli(['token', 'create', '--project', st.projectId, ...args], env);
      expect(res.code, args.join(' ')).not.toBe(0);
      expect(res.stderr).toContain(args[0] as string);
    }
  });

  it('issues a batch and revokes by filter', async () => {
    const batch = await json([
      'token',
      'batch',
      '--project',
      st.projectId,
      '--count',
      '5',
      '--name-prefix',
      'cli-batch',
      '--duration-minutes',
      '30',
      '--max-requests',
      '2',
    ]);
    expect(batch.data).toHaveLength(5);
    expect(batch.data.map((t: { name: string }) => t.name)).toEqual([1, 2, 3, 4, 5].map((i) => `cli-batch-${i}`));
    expect(batch.data[0]).toMatchObject({ max_requests: 2, token: expect.stringMatching(/^sk-llmp-/) });

    const table = await cli([
      'token',
      'batch',
      '--project',
      st.projectId,
      '--count',
      '2',
      '--name-prefix',
      'cli-table',
    ]);
    const lines = table.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+expires_at\s+token$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/cli-table-1 .* sk-llmp-/);

    expect(await json(['token', 'revoke-where', '--project', st.projectId, '--name-prefix', 'cli-batch-'])).toEqual({
      revoked: 5,
    });
    expect(await json(['token', 'revoke-where', '--ids', batch.data[0].id])).toEqual({ revoked: 0 });
    expect(await json(['token', 'revoke-where', '--project', st.projectId, '--expired'])).toEqual({ revoked: 0 });
    const none = await runCli(['token', 'revoke-where'], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('at least one filter');
  });

  // Prices in four tests of at most three processes each: a process takes seconds to start on a busy
  // machine, and seven in one test would outrun its time limit.
  it('pricing list shows the shipped table', async () => {
    const list = await cli(['pricing', 'list']);
    expect(list.split('\n')[0]).toMatch(
      /^model\s+source\s+input\s+cached_input\s+output\s+reasoning\s+other_units\s+updated_at$/,
    );
    expect(list).toMatch(/gpt-4o\s+built_in\s+2\.5\s+1\.25\s+10\s+-\s+tiers priority/);
    expect(list).toMatch(/dall-e-3\s+built_in\s+0\s+-\s+0\s+-\s+image \$0\.04-0\.12/);
    expect(list).toMatch(/whisper-1\s+built_in\s+0\s+-\s+0\s+-\s+\$0\.006\/min/);
    expect(list).toMatch(/gpt-realtime\s+built_in\s+4\s+0\.4\s+16\s+-\s+audio 32\/64; image 5\/-/);
    expect(list).toContain('USD per 1M tokens; table as of ');
    expect(list).toContain(
      'tool fees per 1k calls: code_interpreter $30; file_search $2.5; web_search $10, gpt-4o $25',
    );
    expect(list).toContain('service tiers: batch ×0.5, flex ×0.5');
  });

  it('pricing set adds an override that pricing list shows', async () => {
    const set = await json(['pricing', 'set', 'cli-model', '--input', '1.5', '--output', '3', '--cached-input', '0.5']);
    expect(set).toMatchObject({ model: 'cli-model', source: 'override', input: 1.5, cached_input: 0.5, output: 3 });
    expect(await cli(['pricing', 'list', '--source', 'override'])).toMatch(/cli-model\s+override\s+1\.5\s+0\.5\s+3/);
    expect((await json(['pricing', 'list'])).data.find((p: { model: string }) => p.model === 'cli-model')).toBeTruthy();
  });

  it('pricing set takes every unit: audio rates, per image, per minute, per character, tiers', async () => {
    const set = await json([
      'pricing',
      'set',
      'cli-media',
      '--input',
      '0',
      '--output',
      '0',
      '--audio-output',
      '70',
      '--per-minute',
      '0.01',
      '--per-1m-characters',
      '12',
      '--per-image',
      '{"512x512":{"standard":0.5}}',
      '--tiers',
      '{"priority":{"input":2}}',
    ]);
    expect(set).toMatchObject({
      model: 'cli-media',
      audio_output: 70,
      per_minute: 0.01,
      per_1m_characters: 12,
      per_image: { '512x512': { standard: 0.5 } },
      tiers: { priority: { input: 2 } },
    });
    const bad = await runCli(['pricing', 'set', 'x', '--input', '1', '--output', '1', '--per-image', '[1]'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected a JSON object');
  });

  it('pricing unset removes an override; unsetting it again is a 404', async () => {
    expect((await st.s.manage('PUT', '/pricing/cli-unset-model', { input: 1, output: 2 })).status).toBe(200);
    expect(await json(['pricing', 'unset', 'cli-unset-model'])).toEqual({ unset: 'cli-unset-model' });
    const again = await runCli(['pricing', 'unset', 'cli-unset-model'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('404 not_found');
  });

  it('pricing set refuses a price that is not a number', async () => {
    const bad = await runCli(['pricing', 'set', 'x', '--input', 'free', '--output', '1'], env);
    expect(bad.code).not.toBe(0);
  });

  it('shows usage as a table, JSON and CSV, with filters', async () => {
    for (const model of ['gpt-4o', 'gpt-4o', 'gpt-4o-mini']) {
      await st.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
    }
    await st.waitUsage(st.tokenId, 3);

    const report = await json(['usage', '--group-by', 'model', '--token', st.tokenId]);
    expect(report.group_by).toBe('model');
    expect(report.totals.requests).toBe(3);
    const byModel = Object.fromEntries(
      report.data.map((g: { model: string; requests: number }) => [g.model, g.requests]),
    );
    expect(byModel).toEqual({ 'gpt-4o': 2, 'gpt-4o-mini': 1 });

    const table = await cli(['usage', '--group-by', 'model', '--token', st.tokenId]);
    const lines = table.trim().split('\n');
    expect(lines[0]).toBe('from the beginning to now');
    expect(lines[1]).toMatch(
      /^model\s+requests\s+errors\s+prompt_tokens\s+completion_tokens\s+total_tokens\s+cost_usd/,
    );
    expect(lines[2]).toMatch(/^gpt-4o\s+2\s+0\s/);
    expect(lines[4]).toMatch(new RegExp(`^total\\s+3\\s+0\\s.*${report.totals.cost_usd.replace('.', '\\.')}`));

    const csv = await cli(['usage', '--group-by', 'model', '--token', st.tokenId, '--csv']);
    const rows = csv.trim().split('\r\n');
    expect(rows[0]?.startsWith('model,requests,errors,')).toBe(true);
    expect(rows).toHaveLength(3);
    expect(rows[1]?.startsWith('gpt-4o,2,0,')).toBe(true);

    const filtered = await json([
      'usage',
      '--model',
      'gpt-4o-mini',
      '--from',
      new Date(Date.now() - 3_600_000).toISOString(),
    ]);
    expect(filtered.totals.requests).toBe(1);
    const empty = await cli(['usage', '--project', 'nobody']);
    expect(empty).toMatch(/requests[\s\S]*\n\s*0\s+0\s/);
    const bad = await runCli(['usage', '--group-by', 'week'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('group_by');
  });
});
