import http2, { type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { registerSecret } from './secret-watch.js';

export interface H2Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/**
 * An HTTP/2 session to `url`: over TLS trusting `ca` (ALPN h2), or cleartext with prior knowledge
 * for an http:// URL. Fails unless HTTP/2 is what was agreed.
 */
export async function h2Connect(url: string, ca?: string): Promise<ClientHttp2Session> {
  const session = http2.connect(url, ca ? { ca } : {});
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  if (url.startsWith('https:') && session.alpnProtocol !== 'h2') {
    throw new Error(`ALPN agreed on ${session.alpnProtocol}, not h2`);
  }
  return session;
}

/** One request on the session; `onData` sees each DATA chunk as it arrives. */
export function h2Request(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: string | Buffer,
  onData?: (chunk: Buffer) => void,
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    stream.on('response', (h) => {
      head = h;
    });
    stream.on('data', (c: Buffer) => {
      chunks.push(c);
      onData?.(c);
    });
    stream.on('end', () => {
      const buf = Buffer.concat(chunks);
      resolve({ status: Number(head[':status']), headers: head, body: buf, text: buf.toString('utf8') });
    });
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

/** A JSON POST's headers with the proxy token. */
export function h2Post(path: string, token: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return {
    ':method': 'POST',
    ':path': path,
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    ...extra,
  };
}

/**
 * POST /manage/session with the management token on the session: the reply and the Set-Cookie of
 * the session cookie (its value and the CSRF token registered for the leak scan).
 */
export async function h2SignIn(
  session: ClientHttp2Session,
  managementToken: string,
): Promise<{ reply: H2Reply; cookie: string | undefined }> {
  const reply = await h2Request(
    session,
    { ':method': 'POST', ':path': '/manage/session', 'content-type': 'application/json' },
    JSON.stringify({ token: managementToken }),
  );
  const cookie = [reply.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('llmp_session='));
  registerSecret(cookie?.split(';')[0]?.slice('llmp_session='.length));
  if (reply.status === 200) registerSecret(JSON.parse(reply.text).csrf_token);
  return { reply, cookie };
}
