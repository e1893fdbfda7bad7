import { describe, expect, it } from 'vitest';
import { type NewUsageRow, RECORD_COLUMNS, recordValues } from './schema.js';

describe('recordValues', () => {
  it('lists a row’s values in RECORD_COLUMNS order, every column once', () => {
    // Each column holds its own name: the values must spell the column list.
    const row = Object.fromEntries(RECORD_COLUMNS.map((c) => [c, c])) as unknown as NewUsageRow;
    expect(recordValues(row)).toEqual(RECORD_COLUMNS);
  });

  it('gives absent optional columns null, and retries its database default', () => {
    const values = recordValues({
      id: 'r1',
      request_id: 'r1',
      token_id: 't',
      project_id: 'p',
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      is_stream: 0,
      duration_ms: 1,
      bytes_in: 2,
      bytes_out: 3,
      usage_status: 'missing',
      created_at: 4,
    } as NewUsageRow);
    const at = (c: string) => values[RECORD_COLUMNS.indexOf(c as (typeof RECORD_COLUMNS)[number])];
    expect(at('model')).toBeNull();
    expect(at('upstream_key_id')).toBeNull();
    expect(at('served_from')).toBeNull();
    expect(at('upstream_request_id')).toBeNull();
    expect(at('retries')).toBe(0);
    expect(values).not.toContain(undefined);
  });
});
