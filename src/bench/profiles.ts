import { readFileSync } from 'node:fs';
import type { RequestSpec } from './request-kind.js';

/** A named scenario: what to send, and defaults for how hard (flags on the command line win). */
export interface Profile {
  name: string;
  description: string;
  requests: RequestSpec[];
  concurrency?: number;
  /** e.g. `10s`. */
  duration?: string;
}

/**
 * `x-mock-*` headers pace the project's mock upstream (`llm-proxy mock-upstream`) so a stream looks
 * like a real model's; the proxy forwards them and a real upstream ignores them.
 */
const LONG_STREAM_PACING = { 'x-mock-chunks': '256', 'x-mock-ttft-ms': '200', 'x-mock-chunk-delay-ms': '10' };

const SHORT_CHAT: RequestSpec = {
  name: 'short-chat',
  endpoint: 'chat',
  body: '{"model":"{{model}}","messages":[{"role":"user","content":"{{random_prompt:8}}"}],"max_tokens":64}',
};

const batch = Array.from({ length: 32 }, () => '"{{random_prompt:16}}"').join(',');

export const PROFILES: Readonly<Record<string, Profile>> = {
  'short-chat': {
    name: 'short-chat',
    description: 'non-streamed chat completions with a short prompt, 10 connections',
    requests: [SHORT_CHAT],
    concurrency: 10,
    duration: '10s',
  },
  'long-stream': {
    name: 'long-stream',
    description: 'streamed chat with a long prompt and a long, paced reply (256 chunks), 32 connections',
    requests: [
      {
        name: 'long-stream',
        endpoint: 'chat',
        stream: true,
        body:
          '{"model":"{{model}}","messages":[{"role":"system","content":"{{random_prompt:200}}"},' +
          '{"role":"user","content":"{{random_prompt:40}}"}],"max_tokens":1024,"stream_options":{"include_usage":true}}',
        headers: LONG_STREAM_PACING,
      },
    ],
    concurrency: 32,
    duration: '20s',
  },
  'embeddings-batch': {
    name: 'embeddings-batch',
    description: 'embeddings of 32 inputs per request (text-embedding-3-small), 8 connections',
    requests: [
      {
        name: 'embeddings-batch',
        endpoint: 'embeddings',
        body: `{"model":"{{model}}","input":[${batch}]}`,
      },
    ],
    concurrency: 8,
    duration: '10s',
  },
  mixed: {
    name: 'mixed',
    description: 'weighted mix: 60% short chat, 20% streamed chat, 15% embeddings, 5% model list; 16 connections',
    requests: [
      { ...SHORT_CHAT, weight: 60 },
      {
        name: 'chat-stream',
        endpoint: 'chat',
        stream: true,
        weight: 20,
        headers: { 'x-mock-chunks': '32', 'x-mock-chunk-delay-ms': '2' },
      },
      { name: 'embeddings', endpoint: 'embeddings', weight: 15 },
      { name: 'models', endpoint: 'models', weight: 5 },
    ],
    concurrency: 16,
    duration: '15s',
  },
};

export class ProfileError extends Error {}

/** A built-in profile by name, or a JSON file of the same shape (`requests` required). */
export function resolveProfile(nameOrFile: string, read: (file: string) => string = readText): Profile {
  const builtin = PROFILES[nameOrFile];
  if (builtin) return builtin;
  if (!/[./\\]/.test(nameOrFile)) {
    throw new ProfileError(
      `unknown profile ${JSON.stringify(nameOrFile)}; built in: ${Object.keys(PROFILES).join(', ')}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(read(nameOrFile));
  } catch (err) {
    throw new ProfileError(`cannot read profile ${nameOrFile}: ${(err as Error).message}`);
  }
  return validateProfile(parsed, nameOrFile);
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

function validateProfile(value: unknown, source: string): Profile {
  const fail = (why: string): never => {
    throw new ProfileError(`profile ${source}: ${why}`);
  };
  if (!value || typeof value !== 'object' || Array.isArray(value)) return fail('expected a JSON object');
  const v = value as Record<string, unknown>;
  if (!Array.isArray(v.requests) || v.requests.length === 0) return fail('"requests" must be a non-empty array');
  const requests = v.requests.map((r, i): RequestSpec => {
    if (!r || typeof r !== 'object') return fail(`requests[${i}] must be an object`);
    const spec = r as Record<string, unknown>;
    if (typeof spec.endpoint !== 'string') return fail(`requests[${i}].endpoint must be a string`);
    if (spec.body !== undefined && typeof spec.body !== 'string') {
      // A JSON body given as an object is taken as the template's text.
      spec.body = JSON.stringify(spec.body);
    }
    return spec as unknown as RequestSpec;
  });
  if (v.concurrency !== undefined && !(Number.isInteger(v.concurrency) && (v.concurrency as number) > 0)) {
    fail('"concurrency" must be a positive integer');
  }
  if (v.duration !== undefined && typeof v.duration !== 'string') fail('"duration" must be a string such as "10s"');
  return {
    name: typeof v.name === 'string' ? v.name : source,
    description: typeof v.description === 'string' ? v.description : '',
    requests,
    ...(v.concurrency === undefined ? {} : { concurrency: v.concurrency as number }),
    ...(v.duration === undefined ? {} : { duration: v.duration as string }),
  };
}
