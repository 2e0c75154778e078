/**
 * Where the programs of an Iter-k run on a benchmark come from (AttemptSource, src/eval/iterk.ts):
 *
 * - referenceSource: each problem's reference program, every turn. A check of the loaders and
 *   the sandbox (HumanEval must score 164/164), not a model.
 * - kitPolicySource: the kit's own model. It writes JavaScript arrow functions, so on a Python
 *   benchmark it scores near 0; it runs through the same sampling code as rollouts
 *   (sampleAttempts), on a kit-task view of each problem (kitTaskView).
 * - conversationSource: a conversation policy on the problems themselves, in practice a model
 *   served over HTTP (`new OpenAIPolicy<BenchProblem>({ ..., style: pythonStyle })`): it sees the
 *   benchmark's prompt verbatim and writes Python.
 *
 * Each is a function from (problem, branch history) to programs, each evaluated with
 * evaluateBenchProgram. The sampling sources keep token ids and log-probs, so rollout trees
 * (growTrees, src/murphy/rollout.ts) take them as well as Iter-k does.
 */
import { evaluateProgram, type ProgramRunner } from "../feedback";
import { sampleAttempts, type AttemptSource, type SampledScoredAttempt, type ScoredAttempt } from "../attempts";
import type { Policy, SamplingOptions } from "../model/policy";
import type { ConversationPolicy } from "../policy/conversation";
import type { PyRunner } from "../pysandbox/types";
import type { Task } from "../tasks/types";
import { parameterNames } from "./docstring-examples";
import { evaluateBenchProgram, type BenchEvaluateOptions } from "./evaluate";
import type { BenchProblem } from "./types";

const NO_TOKENS = { promptIds: [], completionIds: [], droppedAttempts: 0 };

/** Each benchmark problem's reference program (problems without one are an error). */
export function referenceSource(runner: PyRunner, options: BenchEvaluateOptions = {}): AttemptSource<BenchProblem> {
  return async (batch) =>
    Promise.all(
      batch.map(async ({ task }): Promise<ScoredAttempt> => {
        if (task.reference === undefined) throw new Error(`problem ${task.id} has no reference program`);
        return { ...NO_TOKENS, code: task.reference, evaluation: await evaluateBenchProgram(runner, task, task.reference, options) };
      }),
    );
}

/** Each kit task's reference program, through the JavaScript sandbox (`--bench kit --policy canonical`). */
export function kitReferenceSource(runner: ProgramRunner, options: { binary?: boolean } = {}): AttemptSource<Task> {
  return async (batch) =>
    Promise.all(batch.map(async ({ task }): Promise<ScoredAttempt> => ({ ...NO_TOKENS, code: task.reference, evaluation: await evaluateProgram(runner, task, task.reference, options) })));
}

/**
 * How a benchmark problem reads to the kit's model: its prompt flattened to one line of printable
 * ASCII (the kit tokenizer's alphabet) and cut to `maxChars`, with the entry point's parameters
 * as the signature. No examples: the kit's prompt format holds JavaScript values only.
 */
export function kitTaskView(problem: BenchProblem, maxChars: number): Task {
  const parameters = problem.entryPoint ? parameterNames(problem.prompt, problem.entryPoint) : [];
  const flat = problem.prompt.replace(/[^\x20-\x7e]+/g, " ").replace(/\s+/g, " ").trim();
  return {
    id: problem.id,
    family: problem.benchmark,
    difficulty: 1,
    description: flat.slice(0, Math.max(0, maxChars)),
    signature: `(${parameters.join(", ")})`,
    visible: [],
    hidden: [],
    reference: "",
  };
}

/** The kit's model on a Python benchmark: sampled like a rollout, run in the Python sandbox. */
export function kitPolicySource(policy: Policy, runner: PyRunner, sampling: SamplingOptions, options: BenchEvaluateOptions = {}): AttemptSource<BenchProblem, SampledScoredAttempt> {
  // The task block must leave room for the completion and a few earlier attempts.
  const maxChars = Math.max(40, Math.floor((policy.blockSize - sampling.maxNewTokens) / 2));
  return async (batch, seed) => {
    const views = batch.map(({ task, history }) => ({ task: kitTaskView(task, maxChars), history }));
    const sampled = await sampleAttempts(policy, views, sampling, seed);
    return Promise.all(batch.map(async ({ task }, i) => ({ ...sampled[i], evaluation: await evaluateBenchProgram(runner, task, sampled[i].code, options) })));
  };
}

/** A conversation policy (a served model) on benchmark problems: one answer per (problem, history), run in the Python sandbox. */
export function conversationSource(
  policy: ConversationPolicy<BenchProblem>,
  runner: PyRunner,
  sampling: SamplingOptions,
  options: BenchEvaluateOptions = {},
): AttemptSource<BenchProblem, SampledScoredAttempt> {
  return async (batch, seed) => {
    const sampled = await sampleAttempts(policy, batch, sampling, seed);
    return Promise.all(batch.map(async ({ task }, i) => ({ ...sampled[i], evaluation: await evaluateBenchProgram(runner, task, sampled[i].code, options) })));
  };
}
