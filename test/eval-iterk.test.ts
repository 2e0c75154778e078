import { test, after } from "node:test";
import assert from "node:assert/strict";
import { evaluateIterK } from "../src/eval/iterk";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit } from "../src/tasks/load";
import { TASKS_DIR } from "../src/paths";
import { ScriptedPolicy } from "./helpers/scripted-policy";
import { hardCodedVisible } from "./helpers/hard-coded";

const pool = new SandboxPool();
after(() => pool.close());
const [taskA, taskB] = loadSplit(TASKS_DIR, "test").slice(0, 2);

test("Iter-k: a chain fixed at turn 2 counts from Iter-2 on; each turn sees the previous feedback", async () => {
  // Task A: wrong first, right once it has seen feedback. Task B: always wrong.
  const policy = new ScriptedPolicy((prompt) => {
    if (prompt.includes(taskA.description)) return prompt.includes("<attempt>") ? taskA.reference : `${taskA.signature}=>null`;
    return `${taskB.signature}=>null`;
  });
  const result = await evaluateIterK(policy, [taskA, taskB], pool, { turns: 3, samples: 1, temperature: 1, maxNewTokens: 96, seed: 0 });
  assert.deepEqual(result.iterPass1, [0, 0.5, 0.5]);
  assert.deepEqual(result.solvedAtTurn, [[2], [0]]);
  // A stops after its success; B uses all three turns.
  assert.deepEqual(result.records.map((r) => [r.taskId, r.turn, r.solved]), [
    [taskA.id, 1, false], [taskB.id, 1, false],
    [taskA.id, 2, true], [taskB.id, 2, false],
    [taskB.id, 3, false],
  ]);
  // Turn 3 of B carries both earlier attempts with their feedback.
  const lastPrompt = policy.calls[2].prompts[0];
  assert.equal(lastPrompt.split("<attempt>").length - 1, 2);
  assert.ok(lastPrompt.includes(result.records[1].feedback));
  assert.ok(lastPrompt.endsWith("<answer>"));
});

test("Iter-k with n chains averages over chains and reports unbiased pass@k", async () => {
  // Chain index is the row position: even rows solve task A at turn 1, odd rows never do.
  const policy = new ScriptedPolicy((prompt, row) => (row % 2 === 0 && !prompt.includes("<attempt>") ? taskA.reference : `${taskA.signature}=>null`));
  const result = await evaluateIterK(policy, [taskA], pool, { turns: 2, samples: 4, temperature: 1, maxNewTokens: 96, seed: 0 });
  assert.deepEqual(result.iterPass1, [0.5, 0.5]);
  // c = 2 of n = 4: pass@2 = 1 - C(2,2)/C(4,2) = 1 - 1/6.
  assert.ok(Math.abs(result.passAtK[0][1] - 5 / 6) < 1e-12);
  assert.equal(result.passAtK[0][3], 1);
});

test("Iter-k: a chain stops at a program that passes the visible tests, and is solved only if it passes every test", async () => {
  // Task A: wrong first, then a program hard-coding the visible examples (hidden tests fail),
  // then (never reached) the reference. Task B: the reference at turn 2.
  const policy = new ScriptedPolicy((prompt) => {
    const task = prompt.includes(taskA.description) ? taskA : taskB;
    const attempts = prompt.split("<attempt>").length - 1;
    if (attempts === 0) return `${task.signature}=>null`;
    return task === taskA && attempts === 1 ? hardCodedVisible(taskA) : task.reference;
  });
  const result = await evaluateIterK(policy, [taskA, taskB], pool, { turns: 3, samples: 1, temperature: 1, maxNewTokens: 300, seed: 0 });
  assert.deepEqual(result.records.map((r) => [r.taskId, r.turn, r.visiblePassed, r.solved]), [
    [taskA.id, 1, false, false], [taskB.id, 1, false, false],
    [taskA.id, 2, true, false], [taskB.id, 2, true, true],
  ]);
  const stopped = result.records[2];
  assert.ok(stopped.reward < 1);
  assert.equal(stopped.feedback, `passed ${taskA.visible.length}/${taskA.visible.length} visible`);
  assert.deepEqual(result.solvedAtTurn, [[0], [2]]);
  assert.deepEqual(result.iterPass1, [0, 0.5, 0.5]);
  assert.equal(policy.calls.length, 2, "no third turn: both chains stopped at turn 2");
});
