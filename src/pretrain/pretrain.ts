/**
 * Supervised pretraining of the base policy (`npm run pretrain`): first attempts and repairs from
 * the train split (dataset.ts), cross-entropy on completion tokens only, AdamW with warmup and
 * cosine decay. Resumable: the run keeps a checkpoint with optimizer state in `workDir` every
 * `checkpointEvery` steps; the batch of step k is a pure function of (seed, k), so a resumed run
 * continues exactly where the interrupted one was. The finished weights (without optimizer state)
 * go to `out`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { Task } from "../tasks/types";
import type { ProgramRunner } from "../feedback";
import { GPT, type GPTConfig } from "../model/gpt";
import { Tokenizer } from "../model/tokenizer";
import { renderTask } from "../model/prompt";
import { AdamW, optimizerStep, sftLoss } from "../model/train";
import { loadPolicy, resumeFrom, savePolicy } from "../model/store";
import { appendJsonl, readJsonl } from "../util/files";
import { ROOT } from "../paths";
import { Progress } from "../util/progress";
import { Rng } from "../util/rng";
import { buildRepairMaterial, collate, drawExample, drawKind, DEFAULT_MIX, type ExampleMix, type RepairMaterial } from "./dataset";

export interface PretrainConfig {
  seed: number;
  steps: number;
  /** Sequences per step. */
  batchSize: number;
  /** Peak learning rate, reached after `warmupSteps`, then cosine decay to `minLrFraction` of it. */
  lr: number;
  warmupSteps: number;
  minLrFraction: number;
  weightDecay: number;
  clipNorm: number;
  /** The GPT's shape; the vocabulary size comes from the tokenizer. */
  model: Omit<GPTConfig, "vocabSize">;
  mix: ExampleMix;
  /** Pieces in the tokenizer's vocabulary, learned from the train split (0: characters only). */
  pieces: number;
  /** Failing mutants kept per task as repair material. */
  repairsPerTask: number;
  checkpointEvery: number;
  /**
   * Continue from this checkpoint's weights and tokenizer instead of a new model (optional; the
   * feedback suite's second base continues the first, FEEDBACK_PRETRAIN).
   */
  init?: string;
  /** With `PretrainRun.feedbackTasks`: the share of batches drawn from them (optional). */
  feedbackShare?: number;
  /** The mix of first attempts and repairs in those batches (optional; default `mix`). */
  feedbackMix?: ExampleMix;
}

export const DEFAULT_PRETRAIN: PretrainConfig = {
  seed: 0,
  steps: 2000,
  batchSize: 16,
  lr: 3e-3,
  warmupSteps: 50,
  minLrFraction: 0.1,
  weightDecay: 0.01,
  clipNorm: 1,
  // blockSize 640: the third turn (task, two attempts with feedback, answer) fits for >99% of tasks.
  // dModel 96: ~1.4x the tokens/s of 128 on wasm, so more examples fit the one-hour budget.
  // (Positions are tokens; with 384 pieces a sequence is about half as many tokens as characters.)
  model: { blockSize: 640, dModel: 96, nLayer: 4, nHead: 4, mlpRatio: 4 },
  mix: DEFAULT_MIX,
  pieces: 384,
  repairsPerTask: 2,
  checkpointEvery: 100,
};

/**
 * The second base policy, for the feedback suite (data/checkpoints/base-feedback): the base
 * policy trained further on half batches of its own data (the main suite's train split, to keep
 * what it can do there) and half of the feedback suite's train split, whose repairs take the
 * withheld part from real sandbox feedback on a description-only guess (dataset.ts). Repairs
 * dominate those batches: they teach reading feedback, while first attempts there can only
 * guess. A lower peak learning rate than from scratch, with a short warmup: the model is trained.
 * 1200 steps: about 40 minutes of one core here (the base took 1.5 s of CPU per step).
 */
export const FEEDBACK_PRETRAIN: PretrainConfig = {
  ...DEFAULT_PRETRAIN,
  steps: 1200,
  lr: 1e-3,
  warmupSteps: 20,
  checkpointEvery: 50,
  init: "data/checkpoints/base",
  feedbackShare: 0.5,
  feedbackMix: { firstAttempt: 0.2, twoRepairs: 0.3 },
};

/** Learning rate at `step` (0-based): linear warmup, then cosine decay to minLrFraction * lr. */
export function learningRateAt(config: Pick<PretrainConfig, "lr" | "warmupSteps" | "minLrFraction" | "steps">, step: number): number {
  if (step < config.warmupSteps) return (config.lr * (step + 1)) / config.warmupSteps;
  const progress = Math.min(1, (step - config.warmupSteps) / Math.max(1, config.steps - config.warmupSteps));
  const floor = config.lr * config.minLrFraction;
  return floor + (config.lr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

export interface PretrainRun {
  config: PretrainConfig;
  tasks: readonly Task[];
  /** Feedback-suite train tasks, drawn for `config.feedbackShare` of the batches (optional). */
  feedbackTasks?: readonly Task[];
  runner: ProgramRunner;
  /** Resumable state: checkpoint with optimizer, metrics.jsonl. */
  workDir: string;
  /** Where the finished base checkpoint goes. */
  out: string;
  /** Extra fields recorded in the checkpoint's config.json (backend, data, ...). */
  meta?: Record<string, unknown>;
  log?: (line: string) => void;
}

export interface PretrainResult {
  steps: number;
  resumedFrom: number;
  seconds: number;
  /** CPU time of the training steps in this process (and those before a resume). */
  cpuSeconds: number;
  finalLoss: number;
  tokensSeen: number;
  model: GPT;
  tokenizer: Tokenizer;
}

/**
 * The tokenizer of a new base model: characters plus the `pieces` most frequent chunks of the
 * texts the model will read and write (task blocks, reference programs, the repair material's
 * programs and feedback), all from the train split.
 */
export function trainTokenizer(tasks: readonly Task[], material: readonly RepairMaterial[], pieces: number): Tokenizer {
  if (pieces === 0) return new Tokenizer();
  function* texts(): Generator<string> {
    for (const task of tasks) {
      yield renderTask(task);
      yield task.reference;
    }
    for (const m of material) for (const a of m.attempts) {
      yield a.code;
      yield a.feedback;
    }
  }
  return Tokenizer.train(texts(), { maxPieces: pieces, minCount: 5 });
}

/** The loss of the last step in metrics.jsonl (NaN when there is none): a finished run resumed. */
function lastLoggedLoss(metricsFile: string): number {
  if (!fs.existsSync(metricsFile)) return NaN;
  const rows = readJsonl<{ loss?: number }>(metricsFile);
  return rows.length > 0 && typeof rows[rows.length - 1].loss === "number" ? rows[rows.length - 1].loss! : NaN;
}

export async function pretrain(run: PretrainRun): Promise<PretrainResult> {
  const { config, tasks, workDir } = run;
  const log = run.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const started = Date.now();
  const checkpointDir = path.join(workDir, "checkpoint");
  const metricsFile = path.join(workDir, "metrics.jsonl");

  log(`pretrain: building repair material for ${tasks.length} tasks in the sandbox`);
  const materialProgress = new Progress("repair material", tasks.length, { unit: "task", write: log });
  const material = await buildRepairMaterial(tasks, run.runner, new Rng(`${config.seed}/mutations`), {
    perTask: config.repairsPerTask,
    onProgress: (done) => materialProgress.update(done),
  });
  const byTask = new Map<string, RepairMaterial>(material.map((m) => [m.taskId, m]));
  const feedbackTasks = run.feedbackTasks ?? [];
  // Ids repeat between suites ("train-00001"), so each suite has its own material.
  const byFeedbackTask = new Map<string, RepairMaterial>();
  if (feedbackTasks.length > 0) {
    log(`pretrain: building repair material for ${feedbackTasks.length} feedback-suite tasks in the sandbox`);
    const feedbackProgress = new Progress("feedback repair material", feedbackTasks.length, { unit: "task", write: log });
    const feedbackMaterial = await buildRepairMaterial(feedbackTasks, run.runner, new Rng(`${config.seed}/feedback-mutations`), {
      perTask: config.repairsPerTask,
      onProgress: (done) => feedbackProgress.update(done),
    });
    for (const m of feedbackMaterial) byFeedbackTask.set(m.taskId, m);
  }

  let model: GPT;
  let tokenizer: Tokenizer;
  const optimizer = new AdamW({ learningRate: config.lr, weightDecay: config.weightDecay });
  let startStep = 0;
  let tokensSeen = 0;
  let elapsedBefore = 0;
  // CPU time of this process's training (sampling the sandbox's workers for repair material is not in it).
  let cpuBefore = 0;
  let cpuStart = process.cpuUsage();
  const cpuSeconds = () => {
    const used = process.cpuUsage(cpuStart);
    return cpuBefore + (used.user + used.system) / 1e6;
  };
  if (fs.existsSync(path.join(checkpointDir, "model.safetensors"))) {
    const resumed = await resumeFrom<{ step: number; tokensSeen: number; seconds: number; cpuSeconds?: number; config: PretrainConfig }>(
      checkpointDir, optimizer, config, `delete ${workDir} to start over`,
    );
    ({ model, tokenizer } = resumed);
    const state = resumed.state;
    startStep = state.step;
    tokensSeen = state.tokensSeen;
    elapsedBefore = state.seconds;
    cpuBefore = state.cpuSeconds ?? 0;
    log(`pretrain: resumed from ${checkpointDir} at step ${startStep}`);
  } else if (config.init) {
    const saved = loadPolicy(path.resolve(ROOT, config.init));
    ({ model, tokenizer } = saved);
    const { vocabSize: _, ...shape } = model.config;
    if (JSON.stringify(shape) !== JSON.stringify(config.model)) {
      model.dispose();
      throw new Error(`pretrain: config.model ${JSON.stringify(config.model)} differs from the model in ${config.init} (${JSON.stringify(shape)})`);
    }
    log(`pretrain: continuing from ${config.init} (its weights and tokenizer)`);
    fs.rmSync(metricsFile, { force: true });
  } else {
    tokenizer = trainTokenizer(tasks, material, config.pieces);
    log(`pretrain: tokenizer with ${tokenizer.pieces.length} pieces (${tokenizer.vocabSize} ids)`);
    model = GPT.create({ vocabSize: tokenizer.vocabSize, ...config.model }, config.seed);
    fs.rmSync(metricsFile, { force: true });
  }
  log(`pretrain: ${model.summary()}`);

  const save = async (step: number) => {
    const seconds = elapsedBefore + (Date.now() - started) / 1000;
    await savePolicy(checkpointDir, model, tokenizer, { optimizer, state: { step, tokensSeen, seconds, cpuSeconds: cpuSeconds(), config }, meta: run.meta });
  };

  cpuStart = process.cpuUsage();
  const progress = new Progress("pretrain", config.steps, { unit: "step", write: log, startAt: startStep });
  let lastLoss = NaN;
  for (let step = startStep; step < config.steps; step++) {
    // The batch of step k depends only on (seed, k): resuming reproduces it.
    const rng = new Rng(`${config.seed}/batch/${step}`);
    // Runs without feedback tasks draw nothing here, so their batches are what they always were.
    const fromFeedback = feedbackTasks.length > 0 && rng.next() < (config.feedbackShare ?? 0);
    const [source, sourceMaterial] = fromFeedback ? [feedbackTasks, byFeedbackTask] : [tasks, byTask];
    const kind = drawKind(rng, fromFeedback ? (config.feedbackMix ?? config.mix) : config.mix);
    const examples = Array.from({ length: config.batchSize }, () => {
      const task = source[rng.int(0, source.length - 1)];
      return drawExample(tokenizer, task, sourceMaterial.get(task.id), rng, kind);
    });
    const batch = collate(examples, tokenizer.pad, config.model.blockSize);
    optimizer.learningRate = learningRateAt(config, step);
    const [ids, targets, mask] = [tf.tensor2d(batch.ids, undefined, "int32"), tf.tensor2d(batch.targets, undefined, "int32"), tf.tensor2d(batch.lossMask)];
    const result = optimizerStep(model, optimizer, () => sftLoss(model, ids, targets, mask), { clipNorm: config.clipNorm });
    tf.dispose([ids, targets, mask]);
    tokensSeen += batch.tokens;
    lastLoss = result.loss;
    appendJsonl(metricsFile, {
      step: step + 1, loss: result.loss, grad_norm: result.gradNorm, skipped: result.skipped, lr: optimizer.learningRate, tokens: tokensSeen,
      seconds: elapsedBefore + (Date.now() - started) / 1000,
      ...(feedbackTasks.length > 0 ? { feedback_batch: fromFeedback ? 1 : 0, repairs: kind, cpu_seconds: cpuSeconds() } : {}),
    });
    if (result.skipped) log(`pretrain: step ${step + 1} skipped (non-finite loss or gradient)`);
    progress.update(step + 1, `loss ${result.loss.toFixed(3)}  lr ${optimizer.learningRate.toExponential(2)}  ${tokensSeen} tok`);
    if ((step + 1) % config.checkpointEvery === 0 || step + 1 === config.steps) await save(step + 1);
  }
  if (startStep >= config.steps) lastLoss = lastLoggedLoss(metricsFile);
  // A finished run resumed (to evaluate again) trains nothing: its time is the run's own.
  const seconds = startStep >= config.steps ? elapsedBefore : elapsedBefore + (Date.now() - started) / 1000;
  await savePolicy(run.out, model, tokenizer, {
    meta: { ...(run.meta ?? {}), pretrain: { config, steps: config.steps, tokensSeen, seconds: Math.round(seconds), cpuSeconds: Math.round(cpuSeconds()), finalLoss: lastLoss } },
  });
  optimizer.dispose();
  return { steps: config.steps, resumedFrom: startStep, seconds, cpuSeconds: cpuSeconds(), finalLoss: lastLoss, tokensSeen, model, tokenizer };
}
