/**
 * The parent's handle on one sandbox worker process (worker.ts): starts it, sends it batches of
 * programs (up to two batches ahead, so the worker never waits for the host), decodes its
 * answers, and kills it when it stops answering.
 *
 * When the worker dies, only the batch it was running is affected. If that batch held a single
 * program, the program caused it: it gets `memory_limit` when V8 reported running out of memory
 * (isolated-vm prints "is_heap_oom" before aborting), `timeout` when the watchdog killed the
 * worker, a runtime error of type "SandboxError" when V8 printed a fatal error, and otherwise it
 * is run once more on a fresh worker before being blamed. A larger batch is handed back as
 * "suspects", to be run again one program per batch, so the culprit is found exactly and the
 * other programs get their real results. Batches queued behind it are handed back unrun.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Value } from "../tasks/types";
import { HARNESS_SOURCE, TEXT_OFFSET_BYTES, type HarnessLimits } from "./harness";
import { decodeRecords, type ProgramRun, type StopReason } from "./records";
import { WORKER_SOURCE } from "./worker";

/** A program waiting for, or being run by, a worker. */
export interface Job {
  code: string;
  inputs: Value[][];
  /** Run this program in a batch of its own (it was in a batch whose worker died). */
  alone?: boolean;
  /** The worker died running this program alone, for no reason it could report: one more try. */
  retried?: boolean;
  resolve: (run: ProgramRun) => void;
  reject: (error: Error) => void;
}

/** Extra wall time per program, beyond its own limit, before a silent worker is killed. */
export const WATCHDOG_PER_PROGRAM_MS = 250;
export const WATCHDOG_GRACE_MS = 2000;
/** Time a new worker gets to start Node, load isolated-vm and lock down its first isolate. */
export const STARTUP_MS = 15_000;

interface ProgramResult {
  completed: number;
  resultText: string;
  outputText: string;
  stopped?: StopReason;
  detail?: string;
  syntaxError?: string;
  recycled: boolean;
}

type WorkerMessage =
  | { type: "ready" }
  | { type: "fatal"; message: string }
  | { type: "results"; id: number; results: ProgramResult[] };

export interface ProcessEvents {
  /** A batch finished (its jobs are settled); `recycled`: isolates the worker replaced. */
  onBatchDone(recycled: number): void;
  /** The worker died: `suspects` must be re-run one per batch, `unrun` were never started. */
  onExit(suspects: Job[], unrun: Job[]): void;
}

const isolatedVmPath = require.resolve("isolated-vm");

export class SandboxProcess {
  private readonly child: ChildProcess;
  private readonly batches: Array<{ id: number; jobs: Job[] }> = [];
  private nextId = 0;
  private ready = false;
  private dead = false;
  private watchdog: NodeJS.Timeout | undefined;
  private watchdogFired = false;
  private stderrTail = "";
  private fatalLine: string | undefined;

  constructor(
    limits: HarnessLimits,
    memoryMb: number,
    private readonly timeoutMs: number,
    private readonly events: ProcessEvents,
  ) {
    // --single-threaded-gc: every program is short-lived garbage, and on a 2-core machine V8's
    // concurrent GC helper threads compete with the workers themselves (bench/sandbox.ts,
    // alternating runs with and without the flag: 3% to 20% more programs/s with it).
    const flags = ["--no-node-snapshot", "--single-threaded-gc"];
    this.child = spawn(process.execPath, [...flags, "-e", WORKER_SOURCE, isolatedVmPath], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      serialization: "advanced",
    });
    // V8 prints its out-of-memory report on the worker's stderr: keep the tail. The stream must
    // not keep the host alive by itself (the IPC channel does that while programs are running).
    (this.child.stderr as (NodeJS.ReadableStream & { unref?: () => void }) | null)?.unref?.();
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
      // V8 states why it aborted on a line of its own: "# Fatal JavaScript invalid size error ...".
      for (const match of chunk.matchAll(/^#\s*(Fatal.*\S)\s*$/gm)) this.fatalLine = match[1];
    });
    this.child.on("message", (message: WorkerMessage) => this.onMessage(message));
    this.child.on("exit", (code, signal) => this.onExit(code, signal));
    // "error" without a pid: the process could not be spawned at all, and no "exit" will follow.
    this.child.on("error", () => (this.child.pid === undefined ? this.onExit(null, null) : this.kill()));
    const bufferBytes = TEXT_OFFSET_BYTES + 2 * (limits.resultCapacity + limits.maxOutputChars);
    this.child.send({ type: "init", harnessSource: HARNESS_SOURCE, limits, memoryMb, bufferBytes, timeoutMs });
    this.armWatchdog(STARTUP_MS);
  }

  /** Batches sent and not answered. */
  get batchesInFlight(): number {
    return this.batches.length;
  }

  /** Programs sent and not answered. */
  get programsInFlight(): number {
    return this.batches.reduce((sum, b) => sum + b.jobs.length, 0);
  }

  get isAlive(): boolean {
    return !this.dead;
  }

  /** Sends a batch; the worker runs batches, and the programs in them, in the order sent. */
  send(jobs: Job[]): void {
    const id = this.nextId++;
    this.batches.push({ id, jobs });
    this.child.ref();
    this.channel()?.ref();
    this.child.send({ type: "batch", id, jobs: jobs.map((j) => ({ code: j.code, inputs: j.inputs })) });
    if (this.ready && this.batches.length === 1) this.armWatchdogForHead();
  }

  /** Kills the worker at once (SIGKILL: a worker stuck in a fatal V8 error cannot exit normally). */
  kill(): void {
    if (!this.dead) this.child.kill("SIGKILL");
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === "ready") {
      this.ready = true;
      if (this.batches.length > 0) this.armWatchdogForHead();
      else this.disarmWatchdog();
      return;
    }
    if (message.type === "fatal") {
      const error = new Error(`sandbox worker: ${message.message}`);
      for (const batch of this.batches.splice(0)) for (const job of batch.jobs) job.reject(error);
      this.kill();
      return;
    }
    const batch = this.batches.shift();
    if (batch === undefined || batch.id !== message.id || batch.jobs.length !== message.results.length) {
      // Cannot happen with the worker as written; fail loudly rather than mis-assign results.
      const error = new Error(`sandbox: worker answered batch ${message.id} out of order`);
      for (const b of [batch, ...this.batches.splice(0)]) for (const job of b?.jobs ?? []) job.reject(error);
      this.kill();
      return;
    }
    if (this.batches.length > 0) this.armWatchdogForHead();
    else {
      this.disarmWatchdog();
      this.child.unref(); // an idle worker must not keep the host's event loop alive
      this.channel()?.unref();
    }
    let recycled = 0;
    batch.jobs.forEach((job, i) => {
      const result = message.results[i];
      if (result.recycled) recycled += 1;
      try {
        job.resolve({
          records: decodeRecords(result.resultText, result.completed),
          output: result.outputText,
          stopped: result.stopped,
          detail: result.detail,
          syntaxError: result.syntaxError,
        });
      } catch (error) {
        job.reject(error as Error);
      }
    });
    this.events.onBatchDone(recycled);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.dead) return;
    this.dead = true;
    this.disarmWatchdog();
    const tail = this.stderrTail.trim().split("\n").slice(-3).join(" | ");
    if (!this.ready) {
      // Not a program's doing: the worker could not even start (e.g. isolated-vm missing).
      const error = new Error(`sandbox worker failed to start (code ${code}, signal ${signal}): ${tail}`);
      for (const batch of this.batches.splice(0)) for (const job of batch.jobs) job.reject(error);
      this.events.onExit([], []);
      return;
    }
    const running = this.batches.shift();
    const unrun = this.batches.splice(0).flatMap((b) => b.jobs);
    let suspects: Job[] = [];
    if (running !== undefined && running.jobs.length > 1) {
      suspects = running.jobs;
    } else if (running !== undefined) {
      const job = running.jobs[0];
      if (this.watchdogFired) {
        job.resolve({ records: [], output: "", stopped: "timeout" });
      } else if (/is_heap_oom|out of memory|Allocation failed/i.test(this.stderrTail)) {
        job.resolve({ records: [], output: "", stopped: "memory_limit" });
      } else if (!job.retried && this.fatalLine === undefined) {
        // Nothing says this program killed the worker (it may have been killed from outside):
        // run it once more, alone, on a fresh worker before blaming it.
        job.retried = true;
        suspects = [job];
      } else {
        const how = signal !== null ? `signal ${signal}` : `code ${code}`;
        const detail = this.fatalLine !== undefined
          ? `V8 aborted the sandbox worker (${how}) while running this program: ${this.fatalLine}`
          : `the sandbox worker died (${how}) while running this program, twice${tail ? `: ${tail}` : ""}`;
        job.resolve({ records: [], output: "", stopped: "crashed", detail });
      }
    }
    this.events.onExit(suspects, unrun);
  }

  // The head batch must finish within its programs' time limits plus some slack.
  private armWatchdogForHead(): void {
    const programs = this.batches[0].jobs.length;
    this.armWatchdog(programs * (this.timeoutMs + WATCHDOG_PER_PROGRAM_MS) + WATCHDOG_GRACE_MS);
  }

  private armWatchdog(ms: number): void {
    this.disarmWatchdog();
    this.watchdog = setTimeout(() => {
      this.watchdogFired = true;
      this.kill();
    }, ms);
  }

  private disarmWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private channel(): { ref(): void; unref(): void } | undefined {
    return (this.child as unknown as { channel?: { ref(): void; unref(): void } }).channel;
  }
}
