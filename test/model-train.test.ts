/**
 * Training primitives: sftLoss against a float64 cross-entropy, AdamW against Adam worked by
 * hand, optimizerStep's guards (NaN/Inf skip, clipping, no tensor growth), gradient accumulation,
 * and a tiny model overfitting a tiny dataset.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { GPT, type GPTConfig } from "../src/model/gpt";
import { AdamW, applyAccumulated, optimizerStep, sftLoss } from "../src/model/train";

before(async () => {
  await selectBackend();
});

const config: GPTConfig = { vocabSize: 12, blockSize: 16, dModel: 32, nLayer: 2, nHead: 2, mlpRatio: 2 };

/** A fixed batch: next-token prediction on short sequences, loss on positions 1.. only. */
function batch(): { ids: tf.Tensor2D; targets: tf.Tensor2D; mask: tf.Tensor2D; rows: number[][]; maskRows: number[][] } {
  const rows = [
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
    [9, 8, 7, 6, 5, 4, 3, 2, 1],
    [1, 3, 5, 7, 9, 11, 1, 3, 5],
    [2, 4, 6, 8, 10, 2, 4, 6, 8],
  ];
  const input = rows.map((r) => r.slice(0, -1));
  const target = rows.map((r) => r.slice(1));
  const maskRows = input.map((r) => r.map((_, t) => (t === 0 ? 0 : 1)));
  return {
    ids: tf.tensor2d(input, undefined, "int32"),
    targets: tf.tensor2d(target, undefined, "int32"),
    mask: tf.tensor2d(maskRows),
    rows,
    maskRows,
  };
}

test("sftLoss is the mean cross-entropy over masked positions (golden), 0 for an all-zero mask", () => {
  const model = GPT.create(config, 1);
  const { ids, targets, mask, rows, maskRows } = batch();
  const before = tf.memory().numTensors;
  const loss = tf.tidy(() => sftLoss(model, ids, targets, mask).dataSync()[0]);
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
  const logits = tf.tidy(() => model.logits(ids).arraySync() as number[][][]);
  let total = 0;
  let count = 0;
  rows.forEach((row, b) => {
    for (let t = 0; t < row.length - 1; t++) {
      if (!maskRows[b][t]) continue;
      const z = logits[b][t];
      const max = Math.max(...z);
      const logZ = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
      total += logZ - z[row[t + 1]];
      count++;
    }
  });
  assert.ok(Math.abs(loss - total / count) < 1e-5, `sftLoss ${loss} vs ${total / count}`);
  const zero = tf.tidy(() => sftLoss(model, ids, targets, tf.zerosLike(mask)).dataSync()[0]);
  assert.equal(zero, 0);
  assert.throws(() => sftLoss(model, ids, targets, tf.ones([4, 7]) as tf.Tensor2D), /must have the same shape/);
  assert.throws(() => sftLoss(model, ids, tf.cast(targets, "float32") as tf.Tensor2D, mask), /targets must be int32/);
  tf.dispose([ids, targets, mask]);
  model.dispose();
});

test("AdamW matches Adam with decoupled weight decay worked by hand; gains are not decayed", () => {
  const w = tf.variable(tf.tensor2d([[1, -2]]), true, "adamw-test/w");
  const g = tf.variable(tf.tensor1d([0.5]), true, "adamw-test/g");
  const gradW = [0.3, -0.5];
  const gradG = [2];
  const [lr, b1, b2, eps, wd] = [0.1, 0.9, 0.95, 1e-8, 0.1];
  const optimizer = new AdamW({ learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd });
  // Reference: m, v per element; mhat = m / (1 - b1^t); vhat = v / (1 - b2^t).
  const expected = { w: [1, -2], g: [0.5], m: { w: [0, 0], g: [0] }, v: { w: [0, 0], g: [0] } };
  for (let step = 1; step <= 3; step++) {
    const grads = { [w.name]: tf.tensor2d([gradW]), [g.name]: tf.tensor1d(gradG) };
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    for (const [key, grad, decay] of [["w", gradW, wd], ["g", gradG, 0]] as const) {
      expected[key] = expected[key].map((x, i) => {
        const m = (expected.m[key][i] = b1 * expected.m[key][i] + (1 - b1) * grad[i]);
        const v = (expected.v[key][i] = b2 * expected.v[key][i] + (1 - b2) * grad[i] ** 2);
        const mHat = m / (1 - b1 ** step);
        const vHat = v / (1 - b2 ** step);
        return x * (1 - lr * decay) - (lr * mHat) / (Math.sqrt(vHat) + eps);
      });
    }
    Array.from(w.dataSync()).forEach((x, i) => assert.ok(Math.abs(x - expected.w[i]) < 1e-6, `step ${step} w[${i}] ${x} vs ${expected.w[i]}`));
    assert.ok(Math.abs(g.dataSync()[0] - expected.g[0]) < 1e-6, `step ${step} g ${g.dataSync()[0]} vs ${expected.g[0]}`);
  }
  assert.equal(optimizer.iterations, 3);
  assert.throws(() => new AdamW({ learningRate: 0 }), /AdamW: learningRate is out of range \(got 0\)/);
  assert.throws(() => new AdamW({ learningRate: 1e-3, beta2: 1 }), /AdamW: beta2 is out of range/);
  optimizer.dispose();
  tf.dispose([w, g]);
});

test("AdamW state round-trips through getWeights/setWeights", async () => {
  const w = tf.variable(tf.tensor2d([[1, 2]]), true, "adamw-roundtrip/w");
  const a = new AdamW({ learningRate: 0.01 });
  const grad = tf.tensor2d([[0.5, -1]]);
  a.applyGradients({ [w.name]: grad });
  const saved = await a.getWeights();
  assert.deepEqual(saved.map((s) => s.name), ["iter", `${w.name}/m`, `${w.name}/v`]);
  const b = new AdamW({ learningRate: 0.01 });
  await b.setWeights(saved.map((s) => ({ name: s.name, tensor: s.tensor.clone() })));
  assert.equal(b.iterations, 1);
  // Same state, same next update.
  const w2 = tf.variable(w.clone(), true, "adamw-roundtrip/w2");
  const renamed = (await b.getWeights()).map((s) => ({ name: s.name.replace(w.name, w2.name), tensor: s.tensor.clone() }));
  const c = new AdamW({ learningRate: 0.01 });
  await c.setWeights(renamed);
  a.applyGradients({ [w.name]: grad });
  c.applyGradients({ [w2.name]: grad });
  assert.deepEqual(w.dataSync(), w2.dataSync());
  tf.dispose([w, w2, grad]);
  [a, b, c].forEach((o) => o.dispose());
});

test("optimizerStep: no tensor growth across steps; NaN loss or NaN gradient skips without touching weights or state", async () => {
  const model = GPT.create(config, 2);
  const { ids, targets, mask } = batch();
  const optimizer = new AdamW({ learningRate: 1e-2 });
  const lossFn = () => sftLoss(model, ids, targets, mask);
  const first = optimizerStep(model, optimizer, lossFn, { clipNorm: 1 });
  assert.equal(first.skipped, false);
  assert.ok(first.gradNorm > 0 && Number.isFinite(first.loss));
  const count = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) optimizerStep(model, optimizer, lossFn, { clipNorm: 1 });
  assert.equal(tf.memory().numTensors, count, "tensor count is stable across steps");

  const snapshot = () => new Map([...model.weights].map(([name, w]) => [name, Array.from(w.dataSync())]));
  const state = async () => {
    const weights = await optimizer.getWeights();
    const values = weights.map((s) => Array.from(s.tensor.dataSync()));
    weights[0].tensor.dispose(); // "iter" is a fresh scalar; the moments belong to the optimizer
    return values;
  };
  const weightsBefore = snapshot();
  const stateBefore = await state();
  const iterations = optimizer.iterations;
  const nanLoss = optimizerStep(model, optimizer, () => tf.mul(lossFn(), NaN) as tf.Scalar, { clipNorm: 1 });
  assert.equal(nanLoss.skipped, true);
  assert.ok(Number.isNaN(nanLoss.loss));
  // A finite loss whose gradient is NaN: d/dw sqrt(0 * |w|) = 0 * inf.
  const head = model.weights.get("head")!;
  const nanGrad = optimizerStep(model, optimizer, () => tf.add(lossFn(), tf.sum(tf.sqrt(tf.mul(tf.abs(head), 0)))) as tf.Scalar);
  assert.equal(nanGrad.skipped, true);
  assert.ok(Number.isFinite(nanGrad.loss) && !Number.isFinite(nanGrad.gradNorm));
  assert.deepEqual(snapshot(), weightsBefore, "weights unchanged");
  assert.deepEqual(await state(), stateBefore, "optimizer moments unchanged");
  assert.equal(optimizer.iterations, iterations, "iteration count unchanged");
  assert.equal(tf.memory().numTensors, count, "skipped steps leak nothing");
  assert.throws(() => optimizerStep(model, optimizer, lossFn, { clipNorm: 0 }), /clipNorm must be > 0 \(got 0\)/);
  tf.dispose([ids, targets, mask]);
  optimizer.dispose();
  model.dispose();
});

test("clipping rescales the global gradient norm to clipNorm (checked with plain SGD)", () => {
  const model = GPT.create(config, 3);
  const head = model.weights.get("head")!;
  const before = Array.from(head.dataSync());
  const sgd = tf.train.sgd(1);
  // d/dhead sum(head * 2) = 2 everywhere: norm 2 * sqrt(32 * 12).
  const result = optimizerStep(model, sgd, () => tf.sum(tf.mul(head, 2)) as tf.Scalar, { clipNorm: 0.5 });
  const norm = 2 * Math.sqrt(32 * 12);
  assert.ok(Math.abs(result.gradNorm - norm) < 1e-3, `gradNorm ${result.gradNorm} vs ${norm}`);
  Array.from(head.dataSync()).forEach((x, i) => assert.ok(Math.abs(before[i] - x - (2 * 0.5) / norm) < 1e-6, `head[${i}] moved by the clipped gradient`));
  // Under the limit nothing is rescaled.
  const again = Array.from(head.dataSync());
  optimizerStep(model, sgd, () => tf.sum(tf.mul(head, 1e-3)) as tf.Scalar, { clipNorm: 0.5 });
  Array.from(head.dataSync()).forEach((x, i) => assert.ok(Math.abs(again[i] - x - 1e-3) < 1e-6));
  sgd.dispose();
  model.dispose();
});

test("applyAccumulated sums micro-batch gradients: two halves update like the whole", () => {
  const a = GPT.create(config, 4);
  const b = GPT.create(config, 4);
  const { ids, targets, mask } = batch();
  const halves = [0, 2].map((start) => ({
    ids: tf.slice(ids, [start, 0], [2, -1]) as tf.Tensor2D,
    targets: tf.slice(targets, [start, 0], [2, -1]) as tf.Tensor2D,
    mask: tf.slice(mask, [start, 0], [2, -1]) as tf.Tensor2D,
  }));
  const sgd = tf.train.sgd(0.5);
  // Each half has the same number of masked tokens, so mean = (mean1 + mean2) / 2.
  const whole = optimizerStep(a, sgd, () => sftLoss(a, ids, targets, mask));
  const parts = applyAccumulated(b, sgd, halves.map((h) => () => tf.div(sftLoss(b, h.ids, h.targets, h.mask), 2) as tf.Scalar));
  assert.ok(Math.abs(whole.loss - parts.loss) < 1e-5);
  assert.ok(Math.abs(whole.gradNorm - parts.gradNorm) < 1e-4 * whole.gradNorm);
  for (const [name, w] of a.weights) {
    const x = w.dataSync();
    const y = b.weights.get(name)!.dataSync();
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) < 1e-6, `${name}[${i}]`);
  }
  assert.throws(() => applyAccumulated(a, sgd, []), /needs at least one loss function/);
  tf.dispose([ids, targets, mask, ...halves.flatMap((h) => [h.ids, h.targets, h.mask])]);
  sgd.dispose();
  a.dispose();
  b.dispose();
});

test("a tiny model overfits a tiny dataset in 80 steps (speed lives in npm run bench:train)", () => {
  const model = GPT.create(config, 5);
  const { ids, targets, mask } = batch();
  const optimizer = new AdamW({ learningRate: 1e-2 });
  const losses: number[] = [];
  for (let step = 0; step < 80; step++) losses.push(optimizerStep(model, optimizer, () => sftLoss(model, ids, targets, mask), { clipNorm: 1 }).loss);
  const final = tf.tidy(() => sftLoss(model, ids, targets, mask).dataSync()[0]);
  assert.ok(losses[0] > 2, `starts near ln(12) = 2.48 (got ${losses[0]})`);
  assert.ok(final < 0.2 * losses[0], `loss ${losses[0].toFixed(3)} -> ${final.toFixed(3)}`);
  tf.dispose([ids, targets, mask]);
  optimizer.dispose();
  model.dispose();
});
