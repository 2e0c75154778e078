/**
 * Checks the host-side inputs of a run before anything reaches an isolate: tests must hold task
 * Values (numbers, strings, booleans and dense arrays of them, as in src/tasks/types.ts), and
 * their expected values are rendered here, on the host, with the shared renderer.
 */
import type { TestCase, Value } from "../tasks/types";
import { isTruncated, renderValue } from "./render";

/** A program may have at most this many tests (it sizes each worker's result buffer). */
export const MAX_TESTS_PER_PROGRAM = 256;

/** Longer program text is a syntax_error without being compiled. */
export const MAX_PROGRAM_CHARS = 100_000;

/**
 * Throws unless `value` is a task Value (see src/tasks/types.ts); `where` names it in the error.
 * @returns true when every number in it is finite
 */
function checkValue(value: unknown, where: string): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value === "string" || typeof value === "boolean") return true;
  if (Array.isArray(value)) {
    let finite = true;
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new TypeError(`${where}[${i}] is a hole; test arrays must be dense`);
      if (!checkValue(value[i], `${where}[${i}]`)) finite = false;
    }
    return finite;
  }
  const got = value === null ? "null" : typeof value;
  throw new TypeError(`${where} must be a number, string, boolean or array of them (got ${got})`);
}

/**
 * The canonical rendering of a checked Value. For dense arrays, strings, booleans and finite
 * numbers it is exactly JSON.stringify (same number and string formatting, and -0 gives "0"
 * in both), which is native and several times faster; NaN and Infinity need the renderer.
 */
function renderChecked(value: unknown, allFinite: boolean, maxValueChars: number): string {
  if (allFinite) {
    const json = JSON.stringify(value);
    if (json.length <= maxValueChars) return json;
  }
  return renderValue(value, maxValueChars);
}

/**
 * Validates `tests` and renders each expected value.
 * @returns inputs[i] = tests[i].input (not copied: isolated-vm copies them into the isolate) and
 *   expected[i] = renderValue(tests[i].expected)
 */
export function prepareTests(
  tests: readonly TestCase[],
  maxValueChars: number,
): { inputs: Value[][]; expected: string[] } {
  if (!Array.isArray(tests)) throw new TypeError(`tests must be an array of {input, expected}`);
  if (tests.length > MAX_TESTS_PER_PROGRAM) {
    throw new RangeError(`tests has ${tests.length} entries; at most ${MAX_TESTS_PER_PROGRAM} per program`);
  }
  const inputs: Value[][] = [];
  const expected: string[] = [];
  tests.forEach((test, i) => {
    if (typeof test !== "object" || test === null) throw new TypeError(`tests[${i}] must be an object {input, expected}`);
    if (!Array.isArray(test.input)) throw new TypeError(`tests[${i}].input must be an array of arguments`);
    checkValue(test.input, `tests[${i}].input`);
    if (!("expected" in test)) throw new TypeError(`tests[${i}].expected is missing`);
    const finite = checkValue(test.expected, `tests[${i}].expected`);
    const rendering = renderChecked(test.expected, finite, maxValueChars);
    if (isTruncated(rendering)) {
      throw new RangeError(
        `tests[${i}].expected renders to more than maxValueChars (${maxValueChars}) characters; ` +
          `raise SandboxOptions.maxValueChars`,
      );
    }
    inputs.push(test.input);
    expected.push(rendering);
  });
  return { inputs, expected };
}
