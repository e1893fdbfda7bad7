import type { IncomingMessage, ServerResponse } from 'node:http';
import { type MockState, resetState } from './state.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  const bytes = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(bytes) });
  res.end(bytes);
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
