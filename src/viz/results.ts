/**
 * Plot specs of experiment results, as plain plotly data ({data, layout}; figure.ts). Each is a
 * function of the loaded results (src/experiments/results.ts `loadResults(name)`), so a notebook
 * cell reads:
 *
 *   const results = loadResults("headline");
 *   show(iterKFigure(results));
 *   show(learningCurveFigure(results, "reward"));
 *   show(paperFigure(kitVsPaper(results, loadPaper())));
 *
 * Error bars are 95% t-intervals over seeds (none with one seed).
 */
import type { ExperimentResults } from "../experiments/results";
import type { KitVsPaperRow } from "../experiments/paper";
import { type Figure, type Series, type Trace, PALETTE, baseLayout, lineChart } from "./figure";

const colourOf = (results: ExperimentResults, method: string) => PALETTE[Math.max(0, results.spec.methods.findIndex((m) => m.name === method)) % PALETTE.length];
const finiteOr0 = (x: number) => (Number.isFinite(x) ? x : 0);

/** Iter-k pass@1 against k, one line per method, with 95% CI error bars over seeds. */
export function iterKFigure(results: ExperimentResults): Figure {
  const data: Trace[] = results.methods.map((m) => ({
    type: "scatter",
    mode: "lines+markers",
    name: `${m.method} (${m.seeds.length} seed${m.seeds.length === 1 ? "" : "s"})`,
    x: m.iter.map((_, k) => k + 1),
    y: m.iter.map((ci) => ci.mean),
    error_y: { type: "data", array: m.iter.map((ci) => finiteOr0(ci.halfWidth)), visible: m.seeds.length > 1 },
    line: { color: colourOf(results, m.method), width: 2 },
    marker: { size: 7 },
  }));
  return {
    data,
    layout: baseLayout(`${results.name}: Iter-k pass@1 on ${results.spec.eval.split} (mean, 95% CI over seeds)`, "k (feedback iterations)", "pass@1", {
      xaxis: { title: { text: "k (feedback iterations)" }, dtick: 1 },
      yaxis: { title: { text: "pass@1" }, rangemode: "tozero" },
    }),
  };
}

/**
 * Training curves against completion tokens sampled so far (the compute-matched axis): the
 * step's mean reward ("reward") or the fraction of its tasks solved within S turns ("solved").
 * One line per cell, coloured by method.
 */
export function learningCurveFigure(results: ExperimentResults, metric: "reward" | "solved" = "reward"): Figure {
  const data: Trace[] = [];
  const shown = new Set<string>();
  for (const cell of results.cells) {
    const points = results.curves.filter((p) => p.cell === cell.cell);
    if (points.length === 0) continue;
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: cell.method,
      legendgroup: cell.method,
      showlegend: !shown.has(cell.method),
      x: points.map((p) => p.tokensSampled),
      y: points.map((p) => p[metric]),
      text: points.map((p) => `${p.cell} step ${p.step}`),
      line: { color: colourOf(results, cell.method), width: 1.5 },
      marker: { size: 4 },
    });
    shown.add(cell.method);
  }
  const label = metric === "reward" ? "mean reward of the step's candidates" : "tasks solved within S turns";
  return { data, layout: baseLayout(`${results.name}: training ${metric} against tokens sampled`, "completion tokens sampled", label) };
}

/** The per-step quantities `seedBandFigure` can draw. */
export type CurveMetric = "validationIter1" | "turn1Reward" | "klStart";

const CURVE_LABELS: Record<CurveMetric, { title: string; y: string; smooth: number }> = {
  validationIter1: { title: "validation Iter-1 pass@1 (probe tasks)", y: "Iter-1 pass@1", smooth: 1 },
  turn1Reward: { title: "turn-1 reward (first attempts only, mean over 10 steps)", y: "mean reward of first attempts", smooth: 10 },
  klStart: { title: "drift: KL(start || now) on the probe set", y: "kl/start (nats/token)", smooth: 1 },
};

/** Trailing mean over `window` values (NaN-free input). */
function trailingMean(values: readonly number[], window: number): number[] {
  return values.map((_, i) => {
    const part = values.slice(Math.max(0, i - window + 1), i + 1);
    return part.reduce((a, b) => a + b, 0) / part.length;
  });
}

/**
 * One line per method, the mean over its seeds, with a band from the lowest to the highest seed,
 * against completion tokens sampled so far (mean over seeds at that step): methods compared at
 * equal sampling compute along the x-axis. Steps where the metric was not measured are skipped;
 * a step counts only when every seed has it.
 */
export function seedBandFigure(results: ExperimentResults, metric: CurveMetric): Figure {
  const { title, y, smooth } = CURVE_LABELS[metric];
  const series: Series[] = [];
  for (const method of results.spec.methods) {
    const cells = results.cells.filter((c) => c.method === method.name && c.steps > 0);
    if (cells.length === 0) continue;
    const perCell = cells.map((c) => {
      const points = results.curves.filter((p) => p.cell === c.cell && Number.isFinite(p[metric]));
      const values = trailingMean(points.map((p) => p[metric]), smooth);
      return new Map(points.map((p, i) => [p.step, { x: p.tokensSampled, y: values[i] }]));
    });
    const steps = [...perCell[0].keys()].filter((step) => perCell.every((m) => m.has(step))).sort((a, b) => a - b);
    if (steps.length === 0) continue;
    const at = (step: number) => perCell.map((m) => m.get(step)!);
    series.push({
      name: `${method.name} (${cells.length} seed${cells.length === 1 ? "" : "s"})`,
      x: steps.map((s) => at(s).reduce((a, p) => a + p.x, 0) / cells.length),
      y: steps.map((s) => at(s).reduce((a, p) => a + p.y, 0) / cells.length),
      band: cells.length > 1 ? { lower: steps.map((s) => Math.min(...at(s).map((p) => p.y))), upper: steps.map((s) => Math.max(...at(s).map((p) => p.y))) } : undefined,
    });
  }
  return lineChart(series, `${results.name}: ${title}`, "completion tokens sampled (mean over seeds)", y);
}

/** Pruning ablation: trained tokens per step (left) and Iter-K pass@1 (right) per method. */
export function pruningFigure(results: ExperimentResults): Figure {
  const methods = results.methods.filter((m) => m.method !== "base");
  const names = methods.map((m) => m.method);
  const k = Math.min(...methods.map((m) => m.iter.length));
  const colours = names.map((n) => colourOf(results, n));
  const data: Trace[] = [
    // Overlaid: the faint sampled bar behind, the solid trained bar (<= sampled) in front.
    { type: "bar", name: "sampled tokens / step", x: names, y: methods.map((m) => m.tokensSampledPerStep), marker: { color: colours, opacity: 0.35 }, xaxis: "x", yaxis: "y", showlegend: false },
    { type: "bar", name: "trained tokens / step", x: names, y: methods.map((m) => m.tokensTrainedPerStep), marker: { color: colours }, xaxis: "x", yaxis: "y", showlegend: false },
    {
      type: "bar",
      name: `Iter-${k} pass@1`,
      x: names,
      y: methods.map((m) => m.iter[k - 1].mean),
      error_y: { type: "data", array: methods.map((m) => finiteOr0(m.iter[k - 1].halfWidth)), visible: true },
      marker: { color: colours },
      xaxis: "x2",
      yaxis: "y2",
      showlegend: false,
    },
  ];
  return {
    data,
    layout: baseLayout(`${results.name}: tokens per step (solid: trained, faint: sampled) and Iter-${k} pass@1`, "", "tokens per step", {
      barmode: "overlay",
      xaxis: { domain: [0, 0.45] },
      yaxis: { title: { text: "tokens per step" }, rangemode: "tozero" },
      xaxis2: { domain: [0.55, 1], anchor: "y2" },
      yaxis2: { title: { text: `Iter-${k} pass@1` }, anchor: "x2", rangemode: "tozero" },
    }),
  };
}

/** Turns ablation: Iter-k pass@1 against the training turn limit S, one line per k. */
export function turnsFigure(results: ExperimentResults): Figure {
  const points = results.methods
    .map((m) => ({ m, turns: results.cells.find((c) => c.method === m.method)?.config?.turns }))
    .filter((p): p is { m: (typeof results.methods)[number]; turns: number } => p.turns !== undefined)
    .sort((a, b) => a.turns - b.turns);
  const k = Math.min(...points.map((p) => p.m.iter.length));
  const data: Trace[] = Array.from({ length: k }, (_, j) => ({
    type: "scatter",
    mode: "lines+markers",
    name: `Iter-${j + 1}`,
    x: points.map((p) => p.turns),
    y: points.map((p) => p.m.iter[j].mean),
    text: points.map((p) => p.m.method),
    error_y: { type: "data", array: points.map((p) => finiteOr0(p.m.iter[j].halfWidth)), visible: true },
    line: { color: PALETTE[j % PALETTE.length], width: 2 },
  }));
  return {
    data,
    layout: baseLayout(`${results.name}: pass@1 against the training turn limit S`, "S (turns per rollout tree in training)", "pass@1", {
      xaxis: { title: { text: "S (turns per rollout tree in training)" }, dtick: 1 },
      yaxis: { title: { text: "pass@1" }, rangemode: "tozero" },
    }),
  };
}

/**
 * After a failed first attempt, per method: the fraction of second attempts that fixed it and the
 * fraction that resubmitted the failed program unchanged (bars: mean over seeds, whiskers: 95% CI).
 */
export function secondAttemptFigure(results: ExperimentResults): Figure {
  const methods = results.methods.filter((m) => m.secondAttemptFixed && m.secondAttemptResubmitted);
  const bars = [
    { name: "fixed at turn 2", of: (m: (typeof methods)[number]) => m.secondAttemptFixed! },
    { name: "resubmitted unchanged", of: (m: (typeof methods)[number]) => m.secondAttemptResubmitted! },
  ];
  const data: Trace[] = bars.map((b, i) => ({
    type: "bar",
    name: b.name,
    x: methods.map((m) => m.method),
    y: methods.map((m) => b.of(m).mean),
    error_y: { type: "data", array: methods.map((m) => finiteOr0(b.of(m).halfWidth)), visible: true },
    marker: { color: PALETTE[i] },
  }));
  return {
    data,
    layout: baseLayout(`${results.name}: second attempts after a failed first attempt`, "method", "fraction of failed first attempts", {
      barmode: "group",
      yaxis: { title: { text: "fraction of failed first attempts" }, range: [0, 1] },
    }),
  };
}

/**
 * Gains over the base model, paper (v2 figure 1) and kit side by side, grouped by model, one bar
 * series per method (GRPO, MURPHY); kit bars carry their 95% CI.
 */
export function paperFigure(rows: readonly KitVsPaperRow[]): Figure {
  const models = [...new Set(rows.map((r) => r.model))];
  const series = new Map<string, KitVsPaperRow[]>();
  const kitSeen = new Set<string>();
  for (const row of rows) {
    // A second kit method standing for the same paper method gets its own bar series.
    let key: string = row.method;
    if (row.source === "kit") {
      if (kitSeen.has(row.method)) key = `${row.method}: ${row.kitMethod}`;
      kitSeen.add(row.method);
    }
    series.set(key, [...(series.get(key) ?? []), row]);
  }
  const data: Trace[] = [...series.entries()].map(([name, members], i) => {
    const at = (model: string) => members.find((r) => r.model === model);
    return {
      type: "bar",
      name,
      x: models,
      y: models.map((model) => at(model)?.gain ?? null),
      error_y: { type: "data", array: models.map((model) => finiteOr0(at(model)?.halfWidth ?? NaN)), visible: true },
      text: models.map((model) => at(model)?.where ?? ""),
      hoverinfo: "x+y+text+name",
      marker: { color: PALETTE[i % PALETTE.length] },
    };
  });
  return { data, layout: baseLayout("Gain over the base model: paper (arXiv 2511.07833 v2, fig. 1) and kit", "", "percentage points", { barmode: "group" }) };
}
