/**
 * The sandbox on ordinary programs: outcomes, `got`, errors, output, argument isolation, the
 * two renderers agreeing, validation of tests and options, stats, batching and close().
 * Hostile programs are in sandbox-hostile.test.ts.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, renderValue, MAX_PROGRAM_CHARS, MAX_TESTS_PER_PROGRAM } from "../src/sandbox/index";
import type { TestCase } from "../src/tasks/types";

const pool = new SandboxPool({ timeoutMs: 2000 });
after(() => pool.close());

const scale: TestCase[] = [
  { input: [[1, 2, 3], 2], expected: [2, 4, 6] },
  { input: [[], 5], expected: [] },
  { input: [[-1, 0], 3], expected: [-3, 0] },
];

test("a correct program passes every test", async () => {
  const result = await pool.run("(xs, k) => xs.map(x => x * k)", scale);
  assert.equal(result.outcome, "passed");
  assert.deepEqual(result.tests.map((t) => t.outcome), ["passed", "passed", "passed"]);
  result.tests.forEach((t, i) => assert.equal(t.test, scale[i])); // the given objects, in order
  assert.equal(result.output, "");
  assert.ok(result.ms > 0);
});

test("a wrong program gets wrong_answer with the rendering it returned", async () => {
  const result = await pool.run("(xs, k) => xs.map(x => x + k)", scale);
  assert.equal(result.outcome, "wrong_answer");
  assert.deepEqual(
    result.tests.map((t) => [t.outcome, t.got]),
    [["wrong_answer", "[3,4,5]"], ["passed", undefined], ["wrong_answer", "[2,3]"]],
  );
});

test("a returned string that looks like the expected rendering is still wrong", async () => {
  const result = await pool.run("(xs, k) => JSON.stringify(xs.map(x => x * k))", scale);
  assert.equal(result.tests[0].outcome, "wrong_answer");
  assert.equal(result.tests[0].got, '"[2,4,6]"');
});

test("-0 passes for an expected 0, NaN for NaN; 1 and '1' and true differ", async () => {
  const tests: TestCase[] = [
    { input: [0], expected: 0 },
    { input: [NaN], expected: NaN },
    { input: [1], expected: 1 },
  ];
  assert.equal((await pool.run("x => x === 0 ? -0 : x", tests)).outcome, "passed");
  const asString = await pool.run("x => String(x)", tests);
  assert.deepEqual(asString.tests.map((t) => t.got), ['"0"', '"NaN"', '"1"']);
  const asBool = await pool.run("x => x === 1", [{ input: [1], expected: 1 }]);
  assert.equal(asBool.tests[0].got, "true");
});

test("runtime errors keep type and message; thrown non-Errors are ThrownValue", async () => {
  const one: TestCase[] = [{ input: [1], expected: 1 }];
  const cases: Array<[string, string, string]> = [
    ["x => { throw new RangeError('bad ' + x) }", "RangeError", "bad 1"],
    ["x => x.y.z", "TypeError", "Cannot read properties of undefined (reading 'z')"],
    ["x => undefinedName", "ReferenceError", "undefinedName is not defined"],
    ["x => JSON.parse('{')", "SyntaxError", "Expected property name or '}' in JSON at position 1"],
    ["x => { throw 5 }", "ThrownValue", "5"],
    ["x => { throw 'oops' }", "ThrownValue", '"oops"'],
    ["x => { throw {} }", "ThrownValue", "{}"],
    ["x => { throw null }", "ThrownValue", "null"],
    ["x => { throw undefined }", "ThrownValue", "undefined"],
    ["x => { throw [1, 'a'] }", "ThrownValue", '[1,"a"]'],
    ["x => { throw { name: 'Custom', message: 'm' } }", "Custom", "m"],
    ["x => { class MyError extends Error { constructor() { super('mine'); this.name = 'MyError' } } throw new MyError() }", "MyError", "mine"],
  ];
  for (const [code, type, message] of cases) {
    const result = await pool.run(code, one);
    assert.equal(result.outcome, "runtime_error", code);
    assert.deepEqual(result.tests[0].error, { type, message }, code);
  }
});

test("programs that do not compile are syntax_error on every test", async () => {
  for (const code of ["x =>", "", "let a = 1; a", "x => x); (y => y", "(x => x", "return 1", "...x", "x => x,"]) {
    const result = await pool.run(code, scale);
    assert.equal(result.outcome, "syntax_error", code);
    for (const t of result.tests) {
      assert.equal(t.outcome, "syntax_error", code);
      assert.equal(t.error?.type, "SyntaxError", code);
      assert.ok((t.error?.message ?? "").length > 0, code);
    }
  }
  const long = await pool.run(`x => ${"1 + ".repeat(MAX_PROGRAM_CHARS / 4)}1`, scale);
  assert.equal(long.outcome, "syntax_error");
  assert.match(long.tests[0].error?.message ?? "", /longer than 100000 characters/);
});

test("a syntax error describes the model's program, never the sandbox's wrapper, with its position", async () => {
  // The wrapper closes with ")" and "}": an unfinished program used to be reported as
  // "Unexpected token '}'" although it has no "}". Compiled alone, it simply ends too early; the
  // position is line and column in the program (the column after its last character here).
  const expected: [string, string][] = [
    ["(x => x", "Unexpected end of input (line 1, column 8)"],
    ["(x) => (x", "Unexpected end of input (line 1, column 10)"],
    ["x => { return x", "Unexpected end of input (line 1, column 16)"],
    ["x => x +", "Unexpected end of input (line 1, column 9)"],
    ["x =>", "Unexpected end of input (line 1, column 5)"],
    ["x => x); (y => y", "Unexpected token ')' (line 1, column 7)"],
    // Valid as a statement list, not as one expression: the error is still at its own ";".
    ["x => x; f()", "Unexpected token ';' (line 1, column 7)"],
    ["x => {\n  return x +\n}", "Unexpected token '}' (line 3, column 1)"],
  ];
  for (const [code, message] of expected) {
    const result = await pool.run(code, scale);
    assert.equal(result.outcome, "syntax_error", code);
    assert.ok(result.tests.every((t) => t.error?.message === message), `${code}: ${result.tests[0].error?.message}`);
  }
  // Whatever the message, a token it names is one of the program's own.
  for (const code of ["(a, b) => [a, b", "x => ({ a: x ", "function (x) { return x", "x => x ? 1", "x => `${x}", "a]; [b"]) {
    const message = (await pool.run(code, scale)).tests[0].error?.message ?? "";
    const token = /Unexpected token '(.+)'/.exec(message)?.[1];
    assert.ok(token === undefined || code.includes(token), `${code}: ${message}`);
    assert.match(message, /\(line 1, column \d+\)$/, code);
  }
});

test("surrounding whitespace, comments and parentheses are fine", async () => {
  for (const code of [
    "\n  (xs, k) => xs.map(x => x * k)\n\n",
    "/* scale */ (xs, k) => xs.map(x => x * k) // done",
    "((xs, k) => xs.map(x => x * k))",
    "function scale(xs, k) { return xs.map(x => x * k); }",
    "(function () { const f = (xs, k) => xs.map(x => x * k); return f; })()",
  ]) {
    assert.equal((await pool.run(code, scale)).outcome, "passed", code);
  }
});

test("an expression that is not a function, or throws, is a runtime_error on every test", async () => {
  for (const [code, got] of [["42", "number"], ["'f'", "string"], ["null", "null"], ["[x => x][1]", "undefined"]]) {
    const result = await pool.run(code, scale);
    assert.equal(result.outcome, "runtime_error", code);
    for (const t of result.tests) {
      assert.deepEqual(t.error, { type: "TypeError", message: `program is not a function (it evaluated to ${got})` });
    }
  }
  const throwing = await pool.run("(() => { throw new Error('at load') })()", scale);
  assert.deepEqual(throwing.tests.map((t) => t.error), scale.map(() => ({ type: "Error", message: "at load" })));
});

test("the overall outcome is the worst over the tests", async () => {
  const result = await pool.run("(xs, k) => { if (k === 5) throw new Error('five'); return k === 3 ? [] : xs.map(x => x * k) }", scale);
  assert.deepEqual(result.tests.map((t) => t.outcome), ["passed", "runtime_error", "wrong_answer"]);
  assert.equal(result.outcome, "runtime_error");
});

test("each test gets a fresh copy of its input; stored tests never change", async () => {
  const shared = [1, 2];
  const tests: TestCase[] = [
    { input: [shared], expected: 3 },
    { input: [shared], expected: 3 }, // the same array object as test 0
    { input: [[[5]]], expected: 1 },
  ];
  const snapshot = JSON.stringify(tests);
  const code = "xs => { const n = xs.length; xs.push(99); xs[0] = -1; if (Array.isArray(xs[0])) xs[0].push(1); return n + (xs.length > n ? 1 : 0) }";
  const result = await pool.run(code, tests);
  assert.deepEqual(result.tests.map((t) => [t.outcome, t.got]), [["passed", undefined], ["passed", undefined], ["wrong_answer", "2"]]);
  assert.equal(JSON.stringify(tests), snapshot);
  const nested = await pool.run("xs => { xs[0][0] = 7; return xs[0][0] }", [{ input: [[[1]]], expected: 7 }, { input: [[[1]]], expected: 7 }]);
  assert.equal(nested.outcome, "passed");
});

test("state lives as long as one program: shared by its tests, gone for the next program", async () => {
  const tests: TestCase[] = [1, 2, 3].map((n) => ({ input: [0], expected: n }));
  const counter = "(() => { let calls = 0; return () => ++calls })()";
  assert.equal((await pool.run(counter, tests)).outcome, "passed");
  assert.equal((await pool.run(counter, tests)).outcome, "passed"); // starts from 0 again
});

test("console.log output is captured, rendered canonically, and capped", async () => {
  const result = await pool.run("(xs, k) => { console.log('k is', k, xs, {a: [1]}); console.error(NaN); return xs.map(x => x * k) }", scale.slice(0, 1));
  assert.equal(result.outcome, "passed");
  assert.equal(result.output, 'k is 2 [1,2,3] {"a":[1]}\nNaN\n');
  const small = new SandboxPool({ maxOutputChars: 20 });
  try {
    const tests: TestCase[] = [1, 2, 3].map((n) => ({ input: [n], expected: n }));
    const chatty = await small.run("x => { console.log('line ' + x + ' ' + 'x'.repeat(4)); return x }", tests);
    assert.deepEqual(chatty.tests.map((t) => t.outcome), ["passed", "output_limit", "passed"]);
    assert.equal(chatty.outcome, "output_limit");
    assert.equal(chatty.output, "line 1 xxxx\nline 2 x"); // 12 + 8 characters
    assert.equal(chatty.output.length, 20);
  } finally {
    await small.close();
  }
});

test("a return value too large to render is output_limit with the cut rendering", async () => {
  const result = await pool.run("n => 'x'.repeat(n)", [{ input: [5], expected: "xxxxx" }, { input: [20_000], expected: "" }]);
  assert.deepEqual(result.tests.map((t) => t.outcome), ["passed", "output_limit"]);
  const got = result.tests[1].got ?? "";
  assert.equal(got.length, 10_001);
  assert.ok(got.startsWith('"xxx') && got.endsWith("\u2026"));
});

test("returned values the tasks never use render the same inside the isolate as on the host", async () => {
  const cases: Array<[string, unknown]> = [
    ["() => [1, [2, 'a'], -0, NaN, Infinity, -Infinity, undefined, null, true]", [1, [2, "a"], -0, NaN, Infinity, -Infinity, undefined, null, true]],
    ["() => ({ b: 1, a: [2n, 'x'] })", { b: 1, a: [2n, "x"] }],
    ["() => { const a = [1]; a[3] = 4; return a }", (() => { const a: unknown[] = [1]; a[3] = 4; return a; })()],
    ["() => new Map([[1, 2]])", new Map([[1, 2]])],
    ["() => Symbol('s')", Symbol("s")],
    ["() => function named() {}", function named(): void {}],
    ["() => 'é😀\\u0000\\n\"'", 'é😀\u0000\n"'],
    ["() => 12345678901234567890", 12345678901234567890],
    ["() => 0.1 + 0.2", 0.1 + 0.2],
    ["() => { const a = [1]; a.push(a); return a }", (() => { const a: unknown[] = [1]; a.push(a); return a; })()],
  ];
  for (const [code, hostValue] of cases) {
    const result = await pool.run(code, [{ input: [], expected: "never" }]);
    assert.equal(result.tests[0].got, renderValue(hostValue, 10_000), code);
  }
});

test("programs without tests, and programs run concurrently, work", async () => {
  const empty = await pool.run("x => x", []);
  assert.equal(empty.outcome, "passed");
  assert.deepEqual(empty.tests, []);
  const codes = Array.from({ length: 40 }, (_, i) => `(xs, k) => xs.map(x => x * k + ${i % 3})`);
  const results = await Promise.all(codes.map((code) => pool.run(code, scale)));
  results.forEach((r, i) => assert.equal(r.outcome, i % 3 === 0 ? "passed" : "wrong_answer", codes[i]));
});

test("bad tests are rejected with an error naming the test and field", async () => {
  await assert.rejects(pool.run("x => x", [{ input: [1], expected: { a: 1 } } as unknown as TestCase]), /tests\[0\]\.expected must be a number, string, boolean or array of them \(got object\)/);
  await assert.rejects(pool.run("x => x", [{ input: [1], expected: 1 }, { input: 1, expected: 1 } as unknown as TestCase]), /tests\[1\]\.input must be an array of arguments/);
  await assert.rejects(pool.run("x => x", [{ input: [[1, null]], expected: 1 } as unknown as TestCase]), /tests\[0\]\.input\[0\]\[1\] must be .* \(got null\)/);
  // eslint-disable-next-line no-sparse-arrays
  await assert.rejects(pool.run("x => x", [{ input: [], expected: [1, , 3] } as unknown as TestCase]), /tests\[0\]\.expected\[1\] is a hole/);
  await assert.rejects(pool.run("x => x", [{ input: [] } as unknown as TestCase]), /tests\[0\]\.expected is missing/);
  await assert.rejects(pool.run("x => x", "nope" as unknown as TestCase[]), /tests must be an array/);
  const many = Array.from({ length: MAX_TESTS_PER_PROGRAM + 1 }, () => ({ input: [], expected: 1 }));
  await assert.rejects(pool.run("x => x", many), /at most 256 per program/);
  await assert.rejects(pool.run("x => x", [{ input: [], expected: "x".repeat(10_001) }]), /tests\[0\]\.expected renders to more than maxValueChars \(10000\)/);
  await assert.rejects(pool.run(42 as unknown as string, []), /code must be a string \(got number\)/);
});

test("bad options are rejected with the field, the rule and the value", () => {
  assert.throws(() => new SandboxPool({ memoryMb: 4 }), /SandboxOptions\.memoryMb must be an integer >= 8 \(got 4\)/);
  assert.throws(() => new SandboxPool({ poolSize: 0 }), /SandboxOptions\.poolSize must be an integer >= 1 \(got 0\)/);
  assert.throws(() => new SandboxPool({ timeoutMs: 1.5 }), /SandboxOptions\.timeoutMs must be an integer >= 1 \(got 1\.5\)/);
});

test("stats count programs, tests and outcomes; a closed pool refuses work", async () => {
  const local = new SandboxPool({ poolSize: 1 });
  await local.run("(xs, k) => xs.map(x => x * k)", scale);
  await local.run("x => { throw 1 }", scale);
  await local.run("x =>", scale.slice(0, 1));
  const stats = local.stats();
  assert.equal(stats.poolSize, 1);
  assert.equal(stats.programs, 3);
  assert.equal(stats.tests, 7);
  assert.equal(stats.outcomes.passed, 1);
  assert.equal(stats.outcomes.runtime_error, 1);
  assert.equal(stats.outcomes.syntax_error, 1);
  assert.equal(stats.workersStarted, 1);
  assert.equal(stats.workersLost, 0);
  assert.equal(stats.busy, 0);
  assert.equal(stats.queued, 0);
  await local.close();
  await assert.rejects(local.run("x => x", scale), /SandboxPool is closed/);
});
