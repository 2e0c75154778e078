/**
 * Loading the task suite. Every record is validated; a bad one stops loading with its file, line,
 * field and what was expected:
 *   data/tasks/test.jsonl:17: field "hidden" must have at least 6 tests (got 4)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readJsonl } from "../util/files";
import type { Split, Task, TestCase, Value } from "./types";

export const MIN_VISIBLE = 2;
export const MIN_HIDDEN = 6;
export const SPLIT_NAMES: readonly Split[] = ["train", "validation", "test"];

const FIELDS = ["id", "family", "difficulty", "description", "signature", "visible", "hidden", "reference"] as const;
/** Fields only the feedback suite's tasks have (see types.ts). */
const OPTIONAL_FIELDS = ["promptShows", "withheld", "behaviours"] as const;

/** A short account of what a value is, for error messages. */
function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") return "an object";
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** The parameter names of a signature such as "(xs, k)", or null if it is not one. */
export function parseSignature(signature: string): string[] | null {
  const match = /^\(([A-Za-z_$][\w$]*(?:, [A-Za-z_$][\w$]*)*)?\)$/.exec(signature);
  if (!match) return null;
  const names = match[1] ? match[1].split(", ") : [];
  return new Set(names).size === names.length ? names : null;
}

/** Why `v` is not a JSON-safe Value, or null if it is one. */
function valueProblem(v: unknown): string | null {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return `a non-finite number`;
    if (Object.is(v, -0)) return "-0";
    return null;
  }
  if (typeof v === "string" || typeof v === "boolean") return null;
  if (Array.isArray(v)) {
    for (const item of v) {
      const problem = valueProblem(item);
      if (problem) return `an array holding ${problem}`;
    }
    return null;
  }
  return describe(v);
}

function checkTest(where: string, field: string, test: unknown, arity: number, signature: string): TestCase {
  if (typeof test !== "object" || test === null || Array.isArray(test)) {
    throw new Error(`${where}: field "${field}" must be an object with "input" and "expected" (got ${describe(test)})`);
  }
  const { input, expected } = test as { input?: unknown; expected?: unknown };
  if (!Array.isArray(input) || input.length !== arity) {
    throw new Error(
      `${where}: field "${field}.input" must be an array of ${arity} argument${arity === 1 ? "" : "s"} ` +
        `for signature "${signature}" (got ${describe(input)})`,
    );
  }
  input.forEach((arg, i) => {
    const problem = valueProblem(arg);
    if (problem) throw new Error(`${where}: field "${field}.input[${i}]" must be a number, string, boolean or array of them (got ${problem})`);
  });
  const problem = valueProblem(expected);
  if (problem) throw new Error(`${where}: field "${field}.expected" must be a number, string, boolean or array of them (got ${problem})`);
  return { input: input as Value[], expected: expected as Value };
}

function checkTests(where: string, field: string, tests: unknown, min: number, arity: number, signature: string): TestCase[] {
  if (!Array.isArray(tests)) throw new Error(`${where}: field "${field}" must be an array of tests (got ${describe(tests)})`);
  if (tests.length < min) throw new Error(`${where}: field "${field}" must have at least ${min} tests (got ${tests.length})`);
  return tests.map((t, i) => checkTest(where, `${field}[${i}]`, t, arity, signature));
}

function requireString(where: string, record: Record<string, unknown>, field: string, pattern: RegExp, expected: string): string {
  const v = record[field];
  if (typeof v !== "string" || !pattern.test(v)) {
    throw new Error(`${where}: field "${field}" must be ${expected} (got ${describe(v)})`);
  }
  return v;
}

/**
 * Checks one record of a task file and returns it as a Task; `where` ("file:line") starts every
 * error message.
 */
export function validateTask(record: unknown, where: string): Task {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw new Error(`${where}: expected a task object (got ${describe(record)})`);
  }
  const r = record as Record<string, unknown>;
  for (const field of FIELDS) {
    if (!(field in r)) throw new Error(`${where}: field "${field}" is missing`);
  }
  for (const field of Object.keys(r)) {
    if (!(FIELDS as readonly string[]).includes(field) && !(OPTIONAL_FIELDS as readonly string[]).includes(field)) {
      throw new Error(`${where}: unexpected field "${field}" (a task has ${FIELDS.join(", ")}; optionally ${OPTIONAL_FIELDS.join(", ")})`);
    }
  }
  const id = requireString(where, r, "id", /^[\w.-]+$/, "a non-empty id of letters, digits, '_', '.', '-'");
  const family = requireString(where, r, "family", /^[a-z_]+(\+[a-z_]+)*$/, 'family names joined with "+", e.g. "filter+map"');
  const difficulty = r.difficulty;
  if (difficulty !== 1 && difficulty !== 2 && difficulty !== 3) {
    throw new Error(`${where}: field "difficulty" must be 1, 2 or 3 (got ${describe(difficulty)})`);
  }
  const description = requireString(where, r, "description", /\S/, "a non-empty string");
  const signature = requireString(where, r, "signature", /^\(.*\)$/, 'a parameter list like "(xs, k)"');
  const params = parseSignature(signature);
  if (!params) {
    throw new Error(`${where}: field "signature" must be a parameter list like "(xs, k)" with distinct names (got ${describe(signature)})`);
  }
  const visible = checkTests(where, "visible", r.visible, MIN_VISIBLE, params.length, signature);
  const hidden = checkTests(where, "hidden", r.hidden, MIN_HIDDEN, params.length, signature);
  const head = new RegExp(`^\\(\\s*${params.join("\\s*,\\s*")}\\s*\\)\\s*=>`);
  const reference = requireString(where, r, "reference", head, `an arrow function starting with "${signature}=>"`);
  const task: Task = { id, family, difficulty, description, signature, visible, hidden, reference };
  if ("promptShows" in r) {
    if (r.promptShows !== "inputs") throw new Error(`${where}: field "promptShows" must be "inputs" or absent (got ${describe(r.promptShows)})`);
    task.promptShows = "inputs";
  }
  if ("withheld" in r) task.withheld = requireString(where, r, "withheld", /\S/, "a non-empty string");
  if ("behaviours" in r) {
    const behaviours = r.behaviours;
    if (!Array.isArray(behaviours) || behaviours.length < 2 || !behaviours.every((b) => typeof b === "string" && head.test(b))) {
      throw new Error(`${where}: field "behaviours" must be a list of at least 2 arrow functions starting with "${signature}=>" (got ${describe(behaviours)})`);
    }
    if (!behaviours.includes(reference)) throw new Error(`${where}: field "behaviours" must include the reference ${reference}`);
    task.behaviours = behaviours as string[];
  }
  return task;
}

/** The files of one split in `dir`: "<split>.jsonl" or its shards "<split>-00.jsonl", ... in order. */
export function splitFiles(dir: string, split: Split): string[] {
  if (!SPLIT_NAMES.includes(split)) throw new Error(`unknown split "${split}" (expected one of ${SPLIT_NAMES.join(", ")})`);
  if (!fs.existsSync(dir)) throw new Error(`${dir}: task directory not found`);
  const pattern = new RegExp(`^${split}(-\\d+)?\\.jsonl$`);
  const names = fs.readdirSync(dir).filter((name) => pattern.test(name)).sort();
  if (names.length === 0) {
    throw new Error(`${dir}: no files for split "${split}" (expected ${split}.jsonl or ${split}-00.jsonl, ${split}-01.jsonl, ...)`);
  }
  if (names.includes(`${split}.jsonl`) && names.length > 1) {
    throw new Error(`${dir}: split "${split}" has both ${split}.jsonl and shards (${names.join(", ")}); keep one form`);
  }
  return names.map((name) => path.join(dir, name));
}

/** All tasks of a split, from all its shards, validated; ids must be unique within the split. */
export function loadSplit(dir: string, split: Split): Task[] {
  const tasks: Task[] = [];
  const where = new Map<string, string>();
  for (const file of splitFiles(dir, split)) {
    const shard = readJsonl(file, (record, at) => {
      const task = validateTask(record, at);
      const earlier = where.get(task.id);
      if (earlier) throw new Error(`${at}: field "id" must be unique in split "${split}" ("${task.id}" is also at ${earlier})`);
      where.set(task.id, at);
      return task;
    });
    for (const task of shard) tasks.push(task);
  }
  return tasks;
}

/**
 * One task by id; the id's prefix ("test-00042") names its split, otherwise all are searched.
 * Only lines that mention the id are parsed and validated, so this is quick even for train.
 */
export function loadTask(dir: string, id: string): Task {
  const prefix = id.split("-")[0] as Split;
  const splits = SPLIT_NAMES.includes(prefix) ? [prefix] : SPLIT_NAMES;
  const needle = JSON.stringify(id);
  for (const split of splits) {
    for (const file of splitFiles(dir, split)) {
      const lines = fs.readFileSync(file, "utf8").split("\n");
      for (let i = 0; i < lines.length; i++) {
        if (!lines[i].includes(needle)) continue;
        const where = `${file}:${i + 1}`;
        let record: unknown;
        try {
          record = JSON.parse(lines[i]);
        } catch (e) {
          throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
        }
        const task = validateTask(record, where);
        if (task.id === id) return task;
      }
    }
  }
  throw new Error(`${dir}: no task with id "${id}" (looked in ${splits.join(", ")})`);
}
