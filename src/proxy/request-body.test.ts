import { describe, expect, it } from 'vitest';
import { bodyPlan, MAX_INSPECTED_BODY, MAX_MODEL_LENGTH, RequestBody } from './request-body.js';

const JSON_TYPE = 'application/json';

describe('bodyPlan: whether a body is read, decided once', () => {
  const plan = (over: Partial<Parameters<typeof bodyPlan>> = {}) => {
    const args: Parameters<typeof bodyPlan> = ['POST', '/v1/embeddings', JSON_TYPE, 100, false, false, true];
    Object.assign(args, over);
    return bodyPlan(...args);
  };

  it('reads when a check needs the inside, and only bodies it can hold', () => {
    expect(plan()).toEqual({ read: false, includeUsage: false });
    expect(plan({ 5: true })).toEqual({ read: true, includeUsage: false });
    expect(plan({ 5: true, 4: true })).toEqual({ read: false, includeUsage: false });
    expect(plan({ 5: true, 3: MAX_INSPECTED_BODY + 1 })).toEqual({ read: false, includeUsage: false });
    expect(plan({ 5: true, 3: 0 })).toEqual({ read: false, includeUsage: false });
  });

  it('reads JSON completions for include_usage, unless the setting is off', () => {
    expect(plan({ 1: '/v1/chat/completions' })).toEqual({ read: true, includeUsage: true });
    expect(plan({ 1: '/v1/completions' })).toEqual({ read: true, includeUsage: true });
    expect(plan({ 1: '/v1/chat/completions', 6: false })).toEqual({ read: false, includeUsage: false });
    expect(plan({ 1: '/v1/chat/completions', 2: 'text/plain' })).toEqual({ read: false, includeUsage: false });
    expect(plan({ 1: '/v1/chat/completions', 0: 'GET' })).toEqual({ read: false, includeUsage: false });
  });

  it('reads where only the request names the model, so usage can be priced', () => {
    expect(plan({ 1: '/v1/audio/transcriptions', 2: 'multipart/form-data; boundary=x' }).read).toBe(true);
    expect(plan({ 1: '/v1/images/generations' }).read).toBe(true);
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
