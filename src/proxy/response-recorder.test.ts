import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Dispatcher, Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../mock-upstream/index.js';
import { ResponseRecorder, replayableHeaders } from './response-recorder.js';
import { UsageCapture } from './usage-capture.js';

/** The innermost handler, standing in for the leg: collects what reaches the client. */
class Collector implements Dispatcher.DispatchHandler {
  status = 0;
  chunks: Buffer[] = [];
  error: Error | undefined;
  readonly done: Promise<void>;
  private resolve!: () => void;
  constructor() {
    this.done = new Promise((r) => {
      this.resolve = r;
    });
  }
  onResponseStart(_c: Dispatcher.DispatchController, status: number): void {
    this.status = status;
  }
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
  }
  onResponseEnd(): void {
    this.resolve();
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.error = err;
    this.resolve();
  }
  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** A server whose answers the tests choose: headers no replay may carry, and a stream it cuts. */
let server: Server;
let pool: Pool;
let mock: MockUpstream;
let mockPool: Pool;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/cookie') {
      res.writeHead(200, {
        'content-type': 'application/json',
        'set-cookie': ['a=1', 'b=2'],
        'openai-model': 'gpt-4o',
        'openai-processing-ms': '12',
        'x-request-id': 'req_abc',
        'x-ratelimit-remaining-requests': '99',
        'retry-after': '3',
        'x-other': 'no',
        'keep-alive': 'timeout=5',
      });
      res.end('{"ok":true}');
    } else if (req.url === '/cut') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[]}\n\n', () => res.destroy());
    } else {
      const size = Number(req.url?.slice(1));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(size, 7));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  mock = await startMockUpstream();
  mockPool = new Pool(mock.url);
});

afterAll(async () => {
  await pool?.close();
  await mockPool?.close();
  await mock?.close();
  server?.close();
});

async function record(
  p: Pool,
  opts: Dispatcher.DispatchOptions,
  maxBytes = 1 << 20,
  wrap?: (h: Dispatcher.DispatchHandler) => Dispatcher.DispatchHandler,
) {
  const inner = new Collector();
  const recorder = new ResponseRecorder(inner, maxBytes);
  p.dispatch(opts, wrap ? wrap(recorder) : recorder);
  await inner.done;
  return { inner, recorder };
}

describe('response recorder', () => {
  it('records a JSON answer as passed on, with only the headers worth replaying', async () => {
    const { inner, recorder } = await record(pool, { method: 'GET', path: '/cookie' });
    expect(recorder.complete).toBe(true);
    const rec = recorder.response();
    expect(rec?.status).toBe(200);
    expect(rec?.stream).toBe(false);
    expect(rec?.body.toString()).toBe('{"ok":true}');
    expect(rec?.body.equals(inner.body)).toBe(true);
    expect(rec?.headers).toEqual([
      'content-type',
      'application/json',
      'openai-model',
      'gpt-4o',
      'openai-processing-ms',
      '12',
      'x-request-id',
      'req_abc',
    ]);
  });

  it('records a stream as the client got it: after the include_usage filter', async () => {
    const body = JSON.stringify({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    let capture: UsageCapture | undefined;
    const { inner, recorder } = await record(
      mockPool,
      { method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body },
      1 << 20,
      (h) => {
        capture = new UsageCapture(h);
        // As forward.ts does when it added include_usage for a client that did not ask for it.
        capture.injected = true;
        return capture;
      },
    );
    const rec = recorder.response();
    expect(rec?.stream).toBe(true);
    const text = rec?.body.toString() ?? '';
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).not.toContain('"usage":{');
    expect(rec?.body.equals(inner.body)).toBe(true);
    expect(capture?.usage().totalTokens).toBeGreaterThan(0);
  });

  it('a stream cut by the upstream is not complete and keeps nothing', async () => {
    const { inner, recorder } = await record(pool, { method: 'GET', path: '/cut' });
    expect(inner.error).toBeDefined();
    expect(recorder.outcome).toBe('failed');
    expect(recorder.complete).toBe(false);
    expect(recorder.response()).toBeUndefined();
  });

  it('a body over the bound is passed on whole but not kept', async () => {
    const fits = await record(pool, { method: 'GET', path: '/1000' }, 1000);
    expect(fits.recorder.response()?.body.length).toBe(1000);
    const over = await record(pool, { method: 'GET', path: '/1001' }, 1000);
    expect(over.inner.body.length).toBe(1001);
    expect(over.recorder.overflow).toBe(true);
    expect(over.recorder.outcome).toBe('ended');
    expect(over.recorder.response()).toBeUndefined();
  });

  it('flattens repeated headers and drops unknown ones', () => {
    expect(
      replayableHeaders({
        'openai-beta': ['a', 'b'],
        'set-cookie': ['x'],
        'x-ms-region': 'eu',
        date: 'now',
        vary: undefined,
      }),
    ).toEqual(['openai-beta', 'a', 'openai-beta', 'b', 'x-ms-region', 'eu']);
  });
});
