import OpenAI from 'openai';
import { completion } from '../../src/mock-upstream/text.js';
import { SAFETY_NET_MS } from '../helpers/scaleout.js';

/**
 * Steady load for the zero-downtime test: clients that each send one request after another through
 * the official `openai` client, chat completions and paced SSE streams, every request checked
 * against what the mock upstream sends for it, and every outcome kept with its times.
 */

export interface LoadOptions {
  /** Clients sending plain chat completions. */
  chatClients: number;
  /** Clients sending streamed chat completions of `streamChunks` chunks, `chunkDelayMs` apart. */
  streamClients: number;
  streamChunks: number;
  chunkDelayMs: number;
}

export interface Outcome {
  kind: 'chat' | 'stream';
  /** Index of the token (in the list given to startLoad) the request used. */
  token: number;
  /** Unique per request (x-load-id): the mock upstream's log tells a request sent twice. */
  id: string;
  /** performance.now() at the start and at the end (last byte read, or the error). */
  start: number;
  end: number;
  /** Why the request failed, or undefined when it was answered in full with the expected body. */
  failure: string | undefined;
}

export interface Load {
  /** Requests finished so far (answered in full, or failed). */
  finished(): number;
  outcomes(): readonly Outcome[];
  /** Lets every client finish its request in progress, sends no more, and resolves with all outcomes. */
  stop(): Promise<Outcome[]>;
}

const CHAT_CHUNKS = 5;
const PROMPT = [{ role: 'user' as const, content: 'hi' }];

/**
 * A client whose fetch keeps a copy of the raw response body, so a stream can be checked on the
 * wire (its `data: [DONE]` line, which the client itself consumes) as well as through the client.
 */
function recordingClient(baseURL: string, token: string): { client: OpenAI; raw(): Promise<string> } {
  let raw: Promise<string> = Promise.resolve('');
  const client = new OpenAI({
    baseURL,
    apiKey: token,
    maxRetries: 0,
    timeout: SAFETY_NET_MS,
    fetch: async (url, init) => {
      const res = await fetch(url, init);
      if (!res.body) return res;
      const [forClient, copy] = res.body.tee();
      raw = new Response(copy).text();
      return new Response(forClient, { status: res.status, statusText: res.statusText, headers: res.headers });
    },
  });
  return { client, raw: () => raw };
}

/** What is wrong with a chat completion's answer, if anything. */
async function chat(client: OpenAI, id: string): Promise<string | undefined> {
  const res = await client.chat.completions.create(
    { model: 'gpt-4o-mini', messages: PROMPT },
    { headers: { 'x-load-id': id, 'x-mock-chunks': String(CHAT_CHUNKS) } },
  );
  const want = completion(CHAT_CHUNKS).text;
  if (res.choices[0]?.message.content !== want) return `content ${JSON.stringify(res.choices[0]?.message.content)}`;
  if (res.usage?.completion_tokens !== CHAT_CHUNKS) return `usage ${JSON.stringify(res.usage)}`;
  return undefined;
}

/** What is wrong with a streamed completion, if anything: every chunk, the finish, usage, [DONE]. */
async function stream(
  client: OpenAI,
  raw: () => Promise<string>,
  id: string,
  opts: LoadOptions,
): Promise<string | undefined> {
  const events = await client.chat.completions.create(
    { model: 'gpt-4o-mini', messages: PROMPT, stream: true, stream_options: { include_usage: true } },
    {
      headers: {
        'x-load-id': id,
        'x-mock-chunks': String(opts.streamChunks),
        'x-mock-chunk-delay-ms': String(opts.chunkDelayMs),
      },
    },
  );
  let text = '';
  let finish: string | null | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of events) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  const want = completion(opts.streamChunks).text;
  if (text !== want) return `stream text cut: ${text.length} of ${want.length} characters`;
  if (finish !== 'stop') return `no finish_reason (${finish})`;
  if (usage?.completion_tokens !== opts.streamChunks) return `no usage chunk (${JSON.stringify(usage)})`;
  const body = await raw();
  if (!body.endsWith('data: [DONE]\n\n')) return `stream did not end with [DONE]: …${body.slice(-80)}`;
  return undefined;
}

/** Starts the clients against `baseUrl` (the balancer); client i uses token i % tokens.length. */
export function startLoad(baseUrl: string, tokens: string[], opts: LoadOptions): Load {
  const outcomes: Outcome[] = [];
  let stopping = false;
  const run = async (client: number, kind: Outcome['kind']) => {
    const token = client % tokens.length;
    for (let n = 0; !stopping; n++) {
      const id = `${kind}-${client}-${n}`;
      const { client: c, raw } = recordingClient(`${baseUrl}/v1`, tokens[token] as string);
      const start = performance.now();
      let failure: string | undefined;
      try {
        failure = kind === 'chat' ? await chat(c, id) : await stream(c, raw, id, opts);
      } catch (err) {
        failure = err instanceof OpenAI.APIError ? `${err.status} ${err.message}` : String(err);
      }
      outcomes.push({ kind, token, id, start, end: performance.now(), failure });
    }
  };
  const clients = [
    ...Array.from({ length: opts.chatClients }, (_, i) => run(i, 'chat')),
    ...Array.from({ length: opts.streamClients }, (_, i) => run(opts.chatClients + i, 'stream')),
  ];
  return {
    finished: () => outcomes.length,
    outcomes: () => outcomes,
    stop: async () => {
      stopping = true;
      await Promise.all(clients);
      return outcomes;
    },
  };
}

/** The p-th percentile (0-100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
