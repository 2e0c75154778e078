/**
 * SandboxPool: runs model-written JavaScript programs against tests, in a pool of reused V8
 * isolates. `await pool.run("(xs, k) => xs.map(x => x * k)", tests)` gives a RunResult.
 *
 * Security model (why one program can neither harm the host nor affect a later program):
 * 1. Separation from the host: every slot is its own V8 isolate (isolated-vm): separate heap, no
 *    `process`, `require`, file system, network, timers or host objects; nothing of the host is
 *    passed in except copies of the inputs and the harness's shared result buffer, which only
 *    the harness can reach. Each isolate has a memory limit (`memoryMb`); each program a
 *    wall-clock limit (`timeoutMs`, all tests in one call) that interrupts CPU-bound loops, with
 *    a host timer as a backstop that disposes the isolate. Return values and printed output
 *    are capped (`maxValueChars`, `maxOutputChars`).
 * 2. Separation between programs sharing a context (reuse is what makes the pool fast): before
 *    any program runs, the harness deep-freezes every object reachable from `globalThis` and
 *    from syntax (generator, async and iterator prototypes, %ThrowTypeError%), including
 *    `globalThis` itself, and checks the result by walking again. All state a later program can
 *    observe lives in such objects, so no program can change it: assignments fail (silently in
 *    sloppy mode, as for any frozen object), new globals cannot be created, prototypes cannot
 *    be polluted, built-ins cannot be replaced, and a closure cannot be stashed anywhere shared.
 *    The few engine-internal channels that are not properties are removed: RegExp's legacy
 *    statics (`RegExp.$1`, `RegExp.input`), and the globals that run code or share memory
 *    outside a call (`Atomics`, `SharedArrayBuffer`, `WebAssembly`, `FinalizationRegistry`,
 *    `WeakRef`). The harness keeps its state in closure variables, reset at every call; it runs
 *    in strict mode so `fn.caller` cannot reach it; expected values never enter the isolate
 *    (the host compares renderings), so a program cannot read them.
 * 3. A slot whose run timed out, hit the memory limit or failed in any unexpected way is disposed
 *    and replaced; so is a slot whose heap has grown past half its limit (checked every 64
 *    runs), so garbage a program leaves behind cannot push a later one over the limit.
 *
 * Differences from running the program in plain Node (all follow from the above, documented):
 * implicit globals do not work (`i = 0` without `let` is silently ignored, then reading `i` is a
 * ReferenceError), `RegExp.$1`-style statics, `Atomics`, `SharedArrayBuffer`, `WebAssembly`,
 * `WeakRef` and `FinalizationRegistry` are absent, `console.log` renders values with the
 * canonical renderer instead of util.inspect, and `import()` is rejected.
 *
 * Outcomes per test: see classify.ts. Program text that is not one balanced expression, or does
 * not compile, is `syntax_error` on every test; an expression that throws, or is not a function
 * ("program is not a function (it evaluated to number)", type TypeError), is `runtime_error` on
 * every test. After a timeout or memory limit the remaining tests are not run and get the same
 * outcome.
 */
import type { TestCase } from "../tasks/types";
import type { Outcome, RunResult, SandboxOptions } from "./types";
import { OUTCOMES } from "./types";
import { classifyRun, overallOutcome } from "./classify";
import { recordCapacity, type HarnessLimits } from "./harness";
import { SandboxSlot } from "./slot";
import { MAX_PROGRAM_CHARS, MAX_TESTS_PER_PROGRAM, prepareTests } from "./validate";

const DEFAULTS: Required<SandboxOptions> = {
  poolSize: 2,
  memoryMb: 64,
  timeoutMs: 1000,
  maxValueChars: 10_000,
  maxOutputChars: 10_000,
};

/** A slot's heap is checked after this many runs and replaced above half the memory limit. */
const HEAP_CHECK_EVERY = 64;

/** Counters since the pool was created. */
export interface SandboxStats {
  poolSize: number;
  /** Programs run (calls to run() that returned). */
  programs: number;
  /** Tests run, over all programs. */
  tests: number;
  /** Programs by their overall outcome. */
  outcomes: Record<Outcome, number>;
  /** Isolates created, and how many of them were thrown away and replaced. */
  isolatesCreated: number;
  isolatesReplaced: number;
  /** Runs currently executing, and waiting for a free slot. */
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
  private readonly idle: SandboxSlot[] = [];
  private readonly waiting: Array<{ resolve: (slot: SandboxSlot) => void; reject: (e: Error) => void }> = [];
  private readonly runsSinceCheck = new Map<SandboxSlot, number>();
  private alive = 0; // slots created or being created, not yet disposed
  private creating = 0; // slots being created
  private closed = false;
  private inFlight = new Set<Promise<unknown>>();
  private counters: SandboxStats;

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
      isolatesCreated: 0,
      isolatesReplaced: 0,
      busy: 0,
      queued: 0,
      totalMs: 0,
    };
  }

  /**
   * Runs one program (the source of one JavaScript function expression) on every test, all
   * tests in one call into one isolate.
   * @throws for malformed tests (see validate.ts) or a closed pool; never for anything the
   *   program does.
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
    let run;
    if (code.length > MAX_PROGRAM_CHARS) {
      const error = { type: "SyntaxError", message: `program is longer than ${MAX_PROGRAM_CHARS} characters` };
      run = { records: tests.map(() => ({ kind: "S" as const, printedTooMuch: false, text1: error.type, text2: error.message })), output: "" };
    } else {
      const slot = await this.acquire();
      this.counters.busy += 1;
      try {
        run = await slot.run(code, inputs, this.options.timeoutMs);
      } finally {
        this.counters.busy -= 1;
        this.release(slot);
      }
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
    return { ...this.counters, outcomes: { ...this.counters.outcomes }, queued: this.waiting.length };
  }

  /** Waits for running programs, rejects queued ones, and disposes every isolate. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error("SandboxPool is closed"));
    await Promise.allSettled([...this.inFlight]);
    for (const slot of this.idle.splice(0)) this.retire(slot);
  }

  private acquire(): Promise<SandboxSlot> {
    const slot = this.idle.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.growIfNeeded();
    });
  }

  /** Starts creating slots while runs wait for more slots than are being created. */
  private growIfNeeded(): void {
    while (this.alive < this.options.poolSize && this.waiting.length > this.creating) {
      this.alive += 1;
      this.creating += 1;
      this.counters.isolatesCreated += 1;
      SandboxSlot.create(this.limits, this.options.memoryMb).then(
        (slot) => {
          this.creating -= 1;
          if (this.closed) this.retire(slot);
          else this.offer(slot);
        },
        (error: Error) => {
          this.creating -= 1;
          this.alive -= 1;
          this.waiting.shift()?.reject(error);
        },
      );
    }
  }

  /** Gives a usable slot to the first waiting run, or keeps it idle. */
  private offer(slot: SandboxSlot): void {
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter.resolve(slot);
    else this.idle.push(slot);
  }

  /** Disposes a slot for good; a replacement is created when a run needs it. */
  private retire(slot: SandboxSlot): void {
    slot.dispose();
    this.runsSinceCheck.delete(slot);
    this.alive -= 1;
    if (!this.closed) {
      this.counters.isolatesReplaced += 1;
      this.growIfNeeded();
    }
  }

  /** After a run: reuse the slot, or replace it if it stopped abnormally or its heap grew. */
  private release(slot: SandboxSlot): void {
    if (!slot.isUsable || this.closed || this.heapGrewTooMuch(slot)) this.retire(slot);
    else this.offer(slot);
  }

  private heapGrewTooMuch(slot: SandboxSlot): boolean {
    const runs = (this.runsSinceCheck.get(slot) ?? 0) + 1;
    if (runs < HEAP_CHECK_EVERY) {
      this.runsSinceCheck.set(slot, runs);
      return false;
    }
    this.runsSinceCheck.set(slot, 0);
    return slot.usedHeapBytes() > (this.options.memoryMb * 1024 * 1024) / 2;
  }
}
