import { test } from "node:test";
import assert from "node:assert/strict";
import { CONFIG_FIELDS, makeConfig } from "../src/murphy/config";
import { stageOptions } from "../src/murphy/stage-options";
import type { FieldRule } from "../src/util/fields";

// A config whose values differ from the defaults and from each other where they can, so a field
// mapped to the wrong option shows up.
const PARTIAL = {
  seed: 7, steps: 30, tasksPerStep: 5, groupSize: 6, turns: 3, childrenPerFailed: 2,
  reward: { binary: true },
  credit: { strategy: "mers", gamma: 0.8, keepOwn: false },
  advantage: { scale: "none", eps: 0.001, std: "sample", group: "turn", over: "kept" },
  intraPrune: { enabled: true, zeroVarianceTolerance: 0.01, maxPerGroup: 3 },
  interPrune: { enabled: true, maxSubtrees: 4, skipExpansion: true },
  sampling: { temperature: 0.7, topK: 11, topP: 0.9, maxNewTokens: 48 },
  loss: { epsLow: 0.1, epsHigh: 0.28, beta: 0.04, updateEpochs: 2, normalization: "sequence" },
  optimizer: { lr: 3e-4, warmupSteps: 5, beta2: 0.99, clipNorm: 0.5, weightDecay: 0.01 },
  eval: { every: 4, turns: 5, limit: 9, split: "test", probeTasks: 3, probeEvery: 2 },
  microBatchSize: 12, checkpointEvery: 6, initCheckpoint: "somewhere", suite: "feedback",
  sandbox: { timeoutMs: 500 },
};

test("stageOptions: every stage gets the fields written out here by hand", () => {
  const sampling = { temperature: 0.7, topK: 11, topP: 0.9, maxNewTokens: 48 };
  assert.deepEqual(stageOptions(makeConfig(PARTIAL)), {
    sampling,
    rollout: { ...sampling, groupSize: 6, turns: 3, childrenPerFailed: 2, binary: true, maxExpandedPerGroup: 4 },
    score: {
      credit: { strategy: "mers", gamma: 0.8, keepOwn: false },
      advantage: { scale: "none", eps: 0.001, std: "sample", group: "turn", over: "kept" },
      intraPrune: { enabled: true, zeroVarianceTolerance: 0.01, maxPerGroup: 3 },
      interPrune: { enabled: true, maxSubtrees: 4, skipExpansion: true },
    },
    optimizer: { learningRate: 3e-4, beta2: 0.99, weightDecay: 0.01 },
    update: {
      loss: { epsLow: 0.1, epsHigh: 0.28, beta: 0.04, normalization: "sequence", maxTokens: 48 },
      updateEpochs: 2,
      microBatchSize: 12,
      temperature: 0.7,
      clipNorm: 0.5,
    },
    metrics: { turns: 3, zeroVarianceTolerance: 0.01, group: "turn" },
    eval: { ...sampling, turns: 5, samples: 1 },
    drift: { microBatchSize: 12, temperature: 0.7 },
  });
});

test("stageOptions: the 'off' values (topK 0, topP 1, clipNorm 0, no skipExpansion) become undefined", () => {
  const options = stageOptions(makeConfig({ sampling: { topK: 0, topP: 1 }, optimizer: { clipNorm: 0 }, interPrune: { enabled: true, skipExpansion: false } }));
  assert.equal(options.sampling.topK, undefined);
  assert.equal(options.sampling.topP, undefined);
  assert.equal(options.rollout.topK, undefined);
  assert.equal(options.eval.topP, undefined);
  assert.equal(options.update.clipNorm, undefined);
  assert.equal(options.rollout.maxExpandedPerGroup, undefined);
});

/** Fields no stage option depends on, and who reads them instead. */
const NOT_STAGE_OPTIONS: Record<string, string> = {
  seed: "callers derive each stage's seed from it (per step, per evaluation)",
  steps: "the training loop",
  tasksPerStep: "step-batch.ts tasksOfStep",
  "optimizer.warmupSteps": "trainer.ts learningRateAt (the per-step schedule)",
  "eval.every": "the trainer's evaluation schedule",
  "eval.limit": "which tasks are evaluated (cli/train.ts)",
  "eval.split": "which tasks are evaluated (cli/train.ts)",
  "eval.probeTasks": "drift.ts (the probe set)",
  "eval.probeEvery": "drift.ts (the drift schedule)",
  checkpointEvery: "run-folder.ts",
  initCheckpoint: "run-folder.ts",
  suite: "which tasks are loaded",
  "sandbox.timeoutMs": "the sandbox pool",
};

/** A valid value of `rule` other than `current`. */
function another(rule: FieldRule, current: unknown): unknown {
  switch (rule.kind) {
    case "integer":
      return rule.max !== undefined && (current as number) + 1 > rule.max ? (current as number) - 1 : (current as number) + 1;
    case "number":
      return (current as number) === 0.5 ? 0.25 : 0.5;
    case "boolean":
      return !current;
    case "enum":
      return rule.values.find((v) => v !== current);
    case "string":
      return `${current}-other`;
  }
}

test("stageOptions: changing any field changes some stage's options, except the fields listed with their reader", () => {
  // skipExpansion off, so that InterP itself can be switched off (skipExpansion needs it on).
  const baseOverrides = ["interPrune.skipExpansion=false"];
  const base = makeConfig(PARTIAL, baseOverrides);
  const before = JSON.stringify(stageOptions(base));
  for (const field of CONFIG_FIELDS) {
    const [group, key] = field.path.split(".");
    const current = key ? (base as unknown as Record<string, Record<string, unknown>>)[group][key] : (base as unknown as Record<string, unknown>)[group];
    const changed = makeConfig(PARTIAL, [...baseOverrides, `${field.path}=${JSON.stringify(another(field.rule, current))}`]);
    const after = JSON.stringify(stageOptions(changed));
    if (field.path in NOT_STAGE_OPTIONS) assert.equal(after, before, `${field.path} is listed as no stage's option, but changing it changed ${after}`);
    else assert.notEqual(after, before, `${field.path} reaches no stage option: map it in stage-options.ts or list it in NOT_STAGE_OPTIONS with its reader`);
  }
});
