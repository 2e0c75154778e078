/**
 * Which candidates are compared with each other: the groups that advantages are normalised over
 * and that IntraP prunes inside. The paper's exact group is not known (method.md: "the GRPO
 * reading", ours), so the kit offers two:
 *
 *   "siblings" (default)  the candidates sampled from one prompt: the task's G first attempts,
 *                         or the G_s children of one failed attempt. Closest to GRPO: a group
 *                         shares its prompt, so the group mean is a baseline for that prompt.
 *   "turn"                all candidates of one task at the same turn, pooled across parents:
 *                         larger groups (fewer zero-variance ones), but repairs of different
 *                         failed attempts, i.e. different prompts, share one baseline.
 *
 * Turn 1 is the same group under both. InterP always works per parent (siblings), because it
 * ranks the subtrees of one parent's children.
 */
import type { RolloutTree } from "./tree";
import { siblingGroups } from "./tree";

export type GroupMode = "siblings" | "turn";

/** The groups of a tree under a mode; every node is in exactly one group. */
export function advantageGroups(tree: RolloutTree, mode: GroupMode): number[][] {
  if (mode === "siblings") return siblingGroups(tree);
  if (mode !== "turn") throw new Error(`advantage group must be "siblings" or "turn" (got ${JSON.stringify(mode)})`);
  const byTurn = new Map<number, number[]>();
  for (const node of tree.nodes) {
    const group = byTurn.get(node.turn) ?? [];
    group.push(node.id);
    byTurn.set(node.turn, group);
  }
  return [...byTurn.keys()].sort((a, b) => a - b).map((turn) => byTurn.get(turn)!);
}
