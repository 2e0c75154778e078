/**
 * The harness: JavaScript source text that is installed ONCE in each sandbox context, before any
 * program runs. It (1) captures the intrinsics it uses, (2) locks the realm down (lockdown.ts:
 * deep-freezes every object reachable from `globalThis` and from syntax), and (3) returns
 * `entry(code, inputs)`, the function the host calls once per program.
 *
 * `entry` is only reachable through the host's `ivm.Reference`; no program can name it. It
 * compiles the program, calls it on every test's input (a fresh deep copy each time), renders
 * each return value with the shared renderer, and writes the results into a SharedArrayBuffer
 * (the "result buffer") test by test. The host compares renderings with the expected ones, so
 * expected values never enter the isolate and a program cannot read them.
 *
 * Why a shared buffer instead of a return value: results must survive the call failing after
 * the fact. A timeout or memory limit ends the call mid-way (the tests finished before it keep
 * their results), and an unhandled promise rejection left by the program makes isolated-vm throw
 * from an otherwise finished call.
 *
 * Result buffer layout (Int32 header, then UTF-16 text):
 * - header[H_STATE]: 0 idle, 1 running, 2 finished (written by the harness).
 * - header[H_COMPLETED]: tests whose record is complete. header[H_RESULT_CHARS]: chars of records.
 * - header[H_OUTPUT_CHARS]: chars of console output kept.
 * - text[0, resultCapacity): one record per completed test, each four fields written as
 *   `<length>:<chars>`: kind, printed-too-much flag ("1"/"0"), and two texts. Kinds:
 *   "R" returned (text1 = rendering), "L" return value too large (text1 = cut rendering),
 *   "E" threw (text1 = error type, text2 = message), "S" program did not compile (same texts).
 * - text[resultCapacity, resultCapacity + maxOutputChars): console output.
 */
import { LOCKDOWN_SOURCE } from "./lockdown";
import { RENDER_SOURCE } from "./render";

export const H_STATE = 0;
export const H_COMPLETED = 1;
export const H_RESULT_CHARS = 2;
export const H_OUTPUT_CHARS = 3;
export const HEADER_WORDS = 8;
export const TEXT_OFFSET_BYTES = HEADER_WORDS * 4;

export const STATE_RUNNING = 1;
export const STATE_FINISHED = 2;

/** Error types and messages are cut to these lengths. */
export const ERROR_TYPE_CHARS = 100;
export const ERROR_MESSAGE_CHARS = 1000;

/** Record kinds written by the harness. */
export type RecordKind = "R" | "L" | "E" | "S";

/** Limits the harness is installed with (all in characters). */
export interface HarnessLimits {
  maxValueChars: number;
  maxOutputChars: number;
  /** Characters reserved for test records: see `recordCapacity`. */
  resultCapacity: number;
}

/**
 * The longest record one test can produce: kind and flag (1 char each), text1 (a rendering of at
 * most maxValueChars + 1 chars, or an error type), text2 (an error message), and four `<length>:`
 * prefixes of at most 12 chars. The pool sizes the buffer for MAX_TESTS_PER_PROGRAM of these, so
 * it can never overflow.
 */
export function recordCapacity(maxValueChars: number): number {
  return 2 + Math.max(maxValueChars + 1, ERROR_TYPE_CHARS) + ERROR_MESSAGE_CHARS + 4 * 12;
}

/**
 * Evaluated with `context.evalClosure(HARNESS_SOURCE, [buffer, limits])`: `$0` is the shared
 * result buffer, `$1` the HarnessLimits. Returns `entry`. Runs in strict mode, so a program's
 * function cannot reach the harness through `fn.caller` (V8 hides strict callers).
 */
export const HARNESS_SOURCE = String.raw`
"use strict";
// ---- 1. Capture every intrinsic the harness uses, before anything can change them. ----------
const buffer = $0;
const limits = $1;
const apply = Reflect.apply;
const ownKeys = Reflect.ownKeys;
const getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
const freeze = Object.freeze;
const isArray = Array.isArray;
const FunctionConstructor = Function;
const uncurry = (method) => apply(Function.prototype.bind, Function.prototype.call, [method]);
const charCodeAt = uncurry(String.prototype.charCodeAt);
const stringSlice = uncurry(String.prototype.slice);
const functionToString = uncurry(Function.prototype.toString);
const stringTrim = uncurry(String.prototype.trim);
const renderValue = (${RENDER_SOURCE})({
  getOwnPropertyDescriptor, ownKeys, isArray, uncurry,
  hasOwn: Object.hasOwn,
  lookupGetter: Object.prototype.__lookupGetter__,
  jsonStringify: JSON.stringify,
  String,
  objectToString: Object.prototype.toString,
  stringSlice: String.prototype.slice,
});

const header = new Int32Array(buffer, 0, ${HEADER_WORDS});
const text = new Uint16Array(buffer, ${TEXT_OFFSET_BYTES});
const maxValueChars = limits.maxValueChars;
const maxOutputChars = limits.maxOutputChars;
const outputStart = limits.resultCapacity;

// ---- 2. Writing results and output into the shared buffer. -----------------------------------
let resultChars = 0;     // chars of records written in this run
let outputChars = 0;     // chars of console output kept in this run
let outputOpen = false;  // console.log writes only while a program runs
let currentTest = 0;     // the test console output is charged to
let overflowTest = -1;   // the test during which output went over the limit, or -1

function writeText(position, s) {
  for (let k = 0; k < s.length; k++) text[position + k] = charCodeAt(s, k);
}

function cut(s, n) {
  return s.length > n ? stringSlice(s, 0, n) : s;
}

function writeField(s) {
  const prefix = "" + s.length + ":";
  writeText(resultChars, prefix);
  writeText(resultChars + prefix.length, s);
  resultChars += prefix.length + s.length;
}

function writeRecord(kind, testIndex, text1, text2) {
  writeField(kind);
  writeField(overflowTest === testIndex ? "1" : "0");
  writeField(text1);
  writeField(text2);
  header[${H_RESULT_CHARS}] = resultChars;
  header[${H_COMPLETED}] = testIndex + 1;
}

// console.log and friends: strings print as they are, other values as their rendering, joined
// by spaces, one line per call. Output beyond maxOutputChars is dropped and charged, as
// output_limit, to the test that was running.
function print() {
  if (!outputOpen || overflowTest !== -1) return;
  let line = "";
  for (let i = 0; i < arguments.length; i++) {
    const value = arguments[i];
    if (i > 0) line += " ";
    line += typeof value === "string" ? cut(value, maxOutputChars + 1) : renderValue(value, maxOutputChars);
    if (line.length > maxOutputChars) break;
  }
  line += "\n";
  const room = maxOutputChars - outputChars;
  if (line.length > room) {
    overflowTest = currentTest;
    line = stringSlice(line, 0, room);
  }
  writeText(outputStart + outputChars, line);
  outputChars += line.length;
  header[${H_OUTPUT_CHARS}] = outputChars;
}
const sandboxConsole = { log: print, info: print, warn: print, error: print, debug: print };

// ---- 3. Describing what a program threw. ---------------------------------------------------
// Error-like values (a string name and message, as every Error has) keep both; anything else
// (throw 5, throw {}, throw "x") is type "ThrownValue" with the value's rendering as message.
// Reading name/message may run the program's getters or proxy traps: that is still inside the
// program's time limit, and if it throws we fall back to a fixed text.
function describeThrown(thrown) {
  try {
    if ((typeof thrown === "object" && thrown !== null) || typeof thrown === "function") {
      const name = thrown.name;
      const message = thrown.message;
      if (typeof name === "string" && typeof message === "string") {
        return [cut(name, ${ERROR_TYPE_CHARS}), cut(message, ${ERROR_MESSAGE_CHARS})];
      }
    }
    return ["ThrownValue", renderValue(thrown, ${ERROR_MESSAGE_CHARS} - 1)];
  } catch (_) {
    return ["ThrownValue", "<the thrown value could not be inspected>"];
  }
}

// ---- 4. Running one program. ---------------------------------------------------------------
// The program must be ONE expression. It is compiled as "(code)" into a sloppy-mode function at
// global scope (like a script; no access to the harness) and called to get its value. Text such
// as "a); (b" would close the wrapper itself and pass as a statement list; it cannot also pass as
// "[code]", whose bracket it would close the wrong way. That second compile is skipped when the
// value is a function whose own source text is the whole program: a function literal spanning
// all of the code has balanced brackets, so the code is exactly that one literal. (The check
// comes after evaluating, so contrived text that escapes the wrapper and then loops forever is a
// timeout rather than a syntax_error.)
function compile(code) {
  return new FunctionConstructor("return (\n" + code + "\n)");
}

function isWholeProgram(fn, code) {
  try {
    return functionToString(fn) === stringTrim(code);
  } catch (_) {
    return false;
  }
}

function checkSingleExpression(code) {
  new FunctionConstructor("return [\n" + code + "\n]");
}

function copyValue(value) {
  if (!isArray(value)) return value;
  const copy = [];
  for (let i = 0; i < value.length; i++) copy[i] = copyValue(value[i]);
  return copy;
}

function writeAll(kind, n, text1, text2) {
  for (let i = 0; i < n; i++) writeRecord(kind, i, text1, text2);
}

function entry(code, inputs) {
  resultChars = 0;
  outputChars = 0;
  currentTest = 0;
  overflowTest = -1;
  header[${H_COMPLETED}] = 0;
  header[${H_RESULT_CHARS}] = 0;
  header[${H_OUTPUT_CHARS}] = 0;
  header[${H_STATE}] = ${STATE_RUNNING};
  const n = inputs.length;
  outputOpen = true;
  try {
    let evaluate;
    try {
      evaluate = compile(code);
    } catch (error) {
      const described = describeThrown(error);
      writeAll("S", n, described[0], described[1]);
      return;
    }
    let fn;
    let evaluationError;
    let threw = false;
    try {
      fn = apply(evaluate, undefined, []);
    } catch (error) {
      threw = true;
      evaluationError = error;
    }
    if (threw || typeof fn !== "function" || !isWholeProgram(fn, code)) {
      try {
        checkSingleExpression(code);
      } catch (error) {
        const described = describeThrown(error);
        writeAll("S", n, described[0], described[1]);
        return;
      }
    }
    if (threw) {
      const described = describeThrown(evaluationError);
      writeAll("E", n, described[0], described[1]);
      return;
    }
    if (typeof fn !== "function") {
      const got = fn === null ? "null" : typeof fn;
      writeAll("E", n, "TypeError", "program is not a function (it evaluated to " + got + ")");
      return;
    }
    for (let i = 0; i < n; i++) {
      currentTest = i;
      let kind;
      let text1 = "";
      let text2 = "";
      try {
        const result = apply(fn, undefined, copyValue(inputs[i]));
        text1 = renderValue(result, maxValueChars);
        kind = charCodeAt(text1, text1.length - 1) === 0x2026 ? "L" : "R";
      } catch (error) {
        kind = "E";
        const described = describeThrown(error);
        text1 = described[0];
        text2 = described[1];
      }
      writeRecord(kind, i, text1, text2);
    }
  } finally {
    outputOpen = false;
    header[${H_STATE}] = ${STATE_FINISHED};
  }
}

// ---- 5. Lock the realm down (lockdown.ts), then hand out entry. ------------------------------
(${LOCKDOWN_SOURCE})(sandboxConsole);
freeze(entry);
return entry;
`;
