/**
 * The policy loss: GRPO's token-level clipped surrogate, with an optional KL penalty to a frozen
 * reference model. Per completion token t of candidate i, with advantage A_i:
 *
 *   ratio      rho = exp(logp - logp_old)
 *   surrogate  min(rho * A_i, clip(rho, 1 - epsLow, 1 + epsHigh) * A_i)     (PPO-clip; DAPO's
 *              "clip-higher" lets epsHigh > epsLow so unlikely tokens can still rise)
 *   KL (k3)    exp(ref - logp) - (ref - logp) - 1    (Schulman's unbiased, non-negative
 *              estimator of KL(pi || ref), as in DeepSeekMath GRPO)
 *   per-token  l = -surrogate + beta * k3
 *
 * and the loss averages l over completion tokens (mask 1) in one of three ways:
 *   "token"     sum over all completion tokens of the batch / their count (DAPO; every token
 *               weighs the same, so long answers are not down-weighted)
 *   "sequence"  mean over each sequence's tokens, then mean over sequences (DeepSeekMath GRPO)
 *   "constant"  sum / (N * maxTokens), a fixed denominator (Dr. GRPO; no length bias at all)
 *
 * Prompt and feedback tokens have mask 0 and get exactly zero gradient: their log-ratios are
 * replaced by 0 before anything else, so even -Infinity log-probs on padding cannot leak NaN.
 * Positions where the clip is active get zero surrogate gradient, by the min.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeMatMulAvailable } from "../model/native-kernels";
import { fusedGrpoLoss } from "./loss-fused";
import type { FlatLossInputs, LossNormalization, LossOptions } from "./loss-options";

export type { FlatLossInputs, LossNormalization, LossOptions } from "./loss-options";


export interface LossInputs {
  /** log pi(token) under the policy being trained, differentiable: [N, T]. */
  logprobs: tf.Tensor2D;
  /** log pi_old(token) under the policy that sampled (or the update's start): [N, T]. */
  oldLogprobs: tf.Tensor2D;
  /** log pi_ref(token) under the frozen reference model, needed when beta > 0: [N, T]. */
  refLogprobs?: tf.Tensor2D;
  /** One advantage per sequence: [N]. */
  advantages: tf.Tensor1D;
  /** 1 on completion tokens, 0 on prompt, feedback and padding: [N, T]. */
  mask: tf.Tensor2D;
  /** Per-token entropy of the policy, for the diagnostics only: [N, T]. */
  entropy?: tf.Tensor2D;
}


/** Plain numbers about one loss evaluation; token averages are over completion tokens. */
export interface LossDiagnostics {
  /** Number of completion tokens (mask 1). */
  tokens: number;
  /** Fraction of tokens where the clip is active (low or high). */
  clipFrac: number;
  /** Fraction of tokens with A < 0 and rho < 1 - epsLow (clipped from below). */
  clipLowFrac: number;
  /** Fraction of tokens with A > 0 and rho > 1 + epsHigh (clipped from above). */
  clipHighFrac: number;
  /** Mean of (rho - 1) - log rho: k3 estimate of KL(pi_old || pi). */
  approxKl: number;
  /** Mean k3 estimate of KL(pi || ref), when refLogprobs is given. */
  kl?: number;
  /** Mean per-token entropy, when entropy is given. */
  entropy?: number;
  ratioMean: number;
  ratioMin: number;
  ratioMax: number;
}

function checkShape(name: string, t: tf.Tensor | undefined, shape: number[]): void {
  if (!t) return;
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`grpoLoss: ${name} must have shape [${shape.join(", ")}] (got [${t.shape.join(", ")}])`);
  }
}

function checkOptions(o: LossOptions): void {
  if (!(o.epsLow >= 0 && o.epsLow < 1)) throw new Error(`grpoLoss: epsLow must be a number in [0, 1) (got ${o.epsLow})`);
  if (!(o.epsHigh >= 0)) throw new Error(`grpoLoss: epsHigh must be a number >= 0 (got ${o.epsHigh})`);
  if (!(o.beta >= 0)) throw new Error(`grpoLoss: beta must be a number >= 0 (got ${o.beta})`);
  if (!["token", "sequence", "constant"].includes(o.normalization)) {
    throw new Error(`grpoLoss: normalization must be "token", "sequence" or "constant" (got ${JSON.stringify(o.normalization)})`);
  }
  for (const key of ["maxTokens", "batchTokens", "batchSequences"] as const) {
    const v = o[key];
    if (v !== undefined && !(v > 0)) throw new Error(`grpoLoss: ${key} must be a number > 0 (got ${v})`);
  }
}

/**
 * The clipped-surrogate loss and its diagnostics.
 * Shapes: logprobs, oldLogprobs, refLogprobs, mask, entropy [N, T]; advantages [N].
 * The loss is a scalar tensor that stays differentiable with respect to `logprobs`; call this
 * inside `tf.variableGrads` (or `tf.grad`). Diagnostics are plain numbers read without gradient.
 */
export function grpoLoss(inputs: LossInputs, options: LossOptions): { loss: tf.Scalar; diagnostics: LossDiagnostics } {
  checkOptions(options);
  const { logprobs, oldLogprobs, refLogprobs, advantages, mask, entropy } = inputs;
  if (logprobs.rank !== 2) throw new Error(`grpoLoss: logprobs must have shape [N, T] (got [${logprobs.shape.join(", ")}])`);
  const [n, t] = logprobs.shape;
  checkShape("oldLogprobs", oldLogprobs, [n, t]);
  checkShape("refLogprobs", refLogprobs, [n, t]);
  checkShape("mask", mask, [n, t]);
  checkShape("entropy", entropy, [n, t]);
  checkShape("advantages", advantages, [n]);
  if (options.beta > 0 && !refLogprobs) throw new Error(`grpoLoss: refLogprobs is required when beta > 0 (beta = ${options.beta})`);

  const maskValues = mask.dataSync();
  for (let i = 0; i < maskValues.length; i++) {
    if (maskValues[i] !== 0 && maskValues[i] !== 1) {
      throw new Error(`grpoLoss: mask must hold only 0 and 1 (got ${maskValues[i]} at [${Math.floor(i / t)}, ${i % t}])`);
    }
  }
  const flat: FlatLossInputs = {
    logprobs: logprobs.dataSync(),
    oldLogprobs: oldLogprobs.dataSync(),
    refLogprobs: refLogprobs?.dataSync(),
    advantages: advantages.dataSync(),
    mask: maskValues,
    entropy: entropy?.dataSync(),
    n,
    t,
  };
  const diagnostics = lossDiagnostics(flat, options);
  // Where the native kernels run, one custom op from the numbers just read (./loss-fused).
  if (nativeMatMulAvailable()) return { loss: fusedGrpoLoss(logprobs, flat, options), diagnostics };

  const loss = tf.tidy(() => {
    const onCompletion = tf.greater(mask, 0);
    const zeros = tf.zerosLike(logprobs);
    const logRatio = tf.where(onCompletion, tf.sub(logprobs, oldLogprobs), zeros);
    const ratio = tf.exp(logRatio);
    const advantageColumn = tf.reshape(advantages, [n, 1]);
    const unclipped = tf.mul(ratio, advantageColumn);
    const clipped = tf.mul(tf.clipByValue(ratio, 1 - options.epsLow, 1 + options.epsHigh), advantageColumn);
    let perToken = tf.neg(tf.minimum(unclipped, clipped));
    if (options.beta > 0 && refLogprobs) {
      const refMinusPolicy = tf.where(onCompletion, tf.sub(refLogprobs, logprobs), zeros);
      const k3 = tf.sub(tf.sub(tf.exp(refMinusPolicy), refMinusPolicy), 1);
      perToken = tf.add(perToken, tf.mul(k3, options.beta));
    }
    const masked = tf.mul(perToken, mask);
    const sequences = options.batchSequences ?? n;
    if (options.normalization === "token") {
      const tokens = options.batchTokens ?? Math.max(diagnostics.tokens, 1);
      return tf.div(tf.sum(masked), tokens) as tf.Scalar;
    }
    if (options.normalization === "sequence") {
      // A sequence with no completion tokens contributes 0 but still counts as a sequence.
      const lengths = tf.maximum(tf.sum(mask, 1), 1);
      return tf.div(tf.sum(tf.div(tf.sum(masked, 1), lengths)), sequences) as tf.Scalar;
    }
    return tf.div(tf.sum(masked), sequences * (options.maxTokens ?? t)) as tf.Scalar;
  });
  return { loss, diagnostics };
}


/**
 * The diagnostics of the loss, from plain numbers (no tensors, no gradient). Every average is
 * over completion tokens, whatever the loss normalisation; with no completion tokens all are 0.
 */
export function lossDiagnostics(x: FlatLossInputs, options: Pick<LossOptions, "epsLow" | "epsHigh">): LossDiagnostics {
  let tokens = 0, low = 0, high = 0, approxKl = 0, kl = 0, entropy = 0, ratioSum = 0;
  let ratioMin = Infinity, ratioMax = -Infinity;
  for (let i = 0; i < x.n; i++) {
    const a = x.advantages[i];
    for (let j = 0; j < x.t; j++) {
      const k = i * x.t + j;
      if (x.mask[k] === 0) continue;
      tokens++;
      const logRatio = x.logprobs[k] - x.oldLogprobs[k];
      const ratio = Math.exp(logRatio);
      ratioSum += ratio;
      ratioMin = Math.min(ratioMin, ratio);
      ratioMax = Math.max(ratioMax, ratio);
      if (a < 0 && ratio < 1 - options.epsLow) low++;
      if (a > 0 && ratio > 1 + options.epsHigh) high++;
      approxKl += ratio - 1 - logRatio;
      if (x.refLogprobs) {
        const d = x.refLogprobs[k] - x.logprobs[k];
        kl += Math.exp(d) - d - 1;
      }
      if (x.entropy) entropy += x.entropy[k];
    }
  }
  const per = (v: number) => (tokens ? v / tokens : 0);
  const out: LossDiagnostics = {
    tokens,
    clipFrac: per(low + high),
    clipLowFrac: per(low),
    clipHighFrac: per(high),
    approxKl: per(approxKl),
    ratioMean: per(ratioSum),
    ratioMin: tokens ? ratioMin : 0,
    ratioMax: tokens ? ratioMax : 0,
  };
  if (x.refLogprobs) out.kl = per(kl);
  if (x.entropy) out.entropy = per(entropy);
  return out;
}
