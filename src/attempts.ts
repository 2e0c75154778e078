/**
 * One batched attempt: for each (task, branch history), ask the policy for one answer (a token
 * policy fits the prompt into its context and samples all prompts in a single call; a served model
 * gets each conversation as chat messages: src/policy/conversation.ts), then run every program in
 * the sandbox concurrently. Rollouts and the Iter-k evaluation both go task -> sampling -> sandbox ->
 * feedback through here.
 *
 * `AttemptSource` is the same step over any problem type: where the Iter-k loop (src/eval/iterk.ts)
 * and the rollout tree (src/murphy/rollout.ts) get a turn's programs from, whether a policy on the
 * kit's tasks (attemptBatch), a reference program or a served model on a Python benchmark
 * (src/benchmarks/attempt-sources.ts).
 */
import type { Task } from "./tasks/types";
import { evaluateProgram, type Evaluation, type ProgramRunner } from "./feedback";
import type { Outcome } from "./sandbox/types";
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

/** One attempt as the Iter-k loop needs it: the program, its evaluation and its token counts. */
export type ScoredAttempt = Pick<AttemptResult, "code" | "promptIds" | "completionIds" | "droppedAttempts"> & {
  /** The whole answer when it differs from the program (a served model's text around its code block). */
  text?: string;
  evaluation: { reward: number; outcome: Outcome; feedback: string; solved: boolean; visiblePassed: boolean };
};

/** A sampled attempt as a rollout tree keeps it: also the log-prob of each completion token and the whole answer. */
export type SampledScoredAttempt = ScoredAttempt & Pick<AttemptResult, "sampledLogprobs" | "text">;

/**
 * Where a turn's attempts come from: one program per (task, branch history), evaluated, in order.
 * `A` is what each attempt carries: a `ScoredAttempt` for Iter-k, a `SampledScoredAttempt` for
 * rollout trees (which keep token ids with their log-probs).
 */
export type AttemptSource<T, A extends ScoredAttempt = ScoredAttempt> = (batch: readonly { task: T; history: readonly Attempt[] }[], seed: number) => Promise<readonly A[]>;

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
