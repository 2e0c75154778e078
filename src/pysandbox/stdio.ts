/**
 * Running a program on one stdin/stdout test: a fresh sandbox per test, the test's input on its
 * stdin, its stdout compared by the host (compare.ts). The verdict needs no checker process: the
 * program's output IS the answer, and the host compares it with an expected output the program
 * never sees. What the program reports on fd 4 (an uncaught error) only refines a failure.
 */
import type { Readable } from "node:stream";
import type { Outcome } from "../sandbox/types";
import { PROGRAM_HARNESS, stopFromExit } from "./calls";
import type { ResolvedOptions } from "./command";
import { outputMatches } from "./compare";
import { BoundedText, readJsonLines, Sandboxed } from "./spawn";
import type { PyTest, PyTestResult } from "./types";

/** Characters of the output shown as "got" (the whole output is compared). */
const SHOWN_CHARS = 300;

function shown(text: string): string {
  return text.length <= SHOWN_CHARS ? text : text.slice(0, SHOWN_CHARS - 3) + "...";
}

export interface StdioRun {
  result: PyTestResult;
  /** What the program printed on stderr (bounded). */
  errors: string;
  /** The program did not compile (the same for every input). */
  syntaxError: boolean;
}

export async function runStdioTest(code: string, context: string, test: Extract<PyTest, { kind: "stdio" }>, options: ResolvedOptions): Promise<StdioRun> {
  const stdout = new BoundedText(Math.max(options.maxOutputChars, 2 * test.output.length + 1024));
  const stderr = new BoundedText(Math.min(options.maxOutputChars, 10_000));
  let timedOut = false;
  let overflowed = false;
  let reported: { outcome: Outcome; type: string; message: string; load: boolean } | undefined;

  const runner = new Sandboxed(PROGRAM_HARNESS, options, true);
  const timer = setTimeout(() => {
    timedOut = true;
    runner.kill();
  }, options.timeoutMs);
  runner.child.stdout?.setEncoding("utf8");
  runner.child.stdout?.on("data", (chunk: string) => {
    stdout.add(chunk);
    if (stdout.overflow && !overflowed) {
      overflowed = true;
      runner.kill();
    }
  });
  runner.child.stderr?.setEncoding("utf8");
  runner.child.stderr?.on("data", (chunk: string) => stderr.add(chunk));
  readJsonLines(runner.messages as Readable, 64 * 1024, (message) => {
    if (!message || reported) return;
    const info = (message.load_error ?? message.error) as Record<string, unknown> | undefined;
    if (!info || typeof info !== "object") return;
    const type = String(info.type ?? "Error").slice(0, 100);
    const outcome: Outcome = type === "MemoryError" ? "memory_limit" : message.load_error && info.outcome === "syntax_error" ? "syntax_error" : "runtime_error";
    reported = { outcome, type, message: String(info.message ?? "").slice(0, 1000), load: Boolean(message.load_error) };
  });
  runner.input.end(JSON.stringify({ code, context, mode: "stdio" }) + "\n");
  runner.stdin.end(test.input);

  try {
    const exit = await runner.exited;
    let result: PyTestResult;
    if (overflowed) result = { outcome: "output_limit", test, got: shown(stdout.text) };
    else if (timedOut) result = { outcome: "timeout", test };
    else if (reported) result = { outcome: reported.outcome, test, error: { type: reported.type, message: reported.message } };
    else if (exit.code !== 0) result = { ...stopFromExit(exit, false), test };
    else if (outputMatches(stdout.text, test.output)) result = { outcome: "passed", test };
    else result = { outcome: "wrong_answer", test, got: shown(stdout.text), expected: shown(test.output) };
    return { result, errors: stderr.text, syntaxError: reported?.load === true && result.outcome === "syntax_error" };
  } finally {
    clearTimeout(timer);
    runner.kill();
  }
}
