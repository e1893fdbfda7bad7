import { isObject, type JsonObject, readJson, requireString } from './body.js';
import { missingParam } from './errors.js';
import { type Ctx, sendJson } from './http.js';
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

function chatUsage(promptTokens: number, completionTokens: number, audioIn = 0, audioOut = 0) {
  return {
    prompt_tokens: promptTokens + audioIn,
    completion_tokens: completionTokens + audioOut,
    total_tokens: promptTokens + audioIn + completionTokens + audioOut,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: audioIn },
    completion_tokens_details: {
      reasoning_tokens: 0,
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
  const reply = completion(ctx.settings.chunks);
  // Spoken answers (`modalities` with audio): two audio tokens per text token, as a transcript is spoken.
  const speaks = Array.isArray(body.modalities) && body.modalities.includes('audio');
  const audioOut = speaks ? 2 * reply.pieces.length : 0;
  const usage = chatUsage(
    messagesTokens(body.messages),
    reply.pieces.length,
    inputAudioTokens(body.messages),
    audioOut,
  );
  const id = randomId('chatcmpl-');
  const tier = servedTier(body);

  if (body.stream === true) {
    return sendSse(ctx, chatFrames(id, model, reply, includeUsage(body) ? usage : undefined, tier));
  }
  const audio = speaks
    ? { id: randomId('audio_'), data: '', expires_at: unixSeconds() + 3600, transcript: reply.text }
    : undefined;
  sendJson(ctx, {
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
  });
}
