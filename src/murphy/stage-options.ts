/**
 * What each stage of the method takes from a run config, in the order the data flows:
 *
 *   sampling   how a candidate is drawn          temperature, topK, topP, maxNewTokens
 *   rollout    the tree's shape                  G, S, G_s, reward.binary, InterP's skipExpansion
 *   score      credit, pruning, advantages       credit.*, interPrune.*, intraPrune.*, advantage.*
 *   optimizer  AdamW                             optimizer.lr, beta2, weightDecay
 *   update     the PPO-clip loss and its passes  loss.*, microBatchSize, the sampling temperature
 *   metrics    the tree metrics of a step        S, IntraP's tolerance, advantage.group
 *   eval       Iter-k during training            eval.turns, one chain per task, the sampling
 *   drift      kl/start on the probe set         microBatchSize, the sampling temperature
 *
 * This is the only place where config fields become stage options: the trainer, the CLI,
 * experiment cells and notebooks call `stageOptions(config)` instead of copying fields by hand
 * (which had let them drift apart). Seeds are not here: each caller derives its own from
 * `config.seed` (per step, per evaluation), and the trainer's per-step learning rate is its
 * warm-up schedule (trainer.ts learningRateAt) applied to `optimizer.learningRate`.
 */
import type { IterKOptions } from "../eval/iterk";
import type { SamplingOptions } from "../model/policy";
import type { AdamWConfig } from "../model/train";
import type { Config } from "./config";
import type { TreeMetricOptions } from "./metrics";
import type { ScoreOptions } from "./pipeline";
import type { RolloutOptions } from "./rollout";
import type { UpdateOptions } from "./update";

export interface StageOptions {
  sampling: SamplingOptions;
  rollout: Omit<RolloutOptions, "seed">;
  score: ScoreOptions;
  optimizer: AdamWConfig;
  /** Everything of policyUpdate's options that a config decides (not the reference model or test hooks). */
  update: Pick<UpdateOptions, "loss" | "updateEpochs" | "microBatchSize" | "temperature" | "clipNorm">;
  metrics: TreeMetricOptions;
  eval: Omit<IterKOptions, "seed">;
  drift: Pick<UpdateOptions, "microBatchSize" | "temperature">;
}

/** Every stage's options from one config. */
export function stageOptions(config: Config): StageOptions {
  const sampling: SamplingOptions = {
    ...config.sampling,
    topK: config.sampling.topK || undefined, // 0 = off
    topP: config.sampling.topP < 1 ? config.sampling.topP : undefined, // 1 = off
  };
  // Log-probs are scored at the temperature they were sampled at (the config requires it > 0).
  const temperature = config.sampling.temperature;
  return {
    sampling,
    rollout: {
      ...sampling,
      groupSize: config.groupSize,
      turns: config.turns,
      childrenPerFailed: config.childrenPerFailed,
      binary: config.reward.binary,
      maxExpandedPerGroup: config.interPrune.enabled && config.interPrune.skipExpansion ? config.interPrune.maxSubtrees : undefined,
    },
    score: { credit: config.credit, advantage: config.advantage, intraPrune: config.intraPrune, interPrune: config.interPrune },
    optimizer: { learningRate: config.optimizer.lr, beta2: config.optimizer.beta2, weightDecay: config.optimizer.weightDecay },
    update: {
      loss: {
        epsLow: config.loss.epsLow,
        epsHigh: config.loss.epsHigh,
        beta: config.loss.beta,
        normalization: config.loss.normalization,
        maxTokens: config.sampling.maxNewTokens, // the "constant" normalisation divides by N * maxNewTokens
      },
      updateEpochs: config.loss.updateEpochs,
      microBatchSize: config.microBatchSize,
      temperature,
      clipNorm: config.optimizer.clipNorm > 0 ? config.optimizer.clipNorm : undefined, // 0 = no clipping
    },
    metrics: { turns: config.turns, zeroVarianceTolerance: config.intraPrune.zeroVarianceTolerance, group: config.advantage.group },
    eval: { ...sampling, turns: config.eval.turns, samples: 1 },
    drift: { microBatchSize: config.microBatchSize, temperature },
  };
}
