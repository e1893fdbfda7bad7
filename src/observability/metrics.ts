import { Counter, collectDefaultMetrics, Gauge, Histogram } from 'prom-client';
import { FastCounter, FastHistogram, SEP } from './fast-metrics.js';
import { LabelCap } from './label-cap.js';
import { PrometheusRegistry } from './prometheus-registry.js';

/** Seconds: from a fast refusal to a ten-minute completion. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Chunks per streamed response, and the longest pause within one (seconds). */
const CHUNK_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];
const GAP_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** The proxy's own time per request is counted in microseconds (10 µs to 50 ms). */
const OVERHEAD_BUCKETS = [10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 50e-3];
/** From a management change's write to its application in this instance (seconds): 1 s is the promise. */
const CHANGE_LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10, 30];
/** The change feed's states (tokens/change-feed.ts), each a series of llm_proxy_change_feed_state. */
const CHANGE_FEED_STATES = ['listening', 'polling-only', 'failing'];

export interface MetricsOptions {
  /** Also label cost and requests by token and project id. */
  tokenLabels: boolean;
  /** Distinct values per free label (model, token, project) before the rest count as `other`. */
  maxLabelValues: number;
}

/** Live values read at scrape time (nothing is counted per request for them). */
export interface MetricsSources {
  inFlight(): number;
  /** Whether the instance sheds load now (PROXY_MAX_IN_FLIGHT, proxy/load-shedder.ts). */
  shedding?(): boolean;
  usagePending(): number;
  usageWritten(): number;
  usageDropped(): number;
  usageBatches(): number;
  usageRetries(): number;
  upstreams(): UpstreamState[];
  /** Upstream keys (per model) cooling down, and half-open (waiting for a trial request's answer). */
  keyCooldowns?(): { cooling: number; halfOpen: number };
  /** The balancer's view of keys in pools of two or more (proxy/key-load.ts): counts only. */
  keyLoad?(): { inFlight: number; outOfHeadroom: number; headroomSkips: number };
  /** Retries started by the proxy, by reason (proxy/retry-policy.ts: a fixed set). */
  retries?(): { reason: string; count: number }[];
  /** Retries refused because the global retry budget was spent. */
  retryBudgetExhausted?(): number;
  /** With Redis: whether cooldowns are shared with other instances now (proxy/shared-cooldowns.ts). */
  cooldownSharing?(): 'ok' | 'failing';
  /** Idempotency-Key outcomes so far, by result, and the repeats waiting for a first request now. */
  idempotency?(): { counts: Record<string, number>; waiting: number };
  tokenCache(): { hits: number; misses: number };
  /** Budgets with their use in the current period (1 = all of it). */
  budgets(): { kind: string; id: string; used: number }[];
  /** Each log-shipping sink's state (src/shipping/); none when shipping is off. */
  shipping?(): ShippingSinkState[];
  /** Bytes charged for request bodies being read whole (proxy/body-memory.ts). */
  bodyBytesHeld?(): number;
  /** The change feed's state: listening, polling-only or failing (tokens/change-feed.ts). */
  changeFeed?(): string;
  /** The limiter's backend (memory, database, redis) and its state (ok, failing: Redis cannot answer). */
  limiter?(): { backend: string; state: string };
  /** The last reconciliation of Redis's counters in this instance (limits/reconcile.ts); none: not run here. */
  limiterDrift?(): LimiterDrift | undefined;
  /** The response cache: requests by result, and (memory backend) what it holds. */
  responseCache?(): { counts: Record<string, number>; bytes: number | undefined; entries: number | undefined };
  /** The certificate served to new connections (TLS_CERT_FILE); none without TLS. */
  tlsCertificate?(): { serial: string; notAfter: Date } | undefined;
  /** Realtime API sessions: open now, and frames and bytes relayed so far (proxy/realtime/). */
  realtime?(): RealtimeCounts;
  /** Followed batches and background responses by state (the cluster's, read every 10 s), and this instance's polls by outcome (jobs/). */
  jobs?(): { states: Record<string, number>; polls: Record<string, number> };
}

/** What the metrics read of the Realtime API's sessions (proxy/realtime/realtime-session.ts RealtimeStats). */
export interface RealtimeCounts {
  open: number;
  frames: { toUpstream: { text: number; binary: number }; toClient: { text: number; binary: number } };
  bytes: { toUpstream: number; toClient: number };
  /** Times reading from a side was paused for back-pressure, by the side paused. */
  pauses: { upstream: number; client: number };
  /** Bytes queued on sessions' sockets not yet taken by their peers. */
  buffered: number;
}

/** Seconds a Realtime session lasts: from a refused first response to an hour-long call. */
const SESSION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

/** What the metrics read of a reconciliation pass (limits/reconcile.ts DriftReport). */
export interface LimiterDrift {
  subjectsByKind: Record<string, number>;
  drift: { requests: number; budgetNanoUsd: number };
  drifting: { requests: number; budgetNanoUsd: number };
  /** Passes run in this instance so far, and the counters they raised. */
  runs: number;
  correctedTotal: number;
}

/** One log-shipping sink, as the metrics read it. */
export interface ShippingSinkState {
  sink: string;
  /** Events not acknowledged yet (memory, in flight, spilled). */
  queued: number;
  spilledBytes: number;
  shipped: number;
  retries: number;
  deadLettered: number;
  /** Events given up, by reason. */
  dropped: Record<string, number>;
}

/** Budget use the metrics count subjects at or over. */
const BUDGET_THRESHOLDS = [0.5, 0.8, 0.9, 1];

/** An upstream origin's connection slots (the gate in front of its pool). */
export interface UpstreamState {
  origin: string;
  busy: number;
  queued: number;
  slots: number;
}

/** One request's end, as the proxy reports it: fields of its usage record (ids only, never a token or a key). */
export interface RequestEnd {
  method: string;
  status: number;
  /** The response was an event stream (counted in open streams since `streamStarted`). */
  stream: boolean;
  model: string | null;
  tokenId: string;
  projectId: string;
  durationMs: number;
  upstreamMs: number | null;
  ttfbMs: number | null;
  error: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
  costNanoUsd: number | null;
}

/** An event stream's pacing: chunks relayed and the longest pause between two (ms). */
export interface StreamPacing {
  chunks: number;
  maxGapMs: number;
}

/** What an upstream's response said about its rate limits (x-ratelimit-* headers). */
export interface RateLimitHeadroom {
  upstream: string;
  projectId: string;
  remainingRequests: number | undefined;
  remainingTokens: number | undefined;
  limitRequests: number | undefined;
  limitTokens: number | undefined;
}

/**
 * The Prometheus registry of one process (prom-client): the proxy's request metrics, the usage
 * writer's and token cache's state, and Node's process metrics (event-loop lag included). Label
 * values are bounded: endpoint families and status classes by construction, models, tokens and
 * projects by `maxLabelValues` (later ones count as `other`).
 */
export class Metrics {
  readonly registry = new PrometheusRegistry();
  private readonly requests: FastCounter;
  private readonly duration: FastHistogram;
  private readonly upstream: FastHistogram;
  private readonly ttfb: FastHistogram;
  private readonly overhead: FastHistogram;
  private readonly tokens: FastCounter;
  private readonly cost: FastCounter;
  private readonly refusals: Counter<string>;
  private readonly upstreamErrors: Counter<string>;
  private readonly openStreams: Gauge<string>;
  private readonly streamChunks: FastHistogram;
  private readonly streamGap: FastHistogram;
  private readonly changeLag: Histogram<string>;
  private readonly realtimeDuration: Histogram<string>;
  /** The latest rate-limit headers per upstream (and project), turned into gauges at scrape time. */
  private readonly headrooms = new Map<string, { labels: Record<string, string>; h: RateLimitHeadroom }>();
  private readonly models: LabelCap;
  private readonly ids: LabelCap;
  private readonly upstreams: LabelCap;

  constructor(
    private readonly opts: MetricsOptions,
    sources: MetricsSources,
  ) {
    const registers = [this.registry];
    const who = opts.tokenLabels ? ['token_id', 'project_id'] : [];
    this.models = new LabelCap(opts.maxLabelValues);
    this.ids = new LabelCap(opts.maxLabelValues);
    this.upstreams = new LabelCap(opts.maxLabelValues);
    const reg = this.registry;
    this.requests = new FastCounter(
      reg,
      'llm_proxy_requests_total',
      'Proxied requests that reached the upstream, by endpoint family, method, status class and model.',
      ['family', 'method', 'status_class', 'model', ...who],
    );
    const family = ['family'];
    this.duration = new FastHistogram(
      reg,
      'llm_proxy_request_duration_seconds',
      'Whole request, as the client saw it.',
      family,
      DURATION_BUCKETS,
    );
    this.upstream = new FastHistogram(
      reg,
      'llm_proxy_upstream_duration_seconds',
      'From sending upstream to its response headers.',
      family,
      DURATION_BUCKETS,
    );
    this.ttfb = new FastHistogram(
      reg,
      'llm_proxy_time_to_first_byte_seconds',
      'From arrival to the first body byte sent back.',
      family,
      DURATION_BUCKETS,
    );
    this.overhead = new FastHistogram(
      reg,
      'llm_proxy_overhead_seconds',
      "The proxy's own time before a request goes upstream (token, limits, body checks).",
      family,
      OVERHEAD_BUCKETS,
    );
    this.tokens = new FastCounter(
      reg,
      'llm_proxy_tokens_total',
      'Tokens used, by model and kind (input, output, cached, reasoning).',
      ['model', 'kind'],
    );
    this.cost = new FastCounter(
      reg,
      'llm_proxy_cost_usd_total',
      'Cost of the usage recorded, in US dollars, by model.',
      ['model', ...who],
    );
    this.refusals = new Counter({
      name: 'llm_proxy_refusals_total',
      help: 'Requests (and WebSocket upgrades) the proxy answered itself, by reason (the error code of docs/api.md).',
      labelNames: ['reason'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'llm_proxy_upstream_errors_total',
      help: 'Upstream failures by kind: the proxy error code (connect, timeout, cut stream) or 4xx/5xx answers.',
      labelNames: ['kind'],
      registers,
    });
    this.openStreams = new Gauge({
      name: 'llm_proxy_open_streams',
      help: 'Event-stream responses being sent now.',
      registers,
    });
    this.streamChunks = new FastHistogram(
      reg,
      'llm_proxy_stream_chunks',
      'Body chunks relayed per event-stream response.',
      family,
      CHUNK_BUCKETS,
    );
    this.streamGap = new FastHistogram(
      reg,
      'llm_proxy_stream_max_gap_seconds',
      'The longest pause between two chunks of each event-stream response.',
      family,
      GAP_BUCKETS,
    );
    const headroomLabels = ['upstream', 'kind', ...(opts.tokenLabels ? ['project_id'] : [])];
    const headrooms = this.headrooms;
    const headroomGauge = (
      name: string,
      help: string,
      read: (h: RateLimitHeadroom, kind: string) => number | undefined,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: headroomLabels,
        registers,
        collect() {
          this.reset();
          for (const { labels, h } of headrooms.values()) {
            for (const kind of ['requests', 'tokens']) {
              const v = read(h, kind);
              if (v !== undefined) this.set({ ...labels, kind }, v);
            }
          }
        },
      });
    headroomGauge(
      'llm_proxy_upstream_ratelimit_remaining',
      'Requests or tokens left in the upstream rate-limit window, as its last response said (x-ratelimit-remaining-*).',
      (h, kind) => (kind === 'requests' ? h.remainingRequests : h.remainingTokens),
    );
    headroomGauge(
      'llm_proxy_upstream_ratelimit_limit',
      'The upstream rate limit per window, as its last response said (x-ratelimit-limit-*).',
      (h, kind) => (kind === 'requests' ? h.limitRequests : h.limitTokens),
    );
    new Gauge({
      name: 'llm_proxy_in_flight_requests',
      help: 'Requests being served now.',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    new Gauge({
      name: 'llm_proxy_load_shedding',
      help: 'Whether this instance sheds new requests (503 server_overloaded) and reports not ready: 1 from the first shed until the load has dropped.',
      registers,
      collect() {
        this.set(sources.shedding?.() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'llm_proxy_request_body_bytes_held',
      help: 'Bytes of request bodies being read before forwarding, charged at their declared length (PROXY_BODY_MEMORY_BYTES).',
      registers,
      collect() {
        this.set(sources.bodyBytesHeld?.() ?? 0);
      },
    });
    new Gauge({
      name: 'llm_proxy_usage_queue_depth',
      help: 'Usage records waiting in memory for the store.',
      registers,
      collect() {
        this.set(sources.usagePending());
      },
    });
    counterFrom('llm_proxy_usage_records_written_total', 'Usage records the store confirmed.', sources.usageWritten);
    counterFrom('llm_proxy_usage_batches_total', 'Usage batches the store confirmed.', sources.usageBatches);
    counterFrom(
      'llm_proxy_usage_write_retries_total',
      'Failed usage writes (the batch stays queued).',
      sources.usageRetries,
    );
    upstreamGauge('llm_proxy_upstream_connections_busy', 'Connection slots of an upstream in use.', (u) => u.busy);
    upstreamGauge('llm_proxy_upstream_connections_queued', 'Requests waiting for a connection slot.', (u) => u.queued);
    upstreamGauge('llm_proxy_upstream_connections_max', 'Connection slots per upstream.', (u) => u.slots);
    new Gauge({
      name: 'llm_proxy_upstream_keys_cooling',
      help: 'Upstream keys (per model, where the model was read) skipped after 429s, 5xx or failed connections (cooling), or waiting for one trial request (half_open).',
      labelNames: ['state'],
      registers,
      collect() {
        const c = sources.keyCooldowns?.() ?? { cooling: 0, halfOpen: 0 };
        this.set({ state: 'cooling' }, c.cooling);
        this.set({ state: 'half_open' }, c.halfOpen);
      },
    });
    new Gauge({
      name: 'llm_proxy_upstream_key_requests_in_flight',
      help: 'Requests in flight to upstream keys of projects with two or more keys, which the balancer weighs.',
      registers,
      collect() {
        this.set(sources.keyLoad?.().inFlight ?? 0);
      },
    });
    new Gauge({
      name: 'llm_proxy_upstream_keys_out_of_headroom',
      help: 'Upstream keys whose last response said their rate-limit window is spent (x-ratelimit-remaining-*), skipped until it resets.',
      registers,
      collect() {
        this.set(sources.keyLoad?.().outOfHeadroom ?? 0);
      },
    });
    counterFrom(
      'llm_proxy_upstream_key_headroom_skips_total',
      'Key choices that passed over a key out of rate-limit headroom for one with some.',
      () => sources.keyLoad?.().headroomSkips ?? 0,
    );
    new Counter({
      name: 'llm_proxy_upstream_retries_total',
      help: 'Requests sent upstream again after a failed attempt (on another key, or after a backoff), by what failed: connect, rate_limited (429), server_error (5xx), timeout, reset.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const r of sources.retries?.() ?? []) this.inc({ reason: r.reason }, r.count);
      },
    });
    counterFrom(
      'llm_proxy_upstream_retry_budget_exhausted_total',
      'Retries not made because the global retry budget (UPSTREAM_RETRY_BUDGET_*) was spent: the failure went to the client.',
      () => sources.retryBudgetExhausted?.() ?? 0,
    );
    new Counter({
      name: 'llm_proxy_idempotency_total',
      help: 'Requests with an Idempotency-Key by result: new (claimed, sent upstream), replayed, in_flight_conflict (409 past IDEMPOTENCY_WAIT_MS), mismatch (422), not_kept (409, response too large), invalid and unsupported (400), unavailable (the key store failed); and the first requests ended: stored or released.',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        const counts = sources.idempotency?.().counts;
        if (counts) for (const [result, n] of Object.entries(counts)) this.inc({ result }, n);
      },
    });
    new Gauge({
      name: 'llm_proxy_jobs',
      help: 'Batches and background responses followed through the proxy, by state (pending, recording, done, dropped), across the cluster.',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const states = sources.jobs?.().states;
        if (states) for (const [state, n] of Object.entries(states)) this.set({ state }, n);
      },
    });
    new Counter({
      name: 'llm_proxy_job_polls_total',
      help: 'Polls of the upstream for followed batches and background responses by this instance, by outcome (running, finished, failed).',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        const polls = sources.jobs?.().polls;
        if (polls) for (const [outcome, n] of Object.entries(polls)) this.inc({ outcome }, n);
      },
    });
    new Gauge({
      name: 'llm_proxy_realtime_sessions_open',
      help: 'Realtime API WebSocket sessions open now.',
      registers,
      collect() {
        this.set(sources.realtime?.().open ?? 0);
      },
    });
    new Counter({
      name: 'llm_proxy_realtime_frames_total',
      help: 'WebSocket frames relayed by Realtime API sessions, by direction (to_upstream, to_client) and kind (text, binary).',
      labelNames: ['direction', 'kind'],
      registers,
      collect() {
        this.reset();
        const f = sources.realtime?.().frames;
        if (!f) return;
        this.inc({ direction: 'to_upstream', kind: 'text' }, f.toUpstream.text);
        this.inc({ direction: 'to_upstream', kind: 'binary' }, f.toUpstream.binary);
        this.inc({ direction: 'to_client', kind: 'text' }, f.toClient.text);
        this.inc({ direction: 'to_client', kind: 'binary' }, f.toClient.binary);
      },
    });
    new Counter({
      name: 'llm_proxy_realtime_bytes_total',
      help: 'Payload bytes of the WebSocket frames relayed by Realtime API sessions, by direction.',
      labelNames: ['direction'],
      registers,
      collect() {
        this.reset();
        const b = sources.realtime?.().bytes;
        if (!b) return;
        this.inc({ direction: 'to_upstream' }, b.toUpstream);
        this.inc({ direction: 'to_client' }, b.toClient);
      },
    });
    new Counter({
      name: 'llm_proxy_realtime_backpressure_pauses_total',
      help: 'Times a Realtime API session stopped reading one side (from: upstream, client) because the other side had too much buffered.',
      labelNames: ['from'],
      registers,
      collect() {
        this.reset();
        const p = sources.realtime?.().pauses;
        if (!p) return;
        this.inc({ from: 'upstream' }, p.upstream);
        this.inc({ from: 'client' }, p.client);
      },
    });
    new Gauge({
      name: 'llm_proxy_realtime_buffered_bytes',
      help: 'Bytes Realtime API sessions hold queued for a peer that has not taken them yet (bounded by back-pressure).',
      registers,
      collect() {
        this.set(sources.realtime?.().buffered ?? 0);
      },
    });
    this.realtimeDuration = new Histogram({
      name: 'llm_proxy_realtime_session_duration_seconds',
      help: 'How long Realtime API sessions lasted, observed when they close.',
      buckets: SESSION_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'llm_proxy_idempotency_waiting',
      help: 'Requests waiting for the first request with their Idempotency-Key to finish.',
      registers,
      collect() {
        this.set(sources.idempotency?.().waiting ?? 0);
      },
    });
    new Counter({
      name: 'llm_proxy_cache_requests_total',
      help: 'Requests that used the response cache, by result: hit, miss (looked up, not found), skip (no-cache or max-age=0: not looked up), bypass (cache asked for, request not cacheable), stored (answers stored), error (the backend failed: a miss or an unstored answer).',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        const c = sources.responseCache?.();
        if (c) for (const result in c.counts) this.inc({ result }, c.counts[result] as number);
      },
    });
    new Gauge({
      name: 'llm_proxy_cache_memory_bytes',
      help: 'Bytes held by the memory backend of the response cache (bodies, headers, keys); 0 with the Redis backend.',
      registers,
      collect() {
        const b = sources.responseCache?.().bytes;
        if (b !== undefined) this.set(b);
      },
    });
    new Gauge({
      name: 'llm_proxy_cache_memory_entries',
      help: 'Entries in the memory backend of the response cache; 0 with the Redis backend.',
      registers,
      collect() {
        const n = sources.responseCache?.().entries;
        if (n !== undefined) this.set(n);
      },
    });
    counterFrom(
      'llm_proxy_usage_records_dropped_total',
      'Usage records that left a full queue unwritten (with the journal, written from it once the database answers).',
      sources.usageDropped,
    );
    counterFrom(
      'llm_proxy_token_cache_hits_total',
      'Token lookups answered from the cache.',
      () => sources.tokenCache().hits,
    );
    counterFrom(
      'llm_proxy_token_cache_misses_total',
      'Token lookups that read the store.',
      () => sources.tokenCache().misses,
    );
    new Gauge({
      name: 'llm_proxy_budgets_used',
      help: 'Tokens and projects whose budget use in the current period is at or over the threshold (0.8 = 80%).',
      labelNames: ['kind', 'threshold'],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>();
        for (const kind of ['token', 'project']) for (const t of BUDGET_THRESHOLDS) counts.set(`${kind} ${t}`, 0);
        for (const b of sources.budgets()) {
          for (const t of BUDGET_THRESHOLDS) {
            const k = `${b.kind} ${t}`;
            if (b.used >= t) counts.set(k, (counts.get(k) ?? 0) + 1);
          }
        }
        for (const [k, n] of counts) {
          const [kind, threshold] = k.split(' ') as [string, string];
          this.set({ kind, threshold }, n);
        }
      },
    });
    if (opts.tokenLabels) {
      const ids = this.ids;
      new Gauge({
        name: 'llm_proxy_budget_used_ratio',
        help: 'Budget use in the current period per token or project (METRICS_TOKEN_LABELS; 1 = all of it).',
        labelNames: ['kind', 'id'],
        registers,
        collect() {
          this.reset();
          for (const b of sources.budgets()) {
            const id = ids.value(b.id);
            if (id !== 'other') this.set({ kind: b.kind, id }, b.used);
          }
        },
      });
    }
    const sinks = () => sources.shipping?.() ?? [];
    const perSink: [typeof Gauge | typeof Counter, string, string, (s: ShippingSinkState) => number][] = [
      [
        Gauge,
        'queue_depth',
        'Usage events a sink has not acknowledged yet (memory, in flight, spilled).',
        (s) => s.queued,
      ],
      [Gauge, 'spill_bytes', 'Bytes of spill files a sink has on disk.', (s) => s.spilledBytes],
      [Counter, 'events_shipped_total', 'Usage events a sink acknowledged.', (s) => s.shipped],
      [Counter, 'retries_total', 'Failed deliveries to a sink that were retried.', (s) => s.retries],
      [
        Counter,
        'events_dead_lettered_total',
        "Usage events written to a sink's dead-letter file (refused, or past the retry budget).",
        (s) => s.deadLettered,
      ],
    ];
    for (const [Kind, name, help, read] of perSink) sinkMetric(Kind, `llm_proxy_shipping_${name}`, help, read);
    new Counter({
      name: 'llm_proxy_shipping_events_dropped_total',
      help: 'Usage events a sink gave up, by reason (queue_full, spill_full, spill_error, dead_letter_error, shutdown).',
      labelNames: ['sink', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const s of sinks())
          for (const [reason, n] of Object.entries(s.dropped)) this.inc({ sink: s.sink, reason }, n);
      },
    });
    this.changeLag = new Histogram({
      name: 'llm_proxy_change_lag_seconds',
      help: 'From a management change (revocation, deactivation, key rotation, limits) being written to this instance applying it, by how it learnt of it (notify: PostgreSQL NOTIFY, redis: Redis pub/sub, or poll).',
      labelNames: ['via'],
      buckets: CHANGE_LAG_BUCKETS,
      registers,
    });
    if (sources.changeFeed) {
      const feed = sources.changeFeed;
      new Gauge({
        name: 'llm_proxy_change_feed_state',
        help: "The change feed's state: 1 for the current one of listening, polling-only and failing.",
        labelNames: ['state'],
        registers,
        collect() {
          const now = feed();
          for (const state of CHANGE_FEED_STATES) this.set({ state }, state === now ? 1 : 0);
        },
      });
    }
    if (sources.cooldownSharing) {
      const sharing = sources.cooldownSharing;
      new Gauge({
        name: 'llm_proxy_upstream_cooldown_sharing_state',
        help: "Upstream key cooldowns shared through Redis: 1 for the current one of ok and failing (Redis cannot answer: this instance keeps its own cooldowns, and others' do not reach it).",
        labelNames: ['state'],
        registers,
        collect() {
          const now = sharing();
          for (const state of ['ok', 'failing']) this.set({ state }, state === now ? 1 : 0);
        },
      });
    }
    if (sources.limiter) {
      const limiter = sources.limiter;
      new Gauge({
        name: 'llm_proxy_limiter_backend_state',
        help: "The limiter's backend (memory, database or redis) and state: 1 for the current one of ok and failing (Redis cannot answer; REDIS_FAILURE_MODE applies).",
        labelNames: ['backend', 'state'],
        registers,
        collect() {
          this.reset();
          const now = limiter();
          for (const state of ['ok', 'failing']) this.set({ backend: now.backend, state }, state === now.state ? 1 : 0);
        },
      });
    }
    if (sources.limiterDrift) {
      const drift = sources.limiterDrift;
      const kinds = [
        ['requests', 'requests'],
        ['budget_nano_usd', 'budgetNanoUsd'],
      ] as const;
      // No samples until a pass ran in this instance: the one holding the reconciliation lease exports them.
      new Gauge({
        name: 'llm_proxy_limiter_drift',
        help: 'Redis limit counters minus the database totals at the last reconciliation, summed as absolute values over subjects: requests (in flight not counted) and budget spend in nano-dollars (lifetime, day, month).',
        labelNames: ['kind'],
        registers,
        collect() {
          this.reset();
          const r = drift();
          if (r) for (const [kind, f] of kinds) this.set({ kind }, r.drift[f]);
        },
      });
      new Gauge({
        name: 'llm_proxy_limiter_drifting_subjects',
        help: 'Tokens and projects whose Redis counters differed from the database at the last reconciliation, by kind of counter.',
        labelNames: ['kind'],
        registers,
        collect() {
          this.reset();
          const r = drift();
          if (r) for (const [kind, f] of kinds) this.set({ kind }, r.drifting[f]);
        },
      });
      new Gauge({
        name: 'llm_proxy_limiter_reconciled_subjects',
        help: 'Tokens and projects with limit state in Redis compared at the last reconciliation, by kind.',
        labelNames: ['kind'],
        registers,
        collect() {
          this.reset();
          const r = drift();
          if (r) for (const [kind, n] of Object.entries(r.subjectsByKind)) this.set({ kind }, n);
        },
      });
      // Counters: 0 is true where the job never ran (it runs in the instance holding its lease).
      new Counter({
        name: 'llm_proxy_limiter_reconcile_runs_total',
        help: 'Reconciliation passes run by this instance.',
        registers,
        collect() {
          this.reset();
          this.inc(drift()?.runs ?? 0);
        },
      });
      new Counter({
        name: 'llm_proxy_limiter_reconcile_corrections_total',
        help: 'Redis limit counters the reconciliation raised to the database totals (REDIS_RECONCILE_CORRECT).',
        registers,
        collect() {
          this.reset();
          this.inc(drift()?.correctedTotal ?? 0);
        },
      });
    }
    if (sources.tlsCertificate) {
      const certificate = sources.tlsCertificate;
      // No sample without TLS. Under WORKERS each worker reports the same certificate: the host's is
      // the earliest expiry of those served (a worker that has not reloaded yet shows its old one).
      new Gauge({
        name: 'llm_proxy_tls_certificate_expiry_seconds',
        help: 'When the TLS certificate served to new connections expires (its notAfter), in Unix seconds, labelled with its serial number.',
        labelNames: ['serial'],
        aggregator: 'min',
        registers,
        collect() {
          this.reset();
          const c = certificate();
          if (c) this.set({ serial: c.serial }, Math.floor(c.notAfter.getTime() / 1000));
        },
      });
    }
    collectDefaultMetrics({ register: this.registry });

    /** A value per sink read at scrape time (a counter's is set, not incremented, as in counterFrom). */
    function sinkMetric(
      Kind: typeof Gauge | typeof Counter,
      name: string,
      help: string,
      read: (s: ShippingSinkState) => number,
    ): void {
      new Kind({
        name,
        help,
        labelNames: ['sink'],
        registers,
        collect(this: Gauge<string> | Counter<string>) {
          this.reset();
          for (const s of sinks()) this.inc({ sink: s.sink }, read(s));
        },
      });
    }

    function upstreamGauge(name: string, help: string, read: (u: UpstreamState) => number): void {
      new Gauge({
        name,
        help,
        labelNames: ['upstream'],
        registers,
        collect() {
          this.reset();
          for (const u of sources.upstreams()) this.set({ upstream: u.origin }, read(u));
        },
      });
    }
    function counterFrom(name: string, help: string, read: () => number): void {
      // A counter whose value lives elsewhere: set (not incremented) at scrape time.
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    }
  }

  /** A management change was applied to this instance's token cache, `lagSeconds` after it was written. */
  changeApplied(lagSeconds: number, via: string): void {
    this.changeLag.observe({ via }, lagSeconds);
  }

  /** A Realtime API session closed after `seconds`. */
  realtimeSessionEnded(seconds: number): void {
    this.realtimeDuration.observe(seconds);
  }

  /** A Realtime response was accounted: its tokens and cost, as a request's (the session has its own metrics). */
  realtimeResponse(e: RequestEnd): void {
    this.accounted(e);
  }

  /** A batch line's or background response's record: its tokens and cost, as a request's. */
  jobRecorded(e: RequestEnd): void {
    this.accounted(e);
  }

  /** Tokens and cost of a record accounted outside a request's end (no duration or status series). */
  private accounted(e: RequestEnd): void {
    const named = e.model ?? 'none';
    const model = this.models.value(named.includes(SEP) ? named.replaceAll(SEP, '?') : named);
    const who = this.opts.tokenLabels ? `${SEP}${this.ids.value(e.tokenId)}${SEP}${this.ids.value(e.projectId)}` : '';
    this.usage(e, model, who);
  }

  /** Tokens by kind and cost of one record, under its series keys. */
  private usage(e: RequestEnd, model: string, who: string): void {
    if (e.promptTokens) this.tokens.inc(`${model}${SEP}input`, e.promptTokens);
    if (e.completionTokens) this.tokens.inc(`${model}${SEP}output`, e.completionTokens);
    if (e.cachedTokens) this.tokens.inc(`${model}${SEP}cached`, e.cachedTokens);
    if (e.reasoningTokens) this.tokens.inc(`${model}${SEP}reasoning`, e.reasoningTokens);
    if (e.costNanoUsd) this.cost.inc(`${model}${who}`, e.costNanoUsd / 1e9);
  }

  /** The proxy refused a request itself. */
  refused(reason: string): void {
    this.refusals.inc({ reason });
  }

  /** Time from arrival to admission. */
  admitted(family: string, overheadMs: number): void {
    this.overhead.observe(family, overheadMs / 1000);
  }

  /** An event stream started (its upstream headers arrived); `ended` with `stream` closes it. */
  streamStarted(): void {
    this.openStreams.inc();
  }

  /**
   * The upstream's rate-limit headers. Without project labels the gauge holds the latest any
   * project's key reported for the upstream (keys of one organisation share its limits).
   */
  headroom(h: RateLimitHeadroom): void {
    // Kept as it came; the gauges read the latest per upstream (and project) at scrape time.
    const projectId = this.opts.tokenLabels ? this.ids.value(h.projectId) : undefined;
    const key = projectId === undefined ? h.upstream : `${h.upstream}${SEP}${projectId}`;
    const held = this.headrooms.get(key);
    if (held) held.h = h;
    else {
      const labels: Record<string, string> = { upstream: this.upstreams.value(h.upstream) };
      if (projectId !== undefined) labels.project_id = projectId;
      this.headrooms.set(key, { labels, h });
    }
  }

  /** An admitted request was accounted for. */
  /** `family`: the endpoint family (metrics-hooks.ts); `stream`: set for event streams. */
  ended(e: RequestEnd, family: string, stream: StreamPacing | undefined): void {
    if (e.stream) this.openStreams.dec();
    // A client names the model: a SEP in it would shift the series key's labels.
    const named = e.model ?? 'none';
    const model = this.models.value(named.includes(SEP) ? named.replaceAll(SEP, '?') : named);
    const statusClass = `${Math.floor(e.status / 100)}xx`;
    const who = this.opts.tokenLabels ? `${SEP}${this.ids.value(e.tokenId)}${SEP}${this.ids.value(e.projectId)}` : '';
    this.requests.inc(`${family}${SEP}${e.method}${SEP}${statusClass}${SEP}${model}${who}`);
    this.duration.observe(family, e.durationMs / 1000);
    if (e.upstreamMs !== null) this.upstream.observe(family, e.upstreamMs / 1000);
    if (e.ttfbMs !== null) this.ttfb.observe(family, e.ttfbMs / 1000);
    if (stream) {
      this.streamChunks.observe(family, stream.chunks);
      if (stream.chunks > 1) this.streamGap.observe(family, stream.maxGapMs / 1000);
    }
    this.usage(e, model, who);
    // The upstream's own 4xx/5xx answers, or the proxy's upstream_* codes; a client that left is not one.
    const kind = e.error?.startsWith('upstream_')
      ? e.error
      : e.error === null && e.status >= 400 && e.status < 600
        ? statusClass
        : undefined;
    if (kind) this.upstreamErrors.inc({ kind });
  }
}
