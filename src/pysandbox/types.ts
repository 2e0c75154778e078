/**
 * What the Python sandbox runs and what it returns. Outcome classes and the result shape are the
 * JavaScript sandbox's (src/sandbox/types.ts), so rewards, feedback and Iter-k treat both alike.
 */
import type { Outcome, RunResult, TestResult } from "../sandbox/types";

export type { Outcome };

/**
 * One test of a Python program. Test code is TRUSTED text from a benchmark; it runs in the
 * checker process, never in the program's (see checker.py).
 * - `assert`: Python statements, usually one `assert L == R` (then "got" and "expected" are
 *   reported), e.g. an MBPP test line or HumanEval's `check(f)`.
 * - `functional`: LiveCodeBench's call-based test: `fn` called with one JSON argument per line
 *   of `input` (through a fresh `Solution()` when the program defines that class), the result
 *   compared with the JSON `output` (a returned tuple counts as a list).
 * - `stdio`: the program runs as a script on `input` as stdin; its stdout must match `output`
 *   line by line (compare.ts).
 * - `pytest`: one test function (or `Class.method`) of the pytest module given as the setup.
 */
export type PyTest =
  | { kind: "assert"; code: string }
  | { kind: "functional"; fn: string; input: string; output: string }
  | { kind: "stdio"; input: string; output: string }
  | { kind: "pytest"; name: string };

/** A program and the tests to run it on. */
export interface PyProgram {
  /** The program's source text (untrusted). */
  code: string;
  /** Its tests: all `stdio`, or none `stdio`. */
  tests: readonly PyTest[];
  /** Trusted code the checker runs before the tests (HumanEval's prompt and check, MBPP's setup). */
  setup?: string;
  /** Names in the test code that mean the program's objects (the function under test, a class). */
  names?: readonly string[];
  /** Trusted code run in the program's own namespace before it (e.g. LiveCodeBench's imports). */
  context?: string;
}

/** The result of one Python test: the shared fields, plus what the checker saw. */
export interface PyTestResult extends TestResult<PyTest> {
  /** The expression that was checked, as the test wrote it (e.g. `f([1, 2], 3)`). */
  call?: string;
  /** The expected value's rendering (`repr`), or the expected output of a stdio test. */
  expected?: string;
}

export interface PyRunResult extends RunResult<PyTest> {
  tests: PyTestResult[];
  /**
   * Set when the program failed as a whole before any test ran: it did not compile, raised while
   * loading, or ran out of time or memory while loading. Every test then has this outcome.
   * Feedback may report it even when a problem has no visible tests: it is not about any test.
   */
  loadError?: { outcome: Outcome; error?: { type: string; message: string } };
}

/** Anything that runs Python programs on tests: the sandbox, or a stand-in in tests. */
export interface PyRunner {
  run(program: PyProgram): Promise<PyRunResult>;
}

export interface PySandboxOptions {
  /** Programs (or stdio tests) run at once (default: the number of CPUs). */
  concurrency?: number;
  /** Wall-clock limit in ms: for all tests of a program, or for one stdio test (default 10000). */
  timeoutMs?: number;
  /** CPU-time limit per process in seconds (RLIMIT_CPU; default: the wall-clock limit + 1 s). */
  cpuSeconds?: number;
  /** Address-space limit per process in MB (RLIMIT_AS; default 512). */
  memoryMb?: number;
  /** Processes and threads per sandbox, its own three included (RLIMIT_NPROC; default 10). */
  maxProcesses?: number;
  /** Largest file a program may write, in MB (RLIMIT_FSIZE; default 8). */
  maxFileMb?: number;
  /** Size of the private writable /tmp in MB (default 64). */
  tmpMb?: number;
  /** Printed output kept per program (stdout and stderr); more is output_limit (default 100000). */
  maxOutputChars?: number;
  /** The unprivileged uid and gid programs run as when the kit runs as root (default 65534). */
  uid?: number;
  /** The interpreter, inside the sandbox (default /usr/bin/python3). */
  python?: string;
}
