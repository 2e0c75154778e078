/**
 * The one prompt format of the kit. Sampling, training and evaluation all build prompts here, so
 * the model is trained on exactly the token sequences it is later asked to continue.
 *
 *   <task>f(xs, k): Multiply the sum of xs by k.
 *   f([1,2],3) = 9
 *   f([4],2) = 8<attempt>(xs, k) => xs.length * k<feedback>passed 0/2 visible; f([1,2],3): expected 9, got 6<answer>
 *
 * The task block is the signature with the description, then one visible example per line; each
 * earlier attempt on the branch follows as `<attempt>` code `<feedback>` feedback; `<answer>`
 * asks for the next program. The completion is the program followed by `<end>`. There are no
 * newlines around the section markers: they already separate the parts, and every extra token
 * costs context (the base model's is 640 tokens).
 */
import type { Task, TestCase, Value } from "../tasks/types";
import type { Tokenizer } from "./tokenizer";

/** One earlier attempt on a branch of the rollout tree, with the feedback it received. */
export interface Attempt {
  code: string;
  feedback: string;
  /** The whole answer the code came from, when it was more than the code (a chat model's prose and fences); chat prompts replay it. */
  answer?: string;
}

/**
 * A value as the model sees it: compact JSON (no spaces), e.g. `[1,-2,"a b",true]`.
 * Strings are JSON-quoted, so a newline inside a string stays `\n` and one example is one line.
 */
export function renderValue(value: Value): string {
  if (Array.isArray(value)) return `[${value.map(renderValue).join(",")}]`;
  if (typeof value === "string") return JSON.stringify(value);
  // Numbers and booleans as JavaScript writes them (NaN and Infinity too, should they appear).
  return String(value);
}

/** The arguments of a call, comma-separated without spaces: `[1,2],3`. */
export function renderArguments(input: readonly Value[]): string {
  return input.map(renderValue).join(",");
}

/** A call to the task's function: `f([1,2],3)`. */
export function renderCall(input: readonly Value[]): string {
  return `f(${renderArguments(input)})`;
}

/** A visible example: `f([1,2],3) = 9`. */
export function renderExample(test: TestCase): string {
  return `${renderCall(test.input)} = ${renderValue(test.expected)}`;
}

/**
 * The text of the task block (what follows `<task>`): signature, description, then one line per
 * visible test: the example `f([1,2]) = 3`, or only the call `f([1,2])` for a task whose prompt
 * shows inputs only (`task.promptShows`, the feedback suite), whose expected values come back
 * only as feedback.
 */
export function renderTask(task: Task): string {
  const lines = [`f${task.signature}: ${task.description}`];
  for (const test of task.visible) lines.push(task.promptShows === "inputs" ? renderCall(test.input) : renderExample(test));
  return lines.join("\n");
}

/**
 * The prompt for the next attempt at `task`, after the earlier attempts of its branch.
 * @param history the branch's earlier attempts, oldest first (empty for a first attempt).
 * @returns token ids `<task> task (<attempt> code <feedback> feedback)* <answer>`.
 */
export function buildPrompt(tokenizer: Tokenizer, task: Task, history: readonly Attempt[]): number[] {
  return buildPromptFromText(tokenizer, renderTask(task), history);
}

/** `buildPrompt` for a task given as its rendered text (what `murphy serve` reads from a chat request). */
export function buildPromptFromText(tokenizer: Tokenizer, taskText: string, history: readonly Attempt[]): number[] {
  const ids = [tokenizer.task, ...tokenizer.encode(taskText)];
  for (const attempt of history) {
    ids.push(tokenizer.attempt, ...tokenizer.encode(attempt.code));
    ids.push(tokenizer.feedback, ...tokenizer.encode(attempt.feedback));
  }
  ids.push(tokenizer.answer);
  return ids;
}

/** The completion a model should write for `code`: its characters then `<end>`. */
export function completionIds(tokenizer: Tokenizer, code: string): number[] {
  return [...tokenizer.encode(code), tokenizer.end];
}

/**
 * The program in a sampled completion: the text before the first `<end>` (which is dropped).
 * A completion cut off by the length limit has no `<end>` and decodes whole. Other special ids
 * in a completion are rendered as their names, so such a program fails visibly in the sandbox.
 */
export function decodeCompletion(tokenizer: Tokenizer, ids: readonly number[]): string {
  const stop = ids.indexOf(tokenizer.end);
  return tokenizer.decode(stop >= 0 ? ids.slice(0, stop) : ids);
}
