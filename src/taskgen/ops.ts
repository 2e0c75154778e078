/**
 * Operations, the building blocks of the task suite. A task is a pipeline of 1-3 operations
 * applied to the function's first parameter; each operation brings three views of itself that
 * must agree:
 * - `say`: the words of the description ("add 3 to each element"); the same words always mean
 *   the same operation, and every constant is spelled out;
 * - `code`: the JavaScript of the reference program, built as one expression;
 * - `run`: the same computation as a host function, used to search test inputs and behaviour
 *   fingerprints quickly. Expected values never come from `run`: they come from executing the
 *   reference code, and generation checks that both agree on every probe input.
 */
import { type Expr, variable } from "./expr";
import type { Value } from "../tasks/types";

/** The type of a value flowing through a pipeline. */
export type Kind = "int" | "ints" | "str" | "bool";

/** The task families: one per kind of operation (see FAMILY_INFO in families.ts). */
export const FAMILIES = [
  "arith",
  "condition",
  "map",
  "filter",
  "reduce",
  "count",
  "slice",
  "order",
  "case",
  "chars",
  "check",
] as const;
export type Family = (typeof FAMILIES)[number];

/** What one argument of an operation may be. */
export type ArgSpec =
  /** An integer constant from `values`; with `param`, tasks with a `k` parameter may use k. */
  | { type: "int"; values: readonly number[]; param?: boolean }
  /** A lowercase letter. */
  | { type: "char" };

/** An argument as chosen for one task. */
export type Arg =
  | { type: "int"; value: number }
  | { type: "char"; value: string }
  /** The function's second parameter (k). */
  | { type: "param"; name: string };

/** The value an argument takes while running: a constant, or k's value in this call. */
export type ArgValue = number | string;

export interface Op {
  /** Unique name, e.g. "map_add". */
  name: string;
  family: Family;
  from: Kind;
  to: Kind;
  args: readonly ArgSpec[];
  /** Operations of one group never follow each other (no "sort ascending, then sort descending"). */
  group: string;
  /** Relative chance of being drawn within its family (default 1). */
  weight: number;
  /** Mentions its operand twice, so it applies only directly to a parameter (see Expr.simple). */
  needsSimple: boolean;
  /** Names lowercase letters (vowels, 'a'), so it is not allowed after an operation of "case". */
  lowercaseOnly: boolean;
  /** Extra constraint on the chosen arguments (e.g. a replaced letter differs from its replacement). */
  valid: (args: readonly Arg[]) => boolean;
  /** The description clause; `a` holds the rendered arguments ("3", "'a'", "k"). */
  say: (a: readonly string[]) => string;
  /** The reference code, wrapping `e`; `a` holds the arguments as code ("3", "\"a\"", "k"). */
  code: (e: Expr, a: readonly string[]) => Expr;
  /** The same computation on the host. */
  run: (x: unknown, a: readonly ArgValue[]) => unknown;
}

/** Fields of an operation definition; the optional ones get defaults in defineOp. */
export interface OpDefinition<I, O> {
  name: string;
  family: Family;
  from: Kind;
  to: Kind;
  args?: readonly ArgSpec[];
  group?: string;
  weight?: number;
  needsSimple?: boolean;
  lowercaseOnly?: boolean;
  valid?: (args: readonly Arg[]) => boolean;
  say: (a: readonly string[]) => string;
  code: (e: Expr, a: readonly string[]) => Expr;
  // The argument list is typed loosely on purpose: each op knows which of its arguments are
  // numbers and which letters, and reads them with the matching cast.
  run: (x: I, a: readonly ArgValue[]) => O;
}

export function defineOp<I, O>(def: OpDefinition<I, O>): Op {
  return {
    args: [],
    group: def.name,
    weight: 1,
    needsSimple: false,
    lowercaseOnly: false,
    valid: () => true,
    ...def,
    run: def.run as (x: unknown, a: readonly ArgValue[]) => unknown,
  };
}

/** Integers lo..hi as an argument domain. */
export function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi; v++) out.push(v);
  return out;
}

/** One operation with its chosen arguments. */
export interface OpCall {
  op: Op;
  args: Arg[];
}

/** The parameter lists tasks use: the first parameter is the pipeline's input. */
export const SIGNATURES = ["(x)", "(xs)", "(xs, k)", "(s)", "(s, k)"] as const;
export type Signature = (typeof SIGNATURES)[number];

export const SIGNATURE_INFO: Record<Signature, { input: string; kind: Kind; param: string | null }> = {
  "(x)": { input: "x", kind: "int", param: null },
  "(xs)": { input: "xs", kind: "ints", param: null },
  "(xs, k)": { input: "xs", kind: "ints", param: "k" },
  "(s)": { input: "s", kind: "str", param: null },
  "(s, k)": { input: "s", kind: "str", param: "k" },
};

export function isSignature(text: string): text is Signature {
  return (SIGNATURES as readonly string[]).includes(text);
}

/** A task before it has tests: a signature and a pipeline of operations. */
export interface TaskSpec {
  signature: Signature;
  ops: OpCall[];
}

function argAsCode(arg: Arg): string {
  if (arg.type === "int") return String(arg.value);
  if (arg.type === "char") return JSON.stringify(arg.value);
  return arg.name;
}

function argAsWords(arg: Arg): string {
  if (arg.type === "int") return String(arg.value);
  if (arg.type === "char") return `'${arg.value}'`;
  return arg.name;
}

/** Why `spec` is not a well-formed pipeline, or null if it is. */
export function specProblem(spec: TaskSpec): string | null {
  const info = SIGNATURE_INFO[spec.signature];
  if (spec.ops.length === 0) return "no operations";
  let kind = info.kind;
  let afterCase = false;
  for (let i = 0; i < spec.ops.length; i++) {
    const { op, args } = spec.ops[i];
    if (op.from !== kind) return `${op.name} takes ${op.from}, got ${kind}`;
    if (op.needsSimple && i > 0) return `${op.name} only applies directly to a parameter`;
    if (op.lowercaseOnly && afterCase) return `${op.name} cannot follow a case operation`;
    if (i > 0 && spec.ops[i - 1].op.group === op.group) return `${op.name} repeats group ${op.group}`;
    if (args.length !== op.args.length) return `${op.name} needs ${op.args.length} arguments`;
    for (const arg of args) {
      if (arg.type === "param" && arg.name !== info.param) return `${op.name} uses unknown parameter ${arg.name}`;
    }
    if (!op.valid(args)) return `${op.name} arguments are not valid`;
    if (op.family === "case") afterCase = true;
    kind = op.to;
  }
  return null;
}

/** A task's words and code, derived from its spec. */
export interface Composed {
  reference: string;
  description: string;
  /** The operations' families joined with "+", in pipeline order. */
  family: string;
  difficulty: 1 | 2 | 3;
  /** The kind of value the function returns. */
  output: Kind;
}

/**
 * Difficulty: 1 for one operation, 2 for two, 3 for three or for two where one is a condition or
 * clamp (the "condition" family), following the suite's brief.
 */
export function difficultyOf(ops: readonly OpCall[]): 1 | 2 | 3 {
  if (ops.length === 1) return 1;
  if (ops.length >= 3) return 3;
  return ops.some((c) => c.op.family === "condition") ? 3 : 2;
}

/** Words and code of a well-formed spec (throws on a malformed one). */
export function compose(spec: TaskSpec): Composed {
  const problem = specProblem(spec);
  if (problem) throw new Error(`malformed task spec: ${problem}`);
  let e = variable(SIGNATURE_INFO[spec.signature].input);
  const clauses: string[] = [];
  for (const { op, args } of spec.ops) {
    e = op.code(e, args.map(argAsCode));
    clauses.push(op.say(args.map(argAsWords)));
  }
  const text = clauses.join(", then ");
  return {
    reference: `${spec.signature}=>${e.code}`,
    description: text.charAt(0).toUpperCase() + text.slice(1) + ".",
    family: spec.ops.map((c) => c.op.family).join("+"),
    difficulty: difficultyOf(spec.ops),
    output: spec.ops[spec.ops.length - 1].op.to,
  };
}

/**
 * Runs the spec's pipeline on one input with the host implementations (`Op.run`). Arrays in
 * `input` are not modified. Throws whatever the pipeline throws.
 *
 * `onStep` sees every value after each operation (see `isDefinedOn` in behaviour.ts).
 */
export function runSpec(spec: TaskSpec, input: readonly Value[], onStep?: (value: unknown) => void): unknown {
  const k = input[1];
  let value: unknown = input[0];
  for (const { op, args } of spec.ops) {
    const values = args.map((a) => (a.type === "param" ? (k as ArgValue) : a.value));
    value = op.run(value, values);
    onStep?.(value);
  }
  return value;
}
