import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mutate } from "../src/pretrain/mutations";
import { buildRepairMaterial, collate, drawExample, drawKind } from "../src/pretrain/dataset";
import { Tokenizer } from "../src/model/tokenizer";
import { buildPrompt, completionIds } from "../src/model/prompt";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit } from "../src/tasks/load";
import { TASKS_DIR } from "../src/paths";
import { Rng } from "../src/util/rng";
import { meetsTargets } from "../src/pretrain/card";

const pool = new SandboxPool();
after(() => pool.close());

test("mutate: distinct edits of the program, never the program itself, deterministic per seed", () => {
  const code = "(xs, k)=>xs.filter(v=>v>k).map(v=>v*2)";
  const a = mutate(code, new Rng(3), 5);
  const b = mutate(code, new Rng(3), 5);
  assert.deepEqual(a, b);
  assert.equal(a.length, 5);
  assert.equal(new Set(a.map((m) => m.code)).size, 5);
  for (const m of a) assert.notEqual(m.code, code);
  assert.deepEqual(mutate("(x)=>x", new Rng(1), 3).filter((m) => m.kind === "constant"), []);
});

test("repair material: every kept attempt really fails a visible test, and its feedback is the sandbox's", async () => {
  const tasks = loadSplit(TASKS_DIR, "validation").slice(0, 40);
  const material = await buildRepairMaterial(tasks, pool, new Rng(0), { perTask: 2 });
  assert.equal(material.length, tasks.length);
  let attempts = 0;
  for (const [i, m] of material.entries()) {
    assert.equal(m.taskId, tasks[i].id);
    for (const a of m.attempts) {
      attempts++;
      const run = await pool.run(a.code, [...tasks[i].visible, ...tasks[i].hidden]);
      assert.notEqual(run.outcome, "passed", a.code);
      assert.ok(run.tests.slice(0, tasks[i].visible.length).some((t) => t.outcome !== "passed"), `${a.code} fails a visible test`);
      assert.match(a.feedback, /^passed \d\/\d visible; /);
    }
  }
  assert.ok(attempts >= tasks.length, `most tasks get repair material (${attempts} attempts for ${tasks.length} tasks)`);
  // Same seed, same material.
  assert.deepEqual(await buildRepairMaterial(tasks, pool, new Rng(0), { perTask: 2, concurrency: 3 }), material);
});

test("collate: targets are the next token; only completion targets count; padding is masked", () => {
  const tok = new Tokenizer();
  // By hand: prompt [1, 7, 8], completion [9, 5]: ids = [1,7,8,9], targets = [7,8,9,5], mask = [0,0,1,1].
  const batch = collate(
    [
      { taskId: "a", repairs: 0, promptIds: [1, 7, 8], completionIds: [9, 5] },
      { taskId: "b", repairs: 0, promptIds: [1, 7], completionIds: [5] },
    ],
    tok.pad,
    16,
  );
  assert.deepEqual(batch.ids, [[1, 7, 8, 9], [1, 7, 0, 0]]);
  assert.deepEqual(batch.targets, [[7, 8, 9, 5], [7, 5, 0, 0]]);
  assert.deepEqual(batch.lossMask, [[0, 0, 1, 1], [0, 1, 0, 0]]);
  assert.equal(batch.tokens, 4 + 2);
  // Too long for the context: the start of the prompt goes, the completion stays whole.
  const cut = collate([{ taskId: "c", repairs: 0, promptIds: [1, 7, 8, 10, 11], completionIds: [9, 5] }], tok.pad, 4);
  assert.deepEqual(cut.ids, [[8, 10, 11, 9]]);
  assert.deepEqual(cut.lossMask, [[0, 0, 1, 1]]);
});

test("drawExample: first attempts and repairs use the one prompt builder, the answer is the reference", () => {
  const tok = new Tokenizer();
  const [task] = loadSplit(TASKS_DIR, "validation");
  const material = { taskId: task.id, attempts: [{ code: "(xs)=>1", feedback: "passed 0/2 visible; x" }, { code: "(xs)=>2", feedback: "passed 0/2 visible; y" }] };
  const rng = new Rng(5);
  const seen = new Set<number>();
  for (let i = 0; i < 60; i++) {
    const kind = drawKind(rng, { firstAttempt: 0.4, twoRepairs: 0.5 });
    const e = drawExample(tok, task, material, rng, kind);
    assert.equal(e.repairs, kind);
    seen.add(e.repairs);
    assert.deepEqual(e.completionIds, completionIds(tok, task.reference));
    if (e.repairs === 0) assert.deepEqual(e.promptIds, buildPrompt(tok, task, []));
    else assert.equal(tok.decode(e.promptIds).split("<attempt>").length - 1, e.repairs);
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2]);
});

test("base-model targets: Iter-1 in [0.15, 0.6] and Iter-3 at least 0.05 above it", () => {
  assert.equal(meetsTargets([0.2, 0.24, 0.26]), true);
  assert.equal(meetsTargets([0.2, 0.22, 0.24]), false); // repairs add too little
  assert.equal(meetsTargets([0.1, 0.2, 0.3]), false); // first attempts too weak
  assert.equal(meetsTargets([0.7, 0.8, 0.9]), false); // too strong: no room for RL
  assert.equal(meetsTargets([0, 0, 0]), false);
});
