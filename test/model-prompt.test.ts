import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Tokenizer } from "../src/model/tokenizer";
import {
  buildPrompt,
  completionIds,
  decodeCompletion,
  renderCall,
  renderExample,
  renderTask,
  renderValue,
} from "../src/model/prompt";
import { DEFAULT_FEEDBACK_MAX_CHARS } from "../src/feedback";
import { DEFAULT_PRETRAIN } from "../src/pretrain/pretrain";

/** The base model's context length. */
const CONTEXT = DEFAULT_PRETRAIN.model.blockSize;
import { loadSplit } from "../src/tasks/load";
import type { Task } from "../src/tasks/types";

const tok = new Tokenizer();

const task: Task = {
  id: "test-00001",
  family: "map_reduce",
  difficulty: 1,
  description: "Multiply the sum of xs by k.",
  signature: "(xs, k)",
  visible: [
    { input: [[1, 2], 3], expected: 9 },
    { input: [["a b", "c\nd"], -2], expected: [true, false] },
  ],
  hidden: [{ input: [[5], 5], expected: 25 }],
  reference: "(xs, k) => xs.reduce((a, b) => a + b, 0) * k",
};

test("prompt: values and calls render as compact JSON, one example per line", () => {
  assert.equal(renderValue([1, -2, [3]]), "[1,-2,[3]]");
  assert.equal(renderValue('say "hi"\n'), '"say \\"hi\\"\\n"');
  assert.equal(renderValue(true), "true");
  assert.equal(renderValue([]), "[]");
  assert.equal(renderCall([[1, 2], 3]), "f([1,2],3)");
  assert.equal(renderCall([]), "f()");
  assert.equal(renderExample(task.visible[0]), "f([1,2],3) = 9");
  assert.equal(renderExample(task.visible[1]), 'f(["a b","c\\nd"],-2) = [true,false]');
  assert.equal(
    renderTask(task),
    'f(xs, k): Multiply the sum of xs by k.\nf([1,2],3) = 9\nf(["a b","c\\nd"],-2) = [true,false]',
  );
});

test("prompt: first-turn prompt is <task> task <answer>, hidden tests never appear", () => {
  const ids = buildPrompt(tok, task, []);
  assert.equal(ids[0], tok.task);
  assert.equal(ids[ids.length - 1], tok.answer);
  assert.equal(ids.filter((id) => tok.isSpecial(id)).length, 2);
  assert.equal(tok.decode(ids), `<task>${renderTask(task)}<answer>`);
  assert.ok(!tok.decode(ids).includes("25"));
  assert.equal(ids.length, 2 + renderTask(task).length);
});

test("prompt: later turns carry every earlier attempt of the branch with its feedback, oldest first", () => {
  const history = [
    { code: "(xs, k) => xs.length * k", feedback: "passed 0/2 visible; f([1,2],3): expected 9, got 6" },
    { code: "(xs, k) => xs.reduce((a, b) => a + b) * k", feedback: "passed 1/2 visible; f([],5): TypeError: Reduce of empty array" },
  ];
  const ids = buildPrompt(tok, task, history);
  const expected =
    `<task>${renderTask(task)}` +
    `<attempt>${history[0].code}<feedback>${history[0].feedback}` +
    `<attempt>${history[1].code}<feedback>${history[1].feedback}` +
    `<answer>`;
  assert.equal(tok.decode(ids), expected);
  const specials = ids.filter((id) => tok.isSpecial(id));
  assert.deepEqual(specials, [tok.task, tok.attempt, tok.feedback, tok.attempt, tok.feedback, tok.answer]);
  // Each character is one token, so the length is the text plus the six markers.
  const textLength = renderTask(task).length + history.reduce((n, h) => n + h.code.length + h.feedback.length, 0);
  assert.equal(ids.length, textLength + 6);
  // An earlier prompt is a prefix of the later one up to its <answer> marker.
  const turn2 = buildPrompt(tok, task, history.slice(0, 1));
  assert.deepEqual(ids.slice(0, turn2.length - 1), turn2.slice(0, -1));
});

test("prompt: completion is the program then <end>; decoding stops at <end> and drops it", () => {
  const ids = completionIds(tok, task.reference);
  assert.equal(ids.length, task.reference.length + 1);
  assert.equal(ids[ids.length - 1], tok.end);
  assert.equal(decodeCompletion(tok, ids), task.reference);
  // Tokens after <end> (padding, a runaway continuation) are ignored.
  assert.equal(decodeCompletion(tok, [...ids, ...tok.encode("garbage"), tok.pad]), task.reference);
  // A completion cut off by the length limit decodes whole.
  assert.equal(decodeCompletion(tok, tok.encode("(xs) => xs.")), "(xs) => xs.");
  assert.equal(decodeCompletion(tok, [tok.end]), "");
});

/**
 * Tokens of the longest prompt the default MURPHY setup builds (a third turn: task + 2 earlier
 * attempts, each as long as the reference, with feedback at its maximum length) plus a completion
 * as long as the reference with its <end>.
 */
function threeTurnLength(t: Task): number {
  const attempt = { code: t.reference, feedback: "x".repeat(DEFAULT_FEEDBACK_MAX_CHARS) };
  return buildPrompt(tok, t, [attempt, attempt]).length + completionIds(tok, t.reference).length;
}

test("prompt: a typical task's third turn with its answer fits the base model's context", () => {
  const length = threeTurnLength(task);
  // By hand: task text + 2 * (reference + feedback) + 6 markers + reference + <end>.
  assert.equal(length, renderTask(task).length + 3 * task.reference.length + 2 * DEFAULT_FEEDBACK_MAX_CHARS + 6 + 1);
  assert.ok(length <= CONTEXT, `${length} tokens`);
});

/** The same for a second turn: task + 1 earlier attempt + answer. */
function twoTurnLength(t: Task): number {
  const attempt = { code: t.reference, feedback: "x".repeat(DEFAULT_FEEDBACK_MAX_CHARS) };
  return buildPrompt(tok, t, [attempt]).length + completionIds(tok, t.reference).length;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

test("prompt: promptLength statistics over the committed test split (3 turns + answer fit the context for >= 99%)", (t) => {
  const dir = path.join(__dirname, "..", "data", "tasks");
  if (!fs.existsSync(dir) || !fs.readdirSync(dir).some((name) => /^test(-\d+)?\.jsonl$/.test(name))) {
    t.skip(`no committed test split in ${dir}`);
    return;
  }
  const tasks = loadSplit(dir, "test");
  assert.ok(tasks.length > 0, "the test split is empty");
  const firstTurn = tasks.map((task) => buildPrompt(tok, task, []).length).sort((a, b) => a - b);
  const twoTurns = tasks.map(twoTurnLength).sort((a, b) => a - b);
  const threeTurns = tasks.map(threeTurnLength).sort((a, b) => a - b);
  const fitShare = (xs: number[]) => xs.filter((n) => n <= CONTEXT).length / xs.length;
  const summary = (xs: number[]) =>
    `p50 ${percentile(xs, 50)}, p90 ${percentile(xs, 90)}, p99 ${percentile(xs, 99)}, max ${xs[xs.length - 1]}; ` +
    `${(100 * fitShare(xs)).toFixed(1)}% fit in ${CONTEXT}`;
  t.diagnostic(`${tasks.length} test tasks, feedback at ${DEFAULT_FEEDBACK_MAX_CHARS} chars`);
  t.diagnostic(`turn-1 prompt tokens: ${summary(firstTurn)}`);
  t.diagnostic(`turn-2 prompt + answer tokens: ${summary(twoTurns)}`);
  t.diagnostic(`turn-3 prompt + answer tokens: ${summary(threeTurns)}`);
  assert.ok(fitShare(threeTurns) >= 0.99, `3 turns + answer do not fit ${CONTEXT} tokens for 99% of test tasks: ${summary(threeTurns)}`);
});
