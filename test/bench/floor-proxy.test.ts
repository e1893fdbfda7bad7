import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';

/**
 * The floor proxy is a benchmark reference (`npm run bench:floor`): its figures only mean something
 * if it really forwards, so it is checked like a user would use it.
 */
let mock: MockUpstream;
let floor: ChildProcess;
let client: OpenAI;
let floorUrl: string;

beforeAll(async () => {
  mock = await startMockUpstream({ apiKey: 'sk-floor-upstream' });
  floor = spawn(process.execPath, [
    path.resolve('dist-bench/benchmarks/floor-proxy.js'),
    '--upstream',
    mock.url,
    '--key',
    'sk-floor-upstream',
  ]);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    floor.stdout?.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    floor.once('exit', (code) => reject(new Error(`floor proxy exited with ${code}`)));
  });
  floorUrl = url;
  // Any key works: the floor proxy swaps in the upstream's without checking.
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'anything', maxRetries: 0 });
});
afterAll(async () => {
  floor?.kill('SIGTERM');
  await mock?.close();
});

describe('floor proxy', () => {
  it('forwards JSON with the upstream key swapped in', async () => {
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('streams every chunk', async () => {
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], stream: true },
      { headers: { 'x-mock-chunks': '12' } },
    );
    let chunks = 0;
    for await (const c of stream) if (c.choices[0]?.delta.content) chunks++;
    expect(chunks).toBe(12);
  });

  it('forwards bodiless requests and upstream errors', async () => {
    const models = await client.models.list();
    expect(models.data.length).toBeGreaterThan(0);
    await expect(
      client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-mock-status': '429' } },
      ),
    ).rejects.toMatchObject({ status: 429 });
  });

  it('relays a Realtime WebSocket both ways with the upstream key', async () => {
    const ws = new WebSocket(`${floorUrl.replace(/^http/, 'ws')}/v1/realtime?model=gpt-realtime`, {
      headers: { authorization: 'Bearer anything' },
    });
    const received: string[] = [];
    const echoed = new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        received.push(String(data));
        if (String(data).includes('mock.echo')) resolve();
      });
      ws.once('error', reject);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'mock.echo', payload: 'hello' }));
    await echoed;
    expect(JSON.parse(received[0] as string).type).toBe('session.created');
    expect(JSON.parse(received.at(-1) as string)).toEqual({ type: 'mock.echo', payload: 'hello' });
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.close(1000);
    expect(await closed).toBe(1000);
  });
});
