import { invalidRequest, notFound } from './errors.js';
import { type Ctx, sendJson } from './http.js';
import { bill } from './ledger.js';
import type { MockState } from './state.js';

type ResponseObject = {
  id: string;
  model: string;
  status: string;
  background: boolean;
  output: unknown[];
  usage: unknown;
};

/** A response run with `background: true`: its finished form, and where it is now. */
export interface BackgroundResponse {
  readonly done: ResponseObject;
  status: 'queued' | 'in_progress' | 'completed' | 'cancelled';
  cancelledFrom?: 'queued' | 'in_progress';
}

const FINISHED = new Set(['completed', 'cancelled']);

/** What a client sees of a background response now: no output and no usage until it is finished. */
function view(run: BackgroundResponse): ResponseObject {
  if (run.status === 'completed') return run.done;
  if (run.status === 'cancelled') {
    // Cancelled while in progress: the input was read, so it is billed; cancelled while queued: nothing.
    const usage = run.done.usage as { input_tokens: number; input_tokens_details: unknown };
    return {
      ...run.done,
      status: 'cancelled',
      output: [],
      usage:
        run.cancelledFrom === 'in_progress'
          ? {
              input_tokens: usage.input_tokens,
              input_tokens_details: usage.input_tokens_details,
              output_tokens: 0,
              output_tokens_details: { reasoning_tokens: 0 },
              total_tokens: usage.input_tokens,
            }
          : null,
    };
  }
  return { ...run.done, status: run.status, output: [], usage: null };
}

/**
 * `POST /v1/responses` with `background: true`: answered `queued` at once. Each retrieval moves it
 * one step (queued → in_progress → completed), so a test advances it by polling, never by waiting.
 */
export function startBackground(state: MockState, done: object): ResponseObject {
  const run: BackgroundResponse = { done: { ...(done as ResponseObject), background: true }, status: 'queued' };
  state.responses.set(run.done.id, run);
  return view(run);
}

function lookup(ctx: Ctx): BackgroundResponse {
  const [id = ''] = ctx.params;
  const run = ctx.state.responses.get(id);
  if (!run) throw notFound(`Response with id '${id}' not found.`, 'response_id');
  return run;
}

/** Bills a run as it finishes, under its response id: what its finished form reports. */
function billFinished(state: MockState, run: BackgroundResponse): void {
  const usage = view(run).usage;
  if (usage)
    bill(state.ledger, run.done.id, '/v1/responses', {
      model: run.done.model,
      service_tier: 'default',
      usage: { ...usage },
    });
}

/** `GET /v1/responses/{id}`: one step further, then as it is now. */
export function getResponse(ctx: Ctx): void {
  const run = lookup(ctx);
  if (run.status === 'queued') run.status = 'in_progress';
  else if (run.status === 'in_progress') {
    run.status = 'completed';
    billFinished(ctx.state, run);
  }
  sendJson(ctx, view(run));
}

/** `POST /v1/responses/{id}/cancel`: a run not finished yet is cancelled; a finished one cannot be. */
export function cancelResponse(ctx: Ctx): void {
  const run = lookup(ctx);
  if (FINISHED.has(run.status)) {
    if (run.status !== 'cancelled') throw invalidRequest('Cannot cancel a completed response.', null);
    sendJson(ctx, view(run));
    return;
  }
  run.cancelledFrom = run.status as 'queued' | 'in_progress';
  run.status = 'cancelled';
  billFinished(ctx.state, run);
  sendJson(ctx, view(run));
}
