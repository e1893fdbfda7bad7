import { Agent, request } from 'undici';
import { VERSION } from '../version.js';
import { DeliveryError, failureReason } from './sink.js';

/** A receiver's reply body is read up to this much (enough for an OTLP partial-success answer). */
const REPLY_LIMIT = 64 * 1024;

/**
 * POSTs JSON batches to one URL over its own undici Agent (apart from the upstream pools), and turns
 * the outcome into success or a DeliveryError: 2xx is acknowledged; 408, 429 and 5xx are retried
 * (after Retry-After, when given); any other status is the receiver refusing this batch, which
 * resending cannot change. Errors name a status or a code, never the URL (it may hold a secret).
 */
export class HttpPoster {
  private readonly agent: Agent;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {
    this.agent = new Agent({ connect: { timeout: timeoutMs }, connections: 2 });
  }

  /** Sends `body`; resolves with the reply's text (cut at 64 KiB) once a 2xx arrived. */
  async post(body: string, headers: Record<string, string>, signal: AbortSignal): Promise<string> {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(this.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/json', 'user-agent': `llm-proxy/${VERSION}`, ...headers },
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal,
      });
    } catch (err) {
      throw new DeliveryError(failureReason(err), true);
    }
    let text: string;
    try {
      text = await readCapped(res.body);
    } catch (err) {
      throw new DeliveryError(failureReason(err), true);
    }
    const { statusCode: status } = res;
    if (status >= 200 && status < 300) return text;
    const retryable = status === 408 || status === 429 || status >= 500;
    throw new DeliveryError(`HTTP ${status}`, retryable, retryAfterMs(res.headers['retry-after']));
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < REPLY_LIMIT) chunks.push(chunk);
    size += chunk.length;
    if (size >= REPLY_LIMIT) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, REPLY_LIMIT);
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
