import { invalidRequest } from './errors.js';
import { MultipartParser, type PartHeaders } from './multipart.js';

/** Where a file part's bytes go; writes are awaited one at a time, which is the backpressure. */
export interface FileSink {
  write(data: Buffer): Promise<void>;
  close(): Promise<void>;
}

interface FilePart extends PartHeaders {
  bytes: number;
}

export interface Form {
  fields: Record<string, string>;
  files: FilePart[];
}

// Text fields are held in memory; real ones (model, purpose, prompt) are short.
const MAX_FIELD_BYTES = 1024 * 1024;

/**
 * Reads a multipart/form-data body: text fields are collected, file parts are streamed to the
 * sink `openSink` returns for them (or only counted when it returns none).
 */
export async function readForm(
  chunks: AsyncIterable<Buffer>,
  boundary: string,
  openSink: (part: PartHeaders) => Promise<FileSink | undefined>,
): Promise<Form> {
  const parser = new MultipartParser(boundary);
  const form: Form = { fields: {}, files: [] };
  let file: FilePart | undefined;
  let sink: FileSink | undefined;
  let field: { name: string; chunks: Buffer[]; bytes: number } | undefined;
  try {
    for await (const chunk of chunks) {
      for (const event of parser.push(chunk)) {
        if (event.type === 'part') {
          const { part } = event;
          if (part.filename === undefined) {
            field = { name: part.name, chunks: [], bytes: 0 };
          } else {
            file = { ...part, bytes: 0 };
            sink = await openSink(part);
          }
        } else if (event.type === 'data') {
          if (file) {
            file.bytes += event.data.length;
            await sink?.write(event.data);
          } else if (field) {
            field.bytes += event.data.length;
            if (field.bytes > MAX_FIELD_BYTES) throw invalidRequest(`Form field '${field.name}' is too large.`);
            field.chunks.push(event.data);
          }
        } else {
          if (file) form.files.push(file);
          if (field) form.fields[field.name] = Buffer.concat(field.chunks).toString();
          const done = sink;
          file = sink = field = undefined;
          await done?.close();
        }
      }
    }
    parser.end();
  } catch (err) {
    // The caller reports `err`; a failure to close the half-written file adds nothing to it.
    await sink?.close().catch(() => undefined);
    throw err;
  }
  return form;
}
