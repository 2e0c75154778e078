import { test } from "node:test";
import assert from "node:assert/strict";
import { iterPassRates, passAtK } from "../src/eval/passk";

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
  return r;
}

test("passAtK equals 1 - C(n-c,k)/C(n,k) computed with binomials", () => {
  for (const [n, c, k] of [[5, 2, 1], [5, 2, 2], [10, 3, 4], [4, 0, 2], [4, 4, 1], [6, 5, 2]]) {
    const expected = n - c < k ? 1 : 1 - choose(n - c, k) / choose(n, k);
    assert.ok(Math.abs(passAtK(n, c, k) - expected) < 1e-12, `n=${n} c=${c} k=${k}`);
  }
  assert.ok(Math.abs(passAtK(5, 2, 1) - 0.4) < 1e-12); // by hand: 2 of 5
  assert.throws(() => passAtK(3, 4, 1), /0 <= c <= n/);
});

test("iterPassRates: Iter-k pass@1 counts chains solved within k turns", () => {
  // Two tasks, two chains each. Task A: solved at turn 1 and turn 3. Task B: solved at turn 2, never.
  const solved = [[1, 3], [2, 0]];
  const { iterPass1, passAtK: table } = iterPassRates(solved, 3);
  // Iter-1: A 1/2, B 0 -> 0.25. Iter-2: A 1/2, B 1/2 -> 0.5. Iter-3: A 1, B 1/2 -> 0.75.
  assert.deepEqual(iterPass1, [0.25, 0.5, 0.75]);
  // pass@2 at Iter-1: A has c=1 of n=2 -> 1; B c=0 -> 0; mean 0.5.
  assert.equal(table[0][1], 0.5);
  assert.equal(table[2][1], 1);
  assert.equal(table[2][0], iterPass1[2]);
});
