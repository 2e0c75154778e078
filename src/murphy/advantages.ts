/**
 * Group-relative advantages, the GRPO way: candidates sampled from the same prompt form a group,
 * and each one's advantage is how much better its (propagated) reward is than the group's mean.
 *
 *   A_i = (R_i - mean R) / (std R + eps)     scale "std"  (DeepSeekMath GRPO)
 *   A_i =  R_i - mean R                      scale "none" (Dr. GRPO: dividing by the std
 *                                            up-weights groups that are almost all right or all
 *                                            wrong, a question-difficulty bias)
 *
 * In MURPHY the groups are by default the sibling groups of the tree (the task's G first
 * attempts; the G_s children of each expanded attempt), or all candidates of one turn (groups.ts);
 * with turns = 1 there is one group per task either way and this is exactly GRPO.
 *
 * Which std: "population" (divide by n, default) or "sample" (divide by n - 1; what TRL gets from
 * torch.std). It matters here because MURPHY's groups have different sizes (G first attempts,
 * G_s children, fewer after pruning with `over: "kept"`): the population std gives every group's
 * advantages unit mean square whatever its size, and it is defined for a group of one (std 0,
 * advantage 0), where the sample std is not. For a group of one the sample std is taken as 0
 * (its advantage is 0 either way, since R_i = mean R).
 */
import type { RolloutTree } from "./tree";
import type { GroupMode } from "./groups";
import { advantageGroups } from "./groups";

export type AdvantageScale = "std" | "none";
export type StdKind = "population" | "sample";

export interface AdvantageOptions {
  /** "std": divide by (std + eps); "none": centre only (Dr. GRPO). */
  scale: AdvantageScale;
  /** Added to the std so an almost-constant group does not blow up; TRL uses 1e-4. */
  eps: number;
  /** Which standard deviation divides (see the file comment). */
  std: StdKind;
  /** Which candidates form a group (groups.ts); default "siblings". */
  group?: GroupMode;
}

/** Mean of a non-empty list. */
export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Standard deviation of a non-empty list: population (n) or sample (n - 1; 0 for n = 1). */
export function standardDeviation(values: readonly number[], kind: StdKind): number {
  const m = mean(values);
  const squares = values.reduce((a, v) => a + (v - m) * (v - m), 0);
  const divisor = kind === "population" ? values.length : values.length - 1;
  return divisor > 0 ? Math.sqrt(squares / divisor) : 0;
}

/** The advantages of one group, in the order given. */
export function groupAdvantages(rewards: readonly number[], options: AdvantageOptions): number[] {
  if (rewards.length === 0) return [];
  const m = mean(rewards);
  if (options.scale === "none") return rewards.map((r) => r - m);
  const denominator = standardDeviation(rewards, options.std) + options.eps;
  return rewards.map((r) => (r - m) / denominator);
}

/**
 * The advantage of every node of a tree, indexed like `tree.nodes`, normalised inside each group
 * (sibling groups by default). `rewards` is one value per node (normally the propagated rewards R).
 *
 * With `include`, only the included members of each group form it (used after pruning with
 * `advantage.over = "kept"`); excluded nodes get NaN so they cannot be trained by mistake.
 */
export function treeAdvantages(
  tree: RolloutTree,
  rewards: readonly number[],
  options: AdvantageOptions,
  include?: readonly boolean[],
): number[] {
  if (rewards.length !== tree.nodes.length) {
    throw new Error(`treeAdvantages: tree "${tree.taskId}" has ${tree.nodes.length} nodes but ${rewards.length} rewards were given`);
  }
  const advantages = new Array<number>(tree.nodes.length).fill(NaN);
  for (const group of advantageGroups(tree, options.group ?? "siblings")) {
    const members = include ? group.filter((id) => include[id]) : group;
    const values = groupAdvantages(members.map((id) => rewards[id]), options);
    members.forEach((id, k) => (advantages[id] = values[k]));
  }
  return advantages;
}
