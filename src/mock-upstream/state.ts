import type { BackgroundResponse } from './background.js';
import type { BatchRun } from './batches.js';
import type { FileStore } from './file-store.js';
import type { Ledger } from './ledger.js';
import type { ResolvedOptions } from './options.js';

export interface MockStats {
  /** Requests outside /__mock, counted on arrival. */
  requests: number;
  activeStreams: number;
  completedStreams: number;
  /** Streams whose client closed the connection before the stream finished. */
  abortedStreams: number;
  /** Request body bytes received. */
  bytesIn: number;
  /** Response body bytes sent. */
  bytesOut: number;
  /** Requests held by `x-mock-hold: 1`, waiting for `POST /__mock/release`. */
  held: number;
}

export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  path: string;
  /** Every header as received, names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Body bytes received so far (final once the request is answered). */
  bodyBytes: number;
  /** Arrival time, epoch milliseconds. */
  at: number;
  /** The protocol it came over: `1.1` or `2.0` (HTTP/2, with `tls`). */
  httpVersion: string;
}

/** The last `capacity` requests, oldest first. */
export class RequestLog {
  readonly #items: RecordedRequest[] = [];
  #next = 0;

  constructor(private readonly capacity = 1000) {}

  add(record: RecordedRequest): void {
    if (this.#items.length < this.capacity) this.#items.push(record);
    else this.#items[this.#next] = record;
    this.#next = (this.#next + 1) % this.capacity;
  }

  list(): RecordedRequest[] {
    const ordered =
      this.#items.length < this.capacity
        ? this.#items
        : [...this.#items.slice(this.#next), ...this.#items.slice(0, this.#next)];
    return ordered.map((r) => ({ ...r, headers: { ...r.headers } }));
  }

  clear(): void {
    this.#items.length = 0;
    this.#next = 0;
  }
}

export interface MockState {
  readonly opts: ResolvedOptions;
  readonly stats: MockStats;
  readonly log: RequestLog;
  readonly files: FileStore;
  readonly batches: Map<string, BatchRun>;
  /** Responses created with `background: true`, by id. */
  readonly responses: Map<string, BackgroundResponse>;
  /** What the mock would bill (ledger.ts). */
  readonly ledger: Ledger;
  /** Releases of the requests being held. */
  readonly holds: Set<() => void>;
}

export function newStats(): MockStats {
  return { requests: 0, activeStreams: 0, completedStreams: 0, abortedStreams: 0, bytesIn: 0, bytesOut: 0, held: 0 };
}

/**
 * Zeroes the counters (but keeps activeStreams and held, which open streams and holds will
 * decrement), forgets the recorded requests and empties the ledger.
 */
export function resetState(state: MockState): void {
  Object.assign(state.stats, { ...newStats(), activeStreams: state.stats.activeStreams, held: state.stats.held });
  state.log.clear();
  state.ledger.clear();
}
