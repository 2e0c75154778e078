/**
 * Running a program on assert / functional / pytest tests: two sandboxes per program.
 *
 *   host --program text--> [program sandbox: program.py]  <--requests / data replies-->
 *                          [checker sandbox: checker.py runs the tests]  --verdicts--> host
 *
 * The host relays the two processes' request and reply pipes and reads verdicts only from the
 * checker's result channel. Why this holds against a hostile program (it can run any Python in
 * its process, and may patch builtins, call os._exit, print fake markers, patch its harness,
 * write anything to any of its file descriptors):
 * - the verdict is computed in the checker, a different process in a different sandbox (own pid
 *   namespace: the program cannot see, signal or trace it), and the checker never runs program
 *   code: it receives plain data only, rebuilt with the built-in types (program.py / checker.py);
 * - the only thing the program can write that the checker reads is its replies, and a reply can
 *   only claim "the call returned this data" or "raised this exception", which is exactly what
 *   an honest program does: there is nothing more to forge;
 * - the expected values never leave the checker, so the program cannot read them;
 * - whatever the program prints goes to its own stdout/stderr, which the host only keeps as
 *   printed output (bounded), never parses;
 * - if the program's process ends or hangs, the checker gets no answer: the pending test and
 *   every later one fail (the outcome says why: exit, crash, timeout, limits).
 * Outcomes after a stop (timeout, crash, exit, output limit) follow the JavaScript sandbox: the
 * tests before keep their results, the interrupted one and the rest get the stop's outcome.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import type { Outcome } from "../sandbox/types";
import { worstOutcome } from "../sandbox/types";
import type { ResolvedOptions } from "./command";
import { BoundedText, exitSignal, readJsonLines, Sandboxed, signalName, type Exit } from "./spawn";
import type { PyProgram, PyRunResult, PyTestResult } from "./types";

/**
 * Python starts with -S (no `site`): no .pth file of the host runs at startup, and it starts
 * faster. The system's package folders are added by hand, so programs can still import what the
 * system has installed (numpy on Debian).
 */
const PACKAGES = `import sys as _sys, os as _os
_v = "%d.%d" % _sys.version_info[:2]
_sys.path += [p for p in ("/usr/lib/python3/dist-packages", "/usr/local/lib/python" + _v + "/dist-packages",
                          "/usr/lib/python" + _v + "/site-packages") if _os.path.isdir(p)]
del _sys, _os, _v
`;

export const PROGRAM_HARNESS = PACKAGES + fs.readFileSync(path.join(__dirname, "program.py"), "utf8");
export const CHECKER_HARNESS = PACKAGES + fs.readFileSync(path.join(__dirname, "checker.py"), "utf8");

/** Longest verdict line accepted from the checker (it caps every field it reports). */
const MAX_EVENT_CHARS = 64 * 1024;
/** Longest error message kept. */
const MAX_MESSAGE_CHARS = 1000;

type Stop = { outcome: Outcome; error?: { type: string; message: string } };

const OUTCOME_NAMES = new Set<string>(["passed", "wrong_answer", "runtime_error", "output_limit", "timeout", "memory_limit", "syntax_error"]);

function text(value: unknown, max = MAX_MESSAGE_CHARS): string {
  return String(value ?? "").slice(0, max);
}

/** What ended a program's process in the middle of a test, from its sandbox's exit status. */
export function stopFromExit(exit: Exit, timedOut: boolean): Stop {
  if (timedOut) return { outcome: "timeout" };
  const signal = exitSignal(exit);
  if (signal === 9 || signal === 24) return { outcome: "timeout" }; // CPU-time limit (SIGXCPU, then SIGKILL)
  if (signal !== null) {
    return { outcome: "runtime_error", error: { type: "Crash", message: `the program's process was killed by ${signalName(signal)} (e.g. recursion deeper than the stack)` } };
  }
  return { outcome: "runtime_error", error: { type: "SystemExit", message: `the program's process exited with code ${exit.code}` } };
}

/** The checker's report of one test, validated (it is trusted, but its fields must make sense). */
function testResult(event: Record<string, unknown>, program: PyProgram, index: number): PyTestResult {
  const outcome = OUTCOME_NAMES.has(String(event.outcome)) ? (event.outcome as Outcome) : "runtime_error";
  const result: PyTestResult = { outcome, test: program.tests[index] };
  if (typeof event.call === "string") result.call = text(event.call);
  if (typeof event.got === "string") result.got = text(event.got);
  if (typeof event.expected === "string") result.expected = text(event.expected);
  const error = event.error as { type?: unknown; message?: unknown } | undefined;
  if (error && typeof error === "object") result.error = { type: text(error.type, 100), message: text(error.message) };
  return result;
}

export async function runCalls(program: PyProgram, options: ResolvedOptions): Promise<PyRunResult> {
  const started = performance.now();
  const results: (PyTestResult | undefined)[] = program.tests.map(() => undefined);
  const output = new BoundedText(options.maxOutputChars);
  const checkerErrors = new BoundedText(4000);
  let stop: { at: number; stop: Stop } | { at: number; gone: true } | undefined;
  let loadError: Stop | undefined;
  let done = false;
  let loaded = false;
  let timedOut = false;
  let overflowed = false;

  const runner = new Sandboxed(PROGRAM_HARNESS, options, false);
  const checker = new Sandboxed(CHECKER_HARNESS, options, true);
  const killAll = (): void => {
    runner.kill();
    checker.kill();
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killAll();
  }, options.timeoutMs);

  runner.capture(output, () => {
    overflowed = true;
    killAll();
  });
  checker.child.stderr?.setEncoding("utf8");
  checker.child.stderr?.on("data", (chunk: string) => checkerErrors.add(chunk));

  readJsonLines(checker.child.stdout as Readable, MAX_EVENT_CHARS, (event) => {
    if (event === null || done || stop) return;
    if (typeof event.test === "number" && Number.isInteger(event.test) && event.test >= 0 && event.test < results.length) {
      results[event.test] = testResult(event, program, event.test);
    } else if (event.load_error && typeof event.load_error === "object") {
      const info = event.load_error as Record<string, unknown>;
      const type = text(info.type, 100);
      const outcome: Outcome = type === "MemoryError" ? "memory_limit" : info.outcome === "syntax_error" ? "syntax_error" : "runtime_error";
      loadError = { outcome, error: { type, message: text(info.message) } };
      done = true;
    } else if (event.loaded === true) {
      loaded = true;
    } else if (typeof event.gone === "number") {
      stop = { at: event.gone, gone: true };
    } else if (typeof event.stop === "number") {
      stop = { at: event.stop, stop: { outcome: event.outcome === "output_limit" ? "output_limit" : "runtime_error" } };
    } else if (event.done === true) {
      done = true;
    }
  });

  // The program first, then the checker's requests, on the program's fd 3; its replies to the checker.
  runner.input.write(JSON.stringify({ code: program.code, context: program.context ?? "", mode: "calls" }) + "\n");
  checker.messages.pipe(runner.input);
  runner.messages.pipe(checker.input);
  checker.stdin.end(JSON.stringify({ setup: program.setup ?? "", names: program.names ?? [], tests: program.tests }));

  try {
    await checker.exited;
    // The verdicts are in; nothing the program still does matters (threads it left, loops).
    // Only a program that went away is waited for, for its exit status.
    if (!(stop && "gone" in stop)) runner.kill();
    const runnerExit = await runner.exited;
    clearTimeout(timer);

    let fill: Stop | undefined;
    let from = results.length;
    if (loadError) {
      fill = loadError;
      from = 0;
    } else if (!done) {
      from = stop ? stop.at : results.findIndex((r) => r === undefined);
      if (from < 0) from = results.length;
      if (overflowed) fill = { outcome: "output_limit" };
      else if (timedOut) fill = { outcome: "timeout" };
      else if (stop && "stop" in stop) fill = stop.stop;
      else if (stop && "gone" in stop) fill = stopFromExit(runnerExit, false);
      else {
        const last = checkerErrors.text.trim().split("\n").pop() ?? "";
        fill = { outcome: "runtime_error", error: { type: "SandboxError", message: `the checker stopped: ${last}`.slice(0, MAX_MESSAGE_CHARS) } };
      }
    }
    const tests = program.tests.map((test, i): PyTestResult => {
      const kept = results[i];
      if (kept !== undefined && (fill === undefined || i < from)) return kept;
      const stopped = fill ?? { outcome: "runtime_error" as Outcome, error: { type: "SandboxError", message: "no verdict" } };
      return stopped.error ? { outcome: stopped.outcome, test, error: { ...stopped.error } } : { outcome: stopped.outcome, test };
    });
    const outcome = tests.reduce<Outcome>((worst, t) => worstOutcome(worst, t.outcome), "passed");
    const result: PyRunResult = { outcome, tests, output: output.text, ms: performance.now() - started };
    // A program that never finished loading failed as a whole, before any test: say so.
    if (loadError) result.loadError = loadError;
    else if (!loaded && fill && program.tests.length > 0) result.loadError = { outcome: fill.outcome, ...(fill.error ? { error: fill.error } : {}) };
    return result;
  } finally {
    clearTimeout(timer);
    killAll();
  }
}
