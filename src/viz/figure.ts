/**
 * Plot specs as plain data: a plotly figure is `{data, layout}`, JSON all the way down, so the same
 * object can be drawn in a notebook (src/notebook/display.ts), written into the HTML report, saved
 * to a file or checked in a test. Nothing here knows about notebooks or browsers.
 *
 * Only trace types of plotly's *basic* bundle are used (scatter, bar), because that 1.2 MB bundle is
 * what the notebooks inline.
 */

/** One plotly trace (scatter, bar, ...), as plain data. */
export type Trace = Record<string, unknown>;

/** A plotly layout, as plain data. */
export type Layout = Record<string, unknown>;

/** A plotly figure: what `Plotly.newPlot(div, data, layout)` takes. */
export interface Figure {
  data: Trace[];
  layout: Layout;
}

/** One line of a line chart: y over x, with an optional band [lower, upper] around it. */
export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** Lower and upper edge of a band (e.g. a confidence interval), one value per x. */
  band?: { lower: readonly number[]; upper: readonly number[] };
  /** Line style: "solid" (default), "dash", "dot", ... (plotly's line.dash). */
  dash?: string;
}

/** The kit's colours, one per method or series, in order (colour-blind safe Okabe-Ito palette). */
export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];

/** A layout with the kit's defaults: title, axis titles, compact margins, legend below. */
export function baseLayout(title: string, xTitle: string, yTitle: string, extra: Layout = {}): Layout {
  return {
    title: { text: title, font: { size: 15 } },
    xaxis: { title: { text: xTitle }, zeroline: false },
    yaxis: { title: { text: yTitle }, zeroline: false },
    margin: { l: 60, r: 20, t: 50, b: 50 },
    height: 360,
    legend: { orientation: "h", y: -0.2 },
    ...extra,
  };
}

/** "#0072B2" with an alpha, as an rgba() colour for bands. */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`withAlpha: expected a colour like #0072B2 (got ${JSON.stringify(hex)})`);
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => parseInt(h, 16));
  return `rgba(${r},${g},${b},${alpha})`;
}

/**
 * A line chart: one line (with markers) per series, and a shaded band where a series has one.
 * The band is drawn as a closed polygon (x forward along the upper edge, back along the lower one)
 * so it needs no second trace to fill towards.
 */
export function lineChart(series: readonly Series[], title: string, xTitle: string, yTitle: string, layout: Layout = {}): Figure {
  const data: Trace[] = [];
  series.forEach((s, i) => {
    if (s.x.length !== s.y.length) throw new Error(`lineChart: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
    const colour = PALETTE[i % PALETTE.length];
    if (s.band) {
      const { lower, upper } = s.band;
      if (lower.length !== s.x.length || upper.length !== s.x.length) {
        throw new Error(`lineChart: series "${s.name}" band needs ${s.x.length} lower and upper values (got ${lower.length}, ${upper.length})`);
      }
      data.push({
        type: "scatter",
        mode: "lines",
        x: [...s.x, ...s.x.slice().reverse()],
        y: [...upper, ...lower.slice().reverse()],
        fill: "toself",
        fillcolor: withAlpha(colour, 0.18),
        line: { width: 0 },
        hoverinfo: "skip",
        showlegend: false,
        name: `${s.name} band`,
      });
    }
    data.push({ type: "scatter", mode: "lines+markers", name: s.name, x: [...s.x], y: [...s.y], line: { color: colour, width: 2, dash: s.dash ?? "solid" }, marker: { size: 6 } });
  });
  return { data, layout: baseLayout(title, xTitle, yTitle, layout) };
}

/** A grouped bar chart: one bar series per entry of `groups`, over the same categories. */
export function barChart(
  categories: readonly string[],
  groups: readonly { name: string; values: readonly number[]; text?: readonly string[] }[],
  title: string,
  yTitle: string,
  layout: Layout = {},
): Figure {
  const data: Trace[] = groups.map((g, i) => {
    if (g.values.length !== categories.length) {
      throw new Error(`barChart: group "${g.name}" has ${g.values.length} values for ${categories.length} categories`);
    }
    return {
      type: "bar",
      name: g.name,
      x: [...categories],
      y: [...g.values],
      marker: { color: PALETTE[i % PALETTE.length] },
      ...(g.text ? { text: [...g.text], textposition: "auto" } : {}),
    };
  });
  return { data, layout: baseLayout(title, "", yTitle, { barmode: "group", ...layout }) };
}
