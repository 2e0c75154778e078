/**
 * The feedback-conditioned rollout tree of one task, as plain data.
 *
 * Turn 1 holds G candidates sampled from the task prompt; a candidate that fails a visible test
 * at turn s < S is expanded into children sampled from a prompt that carries the task and every
 * earlier attempt on its branch with its feedback. Expansion follows the visible tests alone, as
 * the model would decide in deployment: a candidate that passes every visible test is a leaf even
 * when hidden tests fail (its reward, which counts them, is then below 1). Nodes live in one array; `parent` and `children` are
 * indices into it. The task itself is the implicit root: turn-1 nodes have `parent === null`.
 */
import type { Outcome } from "../sandbox/types";

export interface TreeNode {
  /** Index of this node in `RolloutTree.nodes`. */
  id: number;
  /** Index of the parent candidate, or null for turn-1 candidates (children of the task). */
  parent: number | null;
  /** Indices of the children sampled from this node's feedback (empty for leaves). */
  children: number[];
  /** 1 for first attempts, s for the s-th attempt on a branch. */
  turn: number;
  /** Token ids of the prompt this candidate was sampled from (never trained). */
  promptIds: number[];
  /** Token ids exactly as sampled, including the stop token if one was produced. */
  completionIds: number[];
  /** Log-probability of each completion token under the sampling policy. */
  sampledLogprobs: number[];
  /** The program decoded from the completion. */
  code: string;
  /** The whole answer text, when it was more than the program (a chat model's prose and code fences). */
  answer?: string;
  /** The worst sandbox outcome over all tests. */
  outcome: Outcome;
  /** r(n): the fraction of all tests passed, visible and hidden (or 0/1 with binary rewards). */
  reward: number;
  /** Every visible test passed: the model thinks it is done, so the node is never expanded. */
  visiblePassed: boolean;
  /** Feedback text built from the visible tests; what the next turn's prompt carries. */
  feedback: string;
}

export interface RolloutTree {
  taskId: string;
  nodes: TreeNode[];
}

/** Indices of the turn-1 candidates (the task's children). */
export function rootChildren(tree: RolloutTree): number[] {
  return tree.nodes.filter((n) => n.parent === null).map((n) => n.id);
}

/**
 * The sibling groups of a tree: each group is the set of candidates sampled from one prompt
 * (the task's G first attempts, or the children of one failed attempt). GRPO normalises
 * advantages inside each group.
 */
export function siblingGroups(tree: RolloutTree): number[][] {
  const groups: number[][] = [];
  const first = rootChildren(tree);
  if (first.length) groups.push(first);
  for (const node of tree.nodes) if (node.children.length) groups.push(node.children.slice());
  return groups;
}
