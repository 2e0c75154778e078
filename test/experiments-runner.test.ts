import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");

test("a cell that crashes is reported with its log; the others' state and the summaries are still written", { timeout: 300_000 }, (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-runner-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // A "checkpoint" whose files exist (so the inputs can be hashed) but cannot be loaded.
  const broken = path.join(dir, "broken-checkpoint");
  fs.mkdirSync(broken);
  fs.writeFileSync(path.join(broken, "model.safetensors"), "not a safetensors file");
  fs.writeFileSync(path.join(broken, "tokenizer.json"), "{}");
  const specFile = path.join(dir, "crash.json");
  fs.writeFileSync(specFile, JSON.stringify({ name: "crash", baseCheckpoint: broken, seeds: [0], methods: [{ name: "base" }], eval: { limit: 1, turns: 1 } }));
  const out = path.join(dir, "results");
  const runs = path.join(dir, "runs");
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), "experiment", specFile, "--out", out, "--runs-dir", runs], { cwd: ROOT, encoding: "utf8", timeout: 240_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /experiment crash: cell base-s0 FAILED \(exit code 1\) after \d+s; see .*runs\/base-s0\/cell\.log/);
  assert.match(r.stderr, /murphy: 1 cell\(s\) failed: base-s0 \(log .*cell\.log\); rerun the same command to retry them/);
  assert.ok(fs.readFileSync(path.join(runs, "base-s0", "cell.log"), "utf8").includes("murphy:"), "the child's error is in the cell log");
  const record = JSON.parse(fs.readFileSync(path.join(out, "experiment.json"), "utf8"));
  assert.deepEqual(record.cells, [{ id: "base-s0", status: "missing" }]);
  assert.equal(fs.readFileSync(path.join(out, "summary.csv"), "utf8"), "method,seed,cell,iter1_pass1\n");
  assert.ok(!fs.existsSync(path.join(out, "cells", "base-s0", "cell.json")));
});

test("usage errors: no name, unknown cell, bad --jobs", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), "experiment", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  const none = run();
  assert.equal(none.status, 2);
  assert.match(none.stderr, /murphy experiment: give one experiment name/);
  const cell = run("reduced", "--cell", "nope-s0");
  assert.equal(cell.status, 2);
  assert.match(cell.stderr, /--cell nope-s0: no such cell in configs\/experiments\/reduced\.json \(cells: base-s0, murphy-mars-s0\)/);
  const jobs = run("reduced", "--jobs", "0");
  assert.equal(jobs.status, 2);
  assert.match(jobs.stderr, /--jobs must be an integer >= 1 \(got "0"\)/);
});
