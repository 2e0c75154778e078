import { test } from "node:test";
import assert from "node:assert/strict";
import { propagatedRewards } from "../src/murphy/credit";
import { groupAdvantages, treeAdvantages, standardDeviation } from "../src/murphy/advantages";
import { scoreTree, type ScoreOptions } from "../src/murphy/pipeline";
import { toyTree } from "../src/murphy/toy-tree";
import { checkTree } from "../src/murphy/tree-check";
import { Rng } from "../src/util/rng";

function assertClose(actual: readonly number[], expected: readonly number[], tol = 1e-12, what = ""): void {
  assert.equal(actual.length, expected.length, `${what} length`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol, `${what}[${i}]: got ${a}, expected ${expected[i]}`));
}

/*
 * Three turns. Ids are breadth-first:
 *   turn 1: a0 (r .5)            b1 (r 1)    c2 (r 0)
 *   turn 2: d3 (.25) e4 (.75)  <- a          f5 (0)  g6 (.5)  <- c
 *   turn 3: h7 (1)   i8 (0)    <- d          j9 (0)  k10 (0)  <- f
 */
const tree = toyTree([
  { reward: 0.5, children: [{ reward: 0.25, children: [{ reward: 1 }, { reward: 0 }] }, { reward: 0.75 }] },
  { reward: 1 },
  { reward: 0, children: [{ reward: 0, children: [{ reward: 0 }, { reward: 0 }] }, { reward: 0.5 }] },
]);
const r = tree.nodes.map((n) => n.reward);

test("toy tree has the intended shape", () => {
  checkTree(tree);
  assert.deepEqual(tree.nodes.map((n) => n.turn), [1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
  assert.deepEqual(tree.nodes[0].children, [3, 4]);
  assert.deepEqual(tree.nodes[5].children, [9, 10]);
  assert.deepEqual(r, [0.5, 1, 0, 0.25, 0.75, 0, 0.5, 1, 0, 0, 0]);
});

test("MaRS, gamma 1, keepOwn: expanded R = max(r, max R(children))", () => {
  const R = propagatedRewards(tree, { strategy: "mars", gamma: 1, keepOwn: true });
  const d = Math.max(0.25, Math.max(1, 0)); // 1
  const f = Math.max(0, Math.max(0, 0)); // 0
  const a = Math.max(0.5, Math.max(d, 0.75)); // 1
  const c = Math.max(0, Math.max(f, 0.5)); // 0.5
  assertClose(R, [a, 1, c, d, 0.75, f, 0.5, 1, 0, 0, 0]);
  assertClose(R, [1, 1, 0.5, 1, 0.75, 0, 0.5, 1, 0, 0, 0]);
});

test("MaRS, gamma 0.9: one discount per turn of delay", () => {
  const R = propagatedRewards(tree, { strategy: "mars", gamma: 0.9, keepOwn: true });
  // d = max(.25, .9*1) = .9; a = max(.5, .9*max(.9, .75)) = .81; c = max(0, .9*.5) = .45.
  assertClose(R, [0.81, 1, 0.45, 0.9, 0.75, 0, 0.5, 1, 0, 0, 0], 1e-12, "R");
});

test("MeRS, gamma 1, keepOwn: expanded R = max(r, mean R(children))", () => {
  const R = propagatedRewards(tree, { strategy: "mers", gamma: 1, keepOwn: true });
  // d = max(.25, (1+0)/2) = .5; f = 0; a = max(.5, (.5+.75)/2) = .625; c = max(0, (0+.5)/2) = .25.
  assertClose(R, [0.625, 1, 0.25, 0.5, 0.75, 0, 0.5, 1, 0, 0, 0]);
});

test("MeRS, gamma 0.9, keepOwn false: R = gamma * mean R(children)", () => {
  const R = propagatedRewards(tree, { strategy: "mers", gamma: 0.9, keepOwn: false });
  // d = .9*.5 = .45; f = .9*0 = 0; a = .9*(.45+.75)/2 = .54; c = .9*(0+.5)/2 = .225.
  assertClose(R, [0.54, 1, 0.225, 0.45, 0.75, 0, 0.5, 1, 0, 0, 0], 1e-12, "R");
});

test("keepOwn false can credit an attempt below its own reward", () => {
  const R = propagatedRewards(tree, { strategy: "mars", gamma: 0.5, keepOwn: false });
  // d = .5*1 = .5; a = .5*max(.5, .75) = .375 < r(a) = .5; c = .5*max(0, .5) = .25.
  assertClose(R, [0.375, 1, 0.25, 0.5, 0.75, 0, 0.5, 1, 0, 0, 0]);
  const kept = propagatedRewards(tree, { strategy: "mars", gamma: 0.5, keepOwn: true });
  assert.equal(kept[0], 0.5);
});

test("bad credit options and broken trees are rejected with a clear message", () => {
  assert.throws(() => propagatedRewards(tree, { strategy: "max" as "mars", gamma: 1, keepOwn: true }), /strategy must be "mars" or "mers"/);
  assert.throws(() => propagatedRewards(tree, { strategy: "mars", gamma: 1.5, keepOwn: true }), /gamma must be a number in \[0, 1\] \(got 1.5\)/);
  const broken = toyTree([{ reward: 0, children: [{ reward: 1 }] }], "t-1");
  broken.nodes[1].turn = 3;
  assert.throws(() => propagatedRewards(broken, { strategy: "mars", gamma: 1, keepOwn: true }), /tree "t-1": node 1 is a child of node 0 \(turn 1\) so its turn must be 2 \(got 3\)/);
  const badReward = toyTree([{ reward: 0 }, { reward: 1 }], "t-2");
  badReward.nodes[1].reward = 1.5;
  assert.throws(() => checkTree(badReward), /tree "t-2": node 1 reward must be a number in \[0, 1\] \(got 1.5\)/);
});

test("advantages: sibling-group normalisation by hand (MaRS R, population std)", () => {
  const R = propagatedRewards(tree, { strategy: "mars", gamma: 1, keepOwn: true });
  const A = treeAdvantages(tree, R, { scale: "std", eps: 1e-4, std: "population" });
  // Group {a, b, c}, R = (1, 1, .5): mean 5/6, deviations (1/6, 1/6, -1/3), var = 1/18.
  const s1 = Math.sqrt(1 / 18) + 1e-4;
  // Group {d, e}, R = (1, .75): mean .875, deviations (.125, -.125), std .125.
  const s2 = 0.125 + 1e-4;
  // Group {f, g}, R = (0, .5): deviations (-.25, .25), std .25.
  const s3 = 0.25 + 1e-4;
  // Group {h, i}, R = (1, 0): deviations (.5, -.5), std .5. Group {j, k} = (0, 0): all 0.
  const s4 = 0.5 + 1e-4;
  const expected = [1 / 6 / s1, 1 / 6 / s1, -1 / 3 / s1, 0.125 / s2, -0.125 / s2, -0.25 / s3, 0.25 / s3, 0.5 / s4, -0.5 / s4, 0, 0];
  assertClose(A, expected, 1e-12, "A");
});

test("advantages with group = turn pool a task's candidates of one turn", () => {
  const R = propagatedRewards(tree, { strategy: "mars", gamma: 1, keepOwn: true });
  const A = treeAdvantages(tree, R, { scale: "none", eps: 0, std: "population", group: "turn" });
  // Turn 1 (1, 1, .5): mean 5/6. Turn 2 {d, e, f, g} = (1, .75, 0, .5): mean .5625.
  // Turn 3 {h, i, j, k} = (1, 0, 0, 0): mean .25.
  const expected = [1 / 6, 1 / 6, -1 / 3, 0.4375, 0.1875, -0.5625, -0.0625, 0.75, -0.25, -0.25, -0.25];
  assertClose(A, expected, 1e-12, "A");
});

test("advantages: scale none (Dr. GRPO) only centres; sample std divides by n - 1", () => {
  assertClose(groupAdvantages([1, 0, 0, 0], { scale: "none", eps: 1e-4, std: "population" }), [0.75, -0.25, -0.25, -0.25]);
  // Sample std of (1, 0, 0, 0): sum of squares .75 over 3 = .25, std .5.
  assertClose(groupAdvantages([1, 0, 0, 0], { scale: "std", eps: 0, std: "sample" }), [1.5, -0.5, -0.5, -0.5]);
  // Population std: .75 / 4 = .1875.
  const p = Math.sqrt(0.1875);
  assertClose(groupAdvantages([1, 0, 0, 0], { scale: "std", eps: 0, std: "population" }), [0.75 / p, -0.25 / p, -0.25 / p, -0.25 / p]);
  // A group of one: advantage 0 under both.
  assert.deepEqual(groupAdvantages([0.3], { scale: "std", eps: 1e-4, std: "sample" }), [0]);
  assert.equal(standardDeviation([0.3], "sample"), 0);
});

test("advantages with `include` renormalise among the included and give NaN to the rest", () => {
  const flat = toyTree([{ reward: 1 }, { reward: 0.5 }, { reward: 0 }, { reward: 0 }]);
  const R = flat.nodes.map((n) => n.reward);
  const A = treeAdvantages(flat, R, { scale: "none", eps: 0, std: "population" }, [true, false, true, false]);
  assert.equal(A[0], 0.5);
  assert.equal(A[2], -0.5);
  assert.ok(Number.isNaN(A[1]) && Number.isNaN(A[3]));
});

test("turns = 1 without pruning: advantages are exactly plain GRPO's group normalisation", () => {
  const rng = new Rng("grpo-equivalence");
  const options = (std: "population" | "sample", strategy: "mars" | "mers", group: "siblings" | "turn"): ScoreOptions => ({
    credit: { strategy, gamma: 0.7, keepOwn: false },
    advantage: { scale: "std", eps: 1e-4, std, group, over: "full-group" },
    intraPrune: { enabled: false, zeroVarianceTolerance: 1e-6, maxPerGroup: 2 },
    interPrune: { enabled: false, maxSubtrees: 2 },
  });
  for (let trial = 0; trial < 20; trial++) {
    const G = rng.int(2, 8);
    const rewards = Array.from({ length: G }, () => rng.int(0, 8) / 8);
    const grpoTree = toyTree(rewards.map((reward) => ({ reward })));
    for (const std of ["population", "sample"] as const) {
      // Plain GRPO, written independently: E[x^2] - E[x]^2 form of the variance.
      const m = rewards.reduce((a, b) => a + b, 0) / G;
      const meanSquare = rewards.reduce((a, b) => a + b * b, 0) / G;
      const variance = Math.max(0, meanSquare - m * m) * (std === "sample" ? G / (G - 1) : 1);
      const grpo = rewards.map((x) => (x - m) / (Math.sqrt(variance) + 1e-4));
      for (const strategy of ["mars", "mers"] as const) {
        for (const group of ["siblings", "turn"] as const) {
          const scored = scoreTree(grpoTree, options(std, strategy, group));
          assert.deepEqual(scored.propagatedRewards, rewards, "R = r on leaves, whatever the credit options");
          assertClose(scored.advantages, grpo, 1e-9, `trial ${trial} ${std} ${strategy} ${group}`);
          assert.equal(scored.kept.length, G);
        }
      }
    }
  }
});
