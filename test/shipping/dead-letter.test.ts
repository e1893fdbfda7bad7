import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { type Receiver, startReceiver } from '../helpers/receiver.js';
import { FAST, jsonLines, SECRET, sample, scrape, traffic, verifiedEvents } from './helpers.js';

interface DeadLine {
  dead_lettered_at: string;
  sink: string;
  attempts: number;
  reason: string;
  event: { schema: string; id: string };
}

describe('the dead-letter file', () => {
  let rx: Receiver;
  let st: ProxyStack;
  let file: string;
  const lines = () => jsonLines<DeadLine>(file);

  beforeAll(async () => {
    rx = await startReceiver(503);
    st = await startProxyStack({
      env: {
        ...FAST,
        SHIPPING_WEBHOOK_URL: rx.url,
        SHIPPING_WEBHOOK_SECRET: SECRET,
        SHIPPING_MAX_RETRIES: '2',
        SHIPPING_BATCH_SIZE: '500',
      },
    });
    file = path.join(st.s.dataDir, 'shipping', 'webhook', 'dead-letter.jsonl');
  });
  afterAll(async () => {
    await st?.stop();
    await rx?.close();
  });

  it('gets a batch that failed past the retry budget, as 0600 JSON lines with why', async () => {
    await traffic(st.client, 3);
    const rows = await st.waitUsage(st.tokenId, 3);
    await until(() => lines().length === 3);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const dead = lines();
    expect(new Set(dead.map((l) => l.event.id))).toEqual(new Set(rows.map((r) => r.request_id)));
    for (const l of dead) {
      expect(l).toMatchObject({
        sink: 'webhook',
        attempts: 3,
        reason: 'HTTP 503',
        event: { schema: 'llm-proxy.usage/v1' },
      });
      expect(Number.isNaN(Date.parse(l.dead_lettered_at))).toBe(false);
    }
    // Each batch was tried 1 + SHIPPING_MAX_RETRIES times, every attempt signed.
    const attempts = new Map<string, number>();
    for (const r of rx.requests) for (const e of verifiedEvents(r)) attempts.set(e.id, (attempts.get(e.id) ?? 0) + 1);
    expect([...attempts.values()]).toEqual([3, 3, 3]);

    const text = await scrape(st);
    expect(sample(text, 'llm_proxy_shipping_events_dead_lettered_total', { sink: 'webhook' })).toBe(3);
    expect(sample(text, 'llm_proxy_shipping_retries_total', { sink: 'webhook' })).toBe(2 * (rx.requests.length / 3));
    expect(sample(text, 'llm_proxy_shipping_queue_depth', { sink: 'webhook' })).toBe(0);
    expect(st.s.logs()).toContain('log shipping: batch given up, written to the dead-letter file');
  });

  it('gets a batch the receiver refuses (a 4xx other than 408/429) at once, without retries', async () => {
    rx.mode = 400;
    rx.requests.length = 0;
    await traffic(st.client, 1);
    await until(() => lines().length === 4);
    expect(lines()[3]).toMatchObject({ attempts: 1, reason: 'HTTP 400' });
    expect(rx.requests).toHaveLength(1);
  });
});
