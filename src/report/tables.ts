/**
 * The result tables of an experiment as arquero tables (one row per method, per cell, per
 * comparison, and kit-vs-paper gains), ready for `toHTML()`, `toMarkdown()`, `toCSV()` or the
 * terminal (`textTable`). Numbers stay numbers in the raw tables (`results.methodRows` etc.);
 * these are the display versions, with "mean [low, high]" text for intervals.
 *
 *   import { methodsTable, textTable } from "../report/tables";
 *   console.log(textTable(methodsTable(loadResults("headline"))));
 */
import * as aq from "arquero";
import type { ExperimentResults } from "../experiments/results";
import type { ConfidenceInterval } from "../experiments/stats";
import type { KitVsPaperRow } from "../experiments/paper";

export type Table = ReturnType<typeof aq.from>;

/** "0.250 [0.180, 0.320]", or "0.250" when there is one seed (no interval). */
export function formatInterval(ci: ConfidenceInterval, digits = 3): string {
  const m = ci.mean.toFixed(digits);
  return Number.isFinite(ci.halfWidth) ? `${m} [${ci.low.toFixed(digits)}, ${ci.high.toFixed(digits)}]` : m;
}

/** Per method: Iter-k pass@1 (mean [95% CI]), gain over base at the last Iter, tokens sampled, trained and forwarded (with gradient) per step. */
export function methodsTable(results: ExperimentResults): Table {
  const rows = results.methods.map((s) => {
    const row: Record<string, string | number> = { method: s.method, seeds: s.seeds.length };
    s.iter.forEach((ci, k) => (row[`Iter-${k + 1} pass@1`] = formatInterval(ci)));
    const k = s.iter.length;
    if (results.methods.some((m) => m.gainOverBase)) row[`gain over base, Iter-${k}`] = s.gainOverBase ? formatInterval(s.gainOverBase[k - 1]) : "";
    row["sampled tokens/step"] = Math.round(s.tokensSampledPerStep);
    row["trained tokens/step"] = Math.round(s.tokensTrainedPerStep);
    row["forwarded tokens/step"] = Math.round(s.tokensForwardedGradPerStep);
    row["wall min"] = Number((s.wallSeconds / 60).toFixed(1));
    row.steps = s.steps;
    return row;
  });
  return aq.from(rows);
}

/** Per comparison and Iter-k: the paired difference (method - baseline) with its 95% CI. */
export function comparisonsTable(results: ExperimentResults): Table {
  return aq.from(
    results.comparisons.flatMap((c) =>
      c.difference.map((ci, k) => ({ comparison: `${c.method} - ${c.baseline}`, iter: `Iter-${k + 1}`, seeds: c.seeds.length, difference: formatInterval(ci) })),
    ),
  );
}

/**
 * Per method, after a failed first attempt (at the evaluation temperature): the fraction of
 * second attempts that fixed it and the fraction that resubmitted the failed program unchanged,
 * mean [95% CI] over seeds. A policy that reads feedback fixes more and resubmits less. Empty when
 * no method has the counts (single-turn evaluation).
 */
export function secondAttemptsTable(results: ExperimentResults): Table {
  return aq.from(
    results.methods
      .filter((s) => s.secondAttemptFixed && s.secondAttemptResubmitted)
      .map((s) => ({ method: s.method, seeds: s.seeds.length, "fixed at turn 2": formatInterval(s.secondAttemptFixed!), "resubmitted unchanged": formatInterval(s.secondAttemptResubmitted!) })),
  );
}

/**
 * Per comparison: what the method cost per run against its baseline, as paired ratios
 * (method / baseline, mean [95% CI] over seeds): tokens sampled, trained and forwarded with
 * gradient, training and wall time. 0.62 trained tokens means 38% fewer.
 */
export function computeTable(results: ExperimentResults): Table {
  const comparisons = [...new Set(results.compute.map((c) => `${c.method} - ${c.baseline}`))];
  return aq.from(
    comparisons.map((comparison) => {
      const rows = results.compute.filter((c) => `${c.method} - ${c.baseline}` === comparison);
      const row: Record<string, string | number> = { comparison: comparison.replace(" - ", " / "), seeds: rows[0].seeds.length };
      for (const c of rows) row[c.quantity.replace(/_/g, " ")] = formatInterval(c.ratio);
      return row;
    }),
  );
}

/** One row per cell: method, seed, Iter-k pass@1, tokens, minutes, provenance. */
export function cellsTable(results: ExperimentResults): Table {
  return aq.from(
    results.cells.map((c) => {
      const row: Record<string, string | number> = { cell: c.cell, method: c.method, seed: c.seed };
      c.iterPass1.forEach((p, k) => (row[`Iter-${k + 1}`] = Number(p.toFixed(4))));
      Object.assign(row, { "tokens sampled": c.tokensSampled, "tokens trained": c.tokensTrained, "wall min": Number((c.wallSeconds / 60).toFixed(1)), backend: c.backend, commit: c.gitCommit.slice(0, 8) + (c.gitDirty ? "+dirty" : ""), "copied from": c.copiedFrom ?? "" });
      return row;
    }),
  );
}

/** Kit and paper gains over the base model side by side (percentage points). */
export function paperTable(rows: readonly KitVsPaperRow[]): Table {
  return aq.from(
    rows.map((r) => ({
      source: r.source,
      model: r.model,
      method: r.method,
      "gain over base (points)": r.source === "paper" ? r.gain.toFixed(1) : `${r.gain.toFixed(1)}${Number.isFinite(r.halfWidth) ? ` +- ${r.halfWidth.toFixed(1)}` : ""}`,
      where: r.where,
    })),
  );
}

/** A plain fixed-width text rendering for terminals (left-aligned text, right-aligned numbers). */
export function textTable(table: Table): string {
  const columns = table.columnNames();
  const rows = table.objects() as Record<string, unknown>[];
  if (rows.length === 0) return "(no rows)";
  const text = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const numeric = columns.map((c) => rows.every((r) => typeof r[c] === "number"));
  const line = (cells: string[]) => cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(columns.map((c) => text(r[c]))))].join("\n");
}

/** Per-method means as plain numbers: { method: { seeds, iter1_pass1, ..., gain_over_base_iterK? } }. */
export function methodMeans(results: ExperimentResults): Record<string, Record<string, number>> {
  return Object.fromEntries(
    results.methods.map((s) => {
      const out: Record<string, number> = { seeds: s.seeds.length };
      s.iter.forEach((ci, k) => (out[`iter${k + 1}_pass1`] = ci.mean));
      s.gainOverBase?.forEach((ci, k) => (out[`iter${k + 1}_gain_over_base`] = ci.mean));
      out.sampled_tokens_per_step = s.tokensSampledPerStep;
      out.trained_tokens_per_step = s.tokensTrainedPerStep;
      out.forwarded_grad_tokens_per_step = s.tokensForwardedGradPerStep;
      out.forwarded_no_grad_tokens_per_step = s.tokensForwardedNoGradPerStep;
      return [s.method, out];
    }),
  );
}

/**
 * One sentence for the spec's first comparison at the last evaluated Iter-k (both means over the
 * seeds the difference pairs), e.g.
 * "murphy-mars vs grpo-matched, Iter-3 pass@1 on 100 test tasks: 0.250 vs 0.210, difference
 * +4.0 points (95% CI [-1.2, +9.2], paired over 3 seeds)." Undefined without comparisons.
 */
export function comparisonSentence(results: ExperimentResults): string | undefined {
  const comparison = results.comparisons[0];
  if (!comparison) return undefined;
  const k = comparison.difference.length;
  const ci = comparison.difference[k - 1];
  // Both means over the seeds the difference pairs, so that they differ by the difference.
  const meanOf = (method: string) => {
    const own = results.cells.filter((c) => c.method === method && comparison.seeds.includes(c.seed));
    return own.reduce((total, c) => total + c.iterPass1[k - 1], 0) / own.length;
  };
  const points = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;
  const tasks = results.cells[0]?.evalTasks ?? 0;
  const interval = Number.isFinite(ci.halfWidth) ? `95% CI [${points(ci.low)}, ${points(ci.high)}], paired over ${ci.n} seeds` : `one seed, no interval`;
  return (
    `${comparison.method} vs ${comparison.baseline}, Iter-${k} pass@1 on ${tasks} ${results.spec.eval.split} tasks: ` +
    `${meanOf(comparison.method).toFixed(3)} vs ${meanOf(comparison.baseline).toFixed(3)}, difference ${points(ci.mean)} points (${interval}).`
  );
}
