import { test } from "node:test";
import assert from "node:assert/strict";
import type { AttemptResult } from "../src/attempts";
import { samplingSummary, secondAttempts, solvedWithinPerTask } from "../src/eval/statistics";

const attempt = (code: string, reward: number, outcome: string, logprobs: number[]): AttemptResult =>
  ({ promptIds: [], droppedAttempts: 0, completionIds: logprobs.map((_, i) => i), sampledLogprobs: logprobs, code, evaluation: { reward, outcome, feedback: "" } }) as unknown as AttemptResult;

test("samplingSummary by hand: two tasks, two samples each", () => {
  const attempts = [
    attempt("a", 1, "passed", [-0.5, -0.5]),
    attempt("a", 1, "passed", [-1]),
    attempt("b", 0, "syntax_error", [-2, -1, 0]),
    attempt("c", 0.5, "wrong_answer", [-0.5]),
  ];
  // reward (1 + 1 + 0 + .5) / 4; 1 syntax error of 4; distinct 1 (task 1) and 2 (task 2);
  // log-probs (-1 - 1 - 3 - .5) / 7 tokens.
  assert.deepEqual(samplingSummary(attempts, 2), { meanReward: 0.625, syntaxErrorRate: 0.25, distinctPerTask: 1.5, logprobPerToken: -5.5 / 7 });
  assert.throws(() => samplingSummary(attempts, 3), /4 attempts is not a positive multiple of perTask = 3/);
  assert.throws(() => samplingSummary(attempts, 0), /perTask must be an integer >= 1/);
});

test("solvedWithinPerTask: cumulative per task; the mean over tasks is Iter-k pass@1", () => {
  // Task 0: chains solved at turns 1 and 3; task 1: never and at turn 2.
  const perTask = solvedWithinPerTask([[1, 3], [0, 2]], 3);
  assert.deepEqual(perTask, [[0.5, 0], [0.5, 0.5], [1, 0.5]]);
  assert.deepEqual(perTask.map((v) => (v[0] + v[1]) / 2), [0.25, 0.5, 0.75]);
});

test("secondAttempts by hand: failed first attempts that went on, fixed and resubmitted", () => {
  const r = (taskId: string, chain: number, turn: number, code: string, solved: boolean) => ({ taskId, chain, turn, code, solved });
  const records = [
    // t1 chain 0: fails, resubmits the same program, still fails (resubmitted, not fixed).
    r("t1", 0, 1, "a", false),
    r("t1", 0, 2, "a", false),
    // t1 chain 1: fails, a new program fixes it.
    r("t1", 1, 1, "a", false),
    r("t1", 1, 2, "b", true),
    // t2 chain 0: solved at once: not counted.
    r("t2", 0, 1, "c", true),
    // t2 chain 1: failed but stopped (passed the visible tests only): no turn 2, not counted.
    r("t2", 1, 1, "d", false),
    // t3 chain 0: fails, a new wrong program, which then fails again at turn 3 and is resubmitted.
    r("t3", 0, 1, "e", false),
    r("t3", 0, 2, "f", false),
    r("t3", 0, 3, "f", false),
  ];
  assert.deepEqual(secondAttempts(records), { failed: 3, fixed: 1, resubmitted: 1 });
  // From turn 2 to turn 3: t1/0 has no turn 3 (not counted); t3/0 went on and resubmitted.
  assert.deepEqual(secondAttempts(records, 2), { failed: 1, fixed: 0, resubmitted: 1 });
  assert.deepEqual(secondAttempts([]), { failed: 0, fixed: 0, resubmitted: 0 });
});
