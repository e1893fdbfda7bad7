import { isObject, type JsonObject, readJson, requireString } from './body.js';
import { missingParam } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { billRequest, piecesSent } from './ledger.js';
import type { AnswerSettings } from './options.js';
import { sendSse } from './sse.js';
import { type Completion, completion, messagesTokens, randomId, unixSeconds } from './text.js';

export const DONE_FRAME = 'data: [DONE]\n\n';

/** Audio tokens: 10 per started KiB of base64 audio in `input_audio` parts (deterministic, like text's chars / 4). */
function inputAudioTokens(messages: readonly unknown[]): number {
  let tokens = 0;
  for (const m of messages) {
    const content = isObject(m) && Array.isArray(m.content) ? m.content : [];
    for (const part of content) {
      const audio =
        isObject(part) && part.type === 'input_audio' && isObject(part.input_audio) ? part.input_audio : undefined;
      if (typeof audio?.data === 'string') tokens += 10 * Math.ceil(audio.data.length / 1024);
    }
  }
  return tokens;
}

/** The tier a request is served in, as OpenAI reports it: `flex` and `priority` when asked for, else `default`. */
export const servedTier = (body: JsonObject): string =>
  body.service_tier === 'flex' || body.service_tier === 'priority' ? body.service_tier : 'default';

/**
 * `content` text output tokens and `audioOut` audio ones, plus the reasoning tokens the settings
 * ask for (part of completion_tokens); `audioIn` audio tokens in the prompt.
 */
function chatUsage(promptTokens: number, content: number, s: AnswerSettings, audioIn = 0, audioOut = 0) {
  const completionTokens = content + s.reasoningTokens + audioOut;
  return {
    prompt_tokens: promptTokens + audioIn,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + audioIn + completionTokens,
    prompt_tokens_details: { cached_tokens: Math.min(s.cachedTokens, promptTokens), audio_tokens: audioIn },
    completion_tokens_details: {
      reasoning_tokens: s.reasoningTokens,
      audio_tokens: audioOut,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** True when a streamed request asked for the final usage chunk. */
export const includeUsage = (body: JsonObject): boolean =>
  isObject(body.stream_options) && body.stream_options.include_usage === true;

function chatFrames(id: string, model: string, reply: Completion, usage: object | undefined, tier: string): string[] {
  // Every chunk shares this head; with include_usage OpenAI also sends `"usage":null` until the last.
  const head = `data: {"id":"${id}","object":"chat.completion.chunk","created":${unixSeconds()},"model":${JSON.stringify(model)},"service_tier":"${tier}","system_fingerprint":"fp_mock","choices":`;
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
  const plan = chatPlan(body, ctx.settings);
  if (body.stream === true) {
    const { reply, usageOf, tier } = plan;
    // Frames: the role chunk, one per piece, then the finish (and usage) chunks.
    return sendSse(
      ctx,
      chatFrames(
        randomId('chatcmpl-'),
        model,
        reply,
        includeUsage(body) ? usageOf(reply.pieces.length) : undefined,
        tier,
      ),
      (sent) => ({ model, service_tier: tier, usage: usageOf(piecesSent(sent, 1, reply.pieces.length)) }),
    );
  }
  const answer = chatAnswer(body, ctx.settings);
  billRequest(ctx, { model, service_tier: answer.service_tier, usage: answer.usage });
  sendJson(ctx, answer);
}

/** What a chat request is answered with: the reply, its usage had `pieces` of it gone out, the tier. */
function chatPlan(body: JsonObject, s: AnswerSettings) {
  const reply = completion(s.chunks);
  // Spoken answers (`modalities` with audio): two audio tokens per text token, as a transcript is spoken.
  const speaks = Array.isArray(body.modalities) && body.modalities.includes('audio');
  const prompt = messagesTokens(body.messages as unknown[]);
  const audioIn = inputAudioTokens(body.messages as unknown[]);
  const usageOf = (pieces: number) => chatUsage(prompt, pieces, s, audioIn, speaks ? 2 * pieces : 0);
  return { reply, speaks, usageOf, tier: servedTier(body) };
}

/** The JSON answer of a chat completion: the live endpoint's and a batch line's (batch-runner.ts). */
export function chatAnswer(body: JsonObject, s: AnswerSettings) {
  const model = requireString(body, 'model');
  if (!Array.isArray(body.messages)) throw missingParam('messages');
  const { reply, speaks, usageOf, tier } = chatPlan(body, s);
  const usage = usageOf(reply.pieces.length);
  const id = randomId('chatcmpl-');
  const audio = speaks
    ? { id: randomId('audio_'), data: '', expires_at: unixSeconds() + 3600, transcript: reply.text }
    : undefined;
  return {
    id,
    object: 'chat.completion',
    created: unixSeconds(),
    model,
    choices: [
      {
        index: 0,
        message: speaks
          ? { role: 'assistant', content: null, refusal: null, annotations: [], audio }
          : { role: 'assistant', content: reply.text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage,
    service_tier: tier,
    system_fingerprint: 'fp_mock',
  };
}
