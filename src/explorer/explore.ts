/**
 * What the pruning explorer computes for one setting of its controls, with the kit's own stages
 * (src/murphy/pipeline.ts scoreTree: credit, InterP, advantages, IntraP). Pure functions over plain
 * data, so the browser page (app.ts, bundled by esbuild) and Node compute the same numbers.
 *
 * The controls override a few fields of a base ScoreOptions (the run config's credit, advantage,
 * intraPrune and interPrune; the page embeds `defaultConfig()`'s), the rest stay as in the base:
 *
 *   credit.strategy, credit.gamma, intraPrune.enabled, intraPrune.maxPerGroup (B),
 *   interPrune.enabled, interPrune.maxSubtrees (K), advantage.scale
 */
import type { AdvantageScale } from "../murphy/advantages";
import { tokenSavings, type TokenSavings } from "../murphy/compute";
import type { CreditStrategy } from "../murphy/credit";
import { fracZeroStdGroups } from "../murphy/metrics";
import { scoreTree, type ScoreOptions, type ScoredTree } from "../murphy/pipeline";
import { countReasons, type PruneReason } from "../murphy/prune";
import type { RolloutTree } from "../murphy/tree";

export interface ExplorerSettings {
  strategy: CreditStrategy;
  gamma: number;
  intraPrune: boolean;
  /** IntraP's B (>= 2). */
  maxPerGroup: number;
  interPrune: boolean;
  /** InterP's K (>= 1). */
  maxSubtrees: number;
  scale: AdvantageScale;
}

/** The settings a base ScoreOptions already has (the page starts from these). */
export function settingsOf(base: ScoreOptions): ExplorerSettings {
  return {
    strategy: base.credit.strategy,
    gamma: base.credit.gamma,
    intraPrune: base.intraPrune.enabled,
    maxPerGroup: base.intraPrune.maxPerGroup,
    interPrune: base.interPrune.enabled,
    maxSubtrees: base.interPrune.maxSubtrees,
    scale: base.advantage.scale,
  };
}

/** The base options with the controls' values put in. */
export function withSettings(base: ScoreOptions, s: ExplorerSettings): ScoreOptions {
  return {
    credit: { ...base.credit, strategy: s.strategy, gamma: s.gamma },
    advantage: { ...base.advantage, scale: s.scale },
    intraPrune: { ...base.intraPrune, enabled: s.intraPrune, maxPerGroup: s.maxPerGroup },
    interPrune: { ...base.interPrune, enabled: s.interPrune, maxSubtrees: s.maxSubtrees },
  };
}

export interface Exploration {
  scored: ScoredTree[];
  /** Candidates, kept, completion tokens sampled (= trained without pruning) and trained. */
  tokens: TokenSavings;
  /** Kept candidates per tree, in batch order. */
  keptPerTree: number[];
  /** How many candidates got each prune reason. */
  reasons: Record<PruneReason, number>;
  /** Share of advantage groups whose propagated R span <= the tolerance: no GRPO signal. */
  zeroSignalGroups: number;
  /** The same share on the raw rewards r, before credit assignment. */
  zeroSignalGroupsRaw: number;
}

/** Score every tree of a batch under `options` and summarise what the update would train on. */
export function explore(trees: readonly RolloutTree[], options: ScoreOptions): Exploration {
  const scored = trees.map((t) => scoreTree(t, options));
  const tolerance = options.intraPrune.zeroVarianceTolerance;
  const group = options.advantage.group;
  return {
    scored,
    tokens: tokenSavings(scored),
    keptPerTree: scored.map((s) => s.kept.length),
    reasons: countReasons(scored.flatMap((s) => s.reasons)),
    zeroSignalGroups: fracZeroStdGroups(trees, scored.map((s) => s.propagatedRewards), tolerance, group),
    zeroSignalGroupsRaw: fracZeroStdGroups(trees, trees.map((t) => t.nodes.map((n) => n.reward)), tolerance, group),
  };
}
