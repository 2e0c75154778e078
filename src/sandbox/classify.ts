/**
 * Turns the harness's per-test records into the kit's outcomes. Pure: no isolate involved.
 *
 * - "R" (returned): passed iff the rendering equals the expected rendering, else wrong_answer
 *   with `got`.
 * - "L" (return value too large to render within maxValueChars): output_limit, `got` = the cut
 *   rendering (ends with "…").
 * - "E" (threw, or the program was not a function): runtime_error with the error's type/message.
 * - "S" (did not compile): syntax_error with the compiler's type/message (the program's own
 *   compile error with its position, `run.syntaxError`, when the worker found one).
 * - A test during which the program printed past maxOutputChars is at least output_limit.
 * - Tests without a record were not run because the call stopped at the first of them: that test
 *   and every later one get the stop's outcome (timeout or memory_limit; a crash of the sandbox
 *   itself is a runtime_error of type "SandboxError").
 */
import type { TestCase } from "../tasks/types";
import { worstOutcome, type Outcome, type TestResult } from "./types";
import type { ProgramRun } from "./records";

export function classifyRun(run: ProgramRun, tests: readonly TestCase[], expected: readonly string[]): TestResult[] {
  if (run.records.length > tests.length || (run.stopped === undefined && run.records.length !== tests.length)) {
    throw new Error(`sandbox: harness returned ${run.records.length} records for ${tests.length} tests`);
  }
  return tests.map((test, i): TestResult => {
    const record = run.records[i];
    if (record === undefined) {
      if (run.stopped === "crashed") {
        return { outcome: "runtime_error", test, error: { type: "SandboxError", message: run.detail ?? "" } };
      }
      return { outcome: run.stopped as Outcome, test };
    }
    let result: TestResult;
    // decodeRecords only yields these four kinds.
    switch (record.kind) {
      case "R":
        result = record.text1 === expected[i]
          ? { outcome: "passed", test }
          : { outcome: "wrong_answer", test, got: record.text1 };
        break;
      case "L":
        result = { outcome: "output_limit", test, got: record.text1 };
        break;
      case "E":
        result = { outcome: "runtime_error", test, error: { type: record.text1, message: record.text2 } };
        break;
      case "S":
        result = { outcome: "syntax_error", test, error: { type: record.text1, message: run.syntaxError ?? record.text2 } };
        break;
    }
    if (record.printedTooMuch) result.outcome = worstOutcome(result.outcome, "output_limit");
    return result;
  });
}

/** The worst outcome over the tests ("passed" for a program with no tests). */
export function overallOutcome(results: readonly TestResult[]): Outcome {
  return results.reduce<Outcome>((worst, r) => worstOutcome(worst, r.outcome), "passed");
}
