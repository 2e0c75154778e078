import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { CONFIG_FIELDS, makeConfig, loadConfig, type Config } from "../src/murphy/config";
import { evalTasksOf } from "../src/cli/train";
import { firstTasks } from "../src/eval/defaults";
import { loadSplit } from "../src/tasks/load";
import { TASKS_DIR } from "../src/paths";
import { learningRateAt, train } from "../src/murphy/trainer";
import { metricInfo } from "../src/murphy/metrics";
import { loadPolicy } from "../src/model/store";
import { SandboxPool } from "../src/sandbox/pool";
import type { Task } from "../src/tasks/types";
import { makeTinyBase } from "./helpers/tiny-base";

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

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "murphy-train-"));
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
    if (m["step/trained_sequences"] > 0) assert.ok(m["tokens/forwarded_grad"] > 0, "trained completions were forwarded with gradient");
    if (m.step === 1) assert.ok(m["kl/update"] >= 0 && Number.isFinite(m["kl/update"]), `kl/update = ${m["kl/update"]}`);
    assert.equal(m["optimizer/lr"], learningRateAt(tinyConfig(), m.step));
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

/**
 * Every config field that only matters once an attempt can be expanded (turns >= 2), and why it
 * cannot change anything at S = 1, where the rollout stops after turn 1 and every candidate is a
 * leaf under the task:
 * - childrenPerFailed (G_s): only sizes the children of an expanded node; nothing is expanded.
 * - credit.strategy / credit.gamma / credit.keepOwn: only used for a node with children
 *   (credit.ts); a leaf's propagated reward is its own reward, R = r, under every setting.
 * - interPrune.enabled / interPrune.maxSubtrees: InterP drops the subtrees below all but K
 *   expanded nodes per parent; with no expanded node it drops nothing.
 * - interPrune.skipExpansion: limits which failed nodes the rollout expands after a turn; the
 *   rollout never reaches an expansion at S = 1.
 * - advantage.group: "siblings" or "turn" differ only for turn >= 2, where repairs of different
 *   parents are pooled; the turn-1 group is the task's G first attempts under both.
 * Not in the list, because they act at S = 1 too: intraPrune.* and advantage.over (GRPO groups
 * are pruned the same way), eval.turns (evaluation is Iter-k for every method), and the rest.
 */
const MULTI_TURN_ONLY: Record<string, unknown> = {
  childrenPerFailed: 3,
  "credit.strategy": "mers",
  "credit.gamma": 0.5,
  "credit.keepOwn": false,
  "interPrune.enabled": true,
  "interPrune.maxSubtrees": 1,
  "interPrune.skipExpansion": true,
  "advantage.group": "turn",
};

test("trainer: MURPHY with one turn is exactly configs/grpo.json, however its multi-turn-only fields are set", async () => {
  const shared = [
    "steps=2", "tasksPerStep=2", "groupSize=4", "sampling.temperature=1", "sampling.maxNewTokens=40", "optimizer.lr=0.003",
    "eval.every=0", "eval.turns=2", "checkpointEvery=1", "microBatchSize=5", `initCheckpoint=${base.dir}`,
  ];
  const grpo = loadConfig("configs/grpo.json", shared);
  const murphy = loadConfig("configs/murphy-mars.json", [...shared, "turns=1", ...Object.entries(MULTI_TURN_ONLY).map(([k, v]) => `${k}=${JSON.stringify(v)}`)]);
  // The two configs differ in exactly the multi-turn-only fields, each set away from GRPO's value.
  const a = flatten(grpo as unknown as Record<string, unknown>);
  const b = flatten(murphy as unknown as Record<string, unknown>);
  const differing = CONFIG_FIELDS.map((f) => f.path).filter((p) => JSON.stringify(a[p]) !== JSON.stringify(b[p]));
  assert.deepEqual(differing.sort(), Object.keys(MULTI_TURN_ONLY).sort());
  assert.equal(grpo.turns, 1);
  assert.equal(murphy.turns, 1);

  const grpoOut = tmp();
  const murphyOut = tmp();
  const g = await run(grpo, grpoOut);
  const m = await run(murphy, murphyOut);
  g.model.dispose();
  m.model.dispose();
  // Not vacuous: the rewards vary, so the update has a gradient, and it moved the weights.
  assert.ok(g.metrics.some((x) => x["reward/std"] > 0));
  const start = weightsOf(base.dir);
  const grpoWeights = weightsOf(path.join(grpoOut, "checkpoint"));
  assert.ok([...start].some(([k, v]) => v.some((x, i) => x !== grpoWeights.get(k)![i])), "GRPO training moved the weights");
  assert.ok(Number.isFinite(g.metrics[1]["eval/iter2_pass1"]), "both runs evaluate at the end");
  assert.deepEqual(stable(m.metrics), stable(g.metrics));
  assert.deepEqual(weightsOf(path.join(murphyOut, "checkpoint")), grpoWeights);
});

test("trainer: optimizer.clipNorm = 0 trains without clipping; eval.every = 0 evaluates after the last step only", async () => {
  const out = tmp();
  const result = await run(tinyConfig({ steps: 2, eval: { every: 0, turns: 1 } }, ["optimizer.clipNorm=0"]), out);
  result.model.dispose();
  for (const mm of result.metrics) assert.ok(Number.isFinite(mm["grad/norm"]) && Number.isFinite(mm["loss"]));
  assert.equal(result.metrics[0]["eval/iter1_pass1"], undefined, "no evaluation before the last step");
  assert.ok(Number.isFinite(result.metrics[1]["eval/iter1_pass1"]), "evaluated after the last step");
  assert.deepEqual(result.metrics.map((mm) => mm["step/skipped_nonfinite"]), [0, 0]);
  const start = weightsOf(base.dir);
  const after = weightsOf(path.join(out, "checkpoint"));
  assert.ok([...start].some(([k, v]) => v.some((x, i) => x !== after.get(k)![i])), "the unclipped updates were applied");
  // An empty evaluation set never evaluates, whatever eval.every says.
  const none = await run(tinyConfig({ steps: 1, eval: { every: 1 } }), tmp(), { evalTasks: [] });
  none.model.dispose();
  assert.equal(none.metrics[0]["eval/iter1_pass1"], undefined);
});

test("murphy train: eval.limit = 0 evaluates the whole split, eval.limit = n the first n tasks", () => {
  const split = loadSplit(TASKS_DIR, "validation");
  assert.equal(evalTasksOf(makeConfig({ eval: { limit: 0, split: "validation" } })).length, split.length);
  assert.deepEqual(evalTasksOf(makeConfig({ eval: { limit: 3, split: "validation" } })).map((t) => t.id), split.slice(0, 3).map((t) => t.id));
  assert.deepEqual(firstTasks([1, 2, 3], 0), [1, 2, 3]);
  assert.deepEqual(firstTasks([1, 2, 3], 2), [1, 2]);
  assert.throws(() => firstTasks([1], -1), /limit must be an integer >= 0, 0 = all \(got -1\)/);
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

test("learning-rate warm-up is linear over warmupSteps, then constant; 0 means none", () => {
  const config = makeConfig({ optimizer: { lr: 1e-3, warmupSteps: 4 } });
  assert.deepEqual([1, 2, 3, 4, 5, 9].map((k) => learningRateAt(config, k)), [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3]);
  assert.equal(learningRateAt(makeConfig({ optimizer: { lr: 1e-3, warmupSteps: 0 } }), 1), 1e-3);
});

test("trainer: kl/start on a probe set saved with the run, at step 1, every probeEvery steps and at the end", async () => {
  const out = tmp();
  const config = tinyConfig({ steps: 3, eval: { every: 0, probeTasks: 2, probeEvery: 2 } });
  const result = await run(config, out, { probeTasks: base.tasks });
  result.model.dispose();
  assert.deepEqual(result.metrics.map((m) => m["kl/start"] !== undefined), [true, true, true]);
  assert.deepEqual(result.metrics.map((m) => m["kl/update"] !== undefined), [true, true, true]);
  const probe = JSON.parse(fs.readFileSync(path.join(out, "probe.json"), "utf8")) as { examples: { taskId: string }[] };
  assert.deepEqual(probe.examples.map((e) => e.taskId), [base.tasks[0].id, base.tasks[0].id, base.tasks[1].id, base.tasks[1].id]);
  // The policy moved (lr 3e-3), so it is measurably away from where it started, and KL >= 0.
  for (const m of result.metrics) assert.ok(m["kl/start"] > 0, `kl/start = ${m["kl/start"]}`);
  const noProbe = await run(tinyConfig({ steps: 1 }), tmp());
  noProbe.model.dispose();
  assert.equal(noProbe.metrics[0]["kl/start"], undefined, "no probe tasks given: no kl/start");
});
