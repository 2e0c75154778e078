/**
 * The second base's training data and loop (FEEDBACK_PRETRAIN): wrong attempts at feedback-suite
 * tasks are description-only guesses whose real feedback shows the withheld part; a run continues
 * from a checkpoint's weights and tokenizer and draws the given share of batches from the
 * feedback suite; main-suite tasks keep exactly the wrong attempts they had.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildRepairMaterial, wrongAttempts } from "../src/pretrain/dataset";
import { mutate } from "../src/pretrain/mutations";
import { DEFAULT_PRETRAIN, FEEDBACK_PRETRAIN, pretrain, type PretrainConfig } from "../src/pretrain/pretrain";
import { iterByFamily, meetsFeedbackTargets } from "../src/pretrain/card";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit } from "../src/tasks/load";
import { suiteDir } from "../src/tasks/suites";
import { TASKS_DIR } from "../src/paths";
import { Rng } from "../src/util/rng";
import { readJsonl } from "../src/util/files";
import { renderArguments, renderValue } from "../src/model/prompt";
import { makeTinyBase, tinyTasks } from "./helpers/tiny-base";
import type { AttemptRecord } from "../src/eval/iterk";
import type { Task } from "../src/tasks/types";

const pool = new SandboxPool();
after(() => pool.close());
const feedbackTasks = () => loadSplit(suiteDir("feedback"), "validation");

test("wrong attempts: a feedback task's other behaviours first, then mutations of one; main-suite tasks unchanged", () => {
  const task = feedbackTasks().find((t) => t.family === "offset")!;
  const attempts = wrongAttempts(task, new Rng(1), 4);
  const others = task.behaviours!.filter((b) => b !== task.reference);
  assert.deepEqual(attempts.slice(0, others.length).sort(), others.slice().sort());
  assert.ok(attempts.length > others.length);
  assert.ok(!attempts.slice(0, others.length).includes(task.reference));
  const [plain] = loadSplit(TASKS_DIR, "validation");
  assert.deepEqual(wrongAttempts(plain, new Rng(7), 4), mutate(plain.reference, new Rng(7), 4).map((m) => m.code));
});

test("feedback repair material: guesses really fail, and their feedback shows a visible input with its expected value", async () => {
  const tasks = feedbackTasks().slice(0, 25);
  const material = await buildRepairMaterial(tasks, pool, new Rng(0), { perTask: 2 });
  for (const [i, m] of material.entries()) {
    const task = tasks[i];
    assert.equal(m.attempts.length, 2, task.id);
    const [first] = m.attempts;
    assert.ok(task.behaviours!.includes(first.code) && first.code !== task.reference, `${task.id}: first attempt ${first.code}`);
    const v = task.visible[0];
    assert.ok(first.feedback.startsWith(`passed 0/3 visible; f(${renderArguments(v.input)}): expected ${renderValue(v.expected)}, got `), first.feedback);
    for (const a of m.attempts) assert.notEqual((await pool.run(a.code, [...task.visible, ...task.hidden])).outcome, "passed");
  }
});

test("pretrain --feedback: continues a checkpoint (its tokenizer kept) and draws the feedback share of batches", { timeout: 300_000 }, async (t) => {
  const base = await makeTinyBase(5);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-pretrain-feedback-"));
  t.after(() => {
    fs.rmSync(base.dir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });
  const config: PretrainConfig = {
    ...FEEDBACK_PRETRAIN,
    steps: 8,
    batchSize: 2,
    warmupSteps: 2,
    checkpointEvery: 4,
    init: base.dir,
    model: { blockSize: 384, dModel: 32, nLayer: 1, nHead: 2, mlpRatio: 2 },
  };
  const out = path.join(work, "out");
  const run = (c: PretrainConfig, runDir = "run") => pretrain({ config: c, tasks: tinyTasks(), feedbackTasks: feedbackTasks().slice(0, 6), runner: pool, workDir: path.join(work, runDir), out, log: () => {} });
  const result = await run(config);
  result.model.dispose();
  assert.equal(fs.readFileSync(path.join(out, "tokenizer.json"), "utf8"), fs.readFileSync(path.join(base.dir, "tokenizer.json"), "utf8"));
  const rows = readJsonl<{ step: number; feedback_batch: number; cpu_seconds: number }>(path.join(work, "run", "metrics.jsonl"));
  assert.deepEqual(rows.map((r) => r.step), [1, 2, 3, 4, 5, 6, 7, 8]);
  const fromFeedback = rows.filter((r) => r.feedback_batch === 1).length;
  assert.ok(fromFeedback > 0 && fromFeedback < 8, `${fromFeedback} of 8 batches from the feedback suite`);
  assert.ok(rows.every((r, i) => r.cpu_seconds > 0 && (i === 0 || r.cpu_seconds >= rows[i - 1].cpu_seconds)));
  assert.ok(result.cpuSeconds > 0);

  // A model of another shape than the checkpoint's is refused, naming both.
  await assert.rejects(
    run({ ...config, model: { ...config.model, dModel: 64 } }, "other").then(() => undefined),
    /pretrain: config\.model \{"blockSize":384,"dModel":64,"nLayer":1,"nHead":2,"mlpRatio":2\} differs from the model in .* \(\{"blockSize":384,"dModel":32,"nLayer":1,"nHead":2,"mlpRatio":2\}\)/,
  );
  // The main base's config is untouched by the feedback fields.
  assert.equal(DEFAULT_PRETRAIN.init, undefined);
  assert.equal(DEFAULT_PRETRAIN.feedbackShare, undefined);
});

test("second-base targets and Iter-k per family", () => {
  assert.equal(meetsFeedbackTargets([0.3, 0.45, 0.5], 0.3), true);
  assert.equal(meetsFeedbackTargets([0.36, 0.6, 0.7], 0.3), false); // Iter-1 above chance: a leak
  assert.equal(meetsFeedbackTargets([0.25, 0.3, 0.5], 0.3), false); // the second attempt gains too little
  const tasks = [{ id: "a", family: "offset" }, { id: "b", family: "offset" }, { id: "c", family: "direction" }] as Task[];
  const rec = (taskId: string, chain: number, turn: number, solved: boolean) => ({ taskId, chain, turn, solved }) as AttemptRecord;
  // a: chain 0 solved at turn 2, chain 1 never; b: chain 0 at turn 1, chain 1 at turn 3; c: chain 0 at turn 1.
  const records = [rec("a", 0, 1, false), rec("a", 0, 2, true), rec("a", 1, 1, false), rec("a", 1, 2, false), rec("a", 1, 3, false), rec("b", 0, 1, true), rec("b", 1, 1, false), rec("b", 1, 2, false), rec("b", 1, 3, true), rec("c", 0, 1, true)];
  assert.deepEqual(Object.fromEntries(iterByFamily(tasks, records, 3)), { direction: [1, 1, 1], offset: [0.25, 0.5, 0.75] });
});

test("the committed second base: the first base's tokenizer and shape, and its card's Iter-k match its recorded attempts", () => {
  const dir = path.join(__dirname, "..", "data", "checkpoints", "base-feedback");
  const first = path.join(__dirname, "..", "data", "checkpoints", "base");
  assert.equal(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"), fs.readFileSync(path.join(first, "tokenizer.json"), "utf8"));
  const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
  assert.deepEqual(config.model, JSON.parse(fs.readFileSync(path.join(first, "config.json"), "utf8")).model);
  assert.deepEqual(config.pretrain.config, JSON.parse(JSON.stringify(FEEDBACK_PRETRAIN)));
  assert.ok(config.pretrain.cpuSeconds <= 40 * 60, `${config.pretrain.cpuSeconds} s of CPU`);
  const card = fs.readFileSync(path.join(dir, "README.md"), "utf8");
  for (const [suite, file, tasks] of [["feedback", "eval-feedback-test.jsonl", loadSplit(suiteDir("feedback"), "test")], ["default", "eval-test.jsonl", loadSplit(TASKS_DIR, "test")]] as const) {
    const records = readJsonl<AttemptRecord>(path.join(dir, file));
    const byFamily = iterByFamily(tasks.map((t) => ({ ...t, family: "all" })), records, 3).get("all")!;
    const row = `| second base | ${byFamily.map((v) => v.toFixed(4)).join(" | ")} |`;
    assert.ok(card.includes(row), `${suite}: the card lacks ${row}`);
    if (suite === "feedback") assert.equal(meetsFeedbackTargets(byFamily, 0.3), true, `feedback suite Iter-k ${byFamily}`);
  }
  assert.match(card, /Iter-2 at least Iter-1 \+ 0\.1: met\./);
});
