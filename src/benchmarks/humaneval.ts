/**
 * HumanEval (Chen et al. 2021; data/benchmarks/humaneval/, MIT): 164 problems, each a function
 * signature with a docstring (`prompt`), the function's name (`entry_point`), a canonical body
 * (`canonical_solution`) and a test module defining `check(candidate)` (`test`).
 *
 * As a kit problem:
 * - prompt: the upstream prompt, verbatim;
 * - hidden: one test, `check(<entry_point>)`, the benchmark's own verdict (so the reward of a
 *   HumanEval program is 0 or 1);
 * - visible: the examples stated in the prompt (docstring-examples.ts). `visible: "examples"`
 *   (default) takes doctest and prose examples: 146 of the 164 problems get at least one;
 *   `"doctest"` takes only `>>>` examples (75 problems: the 76 prompts that have them, less
 *   HumanEval/116, whose are all wrong); `"none"` takes none. A problem without
 *   visible tests gets feedback about the program as a whole only (it did not compile, raised
 *   while loading, ran out of time or memory while loading), never about a test;
 * - reference: prompt + canonical_solution;
 * - the checker runs the prompt then the test module (so `check` uses the benchmark's own helper
 *   functions, e.g. poly or encode_cyclic), with the entry point bound to the program's function;
 * - the program runs after the prompt's code above the entry point (its imports and helpers),
 *   as in the upstream harness, where a completion follows the prompt.
 */
import * as path from "node:path";
import { DATA_DIR } from "../paths";
import { docstringExamples, exampleTest, type DocExample } from "./docstring-examples";
import { readRecords, stringField } from "./records";
import type { BenchProblem } from "./types";

export const HUMANEVAL_FILE = path.join(DATA_DIR, "benchmarks", "humaneval", "HumanEval.jsonl.gz");

export type HumanEvalVisible = "examples" | "doctest" | "none";

export interface HumanEvalOptions {
  /** Which stated examples become visible tests (default "examples"). */
  visible?: HumanEvalVisible;
  file?: string;
}

/**
 * Examples in the upstream prompts that disagree with the canonical solution (and the hidden
 * tests): left out of the visible tests. Key: task id, value: the example expressions.
 */
export const WRONG_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  // The docstring's median of [-10, 4, 6, 1000, 10, 20] is 15.0; the median (and check) say 8.0.
  "HumanEval/47": ["median([-10, 4, 6, 1000, 10, 20])"],
  // Sorting by the number of ones in binary puts 4 (100) before 3 (11), and the check agrees.
  "HumanEval/116": ["sort_array([1, 5, 2, 3, 4])", "sort_array([-2, -3, -4, -5, -6])"],
  // "tri(1) = 3", "tri(4) = 3" state terms of the sequence; the function returns a list.
  "HumanEval/130": ["tri(1)", "tri(4)"],
  // ("Venus") is a string in Python; the function returns the tuple ("Venus",).
  "HumanEval/148": ['bf("Earth", "Mercury")'],
};

/** The visible examples of one problem under `visible`. */
export function humanEvalExamples(prompt: string, entryPoint: string, id: string, visible: HumanEvalVisible): DocExample[] {
  if (visible === "none") return [];
  const wrong = new Set(WRONG_EXAMPLES[id] ?? []);
  return docstringExamples(prompt, entryPoint).filter((e) => (visible === "examples" || e.form === "doctest") && !wrong.has(e.expression));
}

/** The prompt's code above the entry point's definition: imports and helper functions. */
export function promptContext(prompt: string, entryPoint: string): string {
  const definition = prompt.search(new RegExp(`^def ${entryPoint}\\(`, "m"));
  return definition < 0 ? "" : prompt.slice(0, definition);
}

export function loadHumanEval(options: HumanEvalOptions = {}): BenchProblem[] {
  const file = options.file ?? HUMANEVAL_FILE;
  const visible = options.visible ?? "examples";
  if (!["examples", "doctest", "none"].includes(visible)) throw new Error(`HumanEval: visible must be "examples", "doctest" or "none" (got "${visible}")`);
  return readRecords(file).map((record, i) => {
    const where = `${file}: record ${i + 1}`;
    const id = stringField(record, "task_id", where, { nonEmpty: true });
    const at = `${where} (${id})`;
    const prompt = stringField(record, "prompt", at, { nonEmpty: true });
    const entryPoint = stringField(record, "entry_point", at, { nonEmpty: true });
    if (!/^[A-Za-z_]\w*$/.test(entryPoint)) throw new Error(`${at}: field "entry_point" must be a Python identifier (got ${JSON.stringify(entryPoint)})`);
    const solution = stringField(record, "canonical_solution", at);
    const test = stringField(record, "test", at, { nonEmpty: true });
    if (!/^def check\(/m.test(test)) throw new Error(`${at}: field "test" must define check(candidate)`);
    return {
      id,
      benchmark: "humaneval",
      prompt,
      entryPoint,
      visible: humanEvalExamples(prompt, entryPoint, id, visible).map((e) => ({ kind: "assert", code: exampleTest(e) })),
      hidden: [{ kind: "assert", code: `check(${entryPoint})` }],
      reference: prompt + solution,
      setup: `${prompt}\n    pass\n\n${test}`,
      names: [entryPoint],
      context: promptContext(prompt, entryPoint),
    };
  });
}
