/**
 * tokenLogProbs: per-token log-probs and entropies against a float64 softmax of the model's own
 * logits, and its gradient against a finite difference.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { GPT, type GPTConfig } from "../src/model/gpt";
import { tokenLogProbs } from "../src/model/logprobs";

before(async () => {
  await selectBackend();
});

const config: GPTConfig = { vocabSize: 11, blockSize: 8, dModel: 16, nLayer: 2, nHead: 2, mlpRatio: 2 };

/** log softmax(logits / temperature) in float64. */
function logSoftmax(logits: number[], temperature: number): number[] {
  const scaled = logits.map((v) => v / temperature);
  const max = Math.max(...scaled);
  const logZ = max + Math.log(scaled.reduce((s, v) => s + Math.exp(v - max), 0));
  return scaled.map((v) => v - logZ);
}

test("logprobs[b, t] = log p(ids[b, t] | ids[b, < t]) at the temperature, 0 at t = 0; entropy likewise", () => {
  const model = GPT.create(config, 3);
  const batch = [
    [1, 5, 9, 2, 0, 0],
    [10, 3, 3, 7, 4, 6],
  ];
  for (const temperature of [1, 0.6]) {
    const before = tf.memory().numTensors;
    const { lp, ent, logits } = tf.tidy(() => {
      const ids = tf.tensor2d(batch, undefined, "int32");
      const out = tokenLogProbs(model, ids, { temperature, withEntropy: true });
      return { lp: out.logprobs.arraySync(), ent: out.entropy!.arraySync(), logits: model.logits(ids).arraySync() as number[][][] };
    });
    assert.equal(tf.memory().numTensors, before, "no tensors leak");
    batch.forEach((ids, b) => {
      assert.equal(lp[b][0], 0);
      assert.equal(ent[b][0], 0);
      for (let t = 1; t < ids.length; t++) {
        const dist = logSoftmax(logits[b][t - 1], temperature);
        const entropy = -dist.reduce((s, v) => s + Math.exp(v) * v, 0);
        assert.ok(Math.abs(lp[b][t] - dist[ids[t]]) < 1e-5, `logprob [${b}][${t}] at T=${temperature}`);
        assert.ok(Math.abs(ent[b][t] - entropy) < 1e-5, `entropy [${b}][${t}] at T=${temperature}`);
      }
    });
  }
  model.dispose();
});

test("without withEntropy only logprobs are returned; a single token scores 0; bad temperature is an error", () => {
  const model = GPT.create(config, 4);
  const out = tf.tidy(() => {
    const r = tokenLogProbs(model, tf.tensor2d([[3], [4]], undefined, "int32"));
    return { entropy: r.entropy, lp: r.logprobs.arraySync() };
  });
  assert.equal(out.entropy, undefined);
  assert.deepEqual(out.lp, [[0], [0]]);
  assert.throws(() => tokenLogProbs(model, tf.tensor2d([[1, 2]], undefined, "int32"), { temperature: 0 }), /temperature must be a finite number > 0 \(got 0\)/);
  model.dispose();
});

test("the gradient of sum(mask * logprobs) matches a finite difference, and masked tokens get none", () => {
  const model = GPT.create(config, 5);
  const ids = tf.tensor2d([[2, 8, 1, 5, 5]], undefined, "int32");
  const mask = tf.tensor2d([[0, 0, 1, 1, 0]]);
  const objective = () => tf.sum(tf.mul(tokenLogProbs(model, ids, { temperature: 0.8 }).logprobs, mask)) as tf.Scalar;
  const head = model.weights.get("head")!;
  const { grads, value } = tf.variableGrads(objective, [head]);
  const analytic = grads[head.name].dataSync()[3 * config.vocabSize + 1];
  // Central difference on head[3, 1] in float32: a step of 1e-2 keeps rounding error ~1e-4.
  const eps = 1e-2;
  const original = head.dataSync().slice();
  const shifted = (delta: number) => {
    const values = original.slice();
    values[3 * config.vocabSize + 1] += delta;
    head.assign(tf.tensor2d(values, head.shape as [number, number]));
    return tf.tidy(() => objective().dataSync()[0]);
  };
  const numeric = (shifted(eps) - shifted(-eps)) / (2 * eps);
  head.assign(tf.tensor2d(original, head.shape as [number, number]));
  assert.ok(Math.abs(analytic - numeric) < 2e-3 * Math.max(1, Math.abs(numeric)), `analytic ${analytic} vs numeric ${numeric}`);
  assert.notEqual(analytic, 0);
  tf.dispose([value, ...Object.values(grads)]);

  // All-zero mask: every weight's gradient is exactly 0.
  const zero = tf.zerosLike(mask);
  const none = tf.variableGrads(() => tf.sum(tf.mul(tokenLogProbs(model, ids).logprobs, zero)) as tf.Scalar, [...model.weights.values()]);
  for (const [name, g] of Object.entries(none.grads)) assert.ok(g.dataSync().every((v) => v === 0), `${name} gradient is 0`);
  tf.dispose([none.value, ...Object.values(none.grads), zero, ids, mask]);
  model.dispose();
});
