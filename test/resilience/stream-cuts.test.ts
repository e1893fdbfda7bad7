import type http from 'node:http';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageRow } from '../../src/store/schema.js';
import { h2Connect, h2Post } from '../helpers/http2-client.js';
import { json, normaliseIds, type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { rawPost } from '../helpers/slow-client.js';

/**
 * An upstream stream that breaks after it started reaches the client as a cut: the client's
 * read fails (the `openai` client raises), what it got is a prefix of what the upstream sent, and
 * nothing is added (no `[DONE]`, no finish_reason). The usage record says it was cut and counts
 * what was produced. The mock cuts with `x-mock-cut-after: N` (a TCP reset after N events) and
 * truncates with `x-mock-truncate-after: N` (a clean end of the HTTP body after N events).
 */

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hello there' }] };
const STREAM = { ...CHAT, stream: true as const };
const RESPONSES = { model: 'gpt-4o-mini', input: 'Hello there', stream: true as const };

let st: ProxyStack;
beforeAll(async () => {
  // HTTP/1.1 and h2c on one port: the HTTP/2 cases use the same response path as HTTP/2 over TLS.
  st = await startProxyStack({ env: { HTTP2_CLEARTEXT: 'true' } });
});
afterAll(async () => {
  await st?.stop();
});

/** Reads a fetch body to its end or its failure. */
async function readBody(res: Response): Promise<{ text: string; failed: boolean }> {
  let text = '';
  let failed = false;
  try {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(c).toString();
  } catch {
    failed = true;
  }
  return { text, failed };
}

/** What the upstream sends for the request in full, ids normalised. */
async function upstreamText(path: string, body: object, headers: Record<string, string> = {}): Promise<string> {
  return normaliseIds(await (await st.direct(path, json(body, headers))).text());
}

function accessLine(requestId: string): Record<string, unknown> | undefined {
  const line = st.s
    .logs()
    .split('\n')
    .find((l) => l.includes(requestId) && l.includes('"msg":"proxy request"'));
  return line === undefined ? undefined : JSON.parse(line);
}

async function upstreamErrors(kind: string): Promise<number> {
  const res = await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } });
  const line = (await res.text())
    .split('\n')
    .find((l) => l.startsWith(`llm_proxy_upstream_errors_total{kind="${kind}"}`));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** The usage record of the token's latest request, once written. */
async function lastRecord(count: number): Promise<UsageRow> {
  const rows = await st.waitUsage(st.tokenId, count);
  return rows.at(-1) as UsageRow;
}

describe('a stream cut by the upstream reaches the client as a cut', () => {
  it('chat completions through the openai client: it raises, with the chunks before the cut, no finish_reason', async () => {
    const before = (await st.usage()).length;
    const errorsBefore = await upstreamErrors('upstream_stream_error');
    // 1 role chunk + 3 content chunks, then a reset: 7 more content chunks, the finish and [DONE] never come.
    const stream = await st.client.chat.completions.create(STREAM, {
      headers: { 'x-mock-chunks': '10', 'x-mock-cut-after': '4' },
    });
    const chunks: unknown[] = [];
    const err = await (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(chunks).toHaveLength(4);
    expect(JSON.stringify(chunks)).not.toContain('"finish_reason":"stop"');

    const rec = await lastRecord(before + 1);
    expect(rec).toMatchObject({
      status: 200,
      is_stream: 1,
      error: 'upstream_stream_error',
      usage_status: 'estimated',
      completion_tokens: 3,
      finish_reason: null,
    });
    // The prompt is estimated from the request body the proxy read (to ask for usage), never zero.
    expect(rec.prompt_tokens).toBeGreaterThan(0);
    expect(rec.total_tokens).toBe((rec.prompt_tokens as number) + 3);
    expect(accessLine(rec.request_id)).toMatchObject({ status: 200, stream: true, error: 'upstream_stream_error' });
    await until(async () => (await upstreamErrors('upstream_stream_error')) === errorsBefore + 1);
  });

  it.each([
    ['as the upstream sent them (usage asked by the client)', { ...STREAM, stream_options: { include_usage: true } }],
    ['filtered (usage asked by the proxy on the client’s behalf)', STREAM],
  ])('chat completions, bytes %s: a prefix of the upstream’s, no [DONE] added', async (_, body) => {
    const headers = { 'x-mock-chunks': '10', 'x-mock-chunk-delay-ms': '1' };
    const whole = await upstreamText('/v1/chat/completions', body, headers);
    const res = await st.proxy('/v1/chat/completions', json(body, { ...headers, 'x-mock-cut-after': '6' }));
    expect(res.status).toBe(200);
    const { text, failed } = await readBody(res);
    expect(failed).toBe(true);
    expect(text.split('\n\n').filter((e) => e !== '')).toHaveLength(6);
    expect(whole.startsWith(normaliseIds(text))).toBe(true);
    expect(text).not.toContain('[DONE]');
    expect(text).not.toContain('"finish_reason":"stop"');
    const rec = await st.recordOf(res);
    expect(rec).toMatchObject({
      error: 'upstream_stream_error',
      bytes_out: Buffer.byteLength(text),
      completion_tokens: 5,
    });
  });

  it('the Responses API through the openai client: it raises, no response.completed, output counted from the deltas', async () => {
    const before = (await st.usage()).length;
    // created, in_progress, output_item.added, content_part.added, then 4 deltas of 12.
    const stream = await st.client.responses.create(RESPONSES, {
      headers: { 'x-mock-chunks': '12', 'x-mock-cut-after': '8' },
    });
    const types: string[] = [];
    const err = await (async () => {
      for await (const event of stream) types.push(event.type);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(types).toHaveLength(8);
    expect(types.filter((t) => t === 'response.output_text.delta')).toHaveLength(4);
    expect(types).not.toContain('response.completed');
    expect(await lastRecord(before + 1)).toMatchObject({
      status: 200,
      is_stream: 1,
      error: 'upstream_stream_error',
      usage_status: 'estimated',
      completion_tokens: 4,
    });
  });
});

describe('a stream the upstream ends early but cleanly (truncated) is cut too', () => {
  it('chat completions without [DONE]: the client raises instead of taking it as complete', async () => {
    const before = (await st.usage()).length;
    const errorsBefore = await upstreamErrors('upstream_stream_truncated');
    const stream = await st.client.chat.completions.create(STREAM, {
      headers: { 'x-mock-chunks': '10', 'x-mock-truncate-after': '5' },
    });
    const chunks: unknown[] = [];
    const err = await (async () => {
      for await (const chunk of stream) chunks.push(chunk);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(chunks).toHaveLength(5);
    const rec = await lastRecord(before + 1);
    expect(rec).toMatchObject({
      status: 200,
      error: 'upstream_stream_truncated',
      usage_status: 'estimated',
      completion_tokens: 4,
    });
    expect(accessLine(rec.request_id)).toMatchObject({ error: 'upstream_stream_truncated' });
    await until(async () => (await upstreamErrors('upstream_stream_truncated')) === errorsBefore + 1);
  });

  it('the Responses API without its final event: the client raises; its bytes are all the upstream sent', async () => {
    const headers = { 'x-mock-chunks': '6' };
    const whole = await upstreamText('/v1/responses', RESPONSES, headers);
    const res = await st.proxy('/v1/responses', json(RESPONSES, { ...headers, 'x-mock-truncate-after': '12' }));
    const { text, failed } = await readBody(res);
    expect(failed).toBe(true);
    expect(whole.startsWith(normaliseIds(text))).toBe(true);
    expect(text.split('\n\n').filter((e) => e !== '')).toHaveLength(12);
    expect(text).not.toContain('response.completed');
    expect(await st.recordOf(res)).toMatchObject({ error: 'upstream_stream_truncated', completion_tokens: 6 });
  });

  it('a complete stream still ends cleanly, with no error recorded', async () => {
    const res = await st.proxy('/v1/responses', json(RESPONSES, { 'x-mock-chunks': '3' }));
    const { failed } = await readBody(res);
    expect(failed).toBe(false);
    expect(await st.recordOf(res)).toMatchObject({ error: null, usage_status: 'reported', completion_tokens: 3 });
  });
});

describe('cuts in other settings', () => {
  it('over HTTP/2 the cut is a stream reset with an error code, not a clean end of the stream', async () => {
    const session = await h2Connect(st.url);
    try {
      const body = JSON.stringify(STREAM);
      const stream = session.request(
        h2Post('/v1/chat/completions', st.token, {
          'content-length': Buffer.byteLength(body),
          'x-mock-chunks': '10',
          'x-mock-cut-after': '4',
        }),
      );
      stream.end(body);
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (text += c));
      const how = await new Promise<string>((resolve) => {
        stream.on('end', () => resolve('end'));
        stream.on('error', () => resolve('error'));
        stream.on('close', () => resolve('close'));
      });
      await until(() => stream.closed);
      expect(how).not.toBe('end');
      expect(stream.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
      expect(text.split('\n\n').filter((e) => e !== '')).toHaveLength(4);
      expect(text).not.toContain('[DONE]');
      // The session survives: only that stream was reset.
      expect(session.destroyed).toBe(false);
    } finally {
      session.close();
    }
    const rows = await st.usage();
    expect(rows.at(-1)).toMatchObject({ error: 'upstream_stream_error', completion_tokens: 3 });
  });

  it('a cut while the client reads slowly (the proxy holding the upstream back) is still a cut', async () => {
    // About 8 MB before the cut: more than the socket buffers between the proxy and a client that
    // does not read, so the proxy's writes back up and it pauses the upstream.
    const headers = { 'x-mock-chunks': '40000' };
    const whole = await upstreamText('/v1/chat/completions', STREAM, headers);
    let held: http.ServerResponse | undefined;
    const server = st.s.server.app.server as unknown as http.Server;
    const spot = (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.headers['x-test-slow'] === '1') held = res;
    };
    server.on('request', spot);
    const body = JSON.stringify(STREAM);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const length = Buffer.byteLength(body);
      const req = rawPost(st, '/v1/chat/completions', { type: 'application/json', length }, (r) => {
        r.pause();
        resolve(r);
      });
      req.setHeader('x-mock-chunks', headers['x-mock-chunks']);
      req.setHeader('x-mock-cut-after', '35000');
      req.setHeader('x-test-slow', '1');
      req.on('error', reject);
      req.end(body);
    });
    server.off('request', spot);
    expect(res.statusCode).toBe(200);
    // The proxy's response to the client is backed up (the upstream is paused behind it).
    await until(() => held?.writableNeedDrain === true);
    const got = await new Promise<{ text: string; failed: boolean }>((resolve) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        res.pause();
        setImmediate(() => res.resume());
      });
      res.on('end', () => resolve({ text, failed: false }));
      res.on('error', () => resolve({ text, failed: true }));
      res.on('aborted', () => resolve({ text, failed: true }));
      res.resume();
    });
    expect(got.failed).toBe(true);
    expect(got.text.length).toBeGreaterThan(1_000_000);
    // The reset drops what the proxy's socket held unread, so the cut may fall inside an event
    // (whose id the normalising cannot match): compare up to the last whole event.
    const wholeEvents = got.text.slice(0, got.text.lastIndexOf('\n\n') + 2);
    expect(wholeEvents.length).toBeGreaterThan(got.text.length - 1_000);
    expect(whole.startsWith(normaliseIds(wholeEvents))).toBe(true);
    expect(got.text).not.toContain('[DONE]');
    const rows = await st.usage();
    expect(rows.at(-1)).toMatchObject({ error: 'upstream_stream_error', is_stream: 1 });
  });

  it('a JSON answer cut midway fails in the client, never accepted as a complete 200', async () => {
    const before = (await st.usage()).length;
    const err = await st.client.chat.completions
      .create(CHAT, { headers: { 'x-mock-cut-after': '60' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const rec = await lastRecord(before + 1);
    expect(rec).toMatchObject({ status: 200, is_stream: 0, error: 'upstream_stream_error', bytes_out: 60 });

    const res = await st.proxy('/v1/chat/completions', json(CHAT, { 'x-mock-cut-after': '60' }));
    expect(res.status).toBe(200);
    const declared = Number(res.headers.get('content-length'));
    const { text, failed } = await readBody(res);
    expect(failed).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThan(declared);
  });
});
