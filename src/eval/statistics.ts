/**
 * Statistics of sampled attempts and of Iter-k chains, as notebook 02 shows them: how sampling at
 * a temperature trades reward against variety, and each task's solve rate within k turns (the
 * values an interval over tasks is computed from). Pure functions over plain results.
 */
import type { AttemptResult } from "../attempts";

export interface SamplingSummary {
  /** Mean reward r over all attempts. */
  meanReward: number;
  /** Fraction of attempts whose program did not parse. */
  syntaxErrorRate: number;
  /** Distinct programs per task, averaged over tasks (1 = every sample the same). */
  distinctPerTask: number;
  /** Mean log-probability of a sampled token (sum over all completion tokens / their count). */
  logprobPerToken: number;
}

/**
 * Summary of attempts sampled `perTask` at a time for each task, in task order: attempts
 * [0, perTask) belong to the first task, [perTask, 2 perTask) to the second, and so on.
 */
export function samplingSummary(attempts: readonly AttemptResult[], perTask: number): SamplingSummary {
  if (!Number.isInteger(perTask) || perTask < 1) throw new Error(`samplingSummary: perTask must be an integer >= 1 (got ${perTask})`);
  if (attempts.length === 0 || attempts.length % perTask !== 0) {
    throw new Error(`samplingSummary: ${attempts.length} attempts is not a positive multiple of perTask = ${perTask}`);
  }
  const tasks = attempts.length / perTask;
  let distinct = 0;
  for (let i = 0; i < tasks; i++) distinct += new Set(attempts.slice(i * perTask, (i + 1) * perTask).map((a) => a.code)).size;
  const tokens = attempts.reduce((a, x) => a + x.completionIds.length, 0);
  const logprob = attempts.reduce((a, x) => a + x.sampledLogprobs.reduce((s, l) => s + l, 0), 0);
  return {
    meanReward: attempts.reduce((a, x) => a + x.evaluation.reward, 0) / attempts.length,
    syntaxErrorRate: attempts.filter((x) => x.evaluation.outcome === "syntax_error").length / attempts.length,
    distinctPerTask: distinct / tasks,
    logprobPerToken: tokens ? logprob / tokens : 0,
  };
}

/**
 * perTask[k - 1][task]: the fraction of the task's chains solved within k turns, k = 1..turns.
 * `solvedAtTurn[task][chain]` is the 1-based turn of the first full pass, 0 if never (iterk.ts);
 * the mean over tasks of perTask[k - 1] is Iter-k pass@1.
 */
export function solvedWithinPerTask(solvedAtTurn: readonly (readonly number[])[], turns: number): number[][] {
  return Array.from({ length: turns }, (_, j) => solvedAtTurn.map((chains) => chains.filter((t) => t > 0 && t <= j + 1).length / chains.length));
}
