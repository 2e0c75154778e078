/**
 * The task suite: composition (golden strings and values worked out by hand), fingerprints,
 * pool rules, deterministic generation, stratified splitting, loader errors, and the committed
 * files in data/tasks (hashes, counts, disjoint behaviour, balance, regeneration).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Rng } from "../src/util/rng";
import { opByName } from "../src/taskgen/families";
import { type Arg, type OpCall, type Signature, type TaskSpec, FAMILIES, compose, difficultyOf, runSpec } from "../src/taskgen/ops";
import { compileReference, definedOutput, referenceFingerprint, specFingerprint } from "../src/taskgen/behaviour";
import { judgeSpec } from "../src/taskgen/pool";
import { assignSplits } from "../src/taskgen/split";
import { buildSplit, generateSuite, planSuite } from "../src/taskgen/generate";
import { jsonlText, writeSuite } from "../src/taskgen/write";
import { fileSha256, loadManifest } from "../src/tasks/manifest";
import { sha256 } from "../src/util/hash";
import { loadSplit, loadTask, validateTask } from "../src/tasks/load";
import { baseFamilies } from "../src/taskgen/families";
import type { Split, Task } from "../src/tasks/types";
import { tempDir } from "./helpers/temp";

const DATA_DIR = path.join(__dirname, "..", "data", "tasks");
const SPLITS: Split[] = ["train", "validation", "test"];

const int = (value: number): Arg => ({ type: "int", value });
const char = (value: string): Arg => ({ type: "char", value });
const k: Arg = { type: "param", name: "k" };
function call(name: string, ...args: Arg[]): OpCall {
  return { op: opByName(name), args };
}
function spec(signature: Signature, ...ops: OpCall[]): TaskSpec {
  return { signature, ops };
}

const tempTasksDir = () => tempDir("murphy-tasks-test-");

// ---------------------------------------------------------------- composition (golden)

test("composition: words and code read in pipeline order, with the constants spelled out", () => {
  const s = spec("(xs)", call("map_add", int(3)), call("keep_even"));
  const c = compose(s);
  assert.equal(c.description, "Add 3 to each element, then keep the even elements.");
  assert.equal(c.reference, "(xs)=>xs.map(v=>v+3).filter(v=>v%2==0)");
  assert.equal(c.family, "map+filter");
  assert.equal(c.difficulty, 2);
  // [1, 2, 3, -4] + 3 = [4, 5, 6, -1]; the even ones are [4, 6].
  assert.deepEqual(runSpec(s, [[1, 2, 3, -4]]), [4, 6]);
  assert.deepEqual(compileReference(c.reference)([1, 2, 3, -4]), [4, 6]);
});

test("composition: parentheses exactly where precedence needs them", () => {
  const cases: [TaskSpec, string, unknown[], unknown][] = [
    // (5 - 3) * 2 = 4
    [spec("(x)", call("sub", int(3)), call("mul", int(2))), "(x)=>(x-3)*2", [5], 4],
    // 5 * 2 - 3 = 7
    [spec("(x)", call("mul", int(2)), call("sub", int(3))), "(x)=>x*2-3", [5], 7],
    // (-4 + 1) ** 2 = 9
    [spec("(x)", call("add", int(1)), call("square")), "(x)=>(x+1)**2", [-4], 9],
    // floor((7 + 2) / 2) = 4; floor(-3 / 2) = -2 (rounding down, not toward zero)
    [spec("(x)", call("add", int(2)), call("div", int(2))), "(x)=>Math.floor((x+2)/2)", [7], 4],
    [spec("(x)", call("div", int(2))), "(x)=>Math.floor(x/2)", [-3], -2],
    // "a" + "y" = "ay", whose first 2 letters are "ay"
    [spec("(s)", call("append", char("y")), call("take_letters", int(2))), '(s)=>(s+"y").slice(0,2)', ["a"], "ay"],
    // "x" + the reversed letters: no parentheses needed around a call
    [spec("(s)", call("reverse_letters"), call("prepend", char("x"))), '(s)=>"x"+[...s].reverse().join("")', ["ab"], "xba"],
    // "banana" has 3 a's; 3 * 2 = 6
    [spec("(s)", call("count_letter", char("a")), call("mul", int(2))), '(s)=>(s.split("a").length-1)*2', ["banana"], 6],
    // 3 a's, then (3 + 1) % 2 == 0
    [spec("(s)", call("count_letter", char("a")), call("add", int(1)), call("is_even")), '(s)=>(s.split("a").length-1+1)%2==0', ["banana"], true],
    // conditional on the parameter: 4 is even so 4 + 3 = 7; then 7 * 2 = 14
    [spec("(x)", call("if_even_add", int(3)), call("mul", int(2))), "(x)=>(x%2==0?x+3:x)*2", [4], 14],
    // every second element of the reversed copy; the input is not modified
    [spec("(xs)", call("reverse"), call("even_indexes")), "(xs)=>[...xs].reverse().filter((v,i)=>i%2==0)", [[1, 2, 3, 4, 5]], [5, 3, 1]],
    // k as an argument: elements above k=2 of [1, 5, 3] plus 2
    [spec("(xs, k)", call("keep_greater", k), call("map_add", k)), "(xs, k)=>xs.filter(v=>v>k).map(v=>v+k)", [[1, 5, 3], 2], [7, 5]],
  ];
  for (const [s, reference, input, expected] of cases) {
    const c = compose(s);
    assert.equal(c.reference, reference);
    assert.deepEqual(runSpec(s, input as never), expected, reference);
    assert.deepEqual(compileReference(c.reference)(...(input as never[])), expected, reference);
  }
});

test("composition: descriptions for every family read as templated English", () => {
  const clauses: [OpCall, Signature, string][] = [
    [call("clamp", int(-5), int(5)), "(x)", "Clamp to -5..5."],
    [call("if_greater_mul", int(3), int(2)), "(x)", "Multiply by 2 if greater than 3."],
    [call("map_if_odd_square"), "(xs)", "Square each odd element."],
    [call("keep_multiple", int(3)), "(xs)", "Keep the multiples of 3."],
    [call("count_less", int(0)), "(xs)", "Count the elements less than 0."],
    [call("max"), "(xs)", "Return the largest element."],
    [call("take", k), "(xs, k)", "Take the first k elements."],
    [call("sort_down"), "(xs)", "Sort descending."],
    [call("upper_letter", char("a")), "(s)", "Uppercase every 'a'."],
    [call("replace_letter", char("a"), char("o")), "(s)", "Replace every 'a' with 'o'."],
    [call("every_positive"), "(xs)", "Check if every element is positive."],
    [call("palindrome"), "(s)", "Check if it is a palindrome."],
  ];
  for (const [c, signature, words] of clauses) assert.equal(compose(spec(signature, c)).description, words);
});

test("composition: malformed pipelines are refused with the reason", () => {
  assert.throws(() => compose(spec("(x)", call("keep_even"))), /keep_even takes ints, got int/);
  assert.throws(() => compose(spec("(s)", call("upper"), call("remove_vowels"))), /cannot follow a case operation/);
  assert.throws(() => compose(spec("(x)", call("add", int(1)), call("if_even_add", int(2)))), /only applies directly to a parameter/);
  assert.throws(() => compose(spec("(xs)", call("sort_up"), call("sort_down"))), /repeats group order/);
  assert.throws(() => compose(spec("(s)", call("replace_letter", char("a"), char("a")))), /arguments are not valid/);
  assert.throws(() => compose(spec("(xs)", call("map_add", k))), /unknown parameter k/);
});

test("difficulty: one op is 1, two are 2, three or two with a condition are 3", () => {
  assert.equal(difficultyOf([call("sum")]), 1);
  assert.equal(difficultyOf([call("clamp", int(0), int(3))]), 1);
  assert.equal(difficultyOf([call("map_add", int(1)), call("sum")]), 2);
  assert.equal(difficultyOf([call("map_clamp", int(0), int(3)), call("sum")]), 3);
  assert.equal(difficultyOf([call("map_add", int(1)), call("keep_even"), call("sum")]), 3);
});

// ---------------------------------------------------------------- behaviour

test("fingerprints: equal functions collide, different ones do not, code and operations agree", () => {
  // Two filters commute: the same function in other words.
  const positiveThenEven = spec("(xs)", call("keep_positive"), call("keep_even"));
  const evenThenPositive = spec("(xs)", call("keep_even"), call("keep_positive"));
  assert.equal(specFingerprint(positiveThenEven), specFingerprint(evenThenPositive));
  assert.notEqual(specFingerprint(positiveThenEven), specFingerprint(spec("(xs)", call("keep_even"))));
  assert.notEqual(specFingerprint(spec("(x)", call("add", int(3)))), specFingerprint(spec("(x)", call("add", int(4)))));
  // Same outputs but a different signature is a different function.
  assert.notEqual(specFingerprint(spec("(xs)", call("sum"))), specFingerprint(spec("(xs, k)", call("map_add", k), call("sum"))));
  for (const s of [positiveThenEven, evenThenPositive, spec("(s, k)", call("take_letters", k), call("upper"))]) {
    assert.equal(referenceFingerprint(s.signature, compose(s).reference), specFingerprint(s));
  }
});

test("defined inputs: a step with no value (last of []) makes the whole task undefined there", () => {
  const s = spec("(xs)", call("last"), call("atmost", int(-3)));
  // JavaScript would go on: Math.min(undefined, -3) is NaN; the task is simply not defined on [].
  assert.equal(definedOutput(s, [[]]), undefined);
  assert.equal(definedOutput(s, [[4, 9]]), -3);
  assert.equal(definedOutput(s, [[4, -7]]), -7);
});

test("pool rules: refuses identity, constant, non-minimal, k-ignoring and duplicate tasks", () => {
  const none = new Set<string>();
  // The probes of (x) are -20..20, where clamping to -20..20 changes nothing.
  assert.equal(judgeSpec(spec("(x)", call("clamp", int(-20), int(20))), none), null);
  // |x| >= 0 always.
  assert.equal(judgeSpec(spec("(x)", call("abs"), call("is_less", int(0))), none), null);
  // Reversing does not change a sum.
  assert.equal(judgeSpec(spec("(xs)", call("reverse"), call("sum")), none), null);
  // Adding k to every element does not change how many there are.
  assert.equal(judgeSpec(spec("(xs, k)", call("map_add", k), call("count_all")), none), null);
  // "Check if equal to 5" is false on 40 of the 41 inputs of (x).
  assert.equal(judgeSpec(spec("(x)", call("is_equal", int(5))), none), null);
  const good = judgeSpec(spec("(xs)", call("map_add", int(3)), call("keep_even")), none);
  assert.ok(good);
  assert.equal(judgeSpec(good.spec, new Set([good.fingerprint])), null);
});

// ---------------------------------------------------------------- splitting and generation

test("assignSplits: exact sizes, every stratum shared out to within one task", () => {
  const items = Array.from({ length: 1000 }, (_, i) => ({ i, stratum: `s${i % 7}` }));
  const sizes = { train: 800, validation: 100, test: 100 };
  const out = assignSplits(items, (x) => x.stratum, sizes, new Rng("split-test"));
  assert.equal(out.train.length, 800);
  assert.equal(out.validation.length, 100);
  assert.equal(out.test.length, 100);
  assert.equal(new Set([...out.train, ...out.validation, ...out.test]).size, 1000);
  for (let s = 0; s < 7; s++) {
    const inStratum = items.filter((x) => x.stratum === `s${s}`).length;
    const inTest = out.test.filter((x) => x.stratum === `s${s}`).length;
    assert.ok(Math.abs(inTest - (inStratum * 100) / 1000) <= 1.01, `stratum s${s}: ${inTest} of ${inStratum}`);
  }
  assert.throws(() => assignSplits(items, (x) => x.stratum, { train: 1, validation: 1, test: 1 }, new Rng(1)), /1000 items for splits of 3/);
});

const SMALL = { train: 300, validation: 40, test: 40 };

test("generation is deterministic: same seed, same suite; another seed, another suite", () => {
  const a = generateSuite(11, SMALL);
  const b = generateSuite(11, SMALL);
  assert.deepEqual(a, b);
  const c = generateSuite(12, SMALL);
  assert.notDeepEqual(
    c.test.map((t) => t.reference),
    a.test.map((t) => t.reference),
  );
  assert.equal(a.train.length, 300);
  assert.equal(a.validation.length, 40);
  assert.equal(a.test.length, 40);
  // What is written is what loads back, field for field.
  const dir = tempTasksDir();
  try {
    writeSuite(dir, a);
    assert.deepEqual(loadSplit(dir, "train"), a.train);
    assert.deepEqual(loadSplit(dir, "test"), a.test);
    assert.deepEqual(loadTask(dir, "validation-00003"), a.validation[3]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- loader errors

function goodRecord(): Record<string, unknown> {
  return {
    id: "test-00000",
    family: "map+filter",
    difficulty: 2,
    description: "Add k to each element, then keep the even elements.",
    signature: "(xs, k)",
    visible: [
      { input: [[1, 2], 1], expected: [2] },
      { input: [[0], 2], expected: [2] },
    ],
    hidden: Array.from({ length: 6 }, (_, i) => ({ input: [[i], 0], expected: i % 2 === 0 ? [i] : [] })),
    reference: "(xs, k)=>xs.map(v=>v+k).filter(v=>v%2==0)",
  };
}

function loadError(lines: string[]): string {
  const dir = tempTasksDir();
  try {
    fs.writeFileSync(path.join(dir, "test.jsonl"), lines.join("\n") + "\n");
    loadSplit(dir, "test");
  } catch (e) {
    return (e as Error).message;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  throw new Error("loading did not fail");
}

function withField(field: string, value: unknown): string {
  const r = goodRecord();
  r.id = "test-00001";
  if (value === undefined) delete r[field];
  else r[field] = value;
  return JSON.stringify(r);
}

test("loader: a good record passes validation unchanged", () => {
  const r = goodRecord();
  assert.deepEqual(validateTask(r, "x.jsonl:1"), r);
});

test("loader: errors name the file, the line, the field and what was expected", () => {
  const good = JSON.stringify(goodRecord());
  const cases: [string, RegExp][] = [
    ["{not json", /test\.jsonl:2: not valid JSON/],
    [withField("reference", undefined), /test\.jsonl:2: field "reference" is missing/],
    [withField("difficulty", "2"), /test\.jsonl:2: field "difficulty" must be 1, 2 or 3 \(got "2"\)/],
    [withField("difficulty", 4), /test\.jsonl:2: field "difficulty" must be 1, 2 or 3 \(got 4\)/],
    [withField("hidden", (goodRecord().hidden as unknown[]).slice(0, 4)), /test\.jsonl:2: field "hidden" must have at least 6 tests \(got 4\)/],
    [withField("visible", "none"), /test\.jsonl:2: field "visible" must be an array of tests \(got "none"\)/],
    [withField("signature", "xs, k"), /test\.jsonl:2: field "signature" must be a parameter list like "\(xs, k\)"/],
    [withField("signature", "(xs, xs)"), /test\.jsonl:2: field "signature" .* distinct names/],
    [withField("description", 7), /test\.jsonl:2: field "description" must be a non-empty string \(got 7\)/],
    [withField("family", "Map-Filter"), /test\.jsonl:2: field "family" must be family names joined with "\+"/],
    [withField("reference", "function f(xs){}"), /test\.jsonl:2: field "reference" must be an arrow function starting with "\(xs, k\)=>"/],
    [withField("extra", 1), /test\.jsonl:2: unexpected field "extra"/],
    [withField("visible", [{ input: [[1]], expected: [1] }, { input: [[1], 0], expected: [1] }]), /test\.jsonl:2: field "visible\[0\]\.input" must be an array of 2 arguments for signature "\(xs, k\)" \(got an array of 1\)/],
    [withField("visible", [{ input: [[1], 0], expected: null }, { input: [[1], 0], expected: [1] }]), /test\.jsonl:2: field "visible\[0\]\.expected" must be a number, string, boolean or array of them \(got null\)/],
    [withField("visible", [{ input: [[1], 0] }, { input: [[1], 0], expected: [1] }]), /test\.jsonl:2: field "visible\[0\]\.expected" .*\(got nothing\)/],
    [withField("visible", [{ input: [[1, null], 0], expected: [1] }, { input: [[1], 0], expected: [1] }]), /field "visible\[0\]\.input\[0\]" .*\(got an array holding null\)/],
    ["[1, 2]", /test\.jsonl:2: expected a task object \(got an array of 2\)/],
  ];
  for (const [line, pattern] of cases) assert.match(loadError([good, line]), pattern);
  // A duplicate id, on the third line.
  assert.match(loadError([good, withField("id", "test-00002"), good]), /test\.jsonl:3: field "id" must be unique in split "test" \("test-00000" is also at .*test\.jsonl:1\)/);
});

test("loader: shards load in order; missing and mixed files are explained", () => {
  const dir = tempTasksDir();
  try {
    assert.throws(() => loadSplit(dir, "test"), /no files for split "test" \(expected test\.jsonl or test-00\.jsonl/);
    const a = goodRecord();
    const b = { ...goodRecord(), id: "test-00001" };
    fs.writeFileSync(path.join(dir, "test-01.jsonl"), JSON.stringify(b) + "\n");
    fs.writeFileSync(path.join(dir, "test-00.jsonl"), JSON.stringify(a) + "\n");
    assert.deepEqual(loadSplit(dir, "test").map((t) => t.id), ["test-00000", "test-00001"]);
    assert.equal(loadTask(dir, "test-00001").id, "test-00001");
    assert.throws(() => loadTask(dir, "test-00009"), /no task with id "test-00009" \(looked in test\)/);
    fs.writeFileSync(path.join(dir, "test.jsonl"), JSON.stringify(a) + "\n");
    assert.throws(() => loadSplit(dir, "test"), /has both test\.jsonl and shards/);
    assert.throws(() => loadSplit(dir, "dev" as Split), /unknown split "dev"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- the committed suite

const committed = (() => {
  let cache: Record<Split, Task[]> | null = null;
  return () => (cache ??= { train: loadSplit(DATA_DIR, "train"), validation: loadSplit(DATA_DIR, "validation"), test: loadSplit(DATA_DIR, "test") });
})();

test("committed suite: files match the manifest's hashes and counts, and meet the minimums", () => {
  const manifest = loadManifest(DATA_DIR);
  const onDisk = fs.readdirSync(DATA_DIR).filter((f) => f.endsWith(".jsonl")).sort();
  assert.deepEqual(onDisk, manifest.files.map((f) => f.file).sort());
  for (const f of manifest.files) {
    assert.equal(fileSha256(path.join(DATA_DIR, f.file)), f.sha256, `${f.file} changed since generation`);
    assert.ok(f.bytes < 5e6, `${f.file} is ${f.bytes} bytes; keep files under 5 MB`);
  }
  const suite = committed();
  for (const split of SPLITS) {
    assert.equal(suite[split].length, manifest.counts[split].tasks);
    assert.equal(suite[split].length, manifest.sizes[split]);
  }
  assert.ok(suite.train.length >= 20000);
  assert.ok(suite.validation.length >= 400);
  assert.ok(suite.test.length >= 500);
});

test("committed suite: behaviour fingerprints (recomputed from the references) are unique, so splits are disjoint", () => {
  const suite = committed();
  const owner = new Map<string, string>();
  for (const split of SPLITS) {
    for (const task of suite[split]) {
      const fingerprint = referenceFingerprint(task.signature as Signature, task.reference);
      const other = owner.get(fingerprint);
      assert.equal(other, undefined, `${task.id} behaves like ${other}`);
      owner.set(fingerprint, task.id);
    }
  }
});

test("committed suite: every family and difficulty in every split, in the same proportions", () => {
  const suite = committed();
  const share = (tasks: Task[], has: (t: Task) => boolean) => tasks.filter(has).length / tasks.length;
  for (const split of SPLITS) {
    for (const family of FAMILIES) {
      const has = (t: Task) => baseFamilies(t.family).includes(family);
      assert.ok(suite[split].some(has), `no ${family} task in ${split}`);
      assert.ok(Math.abs(share(suite[split], has) - share(suite.train, has)) < 0.03, `${family} share in ${split}`);
      // Each family at each difficulty, wherever train has enough of them to share out.
      for (const difficulty of [1, 2, 3]) {
        const both = (t: Task) => has(t) && t.difficulty === difficulty;
        if (suite.train.filter(both).length >= 200) assert.ok(suite[split].some(both), `no ${family} task of difficulty ${difficulty} in ${split}`);
      }
    }
    for (const difficulty of [1, 2, 3]) {
      const has = (t: Task) => t.difficulty === difficulty;
      assert.ok(suite[split].some(has), `no difficulty ${difficulty} in ${split}`);
      assert.ok(Math.abs(share(suite[split], has) - share(suite.train, has)) < 0.02, `difficulty ${difficulty} share in ${split}`);
    }
  }
});

/** Arrays of <= 6 integers in -20..20, strings of <= 8 lowercase letters, k in 0..5. */
function inputsAreSmall(signature: string, input: unknown[]): boolean {
  const small = (v: unknown) => Number.isInteger(v) && (v as number) >= -20 && (v as number) <= 20;
  const [first, second] = input;
  const firstOk = signature.startsWith("(xs")
    ? Array.isArray(first) && first.length <= 6 && first.every(small)
    : signature.startsWith("(s")
      ? typeof first === "string" && /^[a-z]{0,8}$/.test(first)
      : small(first);
  const secondOk = input.length === 1 || (Number.isInteger(second) && (second as number) >= 0 && (second as number) <= 5);
  return firstOk && secondOk;
}

test("committed suite: tasks are short, ASCII, with small distinct test inputs and informative hidden tests", () => {
  const suite = committed();
  let singleAnswer = 0;
  let total = 0;
  for (const split of SPLITS) {
    for (const task of suite[split]) {
      total++;
      assert.match(task.description + task.reference, /^[\x20-\x7e]*$/, task.id);
      assert.ok(task.reference.length <= 80 && task.description.length <= 100, task.id);
      assert.ok(task.visible.length >= 2 && task.visible.length <= 3, task.id);
      assert.ok(task.hidden.length >= 6, task.id);
      const inputs = [...task.visible, ...task.hidden].map((t) => JSON.stringify(t.input));
      assert.equal(new Set(inputs).size, inputs.length, `${task.id} repeats a test input`);
      for (const { input } of [...task.visible, ...task.hidden]) assert.ok(inputsAreSmall(task.signature, input), `${task.id}: input ${JSON.stringify(input)}`);
      if (new Set(task.hidden.map((t) => JSON.stringify(t.expected))).size === 1) singleAnswer++;
    }
  }
  // A hidden set with one answer cannot tell a constant program apart; nearly none may have one.
  assert.ok(singleAnswer / total < 0.01, `${singleAnswer} of ${total} tasks have a single hidden answer`);
});

test("committed suite: the held-out splits regenerate byte for byte from the seed, train in order", () => {
  const manifest = loadManifest(DATA_DIR);
  const plan = planSuite(manifest.seed, manifest.sizes);
  for (const split of ["validation", "test"] as const) {
    const text = jsonlText(buildSplit(manifest.seed, split, plan[split]));
    const file = manifest.files.find((f) => f.split === split)!;
    assert.equal(sha256(text), file.sha256, `${split} does not regenerate identically`);
  }
  // Building train's tests takes ~20 s; its tasks and their order are checked without them.
  assert.deepEqual(
    plan.train.map((e) => e.composed.reference),
    committed().train.map((t) => t.reference),
  );
});

test("committed suite: full regeneration (set MURPHY_TASKS_FULL=1; ~30 s)", { skip: !process.env.MURPHY_TASKS_FULL }, () => {
  const manifest = loadManifest(DATA_DIR);
  const dir = tempTasksDir();
  try {
    const written = writeSuite(dir, generateSuite(manifest.seed, manifest.sizes));
    assert.deepEqual(written.files, manifest.files);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
