import { performance } from 'node:perf_hooks';
import {
  type Attributes,
  type HrTime,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { AppError } from '../errors.js';
import { ATTR, genAiOperation, PROVIDER } from '../observability/otel/semconv.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { UsageRecord } from '../usage/usage-writer.js';
import type { Admitted } from './admission.js';
import type { ProxyHooks, RealtimeSessionRef } from './hooks.js';
import type { ProxyRequest } from './proxy-request.js';

/** What the hooks keep of one request between its points. */
interface RequestTelemetry {
  /** Wall-clock milliseconds at performance.now() = 0, taken once so that all the request's spans share one clock. */
  epochMs: number;
  operation: string;
  requestModel: string | null;
  server: Span | undefined;
  client: Span | undefined;
}

/**
 * The proxy's OpenTelemetry hooks (loaded only when tracing or OTLP metrics are on): a SERVER span
 * per request named and attributed by the GenAI conventions (`chat gpt-4o`), continuing the
 * client's W3C trace context; a CLIENT child span per upstream attempt whose context travels
 * upstream as `traceparent`; the GenAI metrics at the end. Times are the proxy's own measurements
 * (performance.now() from the request's arrival), so spans and the usage record agree.
 */
export function telemetryHooks(t: Telemetry): ProxyHooks {
  const { tracer, genAi } = t;
  const requests = new WeakMap<ProxyRequest, RequestTelemetry>();
  // Upstream origins are few (one per distinct base_url): parsed once each.
  const origins = new Map<string, { origin: string; host: string; port: number }>();
  const upstream = (origin: string) => {
    let o = origins.get(origin);
    if (!o) {
      const u = new URL(origin);
      o = { origin: u.origin, host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
      origins.set(origin, o);
    }
    return o;
  };

  const start = (pr: ProxyRequest): void => {
    const operation = genAiOperation(pr.family);
    let epochMs = 0;
    let server: Span | undefined;
    if (tracer) {
      epochMs = Date.now() - performance.now();
      const ua = pr.req.headers['user-agent'];
      server = tracer.startSpan(
        operation,
        {
          kind: SpanKind.SERVER,
          startTime: at(epochMs, pr.t0),
          attributes: {
            [ATTR.genAiOperation]: operation,
            [ATTR.genAiProvider]: PROVIDER,
            [ATTR.httpMethod]: pr.method,
            [ATTR.urlPath]: pr.path,
            [ATTR.urlScheme]: 'http',
            [ATTR.requestId]: pr.id,
            [ATTR.clientAddress]: pr.clientIp,
            [ATTR.userAgent]: typeof ua === 'string' ? ua.slice(0, 200) : undefined,
          },
        },
        t.extract(pr.req.headers),
      );
      pr.trace = server.spanContext();
    }
    requests.set(pr, { epochMs, operation, requestModel: null, server, client: undefined });
  };

  const admitted = (pr: ProxyRequest, a: Admitted): void => {
    const r = requests.get(pr);
    if (!r) return;
    // The body is parsed for its model only if the proxy read it anyway (never read for this).
    r.requestModel = (a.facts ?? a.body?.facts())?.model ?? null;
    const { server } = r;
    if (!server?.isRecording()) return;
    server.updateName(spanName(r));
    server.setAttributes({
      [ATTR.genAiRequestModel]: r.requestModel ?? undefined,
      [ATTR.tokenId]: pr.identity?.tokenId,
      [ATTR.projectId]: pr.identity?.projectId,
    });
  };

  const upstreamRequest = (pr: ProxyRequest, headers: Record<string, string | string[]>): void => {
    const r = requests.get(pr);
    if (!r?.server || !tracer) return;
    // Whatever trace context the client sent is replaced by ours, which continues it.
    delete headers.traceparent;
    delete headers.tracestate;
    const origin = pr.upstreamKey ? upstream(pr.upstreamKey.origin) : undefined;
    // A retry (failover.ts) ends the failed attempt's span: each attempt is a client span of its own.
    if (r.client) {
      r.client.setStatus({ code: SpanStatusCode.ERROR });
      r.client.end(at(r.epochMs, performance.now()));
    }
    r.client = tracer.startSpan(
      spanName(r),
      {
        kind: SpanKind.CLIENT,
        startTime: at(r.epochMs, performance.now()),
        attributes: {
          [ATTR.genAiOperation]: r.operation,
          [ATTR.genAiProvider]: PROVIDER,
          [ATTR.genAiRequestModel]: r.requestModel ?? undefined,
          [ATTR.httpMethod]: pr.method,
          [ATTR.serverAddress]: origin?.host,
          [ATTR.serverPort]: origin?.port,
          [ATTR.urlFull]: origin ? `${origin.origin}${pr.upstreamKey?.prefix ?? ''}${pr.path}` : undefined,
          // OpenTelemetry's HTTP conventions: the ordinal of a resend, on every attempt after the first.
          'http.request.resend_count': pr.retries > 0 ? pr.retries : undefined,
        },
      },
      // The server span as parent, passed explicitly: no context manager, no async hooks.
      trace.setSpan(ROOT_CONTEXT, r.server),
    );
    t.inject(r.client, headers);
  };

  const refused = (pr: ProxyRequest, err: AppError): void => {
    const r = requests.get(pr);
    if (!r) return;
    requests.delete(pr);
    const now = performance.now();
    const { server } = r;
    if (server?.isRecording()) {
      server.setAttributes({
        [ATTR.httpStatus]: err.status,
        [ATTR.errorType]: err.code,
        [ATTR.tokenId]: pr.identity?.tokenId,
        [ATTR.projectId]: pr.identity?.projectId,
      });
      if (err.status >= 500) server.setStatus({ code: SpanStatusCode.ERROR, message: err.code });
    }
    server?.end(at(r.epochMs, now));
    genAi?.record({
      operation: r.operation,
      requestModel: r.requestModel,
      responseModel: null,
      errorType: err.code,
      durationMs: now - pr.t0,
      stream: false,
      ttfbMs: null,
      inputTokens: null,
      outputTokens: null,
    });
  };

  const left = (pr: ProxyRequest): void => {
    const r = requests.get(pr);
    if (!r) return;
    requests.delete(pr);
    r.server?.setAttribute(ATTR.errorType, 'client_aborted');
    r.server?.end(at(r.epochMs, performance.now()));
  };

  const end = (pr: ProxyRequest, rec: UsageRecord): void => {
    const r = requests.get(pr);
    if (!r) return;
    requests.delete(pr);
    const now = at(r.epochMs, performance.now());
    const errorType = rec.error ?? (rec.status >= 400 ? String(rec.status) : undefined);
    const { client, server } = r;
    if (client?.isRecording()) {
      client.setAttributes(genAiOutcome(rec));
      // A leg that failed before any answer has no status of the upstream's to report.
      if (rec.upstreamMs !== null) client.setAttribute(ATTR.httpStatus, rec.status);
      if (errorType !== undefined) {
        client.setAttribute(ATTR.errorType, errorType);
        client.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
      }
    }
    client?.end(now);
    if (server?.isRecording()) {
      server.setAttributes(genAiOutcome(rec));
      server.setAttributes(proxyOutcome(rec));
      server.setAttribute(ATTR.httpStatus, rec.status);
      if (errorType !== undefined) server.setAttribute(ATTR.errorType, errorType);
      // A server span is in error for its 5xx and for a response cut short, not for the client's 4xx.
      if (rec.status >= 500 || (rec.error !== null && rec.error !== 'client_aborted')) {
        server.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
      }
    }
    server?.end(now);
    genAi?.record({
      operation: r.operation,
      requestModel: r.requestModel,
      responseModel: rec.model,
      errorType,
      durationMs: rec.durationMs,
      stream: rec.stream,
      ttfbMs: rec.ttfbMs,
      inputTokens: rec.promptTokens,
      outputTokens: rec.completionTokens,
    });
  };

  /**
   * Realtime API sessions: a SERVER span per session from its upgrade request to its close (its
   * record's attributes, continuing the client's trace context), with an INTERNAL child span per
   * response; the GenAI metrics per response. The session span is started, back-dated to the
   * upgrade, when its first record comes, so an idle session costs nothing here.
   */
  const sessions = new Map<string, { epochMs: number; span: Span }>();
  const realtime = (s: RealtimeSessionRef, rec: UsageRecord): void => {
    const now = performance.now();
    const operation = genAiOperation('realtime');
    if (s.kind === 'response') {
      genAi?.record({
        operation,
        requestModel: rec.model,
        responseModel: rec.model,
        errorType: rec.error ?? undefined,
        durationMs: rec.durationMs,
        stream: false,
        ttfbMs: null,
        inputTokens: rec.promptTokens,
        outputTokens: rec.completionTokens,
      });
    }
    if (!tracer) return;
    let session = sessions.get(s.id);
    if (!session) {
      const epochMs = Date.now() - now;
      const ua = s.headers['user-agent'];
      const span = tracer.startSpan(
        rec.model === null ? operation : `${operation} ${rec.model}`,
        {
          kind: SpanKind.SERVER,
          startTime: at(epochMs, s.t0),
          attributes: {
            [ATTR.genAiOperation]: operation,
            [ATTR.genAiProvider]: PROVIDER,
            [ATTR.genAiRequestModel]: rec.model ?? undefined,
            [ATTR.httpMethod]: 'GET',
            [ATTR.urlPath]: rec.path,
            [ATTR.requestId]: s.id,
            [ATTR.clientAddress]: s.clientIp,
            [ATTR.userAgent]: typeof ua === 'string' ? ua.slice(0, 200) : undefined,
            [ATTR.tokenId]: rec.tokenId,
            [ATTR.projectId]: rec.projectId,
          },
        },
        t.extract(s.headers),
      );
      session = { epochMs, span };
      sessions.set(s.id, session);
    }
    const { span, epochMs } = session;
    if (s.kind === 'response') {
      const child = tracer.startSpan(
        'realtime.response',
        {
          kind: SpanKind.INTERNAL,
          startTime: at(epochMs, now - rec.durationMs),
          attributes: { ...genAiOutcome(rec), ...proxyOutcome(rec), [ATTR.requestId]: rec.id },
        },
        trace.setSpan(ROOT_CONTEXT, span),
      );
      if (rec.error !== null) child.setStatus({ code: SpanStatusCode.ERROR, message: rec.error });
      child.end(at(epochMs, now));
      return;
    }
    sessions.delete(s.id);
    if (span.isRecording()) {
      span.setAttributes(proxyOutcome(rec));
      span.setAttribute(ATTR.httpStatus, rec.status);
      // The close code, as the session record has it in finish_reason (close_1000).
      if (rec.finishReason !== null) span.setAttribute(ATTR.genAiFinishReasons, [rec.finishReason]);
      if (rec.error !== null) span.setAttribute(ATTR.errorType, rec.error);
      // In error when the upstream failed it, not when the proxy closed it for a limit or a token.
      if (rec.status >= 500 || rec.error?.startsWith('upstream_')) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: rec.error ?? String(rec.status) });
      }
    }
    span.end(at(epochMs, now));
  };

  const hooks: ProxyHooks = { start, admitted, refused, left, end, realtime };
  if (tracer) hooks.upstreamRequest = upstreamRequest;
  return hooks;
}

/**
 * A performance.now() time on the wall clock of the request. The SDK would convert each span's
 * times with an offset of its own, taken in whole milliseconds, so a client span could end
 * "after" its parent; one offset per request keeps its spans in order to the microsecond.
 */
function at(epochMs: number, perf: number): HrTime {
  return millisToHrTime(epochMs + perf);
}

/** `{gen_ai.operation.name} {gen_ai.request.model}`, or the operation alone while the model is unknown. */
function spanName(r: RequestTelemetry): string {
  return r.requestModel === null ? r.operation : `${r.operation} ${r.requestModel}`;
}

/** The GenAI attributes of how an exchange ended, on both of its spans. */
function genAiOutcome(rec: UsageRecord): Attributes {
  return {
    [ATTR.genAiResponseModel]: rec.model ?? undefined,
    [ATTR.genAiInputTokens]: rec.promptTokens ?? undefined,
    [ATTR.genAiOutputTokens]: rec.completionTokens ?? undefined,
    [ATTR.genAiFinishReasons]: rec.finishReason === null ? undefined : [rec.finishReason],
  };
}

/**
 * The rest of the usage record, on the server span only: every attribute is serialised and sent
 * per span, so the client span does not repeat them.
 */
function proxyOutcome(rec: UsageRecord): Attributes {
  return {
    [ATTR.genAiRequestStream]: rec.stream,
    [ATTR.genAiCachedInputTokens]: rec.cachedTokens ?? undefined,
    [ATTR.genAiReasoningTokens]: rec.reasoningTokens ?? undefined,
    [ATTR.genAiTimeToFirstChunk]: rec.stream && rec.ttfbMs !== null ? rec.ttfbMs / 1000 : undefined,
    [ATTR.usageStatus]: rec.usageStatus,
    [ATTR.costUsd]: rec.costNanoUsd === null ? undefined : rec.costNanoUsd / 1e9,
  };
}
