import { INCLUDE_USAGE_PATHS } from './include-usage.js';

/**
 * Longest model name the proxy reads (OpenAI's are under 100 characters, fine-tuned ones included).
 * A longer one is refused where the proxy must read the model, and never stored or matched.
 */
export const MAX_MODEL_LENGTH = 256;

/** Request bodies up to this size are read when a limit or rewrite needs what is inside. */
export const MAX_INSPECTED_BODY = 16 * 1024 * 1024;

/**
 * Endpoints whose responses report usage but not the model, or not all that is billed
 * (transcriptions, speech, images): their bodies are read (parsed only if needed) so that usage is
 * priced by the request's model, speech by its characters, images by their size and quality.
 */
const MODEL_IN_REQUEST_ONLY = new Set([
  '/v1/audio/transcriptions',
  '/v1/audio/translations',
  '/v1/audio/speech',
  '/v1/images/generations',
  '/v1/images/edits',
  '/v1/images/variations',
]);

/** What the proxy reads from a request body without changing it. */
export interface BodyFacts {
  model: string | undefined;
  /** The body named a model longer than MAX_MODEL_LENGTH (then `model` is undefined). */
  modelTooLong: boolean;
  /** max_tokens / max_completion_tokens / max_output_tokens, when set. */
  maxOutputTokens: number | undefined;
  /** Completions generated, each up to the maximum: `n` (chat, completions) or `best_of` (completions). */
  choices: number;
  bytes: number;
  /** Images: `size` and `quality` asked for. */
  size?: string;
  quality?: string;
  /** Speech: characters of `input`. */
  characters?: number;
  /** The `service_tier` asked for (`flex`, `priority`…). */
  serviceTier?: string;
}

/** How a request's body travels: decided once, before anything is read (see `bodyPlan`). */
export interface BodyPlan {
  /** Read the whole body before forwarding (a check, an estimate or a rewrite needs it). */
  read: boolean;
  /** A streamed completion may get `stream_options.include_usage` added (include-usage.ts). */
  includeUsage: boolean;
}

/**
 * The one place that decides whether a body is read: when a limit or allowlist needs what is
 * inside (`inspect`), when only the request names the model (so usage can be priced), or when a
 * streamed completion may need include_usage. Chunked and oversized bodies are streamed as they are.
 */
export function bodyPlan(
  method: string,
  path: string,
  contentType: string,
  declared: number,
  chunked: boolean,
  inspect: boolean,
  streamIncludeUsage: boolean,
): BodyPlan {
  const readable = !chunked && declared > 0 && declared <= MAX_INSPECTED_BODY;
  const post = method === 'POST';
  const includeUsage =
    readable && streamIncludeUsage && post && INCLUDE_USAGE_PATHS.has(path) && contentType.includes('json');
  return { read: readable && (inspect || includeUsage || (post && MODEL_IN_REQUEST_ONLY.has(path))), includeUsage };
}

/**
 * A request body read whole: its bytes as received, and what they say, parsed at most once, on
 * first use (most requests only need the bytes).
 */
export class RequestBody {
  private json: Record<string, unknown> | null | undefined;
  private parsedFacts: BodyFacts | undefined;

  constructor(
    readonly bytes: Buffer,
    private readonly contentType: string,
  ) {}

  /** The body as a JSON object; null when it is not one. Parsed once. */
  object(): Record<string, unknown> | null {
    if (this.json !== undefined) return this.json;
    this.json = null;
    if (!this.contentType.includes('json')) return null;
    try {
      const v: unknown = JSON.parse(this.bytes.toString('utf8'));
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) this.json = v as Record<string, unknown>;
    } catch {}
    return this.json;
  }

  /**
   * Model and output cap from a JSON body, or the `model` field of a multipart form. Anything
   * unreadable yields no model (the upstream judges the body).
   */
  facts(): BodyFacts {
    if (this.parsedFacts) return this.parsedFacts;
    const facts: BodyFacts = {
      model: undefined,
      modelTooLong: false,
      maxOutputTokens: undefined,
      choices: 1,
      bytes: this.bytes.length,
    };
    const json = this.object();
    if (json) {
      if (typeof json.model === 'string') facts.model = json.model;
      for (const k of ['max_completion_tokens', 'max_tokens', 'max_output_tokens']) {
        if (typeof json[k] === 'number') {
          facts.maxOutputTokens = json[k] as number;
          break;
        }
      }
      for (const k of ['n', 'best_of']) {
        const v = json[k];
        if (typeof v === 'number' && Number.isInteger(v) && v > facts.choices) facts.choices = v;
      }
      if (typeof json.size === 'string') facts.size = json.size;
      if (typeof json.quality === 'string') facts.quality = json.quality;
      if (typeof json.input === 'string' && typeof json.voice === 'string') facts.characters = json.input.length;
      if (typeof json.service_tier === 'string') facts.serviceTier = json.service_tier;
    } else if (this.contentType.startsWith('multipart/form-data')) {
      const fields = multipartFields(this.bytes, this.contentType);
      facts.model = fields.model;
      const n = Number(fields.n);
      if (Number.isInteger(n) && n > 1) facts.choices = n;
      if (fields.size !== undefined) facts.size = fields.size;
      if (fields.quality !== undefined) facts.quality = fields.quality;
    }
    if (facts.model !== undefined && facts.model.length > MAX_MODEL_LENGTH) {
      facts.model = undefined;
      facts.modelTooLong = true;
    }
    this.parsedFacts = facts;
    return facts;
  }
}

/** The form fields the proxy reads: the model, and what prices an image request. */
const FORM_FIELDS = ['model', 'n', 'size', 'quality'] as const;
type FormField = (typeof FORM_FIELDS)[number];
const NAMED = FORM_FIELDS.map((n) => [n, new RegExp(`;\\s*name\\s*=\\s*(?:"${n}"|${n})\\s*(?:;|$)`, 'i')] as const);

/**
 * The values of small text fields in a multipart body (the model name, an image request's n, size
 * and quality), read as latin1-safe text. Only the `name` parameter of a part's
 * Content-Disposition counts (not `filename="model"`), and a field sent twice is unreadable: which
 * copy the upstream would use cannot be known.
 */
function multipartFields(body: Buffer, contentType: string): Partial<Record<FormField, string>> {
  const out: Partial<Record<FormField, string>> = {};
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) return out;
  const text = body.toString('latin1');
  const twice = new Set<FormField>();
  for (const part of text.split(`--${boundary}`)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd === -1) continue;
    const disposition = /^content-disposition:(.*)$/im.exec(part.slice(0, headerEnd))?.[1];
    if (disposition === undefined) continue;
    const name = NAMED.find(([, named]) => named.test(disposition))?.[0];
    if (name === undefined) continue;
    if (out[name] !== undefined) twice.add(name);
    out[name] = Buffer.from(part.slice(headerEnd + 4).replace(/\r\n$/, ''), 'latin1')
      .toString('utf8')
      .trim();
  }
  for (const name of twice) delete out[name];
  return out;
}
