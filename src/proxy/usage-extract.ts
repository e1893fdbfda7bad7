/** Token usage and outcome read from an upstream response, in one shape for every endpoint. */
export interface CapturedUsage {
  model: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  totalTokens: number | null;
  cachedTokens: number | null;
  reasoningTokens: number | null;
  finishReason: string | null;
  /** The body was a batch or a Responses API object: work that may finish later (src/jobs/). */
  job: JobRef | null;
}

/** A batch or response object seen in a body: enough to follow it (proxy/job-sightings.ts). */
export interface JobRef {
  kind: 'batch' | 'response';
  id: string;
  status: string;
  /** A response run with `background: true` (a batch always runs in the background). */
  background: boolean;
  /** A batch's endpoint and completion window. */
  endpoint: string | undefined;
  completionWindow: string | undefined;
}

export const emptyUsage = (): CapturedUsage => ({
  model: null,
  promptTokens: null,
  completionTokens: null,
  totalTokens: null,
  cachedTokens: null,
  reasoningTokens: null,
  finishReason: null,
  job: null,
});

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' ? (v as Obj) : undefined);

/**
 * Reads a `usage` object in any of OpenAI's dialects into `into`: chat/completions/embeddings
 * (`prompt_tokens`, `completion_tokens`, details), Responses and newer audio/image models
 * (`input_tokens`, `output_tokens`, details).
 */
export function readUsage(usage: unknown, into: CapturedUsage): void {
  const u = obj(usage);
  if (!u) return;
  const prompt = num(u.prompt_tokens) ?? num(u.input_tokens);
  const completion = num(u.completion_tokens) ?? num(u.output_tokens);
  const total = num(u.total_tokens);
  into.promptTokens = prompt;
  into.completionTokens = completion;
  into.totalTokens = total ?? (prompt !== null || completion !== null ? (prompt ?? 0) + (completion ?? 0) : null);
  const inDetails = obj(u.prompt_tokens_details) ?? obj(u.input_tokens_details);
  const outDetails = obj(u.completion_tokens_details) ?? obj(u.output_tokens_details);
  into.cachedTokens = num(inDetails?.cached_tokens);
  into.reasoningTokens = num(outDetails?.reasoning_tokens);
}

/** Reads model, usage and finish state from a parsed JSON body (chat, completions, embeddings, responses…). */
export function readBody(body: unknown, into: CapturedUsage): void {
  const b = obj(body);
  if (!b) return;
  if (typeof b.model === 'string') into.model = b.model;
  if (b.usage !== undefined && b.usage !== null) readUsage(b.usage, into);
  const choices = Array.isArray(b.choices) ? b.choices : undefined;
  const reason = obj(choices?.[0])?.finish_reason;
  if (typeof reason === 'string') into.finishReason = reason;
  if (typeof b.status !== 'string') return;
  if (b.object === 'response') into.finishReason = b.status;
  // A batch or response object is work that may finish later: enough of it to follow it (jobs/).
  if (typeof b.id !== 'string') return;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  if (b.object === 'response') {
    const background = b.background === true;
    into.job = {
      kind: 'response',
      id: b.id,
      status: b.status,
      background,
      endpoint: undefined,
      completionWindow: undefined,
    };
  } else if (b.object === 'batch') {
    const window = str(b.completion_window);
    into.job = {
      kind: 'batch',
      id: b.id,
      status: b.status,
      background: true,
      endpoint: str(b.endpoint),
      completionWindow: window,
    };
  }
}
