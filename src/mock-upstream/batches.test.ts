import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from './index.js';

let mock: MockUpstream;
let client: OpenAI;

beforeAll(async () => {
  mock = await startMockUpstream({ batchLinesPerPoll: 1 });
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(() => mock.close());

const chatLine = (id: string, content: string) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
  });

async function inputFile(lines: string[]) {
  return client.files.create({
    file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'in.jsonl'),
    purpose: 'batch',
  });
}

async function createBatch(lines: string[]) {
  const input = await inputFile(lines);
  return client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
}

async function lines(fileId: string | null | undefined): Promise<Record<string, unknown>[]> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('batches', () => {
  it('run a step per retrieval: validating → in_progress → a line each → finalizing → completed', async () => {
    const bad = JSON.stringify({ custom_id: 'c', method: 'POST', url: '/v1/chat/completions', body: { model: 'm' } });
    const batch = await createBatch([chatLine('a', 'hello there'), chatLine('b', 'hi'), bad]);
    expect(batch).toMatchObject({ object: 'batch', status: 'validating', request_counts: { total: 0 } });
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const b = await client.batches.retrieve(batch.id);
      seen.push(b.status);
      if (b.status === 'completed') break;
    }
    expect(seen).toEqual(['in_progress', 'in_progress', 'in_progress', 'finalizing', 'completed']);
    const done = await client.batches.retrieve(batch.id);
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    const out = await lines(done.output_file_id);
    expect(out.map((l) => l.custom_id)).toEqual(['a', 'b']);
    // The line's body is what the live endpoint answers for the same request: same usage.
    const live = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    const first = out[0] as {
      id: string;
      response: { status_code: number; request_id: string; body: { usage: unknown } };
    };
    expect(first.id).toMatch(/^batch_req_/);
    expect(first.response.status_code).toBe(200);
    expect(first.response.request_id).toMatch(/^req_/);
    expect(first.response.body.usage).toEqual(live.usage);
    const errors = await lines(done.error_file_id);
    expect(errors).toMatchObject([{ custom_id: 'c', response: { status_code: 400 }, error: null }]);
    const listed = [];
    for await (const b of client.batches.list()) listed.push(b.id);
    expect(listed).toContain(batch.id);
  });

  it('cancel: cancelling, then cancelled with the lines done so far', async () => {
    const batch = await createBatch([chatLine('a', 'one'), chatLine('b', 'two'), chatLine('c', 'three')]);
    await client.batches.retrieve(batch.id); // in_progress
    await client.batches.retrieve(batch.id); // one line done
    expect((await client.batches.cancel(batch.id)).status).toBe('cancelling');
    const done = await client.batches.retrieve(batch.id);
    expect(done.status).toBe('cancelled');
    expect(done.cancelled_at).toBeTypeOf('number');
    expect((await lines(done.output_file_id)).map((l) => l.custom_id)).toEqual(['a']);
  });

  it('expire and complete at once through the control routes', async () => {
    const expiring = await createBatch([chatLine('a', 'one'), chatLine('b', 'two')]);
    await client.batches.retrieve(expiring.id);
    await client.batches.retrieve(expiring.id);
    const expired = await (await fetch(`${mock.url}/__mock/batches/expire`, { method: 'POST' })).json();
    expect(expired).toMatchObject({ batches: expect.any(Number) });
    const e = await client.batches.retrieve(expiring.id);
    expect(e.status).toBe('expired');
    expect((await lines(e.output_file_id)).map((l) => l.custom_id)).toEqual(['a']);

    const completing = await createBatch([chatLine('a', 'one'), chatLine('b', 'two')]);
    expect(await mock.completeBatches()).toBe(1);
    const c = await client.batches.retrieve(completing.id);
    expect(c).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } });
  });

  it('a bad input file fails the batch; unknown ids are 400 and 404', async () => {
    const batch = await createBatch(['{}']);
    expect((await client.batches.retrieve(batch.id)).status).toBe('failed');
    await expect(
      client.batches.create({ input_file_id: 'file-nope', endpoint: '/v1/chat/completions', completion_window: '24h' }),
    ).rejects.toMatchObject({ status: 400, param: 'input_file_id' });
    await expect(client.batches.retrieve('batch_nope')).rejects.toMatchObject({ status: 404 });
  });
});

describe('background responses', () => {
  it('queued → in_progress → completed, one step per retrieval, usage only when finished', async () => {
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'hello', background: true });
    expect(created).toMatchObject({ status: 'queued', background: true, usage: null });
    expect(await client.responses.retrieve(created.id)).toMatchObject({ status: 'in_progress', usage: null });
    const done = await client.responses.retrieve(created.id);
    expect(done.status).toBe('completed');
    const live = await client.responses.create({ model: 'gpt-4o-mini', input: 'hello' });
    expect(done.usage).toEqual(live.usage);
    await expect(client.responses.cancel(created.id)).rejects.toMatchObject({ status: 400 });
  });

  it('cancelled in progress bills the input; cancelled queued bills nothing', async () => {
    const a = await client.responses.create({ model: 'gpt-4o-mini', input: 'hello', background: true });
    await client.responses.retrieve(a.id);
    const cancelled = await client.responses.cancel(a.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', usage: { output_tokens: 0 } });
    expect(cancelled.usage?.input_tokens).toBeGreaterThan(0);
    const b = await client.responses.create({ model: 'gpt-4o-mini', input: 'hello', background: true });
    expect(await client.responses.cancel(b.id)).toMatchObject({ status: 'cancelled', usage: null });
    await expect(client.responses.retrieve('resp_nope')).rejects.toMatchObject({ status: 404 });
  });
});
