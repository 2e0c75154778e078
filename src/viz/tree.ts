/**
 * A rollout tree as a picture: the task on the left, one column per turn, an edge from each
 * failed attempt to the repairs sampled from its feedback. Nodes are coloured by a value per node
 * (the reward r by default; the propagated reward R or the advantage A in the credit notebook),
 * and hovering over a node shows its code and the feedback it got.
 *
 * Layout (a tidy tree, drawn left to right): leaves take consecutive rows in depth-first order,
 * every expanded attempt sits at the mean row of its children, so sibling groups stay together and
 * no edges cross.
 */
import { checkTree } from "../murphy/tree-check";
import type { RolloutTree } from "../murphy/tree";
import type { Figure, Layout, Trace } from "./figure";

export interface TreePoint {
  /** Turn of the node (0 for the task). */
  x: number;
  /** Row of the node; leaves take 0, 1, 2, ... in depth-first order. */
  y: number;
}

/** Positions of every node (indexed like `tree.nodes`) and of the task (the root). */
export function treeLayout(tree: RolloutTree): { nodes: TreePoint[]; root: TreePoint } {
  checkTree(tree);
  const points = new Array<TreePoint>(tree.nodes.length);
  let nextRow = 0;
  const place = (id: number): number => {
    const node = tree.nodes[id];
    const y = node.children.length === 0 ? nextRow++ : mean(node.children.map(place));
    points[id] = { x: node.turn, y };
    return y;
  };
  const first = tree.nodes.filter((n) => n.parent === null).map((n) => n.id);
  const rows = first.map(place);
  return { nodes: points, root: { x: 0, y: rows.length ? mean(rows) : 0 } };
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Text safe inside plotly's hover labels (a small HTML subset): escape markup, keep lines. */
export function hoverEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\n/g, "<br>");
}

/** Long single lines (programs, feedback) wrapped for a hover label of reasonable width. */
export function wrapLines(text: string, width = 70): string {
  return text
    .split("\n")
    .map((line) => {
      const parts: string[] = [];
      for (let i = 0; i < line.length; i += width) parts.push(line.slice(i, i + width));
      return parts.length ? parts.join("\n") : "";
    })
    .join("\n");
}

export interface TreeFigureOptions {
  title?: string;
  /** The value that colours each node (default: the reward r). */
  values?: readonly number[];
  /** Name of that value, for the colour bar and the hover text (default "r"). */
  valueName?: string;
  /** Colour range (default [0, 1]; advantages want a symmetric range such as [-2, 2]). */
  range?: [number, number];
  /** A plotly colour scale (default red -> yellow -> green, for rewards). */
  colorscale?: string | [number, string][];
  /** Nodes drawn as dropped (hollow grey x): e.g. pruned ones. */
  dropped?: readonly boolean[];
  /** Extra hover lines per node, e.g. "reason: intra:over-budget". */
  extraHover?: readonly string[];
  /** Show each node's value as a label next to it (default true for trees of <= 40 nodes). */
  labels?: boolean;
  height?: number;
}

/** Colours for advantages: red (pushed down) -> white (0) -> blue (pushed up); use a symmetric range. */
export const ADVANTAGE_COLOURS: [number, string][] = [
  [0, "#b2182b"],
  [0.5, "#f7f7f7"],
  [1, "#2166ac"],
];

const REWARD_SCALE: [number, string][] = [
  [0, "#d73027"],
  [0.5, "#fee08b"],
  [1, "#1a9850"],
];

/**
 * The tree as a plotly figure: grey edges, one marker per candidate coloured by `values`, the task
 * as a black square at turn 0. Hover text: id, turn, outcome, r, the chosen value, any extra lines,
 * the program and its feedback.
 */
export function treeFigure(tree: RolloutTree, options: TreeFigureOptions = {}): Figure {
  const { nodes: points, root } = treeLayout(tree);
  const values = options.values ?? tree.nodes.map((n) => n.reward);
  if (values.length !== tree.nodes.length) {
    throw new Error(`treeFigure: tree "${tree.taskId}" has ${tree.nodes.length} nodes but ${values.length} values were given`);
  }
  const valueName = options.valueName ?? "r";
  const dropped = options.dropped ?? tree.nodes.map(() => false);
  const showLabels = options.labels ?? tree.nodes.length <= 40;

  // Edges: one trace, segments separated by nulls (plotly breaks the line there).
  const edgeX: (number | null)[] = [];
  const edgeY: (number | null)[] = [];
  const droppedEdgeX: (number | null)[] = [];
  const droppedEdgeY: (number | null)[] = [];
  for (const node of tree.nodes) {
    const from = node.parent === null ? root : points[node.parent];
    const [xs, ys] = dropped[node.id] ? [droppedEdgeX, droppedEdgeY] : [edgeX, edgeY];
    xs.push(from.x, points[node.id].x, null);
    ys.push(from.y, points[node.id].y, null);
  }

  const hover = tree.nodes.map((n) => {
    const lines = [
      `<b>node ${n.id}</b>, turn ${n.turn}: ${n.outcome}`,
      `r = ${n.reward.toFixed(3)}` + (valueName !== "r" ? `, ${valueName} = ${formatValue(values[n.id])}` : ""),
    ];
    if (options.extraHover?.[n.id]) lines.push(hoverEscape(options.extraHover[n.id]));
    lines.push("<b>code</b>", hoverEscape(wrapLines(n.code || "(empty)")), "<b>feedback</b>", hoverEscape(wrapLines(n.feedback)));
    return lines.join("<br>");
  });

  const kept = tree.nodes.filter((n) => !dropped[n.id]).map((n) => n.id);
  const gone = tree.nodes.filter((n) => dropped[n.id]).map((n) => n.id);
  const [cmin, cmax] = options.range ?? [0, 1];
  const data: Trace[] = [
    { type: "scatter", mode: "lines", x: edgeX, y: edgeY, line: { color: "#999", width: 1.5 }, hoverinfo: "skip", showlegend: false },
    {
      type: "scatter",
      mode: showLabels ? "markers+text" : "markers",
      name: "candidates",
      x: kept.map((id) => points[id].x),
      y: kept.map((id) => points[id].y),
      text: kept.map((id) => formatValue(values[id])),
      textposition: "middle right",
      hovertext: kept.map((id) => hover[id]),
      hoverinfo: "text",
      marker: {
        size: 16,
        color: kept.map((id) => values[id]),
        cmin,
        cmax,
        colorscale: options.colorscale ?? REWARD_SCALE,
        showscale: true,
        colorbar: { title: { text: valueName }, thickness: 12 },
        line: { color: "#333", width: 1 },
      },
      showlegend: false,
    },
    {
      type: "scatter",
      mode: "markers",
      name: "task",
      x: [root.x],
      y: [root.y],
      hovertext: [`<b>task ${hoverEscape(tree.taskId)}</b>`],
      hoverinfo: "text",
      marker: { size: 18, symbol: "square", color: "#222" },
      showlegend: false,
    },
  ];
  if (gone.length) {
    data.splice(1, 0, { type: "scatter", mode: "lines", x: droppedEdgeX, y: droppedEdgeY, line: { color: "#ccc", width: 1, dash: "dot" }, hoverinfo: "skip", showlegend: false });
    data.push({
      type: "scatter",
      mode: "markers",
      name: "dropped",
      x: gone.map((id) => points[id].x),
      y: gone.map((id) => points[id].y),
      hovertext: gone.map((id) => hover[id]),
      hoverinfo: "text",
      marker: { size: 13, symbol: "x-open", color: "#888", line: { width: 2 } },
      showlegend: true,
    });
  }
  const turns = Math.max(0, ...tree.nodes.map((n) => n.turn));
  const rows = Math.max(1, ...points.map((p) => p.y + 1));
  const layout: Layout = {
    title: { text: options.title ?? `rollout tree of ${tree.taskId}`, font: { size: 15 } },
    xaxis: {
      title: { text: "turn" },
      tickvals: Array.from({ length: turns + 1 }, (_, i) => i),
      ticktext: ["task", ...Array.from({ length: turns }, (_, i) => `turn ${i + 1}`)],
      range: [-0.4, turns + 0.6],
      zeroline: false,
      showgrid: false,
    },
    yaxis: { visible: false, autorange: "reversed" },
    margin: { l: 20, r: 20, t: 50, b: 40 },
    height: options.height ?? Math.min(900, Math.max(260, 22 * rows + 90)),
    hovermode: "closest",
    hoverlabel: { align: "left", font: { family: "monospace", size: 11 } },
    legend: { orientation: "h", y: -0.12 },
  };
  return { data, layout };
}

/** A node value as a short label: 3 significant decimals, NaN as "-". */
function formatValue(v: number): string {
  return Number.isFinite(v) ? (Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)) : "-";
}
