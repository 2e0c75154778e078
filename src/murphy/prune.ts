/**
 * Pruning: which candidates of a rollout tree enter the policy update. Both prunings are the kit's
 * reading of the paper (ours) and run after the rollouts, to cut the cost of the update; each
 * returns a reason per node, so a notebook can show what was dropped and why:
 *
 *   "kept"                       trained
 *   "inter:subtree-dropped"      below an expanded attempt whose subtree InterP dropped
 *   "intra:zero-variance-group"  in a group whose rewards are all equal (no GRPO signal)
 *   "intra:over-budget"          in a group with more than B candidates, and not among the B kept
 *
 * InterP (across turns, per parent): among the expanded attempts of one sibling group, keep the
 * subtrees of the K with the highest propagated reward R (ties: lower node id, i.e. sampled
 * earlier). A dropped subtree is everything *below* the expanded attempt: its children's groups
 * and their descendants. The attempt itself stays a member of its own group, with the R computed
 * on the full tree, because removing it would bias its siblings' baseline.
 *
 * IntraP (inside a group, the same groups the advantages use): first drop groups whose rewards span at most `zeroVarianceTolerance`
 * (max - min); then, in a group with more than B members, keep B by largest |A|, balanced between
 * signs by this exact rule:
 *   positives (A > 0) and negatives (A < 0) are each ranked by |A|, ties by lower node id;
 *   negatives get floor(B/2) slots, positives the other ceil(B/2) (the odd slot goes to the
 *   positive side); a side with too few candidates gives its spare slots to the other side;
 *   candidates with A = 0 fill whatever is still left, lowest id first.
 * Breaking ties by id is as good as a random draw: the sampler numbers candidates before their
 * rewards are known, so the id carries no information about them.
 *
 * The order of the stages (credit, InterP, advantages, IntraP) lives in pipeline.ts.
 */
import type { RolloutTree } from "./tree";
import { siblingGroups } from "./tree";
import type { GroupMode } from "./groups";
import { advantageGroups } from "./groups";

export const PRUNE_REASONS = ["kept", "inter:subtree-dropped", "intra:zero-variance-group", "intra:over-budget"] as const;
export type PruneReason = (typeof PRUNE_REASONS)[number];

export interface InterTurnPruneOptions {
  /** K: the most expanded subtrees kept per parent (per sibling group), >= 1. */
  maxSubtrees: number;
}

export interface IntraGroupPruneOptions {
  /** A group whose rewards span (max - min) at most this is dropped as zero-variance. */
  zeroVarianceTolerance: number;
  /** B: the most candidates kept per group, >= 1. */
  maxPerGroup: number;
  /** The groups pruned inside: the advantage groups (groups.ts); default "siblings". */
  group?: GroupMode;
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be an integer >= 1 (got ${value})`);
}

function checkLength(tree: RolloutTree, what: string, values: readonly unknown[]): void {
  if (values.length !== tree.nodes.length) {
    throw new Error(`tree "${tree.taskId}" has ${tree.nodes.length} nodes but ${values.length} ${what} were given`);
  }
}

/** Indices sorted by a key, descending, ties by lower id. */
function rankDescending(ids: readonly number[], key: (id: number) => number): number[] {
  return ids.slice().sort((a, b) => key(b) - key(a) || a - b);
}

/**
 * InterP: per sibling group, keep the subtrees of the K expanded members with the highest
 * propagated reward; every node below a dropped one gets "inter:subtree-dropped".
 * `propagated` is R per node (credit.ts), computed on the full tree.
 */
export function interTurnPrune(tree: RolloutTree, propagated: readonly number[], options: InterTurnPruneOptions): PruneReason[] {
  checkPositiveInteger("interPrune.maxSubtrees", options.maxSubtrees);
  checkLength(tree, "propagated rewards", propagated);
  const reasons = new Array<PruneReason>(tree.nodes.length).fill("kept");
  const dropBelow = (id: number): void => {
    for (const c of tree.nodes[id].children) {
      reasons[c] = "inter:subtree-dropped";
      dropBelow(c);
    }
  };
  for (const group of siblingGroups(tree)) {
    const expanded = group.filter((id) => tree.nodes[id].children.length > 0);
    const ranked = rankDescending(expanded, (id) => propagated[id]);
    for (const id of ranked.slice(options.maxSubtrees)) dropBelow(id);
  }
  return reasons;
}

/**
 * The B candidates of one group kept by IntraP's budget, by the balanced rule in the file comment.
 * Returns their ids in rank order (positives, then negatives, then zeros).
 */
export function balancedLargestAdvantages(members: readonly { id: number; advantage: number }[], budget: number): number[] {
  checkPositiveInteger("intraPrune.maxPerGroup", budget);
  const advantageOf = new Map(members.map((m) => [m.id, m.advantage]));
  const ids = members.map((m) => m.id);
  if (ids.length <= budget) return ids;
  const byMagnitude = (id: number) => Math.abs(advantageOf.get(id)!);
  const positives = rankDescending(ids.filter((id) => advantageOf.get(id)! > 0), byMagnitude);
  const negatives = rankDescending(ids.filter((id) => advantageOf.get(id)! < 0), byMagnitude);
  const zeros = ids.filter((id) => advantageOf.get(id) === 0).sort((a, b) => a - b);
  let negativeSlots = Math.min(negatives.length, Math.floor(budget / 2));
  const positiveSlots = Math.min(positives.length, budget - negativeSlots);
  negativeSlots = Math.min(negatives.length, budget - positiveSlots);
  const zeroSlots = budget - positiveSlots - negativeSlots;
  return [...positives.slice(0, positiveSlots), ...negatives.slice(0, negativeSlots), ...zeros.slice(0, zeroSlots)];
}

/**
 * IntraP on every group of a tree (sibling groups unless `options.group` says otherwise). `rewards` are the values the advantages normalise
 * (propagated rewards R) and decide zero variance; `advantages` rank the budget. Nodes already
 * dropped in `reasonsIn` (by InterP) keep their reason and do not count as group members.
 */
export function intraGroupPrune(
  tree: RolloutTree,
  rewards: readonly number[],
  advantages: readonly number[],
  options: IntraGroupPruneOptions,
  reasonsIn?: readonly PruneReason[],
): PruneReason[] {
  checkPositiveInteger("intraPrune.maxPerGroup", options.maxPerGroup);
  if (!(options.zeroVarianceTolerance >= 0)) {
    throw new Error(`intraPrune.zeroVarianceTolerance must be a number >= 0 (got ${options.zeroVarianceTolerance})`);
  }
  checkLength(tree, "rewards", rewards);
  checkLength(tree, "advantages", advantages);
  const reasons: PruneReason[] = reasonsIn ? reasonsIn.slice() : new Array<PruneReason>(tree.nodes.length).fill("kept");
  checkLength(tree, "prune reasons", reasons);
  for (const group of advantageGroups(tree, options.group ?? "siblings")) {
    const members = group.filter((id) => reasons[id] === "kept");
    if (members.length === 0) continue;
    const values = members.map((id) => rewards[id]);
    if (Math.max(...values) - Math.min(...values) <= options.zeroVarianceTolerance) {
      for (const id of members) reasons[id] = "intra:zero-variance-group";
      continue;
    }
    const kept = new Set(balancedLargestAdvantages(members.map((id) => ({ id, advantage: advantages[id] })), options.maxPerGroup));
    for (const id of members) if (!kept.has(id)) reasons[id] = "intra:over-budget";
  }
  return reasons;
}

/**
 * The rollout-time variant of InterP, for `interPrune.skipExpansion`: of one sibling group's
 * candidates, which of those that failed a visible test to expand (a candidate that passed every
 * visible test is a leaf, as in every rollout). The propagated reward is not known before
 * expansion, so they are ranked by their own reward, highest first (an attempt that already
 * passes more tests is the likeliest to be repaired from its feedback; ours), ties by lower id;
 * the first K are returned, in rank order. The others stay leaves, so the post-rollout InterP then
 * finds at most K expanded subtrees per parent and drops nothing. Like InterP's ranking by R, the
 * ranking uses the reward over all tests: it chooses which repairs the trainer pays for, and no
 * prompt the model sees changes with it.
 */
export function selectForExpansion(candidates: readonly { id: number; reward: number; visiblePassed: boolean }[], maxSubtrees: number): number[] {
  checkPositiveInteger("interPrune.maxSubtrees", maxSubtrees);
  const rewardOf = new Map(candidates.map((c) => [c.id, c.reward]));
  const failed = candidates.filter((c) => !c.visiblePassed).map((c) => c.id);
  return rankDescending(failed, (id) => rewardOf.get(id)!).slice(0, maxSubtrees);
}

/** How many nodes got each reason. */
export function countReasons(reasons: readonly PruneReason[]): Record<PruneReason, number> {
  const counts = Object.fromEntries(PRUNE_REASONS.map((r) => [r, 0])) as Record<PruneReason, number>;
  for (const r of reasons) counts[r]++;
  return counts;
}
