/**
 * Selecting a task suite: `--suite` on the CLI, the config field `suite`, an experiment spec's
 * `suite`. The main suite stays the default everywhere, and results made before suites existed
 * keep their config hashes and records.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { defaultConfig, makeConfig } from "../src/murphy/config";
import { cellConfigHash, cellsOf, loadSpec, parseSpec, recordedConfig, resolveConfig, specSuite, tasksHash } from "../src/experiments/spec";
import { cellInputs, readCellResult, staleReason } from "../src/experiments/cell-result";
import { suiteDir } from "../src/tasks/suites";
import { TASKS_DIR } from "../src/paths";

const ROOT = path.join(__dirname, "..");
function murphy(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const minimal = (extra: Record<string, unknown> = {}) => ({
  name: "demo",
  seeds: [3],
  set: { steps: 2 },
  methods: [{ name: "base" }, { name: "mars", config: "configs/murphy-mars.json" }],
  ...extra,
});

test("suites: names map to folders; unknown names are errors", () => {
  assert.equal(suiteDir("default"), TASKS_DIR);
  assert.equal(suiteDir("feedback"), path.join(TASKS_DIR, "feedback"));
  assert.throws(() => suiteDir("hard"), /unknown task suite "hard" \(expected one of default, feedback\)/);
});

test("config field suite: default 'default', validated", () => {
  assert.equal(defaultConfig().suite, "default");
  assert.equal(makeConfig({}, ["suite=feedback"]).suite, "feedback");
  assert.throws(() => makeConfig({ suite: "hard" }, [], "x.json"), { message: 'config.suite must be one of "default", "feedback" (got "hard") in x.json' });
});

test("experiment specs: the field suite reaches every cell's config and hash; set.suite is refused", () => {
  const plain = parseSpec(minimal(), "demo.json");
  const feedback = parseSpec(minimal({ suite: "feedback" }), "demo.json");
  assert.equal(plain.suite, undefined, "absent unless given, so older resolved specs are unchanged");
  assert.equal(specSuite(plain), "default");
  assert.equal(specSuite(feedback), "feedback");
  assert.equal(resolveConfig(plain, plain.methods[1], 3)!.suite, "default");
  assert.equal(resolveConfig(feedback, feedback.methods[1], 3)!.suite, "feedback");
  const [base, mars] = cellsOf(plain);
  const [fbBase, fbMars] = cellsOf(feedback);
  assert.notEqual(cellConfigHash(plain, base), cellConfigHash(feedback, fbBase), "the base method evaluates on the spec's suite");
  assert.notEqual(cellConfigHash(plain, mars), cellConfigHash(feedback, fbMars));
  assert.notEqual(tasksHash(suiteDir("default")), tasksHash(suiteDir("feedback")));
  assert.throws(() => parseSpec(minimal({ suite: "hard" }), "demo.json"), /demo\.json: field "suite" must be one of "default", "feedback" or absent \(got "hard"\)/);
  assert.throws(() => parseSpec(minimal({ set: { suite: "feedback" } }), "demo.json"), /field "set\.suite" must be absent \(the suite comes from the field "suite"\)/);
  assert.throws(
    () => parseSpec(minimal({ methods: [{ name: "mars", config: "configs/murphy-mars.json", set: { suite: "feedback" } }] }), "demo.json"),
    /field "methods\[0\]\.set\.suite" must be absent/,
  );
});

test("results recorded before suites existed stay valid: the default suite is left out of records and hashes", () => {
  const config = resolveConfig(parseSpec(minimal(), "demo.json"), { name: "mars", config: "configs/murphy-mars.json", set: {} }, 3)!;
  const recorded = recordedConfig(config)!;
  assert.equal("suite" in recorded, false);
  assert.equal(recordedConfig({ ...config, suite: "feedback" })!.suite, "feedback");
  assert.equal(recordedConfig(null), null);
  // A committed cell of the headline experiment still matches its inputs.
  const spec = loadSpec("headline");
  for (const cell of cellsOf(spec).filter((c) => c.seed === 0)) {
    const stored = readCellResult(path.join(ROOT, "data", "results", "headline", "cells", cell.id));
    assert.ok(stored, cell.id);
    assert.equal(staleReason(stored, cellInputs(spec, cell)), "", cell.id);
  }
});

test("the feedback experiment: second base, feedback suite, 4 methods x 3 seeds, Iter-1..3 with 4 chains", () => {
  const spec = loadSpec("feedback");
  assert.equal(spec.baseCheckpoint, "data/checkpoints/base-feedback");
  assert.equal(specSuite(spec), "feedback");
  assert.deepEqual(spec.methods.map((m) => m.name), ["base", "grpo-matched", "murphy-mars", "murphy-mers"]);
  assert.deepEqual(spec.seeds, [0, 1, 2]);
  assert.equal(spec.eval.turns, 3);
  assert.equal(spec.eval.samples, 4);
  assert.equal(spec.eval.split, "test");
  const configs = spec.methods.slice(1).map((m) => resolveConfig(spec, m, 0)!);
  assert.deepEqual(configs.map((c) => [c.turns, c.suite, c.credit.strategy]), [[1, "feedback", "mars"], [2, "feedback", "mars"], [2, "feedback", "mers"]]);
});

test("murphy tasks --suite feedback names each task's withheld part; a bad suite is a usage error", () => {
  const r = murphy("tasks", "--suite", "feedback", "--split", "test", "--limit", "3");
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.stdout.match(/^test-\d{5} {2}\[/gm) ?? []).length, 3);
  assert.equal((r.stdout.match(/^ {2}withheld: .+ = .+\(unstated /gm) ?? []).length, 3);
  assert.equal((r.stdout.match(/^ {2}revealed by: /gm) ?? []).length, 3);
  assert.match(r.stdout, /3 of 360 test tasks of the feedback suite shown/);
  const bad = murphy("tasks", "--suite", "hard");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--suite must be one of default, feedback \(got "hard"\)/);
});
