import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type ProxyStack, startProxyStack } from '../helpers/proxy.js';

/** The `proxy request` line of one response, from the server's log. */
async function lineOf(st: ProxyStack, res: Response): Promise<Record<string, unknown>> {
  const rec = await st.recordOf(res);
  const line = st.s
    .logs()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'proxy request' && l.request_id === rec.request_id);
  if (!line) throw new Error(`no request line for ${rec.request_id}`);
  return line;
}

describe('LOG_BODIES', () => {
  let st: ProxyStack;
  beforeAll(async () => {
    st = await startProxyStack({ env: { LOG_BODIES: 'true', LOG_BODY_MAX_BYTES: '160' } });
  });
  afterAll(() => st.stop());

  it('logs both bodies, cut at the cap, with secrets masked', async () => {
    const secret = 'sk-proj-a-key-pasted-into-a-prompt-0123';
    const res = await st.proxy(
      '/v1/chat/completions',
      json({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `use ${secret} please ${'x'.repeat(400)}` }] }),
    );
    expect(res.status).toBe(200);
    const reply = await res.text();
    const line = await lineOf(st, res);
    expect(line.request_body).toMatch(
      /^\{"model":"gpt-4o-mini","messages":\[\{"role":"user","content":"use \[redacted\] please x+…\[\d+ more bytes\]$/,
    );
    expect(line.response_body).toEqual(reply.length > 160 ? expect.stringContaining('more bytes]') : reply);
    expect(JSON.stringify(line)).not.toContain(secret);
  });

  it('logs a streamed reply as the client got it, and an upload by its size only', async () => {
    const stream = await st.proxy(
      '/v1/chat/completions',
      json({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
    await stream.text();
    expect((await lineOf(st, stream)).response_body).toMatch(/^data: \{/);

    const form = new FormData();
    form.set('model', 'whisper-1');
    form.set('file', new Blob([Buffer.alloc(2048, 1)], { type: 'audio/wav' }), 'a.wav');
    const upload = await st.proxy('/v1/audio/transcriptions', { method: 'POST', body: form });
    expect(upload.status).toBe(200);
    await upload.text();
    const line = await lineOf(st, upload);
    expect(line.request_body).toMatch(/^\[\d+ bytes of multipart\/form-data; boundary=.*\]$/);
    expect(line.response_body).toMatch(/^\{/);
  });
});

describe('without LOG_BODIES', () => {
  it('logs no body', async () => {
    const st = await startProxyStack();
    try {
      const res = await st.proxy('/v1/embeddings', json({ model: 'text-embedding-3-small', input: 'hello' }));
      await res.text();
      const line = await lineOf(st, res);
      expect(line).not.toHaveProperty('request_body');
      expect(line).not.toHaveProperty('response_body');
    } finally {
      await st.stop();
    }
  });
});

describe('LOG_SAMPLE_RATE=0', () => {
  it('logs failures only', async () => {
    const st = await startProxyStack({ env: { LOG_SAMPLE_RATE: '0' } });
    try {
      const ok = await st.proxy('/v1/models');
      await ok.text();
      const missing = await st.proxy('/v1/models/no-such-model');
      expect(missing.status).toBe(404);
      await missing.text();
      await st.recordOf(missing);
      const lines = st.s
        .logs()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'proxy request');
      expect(lines.map((l) => l.status)).toEqual([404]);
    } finally {
      await st.stop();
    }
  });
});
