/**
 * Feedback for a Python program on a benchmark problem, in the kit's format (src/feedback.ts):
 * quantitative (visible tests passed) and qualitative (the first failing visible test with what
 * was expected and what came back, or the error), one line, bounded the same way:
 *
 *   passed 1/2 visible; has_close_elements([1.0, 2.0], 0.5): expected False, got True
 *   passed 0/3 visible; remove_Occ("hello","l"): NameError: name 'x' is not defined
 *   passed 0/1 visible; syntax error: invalid syntax (line 3)
 *   passed 1/2 visible; input "3\n1 2 3": expected "6", got "5"
 *   passed 2/2 visible
 *   no visible tests; the program did not load: ZeroDivisionError: division by zero
 *   no visible tests
 *
 * Built from the VISIBLE tests only. It never mentions a hidden test or its verdict: a program
 * that passes every visible test is told exactly that, whether or not it passes the hidden ones.
 * For a problem without visible tests, only failures of the program as a whole (it did not
 * compile, raised or ran out of time or memory while loading, before any test) are reported:
 * they do not depend on any test.
 */
import { fitPieces, MIN_FEEDBACK_MAX_CHARS, type Piece } from "../feedback";
import type { PyRunResult, PyTestResult } from "../pysandbox/types";
import type { BenchProblem } from "./types";

export interface BenchFeedbackOptions {
  /** Longest feedback in characters (default 300, at least 60). */
  maxChars?: number;
  /** How many failing visible tests to describe at most (default 1). */
  maxCases?: number;
}

/** Benchmark programs are longer than the kit's, and real models read more: a larger bound. */
export const BENCH_FEEDBACK_DEFAULTS = { maxChars: 300, maxCases: 1 };

const fixed = (text: string): Piece => ({ text, shortenable: false });
const field = (text: string): Piece => ({ text: text.replace(/\s+/g, " ").trim(), shortenable: true });

function shorten(text: string, limit: number): string {
  return text.length <= limit ? text : text.slice(0, Math.max(0, limit - 3)) + "...";
}

/** What a test is called in feedback: the checked expression, or a stdio test's input. */
function subject(result: PyTestResult): Piece[] {
  if (result.test.kind === "stdio") return [fixed("input "), field(JSON.stringify(result.test.input))];
  return [field(result.call ?? (result.test.kind === "pytest" ? result.test.name : "test"))];
}

function describeFailure(result: PyTestResult): Piece[] {
  const head = [...subject(result), fixed(": ")];
  switch (result.outcome) {
    case "wrong_answer":
      if (result.got !== undefined && result.expected !== undefined) {
        const quote = result.test.kind === "stdio" ? JSON.stringify : (s: string) => s;
        return [...head, fixed("expected "), field(quote(result.expected)), fixed(", got "), field(quote(result.got))];
      }
      return result.error?.message ? [...head, fixed("assertion failed: "), field(result.error.message)] : [...head, fixed("assertion failed")];
    case "runtime_error":
      return result.error ? [...head, field(result.error.type), fixed(": "), field(result.error.message)] : [...head, fixed("runtime error")];
    case "syntax_error":
      return [...head, fixed("syntax error")];
    case "timeout":
      return [...head, fixed("timeout")];
    case "memory_limit":
      return [...head, fixed("memory limit")];
    case "output_limit":
      return [...head, fixed("output limit")];
    case "passed":
      throw new Error("describeFailure called on a passed test");
  }
}

/** The pieces that say why a program failed as a whole (before any test). */
function loadFailure(run: PyRunResult): Piece[] | null {
  const error = run.loadError;
  if (!error) return null;
  switch (error.outcome) {
    case "syntax_error":
      return error.error ? [fixed("syntax error: "), field(error.error.message)] : [fixed("syntax error")];
    case "timeout":
      return [fixed("timeout while loading the program")];
    case "memory_limit":
      return [fixed("memory limit while loading the program")];
    case "output_limit":
      return [fixed("output limit while loading the program")];
    default:
      return error.error
        ? [fixed("the program did not load: "), field(error.error.type), fixed(": "), field(error.error.message)]
        : [fixed("the program did not load")];
  }
}

/**
 * The feedback text for `run` (results of `[...visible, ...hidden]`) of a program on `problem`.
 * @returns one line of at most `maxChars` characters.
 */
export function benchFeedback(problem: BenchProblem, run: PyRunResult, options: BenchFeedbackOptions = {}): string {
  const maxChars = options.maxChars ?? BENCH_FEEDBACK_DEFAULTS.maxChars;
  const maxCases = options.maxCases ?? BENCH_FEEDBACK_DEFAULTS.maxCases;
  if (!Number.isInteger(maxChars) || maxChars < MIN_FEEDBACK_MAX_CHARS) throw new Error(`feedback maxChars must be an integer >= ${MIN_FEEDBACK_MAX_CHARS} (got ${maxChars})`);
  if (!Number.isInteger(maxCases) || maxCases < 1) throw new Error(`feedback maxCases must be an integer >= 1 (got ${maxCases})`);
  const expected = problem.visible.length + problem.hidden.length;
  if (run.tests.length !== expected) throw new Error(`run of problem ${problem.id} has ${run.tests.length} test results but the problem has ${expected} tests`);

  const visible = run.tests.slice(0, problem.visible.length);
  const header = visible.length === 0 ? "no visible tests" : `passed ${visible.filter((t) => t.outcome === "passed").length}/${visible.length} visible`;
  const fit = (pieces: Piece[]): string => fitPieces([fixed(`${header}; `), ...pieces], maxChars) ?? shorten(pieces.map((p) => p.text).join(""), maxChars);

  // A program that failed as a whole: the same for every test, so it may be said even without
  // visible tests (syntax errors are reported once, with their message).
  const whole = loadFailure(run);
  if (whole && (visible.length === 0 || run.loadError?.outcome === "syntax_error")) return fit(whole);
  if (visible.length === 0) return header;

  let text = header;
  let described = 0;
  for (const result of visible) {
    if (result.outcome === "passed" || described === maxCases) continue;
    const separator = "; ";
    const fitted = fitPieces(describeFailure(result), maxChars - text.length - separator.length);
    if (fitted === null) {
      if (described === 0) text = shorten(`${text}${separator}${describeFailure(result).map((p) => p.text).join("")}`, maxChars);
      break;
    }
    text += separator + fitted;
    described++;
  }
  return text;
}
