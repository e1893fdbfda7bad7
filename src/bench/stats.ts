import { createHistogram, type Histogram, recordMs, summarize } from './histogram.js';
import { ERROR_KINDS, type ErrorKind, type RunResult } from './result.js';
import { round3, round4 } from './units.js';

const MAX_ERROR_MESSAGES = 10;

/** Everything measured against one target; rounds of a comparison keep adding to the same stats. */
export class RunStats {
  readonly latency: Histogram = createHistogram();
  readonly service: Histogram = createHistogram();
  readonly ttfb: Histogram = createHistogram();
  readonly gaps: Histogram = createHistogram();
  readonly overhead: Histogram = createHistogram();
  readonly upstream: Histogram = createHistogram();
  openLoop = false;
  sent = 0;
  completed = 0;
  ok = 0;
  bytesOut = 0;
  bytesIn = 0;
  streams = 0;
  events = 0;
  chunks = 0;
  /** Sum of the measured windows, ms. */
  elapsedMs = 0;
  cpuMicros = 0;
  rounds = 0;
  warmupRequests = 0;
  warmupMs = 0;
  connectionsOpened = 0;
  connectionsClosed = 0;
  open = 0;
  maxOpen = 0;
  readonly status = new Map<number, number>();
  readonly errors: Record<ErrorKind, number> = { connect: 0, timeout: 0, reset: 0, http_4xx: 0, http_5xx: 0, other: 0 };
  readonly errorMessages = new Map<string, number>();
  readonly kinds: number[];

  constructor(readonly kindNames: readonly string[]) {
    this.kinds = kindNames.map(() => 0);
  }

  /** A whole HTTP response arrived. Times are performance.now() values. */
  response(status: number, start: number, sent: number, firstByte: number, end: number): void {
    this.completed++;
    this.status.set(status, (this.status.get(status) ?? 0) + 1);
    if (status < 400) this.ok++;
    else if (status < 500) this.errors.http_4xx++;
    else this.errors.http_5xx++;
    recordMs(this.latency, end - start);
    if (this.openLoop) recordMs(this.service, end - sent);
    recordMs(this.ttfb, firstByte - start);
  }

  transportError(err: Error): void {
    const code = (err as { code?: string }).code ?? '';
    const kind = classify(code);
    this.errors[kind]++;
    const message = `${code || err.name}: ${err.message}`;
    const seen = this.errorMessages.get(message);
    if (seen !== undefined) this.errorMessages.set(message, seen + 1);
    else if (this.errorMessages.size < MAX_ERROR_MESSAGES) this.errorMessages.set(message, 1);
  }

  connected(): void {
    this.connectionsOpened++;
    this.open++;
    if (this.open > this.maxOpen) this.maxOpen = this.open;
  }

  disconnected(): void {
    this.connectionsClosed++;
    if (this.open > 0) this.open--;
  }

  /** Adds a round's measurements (not its connection counts, which the target's pool keeps). */
  merge(o: RunStats): void {
    this.latency.add(o.latency);
    this.service.add(o.service);
    this.ttfb.add(o.ttfb);
    this.gaps.add(o.gaps);
    this.overhead.add(o.overhead);
    this.upstream.add(o.upstream);
    this.openLoop ||= o.openLoop;
    this.sent += o.sent;
    this.completed += o.completed;
    this.ok += o.ok;
    this.bytesOut += o.bytesOut;
    this.bytesIn += o.bytesIn;
    this.streams += o.streams;
    this.events += o.events;
    this.chunks += o.chunks;
    this.elapsedMs += o.elapsedMs;
    this.cpuMicros += o.cpuMicros;
    this.rounds += o.rounds;
    for (const [code, n] of o.status) this.status.set(code, (this.status.get(code) ?? 0) + n);
    for (const k of ERROR_KINDS) this.errors[k] += o.errors[k];
    for (const [m, n] of o.errorMessages) {
      const seen = this.errorMessages.get(m);
      if (seen !== undefined) this.errorMessages.set(m, seen + n);
      else if (this.errorMessages.size < MAX_ERROR_MESSAGES) this.errorMessages.set(m, n);
    }
    for (const [i, n] of o.kinds.entries()) this.kinds[i] = (this.kinds[i] ?? 0) + n;
  }

  get failed(): number {
    let n = 0;
    for (const k of ERROR_KINDS) n += this.errors[k];
    return n;
  }

  toResult(label: string, target: string): RunResult {
    const seconds = this.elapsedMs / 1000;
    const per = (n: number) => (seconds > 0 ? round3(n / seconds) : 0);
    const status: Record<string, number> = {};
    for (const [code, n] of [...this.status].sort((a, b) => a[0] - b[0])) status[String(code)] = n;
    const kinds: Record<string, number> = {};
    for (const [i, name] of this.kindNames.entries()) kinds[name] = (kinds[name] ?? 0) + (this.kinds[i] ?? 0);
    return {
      label,
      target,
      duration_s: round3(seconds),
      rounds: this.rounds,
      requests: { sent: this.sent, completed: this.completed, ok: this.ok, errors: this.failed },
      throughput: { rps: per(this.completed), ok_rps: per(this.ok), bytes_in_per_s: Math.round(per(this.bytesIn)) },
      bytes: { sent: this.bytesOut, received: this.bytesIn },
      status,
      errors: { ...this.errors },
      error_messages: Object.fromEntries(this.errorMessages),
      connections: { opened: this.connectionsOpened, closed: this.connectionsClosed, max_open: this.maxOpen },
      latency_ms: summarize(this.latency),
      service_ms: this.openLoop ? summarize(this.service) : null,
      ttfb_ms: summarize(this.ttfb),
      chunk_gap_ms: summarize(this.gaps),
      proxy_overhead_ms: summarize(this.overhead),
      upstream_ms: summarize(this.upstream),
      stream: { responses: this.streams, events: this.events, chunks: this.chunks },
      kinds,
      warmup: { requests: this.warmupRequests, duration_s: round3(this.warmupMs / 1000) },
      client_cpu: {
        ms: round3(this.cpuMicros / 1000),
        pct_of_core: this.elapsedMs > 0 ? round4((this.cpuMicros / 1000 / this.elapsedMs) * 100) : 0,
      },
    };
  }
}

/** Transport failures by undici/Node error code. */
export function classify(code: string): Exclude<ErrorKind, 'http_4xx' | 'http_5xx'> {
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'connect';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'reset';
    default:
      return 'other';
  }
}
