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

/** What the chains did right after a failed attempt (see `secondAttempts`). */
export interface SecondAttemptCounts {
  /** Chains whose attempt at the turn failed and that made another attempt. */
  failed: number;
  /** Of those, the next attempt passed every test. */
  fixed: number;
  /** Of those, the next attempt was the failed program again, character for character: feedback ignored. */
  resubmitted: number;
}

/**
 * After a failed attempt at `turn` (default 1): how many chains went on, how many of those the
 * next attempt fixed, and how many resubmitted the same program. Separates "reads the feedback"
 * from "samples again": a policy that ignores feedback resubmits often and fixes little. Records
 * are Iter-k attempts (iterk.ts AttemptRecord: taskId, chain, turn, code, solved).
 */
export function secondAttempts(records: readonly { taskId: string; chain: number; turn: number; code: string; solved: boolean }[], turn = 1): SecondAttemptCounts {
  const key = (r: { taskId: string; chain: number }) => `${r.taskId}\u0000${r.chain}`;
  const next = new Map(records.filter((r) => r.turn === turn + 1).map((r) => [key(r), r]));
  const counts: SecondAttemptCounts = { failed: 0, fixed: 0, resubmitted: 0 };
  for (const r of records) {
    if (r.turn !== turn || r.solved) continue;
    const after = next.get(key(r));
    if (!after) continue;
    counts.failed++;
    if (after.solved) counts.fixed++;
    if (after.code === r.code) counts.resubmitted++;
  }
  return counts;
}
