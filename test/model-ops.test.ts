/**
 * The fast ops of src/model/ops.ts against tf's own gradients of the straightforward formulas,
 * computed on the `cpu` backend (an independent code path: its kernels, its autodiff).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { batchMatMul, causalAttention, causalMask, dense, embedding, oneHotFloat, rmsNorm } from "../src/model/ops";
import { SLICED_MATMUL_MIN_ROWS, SLICED_MATMUL_MIN_WORK } from "../src/model/wasm-kernels";
import { Rng } from "../src/util/rng";

let fastBackend = "";
before(async () => {
  fastBackend = (await selectBackend()).tfName;
});

type Nested = number | Nested[];

function randomArray(shape: number[], rng: Rng, scale = 1): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: size }, () => scale * rng.normal());
}

/**
 * Runs `f` on `inputs` on the given backend and returns its value and the gradient of
 * sum(f(inputs) * dy) with respect to every input, as plain arrays.
 */
async function valueAndGrads(backend: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: { data: Float32Array; shape: number[] }[], dy: Float32Array): Promise<{ value: Float32Array; grads: Float32Array[] }> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const xs = inputs.map((x) => tf.tensor(x.data, x.shape));
      const value = f(...xs);
      const dyTensor = tf.tensor(dy, value.shape);
      const grads = tf.grads((...args: tf.Tensor[]) => f(...args))(xs, dyTensor);
      return { value: value.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
    });
  } finally {
    await tf.setBackend(previous);
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  assert.ok(worst <= tolerance, `${what}: worst relative error ${worst} at ${at} (got ${actual[at]}, expected ${expected[at]})`);
}

async function compareWithCpu(name: string, fast: (...xs: tf.Tensor[]) => tf.Tensor, reference: (...xs: tf.Tensor[]) => tf.Tensor, shapes: number[][], seed: number, tolerance = 1e-4): Promise<void> {
  const rng = new Rng(`ops-test/${name}/${seed}`);
  const inputs = shapes.map((shape) => ({ data: randomArray(shape, rng), shape }));
  const outShape = tf.tidy(() => reference(...inputs.map((x) => tf.zeros(x.shape))).shape);
  const dy = randomArray(outShape, rng);
  const before = tf.memory().numTensors;
  const got = await valueAndGrads(fastBackend, fast, inputs, dy);
  assert.equal(tf.memory().numTensors, before, `${name}: no tensors leak`);
  const want = await valueAndGrads("cpu", reference, inputs, dy);
  assertClose(got.value, want.value, tolerance, `${name} value`);
  got.grads.forEach((g, i) => assertClose(g, want.grads[i], tolerance, `${name} gradient of input ${i}`));
}

test("oneHotFloat gives real float one-hot rows (tf.oneHot with a float dtype gives zeros on wasm)", () => {
  const out = tf.tidy(() => oneHotFloat(tf.tensor1d([2, 0, 2], "int32"), 3).arraySync());
  assert.deepEqual(out, [
    [0, 0, 1],
    [1, 0, 0],
    [0, 0, 1],
  ]);
});

test("dense matches tf.matMul and its gradient (both weight-gradient layouts)", async () => {
  const reference = (x: tf.Tensor, w: tf.Tensor) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D);
  const fast = (x: tf.Tensor, w: tf.Tensor) => dense(x as tf.Tensor2D, w as tf.Tensor2D);
  await compareWithCpu("dense wide", fast, reference, [[37, 8], [8, 24]], 1); // E > D: x^T @ dy
  await compareWithCpu("dense narrow", fast, reference, [[37, 24], [24, 8]], 2); // E < D: (dy^T @ x)^T
});

test("embedding matches tf.gather and its gradient, with repeated ids summed into one row", async () => {
  const ids = [3, 0, 3, 5, 1, 3, 0];
  const makeIds = () => tf.tensor1d(ids, "int32");
  await compareWithCpu(
    "embedding",
    (table) => tf.tidy(() => embedding(makeIds(), table as tf.Tensor2D)),
    (table) => tf.gather(table, makeIds()),
    [[6, 4]],
    3,
  );
  // By hand: row 3 receives the upstream gradient of positions 0, 2 and 5; row 2 and 4 none.
  const grad = tf.tidy(() => {
    const dy = tf.tensor2d(ids.map((_, i) => [i + 1, 0]), [ids.length, 2]);
    return tf.grad((t: tf.Tensor) => embedding(makeIds(), t as tf.Tensor2D))(tf.zeros([6, 2]), dy).arraySync() as number[][];
  });
  assert.deepEqual(grad.map((row) => row[0]), [2 + 7, 5, 0, 1 + 3 + 6, 0, 4]);
  assert.throws(() => embedding(tf.tensor1d([0.5]), tf.zeros([2, 2])), /ids must be int32/);
});

test("rmsNorm matches the autodiff of x * g / sqrt(mean(x^2) + eps)", async () => {
  const reference = (x: tf.Tensor, g: tf.Tensor) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-5))), g);
  await compareWithCpu("rmsNorm", (x, g) => rmsNorm(x as tf.Tensor2D, g as tf.Tensor1D), reference, [[13, 16], [16]], 4);
  // By hand: x = [3, 4], g = [1, 2]: rms = sqrt(12.5 + 1e-5).
  const y = tf.tidy(() => rmsNorm(tf.tensor2d([[3, 4]]), tf.tensor1d([1, 2])).arraySync() as number[][]);
  const rms = Math.sqrt(12.5 + 1e-5);
  assertClose(y[0], [3 / rms, 8 / rms], 1e-6, "rmsNorm by hand");
});

function referenceAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const [, T, hd] = q.shape;
  const scores = tf.add(tf.div(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true), Math.sqrt(hd)), causalMask(T));
  return tf.matMul(tf.softmax(scores) as tf.Tensor3D, v as tf.Tensor3D);
}

test("causalAttention matches softmax(q k^T / sqrt(hd) + mask) v and its gradient", async () => {
  const fast = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => causalAttention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D);
  await compareWithCpu("attention small", fast, referenceAttention, [[6, 9, 4], [6, 9, 4], [6, 9, 4]], 5);
  // Small slices take tf.matMul; large ones the per-slice XNNPACK kernel on wasm.
  assert.ok(9 * 4 * 9 < SLICED_MATMUL_MIN_WORK);
  assert.ok(128 * 32 * 128 >= SLICED_MATMUL_MIN_WORK && 128 >= SLICED_MATMUL_MIN_ROWS);
  await compareWithCpu("attention sliced", fast, referenceAttention, [[2, 128, 32], [2, 128, 32], [2, 128, 32]], 6, 2e-4);
});

test("causalAttention is causal: output t does not depend on keys or values after t", () => {
  const [a, b] = tf.tidy(() => {
    const rng = new Rng("causal");
    const q = tf.tensor3d(randomArray([1, 5, 4], rng), [1, 5, 4]);
    const k = tf.tensor3d(randomArray([1, 5, 4], rng), [1, 5, 4]);
    const v = tf.tensor3d(randomArray([1, 5, 4], rng), [1, 5, 4]);
    // Change only the last position's key and value.
    const bump = tf.concat([tf.zeros([1, 4, 4]), tf.fill([1, 1, 4], 3)], 1);
    return [causalAttention(q, k, v).arraySync(), causalAttention(q, tf.add(k, bump) as tf.Tensor3D, tf.add(v, bump) as tf.Tensor3D).arraySync()] as number[][][][];
  });
  assert.deepEqual(a[0].slice(0, 4), b[0].slice(0, 4));
  assert.notDeepEqual(a[0][4], b[0][4]);
});

test("batchMatMul matches tf.matMul and its gradient on both paths", async () => {
  const reference = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D);
  const fast = (a: tf.Tensor, b: tf.Tensor) => batchMatMul(a as tf.Tensor3D, b as tf.Tensor3D);
  await compareWithCpu("batchMatMul small", fast, reference, [[3, 5, 7], [3, 7, 2]], 7);
  await compareWithCpu("batchMatMul sliced", fast, reference, [[3, 96, 64], [3, 64, 80]], 8, 2e-4);
});
