import {
  BATCH_ENDPOINTS,
  type BatchLine,
  type BatchResult,
  readBatchInput,
  runLine,
  writeResults,
} from './batch-runner.js';
import { readJson, requireString } from './body.js';
import { invalidRequest, notFound } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { page } from './list.js';
import type { MockState } from './state.js';
import { randomId, unixSeconds } from './text.js';

export type BatchStatus =
  | 'validating'
  | 'failed'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'expired'
  | 'cancelling'
  | 'cancelled';

export interface Batch {
  id: string;
  object: 'batch';
  endpoint: string;
  errors: { object: 'list'; data: { code: string; message: string; param: null; line: null }[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: unknown;
}

/** A batch and its run: the input's lines and the results of those done so far. */
export interface BatchRun {
  batch: Batch;
  lines: BatchLine[];
  results: BatchResult[];
}

const TERMINAL = new Set<BatchStatus>(['failed', 'completed', 'expired', 'cancelled']);

/**
 * `POST /v1/batches`: checked and kept in memory. The batch then runs as the client (or the proxy)
 * retrieves it: each `GET /v1/batches/{id}` moves it one step (validating → in_progress → lines
 * run, `batchLinesPerPoll` a retrieval → finalizing → completed), so tests advance it by polling,
 * never by waiting; `POST /__mock/batches/complete` and `/expire` end every batch at once.
 */
export async function createBatch(ctx: Ctx): Promise<void> {
  const body = await readJson(ctx);
  const inputFileId = requireString(body, 'input_file_id');
  const endpoint = requireString(body, 'endpoint');
  const completionWindow = requireString(body, 'completion_window');
  if (!BATCH_ENDPOINTS.includes(endpoint)) {
    throw invalidRequest(`'${endpoint}' is not one of ${JSON.stringify(BATCH_ENDPOINTS)} - 'endpoint'`, 'endpoint');
  }
  if (completionWindow !== '24h') {
    throw invalidRequest(`'${completionWindow}' is not one of ['24h'] - 'completion_window'`, 'completion_window');
  }
  if (!ctx.state.files.get(inputFileId)) {
    throw invalidRequest(`Invalid 'input_file_id': '${inputFileId}'. File not found.`, 'input_file_id');
  }
  const input = await readBatchInput(ctx.state.files.path(inputFileId), endpoint);
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
  const run: BatchRun = { batch, lines: typeof input === 'string' ? [] : input, results: [] };
  ctx.state.batches.set(batch.id, run);
  // A bad input file fails the batch on its first step, as OpenAI's validation does.
  if (typeof input === 'string') {
    batch.errors = { object: 'list', data: [{ code: 'invalid_input', message: input, param: null, line: null }] };
  }
  sendJson(ctx, batch);
}

function lookup(ctx: Ctx): BatchRun {
  const [id = ''] = ctx.params;
  const run = ctx.state.batches.get(id);
  if (!run) throw notFound(`No batch found with id '${id}'.`, 'batch_id');
  return run;
}

/** `GET /v1/batches/{id}`: one step further, then as it is now. */
export async function getBatch(ctx: Ctx): Promise<void> {
  const run = lookup(ctx);
  await step(ctx.state, run);
  sendJson(ctx, run.batch);
}

/** `POST /v1/batches/{id}/cancel`: cancelling now; cancelled, with the lines done so far, at the next step. */
export function cancelBatch(ctx: Ctx): void {
  const { batch } = lookup(ctx);
  if (TERMINAL.has(batch.status) || batch.status === 'cancelling') {
    if (batch.status !== 'cancelling' && batch.status !== 'cancelled') {
      throw invalidRequest(`Cannot cancel a batch with status '${batch.status}'.`, null);
    }
    sendJson(ctx, batch);
    return;
  }
  batch.status = 'cancelling';
  batch.cancelling_at = unixSeconds();
  sendJson(ctx, batch);
}

export function listBatches(ctx: Ctx): void {
  const all = [...ctx.state.batches.values()].map((r) => r.batch).reverse();
  sendJson(ctx, page(all, ctx.query, 20));
}

async function step(state: MockState, run: BatchRun): Promise<void> {
  const { batch } = run;
  const now = unixSeconds();
  switch (batch.status) {
    case 'validating':
      if (batch.errors) {
        batch.status = 'failed';
        batch.failed_at = now;
        return;
      }
      batch.status = 'in_progress';
      batch.in_progress_at = now;
      batch.request_counts.total = run.lines.length;
      return;
    case 'in_progress':
      runLines(state, run, state.opts.batchLinesPerPoll);
      if (run.results.length === run.lines.length) {
        batch.status = 'finalizing';
        batch.finalizing_at = now;
      }
      return;
    case 'finalizing':
      return finish(state, run, 'completed');
    case 'cancelling':
      return finish(state, run, 'cancelled');
    default:
  }
}

function runLines(state: MockState, run: BatchRun, count: number): void {
  const until = Math.min(run.lines.length, run.results.length + count);
  for (let i = run.results.length; i < until; i++) {
    const result = runLine(
      run.lines[i] as BatchLine,
      { chunks: state.opts.chunks, cachedTokens: 0, reasoningTokens: 0 },
      state.ledger,
    );
    run.results.push(result);
    if (result.response?.status_code === 200) run.batch.request_counts.completed++;
    else run.batch.request_counts.failed++;
  }
}

/** Ends a batch: the output file holds the lines answered 200, the error file the others. */
async function finish(state: MockState, run: BatchRun, status: 'completed' | 'cancelled' | 'expired'): Promise<void> {
  const { batch } = run;
  const ok = run.results.filter((r) => r.response?.status_code === 200);
  const failed = run.results.filter((r) => r.response?.status_code !== 200);
  batch.output_file_id = (await writeResults(state.files, ok)) ?? null;
  batch.error_file_id = (await writeResults(state.files, failed)) ?? null;
  batch.status = status;
  batch[`${status}_at`] = unixSeconds();
  if (status === 'completed' && batch.finalizing_at === null) batch.finalizing_at = batch.completed_at;
}

/** `POST /__mock/batches/complete`: every unfinished batch runs its remaining lines and completes (a cancelling one is cancelled). */
export async function completeAll(state: MockState): Promise<number> {
  let n = 0;
  for (const run of state.batches.values()) {
    const { batch } = run;
    if (TERMINAL.has(batch.status)) continue;
    n++;
    if (batch.status === 'cancelling') {
      await finish(state, run, 'cancelled');
      continue;
    }
    if (batch.errors) {
      batch.status = 'failed';
      batch.failed_at = unixSeconds();
      continue;
    }
    batch.in_progress_at ??= unixSeconds();
    batch.request_counts.total = run.lines.length;
    runLines(state, run, run.lines.length);
    await finish(state, run, 'completed');
  }
  return n;
}

/** `POST /__mock/batches/expire`: every unfinished batch expires, with the lines it had done. */
export async function expireAll(state: MockState): Promise<number> {
  let n = 0;
  for (const run of state.batches.values()) {
    if (TERMINAL.has(run.batch.status)) continue;
    n++;
    await finish(state, run, 'expired');
  }
  return n;
}
