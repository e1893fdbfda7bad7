import os from 'node:os';
import { VERSION } from '../version.js';
import { HttpPoster } from './http-post.js';
import type { Sink } from './sink.js';
import { USAGE_EVENT_FIELDS, type UsageEventV1 } from './usage-event.js';

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
interface KeyValue {
  key: string;
  value: AnyValue;
}

/** OTLP severity numbers (logs data model): INFO, and WARN for a failed or refused exchange. */
const INFO = 9;
const WARN = 13;

const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });

/**
 * One OTLP log record per event: the event's fields as attributes under their own names (typed by
 * USAGE_EVENT_FIELDS; int64 as decimal strings, as OTLP/JSON encodes them; null fields left out),
 * `event.name` = `llm-proxy.usage`, the body `<method> <path> <status>`, the time the exchange was
 * accounted.
 */
export function otlpLogRecord(e: UsageEventV1, observedNanos: string) {
  const attributes: KeyValue[] = [str('event.name', 'llm-proxy.usage')];
  for (const [key, type] of Object.entries(USAGE_EVENT_FIELDS)) {
    const v = e[key as keyof UsageEventV1];
    if (v === null || v === undefined) continue;
    const value: AnyValue =
      type === 'int'
        ? { intValue: String(v) }
        : type === 'double'
          ? { doubleValue: Number(v) }
          : type === 'bool'
            ? { boolValue: v === true }
            : { stringValue: String(v) };
    attributes.push({ key, value });
  }
  const failed = e.status >= 400 || e.error !== null;
  return {
    timeUnixNano: `${Date.parse(e.time)}000000`,
    observedTimeUnixNano: observedNanos,
    severityNumber: failed ? WARN : INFO,
    severityText: failed ? 'WARN' : 'INFO',
    body: { stringValue: `${e.method} ${e.path} ${e.status}` },
    attributes,
  };
}

/** The ExportLogsServiceRequest of a batch (OTLP/HTTP, JSON encoding). */
export function otlpLogsRequest(events: UsageEventV1[], observedNanos: string) {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            str('service.name', 'llm-proxy'),
            str('service.version', VERSION),
            str('host.name', os.hostname()),
          ],
        },
        scopeLogs: [
          {
            scope: { name: 'llm-proxy.shipping', version: VERSION },
            logRecords: events.map((e) => otlpLogRecord(e, observedNanos)),
          },
        ],
      },
    ],
  };
}

/**
 * POSTs OTLP JSON to <SHIPPING_OTLP_LOGS_ENDPOINT>/v1/logs with SHIPPING_OTLP_LOGS_HEADERS. As the
 * OTLP spec asks, 429/502/503/504 are retried and other refusals are final; a 200 whose
 * partial-success names rejected records counts as delivered (the collector has decided) and
 * is logged by the dispatcher through `onPartial`.
 */
export class OtlpLogsSink implements Sink {
  readonly name = 'otlp';
  private readonly poster: HttpPoster;

  constructor(
    url: string,
    private readonly headers: Record<string, string>,
    timeoutMs: number,
    private readonly onPartial: (rejected: number) => void,
  ) {
    this.poster = new HttpPoster(url, timeoutMs);
  }

  async deliver(events: UsageEventV1[], signal: AbortSignal): Promise<void> {
    const observed = `${Date.now()}000000`;
    const reply = await this.poster.post(JSON.stringify(otlpLogsRequest(events, observed)), this.headers, signal);
    const rejected = rejectedRecords(reply);
    if (rejected > 0) this.onPartial(rejected);
  }

  close(): Promise<void> {
    return this.poster.close();
  }
}

function rejectedRecords(reply: string): number {
  if (!reply.includes('rejectedLogRecords')) return 0;
  try {
    const n = Number(
      (JSON.parse(reply) as { partialSuccess?: { rejectedLogRecords?: unknown } }).partialSuccess?.rejectedLogRecords,
    );
    return Number.isFinite(n) ? n : 0;
  } catch {
    return 0;
  }
}
