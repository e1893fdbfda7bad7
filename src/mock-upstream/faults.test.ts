import { beforeEach, describe, expect, it } from 'vitest';
import { useMockUpstream } from '../../test/helpers/mock-client.js';
import { until } from '../../test/helpers/proxy.js';
import { MOCK_HEADERS } from './index.js';

const ctx = useMockUpstream({ chunks: 6 });
beforeEach(() => ctx.mock.reset());

const messages = [{ role: 'user' as const, content: 'hello there' }];

/** POSTs `body` with the headers; the text read until the body ended or failed, and how. */
async function read(path: string, body: object, headers: Record<string, string>) {
  const res = await fetch(`${ctx.mock.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  let text = '';
  let failed = false;
  try {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(c).toString();
  } catch {
    failed = true;
  }
  return { res, text, failed };
}

const frames = (text: string) => text.split('\n\n').filter((f) => f !== '');

describe('mock upstream: stream faults', () => {
  const chat = { model: 'm', messages, stream: true };

  it('x-mock-cut-after: N sends N events, then resets the connection', async () => {
    const whole = await read('/v1/chat/completions', chat, {});
    expect(frames(whole.text)).toHaveLength(1 + 6 + 1 + 1);
    for (const pace of [{}, { [MOCK_HEADERS.chunkDelayMs]: '1' }] as Record<string, string>[]) {
      const cut = await read('/v1/chat/completions', chat, { [MOCK_HEADERS.cutAfter]: '3', ...pace });
      expect(cut.failed).toBe(true);
      expect(frames(cut.text)).toHaveLength(3);
      expect(cut.text).not.toContain('[DONE]');
    }
    await until(() => ctx.mock.stats().activeStreams === 0);
    expect(ctx.mock.stats()).toMatchObject({ completedStreams: 1, abortedStreams: 2 });
  });

  it('x-mock-truncate-after: N ends the stream cleanly after N events, without its final ones', async () => {
    const cut = await read(
      '/v1/responses',
      { model: 'm', input: 'hi', stream: true },
      { [MOCK_HEADERS.truncateAfter]: '5' },
    );
    expect(cut.failed).toBe(false);
    expect(frames(cut.text)).toHaveLength(5);
    expect(cut.text).toContain('response.output_text.delta');
    expect(cut.text).not.toContain('response.completed');
    expect(ctx.mock.stats()).toMatchObject({ completedStreams: 1, abortedStreams: 0 });
  });

  it('x-mock-cut-after: N on a JSON answer sends its full content-length but N bytes, then resets', async () => {
    const whole = await read('/v1/chat/completions', { model: 'm', messages }, {});
    const cut = await read('/v1/chat/completions', { model: 'm', messages }, { [MOCK_HEADERS.cutAfter]: '40' });
    expect(cut.res.headers.get('content-length')).toBe(String(Buffer.byteLength(whole.text)));
    expect(cut.failed).toBe(true);
    const id = (t: string) => t.replace(/chatcmpl-[0-9a-f]*/, 'chatcmpl-X');
    expect(Buffer.byteLength(cut.text)).toBe(40);
    expect(id(cut.text)).toBe(id(whole.text).slice(0, id(cut.text).length));
  });

  it('rejects a malformed value', async () => {
    const res = await fetch(`${ctx.mock.url}/v1/models`, { headers: { [MOCK_HEADERS.cutAfter]: '-1' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'Invalid x-mock-cut-after header: expected an integer in 0..100000000.',
    );
  });
});
