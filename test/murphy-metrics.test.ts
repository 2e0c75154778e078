import { test } from "node:test";
import assert from "node:assert/strict";
import { METRICS, fracZeroStdGroups, lossMetrics, metricInfo, solvedWithinTurns, treeMetrics } from "../src/murphy/metrics";
import { scoreTree, type ScoreOptions } from "../src/murphy/pipeline";
import { toyTree } from "../src/murphy/toy-tree";

/*
 * Three tasks, S = 2.
 *   task A: first attempts 0 (fails, expanded: children 1 pass, 0), 1 (passes)  -> solved at turn 1
 *   task B: first attempts 0 (expanded: .5, 1), .5 (expanded: 0, 0)             -> solved at turn 2
 *   task C: first attempts 0, 0 (neither expanded)                               -> never solved
 */
const trees = [
  toyTree([{ reward: 0, tokens: 4, children: [{ reward: 1, tokens: 2 }, { reward: 0, tokens: 2 }] }, { reward: 1, tokens: 4 }], "A"),
  toyTree([{ reward: 0, children: [{ reward: 0.5 }, { reward: 1 }] }, { reward: 0.5, children: [{ reward: 0 }, { reward: 0 }] }], "B"),
  toyTree([{ reward: 0 }, { reward: 0 }], "C"),
];
const options: ScoreOptions = {
  credit: { strategy: "mars", gamma: 1, keepOwn: true },
  advantage: { scale: "none", eps: 0, std: "population", over: "full-group" },
  intraPrune: { enabled: true, zeroVarianceTolerance: 1e-6, maxPerGroup: 2 },
  interPrune: { enabled: false, maxSubtrees: 2 },
};
const scored = trees.map((t) => scoreTree(t, options));

test("solved within s turns is cumulative over turns", () => {
  assert.deepEqual(solvedWithinTurns(trees, 3), [1 / 3, 2 / 3, 2 / 3]);
});

test("tree metrics by hand", () => {
  const m = treeMetrics(scored, { turns: 2, zeroVarianceTolerance: 1e-6 });
  const r = [0, 1, 0, 1, /* B */ 0, 0.5, 0.5, 1, 0, 0, /* C */ 0, 0];
  const mean = r.reduce((a, b) => a + b) / r.length;
  assert.equal(m["reward/mean"], mean);
  assert.ok(Math.abs(m["reward/std"] - Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / r.length)) < 1e-12);
  // Groups: A {0, 1}: R (1, 1) flat; A {2, 3}: (1, 0); B {0, 1}: R (1, .5); B {2, 3}: (.5, 1);
  // B {4, 5}: (0, 0) flat; C {0, 1}: (0, 0) flat. 3 of 6 flat.
  assert.equal(m["reward/frac_zero_std"], 3 / 6);
  // Per turn: turn 1 groups A{0,1}, B{0,1}, C{0,1}: 2 of 3 flat; turn 2 groups A{2,3}, B{2,3},
  // B{4,5}: 1 of 3 flat.
  assert.equal(m["turn1/frac_zero_std"], 2 / 3);
  assert.equal(m["turn2/frac_zero_std"], 1 / 3);
  assert.equal(m["turn1/solved"], 1 / 3);
  assert.equal(m["turn2/solved"], 2 / 3);
  assert.equal(m["turn1/candidates"], 6);
  assert.equal(m["turn2/candidates"], 6);
  assert.equal(m["turn1/pass_rate"], 1 / 6);
  assert.equal(m["turn2/pass_rate"], 2 / 6);
  assert.equal(m["turn2/reward_mean"], (1 + 0 + 0.5 + 1 + 0 + 0) / 6);
  // Expanded turn-1 attempts: A0 (a child passes), B0 (a child passes), B1 (none) -> 2/3.
  assert.equal(m["turn2/fixed"], 2 / 3);
  assert.equal(m["turn1/fixed"], undefined);
  // IntraP drops the 3 flat groups (6 candidates) and nothing over budget (groups of 2, B = 2).
  assert.equal(m["prune/kept_frac"], 6 / 12);
  assert.equal(m["prune/intra_zero_variance_frac"], 6 / 12);
  assert.equal(m["prune/intra_over_budget_frac"], 0);
  assert.equal(m["prune/inter_dropped_frac"], 0);
  // Kept: A2, A3 (A +-.5), B0, B1 (R (1, .5): +-.25), B2, B3 (R (.5, 1): +-.25).
  assert.equal(m["advantage/mean_abs"], (0.5 + 0.5 + 0.25 * 4) / 6);
  // Tokens: A 4+4+2+2, B 6 * 3, C 2 * 3; trained: A2, A3 (2 + 2) and B0..B3 (3 each).
  assert.equal(m["tokens/sampled"], 12 + 18 + 6);
  assert.equal(m["tokens/trained"], 4 + 12);
  // Forwarded tokens are the update's own count (update.ts), not a tree metric.
  assert.equal(m["tokens/forwarded_grad"], undefined);
  for (const name of Object.keys(m)) assert.ok(metricInfo(name), `${name} is documented in METRICS`);
});

test("per-turn frac_zero_std: on propagated R (not r), per advantage-group mode, absent for an empty turn", () => {
  /*
   * One task, S = 3 allowed but no turn-3 candidates.
   *   first attempts: .5 (expanded: 1, .5), 1, 0 (expanded: 0, 0)
   * MaRS, gamma 1: R = (1, 1, 0 | 1, .5 | 0, 0).
   * siblings: turn 1 {R 1, 1, 0}: not flat; turn 2 {1, .5}: not flat, {0, 0}: flat -> 0, 1/2.
   */
  const tree = toyTree([{ reward: 0.5, children: [{ reward: 1 }, { reward: 0.5 }] }, { reward: 1 }, { reward: 0, children: [{ reward: 0 }, { reward: 0 }] }]);
  const one = (over: Partial<ScoreOptions>, group?: "siblings" | "turn") =>
    treeMetrics([scoreTree(tree, { ...options, intraPrune: { ...options.intraPrune, enabled: false }, ...over })], { turns: 3, zeroVarianceTolerance: 1e-6, group });
  const m = one({});
  assert.equal(m["turn1/frac_zero_std"], 0);
  assert.equal(m["turn2/frac_zero_std"], 1 / 2);
  assert.equal(m["turn3/frac_zero_std"], undefined, "no turn-3 candidates: absent");
  assert.equal(m["reward/frac_zero_std"], 1 / 3);
  // Turn groups: turn 2 pools (1, .5, 0, 0) into one group, not flat.
  const pooled = one({}, "turn");
  assert.equal(pooled["turn1/frac_zero_std"], 0);
  assert.equal(pooled["turn2/frac_zero_std"], 0);
  // R, not r: make every first attempt's R equal although their r differ (.5, 1, .4 -> all 1).
  const repaired = toyTree([{ reward: 0.5, children: [{ reward: 1 }, { reward: 0 }] }, { reward: 1 }, { reward: 0.4, children: [{ reward: 1 }, { reward: 1 }] }]);
  const flatFirst = treeMetrics([scoreTree(repaired, options)], { turns: 2, zeroVarianceTolerance: 1e-6 });
  assert.equal(flatFirst["turn1/frac_zero_std"], 1, "MaRS makes the turn-1 group flat: R = (1, 1, 1)");
  assert.equal(flatFirst["turn2/frac_zero_std"], 1 / 2, "children (1, 0) differ, (1, 1) are flat");
});

test("frac_zero_std uses the tolerance on the span of each group", () => {
  const t = toyTree([{ reward: 0.5 }, { reward: 0.50001 }]);
  assert.equal(fracZeroStdGroups([t], [[0.5, 0.50001]], 1e-6), 0);
  assert.equal(fracZeroStdGroups([t], [[0.5, 0.50001]], 1e-4), 1);
});

test("loss metrics map the diagnostics to documented names", () => {
  const m = lossMetrics(0.5, { tokens: 4, clipFrac: 0.5, clipLowFrac: 0.25, clipHighFrac: 0.25, approxKl: 0.01, ratioMean: 1, ratioMin: 0.5, ratioMax: 2, kl: 0.02 });
  assert.deepEqual(m, { loss: 0.5, "clip/ratio": 0.5, "clip/ratio_low": 0.25, "clip/ratio_high": 0.25, "ratio/mean": 1, "ratio/min": 0.5, "ratio/max": 2, approx_kl: 0.01, kl: 0.02 });
  for (const name of Object.keys(m)) assert.ok(metricInfo(name), `${name} is documented`);
  assert.equal(metricInfo("turn7/solved"), METRICS["turn{s}/solved"]);
  assert.equal(metricInfo("nonsense"), undefined);
});
