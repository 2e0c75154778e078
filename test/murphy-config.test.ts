import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_FIELDS, defaultConfig, describeConfigFields, loadConfig, makeConfig } from "../src/murphy/config";
import { writeFileAtomic } from "../src/util/files";
import { tempDir } from "./helpers/temp";

const dir = tempDir("murphy-config-");
function configFile(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileAtomic(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

test("defaults are valid, CPU-sized, and resolve childrenPerFailed to groupSize", () => {
  const c = defaultConfig();
  assert.equal(c.tasksPerStep, 8);
  assert.equal(c.groupSize, 4);
  assert.equal(c.turns, 2);
  assert.equal(c.childrenPerFailed, 4);
  assert.equal(c.initCheckpoint, "data/checkpoints/base");
  assert.equal(makeConfig({}, ["groupSize=6"]).childrenPerFailed, 6, "null follows the final groupSize");
  assert.equal(makeConfig({ childrenPerFailed: 2 }, ["groupSize=6"]).childrenPerFailed, 2);
});

test("every field is documented with a meaning and a source, and every default is listed", () => {
  for (const f of CONFIG_FIELDS) {
    assert.ok(f.doc.length > 20, `${f.path} needs a doc`);
    assert.ok(f.source.length > 0, `${f.path} needs a source`);
  }
  const leaves: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (typeof v === "object" && v !== null) walk(v as Record<string, unknown>, p);
      else leaves.push(p);
    }
  };
  walk(defaultConfig() as unknown as Record<string, unknown>, "");
  assert.deepEqual(leaves.sort(), CONFIG_FIELDS.map((f) => f.path).sort());
  const required = ["seed", "steps", "tasksPerStep", "groupSize", "turns", "childrenPerFailed", "reward.binary", "credit.strategy",
    "credit.gamma", "credit.keepOwn", "advantage.scale", "advantage.eps", "intraPrune.enabled", "intraPrune.zeroVarianceTolerance",
    "intraPrune.maxPerGroup", "interPrune.enabled", "interPrune.maxSubtrees", "interPrune.skipExpansion", "sampling.temperature",
    "sampling.topK", "sampling.topP", "sampling.maxNewTokens", "loss.epsLow", "loss.epsHigh", "loss.beta", "loss.updateEpochs",
    "loss.normalization", "optimizer.lr", "optimizer.clipNorm", "optimizer.weightDecay", "eval.every", "eval.turns", "eval.limit",
    "eval.split", "checkpointEvery", "initCheckpoint", "sandbox.timeoutMs"];
  for (const p of required) assert.ok(leaves.includes(p), `missing field ${p}`);
  assert.equal(describeConfigFields().length, CONFIG_FIELDS.length);
});

test("a bad value names the field, the expected value and the file", () => {
  const file = configFile("murphy.json", { turns: 0 });
  assert.throws(() => loadConfig(file), { message: `config.turns must be an integer >= 1 (got 0) in ${file}` });
  const enumFile = configFile("enum.json", { credit: { strategy: "max" } });
  assert.throws(() => loadConfig(enumFile), { message: `config.credit.strategy must be one of "mars", "mers" (got "max") in ${enumFile}` });
  const rangeFile = configFile("range.json", { credit: { gamma: 1.5 } });
  assert.throws(() => loadConfig(rangeFile), { message: `config.credit.gamma must be a number in [0, 1] (got 1.5) in ${rangeFile}` });
  const topP = configFile("topp.json", { sampling: { topP: 0 } });
  assert.throws(() => loadConfig(topP), { message: `config.sampling.topP must be a number in (0, 1] (got 0) in ${topP}` });
  const group = configFile("group.json", { credit: 3 });
  assert.throws(() => loadConfig(group), { message: `config.credit must be an object (got 3) in ${group}` });
  const boolFile = configFile("bool.json", { reward: { binary: "yes" } });
  assert.throws(() => loadConfig(boolFile), /config.reward.binary must be true or false \(got "yes"\)/);
});

test("unknown keys are errors, with a did-you-mean", () => {
  const typo = configFile("typo.json", { credit: { stratgy: "mars" } });
  assert.throws(() => loadConfig(typo), { message: `config.credit.stratgy is not a known field (did you mean config.credit.strategy?) in ${typo}` });
  const level = configFile("level.json", { gamma: 0.9 });
  assert.throws(() => loadConfig(level), /config.gamma is not a known field \(did you mean config.credit.gamma\?\)/);
  const far = configFile("far.json", { zzzzzzzzzzzz: 1 });
  assert.throws(() => loadConfig(far), { message: `config.zzzzzzzzzzzz is not a known field in ${far}` });
  // "_" keys are comments.
  assert.equal(makeConfig({ _comment: "hello", credit: { _note: ["x"] } }).turns, 2);
});

test("files: missing and malformed files name the file", () => {
  assert.throws(() => loadConfig(path.join(dir, "nope.json")), /config file .*nope.json not found/);
  const bad = configFile("bad.json", "{ turns: 2 }");
  assert.throws(() => loadConfig(bad), (e: Error) => e.message.startsWith(`config file ${bad} is not valid JSON (`));
});

test("--set overrides win over the file; errors name the override (parsing: util-fields.test.ts)", () => {
  const file = configFile("base.json", { turns: 3 });
  const c = loadConfig(file, ["credit.gamma=0.9", "eval.split=test", "credit.strategy=mers", "turns=1", 'loss={"beta":0.04}']);
  assert.equal(c.credit.gamma, 0.9);
  assert.equal(c.eval.split, "test");
  assert.equal(c.credit.strategy, "mers");
  assert.equal(c.turns, 1, "overrides win over the file");
  assert.equal(c.loss.beta, 0.04);
  assert.equal(c.loss.epsLow, 0.2, "a group override keeps the other fields");
  assert.throws(() => loadConfig(file, ["turns=abc"]), { message: 'config.turns must be an integer >= 1 (got "abc") in --set turns=abc' });
  assert.throws(() => loadConfig(file, ["credit.gama=0.9"]), { message: "config.credit.gama is not a known field (did you mean config.credit.gamma?) in --set credit.gama=0.9" });
  assert.throws(() => loadConfig(file, ["turns"]), /--set turns: expected key.path=value/);
});

test("combinations: skipExpansion needs InterP on; IntraP needs B >= 2", () => {
  assert.throws(() => makeConfig({ interPrune: { skipExpansion: true } }, [], "x.json"), /config.interPrune.skipExpansion = true needs config.interPrune.enabled = true \(in x.json\)/);
  assert.throws(() => makeConfig({ intraPrune: { enabled: true, maxPerGroup: 1 } }, [], "x.json"), /config.intraPrune.maxPerGroup must be >= 2 when config.intraPrune.enabled = true \(got 1 in x.json\)/);
  assert.equal(makeConfig({ intraPrune: { enabled: false, maxPerGroup: 1 } }).intraPrune.maxPerGroup, 1);
  assert.equal(makeConfig({ interPrune: { enabled: true, skipExpansion: true } }).interPrune.skipExpansion, true);
});

test("presets load and say what they are", () => {
  const presets = ["grpo", "grpo-matched", "murphy-mars", "murphy-mers", "murphy-mars-pruned", "murphy-mers-pruned"];
  const loaded = Object.fromEntries(presets.map((p) => [p, loadConfig(path.join("configs", `${p}.json`))]));
  for (const p of presets) {
    const raw = JSON.parse(fs.readFileSync(path.join("configs", `${p}.json`), "utf8"));
    assert.ok(raw._comment, `${p} has a _comment`);
  }
  assert.equal(loaded["grpo"].turns, 1);
  assert.equal(loaded["grpo-matched"].turns, 1);
  assert.ok(loaded["grpo-matched"].groupSize > loaded["murphy-mars"].groupSize);
  assert.equal(loaded["grpo-matched"].tasksPerStep, loaded["murphy-mars"].tasksPerStep);
  assert.equal(loaded["murphy-mars"].credit.strategy, "mars");
  assert.equal(loaded["murphy-mers"].credit.strategy, "mers");
  for (const p of ["murphy-mars", "murphy-mers"]) {
    assert.equal(loaded[p].turns, 2);
    assert.equal(loaded[p].intraPrune.enabled || loaded[p].interPrune.enabled, false);
  }
  for (const p of ["murphy-mars-pruned", "murphy-mers-pruned"]) {
    assert.ok(loaded[p].intraPrune.enabled && loaded[p].interPrune.enabled, `${p} prunes both ways`);
    assert.equal(loaded[p].credit.strategy, p.includes("mars") ? "mars" : "mers");
  }
});
