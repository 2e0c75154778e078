/**
 * Rollout: the feedback-conditioned tree of each task (method.md, "Tree").
 *
 *   turn 1: G candidates sampled from the task prompt;
 *   turn s: every candidate of turn s-1 that failed a visible test gets G_s children, sampled
 *           from the prompt that carries the task and the whole chain of earlier attempts and
 *           feedback on its branch; a candidate that passed every visible test is a leaf.
 *
 * Expansion follows the visible tests alone, like the feedback: in deployment the model cannot
 * know about hidden tests, so an attempt that passes the visible ones is where it stops, and
 * training on repairs of it would teach it to react to verdicts it will never see. Such a leaf
 * keeps its reward over all tests (below 1 when hidden tests fail), so credit still ranks it
 * below a correct sibling.
 *
 * All nodes of one turn, over all tasks of the batch, are sampled in one batched call (split into
 * chunks of `batchSize` prompts) and run in the sandbox together. With InterP's
 * `skipExpansion`, only the best `maxSubtrees` failed candidates of each sibling group are
 * expanded (ranked by their own reward, the only one known before expansion).
 *
 * `rollout` grows the trees of the kit's tasks with a policy; `growTrees` is the same loop over any
 * problem type with an id, with candidates from an AttemptSource (src/attempts.ts), e.g. a model
 * served over HTTP on a Python benchmark (src/benchmarks/attempt-sources.ts).
 */
import type { Task } from "../tasks/types";
import type { ProgramRunner } from "../feedback";
import type { Attempt } from "../model/prompt";
import { attemptBatch, type AttemptSource, type SampledScoredAttempt } from "../attempts";
import type { SamplingOptions } from "../model/policy";
import type { AnyPolicy } from "../policy/conversation";
import { hashString } from "../util/rng";
import { selectForExpansion } from "./prune";
import { prefillTokens } from "./compute";
import type { RolloutTree, TreeNode } from "./tree";

/** The shape of the trees and the seed: what growTrees needs besides its attempt source. */
export interface TreeShape {
  /** G: candidates sampled from the task prompt at turn 1. */
  groupSize: number;
  /** S: the most turns on a branch (1 = single-turn GRPO). */
  turns: number;
  /** G_s: children sampled from each failed candidate. */
  childrenPerFailed: number;
  seed: number;
  /** Prompts per sampling call (memory bound). */
  batchSize?: number;
  /** When set, expand at most this many failed candidates per sibling group (InterP skipExpansion). */
  maxExpandedPerGroup?: number;
}

export interface RolloutOptions extends TreeShape, SamplingOptions {
  binary?: boolean;
}

/** A candidate waiting to be sampled: its tree, its parent and its branch history. */
interface Pending {
  tree: number;
  parent: number | null;
  history: Attempt[];
}

/** Token counts of a rollout, for compute accounting. */
export interface RolloutCounts {
  /** Completion tokens sampled. */
  sampledTokens: number;
  /**
   * Prompt tokens the sampler prefills: per sampling call, the real (unpadded) tokens of each
   * DISTINCT prompt, because the sampler runs a prompt shared by several rows of one call (a
   * sibling group) through the model once (src/model/sample.ts). `prefillTokens` in compute.ts.
   */
  promptTokens: number;
  /** Candidates sampled. */
  candidates: number;
}

/** The trees of the kit's tasks: `policy` samples every candidate, `runner` runs it on the task's tests. */
export async function rollout(
  policy: AnyPolicy,
  tasks: readonly Task[],
  runner: ProgramRunner,
  opts: RolloutOptions,
): Promise<{ trees: RolloutTree[]; counts: RolloutCounts }> {
  return growTrees(tasks, (items, seed) => attemptBatch(policy, runner, items, opts, seed), opts);
}

/** The trees of any problems with an id, each turn's candidates from `attempt` (sampled and evaluated). */
export async function growTrees<T extends { id: string }>(
  tasks: readonly T[],
  attempt: AttemptSource<T, SampledScoredAttempt>,
  opts: TreeShape,
): Promise<{ trees: RolloutTree[]; counts: RolloutCounts }> {
  const batchSize = opts.batchSize ?? 64;
  const trees: RolloutTree[] = tasks.map((t) => ({ taskId: t.id, nodes: [] }));
  const histories: Attempt[][][] = tasks.map(() => []); // per tree, per node: the branch history including the node
  const counts: RolloutCounts = { sampledTokens: 0, promptTokens: 0, candidates: 0 };

  let pending: Pending[] = [];
  tasks.forEach((_, tree) => {
    for (let g = 0; g < opts.groupSize; g++) pending.push({ tree, parent: null, history: [] });
  });

  for (let turn = 1; turn <= opts.turns && pending.length > 0; turn++) {
    const created: { tree: number; id: number }[] = [];
    for (let start = 0; start < pending.length; start += batchSize) {
      const chunk = pending.slice(start, start + batchSize);
      const items = chunk.map((p) => ({ task: tasks[p.tree], history: p.history }));
      const attempts = await attempt(items, hashString(`${opts.seed}/rollout/turn${turn}/chunk${start}`));
      counts.promptTokens += prefillTokens(attempts.map((a) => a.promptIds));
      chunk.forEach((p, i) => {
        const tree = trees[p.tree];
        const node: TreeNode = {
          id: tree.nodes.length,
          parent: p.parent,
          children: [],
          turn,
          promptIds: attempts[i].promptIds,
          completionIds: attempts[i].completionIds,
          sampledLogprobs: attempts[i].sampledLogprobs,
          code: attempts[i].code,
          outcome: attempts[i].evaluation.outcome,
          reward: attempts[i].evaluation.reward,
          visiblePassed: attempts[i].evaluation.visiblePassed,
          feedback: attempts[i].evaluation.feedback,
          ...(attempts[i].text !== attempts[i].code ? { answer: attempts[i].text } : {}),
        };
        tree.nodes.push(node);
        if (p.parent !== null) tree.nodes[p.parent].children.push(node.id);
        histories[p.tree][node.id] = [...p.history, { code: node.code, feedback: node.feedback, answer: node.answer }];
        created.push({ tree: p.tree, id: node.id });
        counts.sampledTokens += node.completionIds.length;
        counts.candidates++;
      });
    }
    if (turn === opts.turns) break;
    pending = [];
    for (const group of groupsOf(created, trees)) {
      const tree = trees[group.tree];
      // Expand on the visible criterion only: a node that passed every visible test is a leaf.
      let expand = group.ids.filter((id) => !tree.nodes[id].visiblePassed);
      if (opts.maxExpandedPerGroup !== undefined) {
        const candidates = group.ids.map((id) => ({ id, reward: tree.nodes[id].reward, visiblePassed: tree.nodes[id].visiblePassed }));
        expand = selectForExpansion(candidates, opts.maxExpandedPerGroup);
      }
      for (const id of expand) {
        for (let c = 0; c < opts.childrenPerFailed; c++) pending.push({ tree: group.tree, parent: id, history: histories[group.tree][id] });
      }
    }
  }
  return { trees, counts };
}

/** The nodes created in one turn, grouped by tree and parent (their sibling groups). */
function groupsOf(created: { tree: number; id: number }[], trees: RolloutTree[]): { tree: number; ids: number[] }[] {
  const groups = new Map<string, { tree: number; ids: number[] }>();
  for (const { tree, id } of created) {
    const key = `${tree}/${trees[tree].nodes[id].parent}`;
    if (!groups.has(key)) groups.set(key, { tree, ids: [] });
    groups.get(key)!.ids.push(id);
  }
  return [...groups.values()];
}
