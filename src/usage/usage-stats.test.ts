import { describe, expect, it } from 'vitest';
import { zeroSums } from '../store/schema.js';
import { ceilHour, floorHour, formatNanoUsd, toTotals, type UsageReport, usageCsv } from './usage-stats.js';
import { nanoToMicroUsd } from './usage-totals.js';

const H = 3_600_000;

describe('usage statistics shaping', () => {
  it('formats nano-dollars as exact decimal dollars by integer arithmetic', () => {
    expect(formatNanoUsd(0)).toBe('0.000000000');
    expect(formatNanoUsd(1)).toBe('0.000000001');
    expect(formatNanoUsd(60)).toBe('0.000000060');
    expect(formatNanoUsd(1_143_000)).toBe('0.001143000');
    expect(formatNanoUsd(12_500_000_000)).toBe('12.500000000');
    // Beyond what 0.1 + 0.2-style float sums keep exact.
    expect(formatNanoUsd(9_007_199_254_740_991)).toBe('9007199.254740991');
    expect(formatNanoUsd(-2_500_000_001)).toBe('-2.500000001');
  });

  it('rounds nano-dollars half up to the micro-dollars of the API fields kept from before', () => {
    expect([499, 500, 1_499, 1_500, 60, 0].map(nanoToMicroUsd)).toEqual([0, 1, 1, 2, 0, 0]);
  });

  it('rounds windows out to whole hours', () => {
    expect(floorHour(5 * H + 1)).toBe(5 * H);
    expect(floorHour(5 * H)).toBe(5 * H);
    expect(ceilHour(5 * H + 1)).toBe(6 * H);
    expect(ceilHour(5 * H)).toBe(5 * H);
  });

  it('derives totals: average duration, null without requests', () => {
    const zero = zeroSums();
    expect(toTotals(zero)).toMatchObject({ requests: 0, avg_duration_ms: null, cost_usd: '0.000000000' });
    expect(toTotals({ ...zero, requests: 3, duration_ms_sum: 10 }).avg_duration_ms).toBe(3.33);
  });

  it('writes CSV with quoting and no spreadsheet formulas from client-chosen text', () => {
    const totals = toTotals({
      requests: 1,
      errors: 0,
      prompt_tokens: 1,
      completion_tokens: 1,
      total_tokens: 2,
      cached_tokens: 0,
      reasoning_tokens: 0,
      cost_nano_usd: 5_000,
      unpriced_requests: 0,
      estimated_requests: 0,
      duration_ms_sum: 4,
      bytes_in: 1,
      bytes_out: 1,
    });
    const latency_ms = { p50: 5, p90: 5, p99: null };
    const report: UsageReport = {
      from: null,
      to: null,
      group_by: 'model',
      data: [
        { model: '=HYPERLINK("http://x")', ...totals, latency_ms },
        { model: 'a,b', ...totals, latency_ms },
        { model: null, ...totals, latency_ms },
      ],
      totals,
      latency_ms,
    };
    const lines = usageCsv(report).split('\r\n');
    expect(lines[0]).toMatch(/^model,requests,.*,latency_p50_ms,latency_p90_ms,latency_p99_ms$/);
    expect(lines[1]).toBe(`"'=HYPERLINK(""http://x"")",1,0,1,1,2,0,0,0.000005000,5,0,0,4,1,1,5000,5,5,`);
    expect(lines[2]?.startsWith('"a,b",1,')).toBe(true);
    expect(lines[3]?.startsWith(',1,0,')).toBe(true);
    expect(lines[4]).toBe('');
  });
});
