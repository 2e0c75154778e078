/**
 * The policy update of one step: the kept candidates of the step's trees become padded token
 * batches, and for each of `updateEpochs` (mu) epochs the gradients of the clipped surrogate are
 * accumulated over micro-batches and applied in one optimizer step. The loss is normalised over
 * the whole batch (batchTokens / batchSequences), so splitting into micro-batches changes memory
 * use, not the update.
 *
 * Old log-probs are the ones recorded at sampling (same temperature, before top-k/top-p), so pi_old
 * costs no extra forward pass; the frozen reference is forwarded without gradient when beta > 0.
 */
import * as tf from "@tensorflow/tfjs";
import type { GPT } from "../model/gpt";
import { tokenLogProbs } from "../model/logprobs";
import { applyAccumulated, type OptimizerStepResult } from "../model/train";
import { grpoLoss, type LossDiagnostics, type LossOptions } from "./loss";
import type { TrainingExample } from "./pipeline";

/** A padded batch: sequence t-th position scores ids[t]; mask marks completion tokens. */
export interface SequenceBatch {
  ids: number[][];
  oldLogprobs: number[][];
  mask: number[][];
  advantages: number[];
  /** Real (unpadded) tokens: prompt + completion. */
  tokens: number;
  completionTokens: number;
}

/** Right-pad prompt + completion of each example; completion positions carry mask 1. */
export function toSequenceBatch(examples: readonly TrainingExample[], pad: number): SequenceBatch {
  const width = Math.max(1, ...examples.map((e) => e.promptIds.length + e.completionIds.length));
  const batch: SequenceBatch = { ids: [], oldLogprobs: [], mask: [], advantages: [], tokens: 0, completionTokens: 0 };
  for (const e of examples) {
    if (e.sampledLogprobs.length !== e.completionIds.length) {
      throw new Error(`task ${e.taskId} node ${e.nodeId}: ${e.completionIds.length} completion tokens but ${e.sampledLogprobs.length} log-probs`);
    }
    const ids = new Array(width).fill(pad);
    const old = new Array(width).fill(0);
    const mask = new Array(width).fill(0);
    const start = e.promptIds.length;
    e.promptIds.forEach((id, t) => (ids[t] = id));
    e.completionIds.forEach((id, i) => {
      ids[start + i] = id;
      old[start + i] = e.sampledLogprobs[i];
      mask[start + i] = 1;
    });
    batch.ids.push(ids);
    batch.oldLogprobs.push(old);
    batch.mask.push(mask);
    batch.advantages.push(e.advantage);
    batch.tokens += start + e.completionIds.length;
    batch.completionTokens += e.completionIds.length;
  }
  return batch;
}

export interface UpdateOptions {
  loss: LossOptions;
  updateEpochs: number;
  /** Sequences per micro-batch (memory bound; does not change the update). */
  microBatchSize: number;
  /** The sampling temperature: log-probs are scored at the temperature they were sampled at. */
  temperature: number;
  clipNorm?: number;
  /** Frozen reference for the KL term (needed when loss.beta > 0). */
  reference?: GPT;
  /** Test hook: make the loss of this epoch (0-based) non-finite. */
  poisonEpoch?: number;
}

export interface EpochResult extends OptimizerStepResult {
  diagnostics: LossDiagnostics;
}

export interface UpdateResult {
  epochs: EpochResult[];
  /** Tokens forwarded with gradient (all epochs). */
  forwardedGrad: number;
  /** Tokens forwarded without gradient (reference log-probs). */
  forwardedNoGrad: number;
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
    ratioMin: Math.min(...parts.map((d) => d.ratioMin)),
    ratioMax: Math.max(...parts.map((d) => d.ratioMax)),
  };
  const kl = avg((d) => d.kl);
  const entropy = avg((d) => d.entropy);
  if (kl !== undefined) merged.kl = kl;
  if (entropy !== undefined) merged.entropy = entropy;
  return merged;
}

export function policyUpdate(model: GPT, optimizer: tf.Optimizer, examples: readonly TrainingExample[], pad: number, opts: UpdateOptions): UpdateResult {
  if (opts.loss.beta > 0 && !opts.reference) throw new Error("policyUpdate: loss.beta > 0 needs a reference model");
  const result: UpdateResult = { epochs: [], forwardedGrad: 0, forwardedNoGrad: 0 };
  if (examples.length === 0) return result;
  const micro: SequenceBatch[] = [];
  for (let i = 0; i < examples.length; i += opts.microBatchSize) micro.push(toSequenceBatch(examples.slice(i, i + opts.microBatchSize), pad));
  const batchTokens = micro.reduce((a, b) => a + b.completionTokens, 0);
  const lossOptions: LossOptions = { ...opts.loss, batchTokens: Math.max(1, batchTokens), batchSequences: examples.length };

  // Tensors of each micro-batch, built once; the reference's log-probs once (they do not change).
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
        const { loss, diagnostics: d } = grpoLoss(
          { logprobs, oldLogprobs: t.old, refLogprobs: t.ref, advantages: t.advantages, mask: t.mask, entropy },
          lossOptions,
        );
        diagnostics.push(d);
        return opts.poisonEpoch === epoch ? (tf.mul(loss, NaN) as tf.Scalar) : loss;
      });
      const step = applyAccumulated(model, optimizer, lossFns, { clipNorm: opts.clipNorm });
      result.forwardedGrad += micro.reduce((a, b) => a + b.tokens, 0);
      result.epochs.push({ ...step, diagnostics: mergeDiagnostics(diagnostics) });
    }
  } finally {
    for (const t of tensors) tf.dispose([t.ids, t.old, t.mask, t.advantages, ...(t.ref ? [t.ref] : [])]);
  }
  return result;
}
