/**
 * The shipped benchmarks against their own reference programs, through the Python sandbox: every
 * HumanEval reference passes its hidden test AND every visible test the loader drew from its
 * prompt (so no visible test contradicts the benchmark), the examples left out as wrong really
 * are wrong, and a sample of MBPP references pass (the whole of MBPP is `murphy eval --bench mbpp
 * --policy canonical`, data/benchmarks/mbpp/README.md).
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { evaluateBenchProgram, loadHumanEval, loadMbpp, WRONG_EXAMPLES } from "../src/benchmarks/index";
import { MBPP_BROKEN_REFERENCES } from "../src/benchmarks/mbpp";
import { docstringExamples, exampleTest } from "../src/benchmarks/docstring-examples";
import { PythonSandbox } from "../src/pysandbox/index";

// Generous: on a loaded machine a reference must not time out.
const sandbox = new PythonSandbox({ timeoutMs: 30_000 });
after(() => sandbox.close());

test("HumanEval: all 164 references pass the verdict and every visible test", async () => {
  const problems = loadHumanEval();
  const failures: string[] = [];
  await Promise.all(
    problems.map(async (p) => {
      const e = await evaluateBenchProgram(sandbox, p, p.reference as string);
      if (e.outcome !== "passed" || !e.visiblePassed || e.reward !== 1) failures.push(`${p.id}: ${JSON.stringify(e.run.tests.filter((t) => t.outcome !== "passed"))}`);
      if (p.visible.length > 0) assert.equal(e.feedback, `passed ${p.visible.length}/${p.visible.length} visible`);
    }),
  );
  assert.deepEqual(failures, []);
});

test("HumanEval: the examples left out disagree with the reference", async () => {
  const problems = new Map(loadHumanEval().map((p) => [p.id, p]));
  for (const [id, expressions] of Object.entries(WRONG_EXAMPLES)) {
    const p = problems.get(id);
    assert.ok(p, id);
    const examples = docstringExamples(p.prompt, p.entryPoint as string).filter((e) => expressions.includes(e.expression));
    assert.equal(examples.length, expressions.length, `${id}: every listed example is in the prompt`);
    const run = await sandbox.run({ code: p.reference as string, tests: examples.map((e) => ({ kind: "assert", code: exampleTest(e) })), setup: p.setup, names: p.names, context: p.context });
    assert.deepEqual(run.tests.map((t) => t.outcome), examples.map(() => "wrong_answer"), `${id}: ${JSON.stringify(run.tests)}`);
  }
});

test("MBPP: a sample of references pass", async () => {
  // Every 10th problem, and the two that build trees with a Node class; not the known-broken ones.
  const problems = loadMbpp({ split: "all" }).filter((p, i) => (i % 10 === 5 || p.id === "MBPP/367" || p.id === "MBPP/927") && !(p.id in MBPP_BROKEN_REFERENCES));
  const failures: string[] = [];
  await Promise.all(
    problems.map(async (p) => {
      const e = await evaluateBenchProgram(sandbox, p, p.reference as string);
      if (e.outcome !== "passed") failures.push(`${p.id}: ${e.outcome}`);
    }),
  );
  assert.deepEqual(failures, []);
});
