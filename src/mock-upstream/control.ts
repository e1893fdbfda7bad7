import type { IncomingMessage, ServerResponse } from 'node:http';
import { completeAll, expireAll } from './batches.js';
import type { ControlRoute } from './help.js';
import { type MockState, resetState } from './state.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  const bytes = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(bytes) });
  res.end(bytes);
}

function answerCount(res: ServerResponse, count: Promise<number>): void {
  count.then(
    (n) => json(res, 200, { batches: n }),
    (err: Error) => json(res, 500, { error: { message: err.message, type: 'server_error', param: null, code: null } }),
  );
}

/** Lets every held request go on to its answer; returns how many there were. */
export function releaseHeld(state: MockState): number {
  const held = [...state.holds];
  for (const release of held) release();
  return held.length;
}

/** Holds a request until it is released or its client leaves. */
export function hold(state: MockState, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const release = () => {
      if (!state.holds.delete(release)) return;
      state.stats.held--;
      res.off('close', release);
      resolve();
    };
    state.holds.add(release);
    state.stats.held++;
    res.once('close', release);
  });
}

/**
 * `/__mock/*`: stats, recorded requests, the ledger, release and reset over HTTP, for tests in another process.
 * Not counted, recorded or authenticated, so observing the mock never changes what it observes.
 * Exactly the routes of CONTROL_ROUTES (which the CLI's help lists) are answered.
 */
const HANDLERS: Record<ControlRoute, (state: MockState, res: ServerResponse) => void> = {
  'POST /__mock/batches/complete': (state, res) => answerCount(res, completeAll(state)),
  'POST /__mock/batches/expire': (state, res) => answerCount(res, expireAll(state)),
  'GET /__mock/stats': (state, res) => json(res, 200, state.stats),
  'GET /__mock/requests': (state, res) => json(res, 200, state.log.list()),
  'GET /__mock/ledger': (state, res) => json(res, 200, { data: state.ledger.list(), dropped: state.ledger.dropped }),
  'POST /__mock/release': (state, res) => json(res, 200, { released: releaseHeld(state) }),
  'POST /__mock/reset': (state, res) => {
    resetState(state);
    res.writeHead(204).end();
  },
};

export function control(state: MockState, req: IncomingMessage, res: ServerResponse, path: string): void {
  const route = `${req.method} ${path}`;
  if (Object.hasOwn(HANDLERS, route)) {
    HANDLERS[route as ControlRoute](state, res);
    return;
  }
  json(res, 404, {
    error: {
      message: `Unknown mock control URL: ${route}`,
      type: 'invalid_request_error',
      param: null,
      code: 'unknown_url',
    },
  });
}
