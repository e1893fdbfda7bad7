import os from 'node:os';
import { VERSION } from '../version.js';
import { HttpPoster } from './http-post.js';
import type { Sink } from './sink.js';
import { USAGE_EVENT_FIELDS, type UsageEventV1 } from './usage-event.js';

/** OTLP severity numbers (logs data model): INFO, and WARN for a failed or refused exchange. */
const INFO = '"severityNumber":9,"severityText":"INFO"';
const WARN = '"severityNumber":13,"severityText":"WARN"';

/** Each field's attribute up to its value, by type: OTLP/JSON writes int64 as a decimal string. */
const ATTRIBUTE_PREFIX = Object.entries(USAGE_EVENT_FIELDS).map(([key, type]) => {
  const member = { string: 'stringValue', int: 'intValue', double: 'doubleValue', bool: 'boolValue' }[type];
  return { key: key as keyof UsageEventV1, type, prefix: `{"key":"${key}","value":{"${member}":` };
});

const stringAttribute = (key: string, v: string) => `{"key":"${key}","value":{"stringValue":${JSON.stringify(v)}}}`;

/**
 * One OTLP log record per event, as OTLP/JSON text (built directly: a record of objects per
 * attribute cost three times as much CPU): the event's fields as attributes under their own names
 * (typed by USAGE_EVENT_FIELDS; null fields left out), `event.name` = `llm-proxy.usage`, the body
 * `<method> <path> <status>`, the time the exchange was accounted.
 */
export function otlpLogRecord(e: UsageEventV1, observedNanos: string): string {
  let attributes = stringAttribute('event.name', 'llm-proxy.usage');
  for (const { key, type, prefix } of ATTRIBUTE_PREFIX) {
    const v = e[key];
    if (v === null || v === undefined) continue;
    let value: string;
    if (type === 'string') value = JSON.stringify(String(v));
    else if (type === 'bool') value = String(v === true);
    else {
      const n = Number(v);
      if (!Number.isFinite(n)) continue; // not expressible in JSON (never measured that way)
      value = type === 'int' ? `"${Math.trunc(n)}"` : String(n);
    }
    attributes += `,${prefix}${value}}}`;
  }
  const failed = e.status >= 400 || e.error !== null;
  return (
    `{"timeUnixNano":"${Date.parse(e.time)}000000","observedTimeUnixNano":"${observedNanos}",${failed ? WARN : INFO},` +
    `"body":{"stringValue":${JSON.stringify(`${e.method} ${e.path} ${e.status}`)}},"attributes":[${attributes}]}`
  );
}

/** The ExportLogsServiceRequest of a batch (OTLP/HTTP, JSON encoding), as text. */
export function otlpLogsRequest(events: UsageEventV1[], observedNanos: string): string {
  const resource = [
    stringAttribute('service.name', 'llm-proxy'),
    stringAttribute('service.version', VERSION),
    stringAttribute('host.name', os.hostname()),
  ].join(',');
  const records = events.map((e) => otlpLogRecord(e, observedNanos)).join(',');
  return (
    `{"resourceLogs":[{"resource":{"attributes":[${resource}]},"scopeLogs":[{"scope":{"name":"llm-proxy.shipping",` +
    `"version":${JSON.stringify(VERSION)}},"logRecords":[${records}]}]}]}`
  );
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
    const reply = await this.poster.post(otlpLogsRequest(events, observed), this.headers, signal);
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
