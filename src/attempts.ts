/**
 * One batched attempt: for each (task, branch history), ask the policy for one answer (a token
 * policy fits the prompt into its context and samples all prompts in a single call; a served model
 * gets each conversation as chat messages: src/policy/conversation.ts), then run every program in
 * the sandbox concurrently. Rollouts and the Iter-k evaluation both go task -> sampling -> sandbox ->
 * feedback through here.
 */
import type { Task } from "./tasks/types";
import { evaluateProgram, type Evaluation, type ProgramRunner } from "./feedback";
import type { Attempt } from "./model/prompt";
import type { SamplingOptions } from "./model/policy";
import { asConversationPolicy, type AnyPolicy } from "./policy/conversation";

export interface AttemptResult {
  promptIds: number[];
  /** Earlier attempts left out of the prompt because the context was full. */
  droppedAttempts: number;
  completionIds: number[];
  sampledLogprobs: number[];
  code: string;
  /** The whole answer the program came from (differs from `code` for chat models: prose, fences). */
  text: string;
  evaluation: Evaluation;
}

export async function attemptBatch(
  policy: AnyPolicy,
  runner: ProgramRunner,
  items: readonly { task: Task; history: readonly Attempt[] }[],
  opts: SamplingOptions & { binary?: boolean },
  seed: number,
): Promise<AttemptResult[]> {
  const answers = await asConversationPolicy(policy).answer(items, { ...opts, seed });
  const codes = answers.map((a) => a.code);
  const evaluations = await Promise.all(items.map((item, i) => evaluateProgram(runner, item.task, codes[i], { binary: opts.binary })));
  return items.map((_, i) => ({
    promptIds: answers[i].promptIds,
    droppedAttempts: answers[i].droppedAttempts,
    completionIds: answers[i].completionIds,
    sampledLogprobs: answers[i].sampledLogprobs,
    code: codes[i],
    text: answers[i].text,
    evaluation: evaluations[i],
  }));
}
