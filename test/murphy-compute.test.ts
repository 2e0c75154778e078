/** Compute accounting (src/murphy/compute.ts): tokens sampled and trained, compute-matched GRPO. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { expectedCandidatesPerTree, matchedGroupSize, meanFirstTurnTokens, sampledTokens, tokenSavings } from "../src/murphy/compute";
import { defaultConfig } from "../src/murphy/config";
import { scoreTree } from "../src/murphy/pipeline";
import { toyTree } from "../src/murphy/toy-tree";

test("matchedGroupSize: GRPO samples per task so its tokens per step match MURPHY's", () => {
  // MURPHY sampled 3840 tokens per step over 8 tasks; a first attempt is 40 tokens on average.
  // GRPO needs 3840 / (8 * 40) = 12 samples per task.
  assert.equal(matchedGroupSize({ murphyTokensPerStep: 3840, meanFirstTurnTokens: 40, tasksPerStep: 8 }), 12);
  // 4000 / 320 = 12.5 rounds to 13 (nearest; .5 up); 3900 / 320 = 12.19 rounds to 12.
  assert.equal(matchedGroupSize({ murphyTokensPerStep: 4000, meanFirstTurnTokens: 40, tasksPerStep: 8 }), 13);
  assert.equal(matchedGroupSize({ murphyTokensPerStep: 3900, meanFirstTurnTokens: 40, tasksPerStep: 8 }), 12);
  assert.equal(matchedGroupSize({ murphyTokensPerStep: 100, meanFirstTurnTokens: 40, tasksPerStep: 8 }), 2, "at least 2");
  assert.throws(() => matchedGroupSize({ murphyTokensPerStep: 100, meanFirstTurnTokens: 0, tasksPerStep: 8 }), /meanFirstTurnTokens must be a number > 0 \(got 0\)/);
  // Planning estimate: G + G * p * G_s + G * (p * G_s)^2 ...
  assert.equal(expectedCandidatesPerTree({ groupSize: 4, childrenPerFailed: 4, turns: 2, failRate: 0.5 }), 4 + 4 * 0.5 * 4);
  assert.equal(expectedCandidatesPerTree({ groupSize: 4, childrenPerFailed: 2, turns: 3, failRate: 0.5 }), 4 + 4 + 4);
  assert.equal(expectedCandidatesPerTree({ groupSize: 4, childrenPerFailed: 4, turns: 1, failRate: 1 }), 4);
});

test("sampled-token counts come from the trees", () => {
  const trees = [
    toyTree([{ reward: 0, tokens: 10, children: [{ reward: 1, tokens: 6 }, { reward: 0, tokens: 8 }] }, { reward: 1, tokens: 20 }]),
    toyTree([{ reward: 1, tokens: 30 }]),
  ];
  assert.equal(sampledTokens(trees), 10 + 6 + 8 + 20 + 30);
  assert.equal(meanFirstTurnTokens(trees), (10 + 20 + 30) / 3);
  const murphyTokensPerStep = sampledTokens(trees);
  assert.equal(matchedGroupSize({ murphyTokensPerStep, meanFirstTurnTokens: meanFirstTurnTokens(trees), tasksPerStep: 2 }), 2);
});

test("tokenSavings: completion tokens trained after pruning against those sampled", () => {
  // IntraP with B = 2 on one group R = (.5, .5, 1): mean 2/3, the positive 2 and the first of the
  // tied negatives, 0, are kept; each toy candidate has 3 tokens, so 6 of 9 sampled tokens are trained.
  const group = toyTree([{ reward: 0.5 }, { reward: 0.5 }, { reward: 1 }]);
  const config = defaultConfig();
  const scored = scoreTree(group, { ...config, intraPrune: { enabled: true, maxPerGroup: 2, zeroVarianceTolerance: 1e-6 } });
  assert.deepEqual(scored.kept, [0, 2]);
  assert.deepEqual(tokenSavings([scored]), { candidates: 3, kept: 2, sampledTokens: 9, trainedTokens: 6, savedFraction: 1 - 6 / 9 });
});
