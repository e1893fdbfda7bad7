import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, normaliseIds, type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { rawPost } from '../helpers/slow-client.js';

/**
 * 1,000 concurrent streams through one instance at default settings. Each open stream takes four
 * file descriptors in this one process (client, proxy in, proxy out, mock): 4,000 at once, plus
 * what the runtime holds. Node raises its soft limit to the hard one at start; the check below
 * says so plainly on a host whose limit is lower, rather than failing with EMFILE midway.
 */
const STREAMS = 1000;
const FDS_NEEDED = STREAMS * 4 + 500;

function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s+/)[3];
    return soft === undefined || soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return Number.POSITIVE_INFINITY; // not Linux: the streams will tell
  }
}

const CHAT = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user' as const, content: 'Hello there' }],
  stream: true as const,
};

/** The gate in front of the stack's upstream pool. */
const gateOf = (st: ProxyStack) => st.s.server.runtime.pools.get(new URL(st.mock.url).origin).gate;

describe('1,000 concurrent streams at default settings', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    const limit = openFileLimit();
    if (limit < FDS_NEEDED)
      throw new Error(`this test needs ${FDS_NEEDED} open files at once; the limit is ${limit} (raise ulimit -n)`);
    // Defaults for everything that sizes the pool and the shares; no limit on in-flight streams.
    st = await startProxyStack();
  });
  afterAll(async () => {
    st.mock.release();
    await st.stop();
  });

  it('are all open at the upstream at once, none waiting for a connection, and all complete', async () => {
    const { id, token } = await st.issueToken();
    const client = st.clientFor(token);
    const gate = gateOf(st);
    const refused: unknown[] = [];
    const streams = Array.from({ length: STREAMS }, () => {
      const pending = client.chat.completions.create(CHAT, {
        headers: { 'x-mock-hold': '1', 'x-mock-chunks': '5' },
      });
      pending.catch((err: unknown) => refused.push(err));
      return pending;
    });
    // The mock holds each request before answering, so it sees all 1,000 open at once. Meanwhile
    // no request may wait in the gate's queue or be refused (its share, a full queue).
    await until(() => {
      if (gate.waiting > 0 || refused.length > 0)
        throw new Error(`${gate.waiting} streams wait for a connection, ${refused.length} were refused`);
      return st.mock.stats().held === STREAMS;
    });
    expect(gate).toMatchObject({ active: STREAMS, waiting: 0 });

    st.mock.release();
    const texts = await Promise.all(
      streams.map(async (pending) => {
        let text = '';
        for await (const chunk of await pending) text += chunk.choices[0]?.delta?.content ?? '';
        return text;
      }),
    );
    expect(new Set(texts.map((t) => t.length > 0)).size).toBe(1);
    expect(texts.every((t) => t === texts[0])).toBe(true);
    const rows = await st.waitUsage(id, STREAMS);
    expect(rows.filter((r) => r.status === 200 && r.completion_tokens === 5)).toHaveLength(STREAMS);
    expect(gate.active).toBe(0);
  });

  it('whose clients read slowly all finish complete and byte-identical to a direct call, none truncated', async () => {
    const { id, token } = await st.issueToken();
    const headers = { 'x-mock-chunks': '100' };
    // What the upstream sends a client that did not ask for usage: the proxy asks for it on the
    // client's behalf and must filter it out of every one of the 1,000 streams.
    const expected = normaliseIds(await (await st.direct('/v1/chat/completions', json(CHAT, headers))).text());
    const completedBefore = st.mock.stats().completedStreams;
    const body = JSON.stringify(CHAT);
    let ended = 0;
    const pending = Array.from(
      { length: STREAMS },
      () =>
        new Promise<http.IncomingMessage>((resolve, reject) => {
          const length = Buffer.byteLength(body);
          const req = rawPost(st, '/v1/chat/completions', { token, type: 'application/json', length }, (r) => {
            // Not a byte read until every upstream stream has ended.
            r.pause();
            r.on('end', () => ended++);
            resolve(r);
          });
          for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
          req.on('error', reject);
          req.end(body);
        }),
    );
    const responses = await Promise.all(pending);
    expect(responses.filter((r) => r.statusCode !== 200)).toHaveLength(0);
    // The upstream has sent every stream to its end while no client has read its own.
    await until(() => st.mock.stats().completedStreams >= completedBefore + STREAMS);
    expect(ended).toBe(0);

    // Now each client reads one chunk at a time, yielding between chunks.
    const bodies = await Promise.all(
      responses.map(
        (r) =>
          new Promise<string>((resolve, reject) => {
            let text = '';
            r.setEncoding('utf8');
            r.on('data', (chunk: string) => {
              text += chunk;
              r.pause();
              setImmediate(() => r.resume());
            });
            r.on('end', () => resolve(text));
            r.on('error', reject);
            r.resume();
          }),
      ),
    );
    const differing = bodies.filter((b) => normaliseIds(b) !== expected);
    expect(differing).toHaveLength(0);
    expect(ended).toBe(STREAMS);
    // Each stream's usage, captured from the part the client never saw, is recorded in full.
    const rows = await st.waitUsage(id, STREAMS);
    expect(rows.filter((r) => r.status === 200 && r.completion_tokens === 100 && r.error === null)).toHaveLength(
      STREAMS,
    );
  });
});
