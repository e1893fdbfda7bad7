import { type JsonObject, optionalCount, readJson, requireString } from './body.js';
import { invalidRequest, missingParam } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { billRequest } from './ledger.js';
import { countTokens } from './text.js';

// Real sizes for OpenAI's models; anything else gets a small vector to keep test payloads light.
const DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};
const OTHER_DIMENSIONS = 8;

type Input = string | number[];

const isTokenArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => typeof n === 'number');

/** `input` is string | string[] | number[] | number[][]; each entry gets one embedding. */
function inputs(input: unknown): Input[] {
  if (input === undefined) throw missingParam('input');
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0) {
    if (isTokenArray(input)) return [input];
    if (input.every((v) => typeof v === 'string' || isTokenArray(v))) return input as Input[];
  }
  throw invalidRequest(
    "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
    'input',
  );
}

/** A unit vector seeded by the input, so equal inputs embed equally. */
function embed(input: Input, dimensions: number): Float32Array {
  // FNV-1a over the input, then xorshift32 for the components.
  let seed = 0x811c9dc5;
  for (const unit of typeof input === 'string' ? Array.from(input, (c) => c.codePointAt(0) ?? 0) : input) {
    seed = Math.imul(seed ^ unit, 0x01000193);
  }
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const value = (seed >>> 0) / 0x80000000 - 1;
    vector[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) vector[i] = (vector[i] ?? 0) * scale;
  return vector;
}

function base64(vector: Float32Array): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (const [i, v] of vector.entries()) bytes.writeFloatLE(v, i * 4);
  return bytes.toString('base64');
}

export async function embeddings(ctx: Ctx): Promise<void> {
  const answer = embeddingsAnswer(await readJson(ctx));
  billRequest(ctx, { model: answer.model, usage: answer.usage });
  sendJson(ctx, answer);
}

/** The JSON answer of an embeddings request: the live endpoint's and a batch line's (batch-runner.ts). */
export function embeddingsAnswer(body: JsonObject) {
  const model = requireString(body, 'model');
  const entries = inputs(body.input);
  const dimensions = optionalCount(body, 'dimensions', DIMENSIONS[model] ?? OTHER_DIMENSIONS, 65_536);
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw invalidRequest("Invalid 'encoding_format': expected 'float' or 'base64'.", 'encoding_format');
  }
  const tokens = countTokens(entries);
  return {
    object: 'list',
    data: entries.map((entry, index) => {
      const vector = embed(entry, dimensions);
      return { object: 'embedding', index, embedding: format === 'base64' ? base64(vector) : Array.from(vector) };
    }),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
