import { describe, expect, it } from 'vitest';
import { bodyPlan, MAX_INSPECTED_BODY, MAX_MODEL_LENGTH, RequestBody } from './request-body.js';

const JSON_TYPE = 'application/json';

describe('bodyPlan: whether a body is read, decided once', () => {
  interface Case {
    method?: string;
    path?: string;
    type?: string;
    declared?: number;
    chunked?: boolean;
    inspect?: boolean;
    setting?: boolean;
  }
  const plan = (c: Case = {}) =>
    bodyPlan(
      c.method ?? 'POST',
      c.path ?? '/v1/embeddings',
      c.type ?? JSON_TYPE,
      c.declared ?? 100,
      c.chunked ?? false,
      c.inspect ?? false,
      c.setting ?? true,
    );

  it('reads when a check needs the inside, and only bodies it can hold', () => {
    expect(plan()).toEqual({ read: false, includeUsage: false });
    expect(plan({ inspect: true })).toEqual({ read: true, includeUsage: false });
    expect(plan({ inspect: true, chunked: true })).toEqual({ read: false, includeUsage: false });
    expect(plan({ inspect: true, declared: MAX_INSPECTED_BODY + 1 })).toEqual({ read: false, includeUsage: false });
    expect(plan({ inspect: true, declared: 0 })).toEqual({ read: false, includeUsage: false });
  });

  it('reads JSON completions for include_usage, unless the setting is off', () => {
    expect(plan({ path: '/v1/chat/completions' })).toEqual({ read: true, includeUsage: true });
    expect(plan({ path: '/v1/completions' })).toEqual({ read: true, includeUsage: true });
    expect(plan({ path: '/v1/chat/completions', setting: false })).toEqual({ read: false, includeUsage: false });
    expect(plan({ path: '/v1/chat/completions', type: 'text/plain' })).toEqual({ read: false, includeUsage: false });
    expect(plan({ path: '/v1/chat/completions', method: 'GET' })).toEqual({ read: false, includeUsage: false });
  });

  it('reads where only the request names the model, so usage can be priced', () => {
    expect(plan({ path: '/v1/audio/transcriptions', type: 'multipart/form-data; boundary=x' }).read).toBe(true);
    expect(plan({ path: '/v1/images/generations' }).read).toBe(true);
  });
});

describe('RequestBody: parsed at most once, on first use', () => {
  it('reads model, output cap and choices from JSON', () => {
    const b = new RequestBody(Buffer.from('{"model":"gpt-4o","max_tokens":50,"n":3}'), JSON_TYPE);
    expect(b.facts()).toEqual({ model: 'gpt-4o', modelTooLong: false, maxOutputTokens: 50, choices: 3, bytes: 40 });
    expect(b.facts()).toBe(b.facts());
    expect(b.object()).toBe(b.object());
  });

  it('reads the model field of a multipart form, not a file named model', () => {
    const body = [
      '--B',
      'Content-Disposition: form-data; name="file"; filename="model"',
      '',
      'bytes',
      '--B',
      'Content-Disposition: form-data; name="model"',
      '',
      'whisper-1',
      '--B--',
    ].join('\r\n');
    expect(new RequestBody(Buffer.from(body), 'multipart/form-data; boundary=B').facts().model).toBe('whisper-1');
  });

  it('yields no model for what it cannot read, and flags names past the length limit', () => {
    expect(new RequestBody(Buffer.from('{"model":'), JSON_TYPE).facts().model).toBeUndefined();
    expect(new RequestBody(Buffer.from('[1]'), JSON_TYPE).object()).toBeNull();
    const long = new RequestBody(Buffer.from(JSON.stringify({ model: 'm'.repeat(MAX_MODEL_LENGTH + 1) })), JSON_TYPE);
    expect(long.facts()).toMatchObject({ model: undefined, modelTooLong: true });
  });
});
