import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import { LabelCap } from '../label-cap.js';
import { ATTR, METRIC, PROVIDER } from './semconv.js';

/** One request's end, as the GenAI metrics see it. */
export interface GenAiRequestEnd {
  operation: string;
  requestModel: string | null;
  responseModel: string | null;
  /** Set when the request failed: the proxy's error code, or the upstream's status code. */
  errorType: string | undefined;
  durationMs: number;
  /** The response was an event stream: its first byte is the first token. */
  stream: boolean;
  ttfbMs: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
}

/**
 * The OpenTelemetry GenAI metrics, with the bucket boundaries the conventions advise. Model names
 * come from clients and upstreams, so they are capped like the Prometheus labels
 * (METRICS_MAX_LABEL_VALUES distinct names, the rest `other`): an attribute set per series.
 */
export class GenAiMetrics {
  private readonly tokens: Histogram;
  private readonly duration: Histogram;
  private readonly ttft: Histogram;
  private readonly perToken: Histogram;
  private readonly models: LabelCap;

  constructor(meter: Meter, maxLabelValues: number) {
    this.models = new LabelCap(maxLabelValues);
    this.tokens = meter.createHistogram(METRIC.tokenUsage, {
      description: 'Tokens used per request, by gen_ai.token.type (input, output).',
      unit: '{token}',
      advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304] },
    });
    this.duration = meter.createHistogram(METRIC.requestDuration, {
      description: 'Whole request through the proxy, as the client saw it.',
      unit: 's',
      advice: {
        explicitBucketBoundaries: [
          0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
        ],
      },
    });
    this.ttft = meter.createHistogram(METRIC.timeToFirstToken, {
      description: 'Time to the first token of a streamed response that succeeded.',
      unit: 's',
      advice: {
        explicitBucketBoundaries: [
          0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
        ],
      },
    });
    this.perToken = meter.createHistogram(METRIC.timePerOutputToken, {
      description: 'Time per output token after the first, for streamed responses that succeeded.',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5] },
    });
  }

  record(e: GenAiRequestEnd): void {
    const attrs: Attributes = { [ATTR.genAiOperation]: e.operation, [ATTR.genAiProvider]: PROVIDER };
    if (e.requestModel !== null) attrs[ATTR.genAiRequestModel] = this.models.value(e.requestModel);
    if (e.responseModel !== null) attrs[ATTR.genAiResponseModel] = this.models.value(e.responseModel);
    if (e.errorType !== undefined) attrs[ATTR.errorType] = e.errorType;
    this.duration.record(e.durationMs / 1000, attrs);
    if (e.inputTokens !== null) this.tokens.record(e.inputTokens, { ...attrs, [ATTR.genAiTokenType]: 'input' });
    if (e.outputTokens !== null) this.tokens.record(e.outputTokens, { ...attrs, [ATTR.genAiTokenType]: 'output' });
    if (!e.stream || e.errorType !== undefined || e.ttfbMs === null) return;
    this.ttft.record(e.ttfbMs / 1000, attrs);
    if (e.outputTokens !== null && e.outputTokens > 1) {
      this.perToken.record((e.durationMs - e.ttfbMs) / 1000 / (e.outputTokens - 1), attrs);
    }
  }
}
