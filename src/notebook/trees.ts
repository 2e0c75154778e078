/**
 * Small helpers the tree notebooks (03-05) share: choosing an informative tree to look at and
 * turning a tree into table rows. Pure functions over plain data.
 */
import type { RolloutTree } from "../murphy/tree";

/** Population standard deviation of the rewards r of a tree's candidates (0 for an empty tree). */
export function rewardSpread(tree: RolloutTree): number {
  const n = tree.nodes.length;
  if (n === 0) return 0;
  const mean = tree.nodes.reduce((a, node) => a + node.reward, 0) / n;
  return Math.sqrt(tree.nodes.reduce((a, node) => a + (node.reward - mean) ** 2, 0) / n);
}

/**
 * The index of the tree whose rewards vary most (ties: the first), so a notebook shows a tree where
 * credit and advantages have something to say; a weak policy leaves most trees all-zero.
 */
export function mostVariedTree(trees: readonly RolloutTree[]): number {
  if (trees.length === 0) throw new Error("mostVariedTree: no trees given");
  let best = 0;
  trees.forEach((t, i) => {
    if (rewardSpread(t) > rewardSpread(trees[best])) best = i;
  });
  return best;
}

/** One row per candidate: id, parent, turn, outcome, r, tokens, and any extra per-node columns. */
export function nodeRows(tree: RolloutTree, extra: Record<string, readonly (number | string)[]> = {}): Record<string, number | string>[] {
  for (const [name, values] of Object.entries(extra)) {
    if (values.length !== tree.nodes.length) {
      throw new Error(`nodeRows: column "${name}" has ${values.length} values for ${tree.nodes.length} nodes of tree "${tree.taskId}"`);
    }
  }
  return tree.nodes.map((n) => {
    const row: Record<string, number | string> = {
      node: n.id,
      parent: n.parent === null ? "task" : n.parent,
      turn: n.turn,
      outcome: n.outcome,
      r: n.reward,
      tokens: n.completionIds.length,
    };
    for (const [name, values] of Object.entries(extra)) row[name] = values[n.id];
    return row;
  });
}
