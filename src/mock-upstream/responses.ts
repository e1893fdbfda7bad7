import { startBackground } from './background.js';
import { type JsonObject, readJson, requireString } from './body.js';
import { servedTier } from './chat.js';
import { missingParam } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { billRequest, piecesSent } from './ledger.js';
import type { AnswerSettings } from './options.js';
import { sendSse } from './sse.js';
import { completion, countTokens, randomId, unixSeconds } from './text.js';

function inputTokens(body: JsonObject): number {
  const items = Array.isArray(body.input) ? body.input.length : 1;
  return countTokens(body.input) + countTokens(body.instructions) + 4 * items;
}

/** The `response` object; request settings are echoed as OpenAI does. */
function responseObject(
  body: JsonObject,
  id: string,
  model: string,
  status: string,
  output: unknown[],
  usage: unknown,
) {
  return {
    id,
    object: 'response',
    created_at: unixSeconds(),
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    service_tier: servedTier(body),
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? 'disabled',
    usage,
    user: null,
    metadata: body.metadata ?? {},
  };
}

interface Answer {
  done: ReturnType<typeof responseObject>;
  message: { id: string; type: string; status: string; role: string; content: unknown[] };
  part: { type: string; annotations: unknown[]; logprobs: unknown[]; text: string };
  /** The hosted tool calls before the message, each an output item. */
  calls: object[];
  quoted: readonly string[];
  /** The usage had only the first `pieces` text deltas gone out (a stream ended early). */
  usageOf: (pieces: number) => ResponseUsage;
}

type ResponseUsage = ReturnType<typeof responseUsage>;

/** Reasoning tokens count in output_tokens, as OpenAI reports them. */
function responseUsage(input: number, pieces: number, s: AnswerSettings) {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: Math.min(s.cachedTokens, input) },
    output_tokens: pieces + s.reasoningTokens,
    output_tokens_details: { reasoning_tokens: s.reasoningTokens },
    total_tokens: input + pieces + s.reasoningTokens,
  };
}

/**
 * One call of each hosted tool the request offers, as the output items OpenAI bills per call:
 * `web_search_call`, `file_search_call`, and a `code_interpreter_call` in a container.
 */
function toolCalls(body: JsonObject): object[] {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  const calls: object[] = [];
  for (const tool of tools) {
    const type = (tool as { type?: unknown } | null)?.type;
    if (type === 'web_search' || type === 'web_search_preview') {
      calls.push({
        id: randomId('ws_', 24),
        type: 'web_search_call',
        status: 'completed',
        action: { type: 'search', query: 'mock' },
      });
    } else if (type === 'file_search') {
      calls.push({
        id: randomId('fs_', 24),
        type: 'file_search_call',
        status: 'completed',
        queries: ['mock'],
        results: null,
      });
    } else if (type === 'code_interpreter') {
      calls.push({
        id: randomId('ci_', 24),
        type: 'code_interpreter_call',
        status: 'completed',
        code: 'print(1)',
        container_id: 'cntr_mock',
        outputs: null,
      });
    }
  }
  return calls;
}

function answer(body: JsonObject, s: AnswerSettings): Answer {
  const model = requireString(body, 'model');
  if (body.input === undefined && body.previous_response_id === undefined) throw missingParam('input');
  const reply = completion(s.chunks);
  const input = inputTokens(body);
  const usageOf = (pieces: number) => responseUsage(input, pieces, s);
  const id = randomId('resp_', 24);
  const part = { type: 'output_text', annotations: [], logprobs: [], text: reply.text };
  const message = {
    id: randomId('msg_', 24),
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [part],
  };
  const calls = toolCalls(body);
  const done = responseObject(body, id, model, 'completed', [...calls, message], usageOf(reply.pieces.length));
  return { done, message, part, calls, quoted: reply.quoted, usageOf };
}

/** The JSON answer of a response: the live endpoint's and a batch line's (batch-runner.ts). */
export const responseAnswer = (body: JsonObject, s: AnswerSettings) => {
  const { done, usageOf, quoted } = answer(body, s);
  return { ...done, usage: usageOf(quoted.length) };
};

/** What the ledger bills for a response: its usage and the hosted tool calls it made. */
function billed(done: Answer['done'], calls: object[], usage: ResponseUsage) {
  const tool_calls: Record<string, number> = {};
  for (const c of calls) {
    const type = (c as { type: string }).type.replace(/_call$/, '');
    tool_calls[type] = (tool_calls[type] ?? 0) + 1;
  }
  return { model: done.model, service_tier: done.service_tier, usage, tool_calls };
}

export async function responses(ctx: Ctx): Promise<void> {
  const body = await readJson(ctx);
  const { done, message, part, calls, quoted, usageOf } = answer(body, ctx.settings);
  // A background response is billed when it completes (background.ts), under its id.
  if (body.background === true) return sendJson(ctx, startBackground(ctx.state, done));
  if (body.stream !== true) {
    billRequest(ctx, billed(done, calls, usageOf(quoted.length)));
    return sendJson(ctx, done);
  }
  const { id, model } = done;
  const itemId = message.id;

  const pending = responseObject(body, id, model, 'in_progress', [], null);
  const index = calls.length;
  const at = { item_id: itemId, output_index: index, content_index: 0 };
  let seq = 0;
  const frame = (type: string, data: object) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`;
  const frames = [
    frame('response.created', { response: pending }),
    frame('response.in_progress', { response: pending }),
    ...calls.flatMap((item, i) => [
      frame('response.output_item.added', { output_index: i, item: { ...item, status: 'in_progress' } }),
      frame('response.output_item.done', { output_index: i, item }),
    ]),
    frame('response.output_item.added', {
      output_index: index,
      item: { ...message, status: 'in_progress', content: [] },
    }),
    frame('response.content_part.added', { ...at, part: { ...part, text: '' } }),
  ];
  const beforeDeltas = frames.length;
  // Deltas are the bulk of a stream: spliced from the memoised quoted pieces, not stringified.
  const deltaHead = `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"${itemId}","output_index":${index},"content_index":0,"delta":`;
  for (const q of quoted) frames.push(`${deltaHead}${q},"logprobs":[],"sequence_number":${seq++}}\n\n`);
  frames.push(
    frame('response.output_text.done', { ...at, text: part.text, logprobs: [] }),
    frame('response.content_part.done', { ...at, part }),
    frame('response.output_item.done', { output_index: index, item: message }),
    frame('response.completed', { response: done }),
  );
  // A stream ended early bills the deltas it sent (and the tool calls made before them).
  return sendSse(ctx, frames, (sent) => billed(done, calls, usageOf(piecesSent(sent, beforeDeltas, quoted.length))));
}
