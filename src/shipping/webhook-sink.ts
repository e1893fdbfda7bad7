import { createHmac } from 'node:crypto';
import { HttpPoster } from './http-post.js';
import type { Sink } from './sink.js';
import type { UsageEventV1 } from './usage-event.js';

export const TIMESTAMP_HEADER = 'x-llm-proxy-timestamp';
export const SIGNATURE_HEADER = 'x-llm-proxy-signature';

/**
 * `v1=` + hex HMAC-SHA256 over `<timestamp>.<body>` with the shared secret. Covering the timestamp
 * lets a receiver refuse a captured request replayed later (docs/observability.md shows the check).
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs `{"events": [...]}` to SHIPPING_WEBHOOK_URL. Every attempt is signed afresh (its own
 * timestamp), so a retry after a long outage still passes a receiver's freshness window.
 */
export class WebhookSink implements Sink {
  readonly name = 'webhook';
  private readonly poster: HttpPoster;

  constructor(
    url: string,
    private readonly secret: string,
    timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.poster = new HttpPoster(url, timeoutMs);
  }

  async deliver(events: UsageEventV1[], signal: AbortSignal): Promise<void> {
    const body = `{"events":${JSON.stringify(events)}}`;
    const timestamp = String(Math.floor(this.now() / 1000));
    await this.poster.post(
      body,
      { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: webhookSignature(this.secret, timestamp, body) },
      signal,
    );
  }

  close(): Promise<void> {
    return this.poster.close();
  }
}
