/**
 * The benchmarks through the shared Iter-k loop (iterK) and on the command line: reference
 * programs, the kit's sampling path on a Python problem (a scripted policy), and the `--bench`
 * forms of `murphy eval`, `murphy run` and `murphy tasks`.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { iterK } from "../src/eval/iterk";
import { kitPolicySource, kitTaskView, loadHumanEval, loadMbpp, referenceSource, type BenchProblem } from "../src/benchmarks/index";
import { PythonSandbox } from "../src/pysandbox/index";
import { ROOT } from "../src/paths";
import { ScriptedPolicy } from "./helpers/scripted-policy";

const sandbox = new PythonSandbox({ timeoutMs: 20_000 });
after(() => sandbox.close());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-bench-cli-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function murphy(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout.trim().split("\n").pop() as string) };
}

test("Iter-k over benchmark problems: reference programs solve at turn 1", async () => {
  const problems = loadHumanEval().slice(0, 3);
  const result = await iterK(problems, referenceSource(sandbox), { turns: 2, samples: 2, seed: 0 });
  assert.deepEqual(result.iterPass1, [1, 1]);
  assert.equal(result.records.length, 6);
  assert.ok(result.records.every((r) => r.solved && r.reward === 1 && r.promptTokens === 0));
});

test("Iter-k with the kit's sampling path on MBPP: turn 2 sees turn 1's visible feedback", async () => {
  const problem = loadMbpp({ split: "all" }).find((p) => p.id === "MBPP/2") as BenchProblem;
  const view = kitTaskView(problem, 200);
  assert.equal(view.id, "MBPP/2");
  assert.ok(view.description.startsWith("Write a function to find the similar elements") && view.description.length <= 200);
  const wrong = "def similar_elements(a, b):\n    return ()";
  const policy = new ScriptedPolicy((prompt) => (prompt.includes("<attempt>") ? (problem.reference as string) : wrong));
  const source = kitPolicySource(policy, sandbox, { temperature: 1, maxNewTokens: 200 });
  const result = await iterK([problem], source, { turns: 3, samples: 1, seed: 0 });
  assert.deepEqual(result.iterPass1, [0, 1, 1]);
  assert.deepEqual(result.records.map((r) => [r.turn, r.solved, r.reward]), [[1, false, 0], [2, true, 1]]);
  const feedback = result.records[0].feedback;
  assert.equal(feedback, "passed 0/1 visible; similar_elements((3, 4, 5, 6),(5, 7, 4, 10)): expected (4, 5), got ()");
  const secondPrompt = policy.calls[1].prompts[0];
  assert.ok(secondPrompt.includes(feedback) && secondPrompt.includes(wrong));
  // The hidden tests never reach the prompt.
  assert.ok(!secondPrompt.includes("(1, 2, 3, 4),(5, 4, 3, 7)"));
});

test("murphy eval --bench: canonical MBPP solves its problems; the kit's model on Python is flagged", () => {
  const r = murphy("eval", "--bench", "mbpp", "--policy", "canonical", "--turns", "1", "--limit", "4", "--out", path.join(dir, "mbpp.jsonl"), "--json");
  assert.equal(r.code, 0, r.stderr);
  const summary = r.json();
  assert.deepEqual([summary.bench, summary.policy, summary.problems, summary.iter_pass1, summary.solved], ["mbpp", "canonical", 4, [1], 4]);
  assert.equal(fs.readFileSync(path.join(dir, "mbpp.jsonl"), "utf8").trim().split("\n").length, 4);
  const kit = murphy("eval", "--bench", "humaneval", "--policy", "kit", "--turns", "1", "--limit", "1", "--max-new-tokens", "24", "--out", path.join(dir, "kit.jsonl"), "--json");
  assert.equal(kit.code, 0, kit.stderr);
  assert.match(kit.json().note, /writes JavaScript/);
  assert.match(kit.stderr, /scores near 0/);
  const bad = murphy("eval", "--bench", "nope", "--policy", "canonical");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--bench must be one of humaneval, mbpp, mbpp-sanitized, livecodebench, kodcode, kit/);
});

test("murphy eval --bench kit --policy canonical runs the kit's references through the same loop", () => {
  const r = murphy("eval", "--bench", "kit", "--policy", "canonical", "--turns", "1", "--limit", "5", "--out", path.join(dir, "kit-canonical.jsonl"), "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json().iter_pass1, [1]);
});

test("murphy run --bench and murphy tasks --bench", () => {
  const file = path.join(dir, "answer.py");
  fs.writeFileSync(file, "def has_close_elements(numbers, threshold):\n    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n");
  const good = murphy("run", "--bench", "humaneval", "--task", "HumanEval/0", "--code-file", file, "--json");
  assert.equal(good.code, 0, good.stderr);
  const result = good.json();
  assert.deepEqual([result.outcome, result.reward, result.feedback, result.visible_passed], ["passed", 1, "passed 2/2 visible", true]);
  assert.deepEqual(result.tests.map((t: { visible: boolean }) => t.visible), [true, true, false]);
  const wrong = murphy("run", "--bench", "humaneval", "--task", "HumanEval/0", "--code", "def has_close_elements(numbers, threshold):\n    return True", "--json");
  assert.equal(wrong.json().reward, 0);
  assert.equal(wrong.json().feedback, "passed 1/2 visible; has_close_elements([1.0, 2.0, 3.0], 0.5): expected False, got True");
  const missing = murphy("run", "--bench", "humaneval", "--task", "HumanEval/999", "--code", "x");
  assert.equal(missing.code, 2);
  const tasks = murphy("tasks", "--bench", "mbpp", "--limit", "2");
  assert.equal(tasks.code, 0, tasks.stderr);
  assert.match(tasks.stdout, /MBPP\/11 {2}\[mbpp\][\s\S]*visible tests \(1\):[\s\S]*hidden tests \(3\):/);
  assert.match(tasks.stdout, /2 of 500 mbpp problems shown/);
});
