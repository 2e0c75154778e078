import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadTask } from "../src/tasks/load";
import { TASKS_DIR } from "../src/paths";
import { hardCodedVisible } from "./helpers/hard-coded";
import { tempDir } from "./helpers/temp";

const ROOT = path.join(__dirname, "..");
function murphy(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: r.stdout.trim().split("\n").pop() ?? "" };
}

test("murphy tasks prints the requested number of tasks", () => {
  const r = murphy("tasks", "--split", "test", "--limit", "3");
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.stdout.match(/^test-\d{5} {2}\[/gm) ?? []).length, 3);
  assert.match(r.stdout, /3 of 500 test tasks shown/);
  const bad = murphy("tasks", "--split", "dev");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--split must be one of train, validation, test \(got "dev"\)/);
});

test("murphy run --task: reward, worst outcome and feedback as the last JSON line", () => {
  const task = JSON.parse(murphy("tasks", "--split", "test", "--limit", "1", "--json").last);
  const right = JSON.parse(murphy("run", "--task", task.id, "--code", task.reference, "--json").last);
  assert.equal(right.reward, 1);
  assert.equal(right.outcome, "passed");
  const wrong = JSON.parse(murphy("run", "--task", task.id, "--code", `${task.signature}=>{ throw new RangeError("nope") }`, "--json").last);
  assert.equal(wrong.reward, 0);
  assert.equal(wrong.outcome, "runtime_error");
  assert.match(wrong.feedback, /RangeError: nope/);
  const broken = JSON.parse(murphy("run", "--task", task.id, "--code", "(xs =>", "--json").last);
  assert.equal(broken.outcome, "syntax_error");
});

test("murphy run: a program hard-coding the visible examples gets reward < 1 and feedback silent about hidden tests", () => {
  const task = loadTask(TASKS_DIR, "test-00001");
  const r = JSON.parse(murphy("run", "--task", task.id, "--code", hardCodedVisible(task), "--json").last);
  assert.ok(r.reward < 1, `reward ${r.reward}`);
  assert.equal(r.visible_passed, true);
  assert.equal(r.solved, false);
  assert.equal(r.feedback, `passed ${task.visible.length}/${task.visible.length} visible`);
  assert.doesNotMatch(r.feedback, /hidden|all tests/);
});

test("murphy run --tests: a user's own tests file, and clear errors for a bad one", () => {
  const dir = tempDir("murphy-cli-");
  const file = path.join(dir, "tests.json");
  fs.writeFileSync(file, JSON.stringify({ entry: "(a, b)", tests: [{ input: [1, 2], expected: 3 }, { input: [2, 2], expected: 4 }] }));
  const half = JSON.parse(murphy("run", "--tests", file, "--code", "(a, b) => a * b", "--json").last);
  // 1*2 = 2 is wrong, 2*2 = 4 is right.
  assert.equal(half.reward, 0.5);
  assert.equal(half.outcome, "wrong_answer");
  assert.match(half.feedback, /passed 1\/2 visible; f\(1,2\): expected 3, got 2/);
  fs.writeFileSync(file, JSON.stringify({ entry: "a, b", tests: [] }));
  const bad = murphy("run", "--tests", file, "--code", "(a) => a");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /tests\.json: field "entry" must be a parameter list such as "\(xs, k\)"/);
});

test("murphy eval --limit: Iter-k pass@1 as the last JSON line, every attempt written, usage errors exit 2", { timeout: 180_000 }, () => {
  const dir = tempDir("murphy-cli-eval-");
  const out = path.join(dir, "eval.jsonl");
  const r = murphy("eval", "--split", "test", "--turns", "2", "--limit", "4", "--temperature", "1", "--seed", "3", "--out", out, "--json");
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.last);
  assert.equal(summary.tasks, 4);
  assert.equal(summary.turns, 2);
  assert.equal(summary.seed, 3);
  assert.equal(summary.iter_pass1.length, 2);
  const [iter1, iter2] = summary.iter_pass1 as number[];
  assert.ok(0 <= iter1 && iter1 <= iter2 && iter2 <= 1, `Iter-k is cumulative: ${iter1}, ${iter2}`);
  // One chain per task: every task makes a first attempt; only those not solved at turn 1 a second.
  const records = fs.readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line));
  assert.equal(records.length, summary.attempts);
  assert.equal(records.filter((x) => x.turn === 1).length, 4);
  assert.equal(records.filter((x) => x.turn === 2).length, Math.round(4 * (1 - iter1)));
  assert.equal(records.filter((x) => x.solved).length, Math.round(4 * iter2));
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, "eval.config.json"), "utf8")).iter_pass1, summary.iter_pass1);

  const badSplit = murphy("eval", "--split", "dev");
  assert.equal(badSplit.code, 2);
  assert.match(badSplit.stderr, /--split must be train, validation or test \(got "dev"\)/);
  const badTurns = murphy("eval", "--turns", "0");
  assert.equal(badTurns.code, 2);
  assert.match(badTurns.stderr, /--turns must be an integer >= 1 \(got "0"\)/);
});

test("murphy explorer builds the pruning explorer page from a batch file; a missing file is an error", () => {
  const dir = tempDir("murphy-cli-explorer-");
  const batch = path.join(ROOT, "data", "rollouts", "base-validation-s1.jsonl");
  const out = path.join(dir, "explorer.html");
  const r = murphy("explorer", batch, "--out", out);
  assert.equal(r.code, 0, r.stderr);
  const html = fs.readFileSync(out, "utf8");
  assert.match(html, /MurphyExplorer\.mount\(/);
  assert.ok(html.includes("validation-00007"), "the batch's trees are embedded");
  const missing = murphy("explorer", path.join(dir, "nope.jsonl"), "--out", out);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.jsonl not found/);
});
