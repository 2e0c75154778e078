/**
 * SandboxPool: runs model-written JavaScript programs against tests, in reused V8 isolates.
 * `await pool.run("(xs, k) => xs.map(x => x * k)", tests)` gives a RunResult.
 *
 * Layout: `poolSize` worker processes (process.ts / worker.ts), each owning one isolate whose
 * single context was locked down once by the harness (harness.ts). The pool sends programs to the
 * workers in batches (one IPC message each way per batch; programs submitted together travel
 * together); inside a worker every program is still ONE call into the isolate, for all its tests,
 * with its own time limit. Results come back as renderings; the host compares them with the
 * expected renderings (render.ts, classify.ts).
 *
 * Security model (why a program can neither harm the host nor affect a later program):
 * 1. Nothing of the host inside: programs run in V8 isolates (isolated-vm) with their own heap and
 *    no `process`, `require`, file system, network, timers or host objects. Only copies of the
 *    inputs go in, and the harness's result buffer, which only the harness can reach. Each
 *    isolate has a memory limit (`memoryMb`), each program a wall-clock limit (`timeoutMs`) that
 *    interrupts CPU-bound loops; return values and printed output are capped (`maxValueChars`,
 *    `maxOutputChars`).
 * 2. Nothing a program does escapes its worker process. V8 cannot stop every memory bomb
 *    gracefully: some allocations take its fatal out-of-memory path, and a few operations abort
 *    V8 outright (e.g. `split` into more than 2^27 elements, crbug.com/1201626); in-process that
 *    would kill the host. Here it kills one worker, which the pool replaces. Before aborting, a
 *    fatal OOM may use about 1 GB above `memoryMb` (isolated-vm's emergency headroom). A watchdog
 *    kills a worker that stays silent for (timeoutMs + 250 ms) per program of its batch + 2 s.
 * 3. Nothing one program does reaches a later one sharing the context (reuse is what makes the
 *    pool fast). Before any program runs, the harness deep-freezes every object reachable from
 *    `globalThis` and from syntax (generator, async and iterator prototypes, %ThrowTypeError%),
 *    `globalThis` included, and proves it by walking again. Everything a program can observe of
 *    the realm lives in those objects, so no program can change it: writes fail (silently in
 *    sloppy mode, as for any frozen object), new globals cannot be created, prototypes cannot be
 *    polluted, built-ins cannot be replaced, and no closure can be stashed anywhere shared. The
 *    engine-internal channels that are not properties are removed: RegExp's legacy statics
 *    (`RegExp.$1`, `RegExp.input`), and the globals that run code or share memory outside a call
 *    (`Atomics`, `SharedArrayBuffer`, `WebAssembly`, `FinalizationRegistry`, `WeakRef`). The
 *    harness keeps its own state in closure variables reset at every call and runs in strict
 *    mode (`fn.caller` cannot reach it). Expected values never enter the isolate, so a program
 *    cannot read them. An isolate whose program timed out, hit the memory limit or failed
 *    unexpectedly is disposed, and so is one whose heap grew past half its limit (checked every
 *    64 programs), so garbage one program leaves cannot push a later one over the limit.
 *
 * Outcomes (details in classify.ts): text that does not compile as one expression is
 * syntax_error on every test; an expression that throws, or is not a function ("program is not a
 * function (it evaluated to number)", type TypeError), is runtime_error on every test. After a
 * timeout or memory limit the remaining tests are not run and get the same outcome, and the tests
 * before keep theirs, except when the program killed its worker (fatal OOM: memory_limit; other V8
 * abort: runtime_error "SandboxError"): then every test gets that outcome. A worker that dies
 * under a batch of several programs gets each of them re-run alone, so only the culprit is
 * blamed; one that dies with no reason reported (e.g. killed from outside) gets its program
 * re-run once. Work a program leaves in promise callbacks runs after its tests, within its time
 * limit; it cannot change their results (if it times out, the isolate is replaced). Unhandled
 * promise rejections are ignored.
 *
 * Differences from running the same function in plain Node (all follow from the above):
 * implicit globals do not work (`i = 0` without a declaration is silently ignored, then reading
 * `i` is a ReferenceError); `RegExp.$1`-style statics and the removed globals are absent;
 * `console.log` prints canonical renderings instead of util.inspect output; `import()` returns a
 * rejected promise; own properties named like built-ins (`obj.toString = f`, `counts["constructor"]
 * = 1`) work as in Node, but reading `Object.getOwnPropertyDescriptor(Object.prototype, k)` shows
 * an accessor (harness.ts explains). `eval` and `new Function` work, at the sandbox's global scope.
 */
import type { TestCase } from "../tasks/types";
import type { Outcome, RunResult, SandboxOptions } from "./types";
import { OUTCOMES } from "./types";
import { classifyRun, overallOutcome } from "./classify";
import { recordCapacity, type HarnessLimits } from "./harness";
import { SandboxProcess, type Job } from "./process";
import type { ProgramRun } from "./records";
import { MAX_PROGRAM_CHARS, MAX_TESTS_PER_PROGRAM, prepareTests } from "./validate";

const DEFAULTS: Required<SandboxOptions> = {
  poolSize: 2,
  memoryMb: 64,
  timeoutMs: 1000,
  maxValueChars: 10_000,
  maxOutputChars: 10_000,
};

/** Batches sent to one worker ahead of time, so it never waits for the host between batches. */
const PIPELINE_DEPTH = 2;
/** Most programs in one batch (one IPC message each way). */
const MAX_BATCH = 32;

/** Counters since the pool was created. */
export interface SandboxStats {
  poolSize: number;
  /** Programs run (calls to run() that returned). */
  programs: number;
  /** Tests run, over all programs. */
  tests: number;
  /** Programs by their overall outcome. */
  outcomes: Record<Outcome, number>;
  /** Worker processes started, and how many died under a program (and were replaced). */
  workersStarted: number;
  workersLost: number;
  /** Isolates thrown away inside workers (after a timeout, memory limit or heap growth). */
  isolatesRecycled: number;
  /** Programs sent to workers and not finished, and programs waiting to be sent. */
  busy: number;
  queued: number;
  /** Total wall time of all runs, in ms. */
  totalMs: number;
}

function checkOptions(options: SandboxOptions): Required<SandboxOptions> {
  const merged = { ...DEFAULTS, ...options };
  const rules: Array<[keyof SandboxOptions, number]> = [
    ["poolSize", 1],
    ["memoryMb", 8],
    ["timeoutMs", 1],
    ["maxValueChars", 16],
    ["maxOutputChars", 1],
  ];
  for (const [field, min] of rules) {
    const value = merged[field];
    if (!Number.isInteger(value) || value < min) {
      throw new RangeError(`SandboxOptions.${field} must be an integer >= ${min} (got ${value})`);
    }
  }
  return merged;
}

export class SandboxPool {
  private readonly options: Required<SandboxOptions>;
  private readonly limits: HarnessLimits;
  private readonly queue: Job[] = [];
  private readonly workers: SandboxProcess[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  private dispatchScheduled = false;
  private readonly counters: SandboxStats;

  constructor(options: SandboxOptions = {}) {
    this.options = checkOptions(options);
    this.limits = {
      maxValueChars: this.options.maxValueChars,
      maxOutputChars: this.options.maxOutputChars,
      resultCapacity: MAX_TESTS_PER_PROGRAM * recordCapacity(this.options.maxValueChars),
    };
    this.counters = {
      poolSize: this.options.poolSize,
      programs: 0,
      tests: 0,
      outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
      workersStarted: 0,
      workersLost: 0,
      isolatesRecycled: 0,
      busy: 0,
      queued: 0,
      totalMs: 0,
    };
  }

  /**
   * Runs one program (the source of one JavaScript function expression) on every test, all
   * tests in one call into one isolate.
   * @throws for malformed tests (see validate.ts), a closed pool, or a sandbox that cannot start;
   *   never for anything the program does.
   */
  run(code: string, tests: readonly TestCase[]): Promise<RunResult> {
    const promise = this.runInner(code, tests);
    this.inFlight.add(promise);
    const forget = (): void => void this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private async runInner(code: string, tests: readonly TestCase[]): Promise<RunResult> {
    if (this.closed) throw new Error("SandboxPool is closed");
    if (typeof code !== "string") throw new TypeError(`code must be a string (got ${typeof code})`);
    const { inputs, expected } = prepareTests(tests, this.options.maxValueChars);
    const start = performance.now();
    let run: ProgramRun;
    if (code.length > MAX_PROGRAM_CHARS) {
      const message = `program is longer than ${MAX_PROGRAM_CHARS} characters`;
      const record = { kind: "S" as const, printedTooMuch: false, text1: "SyntaxError", text2: message };
      run = { records: tests.map(() => record), output: "" };
    } else {
      run = await new Promise<ProgramRun>((resolve, reject) => {
        this.queue.push({ code, inputs, resolve, reject });
        this.scheduleDispatch();
      });
    }
    const results = classifyRun(run, tests, expected);
    const outcome = overallOutcome(results);
    const ms = performance.now() - start;
    this.counters.programs += 1;
    this.counters.tests += tests.length;
    this.counters.outcomes[outcome] += 1;
    this.counters.totalMs += ms;
    return { outcome, tests: results, output: run.output, ms };
  }

  /** Counters since creation (a copy). */
  stats(): SandboxStats {
    const busy = this.workers.reduce((sum, w) => sum + w.programsInFlight, 0);
    return { ...this.counters, outcomes: { ...this.counters.outcomes }, busy, queued: this.queue.length };
  }

  /** Waits for programs already sent to a worker, rejects queued ones, and stops the workers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error("SandboxPool is closed"));
    await Promise.allSettled([...this.inFlight]);
    for (const worker of this.workers.splice(0)) worker.kill();
  }

  /**
   * Dispatches on the next turn of the event loop, so that programs submitted together (e.g.
   * `Promise.all` over a group of candidates, or the callers a finished batch wakes up) travel
   * in one batch instead of one message each.
   */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  /**
   * Sends queued programs, in batches, to the least busy worker, starting workers up to
   * poolSize. Batches share the queue between the workers (at most MAX_BATCH programs each); a
   * program marked `alone` goes in a batch of its own.
   */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      let target: SandboxProcess | undefined;
      for (const worker of this.workers) {
        if (!worker.isAlive || worker.batchesInFlight >= PIPELINE_DEPTH) continue;
        if (target === undefined || worker.programsInFlight < target.programsInFlight) target = worker;
      }
      if ((target === undefined || target.programsInFlight > 0) && this.workers.length < this.options.poolSize) {
        target = this.startWorker();
      }
      if (target === undefined) return;
      const size = Math.min(MAX_BATCH, Math.ceil(this.queue.length / this.options.poolSize));
      const batch: Job[] = [this.queue.shift() as Job];
      while (!batch[0].alone && batch.length < size && this.queue.length > 0 && !this.queue[0].alone) {
        batch.push(this.queue.shift() as Job);
      }
      target.send(batch);
    }
  }

  private startWorker(): SandboxProcess {
    this.counters.workersStarted += 1;
    const worker: SandboxProcess = new SandboxProcess(this.limits, this.options.memoryMb, this.options.timeoutMs, {
      onBatchDone: (recycled) => {
        this.counters.isolatesRecycled += recycled;
        this.scheduleDispatch();
      },
      onExit: (suspects, unrun) => {
        const index = this.workers.indexOf(worker);
        if (index >= 0) this.workers.splice(index, 1);
        if (!this.closed) this.counters.workersLost += 1;
        for (const job of suspects) job.alone = true;
        this.queue.unshift(...suspects, ...unrun);
        this.scheduleDispatch();
      },
    });
    this.workers.push(worker);
    return worker;
  }
}
