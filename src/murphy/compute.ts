/**
 * Compute accounting and compute matching. MURPHY samples more per task than GRPO (the repairs of
 * failed attempts), so the fair baseline is "compute-matched" GRPO: single-turn GRPO whose group
 * size makes it sample as many tokens per step as MURPHY did (method.md). These helpers are pure
 * arithmetic over measured counts, so the matching can be redone whenever the base model changes.
 */
import type { ScoredTree } from "./pipeline";
import type { RolloutTree } from "./tree";

/** Completion tokens sampled in a set of trees (every candidate of every turn). */
export function sampledTokens(trees: readonly RolloutTree[]): number {
  let total = 0;
  for (const tree of trees) for (const node of tree.nodes) total += node.completionIds.length;
  return total;
}

/** Mean completion length of the turn-1 candidates of a set of trees (0 if there are none). */
export function meanFirstTurnTokens(trees: readonly RolloutTree[]): number {
  let tokens = 0, count = 0;
  for (const tree of trees) {
    for (const node of tree.nodes) {
      if (node.turn !== 1) continue;
      tokens += node.completionIds.length;
      count++;
    }
  }
  return count ? tokens / count : 0;
}

export interface MatchInputs {
  /** Completion tokens MURPHY sampled per step, averaged over measured steps. */
  murphyTokensPerStep: number;
  /** Mean completion length of a first attempt (what a GRPO sample costs). */
  meanFirstTurnTokens: number;
  /** Tasks per step, the same for both runs. */
  tasksPerStep: number;
}

/**
 * GRPO's group size G' with tasksPerStep * G' * meanFirstTurnTokens closest to MURPHY's sampled
 * tokens per step, rounded to the nearest integer and at least 2 (a group of one has no signal).
 */
export function matchedGroupSize(x: MatchInputs): number {
  for (const key of ["murphyTokensPerStep", "meanFirstTurnTokens", "tasksPerStep"] as const) {
    if (!(Number.isFinite(x[key]) && x[key] > 0)) throw new Error(`matchedGroupSize: ${key} must be a number > 0 (got ${x[key]})`);
  }
  return Math.max(2, Math.round(x.murphyTokensPerStep / (x.tasksPerStep * x.meanFirstTurnTokens)));
}

export interface TreeSizeInputs {
  /** G. */
  groupSize: number;
  /** G_s. */
  childrenPerFailed: number;
  /** S. */
  turns: number;
  /** Probability that an attempt fails (is expanded), assumed the same at every turn. */
  failRate: number;
}

/**
 * Expected candidates per tree before anything is measured: G at turn 1, then each turn
 * multiplies the previous turn's count by failRate * G_s. A planning estimate only (real fail
 * rates fall with the turn); use `sampledTokens` on real trees for the preset.
 */
export function expectedCandidatesPerTree(x: TreeSizeInputs): number {
  if (!(x.failRate >= 0 && x.failRate <= 1)) throw new Error(`expectedCandidatesPerTree: failRate must be in [0, 1] (got ${x.failRate})`);
  let atTurn = x.groupSize;
  let total = atTurn;
  for (let s = 2; s <= x.turns; s++) {
    atTurn *= x.failRate * x.childrenPerFailed;
    total += atTurn;
  }
  return total;
}

export interface TokenSavings {
  candidates: number;
  kept: number;
  /** Completion tokens sampled (all candidates). */
  sampledTokens: number;
  /** Completion tokens of the kept candidates: what the update trains on. */
  trainedTokens: number;
  /** 1 - trained / sampled (0 when nothing was sampled). */
  savedFraction: number;
}

/** What pruning saves in the update, over a batch of scored trees. */
export function tokenSavings(scored: readonly ScoredTree[]): TokenSavings {
  let candidates = 0;
  let kept = 0;
  let sampledTokens = 0;
  let trainedTokens = 0;
  for (const s of scored) {
    const keptIds = new Set(s.kept);
    for (const node of s.tree.nodes) {
      candidates++;
      sampledTokens += node.completionIds.length;
      if (keptIds.has(node.id)) {
        kept++;
        trainedTokens += node.completionIds.length;
      }
    }
  }
  return { candidates, kept, sampledTokens, trainedTokens, savedFraction: sampledTokens ? 1 - trainedTokens / sampledTokens : 0 };
}
