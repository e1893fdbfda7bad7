import { isObject, type JsonObject, readJson, requireString } from './body.js';
import { missingParam } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { billRequest, piecesSent } from './ledger.js';
import type { AnswerSettings } from './options.js';
import { sendSse } from './sse.js';
import { type Completion, completion, messagesTokens, randomId, unixSeconds } from './text.js';

export const DONE_FRAME = 'data: [DONE]\n\n';

/** `content` output tokens, plus the reasoning tokens the settings ask for (part of completion_tokens). */
function chatUsage(promptTokens: number, content: number, settings: AnswerSettings) {
  const completionTokens = content + settings.reasoningTokens;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: Math.min(settings.cachedTokens, promptTokens), audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: settings.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** True when a streamed request asked for the final usage chunk. */
export const includeUsage = (body: JsonObject): boolean =>
  isObject(body.stream_options) && body.stream_options.include_usage === true;

function chatFrames(id: string, model: string, reply: Completion, usage: object | undefined): string[] {
  // Every chunk shares this head; with include_usage OpenAI also sends `"usage":null` until the last.
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${unixSeconds()},"model":${JSON.stringify(model)},"service_tier":"default","system_fingerprint":"fp_mock","choices":`;
  const tail = usage ? ',"usage":null}\n\n' : '}\n\n';
  const choice = (delta: string, finish: string) =>
    `${head}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}]${tail}`;
  const frames = [choice('{"role":"assistant","content":"","refusal":null}', 'null')];
  for (const quoted of reply.quoted) frames.push(choice(`{"content":${quoted}}`, 'null'));
  frames.push(choice('{}', '"stop"'));
  if (usage) frames.push(`${head}[],"usage":${JSON.stringify(usage)}}\n\n`);
  frames.push(DONE_FRAME);
  return frames;
}

export async function chatCompletions(ctx: Ctx): Promise<void> {
  const body = await readJson(ctx);
  const model = requireString(body, 'model');
  if (!Array.isArray(body.messages)) throw missingParam('messages');
  if (body.stream === true) {
    const reply = completion(ctx.settings.chunks);
    const prompt = messagesTokens(body.messages);
    const usage = chatUsage(prompt, reply.pieces.length, ctx.settings);
    // Frames: the role chunk, one per piece, then the finish (and usage) chunks.
    return sendSse(
      ctx,
      chatFrames(randomId('chatcmpl-'), model, reply, includeUsage(body) ? usage : undefined),
      (sent) => ({
        model,
        service_tier: 'default',
        usage: chatUsage(prompt, piecesSent(sent, 1, reply.pieces.length), ctx.settings),
      }),
    );
  }
  const answer = chatAnswer(body, ctx.settings);
  billRequest(ctx, { model, service_tier: answer.service_tier, usage: answer.usage });
  sendJson(ctx, answer);
}

/** The JSON answer of a chat completion: the live endpoint's and a batch line's (batch-runner.ts). */
export function chatAnswer(body: JsonObject, s: AnswerSettings) {
  const model = requireString(body, 'model');
  if (!Array.isArray(body.messages)) throw missingParam('messages');
  const reply = completion(s.chunks);
  const usage = chatUsage(messagesTokens(body.messages), reply.pieces.length, s);
  const id = randomId('chatcmpl-');
  return {
    id,
    object: 'chat.completion',
    created: unixSeconds(),
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage,
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  };
}
