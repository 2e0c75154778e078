/**
 * Per-token log-probabilities (and entropies) of given sequences under the policy.
 *
 * GRPO needs log pi(token | prefix) for exactly the tokens that were sampled: with gradient for
 * the policy being trained (the ratio pi / pi_old), and without for the old and reference
 * policies. The caller multiplies by a 0/1 completion mask, so prompt and feedback positions
 * (and right padding) get no gradient; this module scores every position.
 */
import * as tf from "@tensorflow/tfjs";
import type { GPT } from "./gpt";
import { fusedTokenLogProbs } from "./logprob-op";
import { oneHotFloat } from "./ops";

export interface TokenLogProbOptions {
  /** Logits are divided by this before the softmax; must be > 0. Default 1. */
  temperature?: number;
  /** Also return the entropy of each predicting distribution. Default false. */
  withEntropy?: boolean;
}

export interface TokenLogProbs {
  /** `[B, T]`: log p(ids[b, t] | ids[b, < t]); position 0 has no prediction and is 0. */
  logprobs: tf.Tensor2D;
  /** `[B, T]`: entropy (nats) of the distribution that predicted position t; 0 at t = 0. */
  entropy?: tf.Tensor2D;
}

/**
 * Score every token of `ids` under `model` at the given temperature. Differentiable with respect
 * to the model's weights. `ids: [B, T]` int32, rows right-padded (padding positions are scored
 * like any other token and must be masked by the caller).
 *
 * These are the numbers `sample()` reports for the tokens it draws (temperature-scaled, before
 * any top-k/top-p truncation), so GRPO's old log-probs can be taken from either.
 */
export function tokenLogProbs(model: GPT, ids: tf.Tensor2D, opts: TokenLogProbOptions = {}): TokenLogProbs {
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`tokenLogProbs: temperature must be a finite number > 0 (got ${temperature}); greedy samples are scored at temperature 1`);
  }
  const [B, T] = ids.shape;
  const V = model.config.vocabSize;
  const result: TokenLogProbs = { logprobs: undefined as unknown as tf.Tensor2D };
  const zeros = () => tf.zeros([B, 1]);
  const kept = tf.tidy(() => {
    if (T === 1) {
      // Nothing predicts the first token; still run the model so misuse (bad ids) is reported.
      model.logits(ids).dispose();
      return opts.withEntropy ? [zeros(), zeros()] : [zeros()];
    }
    const logits = model.logits(ids);
    // Positions 0..T-2 predict tokens 1..T-1.
    const predicting = tf.reshape(tf.slice(logits, [0, 0, 0], [B, T - 1, V]), [B * (T - 1), V]) as tf.Tensor2D;
    const targets = tf.reshape(tf.slice(ids, [0, 1], [B, T - 1]), [-1]) as tf.Tensor1D;
    const fused = fusedTokenLogProbs(predicting, targets, temperature);
    if (fused) {
      const out = [tf.concat([zeros(), tf.reshape(fused.logp, [B, T - 1])], 1)];
      if (opts.withEntropy) out.push(tf.concat([zeros(), tf.reshape(fused.entropy, [B, T - 1])], 1));
      return out;
    }
    const scaled = temperature === 1 ? predicting : tf.div(predicting, temperature);
    const logp = tf.logSoftmax(scaled) as tf.Tensor2D;
    // Pick log p of the actual next token with a one-hot product (gather has no wasm gradient).
    const picked = tf.sum(tf.mul(logp, oneHotFloat(targets, V)), -1);
    const out = [tf.concat([zeros(), tf.reshape(picked, [B, T - 1])], 1)];
    if (opts.withEntropy) {
      const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1));
      out.push(tf.concat([zeros(), tf.reshape(entropy, [B, T - 1])], 1));
    }
    return out;
  });
  result.logprobs = kept[0] as tf.Tensor2D;
  if (opts.withEntropy) result.entropy = kept[1] as tf.Tensor2D;
  return result;
}

/** The inputs of `logProbsAfterPrefix`, as tensors (see murphy/packing.ts for the layout). */
export interface PrefixScoringInputs {
  /** `[G, P]` int32 shared prefixes, right-padded. */
  prefixIds: tf.Tensor2D;
  prefixLengths: readonly number[];
  /** `[B, S]` int32: the tokens each row feeds after its prefix. */
  ids: tf.Tensor2D;
  /** `[B, S]` int32: their positions in the whole sequence. */
  positions: tf.Tensor2D;
  /** `[B, S]` int32: the token each column predicts. */
  targets: tf.Tensor2D;
  rowGroup: readonly number[];
}

/**
 * `log p(targets[b, j] | prefix, ids[b, <= j])` at the given temperature, differentiable with
 * respect to the model's weights: `[B, S]`. The same numbers `tokenLogProbs` gives for those
 * tokens of the whole sequences, with each prefix forwarded once. Also returns the entropy of
 * each predicting distribution, `[B, S]` (a diagnostic: the caller reads it without gradient).
 * On wasm with the native kernels both come from one fused pass over the logits (./logprob-op).
 */
export function logProbsAfterPrefix(model: GPT, x: PrefixScoringInputs, opts: { temperature?: number } = {}): { logprobs: tf.Tensor2D; entropy: tf.Tensor2D } {
  const temperature = opts.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`logProbsAfterPrefix: temperature must be a finite number > 0 (got ${temperature})`);
  const [B, S] = x.ids.shape;
  const V = model.config.vocabSize;
  const [logprobs, entropy] = tf.tidy(() => {
    const prefix = model.prefixKeysValues(x.prefixIds);
    const logits = tf.reshape(model.logitsAfterPrefix(x.ids, x.positions, prefix, x.rowGroup, x.prefixLengths), [B * S, V]) as tf.Tensor2D;
    const targets = tf.reshape(x.targets, [-1]) as tf.Tensor1D;
    const fused = fusedTokenLogProbs(logits, targets, temperature);
    if (fused) return [tf.reshape(fused.logp, [B, S]) as tf.Tensor2D, tf.reshape(fused.entropy, [B, S]) as tf.Tensor2D];
    const logp = tf.logSoftmax(temperature === 1 ? logits : tf.div(logits, temperature)) as tf.Tensor2D;
    const picked = tf.sum(tf.mul(logp, oneHotFloat(targets, V)), -1);
    const rowEntropy = tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1));
    return [tf.reshape(picked, [B, S]) as tf.Tensor2D, tf.reshape(rowEntropy, [B, S]) as tf.Tensor2D];
  });
  return { logprobs, entropy };
}
