import { describe, expect, it } from 'vitest';
import { tableRow } from './log-query.js';

const line = (cost: Record<string, unknown>) => ({
  time: '2026-12-07T12:00:00.000Z',
  level: 'info',
  status: 200,
  method: 'POST',
  path: '/v1/embeddings',
  model: 'text-embedding-3-small',
  total_tokens: 3,
  duration_ms: 4,
  token_id: 't',
  ...cost,
});

describe('llm-proxy logs table', () => {
  it('shows cost in dollars to the nano-dollar, also from lines written before (cost_micro_usd)', () => {
    expect(tableRow(line({ cost_nano_usd: 60 }))).toContain(' 0.000000060 ');
    expect(tableRow(line({ cost_micro_usd: 11 }))).toContain(' 0.000011000 ');
    expect(tableRow(line({ cost_nano_usd: null }))).toMatch(/ {2}- {2}/);
  });
});
