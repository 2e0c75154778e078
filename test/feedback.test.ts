import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_FEEDBACK_MAX_CHARS,
  buildFeedback,
  checkRunMatchesTask,
  evaluateProgram,
  fitPieces,
  reward,
  testsOf,
  visibleTestsPassed,
  type ProgramRunner,
} from "../src/feedback";
import type { Outcome, RunResult, TestResult } from "../src/sandbox/types";
import type { Task, TestCase } from "../src/tasks/types";

const task: Task = {
  id: "test-00001",
  family: "map_reduce",
  difficulty: 1,
  description: "Multiply the sum of xs by k.",
  signature: "(xs, k)",
  visible: [
    { input: [[1, 2], 3], expected: 9 },
    { input: [[4], 2], expected: 8 },
    { input: [[], 5], expected: 0 },
  ],
  hidden: [
    { input: [[1, 1, 1], 1], expected: 3 },
    { input: [[2, 3], 0], expected: 0 },
    { input: [[-1, 1], 4], expected: 0 },
  ],
  reference: "(xs, k) => xs.reduce((a, b) => a + b, 0) * k",
};

/** A run over [...visible, ...hidden] with the given per-test results (outcome worst over all). */
function makeRun(results: Omit<TestResult, "test">[], t: Task = task): RunResult {
  const tests = testsOf(t).map((test, i) => ({ test, ...results[i] }));
  const order: Outcome[] = ["passed", "wrong_answer", "runtime_error", "output_limit", "timeout", "memory_limit", "syntax_error"];
  const outcome = tests.reduce<Outcome>((w, r) => (order.indexOf(r.outcome) > order.indexOf(w) ? r.outcome : w), "passed");
  return { outcome, tests, output: "", ms: 1 };
}

const pass = { outcome: "passed" as const };
const wrong = (got: string) => ({ outcome: "wrong_answer" as const, got });

test("reward: fraction of all tests passed, or all-or-nothing with binary", () => {
  const run = makeRun([pass, wrong("6"), pass, pass, wrong("0"), pass]);
  assert.equal(reward(run), 4 / 6);
  assert.equal(reward(run, { binary: true }), 0);
  const all = makeRun([pass, pass, pass, pass, pass, pass]);
  assert.equal(reward(all), 1);
  assert.equal(reward(all, { binary: true }), 1);
  assert.equal(reward({ outcome: "syntax_error", tests: [], output: "", ms: 0 }), 0);
});

test("feedback: wrong answer shows pass count over visible tests and the first failing case", () => {
  const run = makeRun([wrong("6"), pass, wrong("5"), pass, pass, pass]);
  assert.equal(buildFeedback(task, run), "passed 1/3 visible; f([1,2],3): expected 9, got 6");
  assert.equal(
    buildFeedback(task, run, { maxCases: 2 }),
    "passed 1/3 visible; f([1,2],3): expected 9, got 6; f([],5): expected 0, got 5",
  );
});

test("feedback: runtime error, timeout, memory and output limits, syntax error", () => {
  const runtime = makeRun([
    pass,
    { outcome: "runtime_error", error: { type: "TypeError", message: "xs.mapp is not a function" } },
    pass, pass, pass, pass,
  ]);
  assert.equal(buildFeedback(task, runtime), "passed 2/3 visible; f([4],2): TypeError: xs.mapp is not a function");
  const timeout = makeRun([{ outcome: "timeout" }, { outcome: "timeout" }, { outcome: "timeout" }, pass, pass, pass]);
  assert.equal(buildFeedback(task, timeout), "passed 0/3 visible; f([1,2],3): timeout");
  const memory = makeRun([pass, pass, { outcome: "memory_limit" }, pass, pass, pass]);
  assert.equal(buildFeedback(task, memory), "passed 2/3 visible; f([],5): memory limit");
  const output = makeRun([{ outcome: "output_limit" }, pass, pass, pass, pass, pass]);
  assert.equal(buildFeedback(task, output), "passed 2/3 visible; f([1,2],3): output limit");
  const syntaxError = { outcome: "syntax_error" as const, error: { type: "SyntaxError", message: "Unexpected token ')'" } };
  const syntax = makeRun(Array(6).fill(syntaxError));
  assert.equal(buildFeedback(task, syntax), "passed 0/3 visible; syntax error: Unexpected token ')'");
});

test("feedback: when every visible test passes, the text is identical whether hidden tests pass or fail", () => {
  const allPass = makeRun(Array(6).fill(pass));
  const hiddenFail = makeRun([pass, pass, pass, pass, wrong("1"), pass]);
  const hiddenCrash = makeRun([pass, pass, pass, { outcome: "runtime_error", error: { type: "RangeError", message: "SECRET" } }, { outcome: "timeout" }, pass]);
  const expected = "passed 3/3 visible";
  for (const run of [allPass, hiddenFail, hiddenCrash]) {
    assert.equal(buildFeedback(task, run), expected);
    assert.equal(buildFeedback(task, run, { maxChars: 60, maxCases: 3 }), expected);
  }
  // The verdicts differ: only the model-facing part is blind to the hidden tests.
  assert.equal(visibleTestsPassed(task, hiddenFail), true);
  assert.equal(reward(hiddenFail), 5 / 6);
  assert.equal(reward(allPass), 1);
});

test("feedback: a task without visible tests gives the same text for any run, and counts as visibly passed", () => {
  const blind: Task = { ...task, visible: [] };
  const passing = makeRun(Array(3).fill(pass), blind);
  const failing = makeRun([wrong("0"), { outcome: "syntax_error", error: { type: "SyntaxError", message: "x" } }, pass], blind);
  assert.equal(buildFeedback(blind, passing), "passed 0/0 visible");
  assert.equal(buildFeedback(blind, failing), "passed 0/0 visible");
  assert.equal(visibleTestsPassed(blind, failing), true);
  assert.equal(reward(failing), 1 / 3);
});

test("feedback: never shows a hidden test, even when only hidden tests carry errors", () => {
  const run = makeRun([pass, wrong("7"), pass, { outcome: "runtime_error", error: { type: "RangeError", message: "SECRET" } }, pass, pass]);
  const text = buildFeedback(task, run, { maxCases: 5 });
  assert.equal(text, "passed 2/3 visible; f([4],2): expected 8, got 7");
  assert.ok(!text.includes("SECRET"));
});

test("feedback: long values are shortened inside the format, within maxChars", () => {
  const longTask: Task = {
    ...task,
    visible: [{ input: [Array.from({ length: 40 }, (_, i) => i), 3], expected: Array.from({ length: 40 }, (_, i) => 3 * i) }],
    hidden: [],
  };
  const got = "[" + Array.from({ length: 40 }, (_, i) => 2 * i).join(",") + "]";
  const text = buildFeedback(longTask, makeRun([wrong(got)], longTask), { maxChars: 120 });
  assert.ok(text.length <= 120, `length ${text.length}`);
  // The fixed words survive; each shortened field ends with "...".
  assert.match(text, /^passed 0\/1 visible; f\(\[0,1,2,.*\.\.\.\): expected \[0,3,6,.*\.\.\., got \[0,2,4,.*\.\.\.$/);
  // Three fields share the room evenly: the budget is 120 - 20 (header+"; ") - 20 (fixed words).
  const fields = /f\((.*)\): expected (.*), got (.*)$/.exec(text)!.slice(1);
  for (const f of fields) assert.equal(f.length, Math.floor((120 - 20 - 20) / 3));
  assert.equal(text.length, 20 + 20 + 3 * 26);

  const longError = makeRun([{ outcome: "runtime_error", error: { type: "Error", message: "x".repeat(500) } }], longTask);
  const errorText = buildFeedback(longTask, longError, { maxChars: 80 });
  assert.ok(errorText.length <= 80);
  assert.match(errorText, /^passed 0\/1 visible; f\(\[0,1,.*\.\.\.\): Error: x+\.\.\.$/);

  const syntax = makeRun([{ outcome: "syntax_error", error: { type: "SyntaxError", message: "y".repeat(300) } }], longTask);
  const syntaxText = buildFeedback(longTask, syntax);
  assert.equal(syntaxText, "passed 0/1 visible; syntax error: " + "y".repeat(DEFAULT_FEEDBACK_MAX_CHARS - 34 - 3) + "...");
});

test("feedback: a second case is left out when it does not fit; multi-line messages become one line", () => {
  const run = makeRun([
    { outcome: "runtime_error", error: { type: "Error", message: "first line\n    at f (program.js:1:2)" } },
    wrong("123456789012345678901234567890"),
    pass, pass, pass, pass,
  ]);
  assert.equal(
    buildFeedback(task, run, { maxCases: 2, maxChars: 72 }),
    "passed 1/3 visible; f([1,2],3): Error: first line at f (program.js:1:2)",
  );
});

test("fitPieces: water-filling of shortenable fields, null when minimum fields do not fit", () => {
  const pieces = [
    { text: "f(", shortenable: false },
    { text: "abcdefghij", shortenable: true },
    { text: "): ", shortenable: false },
    { text: "XYZ", shortenable: true },
  ];
  assert.equal(fitPieces(pieces, 100), "f(abcdefghij): XYZ");
  // Room for fields: 14 - 5 = 9; cap 6 gives 6 + 3 = 9.
  assert.equal(fitPieces(pieces, 14), "f(abc...): XYZ");
  assert.equal(fitPieces(pieces, 10), null);
});

test("feedback: bad options and runs that do not match the task are clear errors", () => {
  const run = makeRun(Array(6).fill(pass));
  assert.throws(() => buildFeedback(task, run, { maxChars: 20 }), /feedback maxChars must be an integer >= 60 \(got 20\)/);
  assert.throws(() => buildFeedback(task, run, { maxCases: 0 }), /feedback maxCases must be an integer >= 1 \(got 0\)/);
  const short = { ...run, tests: run.tests.slice(0, 4) };
  assert.throws(() => buildFeedback(task, short), /run of task test-00001 has 4 test results but the task has 6 tests \(3 visible \+ 3 hidden\)/);
  const swapped = { ...run, tests: [run.tests[1], run.tests[0], ...run.tests.slice(2)] };
  assert.throws(() => checkRunMatchesTask(task, swapped), /result 0 is for test .* but visible test 0 is .*run the tests as \[\.\.\.task\.visible, \.\.\.task\.hidden\]/);
});

test("evaluateProgram: runs visible then hidden tests and returns run, reward, feedback, outcome and both verdicts", async () => {
  const calls: { code: string; tests: TestCase[] }[] = [];
  // A stand-in runner: passes a test when the program text contains its expected value.
  const runner: ProgramRunner = {
    async run(code, tests) {
      calls.push({ code, tests });
      const results: TestResult[] = tests.map((test) =>
        code.includes(`#${test.expected}`) ? { outcome: "passed", test } : { outcome: "wrong_answer", test, got: "0" },
      );
      const outcome = results.every((r) => r.outcome === "passed") ? "passed" : "wrong_answer";
      return { outcome, tests: results, output: "", ms: 0 };
    },
  };
  const result = await evaluateProgram(runner, task, "#9 #8 #0", {});
  assert.deepEqual(calls[0].tests, [...task.visible, ...task.hidden]);
  assert.equal(result.outcome, "wrong_answer");
  assert.equal(result.reward, 5 / 6); // only the hidden test expecting 3 fails
  assert.equal(result.feedback, "passed 3/3 visible");
  assert.equal(result.visiblePassed, true);
  assert.equal(result.solved, false);
  const all = await evaluateProgram(runner, task, "#9 #8 #0 #3", {});
  assert.deepEqual([all.reward, all.feedback, all.visiblePassed, all.solved], [1, "passed 3/3 visible", true, true]);
  const binary = await evaluateProgram(runner, task, "#9 #8 #0", { binary: true });
  assert.equal(binary.reward, 0);
  const first = await evaluateProgram(runner, task, "#8 #0 #3", { maxChars: 60 });
  assert.equal(first.reward, 5 / 6);
  assert.equal(first.feedback, "passed 2/3 visible; f([1,2],3): expected 9, got 0");
  assert.equal(first.visiblePassed, false);
  assert.equal(first.solved, false);
});
