/**
 * The native (OpenBLAS) kernels of src/model/native-kernels.ts and the fallbacks they must
 * keep: products equal tf.matMul for every transpose combination; and a few training steps give
 * the same losses and weights on the `cpu` backend (plain JavaScript, no custom kernel: what a
 * GPU run's tfjs-node-gpu shares with it), on wasm with the native kernels, and on wasm with
 * tf's own kernels: on whole sequences (GPT.logits, tokenLogProbs, sftLoss) and on the
 * shared-prompt path of the RL update (prefixKeysValues, logitsAfterPrefix, logProbsAfterPrefix);
 * and each fused op of src/model/fused/ (blocks, the optimizer step) and the embedding gradient
 * give the values and gradients of its tf-only fallback.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { GPT, type GPTConfig } from "../src/model/gpt";
import { nativeKernelsInfo, nativeMatMul, nativeMatMulAvailable, nativeMergeHeads, nativeSplitHeads, setNativeKernelsEnabled } from "../src/model/native-kernels";
import { logProbsAfterPrefix, tokenLogProbs } from "../src/model/logprobs";
import { sharedPromptBatches } from "../src/murphy/packing";
import type { TrainingExample } from "../src/murphy/pipeline";
import { AdamW, optimizerStep, sftLoss } from "../src/model/train";
import { installWasmKernels } from "../src/model/wasm-kernels";
import { nativeSquaredNorms } from "../src/model/fused/optimizer";
import { embedding } from "../src/model/ops";
import { normDense } from "../src/model/fused/norm-dense";
import { mlpBlock } from "../src/model/fused/mlp";
import { attentionBlock } from "../src/model/fused/attention";
import { Rng } from "../src/util/rng";

let fastBackend = "cpu";
before(async () => {
  fastBackend = (await selectBackend()).tfName;
});
after(() => setNativeKernelsEnabled(true));

function random(shape: number[], seed: string): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.normal()), shape);
}

/** Float64 product of row-major `op(a)[M, K] @ op(b)[K, N]`, computed by hand. */
function reference(a: Float32Array, b: Float32Array, M: number, K: number, N: number, transA: boolean, transB: boolean, alpha: number): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (transA ? a[k * M + i] : a[i * K + k]) * (transB ? b[j * K + k] : b[k * N + j]);
      out[i * N + j] = alpha * s;
    }
  }
  return out;
}

test("nativeMatMul is available exactly on wasm with the module built, and null elsewhere", () => {
  const info = nativeKernelsInfo();
  assert.equal(nativeMatMulAvailable(), fastBackend === "wasm" && info.available);
  if (info.available) assert.match(info.config ?? "", /OpenBLAS/);
  else assert.ok(info.why, "says why it is off");
});

test("nativeMatMul equals a float64 product for all transposes, ranks 2 and 3, odd sizes, alpha", () => {
  if (!nativeMatMulAvailable()) return;
  for (const [G, M, K, N] of [
    [1, 7, 5, 3],
    [3, 17, 9, 1],
    [2, 1, 33, 12],
  ]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const alpha = transA ? 0.5 : 1;
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const a = random(transA ? [G, K, M] : [G, M, K], `a${G}${M}`) as tf.Tensor3D;
          const b = random(transB ? [G, N, K] : [G, K, N], `b${G}${N}`) as tf.Tensor3D;
          const batched = nativeMatMul(a, b, transA, transB, alpha)!.dataSync();
          const flat = G === 1 ? nativeMatMul(tf.squeeze(a, [0]) as tf.Tensor2D, tf.squeeze(b, [0]) as tf.Tensor2D, transA, transB, alpha)!.dataSync() : batched;
          const [av, bv] = [a.dataSync() as Float32Array, b.dataSync() as Float32Array];
          for (let g = 0; g < G; g++) {
            const want = reference(av.subarray(g * M * K, (g + 1) * M * K), bv.subarray(g * K * N, (g + 1) * K * N), M, K, N, transA, transB, alpha);
            for (let i = 0; i < M * N; i++) {
              const where = `[${G},${M},${K},${N}] transA ${transA} transB ${transB} slice ${g} element ${i}`;
              assert.ok(Math.abs(batched[g * M * N + i] - want[i]) < 1e-5 * Math.max(1, Math.abs(want[i])), where);
              if (G === 1) assert.equal(flat[i], batched[i], where);
            }
          }
        });
        assert.equal(tf.memory().numTensors, before);
      }
    }
  }
});

test("nativeSplitHeads equals reshape + transpose per column block, nativeMergeHeads undoes it, and each one's gradient is the other", () => {
  if (!nativeMatMulAvailable()) return;
  const [B, T, H, hd, C] = [2, 3, 2, 4, 3];
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const x = random([B * T, C * H * hd], "heads") as tf.Tensor2D;
    const parts = nativeSplitHeads(x, B, H, C)!;
    assert.equal(parts.length, C);
    parts.forEach((part, c) => {
      const block = tf.slice(x, [0, c * H * hd], [B * T, H * hd]);
      const want = tf.reshape(tf.transpose(tf.reshape(block, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]);
      assert.deepEqual(part.shape, [B * H, T, hd]);
      assert.deepEqual(Array.from(part.dataSync()), Array.from(want.dataSync()), `part ${c}`);
    });
    assert.deepEqual(Array.from(nativeMergeHeads(parts, B)!.dataSync()), Array.from(x.dataSync()), "merge undoes split");
    // d/dx of sum(w_c * part_c) is the weights merged back; only parts 0 and 2 used (part 1's gradient is 0).
    const w = [random([B * H, T, hd], "w0"), random([B * H, T, hd], "w2")];
    const grad = tf.grad((xs: tf.Tensor) => {
      const [p0, , p2] = nativeSplitHeads(xs as tf.Tensor2D, B, H, C)!;
      return tf.add(tf.sum(tf.mul(p0, w[0])), tf.sum(tf.mul(p2, w[1])));
    })(x);
    const zeros = tf.zeros([B * H, T, hd]) as tf.Tensor3D;
    assert.deepEqual(Array.from(grad.dataSync()), Array.from(nativeMergeHeads([w[0], zeros, w[1]] as tf.Tensor3D[], B)!.dataSync()));
    // d/d(a, b) of sum(merge([a, b]) * y) is y split into two parts.
    const y = tf.slice(x, [0, 0], [B * T, 2 * H * hd]) as tf.Tensor2D;
    const mergeGrad = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(nativeMergeHeads([a, b] as tf.Tensor3D[], B)!, y)))([parts[0], parts[1]]);
    const [g0, g1] = nativeSplitHeads(y, B, H, 2)!;
    assert.deepEqual(Array.from(mergeGrad[0].dataSync()), Array.from(g0.dataSync()));
    assert.deepEqual(Array.from(mergeGrad[1].dataSync()), Array.from(g1.dataSync()));
  });
  assert.equal(tf.memory().numTensors, before);
});

test("nativeMatMul rejects operands whose inner sizes differ", () => {
  if (!nativeMatMulAvailable()) return;
  tf.tidy(() => assert.throws(() => nativeMatMul(tf.ones([2, 3]) as tf.Tensor2D, tf.ones([2, 3]) as tf.Tensor2D), /do not match/));
});

/**
 * Value and gradients of `f(...inputs)` (its output weighted by fixed random numbers and summed)
 * with the native kernels and without them (tf's ops on the same backend): a fused op against
 * its fallback. Returns the worst absolute difference, relative to the fallback's largest value,
 * for the value and for each input's gradient.
 */
function nativeVersusFallback(name: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): number[] {
  const run = (native: boolean) => {
    setNativeKernelsEnabled(native);
    try {
      return tf.tidy(() => {
        const y = f(...inputs);
        const weights = random(y.shape, `${name}-weights`);
        const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), weights)))(inputs);
        return [y, ...grads].map((t) => Array.from(t.dataSync()));
      });
    } finally {
      setNativeKernelsEnabled(true);
    }
  };
  const [fast, plain] = [run(true), run(false)];
  return fast.map((values, i) => {
    const scale = Math.max(1e-30, ...plain[i].map(Math.abs));
    return Math.max(...values.map((v, j) => Math.abs(v - plain[i][j]))) / scale;
  });
}

test("embedding: the native gradient (rows scattered into the table) equals the one-hot product", () => {
  if (!nativeMatMulAvailable()) return;
  const before = tf.memory().numTensors;
  const ids = tf.tensor1d([3, 0, 3, 5, 1, 3, 0], "int32");
  const table = random([7, 4], "embedding-table");
  const errors = nativeVersusFallback("embedding", (t) => embedding(ids, t as tf.Tensor2D), [table]);
  errors.forEach((e, i) => assert.ok(e < 1e-6, `${i === 0 ? "value" : "gradient"}: relative difference ${e}`));
  tf.dispose([ids, table]);
  assert.equal(tf.memory().numTensors, before);
});

/** Assert every relative difference of `nativeVersusFallback` is below 1e-5 (float32 sums in another order). */
function assertMatchesFallback(name: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): void {
  const errors = nativeVersusFallback(name, f, inputs);
  errors.forEach((e, i) => assert.ok(e < 1e-5, `${name} ${i === 0 ? "value" : `gradient of input ${i - 1}`}: relative difference ${e}`));
}

test("fused blocks (norm + product, MLP, attention on packed q|k|v with and without a prefix) equal their tf fallbacks, gradients too", () => {
  if (!nativeMatMulAvailable()) return;
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const [D, H] = [8, 2];
    const x = random([6, D], "block-x");
    const g = tf.add(1, tf.mul(0.1, random([D], "block-g")));
    assertMatchesFallback("normDense", (xs, gs, w) => normDense(xs as tf.Tensor2D, gs as tf.Tensor1D, w as tf.Tensor2D), [x, g, random([D, 5], "block-w")]);
    const mlp = (xs: tf.Tensor, gs: tf.Tensor, wfc: tf.Tensor, wproj: tf.Tensor) => mlpBlock(xs as tf.Tensor2D, gs as tf.Tensor1D, wfc as tf.Tensor2D, wproj as tf.Tensor2D);
    assertMatchesFallback("mlpBlock", mlp, [x, g, random([D, 12], "block-wfc"), random([12, D], "block-wproj")]);
    // Two rows of three positions, causal only.
    const wo = random([D, D], "block-wo");
    const causal = (xs: tf.Tensor, qkv: tf.Tensor, w: tf.Tensor) => attentionBlock(xs as tf.Tensor2D, qkv as tf.Tensor2D, w as tf.Tensor2D, 2, H);
    assertMatchesFallback("attentionBlock", causal, [x, random([6, 3 * D], "block-qkv"), wo]);
    // Four rows of four positions after two prefixes of (padded) length 5, the second 3 long;
    // rows 0, 1 and 3 continue prefix 1, row 2 prefix 0 (runs of 2, 1 and 1 rows).
    const after = (xs: tf.Tensor, qkv: tf.Tensor, w: tf.Tensor, pqkv: tf.Tensor) =>
      attentionBlock(xs as tf.Tensor2D, qkv as tf.Tensor2D, w as tf.Tensor2D, 4, H, { rowGroup: [1, 1, 0, 1], lengths: [5, 3], qkv: pqkv as tf.Tensor2D });
    assertMatchesFallback("attentionBlock after a prefix", after, [random([16, D], "block-x2"), random([16, 3 * D], "block-qkv2"), wo, random([10, 3 * D], "block-prefix")]);
    const prefix = { rowGroup: [1, 0, 1], lengths: [5, 3] };
    // Longer rows: the native causal products run in blocks of 32 positions (40 = 32 + 8).
    const long = (xs: tf.Tensor, qkv: tf.Tensor, w: tf.Tensor) => attentionBlock(xs as tf.Tensor2D, qkv as tf.Tensor2D, w as tf.Tensor2D, 2, H);
    assertMatchesFallback("attentionBlock, 40 positions", long, [random([80, D], "block-x3"), random([80, 3 * D], "block-qkv3"), wo]);
    const longAfter = (xs: tf.Tensor, qkv: tf.Tensor, w: tf.Tensor, pqkv: tf.Tensor) =>
      attentionBlock(xs as tf.Tensor2D, qkv as tf.Tensor2D, w as tf.Tensor2D, 3, H, { ...prefix, qkv: pqkv as tf.Tensor2D });
    assertMatchesFallback("attentionBlock, 33 positions after a prefix", longAfter, [random([99, D], "block-x4"), random([99, 3 * D], "block-qkv4"), wo, random([10, 3 * D], "block-prefix4")]);
  });
  assert.equal(tf.memory().numTensors, before);
});

test("fused ops keep weights (variables) by reference: same gradients as saved tensors, and an error if one changes before the backward pass", () => {
  if (!nativeMatMulAvailable()) return;
  const [x, g, values] = [random([6, 8], "ref-x"), tf.ones([8]), random([8, 5], "ref-w")];
  const before = tf.memory().numTensors;
  const w = tf.variable(values, true, "fused-ref/w") as tf.Variable<tf.Rank.R2>;
  const grads = (weight: tf.Tensor) => tf.tidy(() => Array.from(tf.grad((xs: tf.Tensor) => tf.sum(normDense(xs as tf.Tensor2D, g as tf.Tensor1D, weight as tf.Tensor2D)))(x).dataSync()));
  assert.deepEqual(grads(w), grads(values));
  assert.equal(tf.memory().numTensors, before + 1, "only the variable is new");
  // (A failed backward pass leaves tf's saved tensors behind; no count is checked after it.)
  assert.throws(
    () => tf.grad((xs: tf.Tensor) => {
      const y = normDense(xs as tf.Tensor2D, g as tf.Tensor1D, w);
      w.assign(tf.zerosLike(w));
      return tf.sum(y);
    })(x),
    /changed between the forward and the backward pass/,
  );
  tf.dispose([x, g, values, w]);
});

test("the fused optimizer kernels: squared norms of summed parts, and AdamW on parts with a clip factor, equal tf's", () => {
  if (!nativeMatMulAvailable()) return;
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const [a, b, c] = [random([700], "n-a"), random([700], "n-b"), random([3, 4], "n-c")];
    const got = nativeSquaredNorms([[a, b], [c]])!;
    const want = [tf.sum(tf.square(tf.add(a, b))).dataSync()[0], tf.sum(tf.square(c)).dataSync()[0]];
    want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-5 * w, `weight ${i}: ${got[i]} vs ${w}`));
  });
  // Three steps of AdamW (a decayed matrix and an undecayed gain), each gradient given as two
  // parts and scaled by 0.5, with the native kernel and with tf's ops.
  const run = (native: boolean) => {
    setNativeKernelsEnabled(native);
    try {
      const weights = tf.tidy(() => [tf.variable(random([5, 3], "adam-w"), true, "fused-adam/w"), tf.variable(random([3], "adam-g"), true, "fused-adam/g")]);
      const optimizer = new AdamW({ learningRate: 0.1, weightDecay: 0.1 });
      for (let step = 0; step < 3; step++) {
        const parts = new Map(weights.map((w, i) => [w.name, [random(w.shape, `part${i}a${step}`), random(w.shape, `part${i}b${step}`)]]));
        optimizer.applyGradientSums(parts, 0.5);
        tf.dispose([...parts.values()].flat());
      }
      const values = weights.map((w) => Array.from(w.dataSync()));
      optimizer.dispose();
      tf.dispose(weights);
      return values;
    } finally {
      setNativeKernelsEnabled(true);
    }
  };
  const [fast, plain] = [run(true), run(false)];
  fast.forEach((w, i) => w.forEach((x, j) => assert.ok(Math.abs(x - plain[i][j]) < 1e-6, `weight ${i}[${j}]: ${x} vs ${plain[i][j]}`)));
  assert.equal(tf.memory().numTensors, before);
});

const CONFIG: GPTConfig = { vocabSize: 23, blockSize: 12, dModel: 16, nLayer: 2, nHead: 2, mlpRatio: 4 };

/**
 * Four AdamW steps on a fixed batch: the losses and the final weights. The loss sums the
 * cross-entropy (sftLoss) and a policy-gradient-like term on tokenLogProbs (log-probs at a
 * temperature, plus an entropy bonus), so every fused kernel and its gradient takes part.
 */
function trainFewSteps(): { losses: number[]; weights: Map<string, Float32Array> } {
  const model = GPT.create(CONFIG, 7);
  const optimizer = new AdamW({ learningRate: 1e-2, weightDecay: 0.01 });
  const rng = new Rng("native-train-batch");
  const [B, T] = [3, CONFIG.blockSize];
  const ids = tf.tensor2d(Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(0, CONFIG.vocabSize - 1))), undefined, "int32");
  const targets = tf.tensor2d(Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(0, CONFIG.vocabSize - 1))), undefined, "int32");
  const mask = tf.tensor2d(Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t >= b ? 1 : 0))));
  const losses: number[] = [];
  const lossFn = () =>
    tf.tidy(() => {
      const { logprobs, entropy } = tokenLogProbs(model, ids, { temperature: 0.8, withEntropy: true });
      const policyTerm = tf.neg(tf.mean(tf.add(tf.mul(logprobs, mask), tf.mul(entropy!, 0.1))));
      return tf.add(sftLoss(model, ids, targets, mask), policyTerm) as tf.Scalar;
    });
  for (let s = 0; s < 4; s++) losses.push(optimizerStep(model, optimizer, lossFn, { clipNorm: 1 }).loss);
  const weights = new Map([...model.weights].map(([name, w]) => [name, w.dataSync() as Float32Array]));
  tf.dispose([ids, targets, mask]);
  optimizer.dispose();
  model.dispose();
  return { losses, weights };
}

// Float32 sums in another order differ by ~1e-7 relative per op; over four Adam steps (whose
// first steps move every weight by about +-lr whatever the gradient's size) the runs agree to
// these bounds. A wrong gradient (sign, transpose, missing term) misses them by orders of magnitude.
const LOSS_TOLERANCE = 1e-5;
const WEIGHT_TOLERANCE = 1e-4;

test("a few training steps give the same losses and weights on cpu, on wasm with native kernels, and on wasm without", async () => {
  const previous = tf.getBackend();
  await tf.setBackend("cpu");
  const cpu = trainFewSteps();
  await tf.setBackend(previous);
  const runs: [string, ReturnType<typeof trainFewSteps>][] = [];
  if (fastBackend === "wasm") {
    setNativeKernelsEnabled(false);
    runs.push(["wasm (tf kernels)", trainFewSteps()]);
    setNativeKernelsEnabled(true);
    if (nativeMatMulAvailable()) runs.push(["wasm (native kernels)", trainFewSteps()]);
  }
  assert.ok(cpu.losses[3] < cpu.losses[0], `training lowers the loss (${cpu.losses})`);
  for (const [name, run] of runs) {
    run.losses.forEach((loss, i) => assert.ok(Math.abs(loss - cpu.losses[i]) < LOSS_TOLERANCE, `${name} step ${i + 1}: loss ${loss} vs cpu ${cpu.losses[i]}`));
    for (const [weight, values] of cpu.weights) {
      const other = run.weights.get(weight)!;
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - other[i]));
      assert.ok(worst < WEIGHT_TOLERANCE, `${name} ${weight}: max |difference| ${worst} vs cpu`);
    }
  }
});

/**
 * Sibling groups as the RL update sees them: two prompts of different lengths (so one prefix is
 * padded), completions of different lengths (so rows are padded), one group's completions
 * sharing its prompt.
 */
function prefixExamples(): TrainingExample[] {
  const rng = new Rng("native-prefix-examples");
  const ids = (n: number) => Array.from({ length: n }, () => rng.int(1, CONFIG.vocabSize - 1));
  const groups: [number[], number[]][] = [
    [ids(5), [3, 6, 2]],
    [ids(3), [4, 1]],
  ];
  return groups.flatMap(([prompt, lengths], g) =>
    lengths.map((n, i) => ({
      taskId: `t${g}`,
      nodeId: i,
      turn: 1,
      promptIds: prompt,
      completionIds: ids(n),
      sampledLogprobs: Array.from({ length: n }, () => -Math.log(CONFIG.vocabSize)),
      advantage: i % 2 === 0 ? 1 : -0.5,
    })),
  );
}

/**
 * Four AdamW steps through the shared-prompt path: a policy-gradient-like loss on
 * logProbsAfterPrefix's log-probs at a temperature (through prefixAttention, the per-row copies
 * of the prefixes' keys and values, and the fused log-softmax), plus the entropy it returns.
 * Also the first step's log-probs, to compare with tokenLogProbs of the whole sequences.
 */
function trainFewStepsAfterPrefix(): { losses: number[]; weights: Map<string, Float32Array>; logprobs: number[][] } {
  const model = GPT.create(CONFIG, 11);
  const optimizer = new AdamW({ learningRate: 1e-2, weightDecay: 0.01 });
  const [batch] = sharedPromptBatches(prefixExamples(), 0, 16);
  const inputs = {
    prefixIds: tf.tensor2d(batch.prefixIds, undefined, "int32"),
    prefixLengths: batch.prefixLengths,
    ids: tf.tensor2d(batch.ids, undefined, "int32"),
    positions: tf.tensor2d(batch.positions, undefined, "int32"),
    targets: tf.tensor2d(batch.targets, undefined, "int32"),
    rowGroup: batch.rowGroup,
  };
  const mask = tf.tensor2d(batch.mask);
  const advantages = tf.tensor2d(batch.advantages, [batch.advantages.length, 1]);
  const logprobs = tf.tidy(() => logProbsAfterPrefix(model, inputs, { temperature: 0.8 }).logprobs.arraySync());
  const lossFn = () =>
    tf.tidy(() => {
      const { logprobs: lp, entropy } = logProbsAfterPrefix(model, inputs, { temperature: 0.8 });
      return tf.neg(tf.mean(tf.mul(tf.add(tf.mul(lp, advantages), tf.mul(entropy, 0.1)), mask))) as tf.Scalar;
    });
  const losses: number[] = [];
  for (let s = 0; s < 4; s++) losses.push(optimizerStep(model, optimizer, lossFn, { clipNorm: 1 }).loss);
  const weights = new Map([...model.weights].map(([name, w]) => [name, w.dataSync() as Float32Array]));
  tf.dispose([inputs.prefixIds, inputs.ids, inputs.positions, inputs.targets, mask, advantages]);
  optimizer.dispose();
  model.dispose();
  return { losses, weights, logprobs };
}

test("the shared-prompt path trains alike on cpu, on wasm with native kernels, and on wasm without", async () => {
  const previous = tf.getBackend();
  await tf.setBackend("cpu");
  const cpu = trainFewStepsAfterPrefix();
  await tf.setBackend(previous);
  const runs: [string, ReturnType<typeof trainFewStepsAfterPrefix>][] = [];
  if (fastBackend === "wasm") {
    setNativeKernelsEnabled(false);
    runs.push(["wasm (tf kernels)", trainFewStepsAfterPrefix()]);
    setNativeKernelsEnabled(true);
    if (nativeMatMulAvailable()) runs.push(["wasm (native kernels)", trainFewStepsAfterPrefix()]);
  }
  assert.ok(cpu.losses[3] < cpu.losses[0], `training lowers the loss (${cpu.losses})`);
  for (const [name, run] of runs) {
    run.logprobs.forEach((row, b) => row.forEach((lp, j) => assert.ok(Math.abs(lp - cpu.logprobs[b][j]) < 1e-5, `${name} log p [${b}, ${j}]: ${lp} vs cpu ${cpu.logprobs[b][j]}`)));
    run.losses.forEach((loss, i) => assert.ok(Math.abs(loss - cpu.losses[i]) < LOSS_TOLERANCE, `${name} step ${i + 1}: loss ${loss} vs cpu ${cpu.losses[i]}`));
    for (const [weight, values] of cpu.weights) {
      const other = run.weights.get(weight)!;
      let worst = 0;
      for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(values[i] - other[i]));
      assert.ok(worst < WEIGHT_TOLERANCE, `${name} ${weight}: max |difference| ${worst} vs cpu`);
    }
  }
});

test("on the backend in use, the shared-prompt log-probs equal tokenLogProbs of the whole sequences", () => {
  const model = GPT.create(CONFIG, 5);
  const examples = prefixExamples();
  const [batch] = sharedPromptBatches(examples, 0, 16);
  const before = tf.memory().numTensors;
  const [viaPrefix, entropy] = tf.tidy(() => {
    const out = logProbsAfterPrefix(model, {
      prefixIds: tf.tensor2d(batch.prefixIds, undefined, "int32"),
      prefixLengths: batch.prefixLengths,
      ids: tf.tensor2d(batch.ids, undefined, "int32"),
      positions: tf.tensor2d(batch.positions, undefined, "int32"),
      targets: tf.tensor2d(batch.targets, undefined, "int32"),
      rowGroup: batch.rowGroup,
    }, { temperature: 0.7 });
    return [out.logprobs.arraySync(), out.entropy.arraySync()];
  });
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  batch.exampleIndex.forEach((i, row) => {
    const e = examples[i];
    const whole = tf.tensor2d([[...e.promptIds, ...e.completionIds]], undefined, "int32");
    const direct = tokenLogProbs(model, whole, { temperature: 0.7, withEntropy: true });
    const [lp, ent] = [direct.logprobs.arraySync()[0], direct.entropy!.arraySync()[0]];
    tf.dispose([whole, direct.logprobs, direct.entropy!]);
    e.completionIds.forEach((_, j) => {
      const t = e.promptIds.length + j;
      assert.ok(Math.abs(viaPrefix[row][j] - lp[t]) < 1e-5, `example ${i} token ${j}: ${viaPrefix[row][j]} vs ${lp[t]}`);
      assert.ok(Math.abs(entropy[row][j] - ent[t]) < 1e-5, `example ${i} entropy ${j}: ${entropy[row][j]} vs ${ent[t]}`);
    });
  });
  model.dispose();
});

test("on wasm, Identity (how autodiff saves tensors) shares the buffer instead of copying it", () => {
  if (fastBackend !== "wasm") return;
  installWasmKernels();
  const x = tf.tensor1d([1, 2, 3]);
  const buffers = tf.memory().numDataBuffers;
  const y = tf.clone(x);
  assert.equal(y.dataId, x.dataId, "the same data");
  assert.equal(tf.memory().numDataBuffers, buffers, "no new buffer");
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3], "the clone outlives the original");
  y.dispose();
});

test("a native training step leaves no tensor and no byte behind", () => {
  trainFewSteps();
  trainFewStepsAfterPrefix();
  const [tensors, bytes] = [tf.memory().numTensors, tf.memory().numBytes];
  trainFewSteps();
  trainFewStepsAfterPrefix();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(tf.memory().numBytes, bytes);
});
