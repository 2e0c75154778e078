/**
 * The MURPHY trainer: steps of rollout -> credit -> pruning -> advantages -> update, with
 * evaluation on the validation split every `eval.every` steps, checkpoints, resume, one metrics
 * JSONL per run (names documented in metrics.ts) and compute accounting per step.
 *
 * GRPO is the same loop with turns = 1. Every random choice of step k (its tasks, its samples)
 * derives from (seed, k) alone, and the optimizer state is checkpointed, so a run resumed after
 * step k produces the same metrics for the following steps as an uninterrupted one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Task } from "../tasks/types";
import type { ProgramRunner } from "../feedback";
import type { GPT } from "../model/gpt";
import { GptPolicy } from "../model/gpt-policy";
import { loadPolicy, resumeFrom, savePolicy } from "../model/store";
import type { Tokenizer } from "../model/tokenizer";
import { AdamW } from "../model/train";
import { evaluateIterK } from "../eval/iterk";
import { appendJsonl, writeFileAtomic } from "../util/files";
import { Progress } from "../util/progress";
import { hashString } from "../util/rng";
import type { Config } from "./config";
import { lossMetrics, treeMetrics } from "./metrics";
import { meanFirstTurnTokens } from "./compute";
import { klFromStart, loadOrSampleProbe } from "./drift";
import { stageOptions } from "./stage-options";
import { stepBatch } from "./step-batch";
import { policyUpdate } from "./update";

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

export { tasksOfStep } from "./step-batch";

/** Whether step k measures drift (kl/update, kl/start): step 1, every eval.probeEvery steps, the last. */
export function driftStep(config: Config, step: number): boolean {
  return step === 1 || step % config.eval.probeEvery === 0 || step === config.steps;
}

/** The learning rate of step k (1-based): linear warm-up over `warmupSteps`, then constant. */
export function learningRateAt(config: Config, step: number): number {
  const { lr, warmupSteps } = config.optimizer;
  return warmupSteps > 0 ? lr * Math.min(1, step / warmupSteps) : lr;
}

/** A fresh run starts from the init checkpoint's weights only (any optimizer state there is dropped). */
function startFrom(dir: string): { model: GPT; tokenizer: Tokenizer; state: undefined } {
  const saved = loadPolicy(dir);
  if (saved.optimizer) tf.dispose([...saved.optimizer.values()]);
  return { model: saved.model, tokenizer: saved.tokenizer, state: undefined };
}

export async function train(run: TrainRun): Promise<TrainResult> {
  const { config, out } = run;
  const log = run.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const checkpointDir = path.join(out, "checkpoint");
  const metricsFile = path.join(out, "metrics.jsonl");
  const resuming = run.resume === true && fs.existsSync(path.join(checkpointDir, "model.safetensors"));

  const options = stageOptions(config);
  const optimizer = new AdamW(options.optimizer);
  const loaded = resuming
    ? await resumeFrom<{ step: number; config: Config }>(checkpointDir, optimizer, config, "use another --out or drop --resume")
    : startFrom(config.initCheckpoint);
  const { model, tokenizer } = loaded;
  let startStep = 0;
  const history: Record<string, number>[] = [];
  if (loaded.state) {
    const state = loaded.state;
    startStep = state.step;
    // Metrics past the checkpoint came from steps that will now run again: drop them.
    const kept = fs.existsSync(metricsFile)
      ? fs.readFileSync(metricsFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, number>).filter((m) => m.step <= startStep)
      : [];
    writeFileAtomic(metricsFile, kept.map((m) => JSON.stringify(m) + "\n").join(""));
    history.push(...kept);
    log(`train: resumed from ${checkpointDir} after step ${startStep}`);
  } else {
    fs.mkdirSync(out, { recursive: true });
    fs.rmSync(metricsFile, { force: true });
  }
  const reference = config.loss.beta > 0 ? loadPolicy(config.initCheckpoint).model : undefined;
  writeFileAtomic(path.join(out, "config.json"), JSON.stringify({ config, meta: run.meta ?? {} }, null, 2) + "\n");
  log(`train: ${model.summary()}; ${config.turns === 1 ? "GRPO (one turn)" : `MURPHY, ${config.turns} turns, ${config.credit.strategy}`}`);

  const policy = new GptPolicy(model, tokenizer);
  // kl/start's probe set, sampled from the starting policy: on a fresh run that is the model as
  // loaded; a resumed run reads it back from out/probe.json.
  const probe = config.eval.probeTasks > 0 && run.probeTasks?.length
    ? await loadOrSampleProbe(out, () => policy, run.probeTasks, config)
    : [];
  const save = () =>
    savePolicy(checkpointDir, model, tokenizer, { optimizer, state: { step: currentStep, config }, meta: { trainedFrom: config.initCheckpoint, ...(run.meta ?? {}) } });
  let currentStep = startStep;
  const lastStep = Math.min(config.steps, startStep + (run.stopAfterSteps ?? Infinity));
  const progress = new Progress("train", config.steps, { unit: "step", write: log, startAt: startStep });
  try {
    for (let step = startStep + 1; step <= lastStep; step++) {
      const t0 = Date.now();
      // rollout -> credit -> pruning -> advantages (step-batch.ts), then the update.
      const { trees, counts, scored, examples } = await stepBatch(policy, run.trainTasks, run.runner, config, step);
      const t1 = Date.now();
      optimizer.learningRate = learningRateAt(config, step);
      const update = policyUpdate(model, optimizer, examples, tokenizer.pad, {
        ...options.update,
        reference,
        // Drift is measured on a schedule (a no-grad pass over the whole batch costs ~3/4 of the update).
        measureUpdateKl: driftStep(config, step),
        poisonEpoch: run.poisonStep === step ? 0 : undefined,
      });
      const t2 = Date.now();
      const drift = probe.length && driftStep(config, step)
        ? klFromStart(model, probe, tokenizer.pad, config)
        : undefined;
      const t3 = Date.now();
      const skipped = update.epochs.filter((e) => e.skipped).length;
      if (skipped) log(`train: step ${step}: ${skipped} of ${update.epochs.length} updates skipped (non-finite loss or gradient); weights unchanged by them`);
      const last = update.epochs[update.epochs.length - 1];
      const metrics: Record<string, number> = {
        step,
        ...treeMetrics(scored, options.metrics),
        ...(last ? lossMetrics(last.loss, last.diagnostics) : {}),
        "grad/norm": last ? last.gradNorm : 0,
        "step/skipped_nonfinite": skipped,
        "step/examples": examples.length,
        "step/trained_sequences": update.trainedSequences,
        "optimizer/lr": optimizer.learningRate,
        ...(update.updateKl !== undefined ? { "kl/update": update.updateKl } : {}),
        ...(drift ? { "kl/start": drift.kl } : {}),
        "tokens/prompt_prefill": counts.promptTokens,
        "tokens/sampled_turn1_mean": meanFirstTurnTokens(trees),
        "tokens/forwarded_grad": update.forwardedGrad,
        "tokens/forwarded_no_grad": update.forwardedNoGrad + (drift?.tokens ?? 0),
        "time/rollout_s": (t1 - t0) / 1000,
        "time/update_s": (t2 - t1) / 1000,
        ...(drift ? { "time/drift_s": (t3 - t2) / 1000 } : {}),
      };
      const evalDue = step === config.steps || (config.eval.every > 0 && step % config.eval.every === 0);
      if (run.evalTasks.length > 0 && evalDue) {
        const evaluation = await evaluateIterK(policy, run.evalTasks, run.runner, { ...options.eval, seed: hashString(`${config.seed}/eval/${step}`) });
        evaluation.iterPass1.forEach((p, i) => (metrics[`eval/iter${i + 1}_pass1`] = p));
        metrics["time/eval_s"] = (Date.now() - t3) / 1000;
      }
      appendJsonl(metricsFile, metrics);
      history.push(metrics);
      run.onStep?.(metrics);
      currentStep = step;
      progress.update(step, `reward ${metrics["reward/mean"].toFixed(3)}  solved@${config.turns} ${(metrics[`turn${config.turns}/solved`] ?? 0).toFixed(2)}  ${update.epochs.length ? `loss ${metrics["loss"]?.toFixed(4)}` : "no update"}`);
      if ((config.checkpointEvery > 0 && step % config.checkpointEvery === 0) || step === lastStep) await save();
    }
  } finally {
    optimizer.dispose();
    reference?.dispose();
  }
  return { step: currentStep, metrics: history, model, tokenizer };
}
