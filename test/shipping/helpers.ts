import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type OpenAI from 'openai';
import { expect } from 'vitest';
import type { ProxyStack } from '../helpers/proxy.js';
import type { Received, Receiver } from '../helpers/receiver.js';
import { registerSecret } from '../helpers/secret-watch.js';

export const SECRET = 'whsec-test-5b1f0c8e9a7d4c2b';
registerSecret(SECRET);

/** Fast timers so an outage and its recovery take milliseconds; the retry budget outlasts any test's outage. */
export const FAST = {
  SHIPPING_FLUSH_INTERVAL_MS: '20',
  SHIPPING_RETRY_BASE_MS: '5',
  SHIPPING_RETRY_MAX_MS: '40',
  SHIPPING_MAX_RETRIES: '100',
  SHIPPING_TIMEOUT_MS: '5000',
};

export interface ShippedEvent {
  schema: string;
  id: string;
  [field: string]: unknown;
}

/**
 * What a receiver does with a webhook request, written as docs/observability.md tells one to:
 * the HMAC over `<timestamp>.<body>` compared in constant time, the timestamp within 5 minutes.
 */
export function verifiedEvents(r: Received, secret = SECRET): ShippedEvent[] {
  const timestamp = String(r.headers['x-llm-proxy-timestamp']);
  const signature = String(r.headers['x-llm-proxy-signature']);
  const expected = `v1=${createHmac('sha256', secret).update(`${timestamp}.${r.body}`).digest('hex')}`;
  expect(signature.length).toBe(expected.length);
  expect(timingSafeEqual(Buffer.from(signature), Buffer.from(expected))).toBe(true);
  expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(300);
  expect(r.headers['content-type']).toBe('application/json');
  return (JSON.parse(r.body) as { events: ShippedEvent[] }).events;
}

/** Every event the receiver accepted, each request's signature checked. */
export function acceptedEvents(rx: Receiver, secret = SECRET): ShippedEvent[] {
  return rx.accepted().flatMap((r) => verifiedEvents(r, secret));
}

/** Distinct ids among the events. */
export const ids = (events: ShippedEvent[]) => new Set(events.map((e) => e.id));

/** `n` requests through the official client, alternating plain and streamed chat completions and embeddings. */
export async function traffic(client: OpenAI, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) {
      await client.embeddings.create({ model: 'text-embedding-3-small', input: `text ${i}` });
    } else if (i % 3 === 1) {
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hi ${i}` }] });
    } else {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        stream: true,
        messages: [{ role: 'user', content: `stream ${i}` }],
      });
      for await (const _ of stream);
    }
  }
}

/** The value of a Prometheus sample (`name{labels} value`), or undefined when the text has none. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

/** The proxy's Prometheus text, read with the management token. */
export async function scrape(st: ProxyStack): Promise<string> {
  const res = await fetch(`${st.url}/metrics`, { headers: { authorization: `Bearer ${st.s.managementToken}` } });
  return res.text();
}

/** A JSON-lines file's objects (none while it does not exist yet). */
export function jsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}
