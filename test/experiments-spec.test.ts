import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cellConfigHash, cellsOf, loadSpec, parseSpec, resolveConfig, stableJson, tasksHash } from "../src/experiments/spec";
import { loadSplit } from "../src/tasks/load";
import { cellInputs, cellPaths, copyCell, findEquivalentCell } from "../src/experiments/cell-result";
import { planCells } from "../src/experiments/runner";
import { decideCell, restampText } from "../scripts/migrate-tasks-hash";

const minimal = () => ({
  name: "demo",
  seeds: [3, 4],
  set: { steps: 2, tasksPerStep: 3, "sampling.temperature": 0.9 },
  methods: [{ name: "base" }, { name: "mars", config: "configs/murphy-mars.json", set: { turns: 3, tasksPerStep: 5 } }],
});

test("the committed specs load, with the cells the issue asks for", () => {
  const headline = loadSpec("headline");
  assert.deepEqual(headline.methods.map((m) => m.name), ["base", "grpo-matched", "murphy-mars", "murphy-mars-g1", "murphy-mers"]);
  assert.ok(headline.seeds.length >= 3);
  assert.equal(headline.eval.split, "test");
  assert.equal(headline.eval.turns, 3);
  assert.equal(headline.eval.samples, 4);
  assert.equal(headline.eval.trainingTemperature, 1);
  assert.equal(cellsOf(headline).length, 5 * headline.seeds.length);
  const gammas = headline.methods.slice(2).map((m) => resolveConfig(headline, m, 0)!.credit);
  assert.deepEqual(gammas.map((c) => [c.strategy, c.gamma]), [["mars", 0.9], ["mars", 1], ["mers", 0.9]]);
  const pruning = loadSpec("pruning");
  const flags = pruning.methods.map((m) => {
    const c = resolveConfig(pruning, m, 0)!;
    return [m.name, c.intraPrune.enabled, c.interPrune.enabled, c.credit.strategy];
  });
  assert.deepEqual(flags, [["none", false, false, "mars"], ["intra", true, false, "mars"], ["inter", false, true, "mars"], ["both", true, true, "mars"]]);
  const turns = loadSpec("turns");
  assert.deepEqual(turns.methods.map((m) => resolveConfig(turns, m, 0)!.turns), [1, 2, 3]);
  assert.equal(loadSpec("quick").seeds.length, 1);
  assert.equal(loadSpec("reduced").set.steps, 1);
});

test("resolution order: method file, eval.every=0, shared set, method set, seed; base checkpoint from the spec", () => {
  const spec = parseSpec(minimal(), "demo.json");
  const mars = spec.methods[1];
  const config = resolveConfig(spec, mars, 4)!;
  assert.equal(config.turns, 3); // method set over the file's 2
  assert.equal(config.tasksPerStep, 5); // method set over shared 3
  assert.equal(config.steps, 2); // shared set
  assert.equal(config.sampling.temperature, 0.9);
  assert.equal(config.eval.every, 0);
  assert.equal(config.seed, 4);
  assert.equal(config.initCheckpoint, "data/checkpoints/base");
  assert.equal(resolveConfig(spec, spec.methods[0], 4), null);
  assert.deepEqual(cellsOf(spec).map((c) => c.id), ["base-s3", "base-s4", "mars-s3", "mars-s4"]);
  assert.deepEqual(cellsOf(spec, 1).map((c) => c.id), ["base-s3", "mars-s3"]);
  assert.deepEqual(spec.eval, { split: "test", turns: 3, samples: 1, temperature: 0.7, maxNewTokens: 96, limit: 0, trainingTemperature: null });
});

test("config hashes: stable for equal inputs, different for another seed, setting or eval", () => {
  const spec = parseSpec(minimal(), "demo.json");
  const [, , mars3, mars4] = cellsOf(spec);
  assert.equal(cellConfigHash(spec, mars3), cellConfigHash(parseSpec(minimal(), "other.json"), mars3));
  assert.notEqual(cellConfigHash(spec, mars3), cellConfigHash(spec, mars4));
  const changed = parseSpec({ ...minimal(), set: { ...minimal().set, steps: 3 } }, "demo.json");
  assert.notEqual(cellConfigHash(spec, mars3), cellConfigHash(changed, cellsOf(changed)[2]));
  const otherEval = parseSpec({ ...minimal(), eval: { limit: 7 } }, "demo.json");
  assert.notEqual(cellConfigHash(spec, mars3), cellConfigHash(otherEval, cellsOf(otherEval)[2]));
  assert.equal(stableJson({ b: 1, a: [{ d: 2, c: 1 }] }), stableJson({ a: [{ c: 1, d: 2 }], b: 1 }));
});

test("bad specs: errors name the file, the field and what is expected", () => {
  const bad = (patch: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => parseSpec({ ...minimal(), ...patch }, "configs/experiments/demo.json"), pattern);
  bad({ seeds: [] }, /configs\/experiments\/demo\.json: field "seeds" must be a non-empty list of distinct integers >= 0 \(got \[\]\)/);
  bad({ seeds: [1, 1] }, /field "seeds" must be a non-empty list of distinct integers/);
  bad({ steps: 4 }, /field "steps" must be absent: unknown field \(known: name, description/);
  bad({ methods: [{ name: "x", config: "configs/nope.json" }] }, /field "methods\[0\]\.config" must be an existing method config file/);
  bad({ methods: [{ name: "base", config: "configs/grpo.json" }] }, /field "methods\[0\]\.config" must be absent for the method "base"/);
  bad({ methods: [{ name: "Mars!", config: "configs/grpo.json" }] }, /field "methods\[0\]\.name" must be lower-case letters/);
  bad({ methods: [{ name: "a", config: "configs/grpo.json" }, { name: "a", config: "configs/grpo.json" }] }, /field "methods" must be methods with distinct names \(got "a"\)/);
  bad({ methods: [{ name: "a", config: "configs/grpo.json", paperMethod: "PPO" }] }, /field "methods\[0\]\.paperMethod" must be one of GRPO, MURPHY/);
  bad({ set: { seed: 1 } }, /field "set\.seed" must be absent \(seeds come from the field "seeds"\)/);
  bad({ eval: { split: "dev" } }, /field "eval\.split" must be "train", "validation" or "test" \(got "dev"\)/);
  bad({ eval: { turns: 0 } }, /field "eval\.turns" must be an integer >= 1 \(got 0\)/);
  bad({ eval: { k: 2 } }, /field "eval\.k" must be absent: unknown field/);
  bad({ comparisons: [{ method: "mars", baseline: "grpo" }] }, /field "comparisons\[0\]" must be \{method, baseline\}: two different method names of this spec \(base, mars\)/);
  bad({ figures: ["violin"] }, /field "figures" must be a list of iterk, learning, pruning, turns, repair, paper/);
  bad({ methods: [{ name: "mars", config: "configs/murphy-mars.json" }], figures: ["paper"] }, /without "paper" unless a method "base" exists/);
  // A bad config value is reported with the spec file and the method.
  bad({ set: { steps: 0 } }, /configs\/experiments\/demo\.json: method "mars": config\.steps must be an integer >= 1 \(got 0\)/);
  bad({ set: { tunrs: 2 } }, /method "mars": config\.tunrs is not a known field \(did you mean config\.turns\?\)/);
  assert.throws(() => loadSpec("no-such-experiment"), /experiment spec configs\/experiments\/no-such-experiment\.json not found \(known experiments: .*headline/);
});

test("a spec's name must equal its file name", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-spec-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "other.json");
  fs.writeFileSync(file, JSON.stringify(minimal()));
  assert.throws(() => loadSpec(file), /field "name" must equal the file name "other" \(got "demo"\)/);
  fs.writeFileSync(file, "{ not json");
  assert.throws(() => loadSpec(file), /other\.json: not valid JSON/);
});

test("tasksHash: the task files the loader reads, not the manifest, the README or another suite's folder", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-tasks-hash-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const task = (id: string) =>
    JSON.stringify({ id, family: "arith", difficulty: 1, description: "add one", signature: "(x)", visible: [1, 2].map((x) => ({ input: [x], expected: x + 1 })), hidden: [3, 4, 5, 6, 7, 8].map((x) => ({ input: [x], expected: x + 1 })), reference: "(x) => x + 1" }) + "\n";
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  write("train-00.jsonl", task("train-00000"));
  write("train-01.jsonl", task("train-00001"));
  write("validation.jsonl", task("validation-00000"));
  write("test.jsonl", task("test-00000"));
  const manifest = (command: string) => JSON.stringify({ format: "murphy-tasks", regenerate: command }, null, 2) + "\n";
  write("manifest.json", manifest("node --import tsx src/tasks/generate.ts --seed 1"));
  write("README.md", "# tasks\n");
  assert.equal(loadSplit(dir, "train").length, 2, "the folder is a suite the loader reads");
  const original = tasksHash(dir);
  assert.match(original, /^[0-9a-f]{16}$/);

  write("manifest.json", manifest("node --import tsx src/taskgen/generate.ts --seed 1"));
  write("README.md", "# tasks, described anew\n");
  write("feedback/test.jsonl", task("test-00001"));
  write("notes.jsonl", task("test-00002"));
  assert.equal(tasksHash(dir), original, "manifest.json, README.md, subfolders and files that are no split are not tasks");

  write("test.jsonl", task("test-00009"));
  assert.notEqual(tasksHash(dir), original, "a changed task changes the hash");
  write("test.jsonl", task("test-00000"));
  assert.equal(tasksHash(dir), original);
  write("train-02.jsonl", task("train-00002"));
  assert.notEqual(tasksHash(dir), original, "an added shard changes the hash");
  fs.rmSync(path.join(dir, "train-02.jsonl"));
  fs.rmSync(path.join(dir, "validation.jsonl"));
  assert.throws(() => tasksHash(dir), /no files for split "validation"/);
});

test("migrate-tasks-hash: only cells holding the old manifest hash of unchanged task files are restamped, nothing else in cell.json", () => {
  const unchanged = { old: "0ld0ld0ld0ld0ld0", now: "1234567890abcdef", filesUnchanged: true };
  assert.deepEqual(decideCell("0ld0ld0ld0ld0ld0", unchanged), { action: "restamp" });
  assert.deepEqual(decideCell("1234567890abcdef", unchanged), { action: "current" }, "a second run leaves restamped cells as they are");
  assert.equal(decideCell("ffffffffffffffff", unchanged).action, "leave", "a cell that ran on other tasks");
  assert.equal(decideCell("0ld0ld0ld0ld0ld0", { ...unchanged, filesUnchanged: false }).action, "leave", "the task files changed since");
  assert.equal(decideCell("0ld0ld0ld0ld0ld0", { now: unchanged.now, filesUnchanged: false }).action, "leave", "no manifest at the commit");

  const text = JSON.stringify({ cell: "base-s0", iterPass1: [0.5, 0.6], configHash: "0ld0ld0ld0ld0ld0", tasksHash: "0ld0ld0ld0ld0ld0" }, null, 2) + "\n";
  const out = restampText(text, "0ld0ld0ld0ld0ld0", "1234567890abcdef", "cell.json");
  assert.equal(out, text.replace('"tasksHash": "0ld0ld0ld0ld0ld0"', '"tasksHash": "1234567890abcdef"'), "the same formatting, configHash untouched");
  assert.throws(() => restampText(out, "0ld0ld0ld0ld0ld0", "1234567890abcdef", "x/cell.json"), /x\/cell\.json: expected the field "tasksHash" once with the value "0ld0ld0ld0ld0ld0"/);
});

test("planning: finished cells are skipped, cells with other inputs run again, --only filters", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-plan-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, "demo.json");
  fs.writeFileSync(file, JSON.stringify(minimal()));
  const spec = loadSpec(file);
  const resultsDir = path.join(dir, "results");
  const runsDir = path.join(dir, "runs");
  const [, , mars3, mars4] = cellsOf(spec);
  const finish = (cell: typeof mars3, inputs: object) => {
    const out = cellPaths(resultsDir, runsDir, cell.id).resultDir;
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, "cell.json"), JSON.stringify({ cell: cell.id, ...inputs }));
  };
  finish(mars3, cellInputs(spec, mars3));
  finish(mars4, { ...cellInputs(spec, mars4), configHash: "0000000000000000" });
  const lines: string[] = [];
  const plan = planCells(spec, {}, resultsDir, runsDir, (l) => lines.push(l));
  assert.deepEqual(plan.skipped, ["mars-s3"]);
  assert.deepEqual(plan.todo.map((c) => c.id), ["base-s3", "base-s4", "mars-s4"]);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /cell mars-s4 ran with other inputs \(config 0000000000000000 -> [0-9a-f]{16}\); running it again/);
  assert.deepEqual(planCells(spec, { only: ["mars"] }, resultsDir, runsDir, () => {}).todo.map((c) => c.id), ["mars-s4"]);
  assert.deepEqual(planCells(spec, { only: ["base-s4"] }, resultsDir, runsDir, () => {}).todo.map((c) => c.id), ["base-s4"]);
  assert.deepEqual(planCells(spec, { limitSeeds: 1 }, resultsDir, runsDir, () => {}).todo.map((c) => c.id), ["base-s3"]);
  assert.throws(() => planCells(spec, { only: ["grpo"] }, resultsDir, runsDir, () => {}), /--only grpo: no such cell or method \(cells: base-s3, base-s4, mars-s3, mars-s4\)/);
});

test("reuse: a finished cell of another experiment with the same inputs and code is found and copied, relabelled", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-reuse-"));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const specFile = path.join(root, "demo.json");
  fs.writeFileSync(specFile, JSON.stringify(minimal()));
  const spec = loadSpec(specFile);
  // "twin" trains exactly what demo's "mars" trains: same file, same overrides.
  const twinSpec = parseSpec({ ...minimal(), name: "twin", methods: [{ name: "same", config: "configs/murphy-mars.json", set: { turns: 3, tasksPerStep: 5 } }] }, "twin.json");
  const mars3 = cellsOf(spec)[2];
  const same3 = cellsOf(twinSpec)[0];
  assert.equal(cellConfigHash(spec, mars3), cellConfigHash(twinSpec, same3), "the method's name is not part of the hash");
  const code = { gitCommit: "c0ffee", gitDirty: false, sourceTree: "tree1" };
  const inputs = cellInputs(spec, mars3);
  const sourceDir = path.join(root, "results", "demo", "cells", "mars-s3");
  const write = (dir: string, extra: object) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "cell.json"), JSON.stringify({ experiment: "demo", cell: path.basename(dir), method: "mars", seed: 3, iterPass1: [0.25, 0.5], ...inputs, ...code, ...extra }));
    fs.writeFileSync(path.join(dir, "metrics.jsonl"), '{"step":1}\n');
    fs.writeFileSync(path.join(dir, "eval.jsonl"), '{"taskId":"t"}\n');
  };
  write(sourceDir, {});
  const target = path.join(root, "results", "twin", "cells", "same-s3");
  const found = findEquivalentCell(path.join(root, "results"), cellInputs(twinSpec, same3), target, code);
  assert.equal(found?.dir, sourceDir);
  const copied = copyCell(found!, target, twinSpec, same3);
  assert.deepEqual([copied.experiment, copied.cell, copied.method, copied.copiedFrom, copied.iterPass1], ["twin", "same-s3", "same", "demo/mars-s3", [0.25, 0.5]]);
  assert.equal(fs.readFileSync(path.join(target, "eval.jsonl"), "utf8"), '{"taskId":"t"}\n');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(target, "cell.json"), "utf8")).copiedFrom, "demo/mars-s3");
  // Not a source: other code, uncommitted code, other inputs, or a copy itself.
  const lookup = () => findEquivalentCell(path.join(root, "results"), cellInputs(twinSpec, same3), path.join(root, "results", "twin", "cells", "same-s3-again"), code);
  fs.rmSync(path.join(root, "results", "twin"), { recursive: true });
  for (const extra of [{ sourceTree: "tree2" }, { gitDirty: true }, { configHash: "0000000000000000" }, { baseCheckpointHash: "ffff" }, { copiedFrom: "x/y" }]) {
    write(sourceDir, extra);
    assert.equal(lookup(), undefined, `reused a source with ${JSON.stringify(extra)}`);
  }
  write(sourceDir, {});
  assert.ok(lookup());
  assert.equal(findEquivalentCell(path.join(root, "results"), cellInputs(twinSpec, same3), "", { ...code, gitDirty: true }), undefined, "no reuse while the current code is uncommitted");
});

test("eval.trainingTemperature: null (default) or a number > 0, with a clear error", () => {
  const base = { name: "t", seeds: [0], methods: [{ name: "base" }] };
  assert.equal(parseSpec({ ...base, eval: { trainingTemperature: 1 } }, "t.json").eval.trainingTemperature, 1);
  assert.throws(() => parseSpec({ ...base, eval: { trainingTemperature: 0 } }, "t.json"), /t\.json.*eval\.trainingTemperature.*null or a number > 0/);
});
