/**
 * grpoLoss (./loss) as one custom op: the loss and its derivative with respect to each log-prob
 * computed in JavaScript (float64) from the numbers grpoLoss already reads for its diagnostics,
 * instead of ~25 tf kernels forward and ~45 backward on a [N, T] tensor of a few hundred tokens,
 * where each launch costs more than its arithmetic. Used where the native kernels run (the
 * wasm training path); every other backend keeps grpoLoss's tf ops, and
 * test/murphy-loss.test.ts checks both give the same loss and gradient.
 *
 * Per completion token (mask 1), with r = exp(logp - logp_old), A the row's advantage and
 * c = clip(r, 1 - epsLow, 1 + epsHigh):
 *   l = -min(r A, c A) + beta * (exp(ref - logp) - (ref - logp) - 1)
 *   dl/dlogp = -A r where the unclipped term is the minimum (ties included: tf's minimum sends
 *              the gradient to its first argument), else 0 (the clip is active: r lies outside
 *              the range, where clipByValue's gradient is 0);  plus beta * (1 - exp(ref - logp))
 * and the loss is sum(w * l) with w the
 * normalisation's weight of the token: 1 / tokens ("token"), 1 / (row tokens * sequences)
 * ("sequence"), 1 / (sequences * maxTokens) ("constant").
 */
import * as tf from "@tensorflow/tfjs";
import type { FlatLossInputs, LossOptions } from "./loss-options";

/** The loss and `d loss / d logprobs` ([n, t], 0 off the mask) of flat inputs (see the file comment). */
export function lossAndGradient(x: FlatLossInputs, options: LossOptions): { loss: number; grad: Float32Array } {
  const { n, t } = x;
  const grad = new Float32Array(n * t);
  let tokens = 0;
  for (let k = 0; k < n * t; k++) tokens += x.mask[k];
  const sequences = options.batchSequences ?? n;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let rowTokens = 0;
    for (let j = 0; j < t; j++) rowTokens += x.mask[i * t + j];
    const weight =
      options.normalization === "token" ? 1 / (options.batchTokens ?? Math.max(tokens, 1))
      : options.normalization === "sequence" ? 1 / (Math.max(rowTokens, 1) * sequences)
      : 1 / (sequences * (options.maxTokens ?? t));
    const a = x.advantages[i];
    for (let j = 0; j < t; j++) {
      const k = i * t + j;
      if (x.mask[k] === 0) continue;
      const logp = x.logprobs[k];
      const ratio = Math.exp(logp - x.oldLogprobs[k]);
      const clipped = Math.min(Math.max(ratio, 1 - options.epsLow), 1 + options.epsHigh);
      let perToken = -Math.min(ratio * a, clipped * a);
      let slope = ratio * a <= clipped * a ? -a * ratio : 0;
      if (options.beta > 0 && x.refLogprobs) {
        const d = x.refLogprobs[k] - logp;
        perToken += options.beta * (Math.exp(d) - d - 1);
        slope += options.beta * (1 - Math.exp(d));
      }
      loss += weight * perToken;
      grad[k] = weight * slope;
    }
  }
  return { loss, grad };
}

/** The loss as a scalar differentiable in `logprobs` ([n, t]), from the same flat inputs. */
export function fusedGrpoLoss(logprobs: tf.Tensor2D, x: FlatLossInputs, options: LossOptions): tf.Scalar {
  const { loss, grad } = lossAndGradient(x, options);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    void args;
    return {
      value: tf.scalar(loss),
      gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor2d(grad, [x.n, x.t])),
    };
  });
  return op(logprobs) as tf.Scalar;
}
