/**
 * One cell of an experiment, (method, seed), run in its own process:
 *
 *   train the method from the base checkpoint (skipped for "base")
 *     -> evaluate the final policy with Iter-k on the spec's split
 *     -> write cells/<id>/metrics.jsonl, eval.jsonl, and cell.json LAST (atomically).
 *
 * A cell is finished exactly when its cell.json exists; the runner skips finished cells whose
 * inputs (config hash, base checkpoint hash, tasks hash) are unchanged. Training checkpoints go to
 * the runs folder (gitignored), never to the results, which are committed and must stay small.
 * An interrupted cell resumes from its last training checkpoint when its inputs are unchanged.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describeBackend, selectBackend } from "../backend";
import { ROOT } from "../paths";
import { loadSplit } from "../tasks/load";
import { SandboxPool } from "../sandbox/pool";
import { train } from "../murphy/trainer";
import { loadPolicy } from "../model/store";
import { GptPolicy } from "../model/gpt-policy";
import { attemptProgress, evaluateIterK } from "../eval/iterk";
import { readJsonl, writeFileAtomic, writeJsonl } from "../util/files";
import { Progress } from "../util/progress";
import { type Cell, type ExperimentSpec, recordedConfig, resolveConfig, specSuite } from "./spec";
import { suiteDir } from "../tasks/suites";
import { type CellPaths, type CellResult, cellInputs } from "./cell-result";
import { provenance } from "../util/provenance";


const sumOf = (metrics: readonly Record<string, number>[], key: string) => metrics.reduce((total, m) => total + (m[key] ?? 0), 0);

/**
 * Run one cell to completion and write its results. `log` receives progress lines (the runner
 * prefixes them with the cell id).
 */
export async function runCell(spec: ExperimentSpec, cell: Cell, paths: CellPaths, log: (line: string) => void): Promise<CellResult> {
  const started = Date.now();
  const inputs = cellInputs(spec, cell);
  const backend = await selectBackend();
  log(`${describeBackend(backend)}`);
  const config = resolveConfig(spec, cell.method, cell.seed);
  const tasksDir = suiteDir(specSuite(spec));
  const evalTasks = loadSplit(tasksDir, spec.eval.split).slice(0, spec.eval.limit || undefined);
  // One sandbox worker: with --jobs n, n cells share the machine's cores.
  const pool = new SandboxPool({ poolSize: 1, timeoutMs: config?.sandbox.timeoutMs ?? 1000 });
  fs.mkdirSync(paths.runDir, { recursive: true });
  // A cell.json left by a run with other inputs must not sit beside this run's new files.
  fs.rmSync(path.join(paths.resultDir, "cell.json"), { force: true });
  let metrics: Record<string, number>[] = [];
  try {
    let policy: GptPolicy;
    let dispose: () => void;
    if (config) {
      // A checkpoint left by an interrupted run of the same inputs is resumed; any other is removed.
      const inputsFile = path.join(paths.runDir, "inputs.json");
      const previous = fs.existsSync(inputsFile) ? fs.readFileSync(inputsFile, "utf8") : "";
      if (previous !== JSON.stringify(inputs)) {
        fs.rmSync(path.join(paths.runDir, "train"), { recursive: true, force: true });
        writeFileAtomic(inputsFile, JSON.stringify(inputs));
      }
      const trainDir = path.join(paths.runDir, "train");
      const result = await train({
        config: { ...config, initCheckpoint: path.resolve(ROOT, config.initCheckpoint) },
        out: trainDir,
        trainTasks: loadSplit(tasksDir, "train"),
        evalTasks: config.eval.every > 0 ? loadSplit(tasksDir, config.eval.split).slice(0, config.eval.limit || undefined) : [],
        runner: pool,
        resume: true,
        meta: { experiment: spec.name, cell: cell.id, backend: backend.name, gitCommit: provenance().gitCommit },
        log,
      });
      // The metrics file holds every step, including those run before a resume.
      metrics = readJsonl<Record<string, number>>(path.join(trainDir, "metrics.jsonl"));
      policy = new GptPolicy(result.model, result.tokenizer);
      dispose = () => result.model.dispose();
    } else {
      const saved = loadPolicy(path.resolve(ROOT, spec.baseCheckpoint));
      policy = new GptPolicy(saved.model, saved.tokenizer);
      dispose = () => saved.model.dispose();
    }
    const t0 = Date.now();
    const { turns, samples } = spec.eval;
    const total = evalTasks.length * samples * turns;
    const progress = new Progress("eval", total, { unit: "attempt", write: log });
    const evaluation = await evaluateIterK(
      policy,
      evalTasks,
      pool,
      // The eval seed is the cell's seed: methods at the same seed see the same sampling streams.
      { turns, samples, temperature: spec.eval.temperature, maxNewTokens: spec.eval.maxNewTokens, topK: undefined, topP: undefined, seed: cell.seed },
      attemptProgress(progress, evalTasks.length * samples),
    );
    dispose();
    const evalSeconds = (Date.now() - t0) / 1000;
    writeJsonl(path.join(paths.resultDir, "metrics.jsonl"), metrics);
    writeJsonl(path.join(paths.resultDir, "eval.jsonl"), evaluation.records);
    const result: CellResult = {
      experiment: spec.name,
      cell: cell.id,
      method: cell.method.name,
      seed: cell.seed,
      iterPass1: evaluation.iterPass1,
      evalTasks: evalTasks.length,
      eval: spec.eval,
      steps: metrics.length,
      tokensSampled: sumOf(metrics, "tokens/sampled"),
      tokensTrained: sumOf(metrics, "tokens/trained"),
      tokensForwardedGrad: sumOf(metrics, "tokens/forwarded_grad"),
      trainSeconds: sumOf(metrics, "time/rollout_s") + sumOf(metrics, "time/update_s"),
      evalSeconds,
      wallSeconds: (Date.now() - started) / 1000,
      backend: backend.name,
      ...provenance(),
      ...inputs,
      config: recordedConfig(config),
      finishedAt: new Date().toISOString(),
    };
    // Written last: its existence marks the cell finished.
    writeFileAtomic(path.join(paths.resultDir, "cell.json"), JSON.stringify(result, null, 2) + "\n");
    return result;
  } finally {
    await pool.close();
  }
}
