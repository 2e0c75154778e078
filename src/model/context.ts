/**
 * Fitting a multi-turn prompt into the model's context. The prompt grows with every failed turn;
 * when prompt + completion budget would overflow the context, the OLDEST earlier attempts are
 * dropped first (the task and the latest attempt with its feedback matter most for the next try).
 * Sampling, training and evaluation all fit prompts here, so they always agree.
 */
import type { Task } from "../tasks/types";
import { buildPromptFromText, renderTask, type Attempt } from "./prompt";
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
  return fitPromptText(tokenizer, renderTask(task), history, maxTokens, `task ${task.id}`);
}

/** `fitPrompt` for a task given as its rendered text; `label` names it in the error. */
export function fitPromptText(
  tokenizer: Tokenizer,
  taskText: string,
  history: readonly Attempt[],
  maxTokens: number,
  label: string,
): { ids: number[]; dropped: number } {
  for (let dropped = 0; dropped <= history.length; dropped++) {
    const ids = buildPromptFromText(tokenizer, taskText, history.slice(dropped));
    if (ids.length <= maxTokens) return { ids, dropped };
  }
  throw new Error(`${label}: its prompt alone is longer than ${maxTokens} tokens; raise the model's blockSize or shorten the task`);
}
