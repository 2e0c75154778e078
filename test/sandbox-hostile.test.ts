/**
 * Hostile programs: each gets the right outcome, the host survives, and the next ordinary program
 * runs normally. The pool has ONE worker, so "the next program" runs in the same worker, and,
 * unless the isolate was recycled (checked through stats), in the very same context.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execSync } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import { SandboxPool, type Outcome, type RunResult } from "../src/sandbox/index";
import type { TestCase } from "../src/tasks/types";

// Generous enough that a loaded machine (CI neighbours, experiments running) does not turn slow but
// finite programs into timeouts; the infinite loops below each cost one TIMEOUT_MS.
const TIMEOUT_MS = 1000;
const pool = new SandboxPool({ poolSize: 1, timeoutMs: TIMEOUT_MS, memoryMb: 32 });
after(() => pool.close());

const scale: TestCase[] = [
  { input: [[1, 2, 3], 2], expected: [2, 4, 6] },
  { input: [[-1], 3], expected: [-3] },
];
const identity: TestCase[] = [1, 2, 3].map((n) => ({ input: [n], expected: n }));

async function expectHealthy(on: SandboxPool = pool): Promise<void> {
  const result = await on.run("(xs, k) => xs.map(x => x * k)", scale);
  assert.equal(result.outcome, "passed", "the next ordinary program must pass");
}

async function expectOutcomes(code: string, tests: TestCase[], outcomes: Outcome[], on: SandboxPool = pool): Promise<RunResult> {
  const result = await on.run(code, tests);
  assert.deepEqual(result.tests.map((t) => t.outcome), outcomes, code);
  await expectHealthy(on);
  return result;
}

const all = (outcome: Outcome, tests: TestCase[] = identity): Outcome[] => tests.map(() => outcome);

test("infinite loops time out, in any form, and stop the remaining tests", async () => {
  await expectOutcomes("x => { while (true) {} }", identity, all("timeout"));
  await expectOutcomes("(xs, k) => xs.map(x => { for (;;) {} })", scale, all("timeout", scale));
  await expectOutcomes("(() => { while (true) {} })()", identity, all("timeout"));
  // Recursion that catches its own stack overflow and recurses again never ends.
  await expectOutcomes("x => { const f = () => { try { f() } catch (e) { f() } }; f() }", identity, all("timeout"));
  // Tests before the looping one keep their results.
  await expectOutcomes("x => { if (x === 2) while (true) {} return x }", identity, ["passed", "timeout", "timeout"]);
});

test("deep recursion is a RangeError, not a crash", async () => {
  for (const code of [
    "x => { const f = n => f(n + 1) + 1; return f(0) }",
    "x => { function a(n) { return b(n + 1) } function b(n) { return a(n + 1) } return a(0) }",
  ]) {
    const result = await expectOutcomes(code, identity, all("runtime_error"));
    assert.deepEqual(result.tests[0].error, { type: "RangeError", message: "Maximum call stack size exceeded" });
  }
});

test("work left behind in promise callbacks cannot change results; the isolate is replaced", async () => {
  const before = pool.stats().isolatesRecycled;
  await expectOutcomes("x => { const f = () => Promise.resolve().then(f); f(); return x }", identity, all("passed"));
  assert.equal(pool.stats().isolatesRecycled, before + 1);
  await expectOutcomes("x => { Promise.reject(new Error('later')); return x }", identity, all("passed"));
  await expectOutcomes("x => { Promise.resolve().then(() => { throw 1 }); return x }", identity, all("passed"));
});

test("memory bombs hit the memory limit; earlier tests keep their results", async () => {
  // A pool of its own with a generous time limit: filling 32 MB is quick on an idle core but not
  // on a loaded machine, and then the time limit would win the race. Closed at the end, so later
  // tests see only the main pool's worker.
  const bombPool = new SandboxPool({ poolSize: 1, timeoutMs: 10_000, memoryMb: 32 });
  try {
    await expectOutcomes("x => { const a = []; while (true) a.push(new Array(1000).fill(x)) }", identity, all("memory_limit"), bombPool);
    await expectOutcomes("x => { const a = []; while (true) a.push({ x, y: [x] }) }", identity, all("memory_limit"), bombPool);
    await expectOutcomes(
      "x => { if (x === 2) { const a = []; while (true) a.push(new Array(1000).fill(x)) } return x }",
      identity,
      ["passed", "memory_limit", "memory_limit"],
      bombPool,
    );
  } finally {
    await bombPool.close();
  }
});

test("string doubling: a rope hits V8's length limit, a flattened string the memory limit", async () => {
  const rope = await expectOutcomes("x => { let s = 'a'; while (true) s += s }", identity, all("runtime_error"));
  assert.deepEqual(rope.tests[0].error, { type: "RangeError", message: "Invalid string length" });
  // Flattening a huge string usually makes V8 abort the worker (its fatal out-of-memory path);
  // sometimes the isolate's memory limit catches it first. Either way it is memory_limit from
  // the bomb on. When the worker died, the tests that ran before the bomb died with it.
  const lost = pool.stats().workersLost;
  const result = await pool.run("x => { if (x === 2) { let s = 'ab'; while (true) { s += s; s.charCodeAt(s.length - 1) } } return x }", identity);
  const workerDied = pool.stats().workersLost === lost + 1;
  assert.deepEqual(result.tests.map((t) => t.outcome), [workerDied ? "memory_limit" : "passed", "memory_limit", "memory_limit"]);
  await expectHealthy();
});

test("a V8 fatal error kills only the worker: the program gets a SandboxError", async () => {
  // crbug.com/1201626: split() into more than 2^27 elements aborts V8 (plain Node would crash).
  const lost = pool.stats().workersLost;
  const result = await expectOutcomes("x => { if (x === 2) return 'ab'.repeat(2 ** 26).split('').length; return x }", identity, all("runtime_error"));
  assert.equal(pool.stats().workersLost, lost + 1);
  assert.equal(result.tests[0].error?.type, "SandboxError");
  // V8's own last words ("invalid size error") are best effort: the worker's stderr may be cut
  // off when it dies, so only the pool's part of the message is certain.
  assert.match(result.tests[0].error?.message ?? "", /^V8 aborted the sandbox worker \(signal SIGTRAP\) while running this program/);
});

test("when a worker dies in a batch, the other programs of the batch still get their results", async () => {
  const lost = pool.stats().workersLost;
  const codes = Array.from({ length: 9 }, (_, i) => `x => x + ${i % 2}`);
  codes.splice(4, 0, "x => 'ab'.repeat(2 ** 26).split('').length");
  const results = await Promise.all(codes.map((code) => pool.run(code, identity))); // one batch
  const outcomes = results.map((r) => r.outcome);
  assert.deepEqual(outcomes, codes.map((code) => (code.includes("split") ? "runtime_error" : code.endsWith("+ 0") ? "passed" : "wrong_answer")));
  // The batch's worker died, then the culprit, re-run alone, killed a second one.
  assert.equal(pool.stats().workersLost, lost + 2);
  await expectHealthy();
});

test("a worker killed from outside: its program is run again, not blamed", async () => {
  await expectHealthy(); // the worker is up
  const lost = pool.stats().workersLost;
  const running = pool.run("x => { const end = Date.now() + 200; while (Date.now() < end) {} return x }", identity.slice(0, 1));
  await delay(50); // the worker is now inside the program
  const workers = execSync(`ps --ppid ${process.pid} -o pid=,args=`).toString().split("\n").filter((line) => line.includes("--single-threaded-gc"));
  assert.equal(workers.length, 1);
  process.kill(Number(workers[0].trim().split(" ")[0]), "SIGKILL");
  const result = await running;
  assert.equal(result.outcome, "passed");
  assert.equal(pool.stats().workersLost, lost + 1);
  await expectHealthy();
});

test("allocations V8 cannot interrupt end as timeout or memory_limit, never a crash", async () => {
  for (const code of [
    "x => { const m = new Map(); let i = 0; while (true) m.set(i, i++) }",
    "x => new Array(2 ** 26).fill(0).length",
    "x => Array.from({ length: 1e8 }, (_, i) => i).length",
  ]) {
    const result = await pool.run(code, identity);
    assert.ok(["timeout", "memory_limit"].includes(result.outcome), `${code}: ${result.outcome}`);
    assert.ok(result.tests.every((t) => t.outcome === result.outcome), code);
    await expectHealthy();
  }
  const buffer = await expectOutcomes("x => new Uint8Array(2 ** 31).length", identity, all("runtime_error"));
  assert.equal(buffer.tests[0].error?.type, "RangeError");
});

test("huge results and outputs are capped: output_limit", async () => {
  await expectOutcomes("x => 'x'.repeat(1e6)", identity, all("output_limit"));
  await expectOutcomes("x => new Array(1e6).fill(0)", identity, all("output_limit"));
  await expectOutcomes("x => new Array(2 ** 32 - 1)", identity, all("output_limit"));
  await expectOutcomes("x => { let a = []; for (let i = 0; i < 1e5; i++) a = [a]; return a }", identity, all("output_limit"));
  await expectOutcomes("x => { const a = []; for (let i = 0; i < 30; i++) a.push(a.length ? [a[i - 1], a[i - 1]] : [0]); return a }", identity, all("output_limit"));
  const spam = await expectOutcomes("x => { while (true) console.log('spam') }", identity, all("timeout"));
  assert.equal(spam.output.length, 10_000);
  assert.ok(spam.output.startsWith("spam\nspam\n"));
  const once = await expectOutcomes("x => { console.log('y'.repeat(1e6)); return x }", identity, ["output_limit", "passed", "passed"]);
  assert.equal(once.output.length, 10_000);
});

test("hostile thrown values: proxies, looping getters", async () => {
  const trap = await expectOutcomes("x => { throw new Proxy({}, { get() { throw new Error('trap') } }) }", identity, all("runtime_error"));
  assert.deepEqual(trap.tests[0].error, { type: "ThrownValue", message: "<the thrown value could not be inspected>" });
  await expectOutcomes("x => { throw new Proxy({}, { get() { while (true) {} } }) }", identity, all("timeout"));
  const symbol = await expectOutcomes("x => { throw Symbol('s') }", identity, all("runtime_error"));
  assert.deepEqual(symbol.tests[0].error, { type: "ThrownValue", message: "Symbol(s)" });
});

test("hostile return values: proxies, symbols, getters and conversion hooks", async () => {
  await expectOutcomes("x => new Proxy([x], {})", identity, ["wrong_answer", "wrong_answer", "wrong_answer"]);
  assert.equal((await pool.run("(xs, k) => new Proxy(xs.map(x => x * k), {})", scale)).outcome, "passed");
  const descriptorTrap = await expectOutcomes("x => new Proxy([1], { getOwnPropertyDescriptor() { throw new Error('trap') } })", identity, all("runtime_error"));
  assert.deepEqual(descriptorTrap.tests[0].error, { type: "Error", message: "trap" });
  await expectOutcomes("x => new Proxy([], { get() { while (true) {} } })", identity, all("timeout"));
  const revoked = await expectOutcomes("x => { const p = Proxy.revocable([], {}); p.revoke(); return p.proxy }", identity, all("runtime_error"));
  assert.equal(revoked.tests[0].error?.type, "TypeError");
  const symbol = await expectOutcomes("x => Symbol('s' + x)", identity, all("wrong_answer"));
  assert.equal(symbol.tests[1].got, "Symbol(s2)");
  const getter = await expectOutcomes("x => ({ get x() { while (true) {} } })", identity, all("wrong_answer"));
  assert.equal(getter.tests[0].got, '{"x":<getter>}');
  const element = await expectOutcomes("x => { const a = [0]; Object.defineProperty(a, 0, { get() { throw 1 } }); return a }", identity, all("wrong_answer"));
  assert.equal(element.tests[0].got, "[<getter>]");
  const hooks = await expectOutcomes("x => ({ toJSON() { throw 1 }, valueOf() { throw 1 }, toString() { throw 1 } })", identity, all("wrong_answer"));
  assert.equal(hooks.tests[0].got, '{"toJSON":<function toJSON>,"valueOf":<function valueOf>,"toString":<function toString>}');
  const tag = await expectOutcomes("x => ({ get [Symbol.toStringTag]() { throw new Error('tag') } })", identity, all("runtime_error"));
  assert.deepEqual(tag.tests[0].error, { type: "Error", message: "tag" });
});

test("no way out: constructor chains, require, process, timers, import()", async () => {
  const reference = await expectOutcomes("x => this.constructor.constructor('return process')()", identity, all("runtime_error"));
  assert.deepEqual(reference.tests[0].error, { type: "ReferenceError", message: "process is not defined" });
  await expectOutcomes("x => Function('return require')()", identity, all("runtime_error"));
  const probe = [
    "x => [[].constructor.constructor('return typeof process')(), (() => {}).constructor('return typeof require')(),",
    "typeof require, typeof process, typeof module, typeof setTimeout, typeof setInterval, typeof setImmediate,",
    "typeof queueMicrotask, typeof fetch, typeof Buffer, typeof Atomics, typeof SharedArrayBuffer,",
    "typeof WebAssembly, typeof WeakRef, typeof FinalizationRegistry].join()",
  ].join(" ");
  const expected = Array.from({ length: 16 }, () => "undefined").join();
  assert.equal((await pool.run(probe, [{ input: [1], expected }])).outcome, "passed");
  const imported = await expectOutcomes("x => import('fs')", identity, all("wrong_answer"));
  assert.equal(imported.tests[0].got, "Promise {}");
  // The harness is strict mode: a program's function cannot find its caller.
  await expectOutcomes("function g(x) { return g.caller === null ? x : 'leak' }", identity, all("passed"));
  await expectOutcomes("function g(x) { return arguments.callee.caller === null ? x : 'leak' }", identity, all("passed"));
  // Stack-trace hooks cannot be installed (Error is frozen).
  const hook = "x => { Error.prepareStackTrace = (e, frames) => frames; return typeof new Error().stack === 'string' ? x : 'leak' }";
  await expectOutcomes(hook, identity, all("passed"));
});

// Programs that try to change what later programs see. Sloppy-mode writes to frozen objects are
// silently ignored; the strict ones throw. Either way the canary below must see a pristine realm.
const tamperers = [
  "x => { Array.prototype.map = () => ['hacked']; Array.prototype.join = null; return x }",
  "x => { Object.prototype.polluted = 'yes'; Object.prototype.toString = () => 'hacked'; return x }",
  "x => { JSON.stringify = () => 'hacked'; Math.max = () => -1; Math.PI = 3; return x }",
  "x => { globalThis.leak = 1; this.leak2 = 2; leak5 = 5; return x }",
  "x => { Object.defineProperty(globalThis, 'leak3', { value: 3 }); return x }",
  "x => { Object.setPrototypeOf(globalThis, { leak4: 4 }); return x }",
  "x => { Object.setPrototypeOf(Array.prototype, null); return x }",
  "x => { delete Array.prototype.map; delete Math.max; delete globalThis.JSON; return x }",
  "x => { Array.prototype[Symbol.iterator] = function* () { yield 'hacked' }; return x }",
  "x => { Function.prototype.call = () => 'hacked'; Function.prototype.apply = null; return x }",
  "x => { Promise.prototype.then = () => 'hacked'; return x }",
  "x => { console.log = () => {}; console.error = null; return x }",
  "x => { Error.prepareStackTrace = () => 'hacked'; Error.stackTraceLimit = 0; return x }",
  "x => { String.prototype.trim = () => 'hacked'; Number.prototype.toString = () => 'hacked'; return x }",
  "x => { Object.getPrototypeOf([][Symbol.iterator]()).next = () => ({ done: true }); return x }",
  "x => { Object.getPrototypeOf(function* () {}).prototype.next = null; return x }",
  "x => { /(secret)/.exec('secret'); RegExp.input = 'stash'; return x }",
  "x => { Object.prototype.__proto__ = { leak6: 6 }; return x }",
  "x => { 'use strict'; Array.prototype.map = 1; return x }",
  "x => { 'use strict'; Object.prototype.polluted = 1; return x }",
  "x => { Object.defineProperty(Array.prototype, 'stash', { get() { return x } }); return x }",
  "x => { Object.prototype.__defineGetter__('stash2', () => x); return x }",
];

const canary = `() => [
  [3, 1, 2].map(x => x * 2).join(","), JSON.stringify({ a: [1] }), Math.max(1, 3), Math.PI,
  String({}), ({}).polluted === undefined, typeof leak, typeof leak2, typeof leak3, typeof leak4,
  typeof leak5, ({}).leak6 === undefined, [...[1, 2]].length, (function () { return 1 }).call(null),
  "  a ".trim(), (255).toString(16), typeof RegExp.input, typeof RegExp.$1, Error.stackTraceLimit,
  typeof console.log, [].stash === undefined, ({}).stash2 === undefined,
  Array.from((function* () { yield 1 })()).length, typeof Promise.prototype.then,
  Object.getPrototypeOf(Array.prototype) === Object.prototype, typeof JSON,
]`;
const pristine = [
  "6,2,4", '{"a":[1]}', 3, 3.141592653589793, "[object Object]", true, "undefined", "undefined",
  "undefined", "undefined", "undefined", true, 2, 1, "a", "ff", "undefined", "undefined", 10,
  "function", true, true, 1, "function", true, "object",
];

test("tampering with built-ins, prototypes or globals cannot reach the next program", async () => {
  const recycled = pool.stats().isolatesRecycled;
  const lost = pool.stats().workersLost;
  assert.equal((await pool.run(canary, [{ input: [], expected: pristine }])).outcome, "passed");
  for (const code of tamperers) {
    const result = await pool.run(code, identity);
    assert.ok(["passed", "runtime_error"].includes(result.outcome), `${code}: ${result.outcome}`);
    if (result.outcome === "runtime_error") assert.equal(result.tests[0].error?.type, "TypeError", code);
    const check = await pool.run(canary, [{ input: [], expected: pristine }]);
    assert.equal(check.outcome, "passed", `after ${code}: got ${check.tests[0].got}`);
    await expectHealthy();
  }
  // Same worker, same isolate, same context throughout: nothing was reset in between.
  assert.equal(pool.stats().isolatesRecycled, recycled);
  assert.equal(pool.stats().workersLost, lost);
});

test("override mistake tamed: own properties named like frozen built-ins work as in Node", async () => {
  // Expected values come from running the same program in plain Node on the host.
  const inNode = (code: string, ...args: unknown[]): unknown => (new Function(`return (${code})`)() as (...a: unknown[]) => unknown)(...args);
  const words = ["constructor", "toString", "valueOf", "hasOwnProperty", "constructor"];
  const seen = "ws => { const seen = {}; for (const w of ws) seen[w] = true; return Object.keys(seen).join() + ':' + seen.hasOwnProperty }";
  assert.equal(inNode(seen, words), "constructor,toString,valueOf,hasOwnProperty:true");
  assert.equal((await pool.run(seen, [{ input: [words], expected: inNode(seen, words) as string }])).outcome, "passed");
  const error = "x => { const e = new Error('m'); e.name = 'Mine'; e.message = 'changed'; return e.name + ' ' + e.message + ' ' + String(e) }";
  assert.equal((await pool.run(error, [{ input: [1], expected: inNode(error, 1) as string }])).outcome, "passed");
  const method = "x => { const o = { v: x }; o.toString = function () { return 'v' + this.v }; o.valueOf = () => 10; return String(o) + (o + 1) }";
  assert.equal((await pool.run(method, [{ input: [7], expected: inNode(method, 7) as string }])).outcome, "passed");
});

test("implicit globals do not work (the global object is frozen): ReferenceError", async () => {
  const result = await expectOutcomes("xs => { total = 0; for (const x of xs) total += x; return total }", [{ input: [[1, 2]], expected: 3 }], ["runtime_error"]);
  assert.deepEqual(result.tests[0].error, { type: "ReferenceError", message: "total is not defined" });
});

test("everything a program can reach is frozen (walked from inside a program)", async () => {
  const walk = `() => {
    const roots = [globalThis, Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(async function () {}),
      Object.getPrototypeOf(async function* () {}), Object.getPrototypeOf([][Symbol.iterator]()),
      Object.getPrototypeOf(""[Symbol.iterator]()), Object.getPrototypeOf(new Map()[Symbol.iterator]()),
      Object.getPrototypeOf(new Set()[Symbol.iterator]()), Object.getPrototypeOf(/a/[Symbol.matchAll]("")),
      Object.getPrototypeOf(new Intl.Segmenter().segment("")),
      Object.getPrototypeOf(new Intl.Segmenter().segment("")[Symbol.iterator]()),
      (function () { "use strict"; return Object.getOwnPropertyDescriptor(arguments, "callee").get })()];
    const seen = new Set(); const stack = [...roots]; let notFrozen = 0;
    while (stack.length) {
      const o = stack.pop();
      if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) continue;
      seen.add(o);
      if (!Object.isFrozen(o)) notFrozen++;
      stack.push(Object.getPrototypeOf(o));
      for (const k of Reflect.ownKeys(o)) {
        const d = Object.getOwnPropertyDescriptor(o, k);
        if ("value" in d) stack.push(d.value); else stack.push(d.get, d.set);
      }
    }
    return [notFrozen, seen.size >= 500];
  }`;
  assert.equal((await pool.run(walk, [{ input: [], expected: [0, true] }])).outcome, "passed");
});

test("the host survived everything above", async () => {
  await expectHealthy();
  const stats = pool.stats();
  assert.equal(stats.busy, 0);
  assert.equal(stats.queued, 0);
  assert.ok(process.memoryUsage().rss < 2 * 1024 ** 3, "host memory stays bounded");
});
