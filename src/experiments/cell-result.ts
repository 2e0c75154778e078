/**
 * What a finished cell leaves behind, and how to tell whether it is still valid. Light on
 * purpose (no TensorFlow.js): the runner's parent process, the report and the notebooks read
 * cells through this module, while cell.ts (which trains) runs only in the cell's own process.
 *
 * Layout of one cell:
 *   data/results/<experiment>/cells/<id>/cell.json      summary + provenance, written LAST
 *   data/results/<experiment>/cells/<id>/metrics.jsonl  one line per training step (metrics.ts)
 *   data/results/<experiment>/cells/<id>/eval.jsonl     every Iter-k attempt
 *   data/runs/experiments/<experiment>/<id>/            checkpoints and log (gitignored)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { SecondAttemptCounts } from "../eval/statistics";
import { ROOT } from "../paths";
import { suiteDir } from "../tasks/suites";
import { readJsonl, writeFileAtomic } from "../util/files";
import { type Provenance, provenance } from "../util/provenance";
import { type Cell, type EvalSpec, type ExperimentSpec, type RecordedConfig, cellConfigHash, checkpointHash, specSuite, tasksHash } from "./spec";

/** The contents of cells/<id>/cell.json: everything a summary row needs, plus provenance. */
export interface CellResult {
  experiment: string;
  cell: string;
  method: string;
  seed: number;
  /** Iter-1..Iter-k pass@1 on the evaluated tasks. */
  iterPass1: number[];
  /** Iter-1..Iter-k pass@1 at eval.trainingTemperature (same tasks, chains and seed), when the spec asks for it. */
  iterPass1AtTrainingTemperature?: number[];
  evalTasks: number;
  eval: EvalSpec;
  /** Training steps run (0 for "base"). */
  steps: number;
  /** Completion tokens sampled over all steps (metric tokens/sampled, summed). */
  tokensSampled: number;
  /** Completion tokens trained over all steps, per update epoch (metric tokens/trained, summed). */
  tokensTrained: number;
  /** Tokens forwarded with gradient (metric tokens/forwarded_grad, summed: includes prompts and epochs). */
  tokensForwardedGrad: number;
  /**
   * Tokens forwarded without gradient (metric tokens/forwarded_no_grad, summed: reference and
   * recomputed old log-probs). Cells written before this field existed get it from their
   * metrics.jsonl when read (readCellResult).
   */
  tokensForwardedNoGrad: number;
  /** Seconds of rollout + update over all steps (from the metrics, so it survives a resume). */
  trainSeconds: number;
  evalSeconds: number;
  /** Wall time of the process that finished the cell. */
  wallSeconds: number;
  backend: string;
  gitCommit: string;
  /** Uncommitted changes under src/ or configs/ when the cell ran. */
  gitDirty: boolean;
  /** Git tree hash of src/ at HEAD when the cell ran (provenance.ts). */
  sourceTree: string;
  configHash: string;
  baseCheckpointHash: string;
  tasksHash: string;
  /** The resolved training config (null for "base"); `suite` only when not the default (recordedConfig). */
  config: RecordedConfig | null;
  finishedAt: string;
  /**
   * At the evaluation temperature, the chains whose first attempt failed and went on: how many the
   * second attempt fixed and how many resubmitted the failed program unchanged
   * (eval/statistics.ts secondAttempts). Older cells lack it; summaries count it from eval.jsonl
   * (results.ts withSecondAttempts).
   */
  secondAttempt?: SecondAttemptCounts;
  /** "<experiment>/<cell>" when the results were copied from an equivalent cell (same inputs) instead of run again. */
  copiedFrom?: string;
}

export interface CellPaths {
  /** data/results/<name>/cells/<id>/ */
  resultDir: string;
  /** data/runs/experiments/<name>/<id>/ (checkpoints, log) */
  runDir: string;
}

export function cellPaths(resultsDir: string, runsDir: string, cellId: string): CellPaths {
  return { resultDir: path.join(resultsDir, "cells", cellId), runDir: path.join(runsDir, cellId) };
}

/** The inputs that decide a cell's numbers; a finished cell with other inputs is stale. */
export interface CellInputs {
  configHash: string;
  baseCheckpointHash: string;
  tasksHash: string;
}

export function cellInputs(spec: ExperimentSpec, cell: Cell): CellInputs {
  return {
    configHash: cellConfigHash(spec, cell),
    baseCheckpointHash: checkpointHash(path.resolve(ROOT, spec.baseCheckpoint)),
    tasksHash: tasksHash(suiteDir(specSuite(spec))),
  };
}

/** Read a finished cell's cell.json, or undefined when the cell has not finished. */
export function readCellResult(resultDir: string): CellResult | undefined {
  const file = path.join(resultDir, "cell.json");
  if (!fs.existsSync(file)) return undefined;
  let result: CellResult;
  try {
    result = JSON.parse(fs.readFileSync(file, "utf8")) as CellResult;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); delete it to run the cell again`);
  }
  if (result.tokensForwardedNoGrad === undefined) {
    // An older cell.json: the count is in its per-step metrics (0 for "base", which has none).
    const metricsFile = path.join(resultDir, "metrics.jsonl");
    const metrics = fs.existsSync(metricsFile) ? readJsonl<Record<string, number>>(metricsFile) : [];
    result.tokensForwardedNoGrad = metrics.reduce((total, m) => total + (m["tokens/forwarded_no_grad"] ?? 0), 0);
  }
  return result;
}

/** Why a finished cell no longer matches its inputs, or "" when it does. */
export function staleReason(result: CellResult, inputs: CellInputs): string {
  const changed: string[] = [];
  if (result.configHash !== inputs.configHash) changed.push(`config ${result.configHash} -> ${inputs.configHash}`);
  if (result.baseCheckpointHash !== inputs.baseCheckpointHash) changed.push(`base checkpoint ${result.baseCheckpointHash} -> ${inputs.baseCheckpointHash}`);
  if (result.tasksHash !== inputs.tasksHash) changed.push(`tasks ${result.tasksHash} -> ${inputs.tasksHash}`);
  return changed.join(", ");
}


/** Both ran the same committed code (same src/ tree, neither with uncommitted changes). */
export function sameCode(result: CellResult, code: Provenance): boolean {
  return !result.gitDirty && !code.gitDirty && result.sourceTree !== "unknown" && result.sourceTree === code.sourceTree;
}

/**
 * A finished cell of any experiment under `resultsRoot` (data/results/) with exactly these
 * inputs, made by the same committed code as now, or undefined. Its numbers are the ones this
 * cell would compute (the pipeline is deterministic for equal inputs and code; the determinism
 * test checks that).
 */
export function findEquivalentCell(resultsRoot: string, inputs: CellInputs, exclude: string, code: Provenance = provenance()): { dir: string; result: CellResult } | undefined {
  if (!fs.existsSync(resultsRoot)) return undefined;
  for (const experiment of fs.readdirSync(resultsRoot).sort()) {
    const cellsDir = path.join(resultsRoot, experiment, "cells");
    if (!fs.existsSync(cellsDir)) continue;
    for (const id of fs.readdirSync(cellsDir).sort()) {
      const dir = path.join(cellsDir, id);
      if (path.resolve(dir) === path.resolve(exclude)) continue;
      let result: CellResult | undefined;
      try {
        result = readCellResult(dir);
      } catch {
        continue; // a broken cell elsewhere is that experiment's problem, not a source
      }
      if (result && !result.copiedFrom && staleReason(result, inputs) === "" && sameCode(result, code)) return { dir, result };
    }
  }
  return undefined;
}

/** Copy an equivalent cell's files into `target`, relabelled as this experiment's cell; cell.json last. */
export function copyCell(source: { dir: string; result: CellResult }, target: string, spec: ExperimentSpec, cell: Cell): CellResult {
  fs.mkdirSync(target, { recursive: true });
  for (const file of ["metrics.jsonl", "eval.jsonl"]) fs.copyFileSync(path.join(source.dir, file), path.join(target, file));
  const result: CellResult = {
    ...source.result,
    experiment: spec.name,
    cell: cell.id,
    method: cell.method.name,
    copiedFrom: `${source.result.experiment}/${source.result.cell}`,
  };
  writeFileAtomic(path.join(target, "cell.json"), JSON.stringify(result, null, 2) + "\n");
  return result;
}
