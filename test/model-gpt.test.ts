/**
 * The GPT: weight names and shapes, parameter count by hand, deterministic initialisation,
 * checkpoint validation, and logits against an independent float64 forward pass in plain
 * JavaScript (loops over the method's formulas, no tfjs).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { DEFAULT_GPT_CONFIG, GPT, type GPTConfig } from "../src/model/gpt";
import { disposeCache } from "../src/model/kv-cache";
import { causalMask } from "../src/model/ops";
import { Rng } from "../src/util/rng";

before(async () => {
  await selectBackend();
});

const tiny: GPTConfig = { vocabSize: 7, blockSize: 6, dModel: 8, nLayer: 2, nHead: 2, mlpRatio: 2 };

test("weightSpecs lists the stable names and shapes", () => {
  const specs = GPT.weightSpecs(tiny);
  assert.deepEqual(
    specs.map((s) => `${s.name}:${s.shape.join("x")}`),
    [
      "wte:7x8",
      "wpe:6x8",
      ...[0, 1].flatMap((l) => [`h.${l}.ln1.g:8`, `h.${l}.attn.wqkv:8x24`, `h.${l}.attn.wo:8x8`, `h.${l}.ln2.g:8`, `h.${l}.mlp.wfc:8x16`, `h.${l}.mlp.wproj:16x8`]),
      "lnf.g:8",
      "head:8x7",
    ],
  );
  assert.ok(specs.every((s) => s.dtype === "float32"));
});

test("parameterCount matches the count by hand, for the tiny and the default config", () => {
  const count = (c: GPTConfig) => {
    const D = c.dModel;
    const perLayer = D + 3 * D * D + D * D + D + 2 * c.mlpRatio * D * D;
    return c.vocabSize * D + c.blockSize * D + c.nLayer * perLayer + D + D * c.vocabSize;
  };
  const model = GPT.create(tiny, 0);
  assert.equal(model.parameterCount(), count(tiny));
  model.dispose();
  // 102*128 + 512*128 + 4*(128 + 3*128^2 + 128^2 + 128 + 8*128^2) + 128 + 128*102
  assert.equal(count(DEFAULT_GPT_CONFIG), 879232);
  const big = GPT.create(DEFAULT_GPT_CONFIG, 0);
  assert.equal(big.parameterCount(), 879232);
  assert.match(big.summary(), /^GPT 0\.88M params \(vocab 102, block 512, d 128, 4 layers x 4 heads, mlp 4x\)$/);
  big.dispose();
});

test("create is deterministic in the seed; gains start at 1; residual projections are scaled down", () => {
  const a = GPT.create(tiny, 5);
  const b = GPT.create(tiny, 5);
  const c = GPT.create(tiny, 6);
  for (const [name, w] of a.weights) assert.deepEqual(w.dataSync(), b.weights.get(name)!.dataSync(), name);
  assert.notDeepEqual(a.weights.get("wte")!.dataSync(), c.weights.get("wte")!.dataSync());
  assert.ok(a.weights.get("h.1.ln2.g")!.dataSync().every((x) => x === 1));
  const std = (name: string) => {
    const x = Array.from(a.weights.get(name)!.dataSync());
    return Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  };
  assert.ok(std("h.0.attn.wqkv") > 0.015 && std("h.0.attn.wqkv") < 0.025, `wqkv std ${std("h.0.attn.wqkv")}`);
  assert.ok(std("h.0.mlp.wproj") < 0.015, `wproj std ${std("h.0.mlp.wproj")} (0.02/sqrt(4) expected)`);
  [a, b, c].forEach((m) => m.dispose());
});

test("fromWeights copies the weights and rejects missing, extra, misshapen or mistyped ones", () => {
  const source = GPT.create(tiny, 1);
  const weights = new Map<string, tf.Tensor>(source.weights);
  const copy = GPT.fromWeights(tiny, weights);
  assert.deepEqual(copy.weights.get("head")!.dataSync(), source.weights.get("head")!.dataSync());
  source.dispose(); // the copy must not share ownership
  assert.equal(copy.weights.get("head")!.isDisposed, false);
  assert.equal(copy.weights.get("head")!.dataSync().length, 8 * 7);

  const fresh = () => new Map<string, tf.Tensor>(copy.weights);
  const missing = fresh();
  missing.delete("h.1.attn.wo");
  assert.throws(() => GPT.fromWeights(tiny, missing), /missing weight "h\.1\.attn\.wo" \(expected shape \[8,8\]\)/);
  const extra = fresh();
  const junk = tf.zeros([1]);
  extra.set("h.2.attn.wo", junk);
  assert.throws(() => GPT.fromWeights(tiny, extra), /unexpected weight "h\.2\.attn\.wo"/);
  const misshapen = fresh();
  const wrong = tf.zeros([8, 9]);
  misshapen.set("head", wrong);
  assert.throws(() => GPT.fromWeights(tiny, misshapen), /weight "head" has shape \[8,9\], expected \[8,7\]/);
  const mistyped = fresh();
  const ints = tf.zeros([8, 7], "int32");
  mistyped.set("head", ints);
  assert.throws(() => GPT.fromWeights(tiny, mistyped), /weight "head" has dtype int32, expected float32/);
  assert.throws(() => GPT.create({ ...tiny, nHead: 3 }, 0), /dModel \(8\) must be divisible by GPTConfig\.nHead \(3\)/);
  assert.throws(() => GPT.create({ ...tiny, nLayer: 0 }, 0), /GPTConfig\.nLayer must be a positive integer \(got 0\)/);
  tf.dispose([junk, wrong, ints]);
  copy.dispose();
});

/** Weights as plain arrays with random values everywhere (gains too, so they are tested). */
function randomWeights(config: GPTConfig, seed: string): Map<string, { data: Float32Array; shape: number[] }> {
  const rng = new Rng(seed);
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const spec of GPT.weightSpecs(config)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const scale = spec.name.endsWith(".g") ? 0.5 : 0.4;
    const data = Float32Array.from({ length: size }, () => (spec.name.endsWith(".g") ? 1 : 0) + scale * rng.normal());
    out.set(spec.name, { data, shape: spec.shape });
  }
  return out;
}

/** The forward pass written out in float64 loops, straight from the formulas. */
function referenceLogits(config: GPTConfig, w: Map<string, { data: Float32Array; shape: number[] }>, ids: number[]): number[][] {
  const { dModel: D, nHead: H, nLayer, vocabSize: V } = config;
  const hd = D / H;
  const T = ids.length;
  const get = (name: string) => w.get(name)!.data;
  const matVec = (x: number[], m: Float32Array, cols: number) => {
    const out = new Array(cols).fill(0);
    for (let i = 0; i < x.length; i++) for (let j = 0; j < cols; j++) out[j] += x[i] * m[i * cols + j];
    return out;
  };
  const rms = (x: number[], g: Float32Array) => {
    const r = 1 / Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length + 1e-5);
    return x.map((v, i) => v * r * g[i]);
  };
  let x = ids.map((id, t) => Array.from({ length: D }, (_, j) => get("wte")[id * D + j] + get("wpe")[t * D + j]));
  for (let l = 0; l < nLayer; l++) {
    const qkv = x.map((row) => matVec(rms(row, get(`h.${l}.ln1.g`)), get(`h.${l}.attn.wqkv`), 3 * D));
    const attended = x.map(() => new Array(D).fill(0));
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let j = 0; j < hd; j++) dot += qkv[t][h * hd + j] * qkv[s][D + h * hd + j];
          scores.push(dot / Math.sqrt(hd));
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= t; s++) for (let j = 0; j < hd; j++) attended[t][h * hd + j] += (exps[s] / total) * qkv[s][2 * D + h * hd + j];
      }
    }
    x = x.map((row, t) => {
      const proj = matVec(attended[t], get(`h.${l}.attn.wo`), D);
      return row.map((v, j) => v + proj[j]);
    });
    x = x.map((row) => {
      const hidden = matVec(rms(row, get(`h.${l}.ln2.g`)), get(`h.${l}.mlp.wfc`), config.mlpRatio * D).map((v) => Math.max(0, v));
      const out = matVec(hidden, get(`h.${l}.mlp.wproj`), D);
      return row.map((v, j) => v + out[j]);
    });
  }
  return x.map((row) => matVec(rms(row, get("lnf.g")), get("head"), V));
}

function modelFrom(config: GPTConfig, w: Map<string, { data: Float32Array; shape: number[] }>): GPT {
  const tensors = new Map<string, tf.Tensor>([...w].map(([name, { data, shape }]) => [name, tf.tensor(data, shape)]));
  const model = GPT.fromWeights(config, tensors);
  tf.dispose([...tensors.values()]);
  return model;
}

test("logits match an independent float64 forward pass (golden), for every row of a batch", () => {
  const weights = randomWeights(tiny, "golden");
  const model = modelFrom(tiny, weights);
  const batch = [
    [1, 4, 0, 6, 2, 3],
    [5, 5, 2, 1, 0, 6],
  ];
  const before = tf.memory().numTensors;
  const logits = tf.tidy(() => model.logits(tf.tensor2d(batch, undefined, "int32")).arraySync() as number[][][]);
  assert.equal(tf.memory().numTensors, before, "logits leaks no tensors");
  batch.forEach((ids, b) => {
    const want = referenceLogits(tiny, weights, ids);
    for (let t = 0; t < ids.length; t++) {
      for (let v = 0; v < tiny.vocabSize; v++) {
        assert.ok(Math.abs(logits[b][t][v] - want[t][v]) < 1e-4, `logits[${b}][${t}][${v}] = ${logits[b][t][v]}, reference ${want[t][v]}`);
      }
    }
  });
  // A shorter sequence gives the prefix's logits (causality, learned positions from 0).
  const short = tf.tidy(() => model.logits(tf.tensor2d([batch[0].slice(0, 3)], undefined, "int32")).arraySync() as number[][][]);
  const want = referenceLogits(tiny, weights, batch[0].slice(0, 3));
  short[0].forEach((row, t) => row.forEach((v, j) => assert.ok(Math.abs(v - want[t][j]) < 1e-4)));
  model.dispose();
});

test("forwardCached over a left-padded batch and then one token gives the same logits as logits()", () => {
  const weights = randomWeights(tiny, "cached");
  const model = modelFrom(tiny, weights);
  const before = tf.memory().numTensors;
  const [full, step] = tf.tidy(() => {
    // Row 0: [2, 5, 1] padded by one slot; row 1: [3, 3, 6, 4]. Then one more token each.
    const ids = tf.tensor2d([[0, 2, 5, 1], [3, 3, 6, 4]], undefined, "int32");
    const positions = tf.tensor2d([[0, 0, 1, 2], [0, 1, 2, 3]], undefined, "int32");
    const pad = tf.tensor3d([[[-1e9, 0, 0, 0]], [[0, 0, 0, 0]]]);
    const first = model.forwardCached(ids, positions, tf.add(causalMask(4), pad) as tf.Tensor3D, null);
    const second = model.forwardCached(tf.tensor2d([[6], [2]], undefined, "int32"), tf.tensor2d([[3], [4]], undefined, "int32"), tf.tensor3d([[[-1e9, 0, 0, 0, 0]], [[0, 0, 0, 0, 0]]]), first.cache);
    const result = [first.logits.arraySync(), second.logits.arraySync()] as number[][][][];
    disposeCache(second.cache);
    return result;
  });
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
  const expect0 = referenceLogits(tiny, weights, [2, 5, 1, 6]);
  const expect1 = referenceLogits(tiny, weights, [3, 3, 6, 4, 2]);
  const close = (a: number[], b: number[], what: string) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-4, `${what}[${i}]: ${v} vs ${b[i]}`));
  close(full[0][3], expect0[2], "row 0 last prompt position");
  close(full[1][3], expect1[3], "row 1 last prompt position");
  close(step[0][0], expect0[3], "row 0 new token");
  close(step[1][0], expect1[4], "row 1 new token");
  model.dispose();
});

test("logits rejects ids that are not int32, out of range, or longer than blockSize", () => {
  const model = GPT.create(tiny, 2);
  assert.throws(() => model.logits(tf.tensor2d([[1, 2]])), /ids must be an int32 tensor of shape \[batch, time\] \(got float32 \[1,2\]\)/);
  assert.throws(() => model.logits(tf.tensor2d([[1, 7]], undefined, "int32")), /token id 7 at flat index 1 is outside \[0, 7\)/);
  assert.throws(() => model.logits(tf.zeros([1, 7], "int32") as tf.Tensor2D), /sequence length 7 must be between 1 and blockSize 6/);
  model.dispose();
  assert.throws(() => model.logits(tf.zeros([1, 2], "int32") as tf.Tensor2D), /was the model disposed/);
});
