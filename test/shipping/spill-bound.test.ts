import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { acceptedEvents, FAST, ids, SECRET, sample, scrape, traffic } from './helpers.js';

const SPILL_MAX = 2000;

describe('the spill bound', () => {
  let rx: Receiver;
  let st: ProxyStack;
  const status = () => st.s.server.runtime.shipping?.status()[0];

  beforeAll(async () => {
    rx = await startReceiver('reset');
    st = await startProxyStack({
      env: {
        ...FAST,
        SHIPPING_WEBHOOK_URL: rx.url,
        SHIPPING_WEBHOOK_SECRET: SECRET,
        SHIPPING_BATCH_SIZE: '1',
        SHIPPING_SPILL_MAX_BYTES: String(SPILL_MAX),
      },
    });
  });
  afterAll(async () => {
    await st?.stop();
    await rx?.close();
  });

  it('drops the newest events past SHIPPING_SPILL_MAX_BYTES, counts them, and delivers the rest', async () => {
    await traffic(st.client, 12);
    const rows = await st.waitUsage(st.tokenId, 12);
    // Every event is either waiting (memory, the batch being retried, the spill) or dropped.
    await until(() => {
      const s = status();
      return s !== undefined && s.dropped.spill_full > 0 && s.queued + s.dropped.spill_full === 12;
    });
    const s = status();
    if (!s) throw new Error('no sink');
    expect(s.spilledBytes).toBeGreaterThan(0);
    expect(s.spilledBytes).toBeLessThanOrEqual(SPILL_MAX);
    const text = await scrape(st);
    expect(sample(text, 'llm_proxy_shipping_events_dropped_total', { sink: 'webhook', reason: 'spill_full' })).toBe(
      s.dropped.spill_full,
    );
    expect(st.s.logs()).toContain('log shipping: events dropped');

    rx.mode = 'ok';
    const kept = 12 - s.dropped.spill_full;
    await until(() => ids(acceptedEvents(rx)).size === kept && status()?.queued === 0);
    // Request ids are time-ordered: what arrived is the oldest events, what was dropped the newest.
    const oldest = rows.map((r) => r.request_id).sort();
    expect(ids(acceptedEvents(rx))).toEqual(new Set(oldest.slice(0, kept)));
  });
});
