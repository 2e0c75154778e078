/**
 * From finished cells to the tables of an experiment (pure functions over plain data):
 *
 * - summary.csv: one row per cell (method, seed, Iter-1..k pass@1, tokens, time, provenance);
 * - summary-methods.csv: per method, the mean and 95% t-interval over seeds of Iter-k pass@1,
 *   and the gain over the base model paired by seed (when the experiment has a "base" method),
 *   at the evaluation temperature and, when the spec asks (eval.trainingTemperature), again at
 *   the training temperature (columns *_train_temp_*);
 *   both report the compute of training: completion tokens sampled, completion tokens trained,
 *   and prompt + completion tokens forwarded with and without gradient, per step (mean over
 *   steps) and per run (total), so a reader can check that compared methods were matched;
 * - both also carry, where the cells were evaluated with more than one turn, what second attempts
 *   did after a failed first attempt: the share fixed and the share that resubmitted the failed
 *   program unchanged (per cell in summary.csv, mean and t-interval over seeds per method);
 * - comparisons.csv: per comparison in the spec (e.g. MURPHY vs compute-matched GRPO), the mean
 *   difference paired by seed and its 95% t-interval, per Iter-k;
 * - comparisons-compute.csv: per comparison, what the method cost against its baseline per run
 *   (tokens sampled, trained and forwarded with gradient, training and wall seconds), as a paired
 *   difference and a paired ratio, each with its 95% t-interval (e.g. pruning's saving).
 *
 * Pairing by seed is sound because a seed fixes the training tasks of every step and the
 * evaluation's sampling streams for every method, so seed-to-seed noise is shared and cancels.
 */
import type { CellResult } from "./cell-result";
import type { ExperimentSpec } from "./spec";
import { type ConfidenceInterval, mean, tInterval } from "./stats";

export type Row = Record<string, string | number | boolean | null>;

export interface MethodSummary {
  method: string;
  seeds: number[];
  /** Iter-k pass@1 over seeds, index k-1. */
  iter: ConfidenceInterval[];
  /** Iter-k pass@1 minus the base model's at the same seed, index k-1 (absent without "base" cells). */
  gainOverBase?: ConfidenceInterval[];
  /** The same two at the training temperature (eval.trainingTemperature), when every cell has them. */
  iterAtTrainingTemperature?: ConfidenceInterval[];
  gainOverBaseAtTrainingTemperature?: ConfidenceInterval[];
  /** Means over seeds. Per step: a run's total over its steps; totals: per run. */
  steps: number;
  tokensSampledPerStep: number;
  tokensTrainedPerStep: number;
  tokensForwardedGradPerStep: number;
  tokensForwardedNoGradPerStep: number;
  tokensSampled: number;
  tokensTrained: number;
  tokensForwardedGrad: number;
  tokensForwardedNoGrad: number;
  wallSeconds: number;
  /**
   * Over seeds, of the first attempts that failed and went on (every cell has the counts): the
   * fraction the second attempt fixed, and the fraction it resubmitted unchanged.
   */
  secondAttemptFixed?: ConfidenceInterval;
  secondAttemptResubmitted?: ConfidenceInterval;
}

export interface ComparisonSummary {
  method: string;
  baseline: string;
  /** Seeds finished for both. */
  seeds: number[];
  /** (method - baseline) Iter-k pass@1 paired by seed, index k-1. */
  difference: ConfidenceInterval[];
}

/** Cells ordered as in the spec: methods in spec order, then by seed. */
export function orderCells(spec: ExperimentSpec, cells: readonly CellResult[]): CellResult[] {
  const order = new Map(spec.methods.map((m, i) => [m.name, i]));
  return [...cells].sort((a, b) => (order.get(a.method) ?? 1e9) - (order.get(b.method) ?? 1e9) || a.seed - b.seed);
}

const perStep = (total: number, steps: number) => (steps > 0 ? total / steps : 0);

/** One summary.csv row per cell. */
export function cellRows(spec: ExperimentSpec, cells: readonly CellResult[]): Row[] {
  return orderCells(spec, cells).map((c) => {
    const row: Row = { method: c.method, seed: c.seed, cell: c.cell };
    c.iterPass1.forEach((p, i) => (row[`iter${i + 1}_pass1`] = p));
    c.iterPass1AtTrainingTemperature?.forEach((p, i) => (row[`iter${i + 1}_pass1_train_temp`] = p));
    Object.assign(row, {
      eval_tasks: c.evalTasks,
      steps: c.steps,
      tokens_sampled: c.tokensSampled,
      tokens_trained: c.tokensTrained,
      tokens_forwarded_grad: c.tokensForwardedGrad,
      tokens_forwarded_no_grad: c.tokensForwardedNoGrad,
      sampled_tokens_per_step: perStep(c.tokensSampled, c.steps),
      trained_tokens_per_step: perStep(c.tokensTrained, c.steps),
      forwarded_grad_tokens_per_step: perStep(c.tokensForwardedGrad, c.steps),
      forwarded_no_grad_tokens_per_step: perStep(c.tokensForwardedNoGrad, c.steps),
      train_seconds: c.trainSeconds,
      eval_seconds: c.evalSeconds,
      wall_seconds: c.wallSeconds,
      backend: c.backend,
      git_commit: c.gitCommit,
      git_dirty: c.gitDirty,
      source_tree: c.sourceTree,
      copied_from: c.copiedFrom ?? "",
      config_hash: c.configHash,
      base_checkpoint_hash: c.baseCheckpointHash,
      tasks_hash: c.tasksHash,
    });
    if (c.secondAttempt) Object.assign(row, secondAttemptColumns(c));
    return row;
  });
}

/** A cell's second-attempt rates (null without a failed first attempt that went on). */
function secondAttemptRates(c: CellResult): { fixed: number; resubmitted: number } | null {
  const s = c.secondAttempt;
  return s && s.failed > 0 ? { fixed: s.fixed / s.failed, resubmitted: s.resubmitted / s.failed } : null;
}

function secondAttemptColumns(c: CellResult): Row {
  const rates = secondAttemptRates(c);
  return { turn1_failed_went_on: c.secondAttempt!.failed, turn2_fixed_rate: rates?.fixed ?? null, turn2_resubmitted_rate: rates?.resubmitted ?? null };
}

/** Which Iter-k numbers of a cell: at the evaluation temperature, or at the training temperature. */
type IterOf = (c: CellResult) => number[] | undefined;
const atEvalTemperature: IterOf = (c) => c.iterPass1;
const atTrainingTemperature: IterOf = (c) => c.iterPass1AtTrainingTemperature;

/** The cells of `a` and `b` at the seeds both have, as [a, b] pairs in seed order. */
function pairsBySeed(a: readonly CellResult[], b: readonly CellResult[]): [CellResult, CellResult][] {
  const bySeed = new Map(b.map((c) => [c.seed, c]));
  return a.filter((c) => bySeed.has(c.seed)).sort((x, y) => x.seed - y.seed).map((c) => [c, bySeed.get(c.seed)!]);
}

/** Differences a - b of Iter-k pass@1 over the seeds both have, with their t-intervals. */
export function pairedDifference(a: readonly CellResult[], b: readonly CellResult[], iterOf: IterOf = atEvalTemperature): { seeds: number[]; difference: ConfidenceInterval[] } {
  const pairs = pairsBySeed(a.filter((c) => iterOf(c)), b.filter((c) => iterOf(c)));
  const turns = Math.min(...pairs.flatMap(([x, y]) => [iterOf(x)!.length, iterOf(y)!.length]));
  const difference = pairs.length ? Array.from({ length: turns }, (_, k) => tInterval(pairs.map(([x, y]) => iterOf(x)![k] - iterOf(y)![k]))) : [];
  return { seeds: pairs.map(([x]) => x.seed), difference };
}

/** Per-method summaries, in spec order (methods without finished cells are left out). */
export function methodSummaries(spec: ExperimentSpec, cells: readonly CellResult[]): MethodSummary[] {
  const base = cells.filter((c) => c.method === "base");
  const out: MethodSummary[] = [];
  for (const method of spec.methods) {
    const own = orderCells(spec, cells.filter((c) => c.method === method.name));
    if (own.length === 0) continue;
    const turns = Math.min(...own.map((c) => c.iterPass1.length));
    const summary: MethodSummary = {
      method: method.name,
      seeds: own.map((c) => c.seed),
      iter: Array.from({ length: turns }, (_, k) => tInterval(own.map((c) => c.iterPass1[k]))),
      steps: mean(own.map((c) => c.steps)),
      tokensSampledPerStep: mean(own.map((c) => perStep(c.tokensSampled, c.steps))),
      tokensTrainedPerStep: mean(own.map((c) => perStep(c.tokensTrained, c.steps))),
      tokensForwardedGradPerStep: mean(own.map((c) => perStep(c.tokensForwardedGrad, c.steps))),
      tokensForwardedNoGradPerStep: mean(own.map((c) => perStep(c.tokensForwardedNoGrad, c.steps))),
      tokensSampled: mean(own.map((c) => c.tokensSampled)),
      tokensTrained: mean(own.map((c) => c.tokensTrained)),
      tokensForwardedGrad: mean(own.map((c) => c.tokensForwardedGrad)),
      tokensForwardedNoGrad: mean(own.map((c) => c.tokensForwardedNoGrad)),
      wallSeconds: mean(own.map((c) => c.wallSeconds)),
    };
    if (base.length && method.name !== "base") {
      const paired = pairedDifference(own, base);
      if (paired.seeds.length) summary.gainOverBase = paired.difference;
    }
    const rates = own.map(secondAttemptRates);
    if (rates.every((r) => r !== null)) {
      summary.secondAttemptFixed = tInterval(rates.map((r) => r!.fixed));
      summary.secondAttemptResubmitted = tInterval(rates.map((r) => r!.resubmitted));
    }
    if (own.every((c) => c.iterPass1AtTrainingTemperature)) {
      const k = Math.min(...own.map((c) => c.iterPass1AtTrainingTemperature!.length));
      summary.iterAtTrainingTemperature = Array.from({ length: k }, (_, j) => tInterval(own.map((c) => c.iterPass1AtTrainingTemperature![j])));
      if (base.length && method.name !== "base") {
        const paired = pairedDifference(own, base, atTrainingTemperature);
        if (paired.seeds.length) summary.gainOverBaseAtTrainingTemperature = paired.difference;
      }
    }
    out.push(summary);
  }
  return out;
}

/** The spec's comparisons over the finished cells (comparisons without a common seed are left out). */
export function comparisonSummaries(spec: ExperimentSpec, cells: readonly CellResult[]): ComparisonSummary[] {
  return spec.comparisons
    .map(({ method, baseline }) => ({ method, baseline, ...pairedDifference(cells.filter((c) => c.method === method), cells.filter((c) => c.method === baseline)) }))
    .filter((c) => c.seeds.length > 0);
}

function intervalColumns(row: Row, prefix: string, ci: ConfidenceInterval): void {
  row[`${prefix}_mean`] = ci.mean;
  row[`${prefix}_ci_low`] = ci.low;
  row[`${prefix}_ci_high`] = ci.high;
  row[`${prefix}_ci_half`] = ci.halfWidth;
}

/** summary-methods.csv rows. */
export function methodRows(summaries: readonly MethodSummary[]): Row[] {
  return summaries.map((s) => {
    const row: Row = { method: s.method, n_seeds: s.seeds.length, seeds: s.seeds.join(" ") };
    s.iter.forEach((ci, k) => intervalColumns(row, `iter${k + 1}_pass1`, ci));
    s.iter.forEach((_, k) => {
      const gain = s.gainOverBase?.[k];
      if (gain) intervalColumns(row, `iter${k + 1}_gain_over_base`, gain);
      else for (const suffix of ["mean", "ci_low", "ci_high", "ci_half"]) row[`iter${k + 1}_gain_over_base_${suffix}`] = null;
    });
    s.iterAtTrainingTemperature?.forEach((ci, k) => intervalColumns(row, `iter${k + 1}_pass1_train_temp`, ci));
    s.gainOverBaseAtTrainingTemperature?.forEach((ci, k) => intervalColumns(row, `iter${k + 1}_gain_over_base_train_temp`, ci));
    Object.assign(row, {
      steps: s.steps,
      sampled_tokens_per_step: s.tokensSampledPerStep,
      trained_tokens_per_step: s.tokensTrainedPerStep,
      forwarded_grad_tokens_per_step: s.tokensForwardedGradPerStep,
      forwarded_no_grad_tokens_per_step: s.tokensForwardedNoGradPerStep,
      tokens_sampled: s.tokensSampled,
      tokens_trained: s.tokensTrained,
      tokens_forwarded_grad: s.tokensForwardedGrad,
      tokens_forwarded_no_grad: s.tokensForwardedNoGrad,
      wall_seconds: s.wallSeconds,
    });
    if (s.secondAttemptFixed) intervalColumns(row, "turn2_fixed_rate", s.secondAttemptFixed);
    if (s.secondAttemptResubmitted) intervalColumns(row, "turn2_resubmitted_rate", s.secondAttemptResubmitted);
    return row;
  });
}

/** Largest relative difference of sampled tokens per run two trained methods may have and still count as compute-matched. */
export const SAMPLED_TOKENS_TOLERANCE = 0.05;

export interface SampledTokensMismatch {
  a: string;
  b: string;
  /** Mean completion tokens sampled per run, and the steps that took. */
  aPerRun: number;
  bPerRun: number;
  aSteps: number;
  bSteps: number;
  /** |a - b| / min(a, b): how much more the larger samples than the smaller. */
  relative: number;
}

/**
 * Every pair of trained methods (steps > 0; "base" trains nothing) whose mean sampled tokens per
 * run differ by more than `tolerance`, relative to the smaller: such a pair was not trained at
 * equal rollout compute, so a difference in their scores may come from compute alone. Per run,
 * not per step: a method may match another's budget with more, cheaper steps (turns.json's S = 3);
 * with equal steps the two are the same test.
 */
export function sampledTokensMismatches(summaries: readonly MethodSummary[], tolerance = SAMPLED_TOKENS_TOLERANCE): SampledTokensMismatch[] {
  const trained = summaries.filter((s) => s.steps > 0);
  const out: SampledTokensMismatch[] = [];
  for (let i = 0; i < trained.length; i++) {
    for (let j = i + 1; j < trained.length; j++) {
      const [a, b] = [trained[i], trained[j]];
      const smaller = Math.min(a.tokensSampled, b.tokensSampled);
      const gap = Math.abs(a.tokensSampled - b.tokensSampled);
      const relative = gap === 0 ? 0 : smaller > 0 ? gap / smaller : Infinity;
      if (relative > tolerance) out.push({ a: a.method, b: b.method, aPerRun: a.tokensSampled, bPerRun: b.tokensSampled, aSteps: a.steps, bSteps: b.steps, relative });
    }
  }
  return out;
}

/** The per-run quantities of comparisons-compute.csv: cell.json field and CSV name. */
export const COMPUTE_QUANTITIES = [
  ["tokensSampled", "tokens_sampled"],
  ["tokensTrained", "tokens_trained"],
  ["tokensForwardedGrad", "tokens_forwarded_grad"],
  ["trainSeconds", "train_seconds"],
  ["wallSeconds", "wall_seconds"],
] as const;

export interface ComputeComparison {
  method: string;
  baseline: string;
  /** A COMPUTE_QUANTITIES CSV name. */
  quantity: string;
  seeds: number[];
  /** method - baseline, paired by seed. */
  difference: ConfidenceInterval;
  /** method / baseline, paired by seed (NaN where a baseline value is 0). */
  ratio: ConfidenceInterval;
}

/**
 * What each of the spec's comparisons cost per run against its baseline, paired by seed. The
 * seconds were measured on whatever else the machine ran at the time (two cells at once, by
 * default): compare them only between cells that ran under the same load.
 */
export function computeComparisons(spec: ExperimentSpec, cells: readonly CellResult[]): ComputeComparison[] {
  return spec.comparisons.flatMap(({ method, baseline }) => {
    const pairs = pairsBySeed(cells.filter((c) => c.method === method), cells.filter((c) => c.method === baseline));
    if (pairs.length === 0) return [];
    return COMPUTE_QUANTITIES.map(([field, quantity]) => ({
      method,
      baseline,
      quantity,
      seeds: pairs.map(([x]) => x.seed),
      difference: tInterval(pairs.map(([x, y]) => x[field] - y[field])),
      ratio: tInterval(pairs.map(([x, y]) => (y[field] === 0 ? NaN : x[field] / y[field]))),
    }));
  });
}

/** The columns of comparisons-compute.csv (written even when there are no comparisons). */
export const COMPUTE_COMPARISON_COLUMNS = [
  "method", "baseline", "quantity", "n_seeds", "seeds",
  "difference_mean", "difference_ci_low", "difference_ci_high", "difference_ci_half",
  "ratio_mean", "ratio_ci_low", "ratio_ci_high", "ratio_ci_half",
];

/** comparisons-compute.csv rows: one per comparison and quantity. */
export function computeComparisonRows(comparisons: readonly ComputeComparison[]): Row[] {
  return comparisons.map((c) => {
    const row: Row = { method: c.method, baseline: c.baseline, quantity: c.quantity, n_seeds: c.seeds.length, seeds: c.seeds.join(" ") };
    intervalColumns(row, "difference", c.difference);
    intervalColumns(row, "ratio", c.ratio);
    return row;
  });
}

/** The columns of comparisons.csv (written even when there are no comparisons). */
export const COMPARISON_COLUMNS = ["method", "baseline", "iter", "n_seeds", "seeds", "difference_mean", "difference_ci_low", "difference_ci_high", "difference_ci_half"];

/** comparisons.csv rows: one per comparison and Iter-k. */
export function comparisonRows(comparisons: readonly ComparisonSummary[]): Row[] {
  return comparisons.flatMap((c) =>
    c.difference.map((ci, k) => {
      const row: Row = { method: c.method, baseline: c.baseline, iter: k + 1, n_seeds: c.seeds.length, seeds: c.seeds.join(" ") };
      intervalColumns(row, "difference", ci);
      return row;
    }),
  );
}

function csvCell(value: Row[string]): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return "";
    // Six decimals: exact for pass rates over <= 10^6 tasks, and stable text for diffs.
    return String(Number(value.toFixed(6)));
  }
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV text with a header of the union of the rows' keys (in first-seen order), or `header` when there are no rows. */
export function toCsv(rows: readonly Row[], header: readonly string[] = []): string {
  const columns: string[] = rows.length ? [] : [...header];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  return [columns.join(","), ...rows.map((row) => columns.map((c) => csvCell(row[c] ?? null)).join(","))].join("\n") + "\n";
}
