import { useMemo } from 'preact/hooks';
import type { UsageTotals } from '../api/types';
import { compact, usd } from '../lib/format';
import { bucketStarts, fillSeries, leadingQuiet, type Window } from '../lib/range';
import { TimeChart } from './chart';

/** Requests and errors, tokens, or cost over a window, from a usage report grouped by hour or day. */
/** An entry of a series: `start` (the overview), or `hour` / `day` (a grouped usage report). */
export type SeriesEntry = UsageTotals & { start?: string; hour?: string; day?: string };

export function UsageChart(props: {
  entries: SeriesEntry[];
  window: Window;
  metric: 'requests' | 'tokens' | 'cost';
  height?: number;
  /** When what the chart is of began (a project's or token's creation), to say why the days before it are empty. */
  since?: { at: string; what: string } | undefined;
}) {
  const { entries, window: w, metric } = props;
  const x = useMemo(() => bucketStarts(w).map((t) => t / 1000), [w]);
  const series = useMemo(() => {
    if (metric === 'requests') {
      return [
        { label: 'Requests', values: fillSeries(w, entries, (e) => e.requests), color: '--chart-1' },
        { label: 'Errors', values: fillSeries(w, entries, (e) => e.errors), color: '--chart-4' },
      ];
    }
    if (metric === 'tokens') {
      return [
        { label: 'Prompt', values: fillSeries(w, entries, (e) => e.prompt_tokens), color: '--chart-2' },
        { label: 'Completion', values: fillSeries(w, entries, (e) => e.completion_tokens), color: '--chart-1' },
      ];
    }
    return [
      {
        label: 'Cost',
        values: fillSeries(w, entries, (e) => e.cost_nano_usd / 1e9),
        color: '--chart-3',
        fill: true,
        format: (v: number) => usd(v),
      },
    ];
  }, [entries, w, metric]);
  const quiet = useMemo(() => leadingQuiet(w, entries, props.since?.at), [w, entries, props.since?.at]);
  const label = `${metric === 'cost' ? 'Cost' : metric === 'tokens' ? 'Tokens' : 'Requests and errors'} per ${w.bucket}`;
  return (
    <>
      <TimeChart
        x={x}
        series={series}
        height={props.height}
        label={label}
        yFormat={metric === 'cost' ? (v) => usd(v) : (v) => compact(v)}
      />
      {quiet && (
        <p class="chart-note" data-testid="chart-note">
          No requests before {quiet.first}
          {quiet.created ? `: ${props.since?.what} was created ${quiet.created}.` : ' in this range.'}
        </p>
      )}
    </>
  );
}
