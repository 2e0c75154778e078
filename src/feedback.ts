/**
 * Reward and execution feedback: what a sandbox run of one candidate program means for the
 * method. Two audiences, two sets of tests:
 *
 * - the TRAINER and the final verdict see every test: the reward r(n) counts visible and hidden
 *   tests, and a program is solved only if it passes all of them;
 * - the MODEL sees the visible tests only, as it would in deployment, where hidden tests are
 *   unknown: the feedback text the next turn's prompt carries, and `visiblePassed`, which decides
 *   whether an attempt goes on to another turn (a rollout node is expanded, an Iter-k chain
 *   continues) or stops because, as far as the model can tell, it is done.
 *
 * So nothing the model sees depends on a hidden test: when every visible test passes, the feedback
 * is the same text whether the hidden tests pass or fail. The feedback is quantitative (how many
 * visible tests passed) and qualitative (the first failing case with what was expected and what
 * came back, or the error):
 *
 *   passed 1/3 visible; f([1,2],3): expected 9, got 6
 *   passed 0/3 visible; f([1,2],3): TypeError: xs.mapp is not a function
 *   passed 0/3 visible; syntax error: Unexpected token ')'
 *   passed 2/3 visible; f([5]): timeout
 *   passed 3/3 visible
 *
 * A task without visible tests (the kit's suite has at least 2; a hand-built task may have none)
 * gives the model nothing to check or repair against: every attempt counts as `visiblePassed`
 * (all of its zero visible tests passed), so it is never expanded and a chain stops after one
 * turn, and its feedback is "passed 0/0 visible". Its reward and verdict still come from the
 * hidden tests.
 *
 * By convention the sandbox runs `[...task.visible, ...task.hidden]` in that order, so the first
 * `task.visible.length` results are the visible ones; `evaluateProgram` is the one place that
 * builds that list, and every caller (CLI, rollouts, evaluation) goes through it.
 */
import { renderArguments, renderValue } from "./model/prompt";
import type { Outcome, RunResult, TestResult } from "./sandbox/types";
import type { Task, TestCase } from "./tasks/types";

/**
 * Default bound on the feedback length in characters. The tokenizer encodes a character as at
 * most one token (frequent pieces take fewer), so this also bounds the feedback's tokens.
 */
export const DEFAULT_FEEDBACK_MAX_CHARS = 100;
/** The smallest bound accepted: room for the pass count and one shortened failing case. */
export const MIN_FEEDBACK_MAX_CHARS = 60;
/** A shortened field keeps at least this many characters, its "..." marker included. */
const MIN_FIELD_CHARS = 6;
const ELLIPSIS = "...";

export interface FeedbackOptions {
  /** Longest feedback in characters (default DEFAULT_FEEDBACK_MAX_CHARS = 100, at least 60). */
  maxChars?: number;
  /** How many failing visible cases to describe at most (default 1). */
  maxCases?: number;
}

/**
 * r(n): the fraction of all tests passed; with `binary`, 1 only if every test passed, else 0.
 * Takes any run's test results (the Python benchmarks score their hidden tests with it too).
 */
export function reward(run: RunResult<unknown>, opts: { binary?: boolean } = {}): number {
  const total = run.tests.length;
  if (total === 0) return 0;
  const passed = run.tests.filter((t) => t.outcome === "passed").length;
  if (opts.binary) return passed === total ? 1 : 0;
  return passed / total;
}

/**
 * True when the program passed every visible test of `task` (vacuously true without visible
 * tests): what the model can know about its own attempt, and so what decides whether it goes on
 * to another turn. `run` holds the results of `testsOf(task)`, visible first.
 */
export function visibleTestsPassed(task: Task, run: RunResult): boolean {
  return run.tests.slice(0, task.visible.length).every((t) => t.outcome === "passed");
}

/** The tests a task's programs are run on, in the order the feedback relies on. */
export function testsOf(task: Task): TestCase[] {
  return [...task.visible, ...task.hidden];
}

/** Throws unless `run` has one result per test of `task`, visible ones first, in order. */
export function checkRunMatchesTask(task: Task, run: RunResult): void {
  const expected = task.visible.length + task.hidden.length;
  if (run.tests.length !== expected) {
    throw new Error(
      `run of task ${task.id} has ${run.tests.length} test results but the task has ${expected} tests ` +
        `(${task.visible.length} visible + ${task.hidden.length} hidden): the sandbox must return one result per test`,
    );
  }
  task.visible.forEach((test, i) => {
    const got = run.tests[i].test;
    if (JSON.stringify(got) !== JSON.stringify(test)) {
      throw new Error(
        `run of task ${task.id}: result ${i} is for test ${JSON.stringify(got)} but visible test ${i} is ` +
          `${JSON.stringify(test)}: run the tests as [...task.visible, ...task.hidden], in that order`,
      );
    }
  });
}

/** One part of a feedback line: fixed text, or a field that may be shortened to fit. */
export interface Piece {
  text: string;
  shortenable: boolean;
}

const fixed = (text: string): Piece => ({ text, shortenable: false });
const field = (text: string): Piece => ({ text: oneLine(text), shortenable: true });

/** Collapse newlines and runs of spaces (multi-line error messages) into single spaces. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** `text` cut to `limit` characters, the cut marked by "...". */
function shorten(text: string, limit: number): string {
  return text.length <= limit ? text : text.slice(0, Math.max(0, limit - ELLIPSIS.length)) + ELLIPSIS;
}

/**
 * Join `pieces` into at most `budget` characters by shortening only the shortenable fields, the
 * longest first (one common cap, "water filling"), so the fixed words that make the format
 * readable always survive. Returns null when even fields of MIN_FIELD_CHARS do not fit.
 */
export function fitPieces(pieces: readonly Piece[], budget: number): string | null {
  const full = pieces.map((p) => p.text).join("");
  if (full.length <= budget) return full;
  const fixedLength = pieces.filter((p) => !p.shortenable).reduce((n, p) => n + p.text.length, 0);
  const lengths = pieces.filter((p) => p.shortenable).map((p) => p.text.length);
  const room = budget - fixedLength;
  const used = (cap: number) => lengths.reduce((n, len) => n + Math.min(len, cap), 0);
  // The largest cap whose fields fit in the room.
  let cap = Math.max(0, ...lengths);
  while (cap >= MIN_FIELD_CHARS && used(cap) > room) cap--;
  if (cap < MIN_FIELD_CHARS) return null;
  return pieces.map((p) => (p.shortenable ? shorten(p.text, cap) : p.text)).join("");
}

/** The pieces that describe one failing visible test. */
function describeFailure(result: TestResult): Piece[] {
  const call = [fixed("f("), field(renderArguments(result.test.input)), fixed("): ")];
  switch (result.outcome) {
    case "wrong_answer":
      return [...call, fixed("expected "), field(renderValue(result.test.expected)), fixed(", got "), field(result.got ?? "?")];
    case "runtime_error":
      return result.error
        ? [...call, field(result.error.type), fixed(": "), field(result.error.message)]
        : [...call, fixed("runtime error")];
    case "syntax_error":
      return [...call, fixed("syntax error")];
    case "timeout":
      return [...call, fixed("timeout")];
    case "memory_limit":
      return [...call, fixed("memory limit")];
    case "output_limit":
      return [...call, fixed("output limit")];
    case "passed":
      throw new Error("describeFailure called on a passed test");
  }
}

/**
 * The feedback text for a run of a program on `task`, from the visible tests only: the same text
 * for any two runs whose visible results are the same, whatever the hidden tests did.
 * @param run the sandbox result for `[...task.visible, ...task.hidden]`, in that order.
 * @returns one line of at most `maxChars` characters.
 */
export function buildFeedback(task: Task, run: RunResult, opts: FeedbackOptions = {}): string {
  const maxChars = opts.maxChars ?? DEFAULT_FEEDBACK_MAX_CHARS;
  const maxCases = opts.maxCases ?? 1;
  if (!Number.isInteger(maxChars) || maxChars < MIN_FEEDBACK_MAX_CHARS) {
    throw new Error(`feedback maxChars must be an integer >= ${MIN_FEEDBACK_MAX_CHARS} (got ${maxChars})`);
  }
  if (!Number.isInteger(maxCases) || maxCases < 1) {
    throw new Error(`feedback maxCases must be an integer >= 1 (got ${maxCases})`);
  }
  checkRunMatchesTask(task, run);

  const visible = run.tests.slice(0, task.visible.length);
  const passed = visible.filter((t) => t.outcome === "passed").length;
  const header = `passed ${passed}/${visible.length} visible`;

  // A syntax error is about the whole program, not one case: report it once, with its message.
  const syntax = visible.find((t) => t.outcome === "syntax_error");
  if (syntax) {
    const message = syntax.error?.message;
    const pieces = message ? [fixed(`${header}; syntax error: `), field(message)] : [fixed(`${header}; syntax error`)];
    return fitPieces(pieces, maxChars) ?? shorten(`${header}; syntax error`, maxChars);
  }

  // All visible tests passed: say only that. Whether hidden tests passed must not show here.
  if (passed === visible.length) return shorten(header, maxChars);

  let text = header;
  let described = 0;
  for (const result of visible) {
    if (result.outcome === "passed" || described === maxCases) continue;
    const separator = "; ";
    const fitted = fitPieces(describeFailure(result), maxChars - text.length - separator.length);
    if (fitted === null) {
      // Not even a shortened case fits: cut the first one hard rather than say nothing about it.
      if (described === 0) {
        const whole = describeFailure(result).map((p) => p.text).join("");
        text = shorten(`${text}${separator}${whole}`, maxChars);
      }
      break;
    }
    text += separator + fitted;
    described++;
  }
  return text;
}

/** Anything that runs a program on tests: the sandbox pool, or a stand-in in tests. */
export interface ProgramRunner {
  run(code: string, tests: TestCase[]): Promise<RunResult>;
}

export interface EvaluateOptions extends FeedbackOptions {
  /** Binary reward: 1 only if every test passes (default: fraction of tests passed). */
  binary?: boolean;
}

export interface Evaluation {
  run: RunResult;
  /** r(n) over all tests, see `reward`. */
  reward: number;
  /** The text the next turn's prompt carries, from the visible tests only, see `buildFeedback`. */
  feedback: string;
  /** The worst outcome over all tests. */
  outcome: Outcome;
  /**
   * Every visible test passed (`visibleTestsPassed`): the model believes it is done, so the
   * attempt is not expanded and a chain stops here. Decides the next turn, never the verdict.
   */
  visiblePassed: boolean;
  /** Every test, visible and hidden, passed: the final verdict ("solved"). */
  solved: boolean;
}

/**
 * Run `code` on all tests of `task` (visible first, then hidden) and turn the result into the
 * reward and verdict (all tests) and the feedback and `visiblePassed` (visible tests only). The
 * single entry point for the CLI, rollouts, evaluation and the pretraining data.
 */
export async function evaluateProgram(
  pool: ProgramRunner,
  task: Task,
  code: string,
  opts: EvaluateOptions = {},
): Promise<Evaluation> {
  const run = await pool.run(code, testsOf(task));
  const feedback = buildFeedback(task, run, opts); // validates the run against the task first
  return {
    run,
    reward: reward(run, { binary: opts.binary }),
    feedback,
    outcome: run.outcome,
    visiblePassed: visibleTestsPassed(task, run),
    solved: run.outcome === "passed",
  };
}
