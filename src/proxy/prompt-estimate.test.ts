import { describe, expect, it } from 'vitest';
import { estimatePromptTokens } from './prompt-estimate.js';

describe('estimatePromptTokens', () => {
  it('counts a chat prompt by its text, with 4 per message and 3 to prime the reply', () => {
    const body = {
      model: 'gpt-4o-mini',
      stream: true,
      messages: [
        { role: 'system', content: 'Be brief.' }, // 9 chars: 3
        { role: 'user', content: [{ type: 'text', text: 'What does it cost?' }] }, // 18 chars: 5
      ],
    };
    expect(estimatePromptTokens('/v1/chat/completions', body)).toBe(3 + 4 + 3 + 4 + 5);
  });

  it('ignores the JSON around the text: settings and long model names do not count', () => {
    const short = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const padded = { ...short, model: 'x'.repeat(200), temperature: 0.2, metadata: { note: 'y'.repeat(400) } };
    expect(estimatePromptTokens('/v1/chat/completions', padded)).toBe(
      estimatePromptTokens('/v1/chat/completions', short),
    );
  });

  it('counts Responses input and instructions, completions prompts and embeddings inputs', () => {
    expect(estimatePromptTokens('/v1/responses', { input: 'Summarise.', instructions: 'Be brief.' })).toBe(3 + 3 + 4);
    expect(
      estimatePromptTokens('/v1/responses', {
        input: [
          { role: 'user', content: 'abcd' },
          { role: 'user', content: 'e' },
        ],
      }),
    ).toBe(1 + 1 + 8);
    expect(estimatePromptTokens('/v1/completions', { prompt: ['abcdefgh', [1, 2, 3]] })).toBe(2 + 3);
    expect(estimatePromptTokens('/openai/v1/embeddings', { input: 'abcde' })).toBe(2);
  });

  it('has no estimate for a body without a prompt it knows', () => {
    expect(estimatePromptTokens('/v1/chat/completions', { messages: 'not a list' })).toBeNull();
    expect(estimatePromptTokens('/v1/images/generations', { prompt: 'a cat' })).toBeNull();
  });
});
