import http from 'node:http';
import type { ProxyStack } from './proxy.js';
import { until } from './proxy.js';

/** What a raw client saw: the response (if any) and whether the proxy closed the connection. */
export interface SlowUploadResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** The proxy closed the connection (after its answer, or instead of one). */
  closed: boolean;
}

/**
 * A raw POST through the proxy on a connection of its own (no agent): the body is the caller's to
 * write, with a declared `length` or, without one, chunked.
 */
export function rawPost(
  st: ProxyStack,
  path: string,
  opts: { token?: string | undefined; type: string; length?: number | undefined },
  onResponse?: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  const url = new URL(st.url);
  return http.request(
    {
      host: url.hostname,
      port: url.port,
      path,
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${opts.token ?? st.token}`,
        'content-type': opts.type,
        ...(opts.length === undefined ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(opts.length) }),
      },
    },
    onResponse,
  );
}

/**
 * Collects the proxy's answer to `req` (errors on either side ignored: a test looks at what
 * arrived): the returned function gives it, or status 0 when none came. `onResponse` runs as the
 * response head arrives.
 */
function answerOf(req: http.ClientRequest, onResponse?: () => void): () => Omit<SlowUploadResult, 'closed'> {
  let answer: Omit<SlowUploadResult, 'closed'> | undefined;
  req.on('response', (res) => {
    onResponse?.();
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (text += c));
    res.on('end', () => {
      answer = { status: res.statusCode ?? 0, body: text, headers: res.headers };
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  return () => answer ?? { status: 0, body: '', headers: {} };
}

/**
 * A POST that sends `sent` bytes of a body it declares (or sends chunked) and then goes quiet,
 * the way a slow or stuck uploader does. Resolves with the proxy's answer once the proxy closes the
 * connection (a proxy that never does is a hang, which the test's time limit reports).
 */
export function slowUpload(
  st: ProxyStack,
  path: string,
  opts: { token?: string; declared?: number; sent?: number; chunked?: boolean } = {},
): Promise<SlowUploadResult> {
  const { declared = 1000, sent = 10, chunked = false } = opts;
  return new Promise((resolve) => {
    const req = rawPost(st, path, {
      token: opts.token,
      type: 'application/json',
      length: chunked ? undefined : declared,
    });
    const answer = answerOf(req);
    req.on('close', () => resolve({ ...answer(), closed: true }));
    req.write('x'.repeat(sent));
    req.flushHeaders();
  });
}

/**
 * Starts `n` requests the mock upstream holds (`x-mock-hold: 1`) and waits until `expectHeld`
 * of them (default all) are held there. The returned promises settle once the mock releases them
 * (or at once, for those the proxy refuses).
 */
export async function holdRequests(
  st: ProxyStack,
  token: string,
  n: number,
  expectHeld = n,
): Promise<Array<Promise<Response>>> {
  const before = st.mock.stats().held;
  const started = Array.from({ length: n }, () => st.proxy('/v1/models', { token, headers: { 'x-mock-hold': '1' } }));
  await until(() => st.mock.stats().held >= before + expectHeld);
  return started;
}

/** Status, and the error code of a refusal. */
export async function outcome(res: Response | Promise<Response>): Promise<string> {
  const r = await res;
  const text = await r.text();
  if (r.status < 400) return String(r.status);
  return `${r.status} ${(JSON.parse(text) as { error?: { code?: string } }).error?.code}`;
}

/**
 * An upload that keeps moving but too slowly: `chunk` bytes of its declared (or, without
 * `declared`, chunked) body every `everyMs`, as a client on a bad link sends them, until the proxy
 * answers or `maxBytes` have gone (then it goes quiet). Resolves once the proxy closes the
 * connection, with how many bytes the client had written before the answer came.
 */
export function dripUpload(
  st: ProxyStack,
  path: string,
  opts: {
    token?: string;
    type: string;
    declared?: number;
    maxBytes: number;
    chunk?: number;
    everyMs?: number;
  },
): Promise<SlowUploadResult & { sent: number }> {
  const { chunk = 10, everyMs = 50, maxBytes } = opts;
  return new Promise((resolve) => {
    let answered = false;
    let sent = 0;
    const req = rawPost(st, path, { token: opts.token, type: opts.type, length: opts.declared });
    const drip = () => {
      if (answered || sent >= maxBytes || req.destroyed) return;
      req.write('x'.repeat(chunk));
      sent += chunk;
    };
    const timer = setInterval(drip, everyMs);
    const answer = answerOf(req, () => {
      answered = true;
    });
    req.on('close', () => {
      clearInterval(timer);
      resolve({ ...answer(), closed: true, sent });
    });
    drip();
    req.flushHeaders();
  });
}
