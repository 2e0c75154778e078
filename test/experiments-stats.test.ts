import { test } from "node:test";
import assert from "node:assert/strict";
import { mean, sampleStd, studentTQuantile, tInterval } from "../src/experiments/stats";

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (tol ${tol})`);

test("t quantiles: closed forms for 1 dof (Cauchy) and 2 dof over the whole range", () => {
  for (const p of [0.01, 0.2, 0.5, 0.7, 0.9, 0.999]) {
    close(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)), 1e-9, `t(${p},1)`);
    close(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-10, `t(${p},2)`);
  }
});

test("t quantiles: closed forms for 1 and 2 dof, printed tables for more", () => {
  // dof 1: tan(pi (p - 1/2)); dof 2: (2p - 1) / sqrt(2 p (1 - p)).
  close(studentTQuantile(0.975, 1), Math.tan(Math.PI * 0.475), 1e-9, "t(.975,1)");
  close(studentTQuantile(0.975, 2), 0.95 / Math.sqrt(2 * 0.975 * 0.025), 1e-10, "t(.975,2)");
  close(studentTQuantile(0.9, 2), 0.8 / Math.sqrt(2 * 0.9 * 0.1), 1e-10, "t(.9,2)");
  // Standard table values (any statistics textbook), 3 decimals.
  const table: [number, number][] = [[3, 3.182], [4, 2.776], [5, 2.571], [9, 2.262], [10, 2.228], [30, 2.042], [120, 1.98]];
  for (const [dof, t] of table) close(studentTQuantile(0.975, dof), t, 6e-4, `t(.975,${dof})`);
  close(studentTQuantile(0.025, 4), -studentTQuantile(0.975, 4), 1e-12, "symmetry");
  assert.throws(() => studentTQuantile(1, 3), /p must be in \(0, 1\) \(got 1\)/);
  assert.throws(() => studentTQuantile(0.5, 0), /dof must be > 0 \(got 0\)/);
});

test("tInterval by hand: three seeds 0.2, 0.3, 0.4", () => {
  // mean 0.3; s = sqrt((0.01 + 0 + 0.01) / 2) = 0.1; half = t(.975,2) * 0.1 / sqrt(3)
  const t2 = 0.95 / Math.sqrt(2 * 0.975 * 0.025); // 4.302653
  const ci = tInterval([0.2, 0.3, 0.4]);
  assert.equal(ci.n, 3);
  close(ci.mean, 0.3, 1e-15, "mean");
  close(ci.std, 0.1, 1e-15, "std");
  close(ci.halfWidth, (t2 * 0.1) / Math.sqrt(3), 1e-10, "half");
  close(ci.halfWidth, 0.248414, 1e-6, "half (printed)");
  close(ci.low, 0.3 - 0.248414, 1e-6, "low");
  close(ci.high, 0.3 + 0.248414, 1e-6, "high");
});

test("tInterval: two seeds use 12.706; one seed has no interval; equal values have zero width", () => {
  // mean 0.5, s = sqrt(2 * 0.1^2 / 1) = 0.141421, half = 12.7062 * 0.141421 / sqrt(2) = 1.27062
  const two = tInterval([0.4, 0.6]);
  close(two.halfWidth, Math.tan(Math.PI * 0.475) * 0.1, 1e-9, "half (2 seeds)");
  const one = tInterval([0.7]);
  assert.equal(one.mean, 0.7);
  assert.ok(Number.isNaN(one.halfWidth) && Number.isNaN(one.low) && Number.isNaN(one.std));
  const same = tInterval([0.25, 0.25, 0.25]);
  assert.equal(same.halfWidth, 0);
  assert.ok(Number.isNaN(mean([])));
  assert.ok(Number.isNaN(sampleStd([1])));
});
