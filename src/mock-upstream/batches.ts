import { readJson, requireString } from './body.js';
import { invalidRequest, notFound } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { page } from './list.js';
import { randomId, unixSeconds } from './text.js';

export interface Batch {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: null;
  input_file_id: string;
  completion_window: string;
  status: 'validating';
  output_file_id: null;
  error_file_id: null;
  created_at: number;
  in_progress_at: null;
  expires_at: number;
  finalizing_at: null;
  completed_at: null;
  failed_at: null;
  expired_at: null;
  cancelling_at: null;
  cancelled_at: null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: unknown;
}

const ENDPOINTS = ['/v1/responses', '/v1/chat/completions', '/v1/embeddings', '/v1/completions', '/v1/moderations'];

/** `POST /v1/batches`: accepted and kept in memory; the mock never runs it, so it stays `validating`. */
export async function createBatch(ctx: Ctx): Promise<void> {
  const body = await readJson(ctx);
  const inputFileId = requireString(body, 'input_file_id');
  const endpoint = requireString(body, 'endpoint');
  const completionWindow = requireString(body, 'completion_window');
  if (!ENDPOINTS.includes(endpoint)) {
    throw invalidRequest(`'${endpoint}' is not one of ${JSON.stringify(ENDPOINTS)} - 'endpoint'`, 'endpoint');
  }
  if (completionWindow !== '24h') {
    throw invalidRequest(`'${completionWindow}' is not one of ['24h'] - 'completion_window'`, 'completion_window');
  }
  if (!ctx.state.files.get(inputFileId)) {
    throw invalidRequest(`Invalid 'input_file_id': '${inputFileId}'. File not found.`, 'input_file_id');
  }
  const created = unixSeconds();
  const batch: Batch = {
    id: randomId('batch_', 16),
    object: 'batch',
    endpoint,
    errors: null,
    input_file_id: inputFileId,
    completion_window: completionWindow,
    status: 'validating',
    output_file_id: null,
    error_file_id: null,
    created_at: created,
    in_progress_at: null,
    expires_at: created + 86_400,
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: 0, completed: 0, failed: 0 },
    metadata: body.metadata ?? null,
  };
  ctx.state.batches.set(batch.id, batch);
  sendJson(ctx, batch);
}

export function getBatch(ctx: Ctx): void {
  const [id = ''] = ctx.params;
  const batch = ctx.state.batches.get(id);
  if (!batch) throw notFound(`No batch found with id '${id}'.`, 'batch_id');
  sendJson(ctx, batch);
}

export function listBatches(ctx: Ctx): void {
  sendJson(ctx, page([...ctx.state.batches.values()].reverse(), ctx.query, 20));
}
