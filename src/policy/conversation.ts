/**
 * The policy as rollouts and the Iter-k evaluation see it: given a conversation (a task and the
 * earlier attempts of one branch, each with the feedback it got), write the next program.
 *
 * Two kinds of policy sit behind this one interface:
 * - a token policy (`Policy` in ../model/policy.ts: the kit's GPT, or a scripted stand-in), which
 *   knows nothing of conversations: `tokenConversations` renders each conversation to the kit's
 *   prompt ids itself (fitPrompt: the same ids as before this interface existed), samples, and
 *   decodes the program;
 * - a policy behind a server (./openai.ts), which sends the conversation as chat messages and gets
 *   text back, plus the exact token ids and log-probs where the server returns them.
 *
 * `asConversationPolicy` accepts either, so `rollout(policy, ...)` and `evaluateIterK(policy, ...)`
 * take the kit's own model and a served model alike, unchanged.
 */
import type { Task } from "../tasks/types";
import { fitPrompt } from "../model/context";
import type { Policy, SamplingOptions } from "../model/policy";
import { decodeCompletion, type Attempt } from "../model/prompt";

/**
 * What the policy is asked: the task and the earlier attempts on this branch, oldest first. T is
 * the kit's `Task` for rollouts and Iter-k today; a served model takes any problem type with an id
 * (a benchmark's), given a `PromptStyle` for it.
 */
export interface Conversation<T = Task> {
  task: T;
  history: readonly Attempt[];
}

/** The policy's answer to one conversation. */
export interface Answer {
  /** The program: the last fenced code block of the answer, or the whole answer (chat policies); the decoded completion (token policies). */
  code: string;
  /** The whole answer text as the model wrote it (equals `code` for the kit's own model). */
  text: string;
  /** Token ids of the prompt the answer was sampled from; [] when the server did not return them. */
  promptIds: number[];
  /** Completion token ids exactly as sampled (stop token included if produced); [] when unknown. */
  completionIds: number[];
  /** Log-prob of each completion token under the sampling policy; [] when the server gave none. */
  sampledLogprobs: number[];
  /** Earlier attempts left out of the prompt because the context was full. */
  droppedAttempts: number;
}

export interface ConversationPolicy<T = Task> {
  /** One answer per conversation, in order. The same seed gives the same answers where the backend is deterministic. */
  answer(conversations: readonly Conversation<T>[], opts: SamplingOptions & { seed: number }): Promise<Answer[]>;
}

/** Either kind of policy: what rollouts and evaluation accept. */
export type AnyPolicy = Policy | ConversationPolicy;

function isConversationPolicy(policy: AnyPolicy): policy is ConversationPolicy {
  return typeof (policy as ConversationPolicy).answer === "function";
}

/**
 * A token policy behind the conversation interface: each conversation becomes the kit's prompt
 * (task, then `<attempt>` code `<feedback>` feedback per earlier attempt, then `<answer>`), fitted
 * into the context by dropping the oldest attempts; all prompts are sampled in one batched call
 * with the given seed; each completion is decoded up to `<end>`.
 */
export function tokenConversations(policy: Policy): ConversationPolicy {
  return {
    async answer(conversations, opts) {
      const maxPrompt = policy.blockSize - opts.maxNewTokens;
      const prompts = conversations.map((c) => fitPrompt(policy.tokenizer, c.task, c.history, maxPrompt));
      const sampled = await policy.sample(
        prompts.map((p) => p.ids),
        opts,
      );
      return prompts.map((prompt, i) => {
        const code = decodeCompletion(policy.tokenizer, sampled.tokens[i]);
        return {
          code,
          text: code,
          promptIds: prompt.ids,
          completionIds: sampled.tokens[i],
          sampledLogprobs: sampled.logprobs[i],
          droppedAttempts: prompt.dropped,
        };
      });
    },
  };
}

/** The conversation interface of any policy (a token policy is wrapped by `tokenConversations`). */
export function asConversationPolicy(policy: AnyPolicy): ConversationPolicy {
  return isConversationPolicy(policy) ? policy : tokenConversations(policy);
}
