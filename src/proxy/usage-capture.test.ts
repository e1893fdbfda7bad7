import { describe, expect, it } from 'vitest';
import { IncludeUsageFilter, withIncludeUsage } from './include-usage.js';
import { RequestBody } from './request-body.js';
import { JsonUsageSniffer, SseUsageSniffer } from './usage-sniffer.js';

const jsonBody = (text: string) => new RequestBody(Buffer.from(text), 'application/json');

const usage = {
  prompt_tokens: 11,
  completion_tokens: 7,
  total_tokens: 18,
  prompt_tokens_details: { cached_tokens: 3 },
  completion_tokens_details: { reasoning_tokens: 2 },
};

function chatStream(withUsage: boolean): string {
  const tail = withUsage ? ',"usage":null}' : '}';
  const head = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06","choices":';
  const frames = [
    `${head}[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]${tail}`,
    `${head}[{"index":0,"delta":{"content":"say \\"usage\\":null"},"finish_reason":null}]${tail}`,
    `${head}[{"index":0,"delta":{},"finish_reason":"stop"}]${tail}`,
  ];
  if (withUsage) frames.push(`${head}[],"usage":${JSON.stringify(usage)}}`);
  return `${frames.map((f) => `data: ${f}\n\n`).join('')}data: [DONE]\n\n`;
}

function run(filter: IncludeUsageFilter, input: Buffer, chunkSize: number): string {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunkSize) out.push(filter.transform(input.subarray(i, i + chunkSize)));
  out.push(filter.flush());
  return Buffer.concat(out).toString('utf8');
}

describe('include_usage injection', () => {
  it('adds include_usage only to streamed requests that did not choose', () => {
    const added = withIncludeUsage(jsonBody('{"model":"m","stream":true,"messages":[]}'));
    expect(JSON.parse(String(added))).toEqual({
      model: 'm',
      stream: true,
      messages: [],
      stream_options: { include_usage: true },
    });
    const kept = withIncludeUsage(jsonBody('{"stream":true,"stream_options":{"foo":1}}'));
    expect(JSON.parse(String(kept)).stream_options).toEqual({ foo: 1, include_usage: true });
    expect(withIncludeUsage(jsonBody('{"stream":false}'))).toBeUndefined();
    expect(withIncludeUsage(jsonBody('{"stream":true,"stream_options":{"include_usage":false}}'))).toBeUndefined();
    expect(withIncludeUsage(jsonBody('{"stream":true,"stream_options":{"include_usage":true}}'))).toBeUndefined();
    expect(withIncludeUsage(jsonBody('{"stream":tru'))).toBeUndefined();
    expect(withIncludeUsage(jsonBody('[1,2]'))).toBeUndefined();
    // Whitespace around the colon, as pretty-printed JSON has it.
    expect(withIncludeUsage(jsonBody('{\n  "stream" :\n\ttrue\n}'))).toBeDefined();
    // "stream" inside a message is not the stream flag.
    const mention = '{"messages":[{"role":"user","content":"say \\"stream\\": true"}],"stream":false}';
    expect(withIncludeUsage(jsonBody(mention))).toBeUndefined();
  });

  it('filters the stream back to exactly what the client would have seen, at any chunking', () => {
    const expected = chatStream(false);
    const upstream = Buffer.from(chatStream(true));
    for (const size of [1, 3, 7, 64, upstream.length]) {
      const sniffer = new SseUsageSniffer();
      expect(run(new IncludeUsageFilter(sniffer), upstream, size), `chunks of ${size}`).toBe(expected);
      expect(sniffer.finish()).toEqual({
        model: 'gpt-4o-2024-08-06',
        promptTokens: 11,
        completionTokens: 7,
        totalTokens: 18,
        cachedTokens: 3,
        reasoningTokens: 2,
        finishReason: 'stop',
        serviceTier: null,
        units: null,
        job: null,
      });
    }
  });
});

describe('usage sniffers', () => {
  it('reads chat JSON usage', () => {
    const s = new JsonUsageSniffer();
    s.push(Buffer.from(JSON.stringify({ model: 'gpt-4o', choices: [{ finish_reason: 'length' }], usage })));
    expect(s.finish()).toMatchObject({ model: 'gpt-4o', promptTokens: 11, totalTokens: 18, finishReason: 'length' });
  });

  it('reads Responses API usage (input/output tokens) from JSON and from the completed event', () => {
    const response = {
      object: 'response',
      model: 'gpt-4.1',
      status: 'completed',
      usage: {
        input_tokens: 20,
        output_tokens: 9,
        total_tokens: 29,
        input_tokens_details: { cached_tokens: 4 },
        output_tokens_details: { reasoning_tokens: 5 },
      },
    };
    const expected = {
      model: 'gpt-4.1',
      promptTokens: 20,
      completionTokens: 9,
      totalTokens: 29,
      cachedTokens: 4,
      reasoningTokens: 5,
      finishReason: 'completed',
      serviceTier: null,
      units: null,
      job: null,
    };
    const json = new JsonUsageSniffer();
    json.push(Buffer.from(JSON.stringify(response)));
    expect(json.finish()).toEqual(expected);

    const sse = new SseUsageSniffer();
    const created = { type: 'response.created', response: { ...response, status: 'in_progress', usage: null } };
    sse.push(Buffer.from(`event: response.created\ndata: ${JSON.stringify(created)}\n\n`));
    sse.push(
      Buffer.from('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"hi"}\n\n'),
    );
    sse.push(
      Buffer.from(`event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response })}\n\n`),
    );
    expect(sse.finish()).toEqual(expected);

    // With an id, the object is one the job follower may follow (a background run, a batch).
    const bg = new JsonUsageSniffer();
    bg.push(
      Buffer.from(JSON.stringify({ ...response, id: 'resp_1', status: 'queued', background: true, usage: null })),
    );
    expect(bg.finish().job).toEqual({
      kind: 'response',
      id: 'resp_1',
      status: 'queued',
      background: true,
      endpoint: undefined,
      completionWindow: undefined,
    });
  });

  it('reads usage from the head and tail of a body too large to parse whole', () => {
    const data = Array.from({ length: 3000 }, (_, i) => ({
      object: 'embedding',
      index: i,
      embedding: Array(100).fill(0.123456),
    }));
    const body = Buffer.from(
      JSON.stringify({
        object: 'list',
        data,
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 42, total_tokens: 42 },
      }),
    );
    expect(body.length).toBeGreaterThan(2 << 20);
    const s = new JsonUsageSniffer();
    for (let i = 0; i < body.length; i += 65_536) s.push(body.subarray(i, i + 65_536));
    expect(s.finish()).toMatchObject({ model: 'text-embedding-3-small', promptTokens: 42, totalTokens: 42 });
  });

  it('captures nothing from bodies that are not JSON', () => {
    const s = new JsonUsageSniffer();
    s.push(Buffer.from('<html>bad gateway</html>'));
    expect(s.finish()).toMatchObject({ model: null, totalTokens: null });
  });
});

describe('the final event of a stream (truncation)', () => {
  const ended = (text: string, chunkSize = 7) => {
    const s = new SseUsageSniffer();
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += chunkSize) s.push(bytes.subarray(i, i + chunkSize));
    s.finish();
    return s.ended;
  };

  it('is [DONE] or a finish_reason for chat; a stream cut before either has not ended', () => {
    const whole = chatStream(true);
    expect(ended(whole)).toBe(true);
    expect(ended(whole.replace(/\n\n$/, ''))).toBe(true);
    // Some OpenAI-compatible servers end without [DONE]: the finish_reason says the answer is whole.
    expect(ended(whole.replace('data: [DONE]\n\n', ''))).toBe(true);
    const beforeFinish = whole.slice(0, whole.lastIndexOf('data: ', whole.indexOf('"finish_reason":"')));
    expect(beforeFinish).toContain('"content":"');
    expect(ended(beforeFinish)).toBe(false);
  });

  it('is response.completed, incomplete or failed for the Responses API, or an error event', () => {
    const delta = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"x"}\n\n';
    for (const last of ['response.completed', 'response.incomplete', 'response.failed']) {
      expect(ended(`${delta}event: ${last}\ndata: {"type":"${last}","response":{}}\n\n`), last).toBe(true);
    }
    expect(ended(delta)).toBe(false);
    expect(ended(`${delta}event: error\ndata: {"type":"error","message":"overloaded"}\n\n`)).toBe(true);
    expect(ended(`data: {"error":{"message":"overloaded","type":"server_error"}}\n\n`)).toBe(true);
  });
});
