/** A time-series chart drawn by uPlot (canvas; about 50 KB): fast on thousands of points. */
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  /** A CSS variable holding the colour, e.g. --chart-1. */
  color: string;
  fill?: boolean;
  format?: (v: number) => string;
}

const cssVar = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export function TimeChart(props: {
  /** Epoch seconds of each point. */
  x: number[];
  series: ChartSeries[];
  height?: number;
  yFormat?: (v: number) => string;
  label: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const theme = document.documentElement.dataset.theme;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const grid = { stroke: cssVar('--chart-grid'), width: 1 };
    const axis = {
      stroke: cssVar('--text-3'),
      grid,
      ticks: { show: false },
      font: '11px Inter, system-ui, sans-serif',
    };
    const yFmt = props.yFormat ?? ((v: number) => String(v));
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height: props.height ?? 220,
      padding: [8, 8, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { show: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{ ...axis }, { ...axis, size: 56, values: (_u, vals) => vals.map((v) => yFmt(v)) }],
      series: [
        {},
        ...props.series.map((s) => {
          const color = cssVar(s.color);
          return {
            label: s.label,
            stroke: color,
            width: 2,
            fill: s.fill ? `${color}22` : undefined,
            points: { show: false },
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : (s.format ?? yFmt)(v)),
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
  return <div ref={box} class="chart" role="img" aria-label={props.label} />;
}
