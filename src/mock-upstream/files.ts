import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { bodyChunks } from './body.js';
import { invalidRequest, missingParam, notFound } from './errors.js';
import type { FileObject } from './file-store.js';
import { type FileSink, readForm } from './form.js';
import { type Ctx, responseHeaders, sendJson } from './http.js';
import { page } from './list.js';
import { multipartBoundary } from './multipart.js';
import { randomId, unixSeconds } from './text.js';

const PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];

async function fileSink(path: string): Promise<FileSink> {
  const handle = await open(path, 'w');
  return {
    async write(data) {
      for (let offset = 0; offset < data.length; ) offset += (await handle.write(data, offset)).bytesWritten;
    },
    close: () => handle.close(),
  };
}

/** `POST /v1/files`: the `file` part is streamed to disk as it arrives, never held whole. */
export async function uploadFile(ctx: Ctx): Promise<void> {
  const { files } = ctx.state;
  const boundary = multipartBoundary(ctx.req.headers['content-type']);
  const id = randomId('file-');
  const path = files.path(id);
  let opened = false;
  try {
    const form = await readForm(bodyChunks(ctx), boundary, async (part) => {
      if (part.name !== 'file' || opened) return undefined;
      opened = true;
      return fileSink(path);
    });
    const upload = form.files.find((f) => f.name === 'file');
    const { purpose } = form.fields;
    if (!upload) throw missingParam('file');
    if (purpose === undefined) throw missingParam('purpose');
    if (!PURPOSES.includes(purpose)) {
      throw invalidRequest(`'${purpose}' is not one of ${JSON.stringify(PURPOSES)} - 'purpose'`, 'purpose');
    }
    const file: FileObject = {
      id,
      object: 'file',
      bytes: upload.bytes,
      created_at: unixSeconds(),
      expires_at: null,
      filename: upload.filename ?? 'file',
      purpose,
      status: 'processed',
      status_details: null,
    };
    files.add(file);
    sendJson(ctx, file);
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
}

export function listFiles(ctx: Ctx): void {
  const purpose = ctx.query.get('purpose');
  let items = ctx.state.files.list().filter((f) => purpose === null || f.purpose === purpose);
  if (ctx.query.get('order') !== 'asc') items = items.reverse();
  sendJson(ctx, page(items, ctx.query, 10_000));
}

function lookup(ctx: Ctx): FileObject {
  const [id = ''] = ctx.params;
  const file = ctx.state.files.get(id);
  if (!file) throw notFound(`No such File object: ${id}`, 'id');
  return file;
}

export function getFile(ctx: Ctx): void {
  sendJson(ctx, lookup(ctx));
}

export async function fileContent(ctx: Ctx): Promise<void> {
  const file = lookup(ctx);
  const source = createReadStream(ctx.state.files.path(file.id));
  ctx.res.writeHead(
    200,
    responseHeaders(ctx, { 'content-type': 'application/octet-stream', 'content-length': file.bytes }),
  );
  try {
    await pipeline(source, ctx.res);
  } finally {
    ctx.state.stats.bytesOut += source.bytesRead;
  }
}

export async function deleteFile(ctx: Ctx): Promise<void> {
  const { id } = lookup(ctx);
  await ctx.state.files.delete(id);
  sendJson(ctx, { id, object: 'file', deleted: true });
}
