import { describe, expect, it } from 'vitest';
import { RequestBody } from './request-body.js';
import { requestUnits } from './request-units.js';
import { emptyUsage, readBody } from './usage-extract.js';
import { JsonUsageSniffer, SseUsageSniffer } from './usage-sniffer.js';

/** Feeds a body through a sniffer in chunks of `size` bytes. */
function sniff(sniffer: JsonUsageSniffer | SseUsageSniffer, text: string, size = 7) {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) sniffer.push(bytes.subarray(i, i + size));
  return sniffer.finish();
}

describe('capture of every billed unit', () => {
  it('reads audio tokens of chat (both directions) and the service tier', () => {
    const u = emptyUsage();
    readBody(
      {
        object: 'chat.completion',
        model: 'gpt-4o-audio-preview',
        service_tier: 'priority',
        usage: {
          prompt_tokens: 120,
          completion_tokens: 80,
          total_tokens: 200,
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 100 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 60 },
        },
      },
      u,
    );
    expect(u.serviceTier).toBe('priority');
    expect(u.units).toEqual({ audio_input_tokens: 100, audio_output_tokens: 60 });
  });

  it('allocates no units for a text-only chat answer (zeros in the details are not units)', () => {
    const u = emptyUsage();
    readBody(
      {
        object: 'chat.completion',
        usage: {
          prompt_tokens: 5,
          completion_tokens: 5,
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
        },
      },
      u,
    );
    expect(u.units).toBeNull();
  });

  it('reads Responses tool calls (code interpreter per container) and image input tokens', () => {
    const u = emptyUsage();
    readBody(
      {
        object: 'response',
        status: 'completed',
        service_tier: 'flex',
        output: [
          { type: 'web_search_call' },
          { type: 'web_search_call' },
          { type: 'file_search_call' },
          { type: 'code_interpreter_call', container_id: 'c1' },
          { type: 'code_interpreter_call', container_id: 'c1' },
          { type: 'code_interpreter_call', container_id: 'c2' },
          { type: 'message' },
        ],
        usage: { input_tokens: 10, output_tokens: 2, input_tokens_details: { image_tokens: 4 } },
      },
      u,
    );
    expect(u.serviceTier).toBe('flex');
    expect(u.units).toEqual({ web_search: 2, file_search: 1, code_interpreter: 2, image_input_tokens: 4 });
  });

  it('reads a Responses stream’s tool calls and tier from its last event only', () => {
    const done = {
      object: 'response',
      status: 'completed',
      service_tier: 'priority',
      output: [{ type: 'web_search_call' }, { type: 'message' }],
      usage: { input_tokens: 3, output_tokens: 1, total_tokens: 4 },
    };
    const text = [
      `event: response.created\ndata: ${JSON.stringify({ type: 'response.created', response: { ...done, status: 'in_progress', output: [], usage: null } })}\n\n`,
      `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"x"}\n\n`,
      `event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response: done })}\n\n`,
    ].join('');
    const u = sniff(new SseUsageSniffer(), text);
    expect(u.units).toEqual({ web_search: 1 });
    expect(u.serviceTier).toBe('priority');
    expect(u.totalTokens).toBe(4);
  });

  it('reads the service tier and audio tokens of a chat stream’s usage chunk', () => {
    const head =
      '{"id":"c","object":"chat.completion.chunk","model":"gpt-4o-audio-preview","service_tier":"flex","choices":';
    const usage = {
      prompt_tokens: 50,
      completion_tokens: 30,
      total_tokens: 80,
      prompt_tokens_details: { audio_tokens: 40 },
    };
    const text = `data: ${head}[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}\n\ndata: ${head}[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: ${head}[],"usage":${JSON.stringify(usage)}}\n\ndata: [DONE]\n\n`;
    const u = sniff(new SseUsageSniffer(), text);
    expect(u.serviceTier).toBe('flex');
    expect(u.units).toEqual({ audio_input_tokens: 40 });
  });

  it('counts images of a small answer, and of a large one as it passes, with size and quality', () => {
    const small = { created: 1, data: [{ url: 'https://x/1' }, { url: 'https://x/2' }] };
    expect(sniff(new JsonUsageSniffer(true), JSON.stringify(small)).units).toEqual({ images: 2 });
    const b64 = 'A'.repeat(40_000);
    const large = {
      created: 1,
      data: [{ b64_json: b64 }, { b64_json: b64 }, { b64_json: b64 }],
      quality: 'high',
      size: '1536x1024',
      usage: { input_tokens: 7, output_tokens: 18_624, output_tokens_details: { image_tokens: 18_624 } },
    };
    for (const chunk of [3, 1000, 65_536]) {
      const u = sniff(new JsonUsageSniffer(true), JSON.stringify(large, null, 1), chunk);
      expect(u.units).toEqual({ images: 3, size: '1536x1024', quality: 'high', image_output_tokens: 18_624 });
      expect(u.promptTokens).toBe(7);
    }
    // Not an images request: nothing counted.
    expect(sniff(new JsonUsageSniffer(false), JSON.stringify(large), 65_536).units).toEqual({
      image_output_tokens: 18_624,
    });
  });

  it('counts images of an image stream without parsing its partial images', () => {
    const partial = `event: image_generation.partial_image\ndata: {"type":"image_generation.partial_image","b64_json":"${'B'.repeat(5000)}"}\n\n`;
    const completed = `event: image_generation.completed\ndata: ${JSON.stringify({ type: 'image_generation.completed', b64_json: 'C', size: '1024x1024', quality: 'low', usage: { input_tokens: 5, output_tokens: 272, total_tokens: 277 } })}\n\n`;
    const u = sniff(new SseUsageSniffer(), partial + completed, 100);
    expect(u.units).toEqual({ images: 1, size: '1024x1024', quality: 'low' });
    expect(u.totalTokens).toBe(277);
  });

  it('reads transcription seconds (usage duration, verbose_json) and transcription token details', () => {
    const duration = emptyUsage();
    readBody({ text: 'hi', usage: { type: 'duration', seconds: 12.5 } }, duration);
    expect(duration.units).toEqual({ seconds: 12.5 });
    expect(duration.totalTokens).toBeNull();
    const verbose = emptyUsage();
    readBody({ task: 'transcribe', language: 'english', duration: 8.25, text: 'hi' }, verbose);
    expect(verbose.units).toEqual({ seconds: 8.25 });
    const tokens = emptyUsage();
    readBody(
      {
        text: 'hi',
        usage: {
          type: 'tokens',
          input_tokens: 30,
          input_token_details: { text_tokens: 0, audio_tokens: 30 },
          output_tokens: 2,
          total_tokens: 32,
        },
      },
      tokens,
    );
    expect(tokens.units).toEqual({ audio_input_tokens: 30 });
  });

  it('reads what a request will be billed by: images, characters, an upload’s longest duration', () => {
    const json = (o: object) => new RequestBody(Buffer.from(JSON.stringify(o)), 'application/json').facts();
    expect(
      requestUnits('images.generations', json({ model: 'dall-e-3', n: 2, size: '1024x1024', quality: 'hd' })),
    ).toEqual({ images: 2, size: '1024x1024', quality: 'hd' });
    expect(requestUnits('audio.speech', json({ model: 'tts-1', voice: 'alloy', input: 'x'.repeat(300) }))).toEqual({
      characters: 300,
    });
    expect(requestUnits('chat.completions', json({ model: 'gpt-4o', messages: [] }))).toBeUndefined();
    const boundary = 'b0undary';
    const form = [
      `--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-image-1\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="n"\r\n\r\n3\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n1024x1536\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="n"\r\n\r\n${'z'.repeat(3000)}\r\n`,
      `--${boundary}--\r\n`,
    ].join('');
    const facts = new RequestBody(Buffer.from(form), `multipart/form-data; boundary=${boundary}`).facts();
    expect(facts.model).toBe('gpt-image-1');
    expect(requestUnits('images.edits', facts)).toEqual({ images: 3, size: '1024x1536' });
    expect(requestUnits('audio.transcriptions', facts)).toEqual({ seconds: Math.ceil(facts.bytes / 1000) });
  });
});
