import { useEffect, useId, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { stackedTotals } from '../../lib/dashboard';

/** One series: its name (legend and table), its colour, a value per x. */
export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
  /** Drawn dashed (a reference line, such as the capacity). */
  readonly dashed?: boolean;
}

/** The chart's numbers as a table: what a screen reader, or anyone who wants them exact, reads. */
export interface ChartTable {
  readonly columns: readonly string[];
  /** A row per x (an hour, a day, a category): its heading cell first, then a value per column. */
  readonly rows: readonly { readonly key: string; readonly cells: readonly (string | number)[] }[];
}

type Shape =
  /** Counts held over time, a step per hour; `x` the hours' starts and `end` the last one's end, in Unix seconds. */
  | { readonly kind: 'steps'; readonly x: readonly number[]; readonly end: number }
  /** A bar per hour; `x` the hours' starts and `end` the last one's end, in Unix seconds. */
  | { readonly kind: 'bars'; readonly x: readonly number[]; readonly end: number }
  /** One horizontal bar per category (the series' values in category order), the first on top. */
  | { readonly kind: 'categories'; readonly labels: readonly string[] }
  /** Bars per category (days) stacked bottom up in series order. */
  | { readonly kind: 'stacked'; readonly labels: readonly string[] };

const HEIGHT = 220;
const AXIS = '#4b5563';
const GRID = '#e5e7eb';
/** Counts only: ticks on whole numbers. */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 100_000];

/** How tall a chart is: a horizontal bar chart grows with its categories. */
const heightOf = (shape: Shape) =>
  shape.kind === 'categories' ? Math.max(140, 34 * shape.labels.length + 40) : HEIGHT;

const countAxis: uPlot.Axis = {
  stroke: AXIS,
  grid: { stroke: GRID },
  ticks: { stroke: GRID },
  incrs: WHOLE_STEPS,
  values: (_u, splits) => splits.map((value) => String(value)),
};

function xAxis(shape: Shape): uPlot.Axis {
  const axis = { stroke: AXIS, grid: { show: false }, ticks: { stroke: GRID } };
  if (shape.kind === 'categories') {
    const longest = Math.max(...shape.labels.map((label) => label.length), 1);
    return {
      ...axis,
      side: 3,
      size: Math.min(160, 24 + 8 * longest),
      splits: () => shape.labels.map((_, i) => i),
      values: (_u, splits) => splits.map((i) => shape.labels[i] ?? ''),
    };
  }
  if (shape.kind === 'stacked') {
    return {
      ...axis,
      splits: () => shape.labels.map((_, i) => i),
      // Every label that fits: one in `every` when they would overlap.
      values: (u, splits) => {
        const room = u.bbox.width / uPlot.pxRatio / Math.max(1, splits.length);
        const every = Math.max(1, Math.ceil(48 / room));
        return splits.map((i, k) => (k % every === 0 ? (shape.labels[i] ?? '') : ''));
      },
    };
  }
  return axis;
}

function options(shape: Shape, series: readonly ChartSeries[], width: number): uPlot.Options {
  const bars = shape.kind !== 'steps';
  // Stacked: the tallest (the sum of all) first, each next one over it.
  const drawn = shape.kind === 'stacked' ? [...series].reverse() : series;
  const paths =
    shape.kind === 'steps'
      ? uPlot.paths.stepped?.({ align: 1 })
      : uPlot.paths.bars?.({
          size: shape.kind === 'bars' ? [0.8, Number.POSITIVE_INFINITY] : [0.7, 48],
          align: shape.kind === 'bars' ? 1 : 0,
        });
  const x: uPlot.Scale =
    shape.kind === 'categories'
      ? { time: false, ori: 1, dir: -1, range: () => [-0.5, shape.labels.length - 0.5] }
      : shape.kind === 'stacked'
        ? { time: false, range: () => [-0.5, shape.labels.length - 0.5] }
        : { time: true, range: () => [shape.x[0] ?? shape.end, shape.end] };
  return {
    width,
    height: heightOf(shape),
    legend: { show: false },
    cursor: { show: false },
    scales: {
      x,
      y: {
        ...(shape.kind === 'categories' ? { ori: 0, dir: 1 } : {}),
        range: (_u, _min, max) => [0, Math.max(1, max)],
      },
    },
    axes: [xAxis(shape), shape.kind === 'categories' ? { ...countAxis, side: 2 } : countAxis],
    series: [
      {},
      ...drawn.map(
        (s): uPlot.Series => ({
          label: s.label,
          stroke: s.color,
          width: bars ? 0 : 2,
          ...(s.dashed ? { dash: [6, 4] } : {}),
          points: { show: false },
          ...(bars ? { fill: s.color } : {}),
          ...(paths ? { paths } : {}),
        }),
      ),
    ],
  };
}

function columns(shape: Shape, series: readonly ChartSeries[]): uPlot.AlignedData {
  if (shape.kind === 'steps' || shape.kind === 'bars') {
    // One more point at the end: a step holds its last value to the end of the last hour, and a
    // bar's width comes from the distance to the next point.
    const last = (values: readonly number[]) =>
      shape.kind === 'steps' ? (values.at(-1) ?? null) : null;
    return [[...shape.x, shape.end], ...series.map((s) => [...s.values, last(s.values)])];
  }
  const x = shape.labels.map((_, i) => i);
  const values =
    shape.kind === 'stacked'
      ? stackedTotals(series.map((s) => s.values)).reverse()
      : series.map((s) => [...s.values]);
  return [x, ...values];
}

/**
 * A chart (uPlot, on a canvas) with its legend, and its numbers as a table under "Show the
 * numbers". The canvas is an image named by `summary`; the table is the chart for anyone who
 * can't see it, and the exact values for anyone who can.
 */
export function Chart(
  props: {
    readonly title: string;
    /** What the chart shows, in a sentence: the image's accessible name. */
    readonly summary: string;
    readonly series: readonly ChartSeries[];
    readonly table: ChartTable;
  } & { readonly shape: Shape },
) {
  const box = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const { shape, series } = props;

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const plot = new uPlot(
      options(shape, series, element.clientWidth || 600),
      columns(shape, series),
      element,
    );
    const resize = new ResizeObserver(() => {
      if (element.clientWidth > 0) {
        plot.setSize({ width: element.clientWidth, height: heightOf(shape) });
      }
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [shape, series]);

  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId} className="chart-title">
        {props.title}
      </figcaption>
      <div ref={box} className="chart-plot" role="img" aria-label={props.summary} />
      <ul className="chart-legend" aria-hidden="true">
        {series.map((s) => (
          <li key={s.label}>
            <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" focusable="false">
              <rect width="12" height="12" rx="2" fill={s.color} />
            </svg>
            {s.label}
          </li>
        ))}
      </ul>
      <details className="chart-table">
        <summary>Show the numbers</summary>
        <section
          className="chart-table-scroll"
          aria-label={`${props.title}: the numbers`}
          // biome-ignore lint/a11y/noNoninteractiveTabindex: on a narrow screen it scrolls sideways, and a keyboard must be able to scroll it
          tabIndex={0}
        >
          <table>
            <caption className="visually-hidden">{props.title}</caption>
            <thead>
              <tr>
                {props.table.columns.map((column) => (
                  <th key={column} scope="col">
                    {column}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {props.table.rows.map((row) => (
                <tr key={row.key}>
                  {row.cells.map((cell, i) =>
                    i === 0 ? (
                      <th key={props.table.columns[i]} scope="row">
                        {cell}
                      </th>
                    ) : (
                      <td key={props.table.columns[i]}>{cell}</td>
                    ),
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </details>
    </figure>
  );
}
