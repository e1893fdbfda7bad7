import type { Exchange } from './http.js';

/**
 * What the mock would bill: one entry per answer that used the model, so a test can hold a
 * proxy's accounting to it record by record. What counts as billed follows OpenAI's behaviour:
 * - An answer that succeeded bills the usage it reported (for a stream, also when the client did
 *   not ask for it: the work was done either way).
 * - A stream ended early (cut by `x-mock-cut-after`, ended by `x-mock-truncate-after`, or left by
 *   its client) bills what it generated: the whole prompt, plus the output of the events it sent.
 *   One that sent no event at all bills nothing.
 * - A realtime response bills at its `response.done`; one cut mid-response bills its input and the
 *   output of the deltas it sent.
 * - A failed request (any 4xx or 5xx) bills nothing.
 */
export interface LedgerEntry {
  /** What identifies the billed work: the response's `x-request-id` (HTTP), or the realtime response's id. */
  id: string;
  /** The API path, e.g. `/v1/chat/completions`, `/v1/realtime`. */
  endpoint: string;
  model: string | null;
  /** The tier the answer reported (`default`, `flex`, `priority`…); null where it reports none. */
  service_tier: string | null;
  /**
   * The usage object exactly as the answer reported it (or, for a stream ended early, as it would
   * have reported what it generated); for endpoints that report none, the units billed (images:
   * n, size, quality; speech: characters; transcription: seconds).
   */
  usage: Record<string, unknown>;
  /** Billed tool calls by type (`web_search`, `file_search`, `code_interpreter`…); empty when none. */
  tool_calls: Record<string, number>;
  /** Epoch milliseconds when it was billed. */
  at: number;
}

/** What an endpoint says it billed; the ledger adds the id, endpoint and time. */
export interface Billed {
  model: string | null;
  service_tier?: string | null;
  usage: Record<string, unknown>;
  tool_calls?: Record<string, number>;
}

/** Entries kept before the oldest are dropped: a long benchmark must not grow the mock without bound. */
const CAPACITY = 100_000;

export class Ledger {
  #entries: LedgerEntry[] = [];
  /** Entries dropped, oldest first, to keep within CAPACITY. */
  dropped = 0;

  add(entry: LedgerEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length > CAPACITY * 1.5) {
      // Dropped in bulk, so a full ledger costs a copy every CAPACITY / 2 entries, not one each.
      const extra = this.#entries.length - CAPACITY;
      this.#entries = this.#entries.slice(extra);
      this.dropped += extra;
    }
  }

  list(): LedgerEntry[] {
    const start = Math.max(0, this.#entries.length - CAPACITY);
    return this.#entries.slice(start);
  }

  get size(): number {
    return Math.min(this.#entries.length, CAPACITY);
  }

  clear(): void {
    this.#entries = [];
    this.dropped = 0;
  }
}

/**
 * The one place an entry is made: every endpoint that produces usage calls this (through
 * `billRequest` or `sendSse`'s meter for HTTP answers, directly for realtime responses).
 */
export function bill(ledger: Ledger, id: string, endpoint: string, billed: Billed): void {
  ledger.add({
    id,
    endpoint,
    model: billed.model,
    service_tier: billed.service_tier ?? null,
    usage: billed.usage,
    tool_calls: billed.tool_calls ?? {},
    at: Date.now(),
  });
}

/** Bills an HTTP answer under its `x-request-id`; call it just before the answer is sent. */
export function billRequest(ctx: Exchange, billed: Billed): void {
  const url = ctx.req.url ?? '/';
  const q = url.indexOf('?');
  bill(ctx.state.ledger, ctx.requestId, q < 0 ? url : url.slice(0, q), billed);
}

/**
 * What a stream bills when only its first `sent` events went out (all of them: what it reported).
 * sse.ts calls it once, when the stream ends; never with 0 (a stream that sent nothing bills nothing).
 */
export type StreamMeter = (sent: number) => Billed;

/** Output pieces among the first `sent` events of a stream whose `pieces` content events start at `first`. */
export const piecesSent = (sent: number, first: number, pieces: number): number =>
  Math.min(pieces, Math.max(0, sent - first));
