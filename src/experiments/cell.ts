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
import { GptPolicy } from "../model/gpt-policy";
import { openPolicy } from "../kit";
import { attemptProgress, evaluateIterK } from "../eval/iterk";
import { firstTasks } from "../eval/defaults";
import { secondAttempts } from "../eval/statistics";
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
  const evalTasks = firstTasks(loadSplit(tasksDir, spec.eval.split), spec.eval.limit);
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
        // The spec sets eval.every = 0 and the cell evaluates once itself, below: no tasks, no
        // evaluation inside the trainer (unless a spec asks for it with eval.every > 0).
        evalTasks: config.eval.every > 0 ? firstTasks(loadSplit(tasksDir, config.eval.split), config.eval.limit) : [],
        probeTasks: loadSplit(tasksDir, "validation"),
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
      ({ policy, dispose } = openPolicy(spec.baseCheckpoint));
    }
    const t0 = Date.now();
    const { turns, samples } = spec.eval;
    // Iter-k at a temperature. The eval seed is the cell's seed: methods at the same seed see the
    // same sampling streams.
    const evaluateAt = (temperature: number, label: string) =>
      evaluateIterK(
        policy,
        evalTasks,
        pool,
        { turns, samples, temperature, maxNewTokens: spec.eval.maxNewTokens, topK: undefined, topP: undefined, seed: cell.seed },
        attemptProgress(new Progress(label, evalTasks.length * samples * turns, { unit: "attempt", write: log }), evalTasks.length * samples),
      );
    const evaluation = await evaluateAt(spec.eval.temperature, "eval");
    // The same evaluation at the training temperature: its per-attempt records are not kept
    // (the summaries hold its Iter-k), which keeps the committed results small.
    const atTrainingTemperature = spec.eval.trainingTemperature === null ? undefined : (await evaluateAt(spec.eval.trainingTemperature, `eval T=${spec.eval.trainingTemperature}`)).iterPass1;
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
      ...(atTrainingTemperature ? { iterPass1AtTrainingTemperature: atTrainingTemperature } : {}),
      evalTasks: evalTasks.length,
      secondAttempt: secondAttempts(evaluation.records),
      eval: spec.eval,
      steps: metrics.length,
      tokensSampled: sumOf(metrics, "tokens/sampled"),
      tokensTrained: sumOf(metrics, "tokens/trained"),
      tokensForwardedGrad: sumOf(metrics, "tokens/forwarded_grad"),
      tokensForwardedNoGrad: sumOf(metrics, "tokens/forwarded_no_grad"),
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
