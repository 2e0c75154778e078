/**
 * The output end of scoring, fused: log pi(target) and the entropy of every predicting row of
 * `logits[N, V]` at a temperature, with a hand-written gradient, computed by the native kernels
 * (./native-kernels) in one pass per row forward and one backward, instead of tf's log-softmax,
 * one-hot product, exp and sums (each a pass over the whole [N, V] tensor; at the kit's shape
 * they took over a tenth of an update). With `a = logits / temperature`, `p = softmax(a)`:
 *   logp_i = a_i[target_i] - logsumexp(a_i)        entropy_i = -sum_j p_ij log p_ij
 *   d logp_i / d a_ij = 1[j = target_i] - p_ij      d entropy_i / d a_ij = -p_ij (log p_ij + entropy_i)
 * and both chain through `1 / temperature` to the logits.
 */
import * as tf from "@tensorflow/tfjs";
import { nativeMatMulAvailable, nativeTokenLogProbs, nativeTokenLogProbsGrad } from "./native-kernels";

/**
 * `{logp[N], entropy[N]}` for `logits[N, V]` and int32 `targets[N]`, differentiable with
 * respect to the logits; null when the native kernels are not available (then compute them
 * with tf's ops, as ./logprobs does).
 */
export function fusedTokenLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D, temperature: number): { logp: tf.Tensor1D; entropy: tf.Tensor1D } | null {
  if (!nativeMatMulAvailable() || targets.dtype !== "int32") return null;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logitsIn, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const { logpEntropy, lse } = nativeTokenLogProbs(logitsIn, targets, temperature)!;
    save([logitsIn, tf.clone(targets), lse, logpEntropy]);
    return {
      value: logpEntropy,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [z, t, lseSaved, both] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor2D];
        return [nativeTokenLogProbsGrad(z, t, lseSaved, both, dy as tf.Tensor2D, temperature)!];
      },
    };
  });
  // [2, N]: row 0 log p of each target, row 1 each row's entropy (one output: see nativeTokenLogProbs).
  const [logp, entropy] = tf.unstack(op(logits) as tf.Tensor2D) as tf.Tensor1D[];
  return { logp, entropy };
}
