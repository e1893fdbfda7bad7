/**
 * The OpenTelemetry semantic-convention names llm-proxy emits (GenAI, HTTP, error). The GenAI ones
 * are still "development" in the specification, so they are spelled out here rather than taken
 * from the incubating entry point of @opentelemetry/semantic-conventions, whose exports may change
 * in any minor release (the advice of that package for exactly this case).
 */
export const ATTR = {
  genAiOperation: 'gen_ai.operation.name',
  genAiProvider: 'gen_ai.provider.name',
  genAiRequestModel: 'gen_ai.request.model',
  genAiRequestStream: 'gen_ai.request.stream',
  genAiResponseModel: 'gen_ai.response.model',
  genAiFinishReasons: 'gen_ai.response.finish_reasons',
  genAiTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  genAiInputTokens: 'gen_ai.usage.input_tokens',
  genAiOutputTokens: 'gen_ai.usage.output_tokens',
  genAiCachedInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  genAiReasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  genAiTokenType: 'gen_ai.token.type',
  errorType: 'error.type',
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
  httpRoute: 'http.route',
  urlPath: 'url.path',
  urlScheme: 'url.scheme',
  urlFull: 'url.full',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  clientAddress: 'client.address',
  userAgent: 'user_agent.original',
  /** llm-proxy's own, under its own namespace. */
  requestId: 'llm_proxy.request.id',
  tokenId: 'llm_proxy.token.id',
  projectId: 'llm_proxy.project.id',
  usageStatus: 'llm_proxy.usage.status',
  costUsd: 'llm_proxy.cost.usd',
} as const;

/** gen_ai.provider.name: the proxy speaks OpenAI's API to whatever upstream it is given. */
export const PROVIDER = 'openai';

/** The GenAI metric instruments. */
export const METRIC = {
  tokenUsage: 'gen_ai.client.token.usage',
  requestDuration: 'gen_ai.server.request.duration',
  timeToFirstToken: 'gen_ai.server.time_to_first_token',
  timePerOutputToken: 'gen_ai.server.time_per_output_token',
} as const;

/**
 * gen_ai.operation.name by endpoint family: the specification's names where one applies, the
 * family itself (a bounded set) for the rest of OpenAI's API (images, audio, files…).
 */
export function genAiOperation(family: string): string {
  switch (family) {
    case 'chat.completions':
    case 'responses':
      return 'chat';
    case 'completions':
      return 'text_completion';
    case 'embeddings':
      return 'embeddings';
    default:
      return family;
  }
}
