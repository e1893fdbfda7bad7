import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { acceptedEvents, FAST, ids, SECRET, sample, scrape, traffic } from './helpers.js';

describe('log shipping across a sink outage', () => {
  let rx: Receiver;
  let st: ProxyStack;
  const sink = async () =>
    ((await (await fetch(`${st.url}/health`)).json()) as { sinks: Record<string, any> }).sinks.webhook;

  beforeAll(async () => {
    rx = await startReceiver();
    st = await startProxyStack({
      env: { ...FAST, SHIPPING_WEBHOOK_URL: rx.url, SHIPPING_WEBHOOK_SECRET: SECRET, SHIPPING_BATCH_SIZE: '3' },
    });
  });
  afterAll(async () => {
    await st?.stop();
    await rx?.close();
  });

  it('loses nothing while the receiver answers 503 and then is gone, and sends it all once it is back', async () => {
    await traffic(st.client, 3);
    await until(() => ids(acceptedEvents(rx)).size === 3);

    // The receiver fails: events pile up, go to disk, and the attempts are retried.
    rx.mode = 503;
    await traffic(st.client, 6);
    await until(async () => (await sink()).spilled_bytes > 0 && (await sink()).last_error === 'HTTP 503');
    const during = await scrape(st);
    expect(sample(during, 'llm_proxy_shipping_retries_total', { sink: 'webhook' })).toBeGreaterThan(0);
    expect(sample(during, 'llm_proxy_shipping_queue_depth', { sink: 'webhook' })).toBeGreaterThan(0);
    expect(sample(during, 'llm_proxy_shipping_spill_bytes', { sink: 'webhook' })).toBeGreaterThan(0);

    // Then it is gone altogether: connections are refused.
    await rx.close();
    await traffic(st.client, 6);
    await until(async () => (await sink()).last_error === 'ECONNREFUSED');
    expect((await sink()).queue_depth).toBeGreaterThanOrEqual(6);

    rx.mode = 'ok';
    await rx.reopen();
    const rows = await st.waitUsage(st.tokenId, 15);
    await until(() => ids(acceptedEvents(rx)).size === 15);
    expect(ids(acceptedEvents(rx))).toEqual(new Set(rows.map((r) => r.request_id)));

    await until(async () => (await sink()).queue_depth === 0 && (await sink()).spilled_bytes === 0);
    expect(await sink()).toMatchObject({ last_error: null, last_error_at: expect.any(String) });
    const after = await scrape(st);
    expect(sample(after, 'llm_proxy_shipping_events_shipped_total', { sink: 'webhook' })).toBeGreaterThanOrEqual(15);
    expect(sample(after, 'llm_proxy_shipping_events_dead_lettered_total', { sink: 'webhook' })).toBe(0);
    for (const reason of ['queue_full', 'spill_full', 'spill_error', 'shutdown']) {
      expect(sample(after, 'llm_proxy_shipping_events_dropped_total', { sink: 'webhook', reason })).toBe(0);
    }
    // Said when it failed (then every 60th attempt) and when it recovered, not on every attempt.
    const logs = st.s.logs();
    const retries = sample(after, 'llm_proxy_shipping_retries_total', { sink: 'webhook' }) as number;
    expect(logs).toContain('log shipping: sink recovered');
    expect(logs.split('log shipping: delivery failed').length - 1).toBeLessThanOrEqual(1 + Math.floor(retries / 60));
  });
});
