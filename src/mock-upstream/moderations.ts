import { type JsonObject, readJson } from './body.js';
import { missingParam } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { randomId } from './text.js';

const CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/instructions',
  'self-harm/intent',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
];

const table = <T>(value: T) => Object.fromEntries(CATEGORIES.map((c) => [c, value]));

// Everything passes moderation; one shared result object serves every input.
const RESULT = {
  flagged: false,
  categories: table(false),
  category_scores: table(0.00001),
  category_applied_input_types: table(['text']),
};

export async function moderations(ctx: Ctx): Promise<void> {
  sendJson(ctx, moderationAnswer(await readJson(ctx)));
}

/** The JSON answer of a moderation: the live endpoint's and a batch line's (batch-runner.ts). */
export function moderationAnswer(body: JsonObject) {
  const { input } = body;
  if (input === undefined) throw missingParam('input');
  // A list of strings is moderated one by one; a list of content parts is one multimodal input.
  const count = Array.isArray(input) && input.every((v) => typeof v === 'string') ? input.length : 1;
  return {
    id: randomId('modr-'),
    model: typeof body.model === 'string' ? body.model : 'omni-moderation-latest',
    results: Array.from({ length: count }, () => RESULT),
  };
}
