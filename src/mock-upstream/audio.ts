import { bodyChunks, readJson, requireString } from './body.js';
import { invalidRequest, missingParam } from './errors.js';
import { readForm } from './form.js';
import { type Ctx, sendBytes, sendJson } from './http.js';
import { billRequest } from './ledger.js';
import { multipartBoundary } from './multipart.js';
import { countTokens } from './text.js';

const AUDIO_TYPES: Readonly<Record<string, string>> = {
  mp3: 'audio/mpeg',
  opus: 'audio/opus',
  aac: 'audio/aac',
  flac: 'audio/flac',
  wav: 'audio/wav',
  pcm: 'audio/pcm',
};

// An empty ID3v2 tag, then one silent 128 kbit/s 44.1 kHz MPEG-1 Layer III frame per input character.
const ID3 = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]);
const FRAME_BYTES = 417;
const FRAME_HEADER = Buffer.from([0xff, 0xfb, 0x90, 0x64]);

function speechBytes(chars: number): Buffer {
  const audio = Buffer.alloc(ID3.length + Math.max(1, chars) * FRAME_BYTES);
  ID3.copy(audio);
  for (let at = ID3.length; at < audio.length; at += FRAME_BYTES) FRAME_HEADER.copy(audio, at);
  return audio;
}

/** `POST /v1/audio/speech`: deterministic audio bytes, length proportional to the input text. */
export async function speech(ctx: Ctx): Promise<void> {
  const body = await readJson(ctx);
  requireString(body, 'model');
  requireString(body, 'voice');
  const input = requireString(body, 'input');
  const format = body.response_format ?? 'mp3';
  const contentType = typeof format === 'string' ? AUDIO_TYPES[format] : undefined;
  if (!contentType) {
    throw invalidRequest(
      `Invalid 'response_format': expected one of ${Object.keys(AUDIO_TYPES).join(', ')}.`,
      'response_format',
    );
  }
  // Billed by the character of its input.
  billRequest(ctx, { model: body.model as string, usage: { characters: input.length } });
  sendBytes(ctx, 200, contentType, speechBytes(input.length));
}

function timestamp(seconds: number, separator: string): string {
  const hh = String(Math.floor(seconds / 3600)).padStart(2, '0');
  const mm = String(Math.floor(seconds / 60) % 60).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return `${hh}:${mm}:${ss}${separator}000`;
}

/**
 * `POST /v1/audio/transcriptions` and `/translations`: the multipart upload is consumed as a stream,
 * keeping only its text fields; the reply describes how many audio bytes arrived.
 */
async function transcribe(ctx: Ctx, task: 'transcribe' | 'translate'): Promise<void> {
  const boundary = multipartBoundary(ctx.req.headers['content-type']);
  const form = await readForm(bodyChunks(ctx), boundary, async () => undefined);
  const audio = form.files.find((f) => f.name === 'file');
  const { model, response_format: format = 'json' } = form.fields;
  if (!audio) throw missingParam('file');
  if (model === undefined) throw missingParam('model');

  const text = `Mock ${task === 'transcribe' ? 'transcription' : 'translation'} of ${audio.bytes} bytes of audio.`;
  // About 128 kbit/s of compressed speech.
  const seconds = Math.max(1, Math.ceil(audio.bytes / 16_000));
  const audioTokens = seconds * 10;
  const outputTokens = countTokens(text);
  const usage =
    task === 'translate'
      ? undefined
      : model === 'whisper-1'
        ? { type: 'duration', seconds }
        : {
            type: 'tokens',
            input_tokens: audioTokens,
            input_token_details: { text_tokens: 0, audio_tokens: audioTokens },
            output_tokens: outputTokens,
            total_tokens: audioTokens + outputTokens,
          };

  // Billed by its usage: seconds of audio (whisper-1, and every translation), else tokens.
  billRequest(ctx, { model, usage: usage?.type === 'tokens' ? usage : { type: 'duration', seconds } });
  switch (format) {
    case 'json':
      return sendJson(ctx, { text, usage });
    case 'verbose_json':
      return sendJson(ctx, {
        task,
        language: 'english',
        duration: seconds,
        text,
        segments: [
          {
            id: 0,
            seek: 0,
            start: 0,
            end: seconds,
            text,
            tokens: [],
            temperature: 0,
            avg_logprob: -0.1,
            compression_ratio: 1,
            no_speech_prob: 0,
          },
        ],
        usage,
      });
    case 'text':
      return sendBytes(ctx, 200, 'text/plain; charset=utf-8', `${text}\n`);
    case 'srt':
      return sendBytes(
        ctx,
        200,
        'text/plain; charset=utf-8',
        `1\n${timestamp(0, ',')} --> ${timestamp(seconds, ',')}\n${text}\n\n`,
      );
    case 'vtt':
      return sendBytes(
        ctx,
        200,
        'text/plain; charset=utf-8',
        `WEBVTT\n\n${timestamp(0, '.')} --> ${timestamp(seconds, '.')}\n${text}\n\n`,
      );
    default:
      throw invalidRequest(
        "Invalid 'response_format': expected one of json, text, srt, verbose_json, vtt.",
        'response_format',
      );
  }
}

export const transcriptions = (ctx: Ctx) => transcribe(ctx, 'transcribe');
export const translations = (ctx: Ctx) => transcribe(ctx, 'translate');
