import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { makeConfig, loadConfig, type Config } from "../src/murphy/config";
import { train } from "../src/murphy/trainer";
import { metricInfo } from "../src/murphy/metrics";
import { loadPolicy } from "../src/model/store";
import { SandboxPool } from "../src/sandbox/pool";
import type { Task } from "../src/tasks/types";
import { makeTinyBase } from "./helpers/tiny-base";
import { tempDir } from "./helpers/temp";

let base: { dir: string; tasks: Task[] };
const pool = new SandboxPool();
const quiet = () => {};

before(async () => {
  await selectBackend();
  base = await makeTinyBase();
});
after(() => pool.close());

function tinyConfig(extra: Record<string, unknown> = {}, overrides: string[] = []): Config {
  return makeConfig(
    {
      steps: 3,
      tasksPerStep: 2,
      groupSize: 4,
      turns: 2,
      childrenPerFailed: 2,
      sampling: { temperature: 1, maxNewTokens: 40 },
      optimizer: { lr: 3e-3 },
      eval: { every: 0 },
      checkpointEvery: 1,
      microBatchSize: 5,
      initCheckpoint: base.dir,
      ...extra,
    },
    overrides,
  );
}

const tmp = () => tempDir("murphy-train-");
/** Metrics without wall-clock fields, which differ between runs. */
const stable = (ms: Record<string, number>[]) => ms.map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith("time/"))));
const run = (config: Config, out: string, extra: Partial<Parameters<typeof train>[0]> = {}) =>
  train({ config, out, trainTasks: base.tasks, evalTasks: base.tasks, runner: pool, log: quiet, ...extra });

function weightsOf(dir: string): Map<string, Float32Array> {
  const saved = loadPolicy(dir);
  const out = new Map([...saved.model.weights].map(([k, v]) => [k, v.dataSync() as Float32Array]));
  saved.model.dispose();
  return out;
}

test("trainer: the rollouts have reward variance, the update changes the weights, metrics are complete", async () => {
  const out = tmp();
  const result = await run(tinyConfig(), out);
  result.model.dispose();
  assert.equal(result.metrics.length, 3);
  const all = result.metrics;
  assert.ok(all.some((m) => m["reward/std"] > 0), "some rewards differ, so advantages are not all zero");
  for (const m of all) {
    for (const key of ["reward/mean", "turn1/solved", "turn2/solved", "tokens/sampled", "tokens/forwarded_grad", "tokens/forwarded_no_grad", "step/skipped_nonfinite", "loss"]) {
      assert.ok(Number.isFinite(m[key]), `${key} = ${m[key]}`);
    }
    assert.ok(m["tokens/forwarded_grad"] > m["tokens/trained"], "forwarded with gradient includes the prompts");
    for (const name of Object.keys(m)) assert.ok(metricInfo(name), `metric "${name}" is documented in src/murphy/metrics.ts`);
  }
  const lines = fs.readFileSync(path.join(out, "metrics.jsonl"), "utf8").trim().split("\n");
  assert.equal(lines.length, 3);
  const before = weightsOf(base.dir);
  const after = weightsOf(path.join(out, "checkpoint"));
  assert.ok([...before].some(([k, v]) => v.some((x, i) => x !== after.get(k)![i])), "training moved the weights");
});

test("trainer: same seed, same metrics; a run resumed after step 1 continues exactly", async () => {
  const config = tinyConfig();
  const a = await run(config, tmp());
  const b = await run(config, tmp());
  a.model.dispose();
  b.model.dispose();
  assert.deepEqual(stable(b.metrics), stable(a.metrics));

  const out = tmp();
  const first = await run(config, out, { stopAfterSteps: 1 });
  first.model.dispose();
  assert.equal(first.step, 1);
  const resumed = await run(config, out, { resume: true });
  resumed.model.dispose();
  assert.equal(resumed.step, 3);
  assert.deepEqual(stable(resumed.metrics), stable(a.metrics));
});

test("trainer: a non-finite loss skips the step, is counted, and never reaches a checkpoint", async () => {
  const out = tmp();
  const config = tinyConfig({ steps: 2 });
  const first = await run(config, out, { stopAfterSteps: 1 });
  first.model.dispose();
  const afterStep1 = weightsOf(path.join(out, "checkpoint"));
  const result = await run(config, out, { resume: true, poisonStep: 2 });
  result.model.dispose();
  assert.equal(result.metrics[1]["step/skipped_nonfinite"], 1);
  assert.equal(result.metrics[0]["step/skipped_nonfinite"], 0);
  const afterStep2 = weightsOf(path.join(out, "checkpoint"));
  for (const [name, values] of afterStep2) {
    assert.ok(values.every(Number.isFinite), `${name} is finite`);
    assert.deepEqual(values, afterStep1.get(name), `${name} unchanged by the skipped step`);
  }
});

test("trainer: MURPHY with one turn and no pruning is exactly GRPO (same metrics, same weights)", async () => {
  const common = { ...JSON.parse(JSON.stringify(tinyConfig({ steps: 2 }))) };
  delete common.childrenPerFailed;
  const grpoOut = tmp();
  const murphyOut = tmp();
  const grpo = loadConfig("configs/grpo.json", Object.entries(flatten(common)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).concat(["turns=1"]));
  const murphy = loadConfig("configs/murphy-mars.json", Object.entries(flatten(common)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).concat(["turns=1"]));
  assert.equal(murphy.credit.strategy, "mars");
  const g = await run(grpo, grpoOut);
  const m = await run(murphy, murphyOut);
  g.model.dispose();
  m.model.dispose();
  assert.deepEqual(stable(m.metrics), stable(g.metrics));
  assert.deepEqual(weightsOf(path.join(murphyOut, "checkpoint")), weightsOf(path.join(grpoOut, "checkpoint")));
});

test("trainer: no tensor growth across training steps", async () => {
  const config = tinyConfig({ steps: 1 });
  const warm = await run(config, tmp());
  warm.model.dispose();
  const before = tf.memory().numTensors;
  const again = await run(tinyConfig({ steps: 2 }), tmp());
  again.model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

function flatten(obj: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === "object" && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = v;
  }
  return out;
}
