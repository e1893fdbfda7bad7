import { type JsonObject, readJson, requireString } from './body.js';
import { DONE_FRAME, includeUsage } from './chat.js';
import { missingParam } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { sendSse } from './sse.js';
import { completion, countTokens, randomId, unixSeconds } from './text.js';

/** Legacy `/v1/completions` (`text_completion`), JSON and stream. */
export async function completions(ctx: Ctx): Promise<void> {
  const body = await readJson(ctx);
  const model = requireString(body, 'model');
  if (body.prompt === undefined) throw missingParam('prompt');
  const reply = completion(ctx.settings.chunks);
  const promptTokens = countTokens(body.prompt);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: reply.pieces.length,
    total_tokens: promptTokens + reply.pieces.length,
  };
  const id = randomId('cmpl-');

  if (body.stream === true) {
    const head = `data: {"id":"${id}","object":"text_completion","created":${unixSeconds()},"model":${JSON.stringify(model)},"system_fingerprint":"fp_mock","choices":`;
    const choice = (text: string, finish: string) =>
      `${head}[{"text":${text},"index":0,"logprobs":null,"finish_reason":${finish}}]}\n\n`;
    const frames = reply.quoted.map((quoted) => choice(quoted, 'null'));
    frames.push(choice('""', '"stop"'));
    if (includeUsage(body)) frames.push(`${head}[],"usage":${JSON.stringify(usage)}}\n\n`);
    frames.push(DONE_FRAME);
    return sendSse(ctx, frames);
  }
  sendJson(ctx, completionAnswer(body, ctx.settings.chunks));
}

/** The JSON answer of a legacy completion: the live endpoint's and a batch line's (batch-runner.ts). */
export function completionAnswer(body: JsonObject, chunks: number): object {
  const model = requireString(body, 'model');
  if (body.prompt === undefined) throw missingParam('prompt');
  const reply = completion(chunks);
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
