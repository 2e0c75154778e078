/**
 * LiveCodeBench code generation (Jain et al. 2024), "code_generation_lite" records. Bring your own
 * file: the dataset cannot be fetched here, so the kit reads the upstream JSON Lines files
 * (test.jsonl ... test6.jsonl of the release) as they are (data/benchmarks/livecodebench/README.md).
 *
 * Record fields (all strings): question_title, question_content, platform ("leetcode",
 * "codeforces", "atcoder"), question_id, contest_id, contest_date (ISO), starter_code,
 * difficulty ("easy", "medium", "hard"), public_test_cases (JSON list of {input, output,
 * testtype}), private_test_cases (the same JSON, or base64(zlib(pickle(json))) as released),
 * metadata (JSON object; "func_name" for call-based problems).
 * testtype "stdin": the program reads `input`, its stdout must match `output` (compare.ts);
 * testtype "functional": `metadata.func_name` is called (through `Solution()` when the program
 * defines that class) with one JSON argument per line of `input`; the result must equal the JSON
 * `output`.
 *
 * As a kit problem: visible = the public tests (the examples in the problem statement); hidden =
 * public + private, every test upstream evaluates. The program runs after the standard-library
 * imports LiveCodeBench's evaluator provides (`from math import *`, `import collections`, ...).
 * Records have no reference solutions; `references` may give some (JSON Lines of
 * {"question_id", "code"}), e.g. to check a setup with known-good programs.
 */
import { decompressTests } from "./pickled-string";
import { readRecords, stringField, type Record } from "./records";
import type { PyTest } from "../pysandbox/types";
import type { BenchProblem } from "./types";

export interface LiveCodeBenchOptions {
  file: string;
  /** JSON Lines of {"question_id", "code"}: reference programs for some problems. */
  references?: string;
  /** Keep problems with contest_date >= from (ISO date), e.g. the window of a release. */
  from?: string;
  /** Keep problems with contest_date < to (ISO date). */
  to?: string;
}

/** Modules whose names LiveCodeBench's evaluator makes available to every program. */
const EVALUATOR_MODULES = ["string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics", "itertools", "functools", "operator", "io", "sys", "json"];

export const LCB_CONTEXT = [
  ...EVALUATOR_MODULES.map((m) => `from ${m} import *`),
  "from builtins import *",
  "from typing import *",
  ...EVALUATOR_MODULES.map((m) => `import ${m}`),
  "",
].join("\n");

interface RawTest {
  input: string;
  output: string;
  testtype: string;
}

function parseTests(text: string, where: string, field: string): RawTest[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    try {
      data = JSON.parse(decompressTests(text));
    } catch (e) {
      throw new Error(`${where}: field "${field}" is neither JSON nor LiveCodeBench's compressed form (${(e as Error).message})`);
    }
  }
  if (!Array.isArray(data)) throw new Error(`${where}: field "${field}" must hold a JSON list of tests`);
  return data.map((t, i) => {
    const test = t as Partial<RawTest>;
    if (typeof test !== "object" || test === null || typeof test.input !== "string" || typeof test.output !== "string") {
      throw new Error(`${where}: ${field}[${i}] must be {"input": string, "output": string, "testtype": "stdin"|"functional"}`);
    }
    if (test.testtype !== "stdin" && test.testtype !== "functional") {
      throw new Error(`${where}: ${field}[${i}].testtype must be "stdin" or "functional" (got ${JSON.stringify(test.testtype)})`);
    }
    return test as RawTest;
  });
}

function toTest(test: RawTest, fn: string | undefined, where: string): PyTest {
  if (test.testtype === "stdin") return { kind: "stdio", input: test.input, output: test.output };
  if (!fn) throw new Error(`${where}: a functional test needs metadata.func_name`);
  return { kind: "functional", fn, input: test.input, output: test.output };
}

function readReferences(file: string | undefined): Map<string, string> {
  const references = new Map<string, string>();
  if (!file) return references;
  readRecords(file).forEach((r, i) => {
    const where = `${file}: record ${i + 1}`;
    references.set(stringField(r, "question_id", where, { nonEmpty: true }), stringField(r, "code", where, { nonEmpty: true }));
  });
  return references;
}

export function liveCodeBenchPrompt(content: string, starter: string): string {
  return starter.trim()
    ? `${content}\n\nComplete this starter code (the tests call it):\n${starter}`
    : `${content}\n\nRead the input from standard input and write the answer to standard output.`;
}

export function liveCodeBenchProblem(record: Record, where: string, reference?: string): BenchProblem {
  const questionId = stringField(record, "question_id", where, { nonEmpty: true });
  const at = `${where} (${questionId})`;
  const content = stringField(record, "question_content", at, { nonEmpty: true });
  const starter = stringField(record, "starter_code", at, { optional: true });
  const metadataText = stringField(record, "metadata", at, { optional: true }) || "{}";
  let metadata: { func_name?: unknown };
  try {
    metadata = JSON.parse(metadataText);
  } catch {
    throw new Error(`${at}: field "metadata" must be a JSON object as text (got ${JSON.stringify(metadataText.slice(0, 80))})`);
  }
  const fn = typeof metadata.func_name === "string" ? metadata.func_name : undefined;
  const publicTests = parseTests(stringField(record, "public_test_cases", at), at, "public_test_cases");
  const privateTests = parseTests(stringField(record, "private_test_cases", at), at, "private_test_cases");
  const all = [...publicTests, ...privateTests];
  if (all.length === 0) throw new Error(`${at}: the problem has no tests`);
  if (new Set(all.map((t) => t.testtype)).size > 1) throw new Error(`${at}: mixes stdin and functional tests`);
  const difficulty = stringField(record, "difficulty", at, { optional: true });
  return {
    id: `LiveCodeBench/${questionId}`,
    benchmark: "livecodebench",
    prompt: liveCodeBenchPrompt(content, starter),
    ...(fn ? { entryPoint: fn } : {}),
    visible: publicTests.map((t) => toTest(t, fn, at)),
    hidden: all.map((t) => toTest(t, fn, at)),
    ...(reference ? { reference } : {}),
    setup: "",
    names: fn ? ["Solution", fn] : [],
    context: LCB_CONTEXT,
    ...(difficulty ? { difficulty } : {}),
  };
}

export function loadLiveCodeBench(options: LiveCodeBenchOptions): BenchProblem[] {
  const references = readReferences(options.references);
  const problems: BenchProblem[] = [];
  readRecords(options.file).forEach((record, i) => {
    const where = `${options.file}: record ${i + 1}`;
    const date = stringField(record, "contest_date", where, { optional: true });
    if (options.from && date && date < options.from) return;
    if (options.to && date && date >= options.to) return;
    const id = stringField(record, "question_id", where, { nonEmpty: true });
    problems.push(liveCodeBenchProblem(record, where, references.get(id)));
  });
  return problems;
}
