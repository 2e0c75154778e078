/**
 * Determinism of the experiment pipeline: rerunning the committed `reduced` experiment
 * (configs/experiments/reduced.json: one training step on two tasks, four test tasks, two turns)
 * with its stored seed must reproduce its committed cells exactly: Iter-k pass@1, token counts,
 * every training metric except wall times, and every evaluation attempt. It runs through the CLI,
 * so the child processes, the resume logic and the summaries are exercised as in real use.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadResults } from "../src/experiments/results";
import { cellsOf, loadSpec } from "../src/experiments/spec";
import { cellInputs, readCellResult, staleReason } from "../src/experiments/cell-result";
import { readJsonl } from "../src/util/files";
import { methodMeans } from "../src/report/tables";

const ROOT = path.join(__dirname, "..");
const COMMITTED = path.join(ROOT, "data", "results", "reduced");
const REGENERATE = "nice -n 5 npx murphy experiment reduced (then commit data/results/reduced)";

function murphy(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: JSON.parse(r.stdout.trim().split("\n").pop() || "null") };
}

const withoutTimes = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith("time/")));

test("the reduced experiment reproduces its committed cells exactly, and a rerun skips them", { timeout: 900_000 }, (t) => {
  const spec = loadSpec("reduced");
  const committed = loadResults("reduced");
  assert.deepEqual(committed.missing, [], "committed reduced result is incomplete");
  for (const cell of cellsOf(spec)) {
    const stored = readCellResult(path.join(COMMITTED, "cells", cell.id));
    assert.ok(stored, `data/results/reduced/cells/${cell.id}/cell.json is missing; regenerate: ${REGENERATE}`);
    const reason = staleReason(stored, cellInputs(spec, cell));
    assert.equal(reason, "", `data/results/reduced/cells/${cell.id} was made with other inputs (${reason}); regenerate: ${REGENERATE}`);
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-determinism-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, "results");
  const runs = path.join(dir, "runs");
  const first = murphy("experiment", "reduced", "--out", out, "--runs-dir", runs, "--jobs", "2", "--json");
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual([...first.last.ran].sort(), cellsOf(spec).map((c) => c.id).sort());

  for (const cell of cellsOf(spec)) {
    const want = readCellResult(path.join(COMMITTED, "cells", cell.id))!;
    const got = readCellResult(path.join(out, "cells", cell.id))!;
    for (const key of ["iterPass1", "evalTasks", "steps", "tokensSampled", "tokensTrained", "tokensForwardedGrad", "tokensForwardedNoGrad", "configHash", "config"] as const) {
      assert.deepEqual(got[key], want[key], `${cell.id}: ${key} differs from the committed cell.json`);
    }
    const metrics = (d: string) => readJsonl<Record<string, number>>(path.join(d, "cells", cell.id, "metrics.jsonl")).map(withoutTimes);
    assert.deepEqual(metrics(out), metrics(COMMITTED), `${cell.id}: training metrics differ`);
    assert.deepEqual(
      readJsonl(path.join(out, "cells", cell.id, "eval.jsonl")),
      readJsonl(path.join(COMMITTED, "cells", cell.id, "eval.jsonl")),
      `${cell.id}: evaluation attempts differ`,
    );
  }
  const rerun = loadResults("reduced", out);
  assert.deepEqual(rerun.methods.map((m) => m.iter.map((ci) => ci.mean)), committed.methods.map((m) => m.iter.map((ci) => ci.mean)));
  assert.deepEqual(first.last.methods, methodMeans(committed));

  // Resumable: a second run finds every cell finished and only rewrites the summaries.
  const again = murphy("experiment", "reduced", "--out", out, "--runs-dir", runs, "--json");
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(again.last.ran, []);
  assert.deepEqual([...again.last.skipped].sort(), cellsOf(spec).map((c) => c.id).sort());
  assert.match(again.stderr, /0 cell\(s\) to run, 2 finished already/);
});
