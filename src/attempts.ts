/**
 * One batched attempt: for each (task, branch history), fit the prompt into the context, sample one
 * completion from the policy in a single call, decode the program and run it in the sandbox, all
 * programs concurrently. Rollouts and the Iter-k evaluation both go task -> sampling -> sandbox ->
 * feedback through here.
 */
import type { Task } from "./tasks/types";
import { evaluateProgram, type Evaluation, type ProgramRunner } from "./feedback";
import { fitPrompt } from "./model/context";
import { decodeCompletion, type Attempt } from "./model/prompt";
import type { Policy, SamplingOptions } from "./model/policy";

export interface AttemptResult {
  promptIds: number[];
  /** Earlier attempts left out of the prompt because the context was full. */
  droppedAttempts: number;
  completionIds: number[];
  sampledLogprobs: number[];
  code: string;
  evaluation: Evaluation;
}

/** An attempt before it is run: the prompt, the sampled completion and the program it decodes to. */
export type SampledAttempt = Omit<AttemptResult, "evaluation">;

/**
 * The sampling half of an attempt: fit each prompt, sample all completions in one call, decode
 * the programs. Callers that run programs elsewhere (the Python benchmarks) use it directly.
 */
export async function sampleAttempts(
  policy: Policy,
  items: readonly { task: Task; history: readonly Attempt[] }[],
  opts: SamplingOptions,
  seed: number,
): Promise<SampledAttempt[]> {
  const maxPrompt = policy.blockSize - opts.maxNewTokens;
  const prompts = items.map((item) => fitPrompt(policy.tokenizer, item.task, item.history, maxPrompt));
  const sampled = await policy.sample(prompts.map((p) => p.ids), { ...opts, seed });
  return items.map((_, i) => ({
    promptIds: prompts[i].ids,
    droppedAttempts: prompts[i].dropped,
    completionIds: sampled.tokens[i],
    sampledLogprobs: sampled.logprobs[i],
    code: decodeCompletion(policy.tokenizer, sampled.tokens[i]),
  }));
}

export async function attemptBatch(
  policy: Policy,
  runner: ProgramRunner,
  items: readonly { task: Task; history: readonly Attempt[] }[],
  opts: SamplingOptions & { binary?: boolean },
  seed: number,
): Promise<AttemptResult[]> {
  const sampled = await sampleAttempts(policy, items, opts, seed);
  const evaluations = await Promise.all(items.map((item, i) => evaluateProgram(runner, item.task, sampled[i].code, { binary: opts.binary })));
  return sampled.map((attempt, i) => ({ ...attempt, evaluation: evaluations[i] }));
}
