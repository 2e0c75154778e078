/**
 * The chunked key/value cache: the append/merge policy, row selection, and a long decode
 * (many chunk merges) that still gives exactly the logits of a full forward pass.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { GPT, type GPTConfig } from "../src/model/gpt";
import { CHUNK_SLOTS, MAX_CHUNKS, appendSlots, disposeCache, selectCacheRows, type KVCache, type LayerCache } from "../src/model/kv-cache";
import { causalMask } from "../src/model/ops";
import { Rng } from "../src/util/rng";

before(async () => {
  await selectBackend();
});

test("appendSlots grows the newest chunk to CHUNK_SLOTS, then starts another, and merges past MAX_CHUNKS", () => {
  const before = tf.memory().numTensors;
  let layer: LayerCache | null = null;
  let next = 0;
  // Slot s holds the value s, so the order of slots can be checked at the end.
  const slotTensor = (n: number) => tf.tidy(() => tf.reshape(tf.range(next, next + n, 1, "float32"), [1, n, 1]) as tf.Tensor3D);
  const add = (n: number) => {
    const k = slotTensor(n);
    const v = slotTensor(n);
    next += n;
    layer = appendSlots(layer, k, v);
    return layer!.keys.map((c) => c.shape[1]);
  };
  assert.deepEqual(add(40), [40], "a prompt is one chunk");
  assert.deepEqual(add(1), [40, 1], "a full chunk is not appended to");
  for (let i = 0; i < CHUNK_SLOTS - 1; i++) add(1);
  assert.deepEqual(layer!.keys.map((c) => c.shape[1]), [40, CHUNK_SLOTS]);
  let sizes: number[] = [];
  for (let i = 0; i < CHUNK_SLOTS * (MAX_CHUNKS - 1); i++) sizes = add(1);
  assert.ok(sizes.length <= MAX_CHUNKS, `chunks ${sizes}`);
  assert.equal(sizes.reduce((a, b) => a + b, 0), next);
  const all = tf.tidy(() => Array.from(tf.concat(layer!.keys, 1).dataSync()));
  assert.deepEqual(all, Array.from({ length: next }, (_, i) => i), "slots stay in order");
  disposeCache({ layers: [layer!], length: next });
  assert.equal(tf.memory().numTensors, before, "nothing leaks");
});

test("selectCacheRows keeps, reorders and repeats batch rows (all heads of a row together)", () => {
  const heads = 2;
  const k = tf.tensor3d([0, 1, 10, 11, 20, 21], [6, 1, 1]); // rows 0..2, heads 0..1
  const v = tf.tensor3d([0, 1, 10, 11, 20, 21], [6, 1, 1]);
  const out = selectCacheRows({ layers: [{ keys: [k], values: [v] }], length: 1 }, [2, 0, 0], heads);
  assert.deepEqual(Array.from(out.layers[0].keys[0].dataSync()), [20, 21, 0, 1, 0, 1]);
  assert.equal(k.isDisposed, true, "the input cache is consumed");
  disposeCache(out);
});

test("a long decode through many chunk merges gives the logits of a full forward pass", () => {
  const config: GPTConfig = { vocabSize: 9, blockSize: 300, dModel: 16, nLayer: 2, nHead: 2, mlpRatio: 2 };
  const model = GPT.create(config, 21);
  const rng = new Rng("long");
  const sequence = Array.from({ length: 290 }, () => rng.int(1, 8));
  const prompt = 7;
  const before = tf.memory().numTensors;
  const stepLogits: number[][] = [];
  // Runs forwardCached on plain arrays, disposing its input tensors.
  const forward = (ids: number[], positions: number[], bias: tf.Tensor3D, cache: KVCache | null) => {
    const inputs = [tf.tensor2d([ids], undefined, "int32"), tf.tensor2d([positions], undefined, "int32")];
    const out = model.forwardCached(inputs[0] as tf.Tensor2D, inputs[1] as tf.Tensor2D, bias, cache);
    tf.dispose([...inputs, bias]);
    return out;
  };
  let result = forward(sequence.slice(0, prompt), Array.from({ length: prompt }, (_, i) => i), tf.tidy(() => tf.reshape(causalMask(prompt), [1, prompt, prompt]) as tf.Tensor3D), null);
  result.logits.dispose();
  for (let t = prompt; t < sequence.length; t++) {
    result = forward([sequence[t]], [t], tf.zeros([1, 1, t + 1]) as tf.Tensor3D, result.cache);
    stepLogits.push(Array.from(result.logits.dataSync()));
    result.logits.dispose();
    assert.ok(result.cache.layers[0].keys.length <= MAX_CHUNKS);
  }
  assert.equal(result.cache.length, sequence.length);
  disposeCache(result.cache);
  assert.equal(tf.memory().numTensors, before, "no tensors leak over the decode");
  const full = tf.tidy(() => model.logits(tf.tensor2d([sequence], undefined, "int32")).arraySync()[0]);
  stepLogits.forEach((row, i) => {
    const want = full[prompt + i];
    row.forEach((x, j) => assert.ok(Math.abs(x - want[j]) < 1e-4, `position ${prompt + i} logit ${j}: ${x} vs ${want[j]}`));
  });
  model.dispose();
});
