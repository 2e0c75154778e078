import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadTask } from "../src/tasks/load";
import { TASKS_DIR } from "../src/paths";
import { hardCodedVisible } from "./helpers/hard-coded";

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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-cli-"));
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
