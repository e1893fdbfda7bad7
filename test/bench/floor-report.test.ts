import { describe, expect, it } from 'vitest';
import { CELLS } from '../../benchmarks/floor-cells.js';
import { median, renderFloor } from '../../benchmarks/floor-report.js';
import type { RunRecord } from '../../benchmarks/floor-rounds.js';
import type { Target, TargetKey } from '../../benchmarks/floor-targets.js';

/** `npm run bench:floor` reports medians, and ratios as the median of per-round pairs. */
const target = (key: TargetKey, title: string): Target => ({ key, title, url: 'http://x', token: 't', pid: null });
const runOf = (rps: number, p50Ms: number, cpu: number | null = null): RunRecord => ({
  requests: 1000,
  rps,
  p50Ms,
  cpuUsPerRequest: cpu,
});
const [chat32, stream32, chat1] = CELLS as [(typeof CELLS)[number], (typeof CELLS)[number], (typeof CELLS)[number]];

describe('bench:floor report', () => {
  it('takes the median, the middle pair averaged for an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('pairs the targets round by round', () => {
    const md = renderFloor({
      generator: 'wrk',
      rounds: 2,
      seconds: 3,
      before: 'old/main.js',
      targets: [
        target('direct', 'direct'),
        target('bare', 'bare Node proxy'),
        target('proxy', 'llm-proxy'),
        target('before', 'before'),
      ],
      cells: [
        {
          cell: chat32,
          rounds: [
            {
              direct: runOf(3000, 1),
              bare: runOf(1000, 1, 100),
              proxy: runOf(500, 1, 200),
              before: runOf(600, 1, 100),
            },
            {
              direct: runOf(3000, 1),
              bare: runOf(2000, 1, 100),
              proxy: runOf(1400, 1, 300),
              before: runOf(1500, 1, 300),
            },
          ],
        },
        { cell: stream32, rounds: [{ direct: runOf(900, 30) }, { direct: runOf(900, 30) }] },
        {
          cell: chat1,
          rounds: [
            { direct: runOf(1, 0.1), proxy: runOf(1, 0.4) },
            { direct: runOf(1, 0.3), proxy: runOf(1, 0.5) },
          ],
        },
      ],
    });
    // Ratio of medians would be 950 / 1500 = 0.63; the pairs are 0.5 and 0.7.
    expect(md).toContain('| chat, c=32, req/s | 3,000 | 1,500 | 950 (0.60× bare) | 1,050 |');
    // Added p50: 0.3 and 0.2 in the two rounds.
    expect(md).toContain('| 0.450 (+0.250) |');
    // CPU: llm-proxy / before is 2.0 in round 1 and 1.0 in round 2.
    expect(md).toContain('| chat, c=32 | 250 | 100 | 200 | 2.50× (2.00, 3.00) | 1.50× (2.00, 1.00) |');
    expect(md).toContain('| chat, c=32: llm-proxy / bare Node proxy | 0.50× | 0.70× | 0.60× |');
  });
});
