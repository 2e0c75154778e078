/**
 * What one policy update did, as a plot spec: each trained completion's change of log-probability
 * (after minus before the update) against its advantage A. GRPO's gradient raises completions
 * with A > 0 and lowers those with A < 0, so the points should fall in the upper-right and
 * lower-left quadrants, more clearly the larger |A| and the learning rate.
 */
import { type Figure, type Trace, PALETTE, baseLayout } from "./figure";

export interface LogprobChange {
  /** The advantage the completion was trained with. */
  advantage: number;
  /** Mean per-token log-probability of the completion before the update. */
  before: number;
  /** The same after the update. */
  after: number;
  /** Hover label, e.g. "validation-00004 node 7". */
  label: string;
}

/** Scatter of after - before against A: blue for A > 0, vermillion for A < 0, grey for A = 0. */
export function logprobChangeFigure(points: readonly LogprobChange[], title = "one update: change of each completion's log-probability"): Figure {
  const sides: { name: string; colour: string; keep: (a: number) => boolean }[] = [
    { name: "A > 0 (pushed up)", colour: PALETTE[0], keep: (a) => a > 0 },
    { name: "A < 0 (pushed down)", colour: PALETTE[1], keep: (a) => a < 0 },
    { name: "A = 0", colour: "#999999", keep: (a) => a === 0 },
  ];
  const data: Trace[] = [];
  for (const side of sides) {
    const members = points.filter((p) => side.keep(p.advantage));
    if (members.length === 0) continue;
    data.push({
      type: "scatter",
      mode: "markers",
      name: `${side.name}: ${members.length}`,
      x: members.map((p) => p.advantage),
      y: members.map((p) => p.after - p.before),
      text: members.map((p) => p.label),
      hovertemplate: "%{text}<br>A = %{x:.3f}<br>change = %{y:.2e}<extra></extra>",
      marker: { color: side.colour, size: 8, line: { color: "#333", width: 0.5 } },
    });
  }
  return {
    data,
    layout: baseLayout(title, "advantage A", "mean log p per token: after - before", {
      shapes: [
        { type: "line", xref: "paper", x0: 0, x1: 1, y0: 0, y1: 0, line: { color: "#888", width: 1, dash: "dot" } },
        { type: "line", yref: "paper", x0: 0, x1: 0, y0: 0, y1: 1, line: { color: "#888", width: 1, dash: "dot" } },
      ],
    }),
  };
}
