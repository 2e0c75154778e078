/**
 * The trainable examples of scored rollout trees, in a plain format an external trainer (a PyTorch
 * GRPO loop, TRL, verl, ...) can read without the kit: one JSON object per kept candidate, after
 * credit, pruning and advantages (pipeline.ts). The format is documented field by field in
 * docs/training-export.md; `EXPORT_FORMAT` names its version.
 *
 * Each example is the candidate's completion conditioned on ITS OWN prompt (method.md): the prompt
 * holds the task and the earlier attempts of its branch with their feedback, and is never trained.
 * Both forms of the prompt are given: token ids exactly as the sampler saw them (when known) and
 * chat messages (always), so a trainer can use the ids where the server returned them and fall back
 * to its own chat template otherwise.
 */
import type { Task } from "../tasks/types";
import type { Attempt } from "../model/prompt";
import { conversationMessages, KIT_STYLE, type ChatMessage, type PromptStyle } from "../policy/chat-format";
import type { ScoredTree } from "./pipeline";
import type { RolloutTree } from "./tree";

export const EXPORT_FORMAT = "murphy-training-examples/1";

export interface ExportedExample {
  format: typeof EXPORT_FORMAT;
  task_id: string;
  node: number;
  parent: number | null;
  turn: number;
  /** r(n): the fraction of all tests passed. */
  reward: number;
  /** R(n) after credit assignment (MaRS/MeRS). */
  propagated_reward: number;
  /** A(n): what the loss multiplies this completion's log-likelihood by. */
  advantage: number;
  /** The prompt's token ids as sampled from ([] when the server did not return them). */
  prompt_ids: number[];
  /** The completion's token ids as sampled, stop token included ([] when unknown). */
  completion_ids: number[];
  /** Log-prob of each completion token under the sampling policy ([] when unknown). */
  old_logprobs: number[];
  /** One entry per completion id: 1 = in the loss. Prompt tokens are never in the loss. */
  completion_mask: number[];
  /** The same prompt as chat messages (task, then each earlier answer and its feedback). */
  messages: ChatMessage[];
  /** The completion as text (the model's whole answer). */
  completion: string;
}

/** The earlier attempts on a node's branch, oldest first (its ancestors). */
export function branchHistory(tree: RolloutTree, nodeId: number): Attempt[] {
  const chain: Attempt[] = [];
  for (let id = tree.nodes[nodeId].parent; id !== null; id = tree.nodes[id].parent) {
    const n = tree.nodes[id];
    chain.push(n.answer !== undefined ? { code: n.code, feedback: n.feedback, answer: n.answer } : { code: n.code, feedback: n.feedback });
  }
  return chain.reverse();
}

/**
 * One example per kept candidate of each scored tree, in tree order then node order.
 * @param tasks the trees' tasks by id (their prompts render the messages): the kit's `Task`s, or
 *   any problem type T given its `style` (a benchmark's problems with `pythonStyle`).
 * @param options.style how a task is put as chat messages (default: the kit's own tasks);
 *   options.system the system message the policy sent, if any.
 */
export function exportExamples<T = Task>(
  scored: readonly ScoredTree[],
  tasks: ReadonlyMap<string, T>,
  options: { style?: (task: T) => PromptStyle<T>; system?: string } = {},
): ExportedExample[] {
  // Without a style the tasks are the kit's own (T = Task).
  const style = options.style ?? (() => KIT_STYLE as unknown as PromptStyle<T>);
  const out: ExportedExample[] = [];
  for (const s of scored) {
    const task = tasks.get(s.tree.taskId);
    if (!task) throw new Error(`exportExamples: no task "${s.tree.taskId}" among the ${tasks.size} tasks given`);
    for (const id of s.kept) {
      const node = s.tree.nodes[id];
      out.push({
        format: EXPORT_FORMAT,
        task_id: s.tree.taskId,
        node: id,
        parent: node.parent,
        turn: node.turn,
        reward: node.reward,
        propagated_reward: s.propagatedRewards[id],
        advantage: s.advantages[id],
        prompt_ids: node.promptIds,
        completion_ids: node.completionIds,
        old_logprobs: node.sampledLogprobs,
        completion_mask: node.completionIds.map(() => 1),
        messages: conversationMessages(style(task), task, branchHistory(s.tree, id), options.system),
        completion: node.answer ?? node.code,
      });
    }
  }
  return out;
}
