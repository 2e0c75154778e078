/**
 * The custom wasm kernels: they must be used where intended (checked with tf.profile) and give
 * the same numbers as tf's own ops; on other backends the wrappers fall back to tf.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { nativeMatMulAvailable, setNativeKernelsEnabled } from "../src/model/native-kernels";
import { batchMatMul } from "../src/model/ops";
import { gatherRows, slicedBatchMatMul } from "../src/model/wasm-kernels";
import { Rng } from "../src/util/rng";

before(async () => {
  await selectBackend();
});

const onWasm = () => tf.getBackend() === "wasm";

function random(shape: number[], seed: string): tf.Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => rng.normal()), shape);
}

async function kernelsUsed(f: () => void): Promise<string[]> {
  const profile = await tf.profile(() => {
    f();
    return tf.scalar(0);
  });
  return profile.kernels.map((k) => k.name);
}

test("slicedBatchMatMul equals tf.matMul slice for slice (odd sizes, one slice, many slices)", () => {
  for (const [G, M, K, N] of [
    [3, 17, 5, 9],
    [1, 8, 8, 8],
    [40, 9, 3, 2],
  ]) {
    const before = tf.memory().numTensors;
    const [got, want] = tf.tidy(() => {
      const a = random([G, M, K], `a${G}`) as tf.Tensor3D;
      const b = random([G, K, N], `b${G}`) as tf.Tensor3D;
      const sliced = slicedBatchMatMul(a, b);
      if (onWasm()) assert.ok(sliced, "available on wasm");
      else assert.equal(sliced, null);
      return [(sliced ?? tf.matMul(a, b)).dataSync(), tf.matMul(a, b).dataSync()];
    });
    assert.equal(tf.memory().numTensors, before);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4 * Math.max(1, Math.abs(want[i])), `[${G},${M},${K},${N}] element ${i}`);
  }
});

test("batchMatMul takes OpenBLAS when built; else the sliced kernel for many-row slices and tf.matMul for single-row ones", async () => {
  if (!onWasm()) return;
  const a = tf.ones([4, 64, 32]) as tf.Tensor3D;
  const b = tf.ones([4, 32, 64]) as tf.Tensor3D;
  const row = tf.ones([4, 1, 32]) as tf.Tensor3D;
  let sum = 0;
  if (nativeMatMulAvailable()) {
    const native = await kernelsUsed(() => tf.tidy(() => void (sum = batchMatMul(a, b).sum().dataSync()[0])));
    assert.equal(sum, 4 * 64 * 64 * 32);
    assert.ok(native.includes("MurphyNativeGemm") && !native.includes("BatchMatMul"), native.join(","));
  }
  setNativeKernelsEnabled(false);
  try {
    const big = await kernelsUsed(() => tf.tidy(() => void (sum = batchMatMul(a, b).sum().dataSync()[0])));
    assert.equal(sum, 4 * 64 * 64 * 32);
    assert.ok(big.includes("MurphySlicedBatchMatMul"), big.join(","));
    const single = await kernelsUsed(() => tf.tidy(() => void batchMatMul(row, b).dataSync()));
    assert.ok(!single.includes("MurphySlicedBatchMatMul") && single.includes("BatchMatMul"), single.join(","));
  } finally {
    setNativeKernelsEnabled(true);
    tf.dispose([a, b, row]);
  }
});

test("gatherRows picks, reorders and repeats rows like tf.gather, through the fast kernel on wasm", async () => {
  const x = random([5, 3, 2], "gather");
  const rows = [4, 0, 0, 2];
  const want = tf.tidy(() => tf.gather(x, tf.tensor1d(rows, "int32")).arraySync());
  let got: unknown;
  const kernels = await kernelsUsed(() => {
    const out = gatherRows(x, rows);
    got = out.arraySync();
    out.dispose();
  });
  assert.deepEqual(got, want);
  if (onWasm()) assert.ok(kernels.includes("MurphyGatherRows"), kernels.join(","));
  const empty = gatherRows(x, []);
  assert.deepEqual(empty.shape, [0, 3, 2]);
  empty.dispose();
  assert.throws(() => gatherRows(x, [5]), /row 5 is outside \[0, 5\)/);
  x.dispose();
});
