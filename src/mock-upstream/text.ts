import { randomBytes } from 'node:crypto';

export const randomId = (prefix: string, bytes = 12): string => prefix + randomBytes(bytes).toString('hex');

export const unixSeconds = (): number => Math.floor(Date.now() / 1000);

const WORDS =
  'This is a deterministic reply from the llm-proxy mock upstream, one word per chunk so tests can count tokens exactly.'.split(
    ' ',
  );

export interface Completion {
  /** One piece per SSE content chunk; each is one completion token. */
  readonly pieces: readonly string[];
  /** The pieces as JSON string literals, for splicing into precomputed frames. */
  readonly quoted: readonly string[];
  readonly text: string;
}

const completions = new Map<number, Completion>();

/** The reply for `chunks` chunks; memoised, since a mock serves few distinct sizes. */
export function completion(chunks: number): Completion {
  let found = completions.get(chunks);
  if (!found) {
    const pieces = Array.from({ length: chunks }, (_, i) => (i ? ' ' : '') + WORDS[i % WORDS.length]);
    found = { pieces, quoted: pieces.map((p) => JSON.stringify(p)), text: pieces.join('') };
    completions.set(chunks, found);
  }
  return found;
}

/**
 * Deterministic token estimate: ceil(chars / 4) per string, 1 per token id (number), summed over
 * arrays and over the `content` and `text` of objects (messages, content parts, input items).
 */
export function countTokens(value: unknown): number {
  if (typeof value === 'string') return Math.ceil(value.length / 4);
  if (typeof value === 'number') return 1;
  if (Array.isArray(value)) return value.reduce((sum: number, v) => sum + countTokens(v), 0);
  if (typeof value === 'object' && value !== null) {
    const { content, text } = value as { content?: unknown; text?: unknown };
    return countTokens(content) + countTokens(text);
  }
  return 0;
}

/** Chat-style prompt size: per-message overhead of 4, plus 3 to prime the reply. */
export const messagesTokens = (messages: readonly unknown[]): number =>
  messages.reduce((sum: number, m) => sum + 4 + countTokens(m), 3);
