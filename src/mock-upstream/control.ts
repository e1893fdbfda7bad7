import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MockState, resetState } from './state.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  const bytes = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(bytes) });
  res.end(bytes);
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
 * `/__mock/*`: stats, recorded requests and reset over HTTP, for tests in another process.
 * Not counted, recorded or authenticated, so observing the mock never changes what it observes.
 */
export function control(state: MockState, req: IncomingMessage, res: ServerResponse, path: string): void {
  const route = `${req.method} ${path}`;
  switch (route) {
    case 'GET /__mock/stats':
      json(res, 200, state.stats);
      break;
    case 'GET /__mock/requests':
      json(res, 200, state.log.list());
      break;
    case 'POST /__mock/release':
      json(res, 200, { released: releaseHeld(state) });
      break;
    case 'POST /__mock/reset':
      resetState(state);
      res.writeHead(204).end();
      break;
    default:
      json(res, 404, {
        error: {
          message: `Unknown mock control URL: ${route}`,
          type: 'invalid_request_error',
          param: null,
          code: 'unknown_url',
        },
      });
  }
}
