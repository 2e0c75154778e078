/**
 * The one place where the run's metric names are defined and documented (TRL-style namespaces),
 * plus the pure functions that compute the tree-level ones. The trainer logs these names and only
 * these; a notebook can print METRICS next to a plot to say what a curve means.
 *
 * Names containing "{s}" stand for one metric per turn: "turn{s}/solved" is logged as
 * "turn1/solved", "turn2/solved", ... up to the run's turns S.
 * "from" says who computes it: "trees" (treeMetrics below), "loss" (lossMetrics below, from
 * loss.ts diagnostics) or "trainer" (stepMetrics below, from the step's update and drift probe,
 * and the evaluation the trainer runs).
 */
import type { LossDiagnostics } from "./loss";
import type { ScoredTree, TrainingExample } from "./pipeline";
import type { RolloutCounts } from "./rollout";
import type { RolloutTree } from "./tree";
import type { GroupMode } from "./groups";
import { advantageGroups } from "./groups";
import { mean, standardDeviation } from "./advantages";
import { countReasons } from "./prune";
import { meanFirstTurnTokens, sampledTokens } from "./compute";
import type { UpdateResult } from "./update";

export interface MetricInfo {
  description: string;
  from: "trees" | "loss" | "trainer";
}

export const METRICS = {
  "reward/mean": { from: "trees", description: "Mean reward r over every candidate sampled this step (all turns; for MURPHY it mixes first attempts and repairs, see turn{s}/reward_mean)." },
  "reward/std": { from: "trees", description: "Population std of r over every candidate sampled this step." },
  "reward/propagated_mean": { from: "trees", description: "Mean propagated reward R (MaRS/MeRS credit) over every candidate." },
  "reward/frac_zero_std": { from: "trees", description: "Fraction of advantage groups (sibling groups by default) whose R span <= the zero-variance tolerance: groups that give GRPO no signal." },
  "turn{s}/frac_zero_std": { from: "trees", description: "reward/frac_zero_std over the advantage groups of turn-s candidates only (same R, same tolerance; a group's members share one turn under both advantage.group modes): how much of each turn still carries signal. Absent for a turn with no candidates." },
  "turn{s}/solved": { from: "trees", description: "Fraction of this step's tasks solved (some candidate passed all tests) within the first s turns." },
  "turn{s}/pass_rate": { from: "trees", description: "Fraction of the turn-s candidates that passed all tests." },
  "turn{s}/reward_mean": { from: "trees", description: "Mean r of the turn-s candidates. turn1/reward_mean, the first attempts' mean, is the same quantity for GRPO and MURPHY: compare methods on it, not on reward/mean, which for MURPHY also averages the repairs of failed attempts." },
  "turn{s}/candidates": { from: "trees", description: "Number of turn-s candidates sampled this step." },
  "turn{s}/fixed": { from: "trees", description: "s >= 2: fraction of expanded turn-(s-1) attempts with at least one passing child (self-repair rate). Absent when nothing was expanded." },
  "advantage/mean_abs": { from: "trees", description: "Mean |A| over the trained (kept) candidates." },
  "prune/kept_frac": { from: "trees", description: "Fraction of sampled candidates kept for the update." },
  "prune/inter_dropped_frac": { from: "trees", description: "Fraction of candidates dropped by InterP (below a dropped subtree)." },
  "prune/intra_zero_variance_frac": { from: "trees", description: "Fraction of candidates dropped by IntraP as members of zero-variance groups." },
  "prune/intra_over_budget_frac": { from: "trees", description: "Fraction of candidates dropped by IntraP's per-group budget B." },
  "tokens/sampled": { from: "trees", description: "Completion tokens sampled this step (all candidates, all turns): the rollout compute that compute-matching equalises." },
  "tokens/trained": { from: "trees", description: "Completion tokens of the kept candidates (tokens with loss mask 1), per update epoch." },
  "tokens/forwarded_no_grad": { from: "trainer", description: "Real (unpadded) tokens forwarded without gradient: reference log-probs (if beta > 0), the kl/update pass over the step's completions and, on kl/start steps, the probe set. Shared prompts count once (update.ts)." },
  "tokens/forwarded_grad": { from: "trainer", description: "Real (unpadded) tokens forwarded with gradient, all update epochs: each sibling group's prompt once, plus its trained completions (advantage-0 completions are not forwarded when beta = 0; update.ts)." },
  "loss": { from: "loss", description: "The clipped-surrogate loss (plus beta * KL), as normalised by loss.normalization." },
  "clip/ratio": { from: "loss", description: "Fraction of completion tokens where the ratio clip is active (low or high)." },
  "clip/ratio_low": { from: "loss", description: "Fraction of completion tokens with A < 0 and ratio < 1 - epsLow." },
  "clip/ratio_high": { from: "loss", description: "Fraction of completion tokens with A > 0 and ratio > 1 + epsHigh." },
  "ratio/mean": { from: "loss", description: "Mean ratio pi/pi_old over completion tokens (1 on the first pass of each batch)." },
  "ratio/min": { from: "loss", description: "Smallest ratio pi/pi_old over completion tokens." },
  "ratio/max": { from: "loss", description: "Largest ratio pi/pi_old over completion tokens." },
  "approx_kl": { from: "loss", description: "Mean k3 estimate of KL(pi_old || pi) over completion tokens: how far the update moved the policy." },
  "kl": { from: "loss", description: "Mean k3 estimate of KL(pi || pi_ref) over completion tokens (only when a reference is used)." },
  "entropy": { from: "loss", description: "Mean policy entropy (nats) over completion tokens." },
  "kl/update": { from: "trainer", description: "Mean k3 estimate of KL(policy before the step's update || after) per completion token, over all of the step's kept completions: how far one update moved the policy on its own batch. (approx_kl is 0 by construction with one update epoch.) Measured on drift steps (eval.probeEvery), like kl/start." },
  "kl/start": { from: "trainer", description: "Mean k3 estimate of KL(starting policy || current) per completion token on a fixed probe set of validation prompts (drift.ts), at step 1, every eval.probeEvery steps and at the end: drift on prompts the run does not train on." },
  "optimizer/lr": { from: "trainer", description: "Learning rate used by this step's update (after warm-up, optimizer.warmupSteps)." },
  "step/trained_sequences": { from: "trainer", description: "Completions forwarded with gradient per update epoch (kept ones with a non-zero advantage, or all kept ones when beta > 0)." },
  "time/drift_s": { from: "trainer", description: "Seconds spent measuring kl/start this step." },
  "grad/norm": { from: "trainer", description: "Global gradient norm before clipping (last update epoch)." },
  "step/skipped_nonfinite": { from: "trainer", description: "Number of update epochs of this step skipped because the loss or a gradient was not finite (their weights and optimizer state unchanged)." },
  "step/examples": { from: "trainer", description: "Candidates trained on this step (kept after pruning)." },
  "step": { from: "trainer", description: "1-based step number." },
  "tokens/prompt_prefill": { from: "trainer", description: "Prompt tokens the sampler prefills: per sampling call, the real (unpadded) tokens of each distinct prompt once, because sample.ts runs a prompt shared by several rows of a call (a sibling group) through the model once and copies its cache (compute.ts prefillTokens). Not the sum of every candidate's prompt; left padding is not counted." },
  "tokens/sampled_turn1_mean": { from: "trainer", description: "Mean completion tokens of a first-turn candidate: with tokens/sampled, what compute matching needs (compute.ts matchedGroupSize)." },
  "eval/iter{k}_pass1": { from: "trainer", description: "Iter-k pass@1 on the eval split (one chain per task), every eval.every steps." },
  "time/eval_s": { from: "trainer", description: "Seconds spent in evaluation this step." },
  "time/rollout_s": { from: "trainer", description: "Seconds spent sampling and running candidates this step." },
  "time/update_s": { from: "trainer", description: "Seconds spent in the policy update this step." },
} as const satisfies Record<string, MetricInfo>;

export type MetricName = keyof typeof METRICS;

/** The table entry for a logged name, resolving per-turn names ("turn2/solved"). */
export function metricInfo(name: string): MetricInfo | undefined {
  const key = name.replace(/^turn\d+\//, "turn{s}/").replace(/^eval\/iter\d+_/, "eval/iter{k}_");
  return (METRICS as Record<string, MetricInfo>)[key];
}

const passed = (tree: RolloutTree, id: number) => tree.nodes[id].outcome === "passed";

/** Index s-1: fraction of trees with a passing candidate at some turn <= s, for s = 1..turns. */
export function solvedWithinTurns(trees: readonly RolloutTree[], turns: number): number[] {
  const firstSolved = trees.map((tree) => {
    const turnsSolved = tree.nodes.filter((n) => passed(tree, n.id)).map((n) => n.turn);
    return turnsSolved.length ? Math.min(...turnsSolved) : Infinity;
  });
  return Array.from({ length: turns }, (_, k) => (trees.length ? firstSolved.filter((t) => t <= k + 1).length / trees.length : 0));
}

/**
 * Fraction of groups (over all trees; sibling groups by default) whose values span at most
 * `tolerance`. With `turn`, only the groups whose candidates are of that turn (every group's
 * members share one turn, under both group modes); NaN when there is no such group.
 */
export function fracZeroStdGroups(
  trees: readonly RolloutTree[],
  valuesPerTree: readonly (readonly number[])[],
  tolerance: number,
  mode: GroupMode = "siblings",
  turn?: number,
): number {
  let groups = 0, flat = 0;
  trees.forEach((tree, k) => {
    for (const group of advantageGroups(tree, mode)) {
      if (turn !== undefined && tree.nodes[group[0]].turn !== turn) continue;
      const values = group.map((id) => valuesPerTree[k][id]);
      groups++;
      if (Math.max(...values) - Math.min(...values) <= tolerance) flat++;
    }
  });
  if (groups === 0) return turn === undefined ? 0 : NaN;
  return flat / groups;
}

export interface TreeMetricOptions {
  /** S: per-turn metrics are reported for turns 1..S. */
  turns: number;
  /** For reward/frac_zero_std and turn{s}/frac_zero_std (intraPrune.zeroVarianceTolerance). */
  zeroVarianceTolerance: number;
  /** For the frac_zero_std metrics: the advantage groups (advantage.group); default "siblings". */
  group?: GroupMode;
}

/** Every "trees" metric of METRICS for one step's scored trees. */
export function treeMetrics(scored: readonly ScoredTree[], options: TreeMetricOptions): Record<string, number> {
  const trees = scored.map((s) => s.tree);
  const all = scored.flatMap((s) => s.tree.nodes);
  const out: Record<string, number> = {};
  if (all.length === 0) return out;
  const rewards = all.map((n) => n.reward);
  out["reward/mean"] = mean(rewards);
  out["reward/std"] = standardDeviation(rewards, "population");
  out["reward/propagated_mean"] = mean(scored.flatMap((s) => s.propagatedRewards));
  const propagated = scored.map((s) => s.propagatedRewards);
  out["reward/frac_zero_std"] = fracZeroStdGroups(trees, propagated, options.zeroVarianceTolerance, options.group);

  const solved = solvedWithinTurns(trees, options.turns);
  for (let s = 1; s <= options.turns; s++) {
    const atTurn = scored.flatMap((x) => x.tree.nodes.filter((n) => n.turn === s).map((n) => ({ tree: x.tree, node: n })));
    out[`turn${s}/solved`] = solved[s - 1];
    out[`turn${s}/candidates`] = atTurn.length;
    if (atTurn.length) {
      out[`turn${s}/pass_rate`] = atTurn.filter((x) => passed(x.tree, x.node.id)).length / atTurn.length;
      out[`turn${s}/reward_mean`] = mean(atTurn.map((x) => x.node.reward));
      out[`turn${s}/frac_zero_std`] = fracZeroStdGroups(trees, propagated, options.zeroVarianceTolerance, options.group, s);
    }
    if (s >= 2) {
      const expanded = scored.flatMap((x) => x.tree.nodes.filter((n) => n.turn === s - 1 && n.children.length).map((n) => ({ tree: x.tree, node: n })));
      if (expanded.length) {
        out[`turn${s}/fixed`] = expanded.filter((x) => x.node.children.some((c) => passed(x.tree, c))).length / expanded.length;
      }
    }
  }

  const keptAdvantages = scored.flatMap((s) => s.kept.map((id) => Math.abs(s.advantages[id])));
  out["advantage/mean_abs"] = keptAdvantages.length ? mean(keptAdvantages) : 0;
  const counts = countReasons(scored.flatMap((s) => s.reasons));
  out["prune/kept_frac"] = counts["kept"] / all.length;
  out["prune/inter_dropped_frac"] = counts["inter:subtree-dropped"] / all.length;
  out["prune/intra_zero_variance_frac"] = counts["intra:zero-variance-group"] / all.length;
  out["prune/intra_over_budget_frac"] = counts["intra:over-budget"] / all.length;

  out["tokens/sampled"] = sampledTokens(trees);
  out["tokens/trained"] = scored.reduce((a, s) => a + s.kept.reduce((b, id) => b + s.tree.nodes[id].completionIds.length, 0), 0);
  return out;
}

/** The "loss" metrics of METRICS from one loss evaluation (kl and entropy only when present). */
export function lossMetrics(loss: number, d: LossDiagnostics): Record<string, number> {
  const out: Record<string, number> = {
    loss,
    "clip/ratio": d.clipFrac,
    "clip/ratio_low": d.clipLowFrac,
    "clip/ratio_high": d.clipHighFrac,
    "ratio/mean": d.ratioMean,
    "ratio/min": d.ratioMin,
    "ratio/max": d.ratioMax,
    approx_kl: d.approxKl,
  };
  if (d.kl !== undefined) out["kl"] = d.kl;
  if (d.entropy !== undefined) out["entropy"] = d.entropy;
  return out;
}

/** How long each part of a training step took, in ms since the epoch (Date.now()). */
export interface StepTimes {
  start: number;
  rolloutDone: number;
  updateDone: number;
  driftDone: number;
}

/**
 * Every metric of one training step except the evaluation's: the tree metrics of its batch, the
 * loss metrics of its last update epoch, and the trainer's (compute, drift, learning rate, times).
 */
export function stepMetrics(
  step: number,
  batch: { trees: readonly RolloutTree[]; counts: RolloutCounts; scored: readonly ScoredTree[]; examples: readonly TrainingExample[] },
  update: UpdateResult,
  drift: { kl: number; tokens: number } | undefined,
  learningRate: number,
  times: StepTimes,
  options: TreeMetricOptions,
): Record<string, number> {
  const last = update.epochs[update.epochs.length - 1];
  return {
    step,
    ...treeMetrics(batch.scored, options),
    ...(last ? lossMetrics(last.loss, last.diagnostics) : {}),
    "grad/norm": last ? last.gradNorm : 0,
    "step/skipped_nonfinite": update.epochs.filter((e) => e.skipped).length,
    "step/examples": batch.examples.length,
    "step/trained_sequences": update.trainedSequences,
    "optimizer/lr": learningRate,
    ...(update.updateKl !== undefined ? { "kl/update": update.updateKl } : {}),
    ...(drift ? { "kl/start": drift.kl } : {}),
    "tokens/prompt_prefill": batch.counts.promptTokens,
    "tokens/sampled_turn1_mean": meanFirstTurnTokens(batch.trees),
    "tokens/forwarded_grad": update.forwardedGrad,
    "tokens/forwarded_no_grad": update.forwardedNoGrad + (drift?.tokens ?? 0),
    "time/rollout_s": (times.rolloutDone - times.start) / 1000,
    "time/update_s": (times.updateDone - times.rolloutDone) / 1000,
    ...(drift ? { "time/drift_s": (times.driftDone - times.updateDone) / 1000 } : {}),
  };
}
