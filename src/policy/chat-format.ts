/**
 * The multi-turn prompt as a chat conversation, for models behind an OpenAI-compatible server:
 *
 *   user       <instruction>\n\n<the task's prompt, verbatim>
 *   assistant  <attempt 1: the model's whole answer>
 *   user       Your program was run on the visible tests:\n<feedback 1>\n\n<retry instruction>
 *   assistant  <attempt 2>
 *   user       ... feedback 2 ...
 *
 * The task's prompt is the benchmark's own text (for the kit's tasks: signature, description and
 * visible examples, as the kit's model sees them); each further turn replays the model's previous
 * answer as it was written and adds the feedback of the visible tests. The program is read back
 * from an answer by `extractCode`: the last fenced code block, or the whole answer.
 *
 * `parseConversation` is the inverse, used by `murphy serve` to turn messages back into the kit's
 * prompt (task text and earlier attempts), so the kit's model behind HTTP sees exactly the prompt
 * it sees in-process.
 */
import type { Task } from "../tasks/types";
import { renderTask, type Attempt } from "../model/prompt";

/** How a family of tasks (the kit's own `Task`, or any benchmark's problem type T) is put to a chat model. */
export interface PromptStyle<T = Task> {
  /** The language named in the code fence: "javascript", "python". */
  language: string;
  /** Put before the task's prompt in the first user message. */
  instruction: string;
  /** Put after the feedback in each further user message. */
  retry: string;
  /** The task's prompt, verbatim. */
  taskText(task: T): string;
}

/** The kit's own JavaScript tasks: one arrow function with the task's parameters. */
export const KIT_STYLE: PromptStyle = {
  language: "javascript",
  instruction:
    "Write the JavaScript function f described below as a single arrow function with exactly the parameters shown. " +
    "Reply with the function alone in one ```javascript code block.",
  retry: "Write a corrected arrow function in one ```javascript code block.",
  taskText: renderTask,
};

/**
 * A Python benchmark problem (HumanEval, MBPP, LiveCodeBench, KodCode): its prompt verbatim, and
 * either a function to write (the problem names an entry point) or a program reading standard
 * input (LiveCodeBench's stdin/stdout problems). Structural, so any loader's problem type fits.
 */
export function pythonStyle(problem: { prompt: string; entryPoint?: string }): PromptStyle<unknown> {
  const fn = problem.entryPoint !== undefined && problem.entryPoint !== "";
  return {
    language: "python",
    instruction: fn
      ? `Write the Python function \`${problem.entryPoint}\` for the problem below, with the imports it needs. Reply with the complete function in one \`\`\`python code block.`
      : "Write a Python program for the problem below: read the input from standard input and print the answer to standard output. Reply with the complete program in one ```python code block.",
    retry: fn ? "Write a corrected version of the complete function in one ```python code block." : "Write a corrected version of the complete program in one ```python code block.",
    taskText: () => problem.prompt,
  };
}

/** The line that introduces the feedback in every further user message. */
export const FEEDBACK_INTRO = "Your program was run on the visible tests:";

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** The first user message: the instruction, a blank line, the task's prompt. */
export function taskMessage(style: PromptStyle<never>, taskText: string): ChatMessage {
  return { role: "user", content: `${style.instruction}\n\n${taskText}` };
}

/** An earlier attempt as the model wrote it (its whole answer; a bare program is put in a fence). */
export function answerMessage(style: PromptStyle<never>, attempt: Attempt): ChatMessage {
  return { role: "assistant", content: attempt.answer ?? "```" + style.language + "\n" + attempt.code + "\n```" };
}

/** The feedback of an attempt and the request for a corrected program. */
export function feedbackMessage(style: PromptStyle<never>, feedback: string): ChatMessage {
  return { role: "user", content: `${FEEDBACK_INTRO}\n${feedback}\n\n${style.retry}` };
}

/** The whole conversation for the next attempt at a task after `history` (oldest first). */
export function conversationMessages<T>(style: PromptStyle<T>, task: T, history: readonly Attempt[], system?: string): ChatMessage[] {
  const messages: ChatMessage[] = system ? [{ role: "system", content: system }] : [];
  messages.push(taskMessage(style, style.taskText(task)));
  for (const attempt of history) messages.push(answerMessage(style, attempt), feedbackMessage(style, attempt.feedback));
  return messages;
}

/** A fence line: optional indentation, three backticks, an optional info string. */
const FENCE = /^\s*```/;

/**
 * The program in a model's answer: the last fenced code block (``` lines), or the whole answer if
 * it has none. A block left open at the end (an answer cut off by the token limit) counts as
 * closed there. A leading `<think>...</think>` block (reasoning models without a reasoning parser
 * on the server) is ignored, so code drafted while thinking is never taken for the answer.
 */
export function extractCode(answer: string): string {
  let text = answer;
  const think = /^\s*<think>[\s\S]*?<\/think>/.exec(text);
  if (think) text = text.slice(think[0].length);
  const blocks: string[] = [];
  let open: string[] | null = null;
  for (const line of text.split("\n")) {
    if (FENCE.test(line)) {
      if (open) {
        blocks.push(open.join("\n"));
        open = null;
      } else open = [];
    } else if (open) open.push(line);
  }
  if (open) blocks.push(open.join("\n"));
  if (blocks.length) return blocks[blocks.length - 1];
  return think ? text.trim() : answer;
}

/** Message content as text: a string, or OpenAI's list of parts (`[{type: "text", text}]`). */
export function contentText(content: unknown, where: string): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part, i) => {
        if (part && typeof part === "object" && (part as { type?: unknown }).type === "text" && typeof (part as { text?: unknown }).text === "string") {
          return (part as { text: string }).text;
        }
        throw new Error(`${where}: part ${i} must be {"type": "text", "text": "..."}`);
      })
      .join("");
  }
  throw new Error(`${where}: "content" must be a string or a list of text parts`);
}

/**
 * The kit's prompt behind a conversation: the task's text and the earlier attempts. The inverse of
 * `conversationMessages` for `style` (system messages are ignored); text that does not follow the
 * style is taken whole (a first user message is all task, a later one all feedback), so any client
 * can talk to the kit's model. Throws unless roles go user, assistant, user, ..., user.
 */
export function parseConversation(messages: unknown, style: PromptStyle<never> = KIT_STYLE): { taskText: string; history: Attempt[] } {
  if (!Array.isArray(messages) || messages.length === 0) throw new Error(`"messages" must be a non-empty list`);
  const turns: { role: string; content: string }[] = [];
  messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (!m || typeof m !== "object") throw new Error(`${where} must be an object with "role" and "content"`);
    const role = (m as { role?: unknown }).role;
    if (role !== "system" && role !== "user" && role !== "assistant") throw new Error(`${where}.role must be "system", "user" or "assistant" (got ${JSON.stringify(role)})`);
    if (role !== "system") turns.push({ role, content: contentText((m as { content?: unknown }).content, where) });
  });
  turns.forEach((t, i) => {
    const expected = i % 2 === 0 ? "user" : "assistant";
    if (t.role !== expected) throw new Error(`message ${i} (not counting system messages) must be from the ${expected} (got ${t.role}): roles alternate user, assistant, user, ...`);
  });
  if (turns[turns.length - 1].role !== "user") throw new Error(`the last message must be from the user (the model answers it)`);
  const head = `${style.instruction}\n\n`;
  const first = turns[0].content;
  const taskText = first.startsWith(head) ? first.slice(head.length) : first;
  const history: Attempt[] = [];
  for (let i = 1; i + 1 < turns.length; i += 2) {
    const answer = turns[i].content;
    const code = extractCode(answer);
    const said = turns[i + 1].content;
    const intro = `${FEEDBACK_INTRO}\n`;
    const tail = `\n\n${style.retry}`;
    const feedback = said.startsWith(intro) && said.endsWith(tail) && said.length >= intro.length + tail.length ? said.slice(intro.length, said.length - tail.length) : said;
    history.push(answer === code ? { code, feedback } : { code, feedback, answer });
  }
  return { taskText, history };
}
