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
import { asConversationPolicy, type AnyPolicy, type ConversationPolicy } from "./policy/conversation";

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

/** An attempt before it is run: the prompt, the sampled completion and the program it decodes to. */
export type SampledAttempt = Omit<AttemptResult, "evaluation">;

/**
 * The sampling half of an attempt: one answer per (task, history) from the policy, in one call.
 * Callers that run programs elsewhere (another sandbox, another benchmark) use it directly; a
 * conversation policy takes any problem type with an id (e.g. a served model on a benchmark).
 */
export async function sampleAttempts(policy: AnyPolicy, items: readonly { task: Task; history: readonly Attempt[] }[], opts: SamplingOptions, seed: number): Promise<SampledAttempt[]>;
export async function sampleAttempts<T>(policy: ConversationPolicy<T>, items: readonly { task: T; history: readonly Attempt[] }[], opts: SamplingOptions, seed: number): Promise<SampledAttempt[]>;
export async function sampleAttempts(
  policy: AnyPolicy | ConversationPolicy<unknown>,
  items: readonly { task: unknown; history: readonly Attempt[] }[],
  opts: SamplingOptions,
  seed: number,
): Promise<SampledAttempt[]> {
  const conversations = asConversationPolicy(policy as AnyPolicy) as ConversationPolicy<unknown>;
  const answers = await conversations.answer(items, { ...opts, seed });
  return answers.map((a) => ({
    promptIds: a.promptIds,
    droppedAttempts: a.droppedAttempts,
    completionIds: a.completionIds,
    sampledLogprobs: a.sampledLogprobs,
    code: a.code,
    text: a.text,
  }));
}

export async function attemptBatch(
  policy: AnyPolicy,
  runner: ProgramRunner,
  items: readonly { task: Task; history: readonly Attempt[] }[],
  opts: SamplingOptions & { binary?: boolean },
  seed: number,
): Promise<AttemptResult[]> {
  const sampled = await sampleAttempts(policy, items, opts, seed);
  const evaluations = await Promise.all(items.map((item, i) => evaluateProgram(runner, item.task, sampled[i].code, { binary: opts.binary })));
  return sampled.map((attempt, i) => ({ ...attempt, evaluation: evaluations[i] }));
}
