/**
 * The benchmark loaders (HumanEval and MBPP as shipped; LiveCodeBench and KodCode on fixture files
 * in their upstream record formats, written here), the examples parser, and the benchmark
 * evaluation: reward and verdict from hidden tests, feedback from visible tests only.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { closingParen, isLiteral, isLiteralArguments } from "../src/benchmarks/python-literal";
import { docstringExamples } from "../src/benchmarks/docstring-examples";
import { unpickleString, decompressTests } from "../src/benchmarks/pickled-string";
import { pytestFunctions, solutionImports } from "../src/benchmarks/kodcode";
import { benchFeedback, evaluateBenchProgram, loadBenchmark, loadHumanEval, loadMbpp, type BenchProblem } from "../src/benchmarks/index";
import { PythonSandbox, type PyRunResult } from "../src/pysandbox/index";

const sandbox = new PythonSandbox({ timeoutMs: 20_000 });
after(() => sandbox.close());
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "murphy-bench-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("python literals: what counts as one, and where calls close", () => {
  for (const text of ["1", "-2.5e3", "0x1F", "'a'", '"b\\"c"', "r'\\d'", "True", "None", "[1, 'a', (2, 3)]", "()", "(1,)", "{'a': [1]}", "{1, 2}", "[]", "'a' 'b'"]) {
    assert.ok(isLiteral(text), text);
  }
  for (const text of ["x", "1 + 2", "f(1)", "[1, x]", "19 - 5 - 6 = 8", "'open", "[1, 2", "true", "1 2"]) {
    assert.ok(!isLiteral(text), text);
  }
  assert.ok(isLiteralArguments("[1, 2], 'x', 3.0"));
  assert.ok(isLiteralArguments(""));
  assert.ok(!isLiteralArguments("a"));
  assert.equal(closingParen("f('(', [1, (2)]) == 3", 1), 16);
});

test("docstring examples: doctest and prose forms become (expression, expected) pairs", () => {
  const prompt = [
    "import math",
    "def helper(x):",
    "    return x",
    "def f(a, b=1):",
    '    """Adds.',
    "    >>> f(1, 2)",
    "    3",
    "    >>> f([1], [2]) == [1, 2]",
    "",
    "    >>> f(0)",
    "",
    "    For example:",
    "    f(2, 2) ==> 4",
    "    f('a', 'b') ➞ 'ab'",
    "    f(3, 3) returns 6.",
    "    f(1, 1) => true",
    "    f(x, 1) == 2",
    "    f(1, 5) -> 1 + 5 = 6",
    '    f(7, 7) # => 14 (twice seven)',
    '    """',
  ].join("\n");
  assert.deepEqual(
    docstringExamples(prompt, "f").map((e) => [e.form, e.expression, e.expected]),
    [
      ["doctest", "f(1, 2)", "3"],
      ["doctest", "f([1], [2])", "[1, 2]"],
      ["doctest", "f(0)", "None"],
      ["prose", "f(2, 2)", "4"],
      ["prose", "f('a', 'b')", "'ab'"],
      ["prose", "f(3, 3)", "6"],
      ["prose", "f(1, 1)", "True"],
      ["prose", "f(7, 7)", "14"],
    ],
  );
  const single = "def g(xs):\n    \"\"\"\n    For xs = [1,2] the output should be 3\n    Example:\n        Input: [4, 5]\n        Output: 9\n    \"\"\"\n";
  assert.deepEqual(docstringExamples(single, "g").map((e) => `${e.expression} -> ${e.expected}`), ["g([1,2]) -> 3", "g([4, 5]) -> 9"]);
});

test("HumanEval: 164 problems; visible tests from the prompt's examples; hidden = check", () => {
  const problems = loadHumanEval();
  assert.equal(problems.length, 164);
  assert.equal(new Set(problems.map((p) => p.id)).size, 164);
  for (const p of problems) {
    assert.deepEqual(p.hidden, [{ kind: "assert", code: `check(${p.entryPoint})` }]);
    assert.ok(p.reference?.startsWith(p.prompt));
    for (const t of p.visible) assert.ok(t.kind === "assert" && t.code.startsWith("assert ") && t.code.includes(`${p.entryPoint}(`), JSON.stringify(t));
  }
  // The upstream note: 76 prompts carry `>>>` examples, and each of them yields at least one.
  // HumanEval/116's three are all wrong or malformed (humaneval.ts).
  const withDoctest = problems.filter((p) => p.prompt.includes(">>>")).map((p) => p.id);
  assert.equal(withDoctest.length, 76);
  assert.deepEqual(loadHumanEval({ visible: "doctest" }).filter((p) => p.visible.length > 0).map((p) => p.id), withDoctest.filter((id) => id !== "HumanEval/116"));
  const withExamples = problems.filter((p) => p.visible.length > 0).length;
  assert.ok(withExamples >= 140 && withExamples < 164, `${withExamples} problems with visible tests`);
  assert.ok(loadHumanEval({ visible: "none" }).every((p) => p.visible.length === 0));
  // The program sees the prompt's helpers, not the entry point's stub.
  const cyclic = problems.find((p) => p.id === "HumanEval/38") as BenchProblem;
  assert.match(cyclic.context, /def encode_cyclic/);
  assert.doesNotMatch(cyclic.context, /def decode_cyclic/);
});

test("MBPP: splits by task id, first test visible, all tests hidden, names from the reference", () => {
  assert.equal(loadMbpp().length, 500);
  assert.equal(loadMbpp({ split: "all" }).length, 974);
  assert.equal(loadMbpp({ split: "prompt" }).length, 10);
  assert.equal(loadMbpp({ split: "train" }).length, 464);
  const all = loadMbpp({ split: "all" });
  const two = all.find((p) => p.id === "MBPP/2") as BenchProblem;
  assert.equal(two.visible.length, 1);
  assert.equal(two.hidden.length, 3);
  assert.deepEqual(two.visible[0], two.hidden[0]);
  assert.ok(two.prompt.startsWith("Write a function to find the similar elements") && two.prompt.includes("assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)"));
  assert.deepEqual(two.names, ["similar_elements"]);
  const tree = all.find((p) => p.id === "MBPP/367") as BenchProblem;
  assert.deepEqual([...tree.names].sort(), ["Node", "is_tree_balanced"].sort());
  assert.equal(loadMbpp({ visibleTests: 3, split: "all" })[0].visible.length, 3);
  const sanitized = loadBenchmark({ bench: "mbpp-sanitized", split: "all" });
  assert.equal(sanitized.length, 427);
  assert.throws(() => loadBenchmark({ bench: "humaneval", split: "test" }), /only MBPP has splits/);
  assert.throws(() => loadBenchmark({ bench: "livecodebench" }), /--file/);
});

test("pickled strings: LiveCodeBench's compressed tests decode; any other pickle is refused", () => {
  const json = JSON.stringify([{ input: "1\n", output: "2\n", testtype: "stdin" }]);
  const encoded = execFileSync("/usr/bin/python3", ["-c", "import sys, pickle, zlib, base64; print(base64.b64encode(zlib.compress(pickle.dumps(sys.argv[1]))).decode())", json], { encoding: "utf8" }).trim();
  assert.equal(decompressTests(encoded), json);
  for (const protocol of [2, 3, 5]) {
    const bytes = execFileSync("/usr/bin/python3", ["-c", `import sys, pickle; sys.stdout.buffer.write(pickle.dumps("héllo" * 100, protocol=${protocol}))`]);
    assert.equal(unpickleString(bytes), "héllo".repeat(100));
  }
  const evil = Buffer.from("cos\nsystem\n(S'echo hi'\ntR.", "latin1");
  assert.throws(() => unpickleString(evil), /unsupported pickle opcode/);
  assert.throws(() => decompressTests(zlib.deflateSync(evil).toString("base64")), /unsupported pickle opcode/);
});

/** A LiveCodeBench code_generation_lite file in the upstream schema: one call-based, one stdin problem. */
function writeLiveCodeBench(): { file: string; references: string } {
  const compress = (tests: unknown): string =>
    execFileSync("/usr/bin/python3", ["-c", "import sys, json, pickle, zlib, base64; print(base64.b64encode(zlib.compress(pickle.dumps(json.dumps(json.loads(sys.argv[1]))))).decode())", JSON.stringify(tests)], { encoding: "utf8" }).trim();
  const functional = (input: string, output: string) => ({ input, output, testtype: "functional" });
  const stdin = (input: string, output: string) => ({ input, output, testtype: "stdin" });
  const records = [
    {
      question_title: "Pair sum",
      question_content: "Return the indices of the two numbers that add up to target.",
      platform: "leetcode",
      question_id: "9001",
      contest_id: "weekly-contest-999",
      contest_date: "2025-03-01T00:00:00",
      starter_code: "class Solution:\n    def pairSum(self, nums: List[int], target: int) -> List[int]:\n        ",
      difficulty: "easy",
      public_test_cases: JSON.stringify([functional("[2, 7, 11, 15]\n9", "[0, 1]")]),
      private_test_cases: compress([functional("[3, 2, 4]\n6", "[1, 2]"), functional("[3, 3]\n6", "[0, 1]")]),
      metadata: JSON.stringify({ func_name: "pairSum" }),
    },
    {
      question_title: "Sum of a line",
      question_content: "Read N, then N integers; print their sum and their mean.",
      platform: "atcoder",
      question_id: "abc999_a",
      contest_id: "abc999",
      contest_date: "2025-04-05T00:00:00",
      starter_code: "",
      difficulty: "medium",
      public_test_cases: JSON.stringify([stdin("3\n1 2 3\n", "6 2\n")]),
      private_test_cases: JSON.stringify([stdin("2\n1 2\n", "3 1.5\n"), stdin("1\n-4\n", "-4 -4.0\n")]),
      metadata: "{}",
    },
  ];
  const file = path.join(dir, "lcb.jsonl");
  fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
  const references = path.join(dir, "lcb-references.jsonl");
  fs.writeFileSync(
    references,
    [
      { question_id: "9001", code: "class Solution:\n    def pairSum(self, nums, target):\n        seen = {}\n        for i, x in enumerate(nums):\n            if target - x in seen:\n                return (seen[target - x], i)\n            seen[x] = i\n" },
      // gcd comes from the evaluator's `from math import *`; the mean prints as a float.
      { question_id: "abc999_a", code: "n = int(input())\nxs = list(map(int, input().split()))\nassert gcd(4, 6) == 2\nprint(sum(xs), sum(xs) / n if sum(xs) % n else sum(xs) // n)\n" },
    ].map((r) => JSON.stringify(r)).join("\n") + "\n",
  );
  return { file, references };
}

test("LiveCodeBench: the upstream record format, public tests visible, all tests hidden", async () => {
  const { file, references } = writeLiveCodeBench();
  const problems = loadBenchmark({ bench: "livecodebench", file, references });
  assert.deepEqual(problems.map((p) => [p.id, p.visible.length, p.hidden.length, p.difficulty]), [
    ["LiveCodeBench/9001", 1, 3, "easy"],
    ["LiveCodeBench/abc999_a", 1, 3, "medium"],
  ]);
  const [call, stdio] = problems;
  assert.equal(call.hidden[1].kind, "functional");
  assert.equal(stdio.hidden[2].kind, "stdio");
  for (const p of problems) {
    const e = await evaluateBenchProgram(sandbox, p, p.reference as string);
    assert.equal(e.outcome, "passed", JSON.stringify(e.run.tests));
    assert.equal(e.reward, 1);
  }
  // Wrong on a private test only: the feedback says every visible test passed, nothing more.
  const almost = await evaluateBenchProgram(sandbox, stdio, "n = int(input())\nxs = list(map(int, input().split()))\nprint(sum(xs), sum(xs) // n)\n");
  assert.equal(almost.outcome, "wrong_answer");
  assert.equal(almost.reward, 2 / 3);
  assert.equal(almost.feedback, "passed 1/1 visible");
  // Wrong on the public test: it is described, the private ones are not.
  const wrong = await evaluateBenchProgram(sandbox, call, "class Solution:\n    def pairSum(self, nums, target):\n        return [1, 0]\n");
  assert.equal(wrong.reward, 0);
  assert.equal(wrong.feedback, "passed 0/1 visible; pairSum([2, 7, 11, 15], 9): expected [0, 1], got [1, 0]");
  assert.doesNotMatch(wrong.feedback, /\[3, 2, 4\]|\[3, 3\]/);
  const filtered = loadBenchmark({ bench: "livecodebench", file }).filter((p) => p.reference === undefined);
  assert.equal(filtered.length, 2);
});

test("KodCode: the upstream record format; each pytest function is a test", async () => {
  const testModule = [
    "from solution import add, Accumulator",
    "import pytest",
    "",
    "def test_add_positive():",
    "    assert add(1, 2) == 3",
    "",
    "def test_add_negative():",
    "    assert add(-1, -1) == -2",
    "",
    '@pytest.mark.parametrize("a, b, total", [(0, 0, 0), (5, 5, 10), (0.1, 0.2, pytest.approx(0.3))])',
    "def test_add_table(a, b, total):",
    "    assert add(a, b) == total",
    "",
    "def test_add_type_error():",
    "    with pytest.raises(TypeError):",
    "        add(1, 'x')",
    "",
    "class TestAccumulator:",
    "    def test_sum(self):",
    "        acc = Accumulator()",
    "        acc.push(2)",
    "        acc.push(3)",
    "        assert acc.total == 5",
  ].join("\n");
  const record = {
    version: "v1.0",
    style: "instruct",
    subset: "Prefill",
    question_id: "Prefill_42_I",
    question: "Write a function add(a, b) that returns the sum, and a class Accumulator with push(x) and total.",
    solution: "def add(a, b):\n    return a + b\n\nclass Accumulator:\n    def __init__(self):\n        self.total = 0\n    def push(self, x):\n        self.total += x\n",
    test: testModule,
    test_info: [{ function_name: "add", parameter_list: "(a, b)", function_declaration: "def add(a, b):", docstring: "Returns a + b." }],
    gpt_pass_sequence: [1, 1, 1],
    gpt_pass_trial_num: 3,
    gpt_difficulty: "easy",
    gpt_pass_percentage: 1.0,
  };
  const file = path.join(dir, "kodcode.jsonl");
  fs.writeFileSync(file, JSON.stringify(record) + "\n");
  assert.deepEqual(pytestFunctions(testModule), ["test_add_positive", "test_add_negative", "test_add_table", "test_add_type_error", "TestAccumulator.test_sum"]);
  assert.deepEqual(solutionImports(testModule), ["add", "Accumulator"]);
  const [problem] = loadBenchmark({ bench: "kodcode", file });
  assert.equal(problem.id, "KodCode/Prefill_42_I");
  assert.equal(problem.visible.length, 1);
  assert.equal(problem.hidden.length, 5);
  assert.match(problem.prompt, /from solution import add, Accumulator$/);
  const good = await evaluateBenchProgram(sandbox, problem, problem.reference as string);
  assert.equal(good.outcome, "passed", JSON.stringify(good.run.tests));
  // Adds wrongly for negatives, and its Accumulator has no push: 3 of 5 hidden tests pass.
  const bad = await evaluateBenchProgram(sandbox, problem, "def add(a, b):\n    return abs(a) + abs(b)\n\nclass Accumulator:\n    total = 0\n");
  assert.deepEqual(bad.run.tests.slice(1).map((t) => t.outcome), ["passed", "wrong_answer", "passed", "passed", "runtime_error"]);
  assert.equal(bad.reward, 3 / 5);
  assert.equal(bad.feedback, "passed 1/1 visible");
  // As with pytest, a module whose import fails fails every test.
  const missing = await evaluateBenchProgram(sandbox, problem, "def add(a, b):\n    return a + b\n");
  assert.equal(missing.reward, 0);
  assert.match(missing.feedback, /^passed 0\/1 visible; test_add_positive: ImportError: /);
});

test("feedback: visible tests only, load failures without visible tests, bounded", async () => {
  const mbpp = loadMbpp({ split: "all" }).find((p) => p.id === "MBPP/2") as BenchProblem;
  const wrong = await evaluateBenchProgram(sandbox, mbpp, "def similar_elements(a, b):\n    return (5, 4)\n");
  assert.equal(wrong.feedback, "passed 0/1 visible; similar_elements((3, 4, 5, 6),(5, 7, 4, 10)): expected (4, 5), got (5, 4)");
  assert.equal(wrong.reward, 0);
  const syntax = await evaluateBenchProgram(sandbox, mbpp, "def similar_elements(a, b)\n    return a\n");
  assert.match(syntax.feedback, /^passed 0\/1 visible; syntax error: expected ':' \(line 1\)$/);
  const crash = await evaluateBenchProgram(sandbox, mbpp, "def similar_elements(a, b):\n    return 1 / 0\n");
  assert.equal(crash.feedback, "passed 0/1 visible; similar_elements((3, 4, 5, 6),(5, 7, 4, 10)): ZeroDivisionError: division by zero");

  // A HumanEval problem without visible tests: only whole-program failures are reported.
  const none = loadHumanEval({ visible: "none" })[0];
  const loads = await evaluateBenchProgram(sandbox, none, "def has_close_elements(numbers, threshold):\n    return True\n");
  assert.equal(loads.outcome, "wrong_answer");
  assert.equal(loads.feedback, "no visible tests");
  const broken = await evaluateBenchProgram(sandbox, none, "x = undefined_name\n");
  assert.equal(broken.feedback, "no visible tests; the program did not load: NameError: name 'undefined_name' is not defined");

  // Bounded, the fixed words kept.
  const run: PyRunResult = { ...wrong.run, tests: wrong.run.tests.map((t) => ({ ...t, got: "x".repeat(500) })) };
  const short = benchFeedback(mbpp, run, { maxChars: 80 });
  assert.ok(short.length <= 80 && short.startsWith("passed 0/1 visible; ") && short.includes(": expected "), short);
});
