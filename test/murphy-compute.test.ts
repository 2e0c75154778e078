import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MIN_MATCH_STEPS, matchOverRun, prefillTokens } from "../src/murphy/compute";

const ROOT = path.join(__dirname, "..");

test("prefillTokens: each distinct prompt of a sampling call once, real tokens only", () => {
  // A group of 3 siblings (one prompt of 4 tokens), a group of 2 (3 tokens), and a single 5-token
  // prompt: 4 + 3 + 5, not 3*4 + 2*3 + 5.
  const a = [1, 2, 3, 4], b = [7, 8, 9], c = [1, 2, 3, 4, 5];
  assert.equal(prefillTokens([a, a, b, a, b, c]), 12);
  // A prefix of another prompt is a different prompt.
  assert.equal(prefillTokens([a, c]), 9);
  assert.equal(prefillTokens([]), 0);
});

/** Metrics records of `n` steps: tokens/sampled 1900, 2100, 1900, ... and turn-1 means 19.5, 20.5, 19.5, ... */
function steps(n: number): Record<string, number>[] {
  return Array.from({ length: n }, (_, i) => ({ step: i + 1, "tokens/sampled": i % 2 ? 2100 : 1900, "tokens/sampled_turn1_mean": i % 2 ? 20.5 : 19.5 }));
}

test("matchOverRun: the matched group size from the means over every step, by hand", () => {
  // 10 steps: mean sampled 2000, mean first attempt 20; 8 tasks: 2000 / (8 * 20) = 12.5 -> 13.
  const m = matchOverRun(steps(10), 8);
  assert.deepEqual(m, { steps: 10, tasksPerStep: 8, murphyTokensPerStep: 2000, meanFirstTurnTokens: 20, groupSize: 13, grpoTokensPerStep: 8 * 13 * 20 });
  // The first 3 steps alone (1900, 2100, 1900 and 19.5, 20.5, 19.5) say round(1966.7 / (8 * 19.83)) = round(12.39) = 12.
  assert.equal(matchOverRun(steps(3), 8, 3).groupSize, 12);
  assert.equal(MIN_MATCH_STEPS, 10);
});

test("matchOverRun: fewer than 10 steps, or a record without the token metrics, is a clear error", () => {
  assert.throws(() => matchOverRun(steps(9), 8, undefined, "run/metrics.jsonl"), /run\/metrics\.jsonl has 9 step\(s\); compute matching averages over at least 10 steps/);
  const broken = steps(10);
  delete broken[4]["tokens/sampled_turn1_mean"];
  assert.throws(() => matchOverRun(broken, 8), /step record 5 has no number "tokens\/sampled_turn1_mean"/);
});

function murphy(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: r.stdout.trim().split("\n").pop() ?? "" };
}

test("murphy compute-match: reads a run's metrics and its config, prints the matched group size", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-match-"));
  const file = path.join(dir, "metrics.jsonl");
  fs.writeFileSync(file, steps(12).map((m) => JSON.stringify(m) + "\n").join(""));
  // Without a config beside it, tasksPerStep must be given.
  const bare = murphy("compute-match", "--metrics", file);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /no config\.json or cell\.json beside .*metrics\.jsonl to read tasksPerStep from; give --tasks-per-step n/);
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ config: { tasksPerStep: 8, turns: 2 }, meta: {} }));
  const r = murphy("compute-match", "--metrics", file, "--json");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /matched GRPO groupSize = round\(2000\.0 \/ \(8 x 20\.00\)\) = 13/);
  const last = JSON.parse(r.last);
  assert.deepEqual([last.steps, last.tasksPerStep, last.groupSize, last.murphyTokensPerStep], [12, 8, 13, 2000]);
  assert.equal(JSON.parse(murphy("compute-match", "--metrics", file, "--tasks-per-step", "4", "--json").last).groupSize, 25);
  fs.writeFileSync(file, steps(5).map((m) => JSON.stringify(m) + "\n").join(""));
  const short = murphy("compute-match", "--metrics", file);
  assert.equal(short.code, 1);
  assert.match(short.stderr, /has 5 step\(s\); compute matching averages over at least 10 steps/);
  assert.equal(JSON.parse(murphy("compute-match", "--metrics", file, "--min-steps", "5", "--json").last).steps, 5);
  fs.rmSync(dir, { recursive: true, force: true });
});
