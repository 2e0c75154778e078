/**
 * PythonSandbox: runs untrusted Python programs on tests, each program in fresh python3
 * processes under bubblewrap with prlimit limits (command.ts), as many at once as there are CPUs.
 *
 *   const sandbox = new PythonSandbox();
 *   const run = await sandbox.run({ code, tests, setup, names });   // a PyRunResult
 *
 * A program with assert / functional / pytest tests takes one slot (its process and the checker
 * process, calls.ts); a program with stdin/stdout tests takes one slot per test (stdio.ts).
 * Before the first program, one probe checks that the sandbox starts at all, so a missing
 * bubblewrap or disabled user namespaces are a clear error rather than every program failing.
 * `run` never throws for anything a program does; it throws for malformed tests, a closed
 * sandbox, or a sandbox that cannot start.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Outcome } from "../sandbox/types";
import { OUTCOMES, worstOutcome } from "../sandbox/types";
import { runCalls } from "./calls";
import { resolveOptions, sandboxCommand, type ResolvedOptions } from "./command";
import { runStdioTest } from "./stdio";
import type { PyProgram, PyRunner, PyRunResult, PySandboxOptions, PyTest } from "./types";

/** Longer program text is a syntax_error without being run. */
export const MAX_PYTHON_PROGRAM_CHARS = 200_000;

export interface PySandboxStats {
  concurrency: number;
  programs: number;
  tests: number;
  outcomes: Record<Outcome, number>;
  /** Sandboxed processes started. */
  processes: number;
  totalMs: number;
}

function checkTests(tests: readonly PyTest[]): void {
  if (!Array.isArray(tests)) throw new TypeError("PyProgram.tests must be an array");
  const stdio = tests.filter((t) => t.kind === "stdio").length;
  if (stdio !== 0 && stdio !== tests.length) throw new TypeError("PyProgram.tests must be all stdio tests or none");
  tests.forEach((t, i) => {
    const ok =
      (t.kind === "assert" && typeof t.code === "string") ||
      (t.kind === "pytest" && typeof t.name === "string") ||
      (t.kind === "stdio" && typeof t.input === "string" && typeof t.output === "string") ||
      (t.kind === "functional" && typeof t.fn === "string" && typeof t.input === "string" && typeof t.output === "string");
    if (!ok) throw new TypeError(`PyProgram.tests[${i}] is not a valid test: ${JSON.stringify(t).slice(0, 200)}`);
  });
}

export class PythonSandbox implements PyRunner {
  readonly options: ResolvedOptions;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;
  private probe: Promise<void> | undefined;
  private readonly counters: PySandboxStats;

  constructor(options: PySandboxOptions = {}) {
    this.options = resolveOptions(options);
    this.counters = {
      concurrency: this.options.concurrency,
      programs: 0,
      tests: 0,
      outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
      processes: 0,
      totalMs: 0,
    };
  }

  async run(program: PyProgram): Promise<PyRunResult> {
    if (this.closed) throw new Error("PythonSandbox is closed");
    if (typeof program.code !== "string") throw new TypeError(`PyProgram.code must be a string (got ${typeof program.code})`);
    checkTests(program.tests);
    await this.ready();
    const started = performance.now();
    let result: PyRunResult;
    if (program.code.length > MAX_PYTHON_PROGRAM_CHARS) {
      const error = { type: "SyntaxError", message: `program is longer than ${MAX_PYTHON_PROGRAM_CHARS} characters` };
      result = { outcome: "syntax_error", tests: program.tests.map((test) => ({ outcome: "syntax_error", test, error })), output: "", ms: 0, loadError: { outcome: "syntax_error", error } };
    } else if (program.tests.length > 0 && program.tests[0].kind === "stdio") {
      const runs = await Promise.all(
        program.tests.map((test) => this.inSlot(1, () => runStdioTest(program.code, program.context ?? "", test as Extract<PyTest, { kind: "stdio" }>, this.options))),
      );
      const tests = runs.map((r) => r.result);
      result = {
        outcome: tests.reduce<Outcome>((worst, t) => worstOutcome(worst, t.outcome), "passed"),
        tests,
        output: runs.map((r) => r.errors).join("").slice(0, this.options.maxOutputChars),
        ms: performance.now() - started,
      };
      const syntax = runs.find((r) => r.syntaxError);
      if (syntax) result.loadError = { outcome: "syntax_error", ...(syntax.result.error ? { error: { ...syntax.result.error } } : {}) };
    } else {
      result = await this.inSlot(2, () => runCalls(program, this.options));
    }
    this.counters.programs += 1;
    this.counters.tests += program.tests.length;
    this.counters.outcomes[result.outcome] += 1;
    this.counters.totalMs += performance.now() - started;
    return result;
  }

  stats(): PySandboxStats {
    return { ...this.counters, outcomes: { ...this.counters.outcomes } };
  }

  /** Stops accepting programs and waits for the running ones (their processes are killed when they end). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.active > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Runs `work` when a slot is free; `processes` is only counted for the statistics. */
  private async inSlot<T>(processes: number, work: () => Promise<T>): Promise<T> {
    while (this.active >= this.options.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    this.counters.processes += processes;
    try {
      return await work();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }

  /** One trivial sandboxed python3 must start and print "ok" (checked once). */
  private ready(): Promise<void> {
    this.probe ??= (async () => {
      const [command, ...args] = sandboxCommand("print('ok')", this.options);
      try {
        const { stdout } = await promisify(execFile)(command, args, { timeout: 30_000 });
        if (stdout.trim() !== "ok") throw new Error(`printed ${JSON.stringify(stdout.slice(0, 200))}`);
      } catch (e) {
        const error = e as NodeJS.ErrnoException & { stderr?: string };
        const why = error.code === "ENOENT"
          ? `"${command}" is not installed (bubblewrap and util-linux: run scripts/setup.sh, or apt-get install bubblewrap)`
          : (error.stderr?.trim() || error.message).slice(0, 500);
        throw new Error(`Python sandbox cannot start: ${why}. It needs bubblewrap, util-linux (prlimit, setpriv), ${this.options.python}, and unprivileged user namespaces (environment.md)`);
      }
    })();
    return this.probe;
  }
}
