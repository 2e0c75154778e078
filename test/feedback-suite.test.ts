/**
 * The feedback suite (data/tasks/feedback/): tasks whose description withholds one part of the
 * specification. These tests prove the two properties the suite exists for, on the committed
 * files:
 * - a program written from the description alone cannot pass them all: within each group of
 *   tasks sharing a prompt, every visible input gives a different expected value per option, so
 *   any program passes the visible tests of at most one task of the group, and each of the
 *   family's description-only programs passes exactly the chance share of its family;
 * - the feedback is enough: the reference passes every test in the sandbox, a wrong option fails
 *   every visible test, and the real feedback of a wrong guess (sandbox run -> buildFeedback, at
 *   the 100-character bound) names an input and expected value that pick the right program, which
 *   then passes every test. A reader of the feedback text alone reaches Iter-2 = 1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit, validateTask } from "../src/tasks/load";
import { fileSha256 } from "../src/tasks/manifest";
import { sha256 } from "../src/util/hash";
import type { Split, Task } from "../src/tasks/types";
import { compileReference, copyInput, referenceFingerprint, render } from "../src/taskgen/behaviour";
import type { Signature } from "../src/taskgen/ops";
import { FEEDBACK_FAMILIES, FEEDBACK_FAMILY_NAMES, chanceLevel, feedbackFamily } from "../src/taskgen/feedback/families";
import { FEEDBACK_SEED, FEEDBACK_SIZES, SIZE_UNIT, generateFeedbackSuite, planFeedbackSuite } from "../src/taskgen/feedback/generate";
import { type FeedbackManifest, writeFeedbackSuite } from "../src/taskgen/feedback/write";
import { MAX_SHOWN_CHARS } from "../src/taskgen/feedback/tests";
import { splitChance } from "../src/taskgen/feedback/readme";
import { suiteDir } from "../src/tasks/suites";
import { DEFAULT_FEEDBACK_MAX_CHARS, buildFeedback, evaluateProgram, testsOf } from "../src/feedback";
import { renderArguments, renderCall, renderTask, renderValue } from "../src/model/prompt";
import type { RunResult } from "../src/sandbox/types";

const DIR = suiteDir("feedback");
const SPLITS: Split[] = ["train", "validation", "test"];

const committed = (() => {
  let cache: Record<Split, Task[]> | null = null;
  return () => (cache ??= { train: loadSplit(DIR, "train"), validation: loadSplit(DIR, "validation"), test: loadSplit(DIR, "test") });
})();
const allTasks = () => SPLITS.flatMap((s) => committed()[s]);

/** Tasks that share a prompt: same description and signature. */
function groups(tasks: readonly Task[]): Task[][] {
  const byPrompt = new Map<string, Task[]>();
  for (const t of tasks) {
    const key = `${t.signature} ${t.description}`;
    byPrompt.set(key, [...(byPrompt.get(key) ?? []), t]);
  }
  return [...byPrompt.values()];
}

/** A program's rendered output on an input (host; these programs are the kit's own code). */
function output(program: string, input: readonly unknown[]): string {
  try {
    return render(compileReference(program)(...copyInput(input as never)));
  } catch (e) {
    return `!${(e as Error).name}`;
  }
}

const passesVisible = (program: string, task: Task) => task.visible.every((t) => output(program, t.input) === render(t.expected));

test("feedback suite: files match the manifest, the suite regenerates byte for byte, and the main suite is untouched", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(DIR, "manifest.json"), "utf8")) as FeedbackManifest;
  assert.equal(manifest.format, "murphy-feedback-tasks");
  assert.deepEqual(manifest.sizes, FEEDBACK_SIZES);
  assert.equal(manifest.seed, FEEDBACK_SEED);
  const onDisk = fs.readdirSync(DIR).filter((f) => f.endsWith(".jsonl")).sort();
  assert.deepEqual(onDisk, manifest.files.map((f) => f.file).sort());
  for (const f of manifest.files) {
    assert.equal(fileSha256(path.join(DIR, f.file)), f.sha256, `${f.file} changed since generation`);
    assert.ok(f.bytes < 5e6, `${f.file} is ${f.bytes} bytes; keep files under 5 MB`);
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-feedback-suite-"));
  try {
    const written = writeFeedbackSuite(out, generateFeedbackSuite(manifest.seed, manifest.sizes));
    assert.deepEqual(written, manifest);
    for (const name of ["README.md", "manifest.json"]) {
      assert.equal(sha256(fs.readFileSync(path.join(out, name))), sha256(fs.readFileSync(path.join(DIR, name))), `${name} does not regenerate identically`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  // The main suite keeps its own files only: the feedback suite lives in a folder of its own.
  const main = JSON.parse(fs.readFileSync(path.join(suiteDir("default"), "manifest.json"), "utf8")) as { files: { file: string }[] };
  assert.deepEqual(fs.readdirSync(suiteDir("default")).filter((f) => f.endsWith(".jsonl")).sort(), main.files.map((f) => f.file).sort());
});

test("feedback suite: sizes must share out into whole groups of every family", () => {
  assert.equal(SIZE_UNIT, 30);
  assert.throws(() => planFeedbackSuite(1, { train: 40, validation: 0, test: 0 }), /sizes\.train must be a multiple of 30 \(5 families, whole groups of each; got 40\)/);
});

test("feedback suite: every task names its withheld part; prompts show the visible inputs, never an expected value", () => {
  for (const task of allTasks()) {
    const family = feedbackFamily(task.family);
    assert.equal(task.promptShows, "inputs", task.id);
    const option = family.options.find((o) => task.withheld === `${family.label} = ${o}`);
    assert.ok(option !== undefined, `${task.id}: withheld "${task.withheld}"`);
    assert.equal(task.behaviours!.length, family.options.length, task.id);
    assert.equal(task.behaviours![family.options.indexOf(option)], task.reference, `${task.id}: the reference is the behaviour of its option`);
    const prompt = renderTask(task);
    assert.equal(prompt, [`f${task.signature}: ${task.description}`, ...task.visible.map((t) => renderCall(t.input))].join("\n"), task.id);
    assert.ok(!prompt.includes(" = "), `${task.id}: the prompt shows an example`);
  }
});

test("feedback suite: a program written from the description alone passes at most one task of each prompt group (chance by construction)", () => {
  for (const split of SPLITS) {
    for (const group of groups(committed()[split])) {
      const [first] = group;
      const family = feedbackFamily(first.family);
      // One task per option, identical prompts and tests apart from the expected values.
      assert.deepEqual(group.map((t) => t.withheld).sort(), family.options.map((o) => `${family.label} = ${o}`).sort(), `${split}: ${first.description}`);
      for (const t of group) {
        assert.deepEqual(t.visible.map((v) => v.input), first.visible.map((v) => v.input), t.id);
        assert.deepEqual(t.hidden.map((v) => v.input), first.hidden.map((v) => v.input), t.id);
        assert.deepEqual(t.behaviours, first.behaviours, t.id);
      }
      // Every visible input tells every task of the group apart: a program's output there
      // equals the expected value of at most one of them, whatever the program is.
      first.visible.forEach((_, i) => {
        const expected = group.map((t) => render(t.visible[i].expected));
        assert.equal(new Set(expected).size, group.length, `${first.id}: visible input ${i} does not tell the options apart`);
      });
    }
  }
});

test("feedback suite: each description-only program passes exactly its family's chance share, and wrong options fail every visible test", () => {
  const tasks = committed().test;
  for (const name of FEEDBACK_FAMILY_NAMES) {
    const family = FEEDBACK_FAMILIES[name];
    const ofFamily = tasks.filter((t) => t.family === name);
    assert.ok(ofFamily.length > 0, `no ${name} task in test`);
    // "Always answer with option i" for every i: the best description-only strategy of its kind.
    for (let option = 0; option < family.options.length; option++) {
      const passed = ofFamily.filter((t) => passesVisible(t.behaviours![option], t)).length;
      assert.equal(passed / ofFamily.length, chanceLevel(family), `${name}, option ${family.options[option]}`);
    }
    for (const t of ofFamily) {
      for (const b of t.behaviours!) {
        const fails = t.visible.filter((v) => output(b, v.input) !== render(v.expected)).length;
        assert.equal(fails, b === t.reference ? 0 : t.visible.length, `${t.id}: ${b}`);
      }
    }
  }
  assert.ok(Math.abs(splitChance(tasks) - 0.3) < 1e-9, `test chance level ${splitChance(tasks)}`);
});

test("feedback suite: the withheld value is in plain sight in the first visible test's expected value", () => {
  for (const task of allTasks()) {
    const family = feedbackFamily(task.family);
    const option = family.options.findIndex((o) => task.withheld === `${family.label} = ${o}`);
    const expected = task.visible[0].expected;
    switch (task.family) {
      case "offset": // the hidden step sees 0: the expected value starts with the number itself
        assert.equal(Array.isArray(expected) ? expected[0] : expected, option + 1, task.id);
        break;
      case "answer_format":
        assert.equal(typeof expected, ["boolean", "number", "string"][option], task.id);
        break;
      case "number_format":
        assert.equal(Array.isArray(expected) ? "list" : typeof expected, ["number", "string", "list"][option], task.id);
        break;
      case "separator": {
        const sep = family.options[option].slice(1, -1);
        assert.ok(typeof expected === "string" && expected.includes(sep), `${task.id}: ${JSON.stringify(expected)} lacks ${sep}`);
        break;
      }
      case "direction": {
        const items = Array.isArray(expected) ? (expected as number[]) : [...(expected as string)];
        const sorted = [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        assert.deepEqual(option === 0 ? items : [...items].reverse(), sorted, task.id);
        break;
      }
      default:
        assert.fail(`${task.id}: unknown family ${task.family}`);
    }
  }
});

test("feedback suite: splits are disjoint by description and by behaviour; inputs are small", () => {
  const owner = new Map<string, string>();
  const descriptionSplit = new Map<string, Split>();
  for (const split of SPLITS) {
    for (const task of committed()[split]) {
      const fingerprint = referenceFingerprint(task.signature as Signature, task.reference);
      assert.equal(owner.get(fingerprint), undefined, `${split}/${task.id} behaves like ${owner.get(fingerprint)}`);
      owner.set(fingerprint, `${split}/${task.id}`);
      const key = `${task.signature} ${task.description}`;
      assert.equal(descriptionSplit.get(key) ?? split, split, `${task.description} in two splits`);
      descriptionSplit.set(key, split);
      for (const { input } of task.visible) assert.ok(renderArguments(input).length <= MAX_SHOWN_CHARS, `${task.id}: ${renderArguments(input)}`);
      assert.equal(task.visible.length, 3, task.id);
      assert.equal(task.hidden.length, 8, task.id);
    }
  }
  for (const split of SPLITS) {
    for (const name of FEEDBACK_FAMILY_NAMES) {
      assert.equal(committed()[split].filter((t) => t.family === name).length, FEEDBACK_SIZES[split] / FEEDBACK_FAMILY_NAMES.length, `${name} in ${split}`);
    }
  }
});

/** A run in which the attempt fails visible test `failing` with a `got` of `gotChars` characters. */
function failingRun(task: Task, failing: number, gotChars: number): RunResult {
  const tests = testsOf(task).map((test, i) =>
    i === failing ? { test, outcome: "wrong_answer" as const, got: "[" + "9,".repeat(gotChars) + "9]" } : { test, outcome: "passed" as const },
  );
  return { outcome: "wrong_answer", tests, output: "", ms: 1 };
}

test("feedback suite: the 100-character feedback never shortens a visible test's input or expected value", () => {
  assert.equal(DEFAULT_FEEDBACK_MAX_CHARS, 100);
  for (const task of allTasks()) {
    task.visible.forEach((v, i) => {
      // However long the wrong answer, the input and the expected value stay whole.
      for (const gotChars of [0, 30, 500]) {
        const text = buildFeedback(task, failingRun(task, i, gotChars));
        assert.ok(text.length <= DEFAULT_FEEDBACK_MAX_CHARS, text);
        assert.ok(text.includes(`f(${renderArguments(v.input)}): expected ${renderValue(v.expected)}, got `), `${task.id}: ${text}`);
      }
    });
  }
});

/**
 * The option a reader of the feedback text picks: the behaviour whose output on the described
 * visible input is the expected value the feedback states.
 */
function readFeedback(task: Task, feedback: string): string | undefined {
  for (const v of task.visible) {
    const head = `f(${renderArguments(v.input)}): expected `;
    const at = feedback.indexOf(head);
    if (at < 0) continue;
    const rest = feedback.slice(at + head.length);
    // output() renders a JSON value exactly as the feedback does (renderValue).
    return task.behaviours!.find((b) => rest.startsWith(`${output(b, v.input)}, got `));
  }
  return undefined;
}

test("feedback suite: in the sandbox, references pass every test, and reading a wrong guess's feedback gives Iter-2 = 1", { timeout: 600_000 }, async () => {
  const pool = new SandboxPool();
  const failures: string[] = [];
  try {
    // Every reference of every split, as the model's programs are run.
    const tasks = allTasks();
    for (let start = 0; start < tasks.length; start += 8) {
      const batch = tasks.slice(start, start + 8);
      const runs = await Promise.all(batch.map((t) => pool.run(t.reference, testsOf(t))));
      runs.forEach((run, i) => {
        if (run.outcome !== "passed") failures.push(`${batch[i].id}: ${batch[i].reference} ${run.outcome}`);
      });
    }
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} references fail`);

    // Iter-1: always the first option (a description-only guess); Iter-2: the option the first
    // attempt's real feedback names.
    const test = committed().test;
    let iter1 = 0;
    let iter2 = 0;
    for (const task of test) {
      const guess = task.behaviours![0];
      const first = await evaluateProgram(pool, task, guess);
      if (first.reward === 1) {
        iter1++;
        iter2++;
        continue;
      }
      assert.match(first.feedback, /^passed 0\/3 visible; /, `${task.id}: ${first.feedback}`);
      const repair = readFeedback(task, first.feedback);
      assert.equal(repair, task.reference, `${task.id}: feedback "${first.feedback}"`);
      if ((await evaluateProgram(pool, task, repair!)).reward === 1) iter2++;
    }
    assert.ok(Math.abs(iter1 / test.length - splitChance(test)) < 1e-9, `Iter-1 ${iter1 / test.length}`);
    assert.equal(iter2, test.length);
  } finally {
    await pool.close();
  }
});

test("task records: the feedback suite's optional fields are validated", () => {
  const [task] = committed().test;
  const record = JSON.parse(JSON.stringify(task)) as Record<string, unknown>;
  assert.deepEqual(validateTask(record, "x:1"), task);
  assert.throws(() => validateTask({ ...record, promptShows: "all" }, "x:1"), /x:1: field "promptShows" must be "inputs" or absent \(got "all"\)/);
  assert.throws(() => validateTask({ ...record, withheld: "" }, "x:1"), /x:1: field "withheld" must be a non-empty string/);
  assert.throws(() => validateTask({ ...record, behaviours: [task.reference] }, "x:1"), /field "behaviours" must be a list of at least 2 arrow functions/);
  const others = task.behaviours!.filter((b) => b !== task.reference);
  assert.throws(() => validateTask({ ...record, behaviours: [...others, others[0]] }, "x:1"), /field "behaviours" must include the reference/);
  // A task of the main suite has none of them, and its prompt shows examples.
  const { promptShows: _p, withheld: _w, behaviours: _b, ...plain } = record;
  const mainTask = validateTask(plain, "x:2");
  assert.equal(mainTask.promptShows, undefined);
  assert.ok(renderTask(mainTask).includes(" = "));
});
