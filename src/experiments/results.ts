/**
 * The results of an experiment as plain rows, for the report, the notebooks and the plots:
 *
 *   const results = loadResults("headline");
 *   results.methodRows   // per method: Iter-k pass@1 mean and 95% CI over seeds, gains over base
 *   results.curves       // per cell and step: reward and solved rate against tokens sampled
 *
 * Everything is recomputed from the cells' cell.json and metrics.jsonl with the same functions
 * the runner used, so what is printed always matches the stored cells; `summaryUpToDate` says
 * whether the CSV files on disk still match them. `writeSummaries` writes those files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { AttemptRecord } from "../eval/iterk";
import { secondAttempts } from "../eval/statistics";
import { RESULTS_DIR, ROOT } from "../paths";
import { suiteDir } from "../tasks/suites";
import { readJsonl, writeFileAtomic } from "../util/files";
import { type CellInputs, type CellResult, cellPaths, readCellResult, staleReason } from "./cell-result";
import { type ExperimentSpec, cellConfigHash, cellsOf, checkpointHash, resolveConfig, specSuite, tasksHash } from "./spec";
import {
  type ComparisonSummary,
  type ComputeComparison,
  type MethodSummary,
  type Row,
  COMPARISON_COLUMNS,
  COMPUTE_COMPARISON_COLUMNS,
  cellRows,
  comparisonRows,
  comparisonSummaries,
  computeComparisonRows,
  computeComparisons,
  methodRows,
  methodSummaries,
  orderCells,
  toCsv,
} from "./summary";

/** One training step of one cell, for learning curves (x: tokens sampled so far). */
export interface CurvePoint {
  method: string;
  seed: number;
  cell: string;
  step: number;
  /** Completion tokens sampled up to and including this step (the compute-matched x-axis). */
  tokensSampled: number;
  tokensTrained: number;
  /** Metric reward/mean of the step. */
  reward: number;
  /** Metric turn{S}/solved of the step: tasks solved within the run's S turns. */
  solved: number;
  /** Metric turn1/reward_mean: the first attempts' mean reward, comparable across GRPO and MURPHY. */
  turn1Reward: number;
  /** Metric eval/iter1_pass1 (validation Iter-1 on the probe tasks), NaN on steps without evaluation. */
  validationIter1: number;
  /** Metric kl/start (drift from the starting policy on the probe set), NaN on steps without it. */
  klStart: number;
}

export type CellStatus = "finished" | "missing" | "stale";

/** experiment.json: the spec that produced the results and the state of every cell. */
export interface ExperimentRecord {
  spec: ExperimentSpec;
  /** Resolved training config of each method at the first seed (null for "base"). */
  configs: Record<string, unknown>;
  cells: { id: string; status: CellStatus; reason?: string }[];
}

export interface ExperimentResults {
  name: string;
  dir: string;
  spec: ExperimentSpec;
  cells: CellResult[];
  /** Cells of the spec that have not finished, or finished with other inputs than now. */
  missing: string[];
  stale: string[];
  methods: MethodSummary[];
  comparisons: ComparisonSummary[];
  cellRows: Row[];
  methodRows: Row[];
  comparisonRows: Row[];
  /** Per comparison and quantity: the method's cost per run against its baseline (comparisons-compute.csv). */
  compute: ComputeComparison[];
  computeRows: Row[];
  curves: CurvePoint[];
  /** The summary CSV files on disk (summaryFiles) equal what the cells give now. */
  summaryUpToDate: boolean;
}

export function resultsDirOf(name: string): string {
  return path.join(RESULTS_DIR, name);
}

/** The learning-curve points of one cell's metrics. */
export function curvePoints(cell: CellResult, metrics: readonly Record<string, number>[]): CurvePoint[] {
  const turns = cell.config?.turns ?? 1;
  let sampled = 0;
  let trained = 0;
  return metrics.map((m) => {
    sampled += m["tokens/sampled"] ?? 0;
    trained += m["tokens/trained"] ?? 0;
    return {
      method: cell.method, seed: cell.seed, cell: cell.cell, step: m.step, tokensSampled: sampled, tokensTrained: trained,
      reward: m["reward/mean"] ?? NaN, solved: m[`turn${turns}/solved`] ?? NaN,
      turn1Reward: m["turn1/reward_mean"] ?? NaN, validationIter1: m["eval/iter1_pass1"] ?? NaN, klStart: m["kl/start"] ?? NaN,
    };
  });
}

const iterColumns = (spec: ExperimentSpec, suffix: string) => Array.from({ length: spec.eval.turns }, (_, k) => `iter${k + 1}_pass1${suffix}`);

/**
 * The cell with its second-attempt counts: as recorded, or counted from its eval.jsonl for cells
 * written before cell.json had them (summaries only: reading every attempt is too slow for the
 * runner's checks of which cells are finished).
 */
export function withSecondAttempts(result: CellResult | undefined, cellDir: string): CellResult | undefined {
  if (!result || result.secondAttempt) return result;
  const evalFile = path.join(cellDir, "eval.jsonl");
  return fs.existsSync(evalFile) ? { ...result, secondAttempt: secondAttempts(readJsonl<AttemptRecord>(evalFile)) } : result;
}

/** The summary files' text for a set of finished cells. */
export function summaryFiles(spec: ExperimentSpec, cells: readonly CellResult[]): Record<string, string> {
  const ordered = orderCells(spec, cells);
  return {
    // With no finished cell yet, the files still get a header naming their first columns.
    "summary.csv": toCsv(cellRows(spec, ordered), ["method", "seed", "cell", ...iterColumns(spec, "")]),
    "summary-methods.csv": toCsv(methodRows(methodSummaries(spec, ordered)), ["method", "n_seeds", "seeds", ...iterColumns(spec, "_mean")]),
    "comparisons.csv": toCsv(comparisonRows(comparisonSummaries(spec, ordered)), COMPARISON_COLUMNS),
    "comparisons-compute.csv": toCsv(computeComparisonRows(computeComparisons(spec, ordered)), COMPUTE_COMPARISON_COLUMNS),
  };
}

/**
 * Check every cell of the spec against the current inputs (config, base checkpoint, tasks) and
 * write summary.csv, summary-methods.csv, comparisons.csv, comparisons-compute.csv (finished,
 * current cells only) and
 * experiment.json. Returns the record written.
 */
export function writeSummaries(spec: ExperimentSpec, resultsDir: string, runsDir: string): ExperimentRecord {
  const base: Omit<CellInputs, "configHash"> = { baseCheckpointHash: checkpointHash(path.resolve(ROOT, spec.baseCheckpoint)), tasksHash: tasksHash(suiteDir(specSuite(spec))) };
  const finished: CellResult[] = [];
  const statuses: ExperimentRecord["cells"] = [];
  for (const cell of cellsOf(spec)) {
    const resultDir = cellPaths(resultsDir, runsDir, cell.id).resultDir;
    const result = withSecondAttempts(readCellResult(resultDir), resultDir);
    if (!result) {
      statuses.push({ id: cell.id, status: "missing" });
      continue;
    }
    const reason = staleReason(result, { ...base, configHash: cellConfigHash(spec, cell) });
    if (reason) statuses.push({ id: cell.id, status: "stale", reason });
    else {
      statuses.push({ id: cell.id, status: "finished" });
      finished.push(result);
    }
  }
  for (const [file, text] of Object.entries(summaryFiles(spec, finished))) writeFileAtomic(path.join(resultsDir, file), text);
  const record: ExperimentRecord = {
    spec,
    configs: Object.fromEntries(spec.methods.map((m) => [m.name, resolveConfig(spec, m, spec.seeds[0])])),
    cells: statuses,
  };
  writeFileAtomic(path.join(resultsDir, "experiment.json"), JSON.stringify(record, null, 2) + "\n");
  return record;
}

/**
 * Load an experiment's results by name (data/results/<name>/) or from a folder. Reads the spec
 * that produced them from experiment.json, so later edits of configs/experiments/ do not change
 * what committed results mean.
 */
export function loadResults(nameOrDir: string, dir?: string): ExperimentResults {
  const resultsDir = dir ?? (fs.existsSync(path.join(nameOrDir, "experiment.json")) ? path.resolve(nameOrDir) : resultsDirOf(nameOrDir));
  const recordFile = path.join(resultsDir, "experiment.json");
  if (!fs.existsSync(recordFile)) {
    throw new Error(`${path.relative(ROOT, recordFile) || recordFile}: not found; run \`npx murphy experiment ${path.basename(resultsDir)}\` first`);
  }
  let record: ExperimentRecord;
  try {
    record = JSON.parse(fs.readFileSync(recordFile, "utf8")) as ExperimentRecord;
  } catch (e) {
    throw new Error(`${recordFile}: not valid JSON (${(e as Error).message})`);
  }
  const { spec } = record;
  const cells: CellResult[] = [];
  const curves: CurvePoint[] = [];
  for (const { id, status } of record.cells) {
    if (status !== "finished") continue;
    const cellDir = path.join(resultsDir, "cells", id);
    const result = withSecondAttempts(readCellResult(cellDir), cellDir);
    if (!result) throw new Error(`${path.join(cellDir, "cell.json")}: missing, but experiment.json lists cell ${id} as finished; rerun \`npx murphy experiment ${spec.name}\``);
    cells.push(result);
    const metricsFile = path.join(cellDir, "metrics.jsonl");
    if (fs.existsSync(metricsFile)) curves.push(...curvePoints(result, readJsonl<Record<string, number>>(metricsFile)));
  }
  const ordered = orderCells(spec, cells);
  const methods = methodSummaries(spec, ordered);
  const comparisons = comparisonSummaries(spec, ordered);
  const compute = computeComparisons(spec, ordered);
  const expected = summaryFiles(spec, ordered);
  const summaryUpToDate = Object.entries(expected).every(([file, text]) => {
    const full = path.join(resultsDir, file);
    return fs.existsSync(full) && fs.readFileSync(full, "utf8") === text;
  });
  return {
    name: spec.name,
    dir: resultsDir,
    spec,
    cells: ordered,
    missing: record.cells.filter((c) => c.status === "missing").map((c) => c.id),
    stale: record.cells.filter((c) => c.status === "stale").map((c) => c.id),
    methods,
    comparisons,
    cellRows: cellRows(spec, ordered),
    methodRows: methodRows(methods),
    comparisonRows: comparisonRows(comparisons),
    compute,
    computeRows: computeComparisonRows(compute),
    curves,
    summaryUpToDate,
  };
}
