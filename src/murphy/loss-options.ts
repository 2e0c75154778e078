/**
 * The options and plain-array inputs of the PPO-clip loss (loss.ts), in their own file so the
 * fused loss (loss-fused.ts) and the tensor loss can share them without importing each other.
 */

export type LossNormalization = "token" | "sequence" | "constant";

export interface LossOptions {
  /** Lower clip range: rho is clipped below at 1 - epsLow. */
  epsLow: number;
  /** Upper clip range: rho is clipped above at 1 + epsHigh. */
  epsHigh: number;
  /** Weight of the k3 KL penalty; 0 turns it off (then refLogprobs is not needed). */
  beta: number;
  normalization: LossNormalization;
  /** "constant" only: the per-sequence token budget (default T, the padded width). */
  maxTokens?: number;
  /**
   * When this call sees one micro-batch of a larger batch, the whole batch's completion-token
   * count ("token") or sequence count ("sequence", "constant"), so that summing the micro-batch
   * losses gives the full-batch loss. Default: this call's own counts.
   */
  batchTokens?: number;
  batchSequences?: number;
}

/** The plain-array inputs of `lossDiagnostics`: row-major [n, t] (advantages [n]). */
export interface FlatLossInputs {
  logprobs: ArrayLike<number>;
  oldLogprobs: ArrayLike<number>;
  refLogprobs?: ArrayLike<number>;
  advantages: ArrayLike<number>;
  mask: ArrayLike<number>;
  entropy?: ArrayLike<number>;
  n: number;
  t: number;
}
