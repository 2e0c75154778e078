/**
 * The MURPHY trainer. One step, top to bottom in `train`:
 *
 *   rollout -> credit -> pruning -> advantages   stepBatch (step-batch.ts)
 *   update                                       policyUpdate (update.ts), warm-up learningRateAt
 *   metrics                                      stepMetrics (metrics.ts), Iter-k when due
 *
 * and the bookkeeping one call each: resume, metrics file and checkpoints (run-folder.ts), the
 * drift probe (drift.ts), the evaluation schedule (evaluateIfDue below). Every stage's options
 * come from the config through stageOptions (stage-options.ts).
 *
 * GRPO is the same loop with turns = 1. Every random choice of step k (its tasks, its samples)
 * derives from (seed, k) alone, and the optimizer state is checkpointed, so a run resumed after
 * step k produces the same metrics for the following steps as an uninterrupted one.
 */
import type { Task } from "../tasks/types";
import type { ProgramRunner } from "../feedback";
import type { GPT } from "../model/gpt";
import { GptPolicy } from "../model/gpt-policy";
import { loadPolicy } from "../model/store";
import type { Tokenizer } from "../model/tokenizer";
import { AdamW } from "../model/train";
import { evaluateIterK } from "../eval/iterk";
import { Progress } from "../util/progress";
import { hashString } from "../util/rng";
import type { Config } from "./config";
import { stageOptions } from "./stage-options";
import { stepBatch } from "./step-batch";
import { policyUpdate } from "./update";
import { driftAt, driftStep, openProbe } from "./drift";
import { stepMetrics } from "./metrics";
import { openRunFolder } from "./run-folder";

export interface TrainRun {
  config: Config;
  /** Output folder: config.json, metrics.jsonl, checkpoint/. */
  out: string;
  trainTasks: readonly Task[];
  /**
   * Tasks evaluated with Iter-k every `eval.every` steps and after the last step (`eval.every = 0`:
   * after the last step only). Empty: the run never evaluates (experiment cells evaluate
   * themselves after training).
   */
  evalTasks: readonly Task[];
  /** Tasks whose prompts make kl/start's probe set (the first config.eval.probeTasks are used; usually the validation split). */
  probeTasks?: readonly Task[];
  runner: ProgramRunner;
  /** Continue from out/checkpoint if it exists. */
  resume?: boolean;
  /** Stop after this many steps of this process (to simulate an interruption in tests). */
  stopAfterSteps?: number;
  /** Extra facts recorded in out/config.json (backend, git commit, ...). */
  meta?: Record<string, unknown>;
  log?: (line: string) => void;
  /** Test hook: make the loss of this step (1-based) non-finite. */
  poisonStep?: number;
  /** Called after every step with its metrics (for live plots). */
  onStep?: (metrics: Record<string, number>) => void;
}

export interface TrainResult {
  /** Steps finished in total (including those before a resume). */
  step: number;
  metrics: Record<string, number>[];
  model: GPT;
  tokenizer: Tokenizer;
}

/** The learning rate of step k (1-based): linear warm-up over `warmupSteps`, then constant. */
export function learningRateAt(config: Config, step: number): number {
  const { lr, warmupSteps } = config.optimizer;
  return warmupSteps > 0 ? lr * Math.min(1, step / warmupSteps) : lr;
}

export async function train(run: TrainRun): Promise<TrainResult> {
  const { config } = run;
  const log = run.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const options = stageOptions(config);
  const optimizer = new AdamW(options.optimizer);
  // Resume or start: the model, the steps already done and their metrics, the checkpoint schedule.
  const folder = await openRunFolder({ ...run, log }, optimizer);
  const { model, tokenizer } = folder;
  const reference = config.loss.beta > 0 ? loadPolicy(config.initCheckpoint).model : undefined;
  log(`train: ${model.summary()}; ${config.turns === 1 ? "GRPO (one turn)" : `MURPHY, ${config.turns} turns, ${config.credit.strategy}`}`);
  const policy = new GptPolicy(model, tokenizer);
  const probe = await openProbe(run.out, policy, run.probeTasks, config);
  const progress = new Progress("train", config.steps, { unit: "step", write: log, startAt: folder.startStep });
  let currentStep = folder.startStep;
  try {
    for (let step = folder.startStep + 1; step <= folder.lastStep; step++) {
      const start = Date.now();
      // rollout -> credit -> pruning -> advantages (step-batch.ts)
      const batch = await stepBatch(policy, run.trainTasks, run.runner, config, step);
      const rolloutDone = Date.now();
      // update
      optimizer.learningRate = learningRateAt(config, step);
      const update = policyUpdate(model, optimizer, batch.examples, tokenizer.pad, {
        ...options.update,
        reference,
        // Drift is measured on a schedule (a no-grad pass over the whole batch costs ~3/4 of the update).
        measureUpdateKl: driftStep(config, step),
        poisonEpoch: run.poisonStep === step ? 0 : undefined,
      });
      const updateDone = Date.now();
      const drift = driftAt(step, model, probe, tokenizer.pad, config);
      const driftDone = Date.now();
      const skipped = update.epochs.filter((e) => e.skipped).length;
      if (skipped) log(`train: step ${step}: ${skipped} of ${update.epochs.length} updates skipped (non-finite loss or gradient); weights unchanged by them`);
      // metrics, then the evaluation when due, the record, the checkpoint when due
      const metrics = stepMetrics(step, batch, update, drift, optimizer.learningRate, { start, rolloutDone, updateDone, driftDone }, options.metrics);
      Object.assign(metrics, await evaluateIfDue(policy, run, step));
      folder.record(metrics);
      run.onStep?.(metrics);
      currentStep = step;
      progress.update(step, `reward ${metrics["reward/mean"].toFixed(3)}  solved@${config.turns} ${(metrics[`turn${config.turns}/solved`] ?? 0).toFixed(2)}  ${update.epochs.length ? `loss ${metrics["loss"]?.toFixed(4)}` : "no update"}`);
      await folder.checkpointIfDue(step);
    }
  } finally {
    optimizer.dispose();
    reference?.dispose();
  }
  return { step: currentStep, metrics: folder.history, model, tokenizer };
}

/**
 * Iter-k on the run's eval tasks every `eval.every` steps and after the last step (none when the
 * run has no eval tasks): the eval/iter{k}_pass1 metrics and time/eval_s, or {} when not due.
 */
async function evaluateIfDue(policy: GptPolicy, run: TrainRun, step: number): Promise<Record<string, number>> {
  const { config } = run;
  const due = step === config.steps || (config.eval.every > 0 && step % config.eval.every === 0);
  if (run.evalTasks.length === 0 || !due) return {};
  const start = Date.now();
  const evaluation = await evaluateIterK(policy, run.evalTasks, run.runner, { ...stageOptions(config).eval, seed: hashString(`${config.seed}/eval/${step}`) });
  const metrics: Record<string, number> = {};
  evaluation.iterPass1.forEach((p, i) => (metrics[`eval/iter${i + 1}_pass1`] = p));
  metrics["time/eval_s"] = (Date.now() - start) / 1000;
  return metrics;
}
