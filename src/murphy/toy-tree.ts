/**
 * Hand-written rollout trees for worked examples and tests: write the rewards as a nested list and
 * get a `RolloutTree` with ids, parents, turns, outcomes and visible verdicts filled in, so a
 * notebook can show credit, pruning and advantages on a tree small enough to check by eye.
 *
 *   toyTree([{ reward: 0, children: [{ reward: 1 }, { reward: 0 }] }, { reward: 1 }])
 *
 * is a task with two first attempts; the failed one was expanded into two second attempts.
 */
import type { RolloutTree, TreeNode } from "./tree";

export interface ToyNode {
  /** r(n), in [0, 1]. */
  reward: number;
  /** Candidates sampled from this node's feedback (omit for a leaf). */
  children?: ToyNode[];
  /** Number of completion tokens (default 3); ids 1..tokens, sampled log-probs 0. */
  tokens?: number;
  /**
   * Passed every visible test (default: reward === 1). Set true with a reward below 1 for an
   * attempt that passes the visible tests but fails hidden ones (never expanded by a rollout).
   */
  visiblePassed?: boolean;
}

/**
 * Build a tree from nested rewards. Ids are assigned breadth-first (all turn-1 candidates, then
 * all turn-2 candidates, ...), the order a sampler produces them in. A node passes all tests
 * (outcome "passed") exactly when its reward is 1.
 */
export function toyTree(firstAttempts: ToyNode[], taskId = "toy"): RolloutTree {
  const nodes: TreeNode[] = [];
  let frontier: { spec: ToyNode; parent: number | null }[] = firstAttempts.map((spec) => ({ spec, parent: null }));
  let turn = 1;
  while (frontier.length) {
    const next: typeof frontier = [];
    for (const { spec, parent } of frontier) {
      const id = nodes.length;
      const tokens = spec.tokens ?? 3;
      nodes.push({
        id,
        parent,
        children: [],
        turn,
        promptIds: [],
        completionIds: Array.from({ length: tokens }, (_, k) => k + 1),
        sampledLogprobs: new Array<number>(tokens).fill(0),
        code: "",
        outcome: spec.reward === 1 ? "passed" : "wrong_answer",
        reward: spec.reward,
        visiblePassed: spec.visiblePassed ?? spec.reward === 1,
        feedback: "",
      });
      if (parent !== null) nodes[parent].children.push(id);
      for (const child of spec.children ?? []) next.push({ spec: child, parent: id });
    }
    frontier = next;
    turn++;
  }
  return { taskId, nodes };
}
