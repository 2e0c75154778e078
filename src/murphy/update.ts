/**
 * The policy update of one step: the kept candidates of the step's trees become token batches
 * (./packing), and for each of `updateEpochs` (mu) epochs the gradients of the clipped surrogate
 * are accumulated over micro-batches and applied in one optimizer step. The loss is normalised
 * over the whole batch (batchTokens / batchSequences), so splitting into micro-batches changes
 * memory use, not the update.
 *
 * What makes it fast without changing the gradient:
 * - shared prompts: a sibling group's prompt is forwarded once and its completions attend to its
 *   keys and values (packing.ts, GPT.logitsAfterPrefix); the prompt's weights get the sum of the
 *   completions' gradients, exactly as when each sequence runs it;
 * - completions with advantage 0 are not forwarded when no other loss term needs them (beta = 0):
 *   their surrogate is 0 whatever the ratio, so their gradient is exactly 0. They still count in
 *   the normaliser's denominator (batchTokens / batchSequences), which keeps the loss unchanged;
 * - only completion positions reach the output head, and the logged entropy comes with the
 *   log-probs (one fused pass over the logits on wasm with the native kernels), read without
 *   gradient.
 *
 * Old log-probs are the ones recorded at sampling (same temperature, before top-k/top-p), so pi_old
 * costs no extra forward pass; the frozen reference is forwarded without gradient when beta > 0.
 */
import * as tf from "@tensorflow/tfjs";
import type { GPT } from "../model/gpt";
import { logProbsAfterPrefix, tokenLogProbs } from "../model/logprobs";
import { applyAccumulated, type OptimizerStepResult } from "../model/train";
import { grpoLoss, type LossDiagnostics, type LossOptions } from "./loss";
import { sharedPromptBatches, toSequenceBatch, type SharedPromptBatch } from "./packing";
import type { TrainingExample } from "./pipeline";

export type UpdateLayout = "shared-prompt" | "per-sequence";

export interface UpdateOptions {
  loss: LossOptions;
  updateEpochs: number;
  /** Completion rows per micro-batch (memory bound; does not change the update). */
  microBatchSize: number;
  /** The sampling temperature: log-probs are scored at the temperature they were sampled at. */
  temperature: number;
  /** Global gradient-norm clip; undefined or 0 = off. */
  clipNorm?: number;
  /** Frozen reference for the KL term (needed when loss.beta > 0). */
  reference?: GPT;
  /** Batch layout; default "shared-prompt". "per-sequence" is the plain reference path (tests, bench). */
  layout?: UpdateLayout;
  /** Leave advantage-0 completions out of the forward when beta = 0 (default true). */
  skipZeroAdvantage?: boolean;
  /** After the update, measure KL(policy before || after) on all of the step's completions (`updateKl`). */
  measureUpdateKl?: boolean;
  /** Test hook: make the loss of this epoch (0-based) non-finite. */
  poisonEpoch?: number;
}

export interface EpochResult extends OptimizerStepResult {
  diagnostics: LossDiagnostics;
}

export interface UpdateResult {
  epochs: EpochResult[];
  /** Real tokens forwarded with gradient (all epochs). */
  forwardedGrad: number;
  /** Real tokens forwarded without gradient (reference log-probs, the update-KL measurement). */
  forwardedNoGrad: number;
  /** Completions trained (forwarded with gradient) per epoch. */
  trainedSequences: number;
  /** Mean k3 estimate of KL(pi_before || pi_after) per completion token, when measured. */
  updateKl?: number;
}

/** Token-weighted mean of the micro-batches' diagnostics. */
function mergeDiagnostics(parts: LossDiagnostics[]): LossDiagnostics {
  const tokens = parts.reduce((a, d) => a + d.tokens, 0);
  const avg = (f: (d: LossDiagnostics) => number | undefined) => {
    if (parts.some((d) => f(d) === undefined)) return undefined;
    return tokens ? parts.reduce((a, d) => a + (f(d) as number) * d.tokens, 0) / tokens : 0;
  };
  const merged: LossDiagnostics = {
    tokens,
    clipFrac: avg((d) => d.clipFrac) ?? 0,
    clipLowFrac: avg((d) => d.clipLowFrac) ?? 0,
    clipHighFrac: avg((d) => d.clipHighFrac) ?? 0,
    approxKl: avg((d) => d.approxKl) ?? 0,
    ratioMean: avg((d) => d.ratioMean) ?? 0,
    ratioMin: parts.length ? Math.min(...parts.map((d) => d.ratioMin)) : 0,
    ratioMax: parts.length ? Math.max(...parts.map((d) => d.ratioMax)) : 0,
  };
  const kl = avg((d) => d.kl);
  const entropy = avg((d) => d.entropy);
  if (kl !== undefined) merged.kl = kl;
  if (entropy !== undefined) merged.entropy = entropy;
  return merged;
}

/** Mean of the per-position entropies `[B, S]` (nats) at mask-1 positions. */
function maskedEntropy(entropy: Float32Array | Int32Array | Uint8Array, mask: readonly number[][]): number {
  let sum = 0, count = 0;
  const width = mask[0]?.length ?? 0;
  mask.forEach((row, b) =>
    row.forEach((m, j) => {
      if (!m) return;
      sum += entropy[b * width + j];
      count++;
    }),
  );
  return count ? sum / count : 0;
}

/** The tensors of one shared-prompt micro-batch (the caller disposes them). */
interface PrefixTensors {
  batch: SharedPromptBatch;
  prefixIds: tf.Tensor2D;
  ids: tf.Tensor2D;
  positions: tf.Tensor2D;
  targets: tf.Tensor2D;
  old: tf.Tensor2D;
  mask: tf.Tensor2D;
  advantages: tf.Tensor1D;
  ref?: tf.Tensor2D;
}

function prefixTensors(batch: SharedPromptBatch): PrefixTensors {
  return {
    batch,
    prefixIds: tf.tensor2d(batch.prefixIds, undefined, "int32"),
    ids: tf.tensor2d(batch.ids, undefined, "int32"),
    positions: tf.tensor2d(batch.positions, undefined, "int32"),
    targets: tf.tensor2d(batch.targets, undefined, "int32"),
    old: tf.tensor2d(batch.oldLogprobs),
    mask: tf.tensor2d(batch.mask),
    advantages: tf.tensor1d(batch.advantages),
  };
}

const scoringInputs = (t: PrefixTensors) => ({ ...t, prefixLengths: t.batch.prefixLengths, rowGroup: t.batch.rowGroup });

function disposePrefixTensors(all: PrefixTensors[]): void {
  for (const t of all) tf.dispose([t.prefixIds, t.ids, t.positions, t.targets, t.old, t.mask, t.advantages, ...(t.ref ? [t.ref] : [])]);
}

/**
 * Mean k3 estimate of KL(pi_sampler || model) per completion token of `examples`, without
 * gradient: `mean((r - 1) - log r)` with `r = pi_model / pi_sampler` of each sampled token. The
 * completions were drawn from the sampler, so this is unbiased for that KL (Schulman's k3).
 * Also returns the real tokens forwarded.
 */
export function klFromSampler(
  model: GPT,
  examples: readonly TrainingExample[],
  pad: number,
  opts: Pick<UpdateOptions, "microBatchSize" | "temperature">,
): { kl: number; tokens: number } {
  let sum = 0, count = 0, forwarded = 0;
  for (const batch of sharedPromptBatches(examples, pad, opts.microBatchSize)) {
    const t = prefixTensors(batch);
    try {
      const scored = tf.tidy(() => logProbsAfterPrefix(model, scoringInputs(t), { temperature: opts.temperature }).logprobs);
      const values = scored.arraySync() as number[][];
      scored.dispose();
      batch.mask.forEach((row, b) =>
        row.forEach((m, j) => {
          if (!m) return;
          const logRatio = values[b][j] - batch.oldLogprobs[b][j];
          sum += Math.exp(logRatio) - 1 - logRatio;
          count++;
        }),
      );
      forwarded += batch.tokens;
    } finally {
      disposePrefixTensors([t]);
    }
  }
  return { kl: count ? sum / count : 0, tokens: forwarded };
}

/** The update on the shared-prompt layout (the default). */
function sharedPromptUpdate(model: GPT, optimizer: tf.Optimizer, trained: readonly TrainingExample[], pad: number, opts: UpdateOptions, lossOptions: LossOptions, result: UpdateResult): void {
  const tensors = sharedPromptBatches(trained, pad, opts.microBatchSize).map((batch) => {
    const t = prefixTensors(batch);
    if (opts.reference) {
      t.ref = tf.tidy(() => logProbsAfterPrefix(opts.reference!, scoringInputs(t), { temperature: opts.temperature }).logprobs);
      result.forwardedNoGrad += batch.tokens;
    }
    return t;
  });
  try {
    for (let epoch = 0; epoch < opts.updateEpochs; epoch++) {
      const diagnostics: LossDiagnostics[] = [];
      const lossFns = tensors.map((t) => () => {
        const { logprobs, entropy } = logProbsAfterPrefix(model, scoringInputs(t), { temperature: opts.temperature });
        const { loss, diagnostics: d } = grpoLoss({ logprobs, oldLogprobs: t.old, refLogprobs: t.ref, advantages: t.advantages, mask: t.mask }, lossOptions);
        d.entropy = maskedEntropy(entropy.dataSync(), t.batch.mask);
        diagnostics.push(d);
        return opts.poisonEpoch === epoch ? (tf.mul(loss, NaN) as tf.Scalar) : loss;
      });
      const step = applyAccumulated(model, optimizer, lossFns, { clipNorm: opts.clipNorm || undefined });
      result.forwardedGrad += tensors.reduce((a, t) => a + t.batch.tokens, 0);
      result.epochs.push({ ...step, diagnostics: mergeDiagnostics(diagnostics) });
    }
  } finally {
    disposePrefixTensors(tensors);
  }
}

/** The plain per-sequence path: every example forwarded whole, prompt included. */
function perSequenceUpdate(model: GPT, optimizer: tf.Optimizer, trained: readonly TrainingExample[], pad: number, opts: UpdateOptions, lossOptions: LossOptions, result: UpdateResult): void {
  const micro = [];
  for (let i = 0; i < trained.length; i += opts.microBatchSize) micro.push(toSequenceBatch(trained.slice(i, i + opts.microBatchSize), pad));
  const tensors = micro.map((b) => {
    const ids = tf.tensor2d(b.ids, undefined, "int32");
    const ref = opts.reference ? tf.tidy(() => tokenLogProbs(opts.reference!, ids, { temperature: opts.temperature }).logprobs) : undefined;
    if (opts.reference) result.forwardedNoGrad += b.tokens;
    return { ids, old: tf.tensor2d(b.oldLogprobs), mask: tf.tensor2d(b.mask), advantages: tf.tensor1d(b.advantages), ref };
  });
  try {
    for (let epoch = 0; epoch < opts.updateEpochs; epoch++) {
      const diagnostics: LossDiagnostics[] = [];
      const lossFns = tensors.map((t) => () => {
        const { logprobs, entropy } = tokenLogProbs(model, t.ids, { temperature: opts.temperature, withEntropy: true });
        const { loss, diagnostics: d } = grpoLoss({ logprobs, oldLogprobs: t.old, refLogprobs: t.ref, advantages: t.advantages, mask: t.mask, entropy }, lossOptions);
        diagnostics.push(d);
        return opts.poisonEpoch === epoch ? (tf.mul(loss, NaN) as tf.Scalar) : loss;
      });
      const step = applyAccumulated(model, optimizer, lossFns, { clipNorm: opts.clipNorm || undefined });
      result.forwardedGrad += micro.reduce((a, b) => a + b.tokens, 0);
      result.epochs.push({ ...step, diagnostics: mergeDiagnostics(diagnostics) });
    }
  } finally {
    for (const t of tensors) tf.dispose([t.ids, t.old, t.mask, t.advantages, ...(t.ref ? [t.ref] : [])]);
  }
}

export function policyUpdate(model: GPT, optimizer: tf.Optimizer, examples: readonly TrainingExample[], pad: number, opts: UpdateOptions): UpdateResult {
  if (opts.loss.beta > 0 && !opts.reference) throw new Error("policyUpdate: loss.beta > 0 needs a reference model");
  const result: UpdateResult = { epochs: [], forwardedGrad: 0, forwardedNoGrad: 0, trainedSequences: 0 };
  if (examples.length === 0) return result;
  // The normaliser counts every kept completion, trained or skipped, so skipping changes nothing.
  const batchTokens = examples.reduce((a, e) => a + e.completionIds.length, 0);
  const lossOptions: LossOptions = { ...opts.loss, batchTokens: Math.max(1, batchTokens), batchSequences: examples.length };
  const skip = (opts.skipZeroAdvantage ?? true) && opts.loss.beta === 0;
  const trained = skip ? examples.filter((e) => e.advantage !== 0) : examples;
  result.trainedSequences = trained.length;
  if (trained.length === 0) zeroGradientSteps(model, optimizer, opts, result);
  else if ((opts.layout ?? "shared-prompt") === "shared-prompt") sharedPromptUpdate(model, optimizer, trained, pad, opts, lossOptions, result);
  else perSequenceUpdate(model, optimizer, trained, pad, opts, lossOptions, result);
  if (opts.measureUpdateKl) {
    const { kl, tokens } = klFromSampler(model, examples, pad, opts);
    result.updateKl = kl;
    result.forwardedNoGrad += tokens;
  }
  return result;
}

/**
 * Every kept advantage is 0 and nothing else is in the loss: the gradient is exactly 0. The
 * optimizer still takes its steps (Adam's momentum moves the weights, the iteration count
 * advances), as it would after forwarding the batch, so skipping the forward changes nothing.
 */
function zeroGradientSteps(model: GPT, optimizer: tf.Optimizer, opts: UpdateOptions, result: UpdateResult): void {
  for (let epoch = 0; epoch < opts.updateEpochs; epoch++) {
    const zeros: tf.NamedTensorMap = {};
    for (const w of model.weights.values()) zeros[w.name] = tf.zerosLike(w);
    try {
      optimizer.applyGradients(zeros);
    } finally {
      tf.dispose(Object.values(zeros));
    }
    const none: LossDiagnostics = { tokens: 0, clipFrac: 0, clipLowFrac: 0, clipHighFrac: 0, approxKl: 0, ratioMean: 0, ratioMin: 0, ratioMax: 0 };
    result.epochs.push({ loss: 0, gradNorm: 0, skipped: false, diagnostics: none });
  }
}
