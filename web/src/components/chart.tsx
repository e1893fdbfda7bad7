/** A time-series chart drawn by uPlot (canvas; about 50 KB): fast on thousands of points. */
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { bucketLabel } from '../lib/range';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  /** A CSS variable holding the colour, e.g. --chart-1. */
  color: string;
  format?: (v: number) => string;
}

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

const HOUR_TICKS = [3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400];
const DAY_TICKS = [86_400, 2 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400];
const two = (n: number) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Tick labels in UTC (the rollups' hours and days are UTC): "14:00" within two days, "1 Dec" beyond. */
function timeLabel(sec: number, spanSec: number): string {
  const d = new Date(sec * 1000);
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
  if (spanSec > 2 * 86_400) return day;
  const hm = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  return d.getUTCHours() === 0 ? `${hm}\n${day}` : hm;
}

export function TimeChart(props: {
  /** Epoch seconds of each point. */
  x: number[];
  series: ChartSeries[];
  height?: number;
  yFormat?: (v: number) => string;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLSpanElement>(null);
  const theme = document.documentElement.dataset.theme;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // The chart's height is kept while it is drawn (through the DOM: the CSP allows no style attributes).
    el.style.minHeight = `${props.height ?? 220}px`;
    const grid = { stroke: cssVar('--chart-grid'), width: 1 };
    const axis = {
      stroke: cssVar('--text-3'),
      grid,
      ticks: { show: false },
      font: '11px Inter, system-ui, sans-serif',
    };
    const yFmt = props.yFormat ?? ((v: number) => String(v));
    const first = props.x[0] ?? 0;
    const spanSec = (props.x[props.x.length - 1] ?? first) - first;
    const step = props.x.length > 1 ? (props.x[1] as number) - first : 3600;
    const bars = uPlot.paths.bars?.({ size: [0.7, 24], align: 0 });
    // What the cursor points at, in the legend line below the chart (uPlot's own legend, a row of
    // dashes until the cursor moves, is off).
    const show = (u: uPlot) => {
      const i = u.cursor.idx ?? undefined;
      const t = i === undefined ? undefined : props.x[i];
      if (!readout.current) return;
      readout.current.textContent =
        i === undefined || t === undefined
          ? ''
          : `${bucketLabel(t * 1000, step >= 86_400 ? 'day' : 'hour')}: ${props.series
              .map((s) => `${s.label} ${(s.format ?? yFmt)(s.values[i] ?? 0)}`)
              .join(', ')}`;
    };
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: props.height ?? 220,
      // Room on the right for half the widest tick label, so one on the last tick is drawn whole ("7 Dec", not "7 De").
      padding: [8, 24, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { show: false },
      hooks: { setCursor: [show] },
      scales: {
        x: { time: true, range: (_u, min, max) => [min - step / 2, max + step / 2] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [
        {
          ...axis,
          // Ticks on whole hours, or whole days beyond two days, so no label repeats.
          incrs: spanSec > 2 * 86_400 ? DAY_TICKS : HOUR_TICKS,
          // One line of day labels, or two ("00:00" over "8 Dec") within two days; no blank band below.
          size: spanSec > 2 * 86_400 ? 28 : 44,
          values: (_u, splits) => splits.map((v) => timeLabel(v, spanSec)),
        },
        { ...axis, size: 64, values: (_u, vals) => vals.map((v) => yFmt(v)) },
      ],
      series: [
        { label: 'Time' },
        ...props.series.map((s, i) => {
          const color = cssVar(s.color);
          return {
            label: s.label,
            stroke: color,
            width: i === 0 ? 0 : 2,
            fill: i === 0 ? `${color}cc` : undefined,
            paths: i === 0 ? bars : undefined,
            points: { show: false },
          };
        }),
      ],
    };
    const plot = new uPlot(opts, [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: props.height ?? 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [props.x, props.series, props.height, theme]);
  return (
    <div class="chart-figure">
      <div ref={box} class="chart" role="img" aria-label={props.label} />
      <div class="chart-legend" aria-hidden="true">
        {props.series.map((s) => (
          <span key={s.label} class="chart-key">
            <span class={`chart-swatch swatch-${s.color.replace(/^--/, '')}`} />
            {s.label}
          </span>
        ))}
        <span class="chart-readout" ref={readout} />
      </div>
    </div>
  );
}
