import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An OTLP attribute value, decoded from its JSON form. */
export type AttrValue = string | number | boolean | AttrValue[] | undefined;
export type Attrs = Record<string, AttrValue>;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP SpanKind: 2 SERVER, 3 CLIENT. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Attrs;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
  resource: Attrs;
}

export interface ReceivedPoint {
  metric: string;
  unit: string;
  attributes: Attrs;
  count: number;
  sum: number;
  resource: Attrs;
}

export interface ExportRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface OtlpReceiver {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans(): ReceivedSpan[];
  /** Histogram data points of the latest export that carried each metric (cumulative, so the latest is the total). */
  points(): ReceivedPoint[];
  /** Every export request received, JSON or protobuf, as sent. */
  requests(): ExportRequest[];
  close(): Promise<void>;
}

const SPAN_KINDS: Record<string, number> = { SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3 };

type AnyValue = {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
};

function value(v: AnyValue | undefined): AttrValue {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

function attrs(list: { key: string; value: AnyValue }[] | undefined): Attrs {
  return Object.fromEntries((list ?? []).map((a) => [a.key, value(a.value)]));
}

/**
 * A real OTLP/HTTP receiver for tests: a plain node:http server that accepts the JSON protocol at
 * /v1/traces and /v1/metrics (as a collector would), answers 200 with an empty partial-success
 * body, and keeps what it was sent, decoded. Protobuf exports are accepted and kept undecoded;
 * anything else is refused with 415 or 404.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const latest = new Map<string, ReceivedPoint[]>();
  const requests: ExportRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || (req.url !== '/v1/traces' && req.url !== '/v1/metrics')) {
        res.writeHead(404).end();
        return;
      }
      const type = String(req.headers['content-type']);
      const raw = Buffer.concat(chunks);
      if (type === 'application/x-protobuf') {
        // Kept as sent, not decoded: an empty message is a protobuf export's success reply.
        requests.push({ path: req.url, headers: req.headers, body: raw });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      if (!type.startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      requests.push({ path: req.url, headers: req.headers, body: raw });
      const body = JSON.parse(raw.toString('utf8'));
      if (req.url === '/v1/traces') {
        for (const rs of body.resourceSpans ?? []) {
          const resource = attrs(rs.resource?.attributes);
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                name: s.name,
                kind: typeof s.kind === 'number' ? s.kind : (SPAN_KINDS[s.kind] ?? 0),
                startNs: BigInt(s.startTimeUnixNano),
                endNs: BigInt(s.endTimeUnixNano),
                attributes: attrs(s.attributes),
                status: s.status?.code ?? 0,
                resource,
              });
            }
          }
        }
      } else {
        for (const rm of body.resourceMetrics ?? []) {
          const resource = attrs(rm.resource?.attributes);
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              const points = (m.histogram?.dataPoints ?? []).map(
                (p: { attributes?: { key: string; value: AnyValue }[]; count: number | string; sum: number }) => ({
                  metric: m.name,
                  unit: m.unit,
                  attributes: attrs(p.attributes),
                  count: Number(p.count),
                  sum: p.sum,
                  resource,
                }),
              );
              latest.set(m.name, points);
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...spans],
    points: () => [...latest.values()].flat(),
    requests: () => [...requests],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
