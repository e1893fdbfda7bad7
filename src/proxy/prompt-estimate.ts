/**
 * A request's prompt tokens, estimated from its JSON body when the upstream reported none (a
 * stream cut or left before its usage). OpenAI's rule of thumb: a token is about 4 characters of
 * text. Only the prompt's text counts (message contents, input items, instructions), not the JSON
 * around it or the request's settings, with the framing a chat format adds: 4 tokens per message
 * or input item, and 3 more to prime a chat reply. The upstream counts with its tokenizer, so this
 * is an estimate and the record says so; it costs a walk of the body on that rare path only.
 */
export function estimatePromptTokens(path: string, body: Record<string, unknown>): number | null {
  if (path.endsWith('/chat/completions')) {
    const messages = body.messages;
    if (!Array.isArray(messages)) return null;
    return messages.reduce((n: number, m) => n + MESSAGE_FRAME + textTokens(m), REPLY_PRIMING);
  }
  if (path.endsWith('/responses')) {
    const items = Array.isArray(body.input) ? body.input.length : 1;
    return textTokens(body.input) + textTokens(body.instructions) + MESSAGE_FRAME * items;
  }
  if (path.endsWith('/completions')) return textTokens(body.prompt);
  if (path.endsWith('/embeddings')) return textTokens(body.input);
  return null;
}

const MESSAGE_FRAME = 4;
const REPLY_PRIMING = 3;

/**
 * ceil(characters / 4) per string, 1 per token id (a number), summed over arrays and over the
 * `content` and `text` of objects (messages, content parts, input items).
 */
function textTokens(value: unknown): number {
  if (typeof value === 'string') return Math.ceil(value.length / 4);
  if (typeof value === 'number') return 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textTokens(v), 0);
  if (typeof value === 'object' && value !== null) {
    const { content, text } = value as { content?: unknown; text?: unknown };
    return textTokens(content) + textTokens(text);
  }
  return 0;
}
