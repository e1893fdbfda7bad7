import { readFileSync } from 'node:fs';
import OpenAI, { APIError, toFile } from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LedgerEntry, MOCK_HEADERS } from '../../src/mock-upstream/index.js';
import type { UsageRow } from '../../src/store/schema.js';
import { type ProxyStack, startProxyStack, until } from '../helpers/proxy.js';
import { RealtimeClient } from '../helpers/realtime-client.js';
import { budgetState, nanoUsd } from '../limits/helpers.js';

/*
 * The proof that the proxy records what the upstream bills: a mixed workload goes through the
 * proxy (SQLite) with the official `openai` client, then every entry of the mock's ledger is held
 * to the one usage record that carries its id (`upstream_request_id`), tokens by kind and cost,
 * the cost worked out here from the ledger's usage and the shipped price table (never by the
 * proxy's pricing code); the usage API's totals and the token's budget spend are held to the
 * ledger's sums.
 *
 * Each kind of work is one step of WORKLOAD, and each billed endpoint one entry of ENDPOINTS (how
 * to read its ledger usage as token counts, how to price it): chat, completions, embeddings and
 * responses (streamed, cut, aborted, failed), images, speech and transcriptions, a hosted tool's
 * fee, the flex tier, a batch, a background response, and realtime sessions. A new family is one
 * more of each.
 *
 * Where the proxy cannot know what was billed, the step says which fields differ and why
 * (`differs`); the test fails if any other field differs, or if those stop differing.
 */

/** Token counts by kind, as a usage record holds them. */
interface Tokens {
  prompt: number;
  completion: number;
  cached: number;
  reasoning: number;
}

type Usage = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const obj = (v: unknown): Usage => (v && typeof v === 'object' ? (v as Usage) : {});

/** Per billed endpoint: the ledger's usage as token counts, and its cost in nano-dollars from the shipped table. */
interface EndpointBilling {
  tokens(usage: Usage): Tokens;
  cost(model: string, t: Tokens, usage: Usage): number;
}

const tokenCost = (model: string, t: Tokens) => nanoUsd(model, t.prompt, t.completion, t.cached, t.reasoning);

/** Chat and completions usage: prompt_tokens, completion_tokens and their details. */
const chatTokens = (u: Usage): Tokens => ({
  prompt: num(u.prompt_tokens),
  completion: num(u.completion_tokens),
  cached: num(obj(u.prompt_tokens_details).cached_tokens),
  reasoning: num(obj(u.completion_tokens_details).reasoning_tokens),
});

const ENDPOINTS: Record<string, EndpointBilling> = {
  '/v1/chat/completions': { tokens: chatTokens, cost: tokenCost },
  '/v1/completions': { tokens: chatTokens, cost: tokenCost },
  '/v1/embeddings': { tokens: chatTokens, cost: tokenCost },
  '/v1/responses': {
    tokens: (u) => ({
      prompt: num(u.input_tokens),
      completion: num(u.output_tokens),
      cached: num(obj(u.input_tokens_details).cached_tokens),
      reasoning: num(obj(u.output_tokens_details).reasoning_tokens),
    }),
    cost: tokenCost,
  },
  // DALL·E is billed by the image (its ledger units); gpt-image by its tokens.
  '/v1/images/generations': {
    tokens: (u) =>
      u.images === undefined
        ? { prompt: num(u.input_tokens), completion: num(u.output_tokens), cached: 0, reasoning: 0 }
        : NO_TOKENS,
    cost: (model, t, u) => {
      if (u.images === undefined) return tokenCost(model, t);
      const perImage = priceFigures(model).per_image as unknown as Record<string, Record<string, number>>;
      return Math.round(num(u.images) * num(perImage[String(u.size)]?.[String(u.quality)]) * 1e9);
    },
  },
  // Speech by the character: USD per 1M characters is micro-dollars a character.
  '/v1/audio/speech': {
    tokens: () => NO_TOKENS,
    cost: (model, _t, u) => Math.round(num(u.characters) * num(priceFigures(model).per_1m_characters) * 1000),
  },
  // Transcriptions by their tokens (audio input at its rate), or by the minute.
  '/v1/audio/transcriptions': {
    tokens: (u) =>
      u.type === 'tokens'
        ? { prompt: num(u.input_tokens), completion: num(u.output_tokens), cached: 0, reasoning: 0 }
        : NO_TOKENS,
    cost: (model, _t, u) => {
      const p = priceFigures(model);
      if (u.type !== 'tokens') return Math.round((num(u.seconds) / 60) * num(p.per_minute) * 1e9);
      const details = obj(u.input_token_details);
      const micro =
        num(details.text_tokens) * num(p.input) +
        num(details.audio_tokens) * num(p.audio_input ?? p.input) +
        num(u.output_tokens) * num(p.output);
      return Math.round(micro * 1000);
    },
  },
  '/v1/realtime': {
    tokens: (u) => ({
      prompt: num(u.input_tokens),
      completion: num(u.output_tokens),
      cached: num(obj(u.input_token_details).cached_tokens),
      reasoning: 0,
    }),
    cost: realtimeCost,
  },
};

const NO_TOKENS: Tokens = { prompt: 0, completion: 0, cached: 0, reasoning: 0 };

/** A model's figures in the shipped table. */
function priceFigures(model: string): Record<string, number> {
  const p = SHIPPED.models[model];
  if (!p) throw new Error(`no price for ${model} in pricing/openai.json`);
  return p;
}

const SHIPPED = JSON.parse(readFileSync(new URL('../../pricing/openai.json', import.meta.url), 'utf8')) as {
  models: Record<string, Record<string, number>>;
  service_tiers: Record<string, number>;
  tools: Record<string, { per_1k_calls: number; models?: Record<string, number> }>;
};

/**
 * A realtime response by kind, from the shipped table's figures (USD per 1M tokens = micro-dollars
 * a token): text and audio input apart, each with its cached share at its cached rate, text and
 * audio output; in nano-dollars, rounded once.
 */
function realtimeCost(model: string, _t: Tokens, u: Usage): number {
  const p = SHIPPED.models[model];
  if (!p) throw new Error(`no price for ${model} in pricing/openai.json`);
  const input = obj(u.input_token_details);
  const cached = obj(input.cached_tokens_details);
  const output = obj(u.output_token_details);
  const micro =
    (num(input.text_tokens) - num(cached.text_tokens)) * num(p.input) +
    num(cached.text_tokens) * num(p.cached_input ?? p.input) +
    (num(input.audio_tokens) - num(cached.audio_tokens)) * num(p.audio_input) +
    num(cached.audio_tokens) * num(p.cached_audio_input ?? p.audio_input) +
    num(output.text_tokens) * num(p.output) +
    num(output.audio_tokens) * num(p.audio_output);
  return Math.round(micro * 1000);
}

/** What one request of a step produced: the upstream id the client saw, and whether the upstream billed it. */
interface Outcome {
  step: string;
  upstreamId: string;
  billed: boolean;
  /** Fields the proxy's record cannot match, with the reason: a known gap, asserted as one. */
  differs?: { fields: readonly Field[]; why: string };
  /** The record is the proxy's estimate (the upstream sent no usage), and equals the entry: why. */
  estimated?: string;
}

type Field = 'prompt_tokens' | 'completion_tokens' | 'total_tokens' | 'cached_tokens' | 'reasoning_tokens' | 'cost';

interface Driver {
  st: ProxyStack;
  client: OpenAI;
  token: string;
  tokenId: string;
}

interface Step {
  name: string;
  /** Records the proxy makes for it (for waiting on the usage writer). */
  records: number;
  run(d: Driver): Promise<Omit<Outcome, 'step'>[]>;
}

const messages = [{ role: 'user' as const, content: 'What does the ledger say about this request?' }];
const h = (headers: Record<string, number>) => ({
  headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
});
const requestId = (res: Response): string => res.headers.get('x-request-id') ?? '';

/** Iterates a stream to its end; true when it ended in an error (a cut connection). */
async function drain(stream: AsyncIterable<unknown>): Promise<boolean> {
  try {
    for await (const _ of stream);
    return false;
  } catch {
    return true;
  }
}

/** A request the upstream refuses: its id from the error the client threw. */
async function refused(call: Promise<unknown>, status: number): Promise<Omit<Outcome, 'step'>> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(APIError);
  expect((err as APIError).status).toBe(status);
  return { upstreamId: (err as APIError).headers?.get('x-request-id') ?? '', billed: false };
}

/**
 * A stream that ends without its usage is estimated: its output exactly (one token per text
 * event, as the upstream bills the pieces it sent), its prompt by the text of the messages at
 * about 4 characters a token with the chat format's framing (proxy/prompt-estimate.ts). The mock
 * counts prompts by that same rule of thumb, so here the estimate meets the bill; against OpenAI,
 * which counts with its tokenizer, it is close, and the record says `estimated` either way.
 */
const ESTIMATED_STREAM = 'a stream that ended before its usage: prompt and output estimated';

const WORKLOAD: Step[] = [
  {
    name: 'chat',
    records: 1,
    async run({ client }) {
      const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
      return [{ upstreamId: requestId(response), billed: true }];
    },
  },
  {
    name: 'chat with cached and reasoning tokens',
    records: 1,
    async run({ client }) {
      const { response } = await client.chat.completions
        .create(
          { model: 'o4-mini', messages },
          h({ [MOCK_HEADERS.cachedTokens]: 8, [MOCK_HEADERS.reasoningTokens]: 40 }),
        )
        .withResponse();
      return [{ upstreamId: requestId(response), billed: true }];
    },
  },
  {
    name: 'chat stream without include_usage (the proxy asks for it)',
    records: 1,
    async run({ client }) {
      const { data, response } = await client.chat.completions
        .create({ model: 'gpt-4o', messages, stream: true })
        .withResponse();
      expect(await drain(data)).toBe(false);
      return [{ upstreamId: requestId(response), billed: true }];
    },
  },
  {
    name: 'chat stream with include_usage, cached and reasoning tokens',
    records: 1,
    async run({ client }) {
      const { data, response } = await client.chat.completions
        .create(
          { model: 'gpt-5-mini', messages, stream: true, stream_options: { include_usage: true } },
          h({ [MOCK_HEADERS.cachedTokens]: 12, [MOCK_HEADERS.reasoningTokens]: 64 }),
        )
        .withResponse();
      expect(await drain(data)).toBe(false);
      return [{ upstreamId: requestId(response), billed: true }];
    },
  },
  {
    name: 'completions',
    records: 1,
    async run({ client }) {
      const { response } = await client.completions
        .create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Count what this costs.' })
        .withResponse();
      return [{ upstreamId: requestId(response), billed: true }];
    },
  },
  {
    name: 'embeddings',
    records: 1,
    async run({ client }) {
      // Large enough to cost whole micro-dollars: 2 × 500 tokens at $0.13 per 1M.
      const input = ['a'.repeat(2000), 'b'.repeat(2000)];
      const { response } = await client.embeddings.create({ model: 'text-embedding-3-large', input }).withResponse();
      return [{ upstreamId: requestId(response), billed: true }];
    },
  },
  {
    name: 'responses',
    records: 1,
    async run({ client }) {
      const { response } = await client.responses
        .create(
          { model: 'gpt-4.1-mini', input: 'Summarise the ledger.', instructions: 'Be brief.' },
          h({ [MOCK_HEADERS.cachedTokens]: 4 }),
        )
        .withResponse();
      return [{ upstreamId: requestId(response), billed: true }];
    },
  },
  {
    name: 'responses stream',
    records: 1,
    async run({ client }) {
      const { data, response } = await client.responses
        .create(
          { model: 'o4-mini', input: 'Stream the ledger.', stream: true },
          h({ [MOCK_HEADERS.reasoningTokens]: 30 }),
        )
        .withResponse();
      expect(await drain(data)).toBe(false);
      return [{ upstreamId: requestId(response), billed: true }];
    },
  },
  {
    name: 'chat stream the upstream cuts mid-way',
    records: 1,
    async run({ client }) {
      // The role chunk and four content chunks, then the connection is reset.
      const { data, response } = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages, stream: true }, h({ [MOCK_HEADERS.cutAfter]: 5 }))
        .withResponse();
      expect(await drain(data)).toBe(true);
      return [{ upstreamId: requestId(response), billed: true, estimated: ESTIMATED_STREAM }];
    },
  },
  {
    name: 'chat stream the client aborts mid-way',
    records: 1,
    async run({ client, st }) {
      // The upstream sends the role chunk and four content chunks, then waits: the client has
      // seen all it will bill when it leaves.
      const { data, response } = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages, stream: true }, h({ [MOCK_HEADERS.stallAfter]: 5 }))
        .withResponse();
      let content = 0;
      for await (const chunk of data) {
        if (chunk.choices[0]?.delta.content) content++;
        if (content === 4) break; // the SDK aborts the request when the loop is left
      }
      const aborted = st.mock.stats().abortedStreams;
      await until(() => st.mock.stats().abortedStreams > aborted || st.mock.stats().activeStreams === 0);
      return [{ upstreamId: requestId(response), billed: true, estimated: ESTIMATED_STREAM }];
    },
  },
  {
    name: 'realtime: two responses, then the client hangs up mid-response',
    records: 4,
    async run({ st, token, tokenId }) {
      const url = `${st.url.replace(/^http/, 'ws')}/v1/realtime?model=gpt-4o-realtime-preview`;
      const c = await RealtimeClient.open(url, [], { headers: { authorization: `Bearer ${token}` } });
      await c.event('session.created');
      c.send({ type: 'response.create' });
      await c.event('response.done');
      c.send({ type: 'response.create' });
      await c.event('response.done', 2);
      // The third response is still in progress when the client leaves: the proxy cancels it
      // upstream and records the usage of the upstream's `response.done` (status cancelled).
      c.send({ type: 'response.create', mock_hold: true });
      await c.event('response.created', 3);
      c.ws.close(1000);
      await c.whenClosed();
      const ids = c.events
        .filter((e) => e.type === 'response.created')
        .map((e) => String((e.response as { id?: unknown } | undefined)?.id));
      await until(async () => (await st.usage(tokenId)).some((r) => r.status === 101));
      const rows = await st.usage(tokenId);
      // The session's own record bills nothing, under the id of the upstream's handshake answer.
      expect(rows.find((r) => r.status === 101)).toMatchObject({
        upstream_request_id: st.mock.realtimeSessions().at(-1)?.requestId,
        cost_nano_usd: 0,
        total_tokens: 0,
      });
      expect(rows.find((r) => r.upstream_request_id === ids[2])).toMatchObject({
        finish_reason: 'cancelled',
        usage_status: 'reported',
      });
      return ids.map((id) => ({ upstreamId: id, billed: true }));
    },
  },
  {
    name: 'realtime: the upstream drops the connection mid-response',
    records: 3,
    async run({ st, token }) {
      const url = `${st.url.replace(/^http/, 'ws')}/v1/realtime?model=gpt-4o-realtime-preview&mock_cut_response=2`;
      const c = await RealtimeClient.open(url, [], { headers: { authorization: `Bearer ${token}` } });
      await c.event('session.created');
      c.send({ type: 'response.create' });
      await c.event('response.done');
      c.send({ type: 'response.create' });
      await c.event('response.created', 2);
      // The upstream drops the connection in the middle of the second response; the proxy closes with 1011.
      expect((await c.whenClosed()).code).toBe(1011);
      const ids = c.events
        .filter((e) => e.type === 'response.created')
        .map((e) => String((e.response as { id?: unknown } | undefined)?.id));
      return [
        { upstreamId: ids[0] as string, billed: true },
        {
          upstreamId: ids[1] as string,
          billed: true,
          differs: {
            fields: ['prompt_tokens', 'completion_tokens', 'total_tokens', 'cached_tokens', 'cost'],
            why:
              'a response whose upstream vanished before its response.done carries no usage, and ' +
              'nobody is left to ask: the proxy records one output token per delta event and no ' +
              'input, where the upstream bills the whole input and the output it sent',
          },
        },
      ];
    },
  },
  {
    name: 'images: two DALL·E 3 hd images (by the image) and a gpt-image-1 one (by its tokens)',
    records: 2,
    async run({ client }) {
      const dalle = await client.images
        .generate({ model: 'dall-e-3', prompt: 'two foxes', n: 2, quality: 'hd', size: '1024x1024' })
        .withResponse();
      const image = await client.images
        .generate({ model: 'gpt-image-1', prompt: 'a fox in the snow', quality: 'low' })
        .withResponse();
      return [
        { upstreamId: requestId(dalle.response), billed: true },
        { upstreamId: requestId(image.response), billed: true },
      ];
    },
  },
  {
    name: 'audio: speech by the character, transcriptions by the minute and by their tokens',
    records: 3,
    async run({ st, token }) {
      // Uploads need the SDK's own fetch (the abort agent's fetch has another FormData).
      const client = st.clientFor(token);
      const speech = await client.audio.speech
        .create({ model: 'tts-1', voice: 'alloy', input: 'What the ledger says, spoken aloud.' })
        .withResponse();
      await speech.data.arrayBuffer();
      const audio = async () => toFile(Buffer.alloc(40_000, 1), 'speech.mp3');
      const whisper = await client.audio.transcriptions
        .create({ model: 'whisper-1', file: await audio() })
        .withResponse();
      const tokens = await client.audio.transcriptions
        .create({ model: 'gpt-4o-transcribe', file: await audio() })
        .withResponse();
      return [speech, whisper, tokens].map(({ response }) => ({ upstreamId: requestId(response), billed: true }));
    },
  },
  {
    name: 'responses with a hosted web search (a fee per call), and a chat in the flex tier',
    records: 2,
    async run({ client }) {
      const searched = await client.responses
        .create({ model: 'gpt-4.1-mini', input: 'Search the ledger.', tools: [{ type: 'web_search' }] })
        .withResponse();
      const flex = await client.chat.completions
        .create({ model: 'gpt-4o-mini', messages, service_tier: 'flex' })
        .withResponse();
      expect(flex.data.service_tier).toBe('flex');
      return [
        { upstreamId: requestId(searched.response), billed: true },
        { upstreamId: requestId(flex.response), billed: true },
      ];
    },
  },
  {
    name: 'a batch of three chat requests that completes (batch price)',
    // The file, the batch, one retrieval and the output's download through the proxy, then one
    // record per output line.
    records: 7,
    async run({ st, token }) {
      // Uploads need the SDK's own fetch (the abort agent's fetch has another FormData).
      const client = st.clientFor(token);
      const lines = ['one', 'a second, longer question', 'three'].map((content, i) =>
        JSON.stringify({
          custom_id: `line-${i}`,
          method: 'POST',
          url: '/v1/chat/completions',
          body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
        }),
      );
      const file = await client.files.create({
        file: await toFile(Buffer.from(`${lines.join('\n')}\n`), 'batch.jsonl'),
        purpose: 'batch',
      });
      const batch = await client.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      await st.mock.completeBatches();
      // The client sees it finished through the proxy, which records its lines.
      const done = await client.batches.retrieve(batch.id);
      expect(done.status).toBe('completed');
      const out = await (await client.files.content(done.output_file_id as string)).text();
      const ids = out
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { response: { request_id: string } }).response.request_id);
      expect(ids).toHaveLength(3);
      return ids.map((id) => ({ upstreamId: id, billed: true }));
    },
  },
  {
    name: 'a background response, seen finished by a retrieval',
    // The create and two retrievals carry no usage; the response's own record does, once.
    records: 4,
    async run({ client }) {
      const created = await client.responses.create({
        model: 'gpt-4.1-mini',
        input: 'Work on this in the background.',
        background: true,
      });
      expect(created.status).toBe('queued');
      expect((await client.responses.retrieve(created.id)).status).toBe('in_progress');
      expect((await client.responses.retrieve(created.id)).status).toBe('completed');
      return [{ upstreamId: created.id, billed: true }];
    },
  },
  {
    name: 'failed requests: 400, 429, 500 from the upstream',
    records: 3,
    async run({ client }) {
      const chat = (status: number) =>
        client.chat.completions.create({ model: 'gpt-4o-mini', messages }, h({ [MOCK_HEADERS.status]: status }));
      return [await refused(chat(400), 400), await refused(chat(429), 429), await refused(chat(500), 500)];
    },
  },
];

/** The proxy's record and the ledger's entry side by side, for the fields compared. */
function compare(row: UsageRow, entry: LedgerEntry): Field[] {
  const billing = ENDPOINTS[entry.endpoint];
  if (!billing) throw new Error(`no billing rule for ${entry.endpoint}: add it to ENDPOINTS`);
  const t = billing.tokens(entry.usage);
  const want: Record<Field, number> = {
    prompt_tokens: t.prompt,
    completion_tokens: t.completion,
    total_tokens: t.prompt + t.completion,
    cached_tokens: t.cached,
    reasoning_tokens: t.reasoning,
    cost: entryCost(entry, t),
  };
  // A kind the record does not hold (null) is none of it.
  const got: Record<Field, number> = {
    prompt_tokens: row.prompt_tokens ?? 0,
    completion_tokens: row.completion_tokens ?? 0,
    total_tokens: row.total_tokens ?? 0,
    cached_tokens: row.cached_tokens ?? 0,
    reasoning_tokens: row.reasoning_tokens ?? 0,
    cost: row.cost_nano_usd ?? 0,
  };
  return (Object.keys(want) as Field[]).filter((f) => want[f] !== got[f]);
}

/**
 * An entry's cost: its endpoint's price for its units; in the batch and flex tiers the shipped
 * table's `service_tiers` multiplier on the standard rates (rounded once, as any); plus the fees
 * of the hosted tools it called, per 1k calls by model family.
 */
function entryCost(e: LedgerEntry, t: Tokens): number {
  const billing = ENDPOINTS[e.endpoint] as EndpointBilling;
  const model = e.model as string;
  const multiplier = e.service_tier ? SHIPPED.service_tiers[e.service_tier] : undefined;
  let nano: number;
  if (multiplier === undefined) nano = billing.cost(model, t, e.usage);
  else {
    const p = priceFigures(model);
    const micro =
      (t.prompt - t.cached) * num(p.input) +
      t.cached * num(p.cached_input ?? p.input) +
      (t.completion - t.reasoning) * num(p.output) +
      t.reasoning * num(p.reasoning ?? p.output);
    nano = Math.round(micro * multiplier * 1000);
  }
  for (const [tool, calls] of Object.entries(e.tool_calls)) {
    const fees = SHIPPED.tools[tool];
    if (!fees) throw new Error(`no fee for ${tool} in pricing/openai.json`);
    const family = Object.keys(fees.models ?? {})
      .filter((f) => model.startsWith(f))
      .sort((a, b) => b.length - a.length)[0];
    const per1k = family === undefined ? fees.per_1k_calls : (fees.models?.[family] as number);
    nano += Math.round(calls * per1k * 1e6);
  }
  return nano;
}

/** The ledger's sums of what the usage totals add up, by the same rules as compare(). */
function ledgerSums(entries: LedgerEntry[]) {
  const sums = {
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    cached_tokens: 0,
    reasoning_tokens: 0,
    cost: 0,
  };
  for (const e of entries) {
    const billing = ENDPOINTS[e.endpoint] as EndpointBilling;
    const t = billing.tokens(e.usage);
    sums.prompt_tokens += t.prompt;
    sums.completion_tokens += t.completion;
    sums.total_tokens += t.prompt + t.completion;
    sums.cached_tokens += t.cached;
    sums.reasoning_tokens += t.reasoning;
    sums.cost += entryCost(e, t);
  }
  return sums;
}

function rowSums(rows: UsageRow[]) {
  const sums = {
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    cached_tokens: 0,
    reasoning_tokens: 0,
    cost: 0,
  };
  for (const r of rows) {
    sums.prompt_tokens += r.prompt_tokens ?? 0;
    sums.completion_tokens += r.completion_tokens ?? 0;
    sums.total_tokens += r.total_tokens ?? 0;
    sums.cached_tokens += r.cached_tokens ?? 0;
    sums.reasoning_tokens += r.reasoning_tokens ?? 0;
    sums.cost += r.cost_nano_usd ?? 0;
  }
  return sums;
}

describe('the proxy’s ledger equals the upstream’s', () => {
  // Aborted requests go through an agent of their own, destroyed before the server stops (see
  // test/proxy/client-abort.test.ts: undici keeps a spare connection that holds the shutdown).
  const agent = new Agent();
  let st: ProxyStack;

  beforeAll(async () => {
    st = await startProxyStack();
  });
  afterAll(async () => {
    await agent.destroy();
    await st?.stop();
  });

  it('record by record, in the usage totals and in the budget spend', async () => {
    const tokenBudgetUsd = 5;
    const issued = await st.issueToken({ name: 'ledger', budget_usd: tokenBudgetUsd });
    const client = new OpenAI({
      baseURL: `${st.url}/v1`,
      apiKey: issued.token,
      maxRetries: 0,
      fetch: ((url: string, init: RequestInit) => undiciFetch(url, { ...init, dispatcher: agent } as never)) as never,
    });
    st.mock.reset();

    const outcomes: Outcome[] = [];
    for (const step of WORKLOAD) {
      for (const o of await step.run({ st, client, token: issued.token, tokenId: issued.id }))
        outcomes.push({ step: step.name, ...o });
    }
    for (const o of outcomes) expect(o.upstreamId, o.step).toMatch(/^(req_|resp_)/);

    // Every record is written (the usage writer flushes after the responses), and every stream
    // the mock billed has ended.
    const records = WORKLOAD.reduce((n, s) => n + s.records, 0);
    const rows = await st.waitUsage(issued.id, records);
    expect(rows).toHaveLength(records);
    const billed = outcomes.filter((o) => o.billed);
    await until(() => st.mock.ledger().length >= billed.length);
    const ledger = st.mock.ledger();

    // The ledger bills exactly what the workload says is billed, once each.
    expect(ledger.map((e) => e.id).sort()).toEqual(billed.map((o) => o.upstreamId).sort());

    const problems: string[] = [];
    for (const o of outcomes) {
      const mine = rows.filter((r) => r.upstream_request_id === o.upstreamId);
      if (mine.length !== 1) {
        problems.push(`${o.step}: ${mine.length} records for ${o.upstreamId}`);
        continue;
      }
      const row = mine[0] as UsageRow;
      if (!o.billed) {
        // A failed request: recorded with the upstream's status, no tokens and no cost.
        if (row.status < 400 || row.cost_nano_usd) problems.push(`${o.step}: ${row.status}, cost ${row.cost_nano_usd}`);
        continue;
      }
      const entry = ledger.find((e) => e.id === o.upstreamId) as LedgerEntry;
      if (row.model !== entry.model) problems.push(`${o.step}: model ${row.model} ≠ ${entry.model}`);
      const differ = compare(row, entry);
      const expected = o.differs?.fields ?? [];
      if (differ.join() !== expected.join()) {
        problems.push(`${o.step}: fields ${differ.join() || 'none'} differ, expected ${expected.join() || 'none'}`);
      }
      // An estimate, whether it meets the bill or is a known gap, says so.
      const status = o.differs || o.estimated ? 'estimated' : 'reported';
      if (row.usage_status !== status) problems.push(`${o.step}: ${row.usage_status}, expected ${status}`);
    }
    expect(problems).toEqual([]);

    // Nothing is charged that the upstream did not bill: every record with a cost has its entry.
    const ids = new Set(ledger.map((e) => e.id));
    const unbilled = rows.filter((r) => (r.cost_nano_usd ?? 0) > 0 && !ids.has(r.upstream_request_id ?? ''));
    expect(unbilled).toEqual([]);

    // The totals are the ledger's, apart from the known gaps, which are exactly the records' own
    // differences from their entries.
    const gaps = outcomes.filter((o) => o.differs);
    const gapRows = rows.filter((r) => gaps.some((o) => o.upstreamId === r.upstream_request_id));
    const gapEntries = ledger.filter((e) => gaps.some((o) => o.upstreamId === e.id));
    const whole = ledgerSums(ledger);
    const known = ledgerSums(ledger.filter((e) => !gapEntries.includes(e)));
    const expectedSums = Object.fromEntries(
      Object.entries(known).map(([k, v]) => [k, v + rowSums(gapRows)[k as keyof typeof known]]),
    ) as typeof whole;
    expect(rowSums(rows)).toEqual(expectedSums);
    // Without the gaps, the records are the ledger's to the token and the nano-dollar.
    const exact = rows.filter((r) => !gapRows.includes(r) && r.upstream_request_id && ids.has(r.upstream_request_id));
    expect(rowSums(exact)).toEqual(known);
    expect(whole.cost).toBeGreaterThan(0);

    const report = async (filter: string) => (await st.s.manage('GET', `/usage?${filter}`)).body.totals;
    for (const filter of [`token_id=${issued.id}`, `project_id=${st.projectId}`]) {
      expect(await report(filter), filter).toMatchObject({
        requests: records,
        prompt_tokens: expectedSums.prompt_tokens,
        completion_tokens: expectedSums.completion_tokens,
        total_tokens: expectedSums.total_tokens,
        cached_tokens: expectedSums.cached_tokens,
        reasoning_tokens: expectedSums.reasoning_tokens,
        cost_nano_usd: expectedSums.cost,
        estimated_requests: outcomes.filter((o) => o.differs || o.estimated).length,
      });
    }
    // The token's budget holds what was spent, and nothing is left reserved.
    expect(await budgetState(st, 'token', issued.id)).toEqual({
      spentNanoUsd: expectedSums.cost,
      reservedNanoUsd: 0,
    });
  });
});
