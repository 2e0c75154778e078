import { test } from "node:test";
import assert from "node:assert/strict";
import { answerMessage, conversationMessages, extractCode, KIT_STYLE, parseConversation, pythonStyle, type PromptStyle } from "../src/policy/chat-format";
import { renderTask } from "../src/model/prompt";
import { loadSplit } from "../src/tasks/load";
import { TASKS_DIR } from "../src/paths";

const [task] = loadSplit(TASKS_DIR, "test").slice(0, 1);

test("extractCode: the last fenced block, an open block at the end, or the whole answer verbatim", () => {
  assert.equal(extractCode("First try:\n```js\n(a) => 1\n```\nBetter:\n```javascript\n(a) => a + 1\n```\nDone."), "(a) => a + 1");
  // No fence: the whole answer, not trimmed (the kit's own model answers with the bare program).
  assert.equal(extractCode("  (xs)=>xs.length\n"), "  (xs)=>xs.length\n");
  // Cut off by the token limit inside the block: what was written of it.
  assert.equal(extractCode("Here:\n```python\ndef f(x):\n    return x +"), "def f(x):\n    return x +");
  // Indented fences (inside a list item) count; the info string is dropped.
  assert.equal(extractCode("1. code:\n   ```py\n   x = 1\n   ```"), "   x = 1");
  // Code drafted inside a reasoning block is not the answer.
  assert.equal(extractCode("<think>maybe ```js\n(a)=>0\n``` no</think>\n```js\n(a)=>2\n```"), "(a)=>2");
  assert.equal(extractCode("<think>hmm</think>\n(a) => 3"), "(a) => 3");
  assert.equal(extractCode(""), "");
});

test("conversation messages: the task verbatim first, then each earlier answer and its feedback", () => {
  const history = [
    { code: "(xs, k) => 0", feedback: "passed 0/3 visible; f([1],2): expected 2, got 0" },
    { code: "(xs, k) => k", feedback: "passed 1/3 visible; f([4],2): expected 8, got 2", answer: "Try this:\n```javascript\n(xs, k) => k\n```" },
  ];
  const messages = conversationMessages(KIT_STYLE, task, history, "You write code.");
  assert.deepEqual(messages.map((m) => m.role), ["system", "user", "assistant", "user", "assistant", "user"]);
  assert.ok(messages[1].content.endsWith(`\n\n${renderTask(task)}`), "the task's prompt is carried verbatim");
  assert.ok(messages[1].content.startsWith(KIT_STYLE.instruction));
  // A bare program is replayed in a fence; a chat answer is replayed as it was written.
  assert.equal(messages[2].content, "```javascript\n(xs, k) => 0\n```");
  assert.equal(messages[4].content, history[1].answer);
  assert.ok(messages[3].content.includes(history[0].feedback));
  assert.ok(messages[5].content.includes(history[1].feedback));
  assert.ok(messages[5].content.endsWith(KIT_STYLE.retry));
});

test("parseConversation inverts conversationMessages, and takes foreign text whole", () => {
  const history = [
    { code: "(xs, k) => 0", feedback: "passed 0/3 visible; syntax error: Unexpected token" },
    { code: "(xs, k) => k", feedback: "", answer: "```javascript\n(xs, k) => k\n```\nThis returns k." },
  ];
  const parsed = parseConversation(conversationMessages(KIT_STYLE, task, history, "sys"));
  assert.equal(parsed.taskText, renderTask(task));
  assert.deepEqual(parsed.history, [{ code: "(xs, k) => 0", feedback: history[0].feedback, answer: "```javascript\n(xs, k) => 0\n```" }, history[1]]);

  const foreign = parseConversation([
    { role: "user", content: "f(a): add one" },
    { role: "assistant", content: [{ type: "text", text: "(a) => a" }] },
    { role: "user", content: "wrong, try again" },
  ]);
  assert.deepEqual(foreign, { taskText: "f(a): add one", history: [{ code: "(a) => a", feedback: "wrong, try again" }] });

  const other: PromptStyle = { ...KIT_STYLE, instruction: "Solve in Python." };
  assert.equal(parseConversation([{ role: "user", content: "Solve in Python.\n\ndef f(): pass" }], other).taskText, "def f(): pass");
});

test("parseConversation: clear errors for conversations the model cannot answer", () => {
  assert.throws(() => parseConversation([]), /"messages" must be a non-empty list/);
  assert.throws(() => parseConversation([{ role: "user", content: "a" }, { role: "assistant", content: "b" }]), /last message must be from the user/);
  assert.throws(() => parseConversation([{ role: "assistant", content: "a" }]), /message 0 .* must be from the user \(got assistant\)/);
  assert.throws(() => parseConversation([{ role: "tool", content: "a" }]), /messages\[0\]\.role must be "system", "user" or "assistant"/);
  assert.throws(() => parseConversation([{ role: "user", content: 3 }]), /messages\[0\]: "content" must be a string/);
});

test("pythonStyle: a benchmark's prompt verbatim, with a function or a stdin program asked for", () => {
  const prompt = 'from typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n    """ Check if ...\n    >>> has_close_elements([1.0, 2.0], 0.5)\n    False\n    """\n';
  const fn = pythonStyle({ prompt, entryPoint: "has_close_elements" });
  const [first] = conversationMessages(fn, task, []);
  assert.equal(first.content, `${fn.instruction}\n\n${prompt}`);
  assert.match(fn.instruction, /`has_close_elements`/);
  assert.equal(fn.language, "python");
  // The prompt's own blank lines do not confuse the inverse: the instruction is a known prefix.
  assert.equal(parseConversation([first], fn).taskText, prompt);
  const stdio = pythonStyle({ prompt: "Read N and print N+1." });
  assert.match(stdio.instruction, /standard input/);
  assert.match(answerMessage(stdio, { code: "print(int(input())+1)", feedback: "" }).content, /^```python\nprint/);
});
