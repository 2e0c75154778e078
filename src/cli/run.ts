/**
 * `murphy run --task <id> --code '<js>' [--json]` and `murphy run --tests <file.json> --code '<js>'
 * [--json]`: run one program in the sandbox and print the outcome of each test, the reward and the
 * feedback the next turn would see. With --json the last stdout line is one JSON object.
 */
import * as fs from "node:fs";
import { parse, printJsonLast, UsageError } from "./args";
import { loadTask } from "../tasks/load";
import { SUITE_NAMES, isSuiteName, suiteDir } from "../tasks/suites";
import { SandboxPool } from "../sandbox/pool";
import { evaluateProgram } from "../feedback";
import type { Task, TestCase } from "../tasks/types";
import { flagValue, runMain } from "./bench";

/** Read a user's tests file: {"entry": "(xs, k)", "tests": [{"input": [...], "expected": ...}]}. */
export function readTestsFile(file: string): Task {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : `not valid JSON (${(e as Error).message})`}`);
  }
  const record = data as { entry?: unknown; tests?: unknown };
  if (typeof record !== "object" || record === null || Array.isArray(record)) throw new UsageError(`${file}: must hold a JSON object {"entry": "(a, b)", "tests": [...]}`);
  if (typeof record.entry !== "string" || !/^\(\s*([A-Za-z_$][\w$]*\s*(,\s*[A-Za-z_$][\w$]*\s*)*)?\)$/.test(record.entry.trim())) {
    throw new UsageError(`${file}: field "entry" must be a parameter list such as "(xs, k)" (got ${JSON.stringify(record.entry)})`);
  }
  if (!Array.isArray(record.tests) || record.tests.length === 0) throw new UsageError(`${file}: field "tests" must be a non-empty array`);
  const tests: TestCase[] = record.tests.map((t: unknown, i: number) => {
    const test = t as { input?: unknown; expected?: unknown };
    if (typeof test !== "object" || test === null || !Array.isArray(test.input)) {
      throw new UsageError(`${file}: field "tests[${i}].input" must be an array of arguments`);
    }
    if (!("expected" in test)) throw new UsageError(`${file}: field "tests[${i}].expected" is missing`);
    return { input: test.input, expected: test.expected } as TestCase;
  });
  // A user's own tests are all shown: feedback is built from every one of them.
  return { id: file, family: "custom", difficulty: 1, description: "tests from " + file, signature: record.entry.trim(), visible: tests, hidden: [], reference: "" };
}

export async function main(argv: string[]): Promise<void> {
  if (flagValue(argv, "bench") !== undefined) return runMain(argv); // the Python benchmarks: cli/bench.ts
  const { values } = parse("run", argv, {
    task: { type: "string" },
    tests: { type: "string" },
    code: { type: "string" },
    binary: { type: "boolean", default: false },
    "timeout-ms": { type: "string" },
    suite: { type: "string", default: "default" },
    dir: { type: "string" },
    json: { type: "boolean", default: false },
  });
  if (!isSuiteName(values.suite as string)) throw new UsageError(`murphy run: --suite must be one of ${SUITE_NAMES.join(", ")} (got "${values.suite}")`);
  if (values.code === undefined) throw new UsageError("murphy run: --code '<js arrow function>' is required");
  if ((values.task === undefined) === (values.tests === undefined)) throw new UsageError("murphy run: give exactly one of --task <id> or --tests <file.json>");
  const task = values.task !== undefined ? loadTask((values.dir as string | undefined) ?? suiteDir(values.suite as string), values.task) : readTestsFile(values.tests as string);
  const timeoutMs = values["timeout-ms"] === undefined ? undefined : Number(values["timeout-ms"]);
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new UsageError(`murphy run: --timeout-ms must be a positive number (got "${values["timeout-ms"]}")`);

  const pool = new SandboxPool(timeoutMs === undefined ? { poolSize: 1 } : { poolSize: 1, timeoutMs });
  try {
    const result = await evaluateProgram(pool, task, values.code, { binary: values.binary });
    const visibleCount = task.visible.length;
    const perTest = result.run.tests.map((t, i) => ({
      index: i,
      visible: i < visibleCount,
      outcome: t.outcome,
      input: t.test.input,
      expected: t.test.expected,
      ...(t.got !== undefined ? { got: t.got } : {}),
      ...(t.error ? { error: t.error } : {}),
    }));
    if (!values.json) {
      process.stdout.write(`task ${task.id}: ${task.description}\n`);
      for (const t of perTest) {
        const detail = t.error ? `${t.error.type}: ${t.error.message}` : t.got !== undefined ? `got ${t.got}` : "";
        process.stdout.write(`  ${t.visible ? "visible" : "hidden "} #${t.index}  ${t.outcome.padEnd(13)} f(${t.input.map((v) => JSON.stringify(v)).join(", ")}) expected ${JSON.stringify(t.expected)} ${detail}\n`);
      }
      if (result.run.output) process.stdout.write(`printed output:\n${result.run.output}\n`);
      process.stdout.write(`outcome: ${result.outcome}\nreward: ${result.reward}\nfeedback: ${result.feedback}\n`);
    }
    if (values.json) printJsonLast({ task: task.id, outcome: result.outcome, reward: result.reward, solved: result.solved, visible_passed: result.visiblePassed, feedback: result.feedback, tests: perTest, ms: result.run.ms });
  } finally {
    await pool.close();
  }
}
