/**
 * Fitting a multi-turn prompt into the model's context. The prompt grows with every failed turn;
 * when prompt + completion budget would overflow the context, the OLDEST earlier attempts are
 * dropped first (the task and the latest attempt with its feedback matter most for the next try).
 * Sampling, training and evaluation all fit prompts here, so they always agree.
 */
import type { Task } from "../tasks/types";
import { buildPrompt, type Attempt } from "./prompt";
import type { Tokenizer } from "./tokenizer";

/**
 * The prompt for `task` after `history`, at most `maxTokens` long, keeping as many of the most
 * recent attempts as fit. Throws if even the bare task prompt does not fit.
 * @returns the token ids and how many of the earliest attempts were dropped.
 */
export function fitPrompt(
  tokenizer: Tokenizer,
  task: Task,
  history: readonly Attempt[],
  maxTokens: number,
): { ids: number[]; dropped: number } {
  for (let dropped = 0; dropped <= history.length; dropped++) {
    const ids = buildPrompt(tokenizer, task, history.slice(dropped));
    if (ids.length <= maxTokens) return { ids, dropped };
  }
  throw new Error(`task ${task.id}: its prompt alone is longer than ${maxTokens} tokens; raise the model's blockSize or shorten the task`);
}
