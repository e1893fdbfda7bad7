import http from 'node:http';

/**
 * HTTP for the zero-downtime tests where the connection matters: node:http with an agent of the
 * test's choosing, so it decides which connection a request goes on, and by default a connection
 * of its own, closed after the answer. fetch would keep idle keep-alive connections to an instance
 * for as long as the server allows, and a drain that waits for idle connections would wait for them.
 */

export interface Answered {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the request went on a connection an earlier request had used. */
  reused: boolean;
}

export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; agent?: http.Agent | false } = {},
): Promise<Answered> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: opts.method ?? 'GET',
        agent: opts.agent ?? false,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, reused: req.reusedSocket }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A project and a token through the management API of `url`, each on a connection of its own. */
export async function issueToken(url: string, managementToken: string, upstreamKey: string): Promise<string> {
  const headers = { authorization: `Bearer ${managementToken}` };
  const project = await request(`${url}/manage/projects`, {
    method: 'POST',
    headers,
    body: { name: `p-${Math.random().toString(36).slice(2)}`, api_key: upstreamKey },
  });
  if (project.status !== 201) throw new Error(`project: ${project.status} ${project.body}`);
  const token = await request(`${url}/manage/tokens`, {
    method: 'POST',
    headers,
    body: { project_id: JSON.parse(project.body).id },
  });
  if (token.status !== 201) throw new Error(`token: ${token.status} ${token.body}`);
  return JSON.parse(token.body).token as string;
}

/** A chat completion with `token` on `agent`'s connection (or one of its own). */
export const chatRequest = (url: string, token: string, agent: http.Agent | false = false) =>
  request(`${url}/v1/chat/completions`, {
    method: 'POST',
    agent,
    headers: { authorization: `Bearer ${token}` },
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
  });

/**
 * Whether a new connection to `url` is refused (the port is closed). A connection the kernel
 * accepted in the instant the port closed is reset instead: not known yet, asked again.
 */
export function refused(url: string): Promise<boolean> {
  return request(url).then(
    () => false,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') return true;
      if (err.code === 'ECONNRESET') return false;
      throw err;
    },
  );
}
