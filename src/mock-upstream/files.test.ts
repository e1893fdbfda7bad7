import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import OpenAI, { toFile } from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenAIErrorBody } from './errors.js';
import { type MockUpstream, startMockUpstream } from './index.js';

let mock: MockUpstream;
let client: OpenAI;

const errorOf = async (res: Response) => ((await res.json()) as { error: OpenAIErrorBody }).error;
let filesDir: string;

beforeAll(async () => {
  filesDir = await mkdtemp(join(tmpdir(), 'mock-files-test-'));
  mock = await startMockUpstream({ filesDir });
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
});
afterAll(async () => {
  await mock.close();
  await rm(filesDir, { recursive: true, force: true });
});

describe('files', () => {
  it('stores a multi-MB upload and serves it back byte for byte', async () => {
    const bytes = randomBytes(6 * 1024 * 1024 + 13);
    const file = await client.files.create({ file: await toFile(bytes, 'big.jsonl'), purpose: 'batch' });
    expect(file).toMatchObject({
      object: 'file',
      bytes: bytes.length,
      filename: 'big.jsonl',
      purpose: 'batch',
      status: 'processed',
    });
    expect(file.id).toMatch(/^file-/);
    expect((await stat(join(filesDir, file.id))).size).toBe(bytes.length);

    const content = await client.files.content(file.id);
    expect(content.headers.get('content-type')).toBe('application/octet-stream');
    expect(content.headers.get('content-length')).toBe(String(bytes.length));
    expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('streams a 64 MB upload to disk, counting the file part exactly', async () => {
    const boundary = 'mock-test-boundary';
    const block = Buffer.alloc(1024 * 1024, '\r\n--mock-test-boundar');
    async function* body() {
      yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n`);
      for (let i = 0; i < 64; i++) yield block;
      yield Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`);
      yield Buffer.from(`--${boundary}--\r\n`);
    }
    const res = await request(`${mock.url}/v1/files`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Readable.from(body()),
    });
    const file = (await res.body.json()) as OpenAI.FileObject;
    expect(res.statusCode).toBe(200);
    expect(file).toMatchObject({ bytes: 64 * block.length, filename: 'big.bin', purpose: 'batch' });
    expect((await stat(join(filesDir, file.id))).size).toBe(64 * block.length);
  });

  it('lists, retrieves and deletes files', async () => {
    const a = await client.files.create({ file: await toFile(Buffer.from('a'), 'a.txt'), purpose: 'user_data' });
    const b = await client.files.create({ file: await toFile(Buffer.from('bb'), 'b.txt'), purpose: 'user_data' });
    const listed = [];
    for await (const f of client.files.list({ purpose: 'user_data' })) listed.push(f.id);
    expect(listed).toEqual([b.id, a.id]);
    expect(await client.files.retrieve(a.id)).toEqual(a);

    expect(await client.files.delete(a.id)).toEqual({ id: a.id, object: 'file', deleted: true });
    await expect(client.files.retrieve(a.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.files.content(a.id)).rejects.toMatchObject({ status: 404 });
    expect(await readdir(filesDir)).not.toContain(a.id);
  });

  it('rejects an upload without purpose and leaves nothing on disk', async () => {
    const before = await readdir(filesDir);
    const form = new FormData();
    form.append('file', new Blob(['data']), 'x.txt');
    const res = await fetch(`${mock.url}/v1/files`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ param: 'purpose', code: 'missing_required_parameter' });
    expect(await readdir(filesDir)).toEqual(before);
  });

  it('rejects a non-multipart upload', async () => {
    const res = await fetch(`${mock.url}/v1/files`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/multipart\/form-data/);
  });

  it('removes its own temp directory on close', async () => {
    const own = await startMockUpstream();
    const ownClient = new OpenAI({ baseURL: `${own.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const file = await ownClient.files.create({ file: await toFile(Buffer.from('x'), 'x'), purpose: 'batch' });
    const candidates = (await readdir(tmpdir())).filter((d) => d.startsWith('llm-proxy-mock-'));
    const holders: string[] = [];
    for (const dir of candidates) {
      if ((await readdir(join(tmpdir(), dir)).catch((): string[] => [])).includes(file.id)) holders.push(dir);
    }
    expect(holders).toHaveLength(1);
    await own.close();
    expect(await readdir(tmpdir())).not.toContain(holders[0]);
  });
});
