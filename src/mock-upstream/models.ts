import { notFound } from './errors.js';
import { type Ctx, sendJson } from './http.js';

const MODELS = [
  ['gpt-4o', 'system'],
  ['gpt-4o-mini', 'system'],
  ['gpt-4.1', 'system'],
  ['gpt-4.1-mini', 'system'],
  ['gpt-4.1-nano', 'system'],
  ['o3-mini', 'system'],
  ['gpt-3.5-turbo-instruct', 'system'],
  ['text-embedding-3-small', 'system'],
  ['text-embedding-3-large', 'system'],
  ['omni-moderation-latest', 'system'],
  ['gpt-image-1', 'system'],
  ['gpt-4o-mini-tts', 'system'],
  ['tts-1', 'openai-internal'],
  ['whisper-1', 'openai-internal'],
  ['gpt-4o-transcribe', 'system'],
].map(([id, owner]) => ({ id, object: 'model', created: 1_715_367_049, owned_by: owner }));

// Static answers, encoded once.
const LIST = Buffer.from(JSON.stringify({ object: 'list', data: MODELS }));
const BY_ID = new Map(MODELS.map((m) => [m.id, Buffer.from(JSON.stringify(m))]));

export function listModels(ctx: Ctx): void {
  sendJson(ctx, LIST);
}

export function getModel(ctx: Ctx): void {
  const [id = ''] = ctx.params;
  const model = BY_ID.get(id);
  if (!model) {
    throw notFound(`The model '${id}' does not exist`, 'model', 'model_not_found');
  }
  sendJson(ctx, model);
}
