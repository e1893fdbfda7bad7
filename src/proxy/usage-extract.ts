import type { BilledUnits } from '../usage/pricing.js';

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
  /** The response's `service_tier`. */
  serviceTier: string | null;
  /** Units billed besides text tokens (images, seconds, tool calls, audio and image tokens); null while none was seen. */
  units: BilledUnits | null;
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
  serviceTier: null,
  units: null,
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
  // Transcriptions name theirs `input_token_details`.
  const inDetails = obj(u.prompt_tokens_details) ?? obj(u.input_tokens_details) ?? obj(u.input_token_details);
  const outDetails = obj(u.completion_tokens_details) ?? obj(u.output_tokens_details) ?? obj(u.output_token_details);
  into.cachedTokens = num(inDetails?.cached_tokens);
  into.reasoningTokens = num(outDetails?.reasoning_tokens);
  // Audio and image tokens, priced at their own rates: read only where the details carry them
  // (a units object is made only for a non-zero count, so a text-only chat allocates nothing).
  if (inDetails) {
    addUnit(into, 'audio_input_tokens', inDetails.audio_tokens);
    addUnit(into, 'image_input_tokens', inDetails.image_tokens);
    const cached = obj(inDetails.cached_tokens_details);
    if (cached) {
      addUnit(into, 'cached_audio_input_tokens', cached.audio_tokens);
      addUnit(into, 'cached_image_input_tokens', cached.image_tokens);
    }
  }
  if (outDetails) {
    addUnit(into, 'audio_output_tokens', outDetails.audio_tokens);
    addUnit(into, 'image_output_tokens', outDetails.image_tokens);
  }
  // Transcriptions billed by the minute (whisper-1): `{ "type": "duration", "seconds": 12 }`.
  if (u.type === 'duration') addUnit(into, 'seconds', u.seconds);
}

type NumericUnit = {
  [K in keyof BilledUnits]-?: BilledUnits[K] extends number | undefined ? K : never;
}[keyof BilledUnits];

/** The usage's units, made on first need. */
export function unitsOf(into: CapturedUsage): BilledUnits {
  if (into.units === null) into.units = {};
  return into.units;
}

/** Sets a unit when `v` is a positive number (the last report wins, as for tokens). */
function addUnit(into: CapturedUsage, key: NumericUnit, v: unknown): void {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) return;
  unitsOf(into)[key] = v;
}

/** Adds to a count unit (a streamed image, images counted in a large body). */
export function countUnit(into: CapturedUsage, key: NumericUnit, by = 1): void {
  const units = unitsOf(into);
  units[key] = (units[key] ?? 0) + by;
}

/**
 * The billed tool calls among a response's output items: web and file searches per call, code
 * interpreter per container (OpenAI bills a container, however many calls run in it).
 */
function readToolCalls(output: unknown[], into: CapturedUsage): void {
  let webSearch = 0;
  let fileSearch = 0;
  let containers: Set<unknown> | undefined;
  for (const item of output) {
    const type = obj(item)?.type;
    if (type === 'web_search_call') webSearch++;
    else if (type === 'file_search_call') fileSearch++;
    else if (type === 'code_interpreter_call') {
      if (!containers) containers = new Set();
      containers.add((item as Obj).container_id ?? item);
    }
  }
  // Set, not added: the whole output is read each time a response object is (a stream's last event).
  addUnit(into, 'web_search', webSearch);
  addUnit(into, 'file_search', fileSearch);
  if (containers) addUnit(into, 'code_interpreter', containers.size);
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
  if (typeof b.service_tier === 'string') into.serviceTier = b.service_tier;
  if (b.object === 'response') {
    if (typeof b.status === 'string') into.finishReason = b.status;
    if (Array.isArray(b.output)) readToolCalls(b.output, into);
  } else if (b.object === undefined) readMediaBody(b, into);
  // A batch or response object is work that may finish later: enough of it to follow it (jobs/).
  if (typeof b.status !== 'string' || typeof b.id !== 'string') return;
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

/**
 * Image and transcription responses, which carry no `object`: images generated (`data`, with the
 * size and quality the upstream reports), and the seconds of a `verbose_json` transcription.
 */
function readMediaBody(b: Obj, into: CapturedUsage): void {
  if (Array.isArray(b.data) && typeof b.created === 'number') {
    if (b.data.length > 0) addUnit(into, 'images', b.data.length);
    if (typeof b.size === 'string') unitsOf(into).size = b.size;
    if (typeof b.quality === 'string') unitsOf(into).quality = b.quality;
  } else if (typeof b.task === 'string' && into.units?.seconds === undefined) addUnit(into, 'seconds', b.duration);
}
