/**
 * From a finished rollout tree to what the policy update trains on, in one fixed order:
 *
 *   1. credit      R = propagatedRewards(full tree)   pruning never changes anyone's credit: the
 *                                                     rollouts happened, and R records what each
 *                                                     attempt's feedback actually led to
 *   2. InterP      drop the subtrees below all but K expanded attempts per parent (ranked by R)
 *   3. advantages  A over each full group (GRPO normalisation of R; sibling groups by default),
 *                  its members being every candidate InterP kept
 *   4. IntraP      drop zero-variance groups; keep B per group by |A|, balanced by sign
 *   5. advantages  again over the kept members of each group, if `advantage.over = "kept"`
 *
 * InterP comes before the advantages because what it drops leaves the update. With sibling groups
 * it removes whole groups (the children of an attempt), which changes no other group's statistics.
 * With `advantage.group = "turn"` a turn's pooled group mixes the repairs of several attempts, so
 * the dropped repairs are taken out of it before its mean and std are computed: a pooled group's
 * baseline is that of the candidates that are trained or could be. IntraP needs advantages to rank by, so those are computed on the full
 * group first. Whether the kept candidates then train with those full-group advantages (default
 * "full-group": the baseline uses every sample drawn, pruning only skips the ones that carry
 * little gradient) or with advantages renormalised among the kept ("kept": every trained group is
 * again zero-mean, unit-scale) is an open choice, hence the option. Without pruning both agree.
 *
 * With turns = 1 the tree is G leaves under the task: R = r, one group, and this is GRPO.
 */
import type { AdvantageOptions } from "./advantages";
import { treeAdvantages } from "./advantages";
import type { CreditOptions } from "./credit";
import { propagatedRewards } from "./credit";
import type { IntraGroupPruneOptions, PruneReason } from "./prune";
import { interTurnPrune, intraGroupPrune } from "./prune";
import type { RolloutTree } from "./tree";

export type AdvantageGroup = "full-group" | "kept";

/** The parts of the run config that decide credit, pruning and advantages (see config.ts). */
export interface ScoreOptions {
  credit: CreditOptions;
  advantage: AdvantageOptions & { over: AdvantageGroup };
  intraPrune: IntraGroupPruneOptions & { enabled: boolean };
  interPrune: { enabled: boolean; maxSubtrees: number };
}

/** A tree with every stage's result, one entry per node, ready to print, plot or train on. */
export interface ScoredTree {
  tree: RolloutTree;
  /** R(n), credit.ts. */
  propagatedRewards: number[];
  /** A(n) normalised over n's full group, InterP's dropped nodes left out (what IntraP ranks by); NaN for those. */
  fullGroupAdvantages: number[];
  /** The advantage each kept node is trained with; NaN for dropped nodes. */
  advantages: number[];
  /** Why each node was kept or dropped. */
  reasons: PruneReason[];
  /** Ids of the kept nodes, ascending. */
  kept: number[];
}

/** Run credit, InterP, advantages and IntraP on one tree, in the order of the file comment. */
export function scoreTree(tree: RolloutTree, options: ScoreOptions): ScoredTree {
  const propagated = propagatedRewards(tree, options.credit);
  let reasons: PruneReason[] = options.interPrune.enabled
    ? interTurnPrune(tree, propagated, options.interPrune)
    : new Array<PruneReason>(tree.nodes.length).fill("kept");
  const survivesInterP = reasons.map((r) => r !== "inter:subtree-dropped");
  const fullGroupAdvantages = treeAdvantages(tree, propagated, options.advantage, survivesInterP);
  if (options.intraPrune.enabled) {
    const intra = { ...options.intraPrune, group: options.advantage.group };
    reasons = intraGroupPrune(tree, propagated, fullGroupAdvantages, intra, reasons);
  }
  const isKept = reasons.map((r) => r === "kept");
  const trained =
    options.advantage.over === "kept" ? treeAdvantages(tree, propagated, options.advantage, isKept) : fullGroupAdvantages;
  const advantages = trained.map((a, id) => (isKept[id] ? a : NaN));
  const kept = tree.nodes.filter((n) => isKept[n.id]).map((n) => n.id);
  return { tree, propagatedRewards: propagated, fullGroupAdvantages, advantages, reasons, kept };
}

/** One candidate to train on: its own prompt, its completion exactly as sampled, its advantage. */
export interface TrainingExample {
  taskId: string;
  nodeId: number;
  turn: number;
  promptIds: number[];
  completionIds: number[];
  /** Log-probs of the completion under the sampling policy, as recorded at rollout. */
  sampledLogprobs: number[];
  advantage: number;
}

/** The kept candidates of scored trees, in tree order then node order. */
export function trainingExamples(scored: readonly ScoredTree[]): TrainingExample[] {
  const out: TrainingExample[] = [];
  for (const s of scored) {
    for (const id of s.kept) {
      const node = s.tree.nodes[id];
      out.push({
        taskId: s.tree.taskId,
        nodeId: id,
        turn: node.turn,
        promptIds: node.promptIds,
        completionIds: node.completionIds,
        sampledLogprobs: node.sampledLogprobs,
        advantage: s.advantages[id],
      });
    }
  }
  return out;
}
