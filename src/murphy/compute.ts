/**
 * Compute accounting and compute matching. MURPHY samples more per task than GRPO (the repairs of
 * failed attempts), so the fair baseline is "compute-matched" GRPO: single-turn GRPO whose group
 * size makes it sample as many tokens per step as MURPHY did (method.md). These helpers are pure
 * arithmetic over measured counts, so the matching can be redone whenever the base model changes.
 */
import type { RolloutTree } from "./tree";

/** Completion tokens sampled in a set of trees (every candidate of every turn). */
export function sampledTokens(trees: readonly RolloutTree[]): number {
  let total = 0;
  for (const tree of trees) for (const node of tree.nodes) total += node.completionIds.length;
  return total;
}

/**
 * Prompt tokens one sampling call prefills: the real (unpadded) tokens of each distinct prompt
 * among `prompts`, counted once. The sampler (src/model/sample.ts) deduplicates the prompts of a
 * call and runs each distinct one through the model once, then copies its keys/values to every
 * row that uses it; so a group of G siblings sampled together costs one prompt, not G. Left
 * padding to the call's longest prompt is also forwarded but not counted, as in every other
 * token count of the kit (real tokens only).
 */
export function prefillTokens(prompts: readonly (readonly number[])[]): number {
  const seen = new Set<string>();
  let total = 0;
  for (const prompt of prompts) {
    const key = prompt.join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    total += prompt.length;
  }
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

/** Steps a run must have before its means are trusted for compute matching (a few steps are noisy). */
export const MIN_MATCH_STEPS = 10;

export interface RunMatch {
  /** Steps whose metrics were averaged. */
  steps: number;
  tasksPerStep: number;
  /** Mean of metric tokens/sampled over the steps. */
  murphyTokensPerStep: number;
  /** Mean of metric tokens/sampled_turn1_mean over the steps. */
  meanFirstTurnTokens: number;
  /** The matched GRPO group size G' (matchedGroupSize). */
  groupSize: number;
  /** What GRPO with G' is expected to sample per step: tasksPerStep * G' * meanFirstTurnTokens. */
  grpoTokensPerStep: number;
}

/**
 * Compute matching over a whole MURPHY run rather than a few steps: the matched GRPO group size
 * from the mean of tokens/sampled and of tokens/sampled_turn1_mean over every step of `metrics`
 * (one record per step, as in metrics.jsonl). Needs at least `minSteps` steps; `where` names the
 * metrics in errors.
 */
export function matchOverRun(metrics: readonly Record<string, number>[], tasksPerStep: number, minSteps = MIN_MATCH_STEPS, where = "metrics"): RunMatch {
  if (!Number.isInteger(minSteps) || minSteps < 1) throw new Error(`compute matching: minSteps must be an integer >= 1 (got ${minSteps})`);
  if (metrics.length < minSteps) {
    throw new Error(
      `${where} has ${metrics.length} step(s); compute matching averages over at least ${minSteps} steps, because a few steps give noisy token counts ` +
        `(train the MURPHY config longer, e.g. --set steps=${minSteps}, or lower the bar with --min-steps)`,
    );
  }
  const column = (name: string) =>
    metrics.map((m, i) => {
      const value = m[name];
      if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`${where}: step record ${i + 1} has no number "${name}" (got ${JSON.stringify(value)}); is this a metrics.jsonl of murphy train?`);
      return value;
    });
  const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const murphyTokensPerStep = average(column("tokens/sampled"));
  const meanFirst = average(column("tokens/sampled_turn1_mean"));
  const groupSize = matchedGroupSize({ murphyTokensPerStep, meanFirstTurnTokens: meanFirst, tasksPerStep });
  return { steps: metrics.length, tasksPerStep, murphyTokensPerStep, meanFirstTurnTokens: meanFirst, groupSize, grpoTokensPerStep: tasksPerStep * groupSize * meanFirst };
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
