/**
 * What running a candidate program against tests produces. Outcome classes are ordered from best
 * to worst; a run's overall outcome is the worst over its tests.
 */
import type { TestCase } from "../tasks/types";

export const OUTCOMES = [
  "passed",
  "wrong_answer",
  "runtime_error",
  "output_limit",
  "timeout",
  "memory_limit",
  "syntax_error",
] as const;

export type Outcome = (typeof OUTCOMES)[number];

/** The worse of two outcomes, by their order in OUTCOMES. */
export function worstOutcome(a: Outcome, b: Outcome): Outcome {
  return OUTCOMES.indexOf(a) >= OUTCOMES.indexOf(b) ? a : b;
}

/**
 * The result of one test. `T` is the test's type: the kit's JavaScript tests by default; the
 * Python sandbox (src/pysandbox/) reports its tests with the same outcome classes.
 */
export interface TestResult<T = TestCase> {
  outcome: Outcome;
  /** The test as given. */
  test: T;
  /** The returned value rendered as canonical JSON-like text, capped in length (wrong answers). */
  got?: string;
  /** For runtime errors and syntax errors: the thrown value's type and message, capped. */
  error?: { type: string; message: string };
}

export interface RunResult<T = TestCase> {
  /** The worst outcome over all tests. */
  outcome: Outcome;
  /** One result per test, in the order given. */
  tests: TestResult<T>[];
  /** Text the program printed with console.log, capped. */
  output: string;
  /** Wall time of the whole run in milliseconds. */
  ms: number;
}

export interface SandboxOptions {
  /** Worker processes kept alive and reused, each hosting one isolate (default: 2). */
  poolSize?: number;
  /** Memory limit per isolate in MB (default: 64; isolated-vm's minimum is 8). */
  memoryMb?: number;
  /** Wall-clock limit for all tests of one program, in ms (default: 1000). */
  timeoutMs?: number;
  /** Longest rendering of a returned value kept; longer is `output_limit` (default: 10000). */
  maxValueChars?: number;
  /** Longest printed output kept; more is `output_limit` (default: 10000). */
  maxOutputChars?: number;
}
