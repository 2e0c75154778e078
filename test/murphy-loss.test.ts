import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/backend";
import { grpoLoss, type LossInputs, type LossOptions } from "../src/murphy/loss";
import { nativeMatMulAvailable, setNativeKernelsEnabled } from "../src/model/native-kernels";

before(async () => {
  await selectBackend();
});

/*
 * Two sequences, three tokens. mask [[1, 1, 0], [1, 1, 1]]: (0, 2) is padding after the stop
 * token (log-probs -Infinity, so logp - logp_old is NaN there, which must not leak). Advantages
 * of unequal size and sequences of unequal length, so no two errors can cancel.
 *   seq 0, A = 1.5:  (0,0) ratio e^-.5   < 1 - epsLow but A > 0: not clipped
 *                    (0,1) ratio e^.5    > 1 + epsHigh: clipped from above
 *   seq 1, A = -.5:  (1,0) ratio e^-.1   inside the clip range
 *                    (1,1) ratio e^-1    < 1 - epsLow: clipped from below
 *                    (1,2) ratio e^.5    > 1 + epsHigh but A < 0: not clipped
 */
const EPS_LOW = 0.2, EPS_HIGH = 0.3;
const NEW = [[-1.5, -0.5, -Infinity], [-0.3, -2.0, -0.5]];
const OLD = [[-1.0, -1.0, -Infinity], [-0.2, -1.0, -1.0]];
const REF = [[-1.2, -0.5, -0.9], [-0.4, -1.5, -1.0]];
const MASK = [[1, 1, 0], [1, 1, 1]];
const ADV = [1.5, -0.5];
const ENTROPY = [[0.5, 1.5, 9], [0.25, 2.0, 1.0]];
const COMPLETION: [number, number][] = [[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]];

// Plain arithmetic, independent of the implementation.
const ratio = (i: number, j: number) => Math.exp(NEW[i][j] - OLD[i][j]);
const k3 = (i: number, j: number) => {
  const d = REF[i][j] - NEW[i][j];
  return Math.exp(d) - d - 1;
};
const clip = (x: number) => Math.min(Math.max(x, 1 - EPS_LOW), 1 + EPS_HIGH);
const surrogate = (i: number, j: number) => Math.min(ratio(i, j) * ADV[i], clip(ratio(i, j)) * ADV[i]);
const perToken = (i: number, j: number, beta: number) => -surrogate(i, j) + beta * k3(i, j);

function inputs(logprobs: tf.Tensor2D): LossInputs {
  return {
    logprobs,
    oldLogprobs: tf.tensor2d(OLD),
    refLogprobs: tf.tensor2d(REF),
    advantages: tf.tensor1d(ADV),
    mask: tf.tensor2d(MASK),
    entropy: tf.tensor2d(ENTROPY),
  };
}

function disposeInputs(x: LossInputs): void {
  tf.dispose([x.oldLogprobs, x.refLogprobs!, x.advantages, x.mask, x.entropy!]);
}

function lossValue(options: LossOptions): number {
  const lp = tf.tensor2d(NEW);
  const x = inputs(lp);
  const { loss } = grpoLoss(x, options);
  const value = loss.dataSync()[0];
  tf.dispose([loss, lp]);
  disposeInputs(x);
  return value;
}

function gradient(options: LossOptions): number[][] {
  const lp = tf.tensor2d(NEW);
  const others = inputs(lp);
  const g = tf.grad((logprobs: tf.Tensor) => grpoLoss({ ...others, logprobs: logprobs as tf.Tensor2D }, options).loss)(lp);
  const out = g.arraySync() as number[][];
  tf.dispose([g, lp]);
  disposeInputs(others);
  return out;
}

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: got ${a}, expected ${b}`);

test("the hand-computed example has the intended clipping pattern", () => {
  assert.ok(ratio(0, 0) < 1 - EPS_LOW && surrogate(0, 0) === ratio(0, 0) * ADV[0]);
  assert.ok(ratio(1, 0) > 1 - EPS_LOW && ratio(1, 0) < 1 + EPS_HIGH);
  assert.ok(ratio(0, 1) > 1 + EPS_HIGH && surrogate(0, 1) === (1 + EPS_HIGH) * ADV[0]);
  assert.ok(ratio(1, 1) < 1 - EPS_LOW && surrogate(1, 1) === (1 - EPS_LOW) * ADV[1]);
  assert.ok(ratio(1, 2) > 1 + EPS_HIGH && surrogate(1, 2) === ratio(1, 2) * ADV[1]);
});

test("loss equals the hand computation for each normalisation, with and without KL", () => {
  for (const beta of [0, 0.1]) {
    const sum = COMPLETION.reduce((a, [i, j]) => a + perToken(i, j, beta), 0);
    const base = { epsLow: EPS_LOW, epsHigh: EPS_HIGH, beta };
    close(lossValue({ ...base, normalization: "token" }), sum / 5, 1e-5, `token beta ${beta}`);
    const seq0 = (perToken(0, 0, beta) + perToken(0, 1, beta)) / 2;
    const seq1 = (perToken(1, 0, beta) + perToken(1, 1, beta) + perToken(1, 2, beta)) / 3;
    close(lossValue({ ...base, normalization: "sequence" }), (seq0 + seq1) / 2, 1e-5, `sequence beta ${beta}`);
    close(lossValue({ ...base, normalization: "constant" }), sum / (2 * 3), 1e-5, `constant beta ${beta}`);
    close(lossValue({ ...base, normalization: "constant", maxTokens: 10 }), sum / 20, 1e-5, `constant/10 beta ${beta}`);
    // One micro-batch of a batch with 10 completion tokens / 5 sequences.
    close(lossValue({ ...base, normalization: "token", batchTokens: 10 }), sum / 10, 1e-5, `token/10 beta ${beta}`);
    close(lossValue({ ...base, normalization: "sequence", batchSequences: 5 }), (seq0 + seq1) / 5, 1e-5, `sequence/5 beta ${beta}`);
  }
});

test("a sequence without completion tokens adds 0 but still counts (sequence normalisation)", () => {
  const lp = tf.tensor2d(NEW);
  const x = inputs(lp);
  const emptySecond = tf.tensor2d([[1, 1, 0], [0, 0, 0]]);
  const { loss, diagnostics } = grpoLoss({ ...x, mask: emptySecond }, { epsLow: EPS_LOW, epsHigh: EPS_HIGH, beta: 0, normalization: "sequence" });
  close(loss.dataSync()[0], (perToken(0, 0, 0) + perToken(0, 1, 0)) / 2 / 2, 1e-5, "sequence loss");
  assert.equal(diagnostics.tokens, 2);
  tf.dispose([loss, lp, emptySecond]);
  disposeInputs(x);
});

test("gradient is zero on masked and clipped positions and matches the hand derivative elsewhere", () => {
  // d(-min(rho A, clip(rho) A))/d logp = -rho A where unclipped, 0 where the clip is active;
  // d(beta k3)/d logp = beta (1 - exp(ref - logp)). Token normalisation divides by 5.
  for (const beta of [0, 0.1]) {
    const g = gradient({ epsLow: EPS_LOW, epsHigh: EPS_HIGH, beta, normalization: "token" });
    const kl = (i: number, j: number) => beta * (1 - Math.exp(REF[i][j] - NEW[i][j]));
    const expected = [
      [(-ratio(0, 0) * ADV[0] + kl(0, 0)) / 5, (0 + kl(0, 1)) / 5, 0],
      [(-ratio(1, 0) * ADV[1] + kl(1, 0)) / 5, (0 + kl(1, 1)) / 5, (-ratio(1, 2) * ADV[1] + kl(1, 2)) / 5],
    ];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) close(g[i][j], expected[i][j], 1e-5, `grad[${i}][${j}] beta ${beta}`);
    // The masked position: exactly zero, never NaN (its log-probs are -Infinity).
    assert.equal(g[0][2], 0);
    if (beta === 0) {
      assert.equal(g[0][1], 0, "clipped from above: no gradient");
      assert.equal(g[1][1], 0, "clipped from below: no gradient");
      assert.notEqual(g[1][2], 0, "A < 0 with a large ratio is not clipped");
      assert.notEqual(g[0][0], 0, "A > 0 with a small ratio is not clipped");
    }
  }
});

test("diagnostics equal the hand computation over completion tokens", () => {
  const lp = tf.tensor2d(NEW);
  const x = inputs(lp);
  const { loss, diagnostics: d } = grpoLoss(x, { epsLow: EPS_LOW, epsHigh: EPS_HIGH, beta: 0.1, normalization: "token" });
  tf.dispose([loss, lp]);
  disposeInputs(x);
  const ratios = COMPLETION.map(([i, j]) => ratio(i, j));
  assert.equal(d.tokens, 5);
  close(d.clipLowFrac, 1 / 5, 0, "clipLowFrac");
  close(d.clipHighFrac, 1 / 5, 0, "clipHighFrac");
  close(d.clipFrac, 2 / 5, 0, "clipFrac");
  close(d.ratioMean, ratios.reduce((a, b) => a + b) / 5, 1e-6, "ratioMean");
  close(d.ratioMin, Math.exp(-1), 1e-6, "ratioMin");
  close(d.ratioMax, Math.exp(0.5), 1e-6, "ratioMax");
  close(d.approxKl, ratios.reduce((a, r) => a + (r - 1 - Math.log(r)), 0) / 5, 1e-6, "approxKl");
  close(d.kl!, COMPLETION.reduce((a, [i, j]) => a + k3(i, j), 0) / 5, 1e-6, "kl");
  close(d.entropy!, (0.5 + 1.5 + 0.25 + 2.0 + 1.0) / 5, 1e-6, "entropy");
});

test("no tensor leak, with or without gradient", () => {
  const lp = tf.tensor2d(NEW);
  const x = inputs(lp);
  const options: LossOptions = { epsLow: EPS_LOW, epsHigh: EPS_HIGH, beta: 0.1, normalization: "sequence" };
  const before = tf.memory().numTensors;
  for (let k = 0; k < 3; k++) {
    const { loss } = grpoLoss(x, options);
    loss.dispose();
    const g = tf.grad((logprobs: tf.Tensor) => grpoLoss({ ...x, logprobs: logprobs as tf.Tensor2D }, options).loss)(lp);
    g.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(lp);
  disposeInputs(x);
});

test("bad inputs are rejected with the field and the expected value", () => {
  const lp = tf.tensor2d(NEW);
  const x = inputs(lp);
  const ok: LossOptions = { epsLow: EPS_LOW, epsHigh: EPS_HIGH, beta: 0.1, normalization: "token" };
  assert.throws(() => grpoLoss({ ...x, refLogprobs: undefined }, ok), /refLogprobs is required when beta > 0/);
  const wrongMask = tf.tensor2d([[1, 1], [1, 1]]);
  assert.throws(() => grpoLoss({ ...x, mask: wrongMask }, ok), /mask must have shape \[2, 3\] \(got \[2, 2\]\)/);
  const fractional = tf.tensor2d([[1, 0.5, 0], [1, 1, 1]]);
  assert.throws(() => grpoLoss({ ...x, mask: fractional }, ok), /mask must hold only 0 and 1 \(got 0.5 at \[0, 1\]\)/);
  assert.throws(() => grpoLoss(x, { ...ok, epsLow: 1 }), /epsLow must be a number in \[0, 1\) \(got 1\)/);
  assert.throws(() => grpoLoss(x, { ...ok, normalization: "mean" as "token" }), /normalization must be "token", "sequence" or "constant"/);
  tf.dispose([lp, wrongMask, fractional]);
  disposeInputs(x);
});

test("where the native kernels run, the fused loss (one custom op) gives tf's loss and gradient", () => {
  if (!nativeMatMulAvailable()) return;
  const before = tf.memory().numTensors;
  const normalizations: Partial<LossOptions>[] = [
    { normalization: "token" },
    { normalization: "token", batchTokens: 10 },
    { normalization: "sequence" },
    { normalization: "sequence", batchSequences: 5 },
    { normalization: "constant" },
    { normalization: "constant", maxTokens: 10 },
  ];
  for (const beta of [0, 0.1]) {
    for (const extra of normalizations) {
      const options = { epsLow: EPS_LOW, epsHigh: EPS_HIGH, beta, normalization: "token", ...extra } as LossOptions;
      const fused = [lossValue(options), gradient(options)] as const;
      setNativeKernelsEnabled(false);
      const plain = [lossValue(options), gradient(options)] as const;
      setNativeKernelsEnabled(true);
      const what = `${JSON.stringify(extra)} beta ${beta}`;
      close(fused[0], plain[0], 1e-6, `loss ${what}`);
      fused[1].forEach((row, i) => row.forEach((g, j) => close(g, plain[1][i][j], 1e-7, `grad[${i}][${j}] ${what}`)));
    }
  }
  assert.equal(tf.memory().numTensors, before);
});
