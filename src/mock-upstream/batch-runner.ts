import { readFile, writeFile } from 'node:fs/promises';
import { isObject, type JsonObject } from './body.js';
import { chatAnswer } from './chat.js';
import { completionAnswer } from './completions.js';
import { embeddingsAnswer } from './embeddings.js';
import { OpenAIHttpError } from './errors.js';
import type { FileObject, FileStore } from './file-store.js';
import { bill, type Ledger } from './ledger.js';
import { moderationAnswer } from './moderations.js';
import type { AnswerSettings } from './options.js';
import { responseAnswer } from './responses.js';
import { randomId, unixSeconds } from './text.js';

/** The answer of each endpoint a batch can run: the very functions that answer the live endpoints. */
const ANSWERS: Readonly<Record<string, (body: JsonObject, s: AnswerSettings) => { model: string; usage?: object }>> = {
  '/v1/chat/completions': chatAnswer,
  '/v1/completions': completionAnswer,
  '/v1/embeddings': embeddingsAnswer,
  '/v1/responses': responseAnswer,
  '/v1/moderations': moderationAnswer,
};

export const BATCH_ENDPOINTS = Object.keys(ANSWERS);

/** One line of a batch's input file. */
export interface BatchLine {
  custom_id: string;
  method: string;
  url: string;
  body: JsonObject;
}

/** One line of a batch's output or error file, as OpenAI writes it. */
export interface BatchResult {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

/** Reads and checks an input file: one JSON request per line, each for the batch's endpoint. */
export async function readBatchInput(path: string, endpoint: string): Promise<BatchLine[] | string> {
  const text = await readFile(path, 'utf8');
  const lines: BatchLine[] = [];
  const ids = new Set<string>();
  for (const [n, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      return `line ${n + 1} is not valid JSON`;
    }
    if (!isObject(line) || typeof line.custom_id !== 'string' || !isObject(line.body)) {
      return `line ${n + 1} needs a string custom_id and an object body`;
    }
    if (line.url !== endpoint)
      return `line ${n + 1}: url '${String(line.url)}' is not the batch's endpoint ${endpoint}`;
    if (line.method !== 'POST') return `line ${n + 1}: method must be POST`;
    if (ids.has(line.custom_id)) return `line ${n + 1}: duplicate custom_id '${line.custom_id}'`;
    ids.add(line.custom_id);
    lines.push(line as unknown as BatchLine);
  }
  return lines.length === 0 ? 'the input file has no requests' : lines;
}

/**
 * Runs one line as the live endpoint would answer it: 200 with its body, or its error status and
 * body. A line answered 200 is billed in the ledger under its `request_id`, at the batch tier.
 */
export function runLine(line: BatchLine, s: AnswerSettings, ledger: Ledger): BatchResult {
  const answer = ANSWERS[line.url];
  const requestId = randomId('req_', 16);
  const id = randomId('batch_req_', 16);
  if (!answer)
    return { id, custom_id: line.custom_id, response: null, error: { code: 'invalid_url', message: line.url } };
  try {
    const body = answer(line.body, s);
    if (body.usage)
      bill(ledger, requestId, line.url, { model: body.model, service_tier: 'batch', usage: { ...body.usage } });
    return { id, custom_id: line.custom_id, response: { status_code: 200, request_id: requestId, body }, error: null };
  } catch (err) {
    if (!(err instanceof OpenAIHttpError)) throw err;
    return {
      id,
      custom_id: line.custom_id,
      response: { status_code: err.status, request_id: requestId, body: { error: err.body } },
      error: null,
    };
  }
}

/** Writes results as a JSONL file of purpose `batch_output`; undefined when there are none. */
export async function writeResults(files: FileStore, results: BatchResult[]): Promise<string | undefined> {
  if (results.length === 0) return undefined;
  const id = randomId('file-');
  const text = results
    .map((r) => JSON.stringify(r))
    .join('\n')
    .concat('\n');
  await writeFile(files.path(id), text);
  const file: FileObject = {
    id,
    object: 'file',
    bytes: Buffer.byteLength(text),
    created_at: unixSeconds(),
    expires_at: null,
    filename: 'batch_output.jsonl',
    purpose: 'batch_output',
    status: 'processed',
    status_details: null,
  };
  files.add(file);
  return id;
}
