/**
 * Reward, verdict and feedback of one program on a benchmark problem: the benchmark counterpart
 * of evaluateProgram (src/feedback.ts), and the one entry point for the CLI, Iter-k and notebooks.
 *
 * The program runs on `[...visible, ...hidden]`, visible first (identical tests run once and their
 * result is shared). The reward r(n) and the verdict count the HIDDEN tests, the benchmark's own
 * (r = fraction passed, or 0/1 with `binary`); the feedback is built from the VISIBLE tests only
 * and never mentions a hidden test (bench-feedback.ts).
 */
import { reward } from "../feedback";
import type { Outcome } from "../sandbox/types";
import { worstOutcome } from "../sandbox/types";
import type { PyProgram, PyRunner, PyRunResult, PyTest } from "../pysandbox/types";
import { benchFeedback, type BenchFeedbackOptions } from "./bench-feedback";
import type { BenchProblem } from "./types";

export interface BenchEvaluateOptions extends BenchFeedbackOptions {
  /** Binary reward: 1 only if every hidden test passes. */
  binary?: boolean;
}

export interface BenchEvaluation {
  /** Results of `[...visible, ...hidden]`; `run.outcome` is the verdict (worst over hidden). */
  run: PyRunResult;
  /** r(n) over the hidden tests. */
  reward: number;
  /** The text the next turn's prompt carries, from the visible tests only. */
  feedback: string;
  /** The verdict: the worst outcome over the hidden tests ("passed" = solved). */
  outcome: Outcome;
  /** Every visible test passed (what a model can know without the hidden tests). */
  visiblePassed: boolean;
  /** The verdict as a flag: every hidden test passed. */
  solved: boolean;
}

/** The program to run for `code` on `problem`, with each distinct test once, and where each test's result is. */
export function benchProgram(problem: BenchProblem, code: string): { program: PyProgram; slots: number[] } {
  const tests: PyTest[] = [];
  const index = new Map<string, number>();
  const slots = [...problem.visible, ...problem.hidden].map((test) => {
    const key = JSON.stringify(test);
    if (!index.has(key)) {
      index.set(key, tests.length);
      tests.push(test);
    }
    return index.get(key) as number;
  });
  return { program: { code, tests, setup: problem.setup, names: problem.names, context: problem.context }, slots };
}

export async function evaluateBenchProgram(runner: PyRunner, problem: BenchProblem, code: string, options: BenchEvaluateOptions = {}): Promise<BenchEvaluation> {
  const { program, slots } = benchProgram(problem, code);
  const raw = await runner.run(program);
  if (raw.tests.length !== program.tests.length) {
    throw new Error(`problem ${problem.id}: the sandbox returned ${raw.tests.length} results for ${program.tests.length} tests`);
  }
  const tests = slots.map((slot) => ({ ...raw.tests[slot] }));
  const hidden = tests.slice(problem.visible.length);
  const verdict = hidden.reduce<Outcome>((worst, t) => worstOutcome(worst, t.outcome), "passed");
  const run: PyRunResult = { ...raw, outcome: verdict, tests };
  return {
    run,
    reward: reward({ ...run, tests: hidden }, { binary: options.binary }),
    feedback: benchFeedback(problem, run, options),
    outcome: verdict,
    visiblePassed: tests.slice(0, problem.visible.length).every((t) => t.outcome === "passed"),
    solved: verdict === "passed",
  };
}
