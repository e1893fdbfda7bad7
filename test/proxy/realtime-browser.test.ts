import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserSession, startBrowser } from '../helpers/browser.js';
import { type ProxyStack, startProxyStack, UPSTREAM_KEY } from '../helpers/proxy.js';
import { serviceAvailable } from '../helpers/services.js';

const MODEL = 'gpt-4o-realtime-preview';

// Browser globals, for the callback page.evaluate runs in the page.
declare const WebSocket: any;

/** The browser path for real: Chromium's own WebSocket, the token as a subprotocol, plain ws://. */
describe('a Realtime session from Chromium', () => {
  let st: ProxyStack | undefined;
  let browser: BrowserSession | undefined;
  beforeAll(async () => {
    if (!(await serviceAvailable('chromium'))) return;
    st = await startProxyStack();
    browser = await startBrowser(st.url);
  });
  afterAll(async () => {
    await browser?.close();
    await st?.stop();
  });

  it('opens with the subprotocol token, runs one response and closes cleanly', async (ctx) => {
    if (!st || !browser) return ctx.skip();
    const { id, token } = await st.issueToken();
    const page = await browser.page();
    // Any page of the proxy's origin; WebSockets are not subject to CORS, the origin travels as `Origin`.
    await page.goto(`${st.url}/health`);
    const url = `${st.url.replace(/^http/, 'ws')}/v1/realtime?model=${MODEL}`;
    const result = await page.evaluate(
      ({ url, token }) =>
        new Promise<{ protocol: string; types: string[]; close: { code: number; reason: string } }>(
          (resolve, reject) => {
            const ws = new WebSocket(url, ['realtime', `openai-insecure-api-key.${token}`]);
            const types: string[] = [];
            ws.onerror = () => reject(new Error('WebSocket error'));
            ws.onmessage = (e: { data: string }) => {
              const event = JSON.parse(e.data);
              types.push(event.type);
              if (event.type === 'session.created') ws.send(JSON.stringify({ type: 'response.create' }));
              if (event.type === 'response.done') ws.close(1000, 'done');
            };
            ws.onclose = (e: { code: number; reason: string }) =>
              resolve({ protocol: ws.protocol, types, close: { code: e.code, reason: e.reason } });
          },
        ),
      { url, token },
    );
    expect(result.protocol).toBe('realtime');
    expect(result.close).toEqual({ code: 1000, reason: 'done' });
    expect(result.types[0]).toBe('session.created');
    expect(result.types).toContain('response.output_audio.delta');
    expect(result.types.at(-1)).toBe('response.done');

    const mock = st.mock.realtimeSessions().at(-1);
    expect(mock?.headers['sec-websocket-protocol']).toBe('realtime');
    expect(mock?.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(mock?.headers.origin).toBe(st.url);
    expect(JSON.stringify(mock?.headers)).not.toContain(token);
    const rows = await st.waitUsage(id, 2);
    // The session's record has the older id (it began first): one of each, in either order.
    expect(rows.map((r) => [r.status, r.finish_reason]).sort()).toEqual([
      [101, 'close_1000'],
      [200, 'completed'],
    ]);
    expect(browser.problems).toEqual([]);
  });
});
