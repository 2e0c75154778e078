/**
 * The danfo.js view of result rows. Kept in its own file (its own process under the test runner):
 * danfojs-node brings its own TensorFlow.js, which must not meet the kit's in one process.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { toDataFrame } from "../src/report/danfo";
import type { Row } from "../src/experiments/summary";

test("toDataFrame: rows become a DataFrame with the same columns and values; groupby works", async () => {
  const rows: Row[] = [
    { method: "grpo", seed: 0, iter1_pass1: 0.2 },
    { method: "grpo", seed: 1, iter1_pass1: 0.4 },
    { method: "mars", seed: 0, iter1_pass1: 0.3, note: "x" },
  ];
  const df = await toDataFrame(rows);
  assert.deepEqual(df.shape, [3, 4]);
  assert.deepEqual(df.columns, ["method", "seed", "iter1_pass1", "note"]);
  assert.deepEqual(df.column("iter1_pass1").values, [0.2, 0.4, 0.3]);
  const means = df.groupby(["method"]).col(["iter1_pass1"]).mean();
  const byMethod = Object.fromEntries((means.values as [string, number][]).map(([m, v]) => [m, v]));
  assert.ok(Math.abs(byMethod.grpo - 0.3) < 1e-12, `grpo mean ${byMethod.grpo}`);
  assert.ok(Math.abs(byMethod.mars - 0.3) < 1e-12, `mars mean ${byMethod.mars}`);
  await assert.rejects(toDataFrame([]), /toDataFrame: no rows/);
});
