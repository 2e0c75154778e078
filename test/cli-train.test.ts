/**
 * `murphy train` end to end, as a user runs it: a two-step MURPHY run from a tiny checkpoint on
 * the kit's own tasks writes config.json, one documented metrics line per step (the last with
 * the evaluation) and a checkpoint that loads and says which step it holds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { selectBackend } from "../src/backend";
import { metricInfo } from "../src/murphy/metrics";
import { loadPolicy } from "../src/model/store";
import { readJsonl } from "../src/util/files";
import { makeTinyBase } from "./helpers/tiny-base";
import { tempDir } from "./helpers/temp";

const ROOT = path.join(__dirname, "..");

test("murphy train --set steps=2: config.json, documented metrics per step, a checkpoint that loads", { timeout: 900_000 }, async () => {
  await selectBackend();
  const base = await makeTinyBase(5);
  const out = path.join(tempDir("murphy-cli-train-"), "run");
  const set = [
    "steps=2", "tasksPerStep=1", "groupSize=2", "turns=2", "childrenPerFailed=2", "sampling.maxNewTokens=12",
    "eval.every=0", "eval.limit=2", "eval.turns=2", "eval.probeTasks=1", "checkpointEvery=0", `initCheckpoint=${base.dir}`,
  ].flatMap((s) => ["--set", s]);
  const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "murphy.js"), "train", "--config", "configs/murphy-mars.json", ...set, "--out", out, "--json"], {
    cwd: ROOT, encoding: "utf8", timeout: 840_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const last = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(last.steps, 2);

  const { config, meta } = JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"));
  assert.equal(config.steps, 2);
  assert.equal(config.groupSize, 2);
  assert.equal(config.credit.strategy, "mars", "the preset's fields are kept under the overrides");
  assert.equal(meta.configFile, path.join("configs", "murphy-mars.json"));
  assert.ok(meta.overrides.includes("steps=2"));

  const metrics = readJsonl<Record<string, number>>(path.join(out, "metrics.jsonl"));
  assert.deepEqual(metrics.map((m) => m.step), [1, 2]);
  for (const m of metrics) {
    for (const name of Object.keys(m)) assert.ok(metricInfo(name), `metrics.jsonl has ${name}, which src/murphy/metrics.ts does not document`);
    for (const name of ["reward/mean", "turn1/reward_mean", "tokens/sampled", "tokens/trained", "tokens/forwarded_grad", "tokens/forwarded_no_grad", "optimizer/lr", "step/examples", "time/rollout_s", "time/update_s"]) {
      assert.equal(typeof m[name], "number", `step ${m.step}: ${name}`);
    }
    assert.ok(m["tokens/sampled"] > 0);
  }
  // Drift at step 1 and at the last step; the evaluation only after the last (eval.every = 0).
  assert.equal(typeof metrics[0]["kl/start"], "number");
  assert.equal(metrics[0]["eval/iter1_pass1"], undefined);
  assert.equal(typeof metrics[1]["eval/iter1_pass1"], "number");
  assert.equal(typeof metrics[1]["eval/iter2_pass1"], "number");
  assert.deepEqual(last.final, metrics[1]);

  const saved = loadPolicy(path.join(out, "checkpoint"));
  try {
    assert.deepEqual(saved.state, { step: 2, config });
    assert.ok(saved.optimizer && saved.optimizer.size > 0, "the optimizer state is saved for --resume");
    assert.equal(saved.model.config.dModel, 32, "the checkpoint holds the tiny model it started from");
  } finally {
    saved.model.dispose();
    if (saved.optimizer) for (const t of saved.optimizer.values()) t.dispose();
  }
});
