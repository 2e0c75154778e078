/**
 * MBPP (Austin et al. 2021; data/benchmarks/mbpp/, CC-BY-4.0): 974 crowd-sourced problems, each
 * a one-sentence task (`text`), a reference program (`code`), three assert lines (`test_list`),
 * optional setup code (`test_setup_code`) and extra tests (`challenge_test_list`, unused here as
 * upstream). The hand-verified subset (`sanitized-mbpp.json`, 427 problems) has `prompt`,
 * `code`, `test_imports` and `test_list` instead ("mbpp-sanitized").
 *
 * As a kit problem:
 * - visible: the first `visibleTests` asserts (default 1): the prompt states them, so the model
 *   knows the function's name and signature, as in the paper's MBPP prompt;
 * - hidden: every assert of `test_list`, the benchmark's verdict (so the visible one counts once
 *   in the reward, as a hidden test);
 * - prompt: `<text>\nYour code should pass these tests:\n\n<visible asserts>`, the format of
 *   the MBPP README without its few-shot examples;
 * - names: the reference program's top-level functions and classes that the tests use (MBPP's
 *   tests call the function by name; two problems build trees with the program's Node class).
 * Splits by task id, as in the MBPP README: "test" 11-510 (the evaluation set), "prompt" 1-10
 * (few-shot examples), "train" 511-974; "all" takes every problem.
 */
import * as path from "node:path";
import { DATA_DIR } from "../paths";
import { identifiers, readRecords, stringField, stringListField, topLevelDefinitions, unixNewlines } from "./records";
import type { BenchProblem } from "./types";

export const MBPP_FILE = path.join(DATA_DIR, "benchmarks", "mbpp", "mbpp.jsonl");
export const MBPP_SANITIZED_FILE = path.join(DATA_DIR, "benchmarks", "mbpp", "sanitized-mbpp.json");

export const MBPP_SPLITS = { test: [11, 510], prompt: [1, 10], train: [511, 974], all: [1, Infinity] } as const;
export type MbppSplit = keyof typeof MBPP_SPLITS;

export interface MbppOptions {
  /** Use the hand-verified subset. */
  sanitized?: boolean;
  split?: MbppSplit;
  /** How many of the listed tests are visible (default 1; 0 to 3). */
  visibleTests?: number;
  file?: string;
}

/**
 * Reference programs that fail their own tests here, and why (data/benchmarks/mbpp/README.md):
 * `murphy eval --bench mbpp --split all --policy canonical` solves every other problem.
 */
export const MBPP_BROKEN_REFERENCES: Readonly<Record<string, string>> = {
  "MBPP/123": "too slow: the reference tries every divisor up to 10^4 twice (about 10^8 steps, 4-12 s of CPU), past the default 10 s limit on a loaded machine; it passes with --timeout-ms 60000",
  "MBPP/596": "the expected values are sys.getsizeof results of one CPython build (104); Python 3.11 on x86-64 gives 88",
  "MBPP/642": "the expected set holds tuples in the order the reference's set iteration produced on an old CPython; tuple hashing changed in Python 3.8",
};

export function mbppPrompt(text: string, visible: readonly string[]): string {
  return visible.length === 0 ? text : `${text}\nYour code should pass these tests:\n\n${visible.join("\n")}`;
}

export function loadMbpp(options: MbppOptions = {}): BenchProblem[] {
  const sanitized = options.sanitized ?? false;
  const file = options.file ?? (sanitized ? MBPP_SANITIZED_FILE : MBPP_FILE);
  const split = options.split ?? "test";
  if (!(split in MBPP_SPLITS)) throw new Error(`MBPP: split must be one of ${Object.keys(MBPP_SPLITS).join(", ")} (got "${split}")`);
  const visibleTests = options.visibleTests ?? 1;
  if (!Number.isInteger(visibleTests) || visibleTests < 0) throw new Error(`MBPP: visibleTests must be an integer >= 0 (got ${visibleTests})`);
  const [low, high] = MBPP_SPLITS[split];
  const problems: BenchProblem[] = [];
  readRecords(file).forEach((record, i) => {
    const where = `${file}: record ${i + 1}`;
    const taskId = record.task_id;
    if (!Number.isInteger(taskId)) throw new Error(`${where}: field "task_id" must be an integer (got ${JSON.stringify(taskId)})`);
    const id = taskId as number;
    if (id < low || id > high) return;
    const at = `${where} (task ${id})`;
    const text = stringField(record, sanitized ? "prompt" : "text", at, { nonEmpty: true });
    const code = unixNewlines(stringField(record, "code", at, { nonEmpty: true }));
    const tests = stringListField(record, "test_list", at).map((t) => unixNewlines(t).trim());
    if (tests.length === 0) throw new Error(`${at}: field "test_list" must hold at least one test`);
    const setup = unixNewlines(sanitized ? stringListField(record, "test_imports", at, { optional: true }).join("\n") : stringField(record, "test_setup_code", at, { optional: true }));
    const used = identifiers(setup, ...tests);
    const visible = tests.slice(0, visibleTests);
    problems.push({
      id: `MBPP/${id}`,
      benchmark: sanitized ? "mbpp-sanitized" : "mbpp",
      prompt: mbppPrompt(text, visible),
      visible: visible.map((t) => ({ kind: "assert", code: t })),
      hidden: tests.map((t) => ({ kind: "assert", code: t })),
      reference: code,
      setup,
      names: topLevelDefinitions(code).filter((name) => used.has(name)),
      context: "",
    });
  });
  return problems;
}
