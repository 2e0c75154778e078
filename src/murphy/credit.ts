/**
 * Retrospective credit assignment: rewards flow backward through the rollout tree, so an early
 * attempt whose feedback led to a later success is credited for it (method.md, "Propagated
 * reward").
 *
 *   leaf n (solved, or not expanded):  R(n) = r(n)
 *   expanded failed n:                 R(n) = max(r(n), gamma * AGG_{c in children(n)} R(c))
 *
 * AGG = max for MaRS (max-reward strategy: an attempt is as good as the best repair it enabled)
 * or mean for MeRS (mean-reward strategy: as good as the repair it enables on average). Both the
 * exact equations and the discount are the kit's reading of the paper (ours); `keepOwn = false`
 * drops the max with r(n), so a failed attempt is judged only by what its feedback led to.
 */
import { checkTree } from "./tree-check";
import type { RolloutTree } from "./tree";

export type CreditStrategy = "mars" | "mers";

export interface CreditOptions {
  /** "mars": AGG = max over children; "mers": AGG = mean over children. */
  strategy: CreditStrategy;
  /** Discount applied once per turn of delay, in [0, 1]; 1 = no discount. */
  gamma: number;
  /** true: R(n) = max(r(n), gamma * AGG); false: R(n) = gamma * AGG for expanded nodes. */
  keepOwn: boolean;
}

/** The aggregate of the children's propagated rewards for one strategy. */
export function aggregateChildren(strategy: CreditStrategy, childRewards: readonly number[]): number {
  if (childRewards.length === 0) throw new Error("aggregateChildren needs at least one child reward");
  if (strategy === "mars") return Math.max(...childRewards);
  return childRewards.reduce((a, b) => a + b, 0) / childRewards.length;
}

/**
 * R(n) for every node of the tree, indexed like `tree.nodes`. A node with children is an
 * expanded node (the sampler expands only failed ones); any node without children is a leaf.
 */
export function propagatedRewards(tree: RolloutTree, options: CreditOptions): number[] {
  const { strategy, gamma, keepOwn } = options;
  if (strategy !== "mars" && strategy !== "mers") {
    throw new Error(`credit strategy must be "mars" or "mers" (got ${JSON.stringify(strategy)})`);
  }
  if (!Number.isFinite(gamma) || gamma < 0 || gamma > 1) {
    throw new Error(`credit gamma must be a number in [0, 1] (got ${gamma})`);
  }
  checkTree(tree);
  const propagated = new Array<number>(tree.nodes.length).fill(NaN);
  // Deepest turn first: every child is resolved before its parent (checkTree guarantees each
  // child sits exactly one turn deeper), without recursion on deep trees.
  const order = tree.nodes.map((n) => n.id).sort((a, b) => tree.nodes[b].turn - tree.nodes[a].turn);
  for (const id of order) {
    const node = tree.nodes[id];
    if (node.children.length === 0) {
      propagated[id] = node.reward;
      continue;
    }
    const fromChildren = gamma * aggregateChildren(strategy, node.children.map((c) => propagated[c]));
    propagated[id] = keepOwn ? Math.max(node.reward, fromChildren) : fromChildren;
  }
  return propagated;
}
