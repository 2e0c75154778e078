/**
 * The sandbox worker: JavaScript source text run as a child process (`node -e WORKER_SOURCE
 * <path of isolated-vm>`). It owns one V8 isolate at a time, locked down by the harness, and
 * runs the programs the parent sends it in batches, one after the other.
 *
 * Why a separate process: V8 (11.3, isolated-vm 5.0.4) cannot always stop a program at the
 * memory limit. Some single large allocations (a Map growing in a loop, `new Array(2 ** 26)
 * .fill(0)`, flattening a huge doubled string) hit V8's fatal out-of-memory path, and then
 * isolated-vm prints V8's heap statistics and aborts the process. Inside this worker that is
 * survivable: the parent sees the worker die, reports the program as `memory_limit`, and starts
 * a new worker. The parent also kills a worker that stops answering (watchdog).
 *
 * Why synchronous calls and batches: on this machine a call into an isolate through
 * isolated-vm's thread pool, and one IPC message per program, each cost more than running a
 * small program. So the worker calls the harness with `applySync` (the isolate runs on the
 * worker's main thread, still bounded by isolated-vm's per-call timeout) and answers a whole
 * batch with one message.
 *
 * Messages (Node IPC, structured clone, so -0, NaN and Infinity in inputs survive):
 *   parent -> worker: {type: "init", harnessSource, limits, memoryMb, bufferBytes, timeoutMs}
 *                     {type: "batch", id, jobs: [{code, inputs}]}
 *   worker -> parent: {type: "ready"} | {type: "fatal", message}
 *                     {type: "results", id, results: [{completed, resultText, outputText,
 *                      stopped?, detail?, syntaxError?, recycled}]}
 * `resultText` / `outputText` are the raw texts of the harness's result buffer (see harness.ts);
 * the parent decodes them. `syntaxError` is the program's own compile error with its position
 * (ownSyntaxError below), when the harness reported that it does not compile. `recycled` says the worker disposed its isolate after this program
 * (it stopped abnormally, or its heap grew past half the limit); the next gets a fresh one.
 */
import {
  H_COMPLETED,
  H_OUTPUT_CHARS,
  H_RESULT_CHARS,
  H_STATE,
  HEADER_WORDS,
  STATE_FINISHED,
  TEXT_OFFSET_BYTES,
} from "./harness";

/** The isolate's heap is checked after this many programs and replaced above half the limit. */
export const HEAP_CHECK_EVERY = 64;

export const WORKER_SOURCE = String.raw`
"use strict";
const ivm = require(process.argv[1]);

let config = null;   // the init message
let slot = null;     // {isolate, context, entry, buffer, header}
let programsSinceHeapCheck = 0;

function createSlot() {
  // No onCatastrophicError handler on purpose: without one, a fatal V8 error aborts this
  // process at once, which the parent detects; with one, isolated-vm would park this thread.
  const isolate = new ivm.Isolate({ memoryLimit: config.memoryMb });
  const buffer = new SharedArrayBuffer(config.bufferBytes);
  const context = isolate.createContextSync();
  const entry = context.evalClosureSync(
    config.harnessSource,
    [new ivm.ExternalCopy(buffer).copyInto(), new ivm.ExternalCopy(config.limits).copyInto()],
    { result: { reference: true }, timeout: 10000 },
  );
  return { isolate, context, entry, buffer, header: new Int32Array(buffer, 0, ${HEADER_WORDS}) };
}

function disposeSlot() {
  try { slot.isolate.dispose(); } catch (_) { /* already disposed by isolated-vm */ }
  slot = null;
}

function readText(start, length) {
  return Buffer.from(slot.buffer, ${TEXT_OFFSET_BYTES} + 2 * start, 2 * length).toString("utf16le");
}

function heapGrewTooMuch() {
  programsSinceHeapCheck += 1;
  if (programsSinceHeapCheck < ${HEAP_CHECK_EVERY}) return false;
  programsSinceHeapCheck = 0;
  const used = slot.isolate.getHeapStatisticsSync().used_heap_size;
  return used > (config.memoryMb * 1024 * 1024) / 2;
}

// When the harness reports that a program does not compile, its message can name the harness's
// own wrapper: compiled as "return (\n" + code + "\n)" inside the Function constructor's braces,
// an unfinished program fails at a ")" or "}" it does not contain. So the program is compiled
// again here, alone, and never run (compileScriptSync only parses): first as the script
// "0,\n" + code, where nothing follows it (an unfinished program ends the input) and "0," puts
// it in expression position without being a token an error could name; if that parses (e.g. a
// statement list "x => x; f()"), as "0,[\n" + code + "\n]", whose error is then at one of the
// program's own tokens. The program starts at line 1, column 1 in both (lineOffset -1), so the
// position is the program's own. Returns undefined if V8 says nothing more precise.
function ownSyntaxError(code) {
  for (const [before, after] of [["0,\n", ""], ["0,[\n", "\n]"]]) {
    let script;
    try {
      script = slot.isolate.compileScriptSync(before + code + after, { filename: "program", lineOffset: -1 });
    } catch (error) {
      const match = /^(.*) \[program:(\d+):(\d+)\]$/.exec(String(error && error.message));
      return match ? match[1] + " (line " + match[2] + ", column " + match[3] + ")" : undefined;
    } finally {
      if (script) script.release();
    }
  }
  return undefined;
}

// Runs one program: ONE call into the isolate for all its tests.
function runProgram(job) {
  if (slot === null) slot = createSlot();
  slot.header.fill(0);
  let stopped;
  let detail;
  try {
    slot.entry.applySync(undefined, [job.code, job.inputs], {
      arguments: { copy: true },
      timeout: config.timeoutMs,
    });
  } catch (error) {
    const message = String(error && error.message !== undefined ? error.message : error);
    if (message.startsWith("Script execution timed out")) stopped = "timeout";
    else if (message.includes("memory limit")) stopped = "memory_limit";
    else if (slot.header[${H_STATE}] !== ${STATE_FINISHED}) {
      stopped = "crashed";
      detail = message;
    }
    // Otherwise the harness finished and isolated-vm reported something the program left
    // behind (an unhandled promise rejection): the results stand.
  }
  const header = slot.header;
  const outputChars = Math.min(header[${H_OUTPUT_CHARS}], config.limits.maxOutputChars);
  const result = {
    completed: header[${H_COMPLETED}],
    resultText: readText(0, header[${H_RESULT_CHARS}]),
    outputText: readText(config.limits.resultCapacity, outputChars),
    stopped,
    detail,
    recycled: false,
  };
  // Records start with the kind field, "1:S" for a program that did not compile.
  if (stopped === undefined && result.completed > 0 && result.resultText.startsWith("1:S")) {
    result.syntaxError = ownSyntaxError(job.code);
  }
  if (stopped !== undefined || heapGrewTooMuch()) {
    disposeSlot();
    result.recycled = true;
  }
  return result;
}

function fatal(error) {
  process.send({ type: "fatal", message: "could not set up an isolate: " + error.message }, () => {
    process.kill(process.pid, "SIGKILL");
  });
}

process.on("message", (message) => {
  if (message.type === "init") {
    config = message;
    try {
      slot = createSlot();
    } catch (error) {
      fatal(error);
      return;
    }
    process.send({ type: "ready" });
  } else if (message.type === "batch") {
    const results = [];
    for (const job of message.jobs) {
      try {
        results.push(runProgram(job));
      } catch (error) {
        fatal(error); // only createSlot can throw here
        return;
      }
    }
    process.send({ type: "results", id: message.id, results });
  }
});
// The parent is gone (or closed the pool): nothing left to do.
process.on("disconnect", () => process.kill(process.pid, "SIGKILL"));
`;
