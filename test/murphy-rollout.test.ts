import { test, after } from "node:test";
import assert from "node:assert/strict";
import { rollout } from "../src/murphy/rollout";
import { siblingGroups } from "../src/murphy/tree";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit } from "../src/tasks/load";
import { TASKS_DIR } from "../src/paths";
import { ScriptedPolicy } from "./helpers/scripted-policy";
import { hardCodedVisible } from "./helpers/hard-coded";

const pool = new SandboxPool();
after(() => pool.close());
const tasks = loadSplit(TASKS_DIR, "test").slice(0, 2);
const WRONG = (sig: string) => `${sig}=>0`;
const sampling = { temperature: 1, maxNewTokens: 96 };

/** Turn 1: row 0 of each group writes the reference, the others a wrong constant. Repairs: the reference. */
function scripted() {
  return new ScriptedPolicy((prompt, row) => {
    const task = tasks.find((t) => prompt.includes(t.description))!;
    if (prompt.includes("<attempt>")) return task.reference;
    return row % 3 === 0 ? task.reference : WRONG(task.signature);
  });
}

test("rollout builds the feedback-conditioned tree: failed candidates get G_s children, solved ones are leaves", async () => {
  const policy = scripted();
  const { trees, counts } = await rollout(policy, tasks, pool, { ...sampling, groupSize: 3, turns: 2, childrenPerFailed: 2, seed: 1 });
  assert.equal(trees.length, 2);
  // One batched call per turn (6 first attempts, then 2 failed per tree x 2 children x 2 trees = 8).
  assert.deepEqual(policy.calls.map((c) => c.prompts.length), [6, 8]);
  for (const [i, tree] of trees.entries()) {
    const task = tasks[i];
    assert.equal(tree.taskId, task.id);
    const first = tree.nodes.filter((n) => n.parent === null);
    assert.equal(first.length, 3);
    assert.deepEqual(first.map((n) => n.reward), [1, first[1].reward, first[2].reward]);
    assert.ok(first[1].reward < 1 && first[2].reward < 1);
    assert.equal(first[0].children.length, 0, "a solved candidate is a leaf");
    for (const failed of [first[1], first[2]]) {
      assert.equal(failed.children.length, 2);
      for (const c of failed.children.map((id) => tree.nodes[id])) {
        assert.equal(c.turn, 2);
        assert.equal(c.parent, failed.id);
        assert.equal(c.reward, 1);
        // The child's prompt carries the task, the failed attempt and its feedback.
        const prompt = policy.tokenizer.decode(c.promptIds);
        assert.ok(prompt.startsWith("<task>"));
        assert.ok(prompt.includes(`<attempt>${failed.code}<feedback>${failed.feedback}<answer>`), prompt);
        assert.match(failed.feedback, /^passed \d\/\d visible; /);
      }
    }
    // Completions and their log-probs are kept exactly as sampled.
    const node = tree.nodes[1];
    assert.equal(policy.tokenizer.decode(node.completionIds), `${node.code}<end>`);
    assert.deepEqual(node.sampledLogprobs, node.completionIds.map((_, j) => -0.01 * (j + 1)));
    assert.deepEqual(siblingGroups(tree).map((g) => g.length), [3, 2, 2]);
  }
  assert.equal(counts.candidates, 14);
  assert.equal(counts.sampledTokens, trees.flatMap((t) => t.nodes).reduce((a, n) => a + n.completionIds.length, 0));
  // Prefill: each call's distinct prompts once. Turn 1: one task prompt per tree (3 rows share
  // it). Turn 2: the two failed attempts of a tree wrote the same program and got the same
  // feedback, so all 4 children of a tree share one prompt.
  const turn1 = trees.reduce((a, t) => a + t.nodes[0].promptIds.length, 0);
  const turn2Prompts = trees.map((t) => new Set(t.nodes.filter((n) => n.turn === 2).map((n) => n.promptIds.join(","))));
  assert.deepEqual(turn2Prompts.map((p) => p.size), [1, 1]);
  const turn2 = trees.reduce((a, t) => a + t.nodes.find((n) => n.turn === 2)!.promptIds.length, 0);
  assert.equal(counts.promptTokens, turn1 + turn2);
  assert.ok(counts.promptTokens < trees.flatMap((t) => t.nodes).reduce((a, n) => a + n.promptIds.length, 0));
});

test("rollout expands on the visible tests alone: a candidate that passes them but fails hidden tests is a leaf", async () => {
  // Turn 1: row 0 hard-codes the visible examples (visible pass, hidden fail), row 1 is wrong,
  // row 2 is the reference. Repairs: the reference.
  const policy = new ScriptedPolicy((prompt, row) => {
    const task = tasks.find((t) => prompt.includes(t.description))!;
    if (prompt.includes("<attempt>")) return task.reference;
    return [hardCodedVisible(task), WRONG(task.signature), task.reference][row % 3];
  });
  const { trees } = await rollout(policy, tasks, pool, { temperature: 1, maxNewTokens: 300, groupSize: 3, turns: 2, childrenPerFailed: 2, seed: 1 });
  for (const [i, tree] of trees.entries()) {
    const [hardCoded, wrong, right] = tree.nodes.filter((n) => n.turn === 1);
    assert.equal(hardCoded.visiblePassed, true);
    assert.ok(hardCoded.reward < 1, `hard-coded reward ${hardCoded.reward}`);
    assert.notEqual(hardCoded.outcome, "passed");
    assert.equal(hardCoded.children.length, 0, "a visible pass is a leaf even though hidden tests fail");
    assert.equal(hardCoded.feedback, `passed ${tasks[i].visible.length}/${tasks[i].visible.length} visible`);
    assert.equal(hardCoded.feedback, right.feedback, "the model cannot tell it from a correct program");
    assert.equal(wrong.visiblePassed, false);
    assert.equal(wrong.children.length, 2);
    assert.deepEqual([right.visiblePassed, right.reward, right.children.length], [true, 1, 0]);
  }
  // The second call samples only the repairs of the wrong candidates.
  assert.deepEqual(policy.calls.map((c) => c.prompts.length), [6, 4]);
  assert.ok(policy.calls[1].prompts.every((p) => !p.includes(hardCodedVisible(tasks[0])) && !p.includes(hardCodedVisible(tasks[1]))));
});

test("rollout with one turn is GRPO's group; skipExpansion expands only the best K failed candidates", async () => {
  const single = await rollout(scripted(), tasks, pool, { ...sampling, groupSize: 4, turns: 1, childrenPerFailed: 4, seed: 1 });
  for (const tree of single.trees) {
    assert.equal(tree.nodes.length, 4);
    assert.ok(tree.nodes.every((n) => n.turn === 1 && n.children.length === 0));
  }
  const limited = await rollout(scripted(), tasks, pool, { ...sampling, groupSize: 3, turns: 2, childrenPerFailed: 2, seed: 1, maxExpandedPerGroup: 1 });
  for (const tree of limited.trees) {
    const expanded = tree.nodes.filter((n) => n.children.length > 0);
    assert.equal(expanded.length, 1);
    assert.equal(tree.nodes.length, 3 + 2);
  }
});

test("rollout seeds each turn's sampling call from the run seed", async () => {
  const a = scripted();
  const b = scripted();
  await rollout(a, tasks, pool, { ...sampling, groupSize: 3, turns: 2, childrenPerFailed: 2, seed: 7 });
  await rollout(b, tasks, pool, { ...sampling, groupSize: 3, turns: 2, childrenPerFailed: 2, seed: 7 });
  assert.deepEqual(a.calls.map((c) => c.seed), b.calls.map((c) => c.seed));
  assert.notEqual(a.calls[0].seed, a.calls[1].seed);
});
