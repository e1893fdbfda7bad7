import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../store/usage-record.js';
import { parseUsageEvent, toUsageEvent, USAGE_EVENT_FIELDS, USAGE_EVENT_SCHEMA } from './usage-event.js';

const record: UsageRecord = {
  id: '0190a5f2-0000-7000-8000-000000000001',
  tokenId: 'tok',
  projectId: 'proj',
  method: 'POST',
  path: '/v1/chat/completions',
  model: 'gpt-4o-mini',
  status: 200,
  stream: true,
  promptTokens: 3,
  completionTokens: 5,
  totalTokens: 8,
  cachedTokens: 1,
  reasoningTokens: 0,
  finishReason: 'stop',
  upstreamMs: 1.5,
  ttfbMs: 2.25,
  durationMs: 3.125,
  bytesIn: 10,
  bytesOut: 20,
  error: null,
  costNanoUsd: 4,
  usageStatus: 'reported',
  createdAt: Date.UTC(2025, 5, 1, 12, 0, 0, 123),
  upstreamKeyId: null,
  retries: 0,
  servedFrom: null,
  serviceTier: null,
  billedUnits: null,
  upstreamRequestId: 'req_0123456789abcdef',
};

describe('usage event, schema v1', () => {
  it('carries every field of the list, in its order, with the type the list gives', () => {
    const e = toUsageEvent(record);
    expect(Object.keys(e)).toEqual(Object.keys(USAGE_EVENT_FIELDS));
    expect(e).toMatchObject({ schema: USAGE_EVENT_SCHEMA, id: record.id, time: '2025-06-01T12:00:00.123Z' });
    const js = { string: 'string', int: 'number', double: 'number', bool: 'boolean' } as const;
    for (const [k, type] of Object.entries(USAGE_EVENT_FIELDS)) {
      const v = e[k as keyof typeof e];
      if (v !== null) expect(typeof v, k).toBe(js[type]);
      if (type === 'int' && v !== null) expect(Number.isInteger(v), k).toBe(true);
    }
  });

  it('is documented field by field in docs/observability.md', () => {
    const doc = readFileSync(new URL('../../docs/observability.md', import.meta.url), 'utf8');
    const section = /^### Usage event, schema v1\n([\s\S]*?)(?=^### )/m.exec(doc)?.[1] ?? '';
    const documented = [...section.matchAll(/^\| `([a-z_]+)`\s*\|/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(USAGE_EVENT_FIELDS));
  });

  it('reads back only lines of its own schema', () => {
    const line = JSON.stringify(toUsageEvent(record));
    expect(parseUsageEvent(line)).toEqual(toUsageEvent(record));
    for (const bad of ['', '{', 'null', '{"schema":"other/v1","id":"x"}', '{"schema":"llm-proxy.usage/v1"}']) {
      expect(parseUsageEvent(bad)).toBeUndefined();
    }
  });
});
