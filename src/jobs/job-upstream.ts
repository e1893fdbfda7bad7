import { createInterface } from 'node:readline';
import { request } from 'undici';
import type { UpstreamKey } from '../projects/upstream-key.js';

/** How long one poll or download may take before it counts as failed (and is retried later). */
const TIMEOUT_MS = 60_000;

export class UpstreamAnswer extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(key: UpstreamKey): Record<string, string> {
  return key.authStyle === 'api-key' ? { 'api-key': key.secret } : { authorization: `Bearer ${key.secret}` };
}

const url = (key: UpstreamKey, path: string) => `${key.origin}${key.prefix}${path}`;

/** `GET path` with the key; its response once it answered 200, else an UpstreamAnswer with the status (never the key). */
async function get(key: UpstreamKey, path: string) {
  const res = await request(url(key, path), {
    method: 'GET',
    headers: headers(key),
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new UpstreamAnswer(res.statusCode, `the upstream answered ${res.statusCode} to GET ${path}`);
  }
  return res;
}

/** `GET path` with the key; the JSON object, or an UpstreamAnswer with the status (never the key). */
export async function getJson(key: UpstreamKey, path: string): Promise<Record<string, unknown>> {
  const res = await get(key, path);
  const body = (await res.body.json()) as unknown;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new UpstreamAnswer(502, `the upstream answered GET ${path} with something other than a JSON object`);
  }
  return body as Record<string, unknown>;
}

/**
 * The lines of a file's content (`GET /v1/files/{id}/content`), read as they arrive: a batch's
 * output may be hundreds of megabytes, and only one line is held at a time.
 */
export async function* fileLines(key: UpstreamKey, fileId: string): AsyncGenerator<string> {
  const res = await get(key, `/v1/files/${encodeURIComponent(fileId)}/content`);
  const lines = createInterface({ input: res.body, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) if (line.trim() !== '') yield line;
  } finally {
    lines.close();
    res.body.destroy();
  }
}
