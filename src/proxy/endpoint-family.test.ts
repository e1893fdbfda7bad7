import { describe, expect, it } from 'vitest';
import { endpointFamily } from './endpoint-family.js';

describe('endpointFamily', () => {
  it('names the families and keeps the label set bounded', () => {
    expect(endpointFamily('/v1/chat/completions')).toBe('chat.completions');
    expect(endpointFamily('/v1/audio/transcriptions')).toBe('audio.transcriptions');
    expect(endpointFamily('/v1/files/file-abc/content')).toBe('files');
    expect(endpointFamily('/v1/responses/resp_1')).toBe('responses');
    expect(endpointFamily('/v1/chat/anything')).toBe('other');
    expect(endpointFamily(`/v1/${'x'.repeat(50)}`)).toBe('other');
    expect(endpointFamily('/v1/')).toBe('other');
    expect(endpointFamily('/v1/chat')).toBe('other');
    expect(endpointFamily('/v1/images/edits')).toBe('images.edits');
    expect(endpointFamily('/v1/chat/completions/chatcmpl-1/messages')).toBe('chat.completions');
    expect(endpointFamily('/v1/models')).toBe('models');
  });
});
