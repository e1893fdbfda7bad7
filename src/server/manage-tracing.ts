import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { TraceIds } from '../observability/access-log.js';
import { ATTR } from '../observability/otel/semconv.js';
import type { Telemetry } from '../observability/telemetry.js';

/**
 * A SERVER span per management request (`/manage/*`), named `{method} {route}` by the HTTP
 * conventions (`PATCH /manage/tokens/:id`) and continuing the client's W3C trace context. Loaded
 * only when tracing is on. Returns where the `request` log line finds the span's ids.
 */
export function traceManagement(
  app: FastifyInstance,
  telemetry: Telemetry,
  tracer: Tracer,
): (req: IncomingMessage) => TraceIds | undefined {
  const spans = new WeakMap<IncomingMessage, Span>();
  app.addHook('onRequest', async (req) => {
    const path = req.url.split('?', 1)[0] ?? req.url;
    if (path !== '/manage' && !path.startsWith('/manage/')) return;
    const span = tracer.startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        // A performance.now() time: microseconds, where the default is the wall clock's milliseconds.
        startTime: performance.now(),
        attributes: {
          [ATTR.httpMethod]: req.method,
          [ATTR.urlPath]: path,
          [ATTR.urlScheme]: 'http',
          [ATTR.clientAddress]: req.ip,
          [ATTR.requestId]: req.id,
        },
      },
      telemetry.extract(req.headers),
    );
    spans.set(req.raw, span);
  });
  const end = (raw: IncomingMessage, status: number | undefined, route: string | undefined, method: string) => {
    const span = spans.get(raw);
    if (!span?.isRecording()) return;
    if (route) {
      span.updateName(`${method} ${route}`);
      span.setAttribute(ATTR.httpRoute, route);
    }
    if (status === undefined) span.setAttribute(ATTR.errorType, 'client_aborted');
    else {
      span.setAttribute(ATTR.httpStatus, status);
      // Server spans are in error for 5xx only: a 4xx is the client's mistake (HTTP conventions).
      if (status >= 500) {
        span.setAttribute(ATTR.errorType, String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end(performance.now());
  };
  app.addHook('onResponse', async (req, reply) => end(req.raw, reply.statusCode, req.routeOptions.url, req.method));
  app.addHook('onRequestAbort', async (req) => end(req.raw, undefined, req.routeOptions.url, req.method));
  return (raw) => spans.get(raw)?.spanContext();
}
