import { type JsonObject, readJson, requireString } from './body.js';
import { DONE_FRAME, includeUsage } from './chat.js';
import { missingParam } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { billRequest, piecesSent } from './ledger.js';
import type { AnswerSettings } from './options.js';
import { sendSse } from './sse.js';
import { completion, countTokens, randomId, unixSeconds } from './text.js';

/** Legacy `/v1/completions` (`text_completion`), JSON and stream. */
export async function completions(ctx: Ctx): Promise<void> {
  const body = await readJson(ctx);
  const model = requireString(body, 'model');
  if (body.prompt === undefined) throw missingParam('prompt');
  const reply = completion(ctx.settings.chunks);
  const promptTokens = countTokens(body.prompt);
  const usageOf = (pieces: number) => ({
    prompt_tokens: promptTokens,
    completion_tokens: pieces,
    total_tokens: promptTokens + pieces,
  });
  const usage = usageOf(reply.pieces.length);
  const id = randomId('cmpl-');

  if (body.stream === true) {
    const head = `data: {"id":"${id}","object":"text_completion","created":${unixSeconds()},"model":${JSON.stringify(model)},"system_fingerprint":"fp_mock","choices":`;
    const choice = (text: string, finish: string) =>
      `${head}[{"text":${text},"index":0,"logprobs":null,"finish_reason":${finish}}]}\n\n`;
    const frames = reply.quoted.map((quoted) => choice(quoted, 'null'));
    frames.push(choice('""', '"stop"'));
    if (includeUsage(body)) frames.push(`${head}[],"usage":${JSON.stringify(usage)}}\n\n`);
    frames.push(DONE_FRAME);
    // Frames: one per piece first.
    return sendSse(ctx, frames, (sent) => ({ model, usage: usageOf(piecesSent(sent, 0, reply.pieces.length)) }));
  }
  const answer = completionAnswer(body, ctx.settings);
  billRequest(ctx, { model, usage: answer.usage });
  sendJson(ctx, answer);
}

/** The JSON answer of a legacy completion: the live endpoint's and a batch line's (batch-runner.ts). */
export function completionAnswer(body: JsonObject, s: AnswerSettings) {
  const model = requireString(body, 'model');
  if (body.prompt === undefined) throw missingParam('prompt');
  const reply = completion(s.chunks);
  const promptTokens = countTokens(body.prompt);
  return {
    id: randomId('cmpl-'),
    object: 'text_completion',
    created: unixSeconds(),
    model,
    system_fingerprint: 'fp_mock',
    choices: [{ text: reply.text, index: 0, logprobs: null, finish_reason: 'stop' }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: reply.pieces.length,
      total_tokens: promptTokens + reply.pieces.length,
    },
  };
}
