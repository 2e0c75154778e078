/**
 * KodCode (Xu et al. 2025), the paper's training set: synthetic Python questions, each with a
 * verified solution and a pytest module. Bring your own file: the kit reads the upstream JSON
 * Lines (data/benchmarks/kodcode/README.md).
 *
 * KodCode-V1 record fields: question_id, question, solution, test (the pytest module), test_info
 * (list of {function_name, parameter_list, function_declaration, docstring}), style ("instruct"
 * or "complete"), subset, gpt_difficulty ("easy", "medium", "hard"), ... The SFT release names
 * them conversation_id, test_code and test_entry_point; both are read. The pytest module
 * imports the code under test from a module named `solution` (`from solution import f`), the
 * file KodCode's pipeline writes the solution to.
 *
 * As a kit problem: hidden = every test function of the module (top-level `test_*` functions and
 * `test_*` methods of `Test*` classes), each one test; visible = the first `visibleTests` of them
 * (default 1); the checker runs the module with `solution` resolving to the program's objects and
 * a minimal `pytest` (raises, approx, mark.parametrize; fixtures are not supported).
 */
import { readRecords, stringField, unixNewlines, type Record } from "./records";
import type { BenchProblem } from "./types";

export interface KodCodeOptions {
  file: string;
  /** How many test functions are visible (default 1). */
  visibleTests?: number;
}

/** The test functions of a pytest module, in order: "test_x" or "TestClass.test_y". */
export function pytestFunctions(source: string): string[] {
  const names: string[] = [];
  let owner: string | null = null;
  for (const line of unixNewlines(source).split("\n")) {
    const cls = /^class\s+(Test\w*)\s*[:(]/.exec(line);
    const fn = /^(?:async\s+)?def\s+(test\w*)\s*\(/.exec(line);
    const method = /^\s+def\s+(test\w*)\s*\(\s*self\b/.exec(line);
    if (cls) owner = cls[1];
    else if (fn) {
      owner = null;
      names.push(fn[1]);
    } else if (method && owner) names.push(`${owner}.${method[1]}`);
    else if (/^\S/.test(line) && !/^[@#]/.test(line)) owner = null;
  }
  return names;
}

/** Names a pytest module imports from `solution`. */
export function solutionImports(source: string): string[] {
  const names: string[] = [];
  for (const match of unixNewlines(source).matchAll(/^\s*from\s+solution\s+import\s+\(?([^)\n]+)\)?/gm)) {
    for (const part of match[1].split(",")) {
      const name = part.trim().split(/\s+as\s+/)[0];
      if (/^[A-Za-z_]\w*$/.test(name)) names.push(name);
    }
  }
  return names;
}

export function kodCodePrompt(question: string, imports: readonly string[]): string {
  return imports.length === 0 ? question : `${question}\n\nThe tests import your code as a module: from solution import ${imports.join(", ")}`;
}

export function kodCodeProblem(record: Record, where: string, visibleTests = 1): BenchProblem {
  const id = stringField(record, record.question_id !== undefined ? "question_id" : "conversation_id", where, { nonEmpty: true });
  const at = `${where} (${id})`;
  const question = stringField(record, "question", at, { nonEmpty: true });
  const solution = stringField(record, "solution", at, { optional: true });
  const test = unixNewlines(stringField(record, record.test !== undefined ? "test" : "test_code", at, { nonEmpty: true }));
  const functions = pytestFunctions(test);
  if (functions.length === 0) throw new Error(`${at}: field "test" defines no test_* function`);
  const imports = solutionImports(test);
  const difficulty = stringField(record, "gpt_difficulty", at, { optional: true });
  const tests = functions.map((name) => ({ kind: "pytest" as const, name }));
  return {
    id: `KodCode/${id}`,
    benchmark: "kodcode",
    prompt: kodCodePrompt(question, imports),
    ...(imports[0] ? { entryPoint: imports[0] } : {}),
    visible: tests.slice(0, visibleTests),
    hidden: tests,
    ...(solution ? { reference: solution } : {}),
    setup: test,
    names: [],
    context: "",
    ...(difficulty ? { difficulty } : {}),
  };
}

export function loadKodCode(options: KodCodeOptions): BenchProblem[] {
  const visibleTests = options.visibleTests ?? 1;
  if (!Number.isInteger(visibleTests) || visibleTests < 0) throw new Error(`KodCode: visibleTests must be an integer >= 0 (got ${visibleTests})`);
  return readRecords(options.file).map((record, i) => kodCodeProblem(record, `${options.file}: record ${i + 1}`, visibleTests));
}
