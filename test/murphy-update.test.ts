import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { GPT } from "../src/model/gpt";
import { GptPolicy } from "../src/model/gpt-policy";
import { loadPolicy } from "../src/model/store";
import { AdamW, GradientCapture, maxRelativeGradientDifference } from "../src/model/train";
import { loadConfig } from "../src/murphy/config";
import { sharedPromptBatches } from "../src/murphy/packing";
import type { TrainingExample } from "../src/murphy/pipeline";
import { stepBatch } from "../src/murphy/step-batch";
import { klFromSampler, policyUpdate, type UpdateOptions } from "../src/murphy/update";
import { ROOT, TASKS_DIR } from "../src/paths";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit } from "../src/tasks/load";

before(async () => {
  await selectBackend();
});

const example = (promptIds: number[], completionIds: number[], advantage: number, nodeId = 0): TrainingExample => ({
  taskId: "t",
  nodeId,
  turn: 1,
  promptIds,
  completionIds,
  sampledLogprobs: completionIds.map((_, i) => -0.1 * (i + 1)),
  advantage,
});

const options = (extra: Partial<UpdateOptions> = {}): UpdateOptions => ({
  loss: { epsLow: 0.2, epsHigh: 0.2, beta: 0, normalization: "token" },
  updateEpochs: 1,
  microBatchSize: 4,
  temperature: 1,
  ...extra,
});

test("shared-prompt packing by hand: one prefix per prompt, rows [last prompt token, completion but its last]", () => {
  const pad = 0;
  const batches = sharedPromptBatches([example([1, 2, 3], [7, 8], 1, 0), example([4, 5], [9], -1, 1), example([1, 2, 3], [6], -1, 2)], pad, 8);
  assert.equal(batches.length, 1);
  const b = batches[0];
  // Groups longest first: [1,2,3] (3 + 2 tokens) before [4,5] (2 + 1).
  assert.deepEqual(b.prefixIds, [[1, 2], [4, 0]]);
  assert.deepEqual(b.prefixLengths, [2, 1]);
  assert.deepEqual(b.rowGroup, [0, 0, 1]);
  assert.deepEqual(b.exampleIndex, [0, 2, 1]);
  assert.deepEqual(b.ids, [[3, 7], [3, 0], [5, 0]]);
  assert.deepEqual(b.targets, [[7, 8], [6, 0], [9, 0]]);
  assert.deepEqual(b.positions, [[2, 3], [2, 2], [1, 1]]);
  assert.deepEqual(b.mask, [[1, 1], [1, 0], [1, 0]]);
  assert.deepEqual(b.oldLogprobs, [[-0.1, -0.2], [-0.1, 0], [-0.1, 0]]);
  assert.deepEqual(b.advantages, [1, -1, -1]);
  assert.equal(b.completionTokens, 4);
  assert.equal(b.tokens, 2 + 1 + 2 + 1 + 1); // prefixes once, then max(1, n) per row
});

test("shared-prompt packing splits a group larger than a micro-batch and never mixes more rows than allowed", () => {
  const examples = [0, 1, 2, 3, 4].map((i) => example([1, 2, 3], [5 + i], 1, i)).concat([example([9, 9], [4], 1, 5)]);
  const batches = sharedPromptBatches(examples, 0, 2);
  assert.deepEqual(batches.map((b) => b.ids.length), [2, 2, 2]); // [0,1] [2,3] then the rest of the big group with the small one
  assert.deepEqual(batches.map((b) => b.prefixIds.length), [1, 1, 2]);
  assert.deepEqual(batches.flatMap((b) => b.exampleIndex).sort(), [0, 1, 2, 3, 4, 5]);
  assert.throws(() => sharedPromptBatches([example([], [1], 1)], 0, 2), /empty prompt/);
  assert.throws(() => sharedPromptBatches([{ ...example([1], [1, 2], 1), sampledLogprobs: [0] }], 0, 2), /2 completion tokens but 1 log-probs/);
});

test("GPT.logitsAfterPrefix gives logits() of the whole sequences at the completion positions", () => {
  const model = GPT.create({ vocabSize: 23, blockSize: 32, dModel: 16, nLayer: 2, nHead: 2, mlpRatio: 2 }, 7);
  const sequences = [
    { prompt: [1, 2, 3, 4, 5], completion: [6, 7, 8] },
    { prompt: [1, 2, 3, 4, 5], completion: [9] },
    { prompt: [11, 12], completion: [13, 14, 15, 16] },
  ];
  const b = sharedPromptBatches(sequences.map((s, i) => example(s.prompt, s.completion, 1, i)), 0, 8)[0];
  const viaPrefix = tf.tidy(() => {
    const prefix = model.prefixKeysValues(tf.tensor2d(b.prefixIds, undefined, "int32"));
    return model.logitsAfterPrefix(tf.tensor2d(b.ids, undefined, "int32"), tf.tensor2d(b.positions, undefined, "int32"), prefix, b.rowGroup, b.prefixLengths).arraySync();
  });
  b.exampleIndex.forEach((i, row) => {
    const s = sequences[i];
    const whole = tf.tidy(() => model.logits(tf.tensor2d([[...s.prompt, ...s.completion]], undefined, "int32")).arraySync())[0];
    s.completion.forEach((_, j) => {
      const expected = whole[s.prompt.length - 1 + j]; // the position predicting completion token j
      const got = viaPrefix[row][j];
      const worst = Math.max(...expected.map((x, v) => Math.abs(x - got[v])));
      assert.ok(worst < 1e-5, `row ${row} column ${j}: max |diff| ${worst}`);
    });
  });
  model.dispose();
});

test("zero-advantage completions: skipping them changes neither the gradient nor an all-zero step's momentum update", () => {
  const make = () => GPT.create({ vocabSize: 23, blockSize: 32, dModel: 16, nLayer: 1, nHead: 2, mlpRatio: 2 }, 3);
  const examples = [example([1, 2, 3], [4, 5, 6], 1.5, 0), example([1, 2, 3], [7], -1.5, 1), example([1, 2, 3], [8, 9], 0, 2), example([10, 11], [12], 0, 3)];
  const [a, b] = [make(), make()];
  const [optA, optB] = [new AdamW({ learningRate: 1e-2 }), new AdamW({ learningRate: 1e-2 })];
  const resultA = policyUpdate(a, optA, examples, 0, options({ layout: "per-sequence", skipZeroAdvantage: false }));
  const resultB = policyUpdate(b, optB, examples, 0, options());
  assert.equal(resultB.trainedSequences, 2);
  assert.ok(Math.abs(resultA.epochs[0].loss - resultB.epochs[0].loss) < 1e-6);
  assert.ok(Math.abs(resultA.epochs[0].gradNorm - resultB.epochs[0].gradNorm) < 1e-5 * resultA.epochs[0].gradNorm);
  // A step where every advantage is 0: no forward at all on the fast path, but Adam's momentum still moves both alike.
  const zero = examples.map((e) => ({ ...e, advantage: 0 }));
  policyUpdate(a, optA, zero, 0, options({ layout: "per-sequence", skipZeroAdvantage: false }));
  const skipped = policyUpdate(b, optB, zero, 0, options());
  assert.equal(skipped.trainedSequences, 0);
  assert.equal(skipped.forwardedGrad, 0);
  for (const [name, w] of a.weights) {
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(w, b.weights.get(name)!))).dataSync()[0]);
    assert.ok(diff < 1e-6, `${name}: max |diff| ${diff}`);
  }
  for (const x of [a, b, optA, optB]) x.dispose();
});

test("kl/update: 0 without a weight change, > 0 after one, no tensor growth across an update with it", () => {
  const model = GPT.create({ vocabSize: 23, blockSize: 32, dModel: 16, nLayer: 1, nHead: 2, mlpRatio: 2 }, 5);
  const examples = [example([1, 2, 3], [4, 5, 6], 1, 0), example([1, 2, 3], [7], -1, 1)];
  // Log-probs recorded under the model itself: KL to itself is 0.
  const own = examples.map((e) => ({ ...e }));
  const scored = tf.tidy(() => {
    const ids = tf.tensor2d(own.map((e) => [...e.promptIds, ...e.completionIds, ...new Array(4 - e.completionIds.length).fill(0)]), undefined, "int32");
    return tf.logSoftmax(model.logits(ids)).arraySync() as number[][][];
  });
  own.forEach((e, i) => (e.sampledLogprobs = e.completionIds.map((id, j) => scored[i][e.promptIds.length - 1 + j][id])));
  assert.ok(klFromSampler(model, own, 0, { microBatchSize: 4, temperature: 1 }).kl < 1e-9);
  const optimizer = new AdamW({ learningRate: 1e-2 });
  policyUpdate(model, optimizer, own, 0, options({ measureUpdateKl: true }));
  const before = tf.memory().numTensors;
  const result = policyUpdate(model, optimizer, own, 0, options({ measureUpdateKl: true }));
  assert.equal(tf.memory().numTensors, before);
  assert.ok(result.updateKl! > 0, `kl/update = ${result.updateKl}`);
  optimizer.dispose();
  model.dispose();
});

let pool: SandboxPool;
before(() => {
  pool = new SandboxPool({ timeoutMs: 1000 });
});
after(async () => {
  await pool.close();
});

test("on a real MURPHY-MaRS batch from the base checkpoint, the shared-prompt update has the per-sequence gradient and loss", async () => {
  const config = loadConfig(path.join(ROOT, "configs/murphy-mars.json"), ["tasksPerStep=3"]);
  const { model, tokenizer, optimizer: saved } = loadPolicy(path.join(ROOT, config.initCheckpoint));
  if (saved) tf.dispose([...saved.values()]);
  const { examples } = await stepBatch(new GptPolicy(model, tokenizer), loadSplit(TASKS_DIR, "train"), pool, config, 1);
  assert.ok(examples.length >= 8 && examples.some((e) => e.turn === 2), "a real two-turn batch");
  const capture = { old: new GradientCapture(), new: new GradientCapture() };
  const base = options({ microBatchSize: config.microBatchSize, temperature: config.sampling.temperature });
  const old = policyUpdate(model, capture.old, examples, tokenizer.pad, { ...base, layout: "per-sequence", skipZeroAdvantage: false });
  const now = policyUpdate(model, capture.new, examples, tokenizer.pad, base);
  const diff = maxRelativeGradientDifference(capture.old.gradients, capture.new.gradients);
  assert.ok(diff <= 1e-5, `max relative gradient difference ${diff}`);
  assert.ok(Math.abs(old.epochs[0].loss - now.epochs[0].loss) <= 1e-6 * Math.max(1, Math.abs(old.epochs[0].loss)), `loss ${old.epochs[0].loss} vs ${now.epochs[0].loss}`);
  assert.ok(now.forwardedGrad < old.forwardedGrad / 2, `forwarded ${now.forwardedGrad} vs ${old.forwardedGrad}`);
  capture.old.dispose();
  capture.new.dispose();
  model.dispose();
});
