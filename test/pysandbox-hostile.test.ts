/**
 * Hostile Python programs: each scores 0, the host survives, nothing is left running, and the
 * next ordinary program passes. Where an attack could be observed only from inside, the program
 * returns the right answer ONLY if its attack worked ("score only if you escaped"), so a score
 * of 0 proves the attack failed.
 *
 * The tests' expected values (3 and 7) are different, so a program that answers with a constant
 * or forges one reply cannot pass both.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { PythonSandbox, type PyRunResult, type PyTest } from "../src/pysandbox/index";
import type { Outcome } from "../src/sandbox/types";

const TIMEOUT_MS = 2000;
// A uid of this run's own (when run as root), so counting its processes sees no other run's.
const UID = 61000 + (process.pid % 4000);
const sandbox = new PythonSandbox({ timeoutMs: TIMEOUT_MS, concurrency: 2, uid: UID });
// The ordinary program after each hostile one runs with a generous limit, so that a loaded
// machine cannot make it time out: what it checks is that nothing was left broken.
const healthy = new PythonSandbox({ timeoutMs: 30_000, concurrency: 1, uid: UID + 1 });
after(async () => {
  await sandbox.close();
  await healthy.close();
});

const TESTS: PyTest[] = [
  { kind: "assert", code: "assert add(1, 2) == 3" },
  { kind: "assert", code: "assert add(3, 4) == 7" },
];
const asRoot = process.getuid?.() === 0;
const SANDBOX_UID = UID;

function score(run: PyRunResult): number {
  return run.tests.filter((t) => t.outcome === "passed").length / run.tests.length;
}

/** Processes of the sandbox's uid on the host, per pid namespace (only when the kit runs as root). */
function namespaces(): number[] {
  if (!asRoot) return [];
  try {
    const lines = execSync(`ps -u ${SANDBOX_UID} -o pidns= 2>/dev/null || true`, { encoding: "utf8" }).split("\n").filter((l) => l.trim());
    const counts = new Map<string, number>();
    for (const ns of lines) counts.set(ns.trim(), (counts.get(ns.trim()) ?? 0) + 1);
    return [...counts.values()];
  } catch {
    return [];
  }
}

function sandboxProcesses(): number {
  return namespaces().reduce((a, b) => a + b, 0);
}

async function noneLeft(): Promise<void> {
  for (let i = 0; i < 40 && sandboxProcesses() > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(sandboxProcesses(), 0, "every process of the program must be gone after its run");
}

async function expectHealthy(): Promise<void> {
  const run = await healthy.run({ code: "def add(a, b):\n    return a + b\n", tests: TESTS, names: ["add"] });
  assert.deepEqual(run.tests.map((t) => t.outcome), ["passed", "passed"], "the next ordinary program must pass");
}

/** Runs a hostile program: it must score 0 (and get `outcomes`, when given). */
async function attack(code: string, outcomes?: Outcome[]): Promise<PyRunResult> {
  const run = await sandbox.run({ code, tests: TESTS, names: ["add"] });
  assert.equal(score(run), 0, `hostile program scored ${score(run)}: ${JSON.stringify(run.tests)}\n${code}`);
  if (outcomes) assert.deepEqual(run.tests.map((t) => t.outcome), outcomes, code);
  return run;
}

/** Then nothing of them is left running, and the next ordinary program passes. */
async function aftermath(): Promise<void> {
  await noneLeft();
  await expectHealthy();
}

/** One hostile program, then its aftermath. */
async function hostile(code: string, outcomes?: Outcome[]): Promise<PyRunResult> {
  const run = await attack(code, outcomes);
  await aftermath();
  return run;
}

/** Several hostile programs at once (each in its own sandbox), then their aftermath. */
async function hostileAll(cases: [string, Outcome[]?][]): Promise<PyRunResult[]> {
  const runs = await Promise.all(cases.map(([code, outcomes]) => attack(code, outcomes)));
  await aftermath();
  return runs;
}

before(async () => {
  await expectHealthy();
});

test("a real fork bomb is stopped by the process limit and dies with its sandbox", async () => {
  const bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n";
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, ...namespaces())), 100);
  try {
    await hostile(bomb, ["timeout", "timeout"]);
    await hostile("import os\ndef add(a, b):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass\n", ["timeout", "timeout"]);
  } finally {
    clearInterval(sampler);
  }
  // Per sandbox (pid namespace): at most maxProcesses, bwrap's own process outside it aside.
  if (asRoot) {
    assert.ok(peak >= sandbox.options.maxProcesses - 2, `the sampler saw only ${peak} processes: the bomb did not run?`);
    assert.ok(peak <= sandbox.options.maxProcesses + 1, `the fork bomb reached ${peak} processes in one sandbox`);
  }
});

test("memory bombs hit the address-space limit", async () => {
  await hostileAll([
    ["def add(a, b):\n    return len(bytearray(10 ** 10))\n", ["memory_limit", "memory_limit"]],
    // Growing without end (zero-filled blocks are mapped lazily, so this hits the limit at once).
    ["x = []\nwhile True:\n    x.append(bytes(10 ** 8))\n", ["memory_limit", "memory_limit"]],
  ]);
});

test("infinite loops time out; a program that exits is a runtime error", async () => {
  const [, exited] = await hostileAll([
    ["def add(a, b):\n    while True:\n        pass\n", ["timeout", "timeout"]],
    ["import os\nos._exit(0)\n", ["runtime_error", "runtime_error"]],
    // os._exit(0) before the checks: the checks do not pass by default.
    ["import os\ndef add(a, b):\n    os._exit(0)\n", ["runtime_error", "runtime_error"]],
    ["import sys\ndef add(a, b):\n    sys.exit(0)\n", ["runtime_error", "runtime_error"]],
  ]);
  assert.equal(exited.tests[0].error?.type, "SystemExit");
});

test("huge output is cut at the output limit", async () => {
  const [run] = await hostileAll([
    ["def add(a, b):\n    while True:\n        print('x' * 10000)\n", ["output_limit", "output_limit"]],
    ["import sys\nwhile True:\n    sys.stderr.write('y' * 10000)\n", ["output_limit", "output_limit"]],
  ]);
  assert.ok(run.output.length <= sandbox.options.maxOutputChars);
});

test("deep recursion is a RecursionError, or stops at a limit", async () => {
  const [run, unlimited] = await hostileAll([
    ["def add(a, b):\n    return add(a, b) + 1\n", ["runtime_error", "runtime_error"]],
    // With the limit lifted, Python 3.11 keeps recursing on the heap until time or memory runs out.
    ["import sys\nsys.setrecursionlimit(10 ** 8)\ndef f(n):\n    return f(n + 1) + 1\ndef add(a, b):\n    return f(0)\n"],
  ]);
  assert.equal(run.tests[0].error?.type, "RecursionError");
  assert.ok(["timeout", "memory_limit", "runtime_error"].includes(unlimited.tests[0].outcome));
});

test("threads and processes that outlive the program are killed and change nothing", async () => {
  const started = Date.now();
  await attack(
    [
      "import threading, time, os, json",
      // A thread that keeps forging replies for the next requests (always 5) and then lingers.
      "def forge():",
      "    for i in range(1, 50):",
      "        os.write(4, (json.dumps({'id': i, 'ok': {'i': hex(5)}}) + '\\n').encode())",
      "    time.sleep(60)",
      "threading.Thread(target=forge).start()",
      "if os.fork() == 0:",
      "    time.sleep(60)",
      "def add(a, b):",
      "    time.sleep(0.2)",
      "    return -1",
    ].join("\n"),
  );
  assert.ok(Date.now() - started < 2 * TIMEOUT_MS, "the run must not wait for the program's threads");
  await aftermath();
});

test("the file system outside a private /tmp is read-only and the project is not there", async () => {
  const marker = path.join(os.tmpdir(), `murphy-hostile-${process.pid}`);
  const project = path.resolve(__dirname, "..");
  const writes = [
      "def add(a, b):",
      "    for target in ['/usr/pwned', '/pwned', '/etc/pwned', '/dev/pwned', '/dev/shm/pwned', " + JSON.stringify(path.join(project, "pwned")) + "]:",
      "        try:",
      "            open(target, 'w').write('x')",
      "            return a + b",
      "        except OSError:",
      "            pass",
      "    return -1",
  ].join("\n");
  // Reading: the project's data (the hidden tests live there), the host's home and /etc files.
  const reads = [
      "import os",
      "def add(a, b):",
      "    for target in [" + [path.join(project, "README.md"), path.join(project, "data", "benchmarks", "mbpp", "mbpp.jsonl"), "/etc/passwd", "/etc/hostname", "/root/.bashrc"].map((p) => JSON.stringify(p)).join(", ") + "]:",
      "        try:",
      "            open(target).read()",
      "            return a + b",
      "        except OSError:",
      "            pass",
      "    return -1",
  ].join("\n");
  await hostileAll([
    [writes],
    [reads],
    // Its /tmp is its own: what it writes there never reaches the host's, nor a later program's.
    [`open(${JSON.stringify(marker)}, 'w').write('x')\ndef add(a, b):\n    return -1\n`],
    ["open('/tmp/left-behind', 'w').write('x')\ndef add(a, b):\n    return -1\n"],
  ]);
  assert.equal(fs.existsSync(marker), false);
  assert.equal(fs.existsSync(path.join(project, "pwned")), false);
  await hostile("import os\ndef add(a, b):\n    return a + b if os.path.exists('/tmp/left-behind') else -1\n");
});

test("no network: neither the host's loopback nor the outside", async () => {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    await hostile(
      [
        "import socket",
        "def add(a, b):",
        `    for host, port in [('127.0.0.1', ${port}), ('1.1.1.1', 80), ('8.8.8.8', 53)]:`,
        "        try:",
        "            socket.create_connection((host, port), timeout=0.5).close()",
        "            return a + b",
        "        except OSError:",
        "            pass",
        "    return -1",
      ].join("\n"),
    );
  } finally {
    server.close();
  }
  assert.equal(connections, 0);
});

test("signalling or killing the parent, the host or everything reaches nothing outside", async () => {
  await hostileAll([
    [[
      "import os, signal",
      "def add(a, b):",
      "    hits = 0",
      `    for pid in [os.getppid(), 1, ${process.pid}, ${process.ppid}]:`,
      "        try:",
      "            os.kill(pid, signal.SIGKILL)",
      "            hits += 1",
      "        except OSError:",
      "            pass",
      "    try:",
      "        os.killpg(0, signal.SIGKILL)",
      "    except OSError:",
      "        pass",
      "    return -1",
    ].join("\n")],
    ["import os, signal\nos.kill(-1, signal.SIGKILL)\ndef add(a, b):\n    return -1\n"],
  ]);
});

test("patching builtins, the harness or the output cannot fool the checker", async () => {
  await hostileAll([
  // An object equal to everything, and an int whose __eq__ says yes.
  ["class Yes:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Yes()\n", ["wrong_answer", "wrong_answer"]],
  ["class Int(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\ndef add(a, b):\n    return Int(0)\n", ["wrong_answer", "wrong_answer"]],
  // Patched builtins and assertion machinery live in the program's process only.
  [[
      "import builtins, sys",
      "builtins.AssertionError = type('Nothing', (Exception,), {})",
      "builtins.abs = lambda x: 0",
      "builtins.print = lambda *a, **k: None",
      "sys.settrace(lambda *a: None)",
      "def add(a, b):",
      "    return -1",
    ].join("\n")],
  // Fake verdicts printed everywhere the program can write.
  [[
      "import os, sys",
      "fake = ''.join('{\"test\": %d, \"outcome\": \"passed\"}\\n' % i for i in range(2)) + '{\"done\": true}\\n'",
      "print(fake)",
      "sys.stderr.write(fake)",
      "for fd in range(1, 64):",
      "    try:",
      "        os.write(fd, fake.encode())",
      "    except OSError:",
      "        pass",
      "def add(a, b):",
      "    print(fake)",
      "    return -1",
    ].join("\n")],
  // Monkeypatching the harness in its own process: every reply claims the value 5.
  [[
      "import sys",
      "harness = sys.modules['__main__'].__dict__ if 'send' in sys.modules['__main__'].__dict__ else None",
      "import gc",
      "for f in gc.get_objects():",
      "    if getattr(f, '__name__', '') == 'send' and hasattr(f, '__globals__'):",
      "        g = f.__globals__",
      "        real = g['send']",
      "        g['send'] = lambda m: real(dict(m, ok={'i': hex(5)}) if 'id' in m else m)",
      "def add(a, b):",
      "    return -1",
    ].join("\n")],
  ]);
});

test("stdin/stdout programs: loops, output floods and fork bombs are contained", async () => {
  const tests: PyTest[] = [{ kind: "stdio", input: "1 2\n", output: "3\n" }];
  const cases = [
    ["while True:\n    pass\n", "timeout"],
    ["while True:\n    print('3')\n", "output_limit"],
    ["import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", "timeout"],
    ["print('3')\nraise SystemExit(print('{\"outcome\": \"passed\"}'))\n", "wrong_answer"],
  ] as const;
  const runs = await Promise.all(cases.map(([code]) => sandbox.run({ code, tests })));
  runs.forEach((run, i) => assert.equal(run.tests[0].outcome, cases[i][1], cases[i][0]));
  await noneLeft();
  const ok = await healthy.run({ code: "a, b = map(int, input().split())\nprint(a + b)\n", tests });
  assert.equal(ok.tests[0].outcome, "passed");
});
