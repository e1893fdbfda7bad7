import { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { useMockUpstream } from '../../test/helpers/mock-client.js';
import type { OpenAIErrorBody } from './errors.js';

const errorOf = async (res: Response) => ((await res.json()) as { error: OpenAIErrorBody }).error;

const ctx = useMockUpstream();

const AUDIO = Buffer.alloc(40_000, 1);

describe('speech', () => {
  it('returns deterministic audio bytes proportional to the input', async () => {
    const speak = async (input: string) => {
      const res = await ctx.client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input });
      expect(res.headers.get('content-type')).toBe('audio/mpeg');
      return Buffer.from(await res.arrayBuffer());
    };
    const short = await speak('Hello.');
    const long = await speak('Hello. '.repeat(10));
    expect(short.subarray(0, 3).toString()).toBe('ID3');
    expect(long.length - 10).toBe(((short.length - 10) / 6) * 70);
    expect(await speak('Hello.')).toEqual(short);
  });

  it('honours response_format', async () => {
    const res = await ctx.client.audio.speech.create({
      model: 'tts-1',
      voice: 'alloy',
      input: 'x',
      response_format: 'wav',
    });
    expect(res.headers.get('content-type')).toBe('audio/wav');
  });
});

describe('transcriptions and translations', () => {
  it('reads the streamed upload and answers JSON with usage', async () => {
    const res = await ctx.client.audio.transcriptions.create({
      model: 'gpt-4o-transcribe',
      file: await toFile(AUDIO, 'speech.mp3'),
    });
    expect(res.text).toBe(`Mock transcription of ${AUDIO.length} bytes of audio.`);
    // 3 s of audio at 10 tokens a second; the 43-character text is ceil(43 / 4) = 11 tokens.
    expect(res.usage).toMatchObject({ type: 'tokens', input_tokens: 30, output_tokens: 11, total_tokens: 41 });
    const whisper = await ctx.client.audio.transcriptions.create({
      model: 'whisper-1',
      file: await toFile(AUDIO, 'speech.mp3'),
    });
    expect(whisper.usage).toEqual({ type: 'duration', seconds: 3 });
    expect(ctx.mock.requests().at(-1)?.bodyBytes).toBeGreaterThan(AUDIO.length);
  });

  it('answers plain text when response_format is text', async () => {
    const text = await ctx.client.audio.transcriptions.create({
      model: 'whisper-1',
      file: await toFile(AUDIO, 'speech.mp3'),
      response_format: 'text',
    });
    expect(text).toBe(`Mock transcription of ${AUDIO.length} bytes of audio.\n`);
    const vtt = await ctx.client.audio.transcriptions.create({
      model: 'whisper-1',
      file: await toFile(AUDIO, 'speech.mp3'),
      response_format: 'vtt',
    });
    expect(vtt).toMatch(/^WEBVTT\n\n00:00:00\.000 --> 00:00:03\.000\n/);
  });

  it('translates', async () => {
    const res = await ctx.client.audio.translations.create({ model: 'whisper-1', file: await toFile(AUDIO, 'a.mp3') });
    expect(res).toEqual({ text: `Mock translation of ${AUDIO.length} bytes of audio.` });
  });

  it('requires a model', async () => {
    const form = new FormData();
    form.append('file', new Blob([AUDIO]), 'a.mp3');
    const res = await fetch(`${ctx.mock.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).param).toBe('model');
  });
});
