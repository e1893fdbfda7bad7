import { speech, transcriptions, translations } from './audio.js';
import { cancelResponse, getResponse } from './background.js';
import { cancelBatch, createBatch, getBatch, listBatches } from './batches.js';
import { chatCompletions } from './chat.js';
import { completions } from './completions.js';
import { embeddings } from './embeddings.js';
import { deleteFile, fileContent, getFile, listFiles, uploadFile } from './files.js';
import type { Ctx } from './http.js';
import { imageGenerations } from './images.js';
import { getModel, listModels } from './models.js';
import { moderations } from './moderations.js';
import { responses } from './responses.js';

type Handler = (ctx: Ctx) => void | Promise<void>;

const EXACT = new Map<string, Handler>([
  ['GET /v1/models', listModels],
  ['POST /v1/chat/completions', chatCompletions],
  ['POST /v1/completions', completions],
  ['POST /v1/embeddings', embeddings],
  ['POST /v1/responses', responses],
  ['POST /v1/moderations', moderations],
  ['POST /v1/images/generations', imageGenerations],
  ['POST /v1/audio/speech', speech],
  ['POST /v1/audio/transcriptions', transcriptions],
  ['POST /v1/audio/translations', translations],
  ['POST /v1/files', uploadFile],
  ['GET /v1/files', listFiles],
  ['POST /v1/batches', createBatch],
  ['GET /v1/batches', listBatches],
]);

const WITH_ID: readonly [method: string, pattern: RegExp, handler: Handler][] = [
  ['GET', /^\/v1\/models\/([^/]+)$/, getModel],
  ['GET', /^\/v1\/files\/([^/]+)$/, getFile],
  ['DELETE', /^\/v1\/files\/([^/]+)$/, deleteFile],
  ['GET', /^\/v1\/files\/([^/]+)\/content$/, fileContent],
  ['GET', /^\/v1\/batches\/([^/]+)$/, getBatch],
  ['POST', /^\/v1\/batches\/([^/]+)\/cancel$/, cancelBatch],
  ['GET', /^\/v1\/responses\/([^/]+)$/, getResponse],
  ['POST', /^\/v1\/responses\/([^/]+)\/cancel$/, cancelResponse],
];

export function matchRoute(method: string, path: string): { handler: Handler; params: string[] } | undefined {
  const handler = EXACT.get(`${method} ${path}`);
  if (handler) return { handler, params: [] };
  for (const [routeMethod, pattern, withId] of WITH_ID) {
    const match = routeMethod === method ? pattern.exec(path) : null;
    if (!match) continue;
    try {
      return { handler: withId, params: match.slice(1).map(decodeURIComponent) };
    } catch {
      return undefined; // malformed %-escape: no such resource
    }
  }
  return undefined;
}
