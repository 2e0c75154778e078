import { test } from "node:test";
import assert from "node:assert/strict";
import { propagatedRewards } from "../src/murphy/credit";
import { groupAdvantages } from "../src/murphy/advantages";
import {
  balancedLargestAdvantages,
  countReasons,
  interTurnPrune,
  intraGroupPrune,
  selectForExpansion,
  type PruneReason,
} from "../src/murphy/prune";
import { scoreTree, trainingExamples, type ScoreOptions } from "../src/murphy/pipeline";
import { toyTree } from "../src/murphy/toy-tree";

const K = "kept", INTER = "inter:subtree-dropped", ZERO = "intra:zero-variance-group", OVER = "intra:over-budget";

/*
 *   turn 1: a0 (0)          b1 (0)          c2 (.2)         d3 (1)
 *   turn 2: x4 (1) y5 (0)   z6 (0) w7 (0)   u8 (.5) v9 (0)
 *   turn 3:                 p10 (0) q11 (0) <- w
 * MaRS, gamma 1: R(a) = 1, R(b) = 0, R(c) = .5, R(w) = 0.
 */
const tree = toyTree([
  { reward: 0, children: [{ reward: 1 }, { reward: 0 }] },
  { reward: 0, children: [{ reward: 0 }, { reward: 0, children: [{ reward: 0 }, { reward: 0 }] }] },
  { reward: 0.2, children: [{ reward: 0.5 }, { reward: 0 }] },
  { reward: 1 },
]);
const mars = { strategy: "mars", gamma: 1, keepOwn: true } as const;
const R = propagatedRewards(tree, mars);

test("InterP keeps the K expanded subtrees with the highest R; everything below the others leaves", () => {
  assert.deepEqual(R.slice(0, 4), [1, 0, 0.5, 1]);
  // K = 2: a (R 1) and c (R .5) keep their subtrees; b (R 0) loses z, w and w's children p, q.
  // b itself stays in the turn-1 group.
  assert.deepEqual(interTurnPrune(tree, R, { maxSubtrees: 2 }), [K, K, K, K, K, K, INTER, INTER, K, K, INTER, INTER]);
  // K = 1: only a's subtree is kept.
  assert.deepEqual(interTurnPrune(tree, R, { maxSubtrees: 1 }), [K, K, K, K, K, K, INTER, INTER, INTER, INTER, INTER, INTER]);
  // K = 3 keeps everything (three expanded attempts at turn 1, one at turn 2).
  assert.ok(interTurnPrune(tree, R, { maxSubtrees: 3 }).every((r) => r === K));
});

test("InterP breaks ties in R by the lower node id", () => {
  const tied = toyTree([
    { reward: 0, children: [{ reward: 0.5 }, { reward: 0 }] },
    { reward: 0, children: [{ reward: 0.5 }, { reward: 0 }] },
  ]);
  const tiedR = propagatedRewards(tied, mars);
  assert.equal(tiedR[0], tiedR[1]);
  assert.deepEqual(interTurnPrune(tied, tiedR, { maxSubtrees: 1 }), [K, K, K, K, INTER, INTER]);
});

test("IntraP budget: largest |A|, balanced ceil(B/2) positive / floor(B/2) negative, zeros last", () => {
  // Rewards (.9, .1, .5, 1, 0, .5): mean .5, centred A = (.4, -.4, 0, .5, -.5, 0).
  const members = [0.4, -0.4, 0, 0.5, -0.5, 0].map((advantage, id) => ({ id, advantage }));
  assert.deepEqual(balancedLargestAdvantages(members, 4), [3, 0, 4, 1]);
  assert.deepEqual(balancedLargestAdvantages(members, 3), [3, 0, 4], "the odd slot goes to the positive side");
  assert.deepEqual(balancedLargestAdvantages(members, 5), [3, 0, 4, 1, 2], "then zeros, lowest id first");
  assert.deepEqual(balancedLargestAdvantages(members, 1), [3]);
  assert.deepEqual(balancedLargestAdvantages(members, 6), [0, 1, 2, 3, 4, 5], "within budget: all, in order");
  // One positive, four tied negatives: the positive side's spare slot goes to negatives, ties by id.
  const lopsided = [0.8, -0.2, -0.2, -0.2, -0.2].map((advantage, id) => ({ id, advantage }));
  assert.deepEqual(balancedLargestAdvantages(lopsided, 3), [0, 1, 2]);
  assert.deepEqual(balancedLargestAdvantages(lopsided, 4), [0, 1, 2, 3]);
});

test("IntraP on a tree: zero-variance groups, then the budget, with reasons", () => {
  const flatTree = toyTree([0.9, 0.1, 0.5, 1, 0, 0.5].map((reward) => ({ reward })));
  const rewards = flatTree.nodes.map((n) => n.reward);
  const A = groupAdvantages(rewards, { scale: "none", eps: 0, std: "population" });
  const reasons = intraGroupPrune(flatTree, rewards, A, { zeroVarianceTolerance: 1e-6, maxPerGroup: 4 });
  assert.deepEqual(reasons, [K, K, OVER, K, K, OVER]);

  const flat = toyTree([{ reward: 0.5 }, { reward: 0.5 }, { reward: 0.5 }]);
  const flatR = flat.nodes.map((n) => n.reward);
  assert.deepEqual(intraGroupPrune(flat, flatR, [0, 0, 0], { zeroVarianceTolerance: 0, maxPerGroup: 2 }), [ZERO, ZERO, ZERO]);
  // The tolerance is on the span max - min of the group's rewards.
  const nearly = [0.5, 0.5000001, 0.5];
  assert.deepEqual(intraGroupPrune(flat, nearly, [0, 0, 0], { zeroVarianceTolerance: 1e-6, maxPerGroup: 3 }), [ZERO, ZERO, ZERO]);
  const spread = [0.5, 0.6, 0.5];
  assert.deepEqual(intraGroupPrune(flat, spread, [-1, 2, -1], { zeroVarianceTolerance: 0.05, maxPerGroup: 3 }), [K, K, K]);
  assert.deepEqual(intraGroupPrune(flat, spread, [-1, 2, -1], { zeroVarianceTolerance: 0.2, maxPerGroup: 3 }), [ZERO, ZERO, ZERO]);
});

test("selectForExpansion ranks visibly failed candidates by their own reward, highest first, ties by id", () => {
  const candidates = [
    { id: 0, reward: 0.5, visiblePassed: false },
    { id: 1, reward: 1, visiblePassed: true },
    { id: 2, reward: 0.75, visiblePassed: false },
    { id: 3, reward: 0, visiblePassed: false },
    { id: 4, reward: 0.75, visiblePassed: false },
    // Passes the visible tests, fails hidden ones: the model thinks it is done, never expanded.
    { id: 5, reward: 0.8, visiblePassed: true },
  ];
  assert.deepEqual(selectForExpansion(candidates, 2), [2, 4]);
  assert.deepEqual(selectForExpansion(candidates, 10), [2, 4, 0, 3], "never a candidate that passed its visible tests");
  assert.deepEqual(selectForExpansion([{ id: 7, reward: 1, visiblePassed: true }], 2), []);
  assert.throws(() => selectForExpansion(candidates, 0), /interPrune.maxSubtrees must be an integer >= 1 \(got 0\)/);
});

function options(over: "full-group" | "kept", intra: boolean, inter: boolean): ScoreOptions {
  return {
    credit: mars,
    advantage: { scale: "none", eps: 0, std: "population", over },
    intraPrune: { enabled: intra, zeroVarianceTolerance: 1e-6, maxPerGroup: 1 },
    interPrune: { enabled: inter, maxSubtrees: 2 },
  };
}

test("scoreTree: InterP, then full-group advantages, then IntraP; reasons compose", () => {
  const scored = scoreTree(tree, options("full-group", true, true));
  assert.deepEqual(scored.propagatedRewards, R);
  // Turn-1 group R = (1, 0, .5, 1): mean .625, A = (.375, -.625, -.125, .375).
  // B = 1: one slot, the positive side's; the tie between a (0) and d (3) goes to a.
  // Group {x, y} = (1, 0): A = (.5, -.5) -> keep x. Group {z, w}: dropped by InterP first.
  // Group {u, v} = (.5, 0): A = (.25, -.25) -> keep u. Group {p, q}: dropped by InterP.
  const expected: PruneReason[] = [K, OVER, OVER, OVER, K, OVER, INTER, INTER, K, OVER, INTER, INTER];
  assert.deepEqual(scored.reasons, expected);
  assert.deepEqual(scored.kept, [0, 4, 8]);
  assert.deepEqual(scored.fullGroupAdvantages.slice(0, 4), [0.375, -0.625, -0.125, 0.375]);
  assert.deepEqual([scored.advantages[0], scored.advantages[4], scored.advantages[8]], [0.375, 0.5, 0.25]);
  assert.ok(scored.advantages.every((a, id) => scored.kept.includes(id) || Number.isNaN(a)), "dropped nodes carry NaN");
  assert.deepEqual(countReasons(scored.reasons), { kept: 3, "inter:subtree-dropped": 4, "intra:zero-variance-group": 0, "intra:over-budget": 5 });
});

test("scoreTree with IntraP only: zero-variance groups go, and over = kept renormalises", () => {
  // Without InterP, group {z, w} = (0, 0) and {p, q} = (0, 0) are zero-variance.
  const full = scoreTree(tree, { ...options("full-group", true, false), intraPrune: { enabled: true, zeroVarianceTolerance: 1e-6, maxPerGroup: 2 } });
  assert.deepEqual(full.reasons, [K, K, OVER, OVER, K, K, ZERO, ZERO, K, K, ZERO, ZERO]);
  // B = 2 in the turn-1 group: a (+.375) and b (-.625) are kept with their full-group advantages.
  assert.deepEqual([full.advantages[0], full.advantages[1]], [0.375, -0.625]);
  const kept = scoreTree(tree, { ...options("kept", true, false), intraPrune: { enabled: true, zeroVarianceTolerance: 1e-6, maxPerGroup: 2 } });
  assert.deepEqual(kept.reasons, full.reasons);
  // Renormalised over {a, b}: R = (1, 0), mean .5 -> A = (.5, -.5).
  assert.deepEqual([kept.advantages[0], kept.advantages[1]], [0.5, -0.5]);
});

test("scoreTree with group = turn: IntraP prunes inside the pooled turn groups", () => {
  const base = options("full-group", true, false);
  const scored = scoreTree(tree, { ...base, advantage: { ...base.advantage, group: "turn" }, intraPrune: { enabled: true, zeroVarianceTolerance: 1e-6, maxPerGroup: 2 } });
  // Turn 2 pooled: R (x, y, z, w, u, v) = (1, 0, 0, 0, .5, 0), mean .25, A = (.75, -.25, -.25, -.25, .25, -.25).
  // B = 2: x (largest positive) and y (negative, tie among y, z, w, v by lowest id).
  // Turn 3 {p, q} = (0, 0): zero variance. Turn 1 as before: a and b.
  assert.deepEqual(scored.reasons, [K, K, OVER, OVER, K, K, OVER, OVER, OVER, OVER, ZERO, ZERO]);
  assert.deepEqual([scored.advantages[4], scored.advantages[5]], [0.75, -0.25]);
});

test("trainingExamples lists the kept candidates with their own prompt and advantage", () => {
  const scored = scoreTree(tree, options("full-group", true, true));
  const examples = trainingExamples([scored]);
  assert.deepEqual(examples.map((e) => [e.nodeId, e.turn, e.advantage]), [[0, 1, 0.375], [4, 2, 0.5], [8, 2, 0.25]]);
  assert.deepEqual(examples[1].completionIds, tree.nodes[4].completionIds);
});
