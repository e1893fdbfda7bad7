import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack } from '../helpers/proxy.js';
import { RealtimeClient, refusedUpgrade } from '../helpers/realtime-client.js';
import { jsonLines, type ShippedEvent } from '../shipping/helpers.js';

const MODEL = 'gpt-4o-realtime-preview';
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/**
 * Shutdown and Realtime sessions: each closes with 1001 once its response in progress is done, and
 * at SHUTDOWN_TIMEOUT_MS whatever it is doing; a session asked for meanwhile is refused with 503.
 */
describe('Realtime sessions at shutdown', () => {
  let st: ProxyStack | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await st?.stop();
    st = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('drains: an idle session closes at once, a busy one after its response; new ones get 503', async () => {
    st = await startProxyStack();
    const wsUrl = `${st.url.replace(/^http/, 'ws')}/v1/realtime?model=${MODEL}`;
    const { id, token } = await st.issueToken();
    const idle = await RealtimeClient.open(wsUrl, [], bearer(token));
    await idle.event('session.created');
    const busy = await RealtimeClient.open(wsUrl, [], bearer(token));
    await busy.event('session.created');
    // The mock stops this response before its `response.done` until it is told to finish it.
    busy.send({ type: 'response.create', mock_hold: true });
    await busy.event('response.created');

    st.s.server.proxy.realtime.drain();
    expect(await idle.whenClosed()).toEqual({ code: 1001, reason: 'the proxy is shutting down' });
    const refused = await refusedUpgrade(wsUrl, { authorization: `Bearer ${token}` });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error.message).toMatch(/shutting down/);
    // The busy session is still open, its response still going.
    expect(busy.closed).toBeUndefined();
    busy.send({ type: 'mock.finish' });
    await busy.event('response.done');
    expect((await busy.whenClosed()).code).toBe(1001);
    expect(busy.count('response.done')).toBe(1);

    const rows = await st.waitUsage(id, 3);
    expect(rows.filter((r) => r.status === 101).map((r) => r.finish_reason)).toEqual(['close_1001', 'close_1001']);
    expect(rows.find((r) => r.status === 200)).toMatchObject({ usage_status: 'reported', finish_reason: 'completed' });
  });

  it('closes a session whose response never ends at SHUTDOWN_TIMEOUT_MS, and accounts it', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'llmp-rt-shutdown-'));
    const file = path.join(dir, 'usage.jsonl');
    st = await startProxyStack({ env: { SHUTDOWN_TIMEOUT_MS: '1000', SHIPPING_FILE: file } });
    const wsUrl = `${st.url.replace(/^http/, 'ws')}/v1/realtime?model=${MODEL}`;
    const c = await RealtimeClient.open(wsUrl, [], bearer(st.token));
    await c.event('session.created');
    c.send({ type: 'response.create', mock_hold: true });
    await c.event('response.created');

    // What SIGTERM runs: the whole shutdown, which waits for the session until its deadline.
    const stopped = st.s.server.stop();
    expect(await c.whenClosed()).toEqual({ code: 1001, reason: 'the proxy is shutting down' });
    await stopped;
    expect(c.count('response.done')).toBe(0);
    const mock = st.mock.realtimeSessions().at(-1);
    expect(mock?.closeCode).toBe(1000);
    // The usage events shipped before the process ended: the cut response and the session.
    const events = jsonLines<ShippedEvent>(file).filter((e) => e.token_id === st?.tokenId);
    expect(events.map((e) => [e.status, e.usage_status, e.finish_reason])).toEqual([
      [200, 'estimated', null],
      [101, 'reported', 'close_1001'],
    ]);
  });

  it('cuts a session whose client does not answer the close frame, instead of waiting 30 s for it', async () => {
    st = await startProxyStack({ env: { SHUTDOWN_TIMEOUT_MS: '1000' } });
    const wsUrl = `${st.url.replace(/^http/, 'ws')}/v1/realtime?model=${MODEL}`;
    const c = await RealtimeClient.open(wsUrl, [], bearer(st.token));
    await c.event('session.created');
    c.send({ type: 'response.create', mock_hold: true });
    await c.event('response.created');
    // The client stops reading: it never sees the close frame, so it never answers it.
    c.ws.pause();
    await st.s.server.stop();
    expect(st.s.logs()).toMatch(/"sessions":1,"msg":"realtime sessions cut: no answer to their close frame"/);
    expect(st.s.logs()).toMatch(/"close_code":1001[^\n]*"realtime session ended"/);
    c.ws.resume();
    await c.whenClosed();
  });
});
