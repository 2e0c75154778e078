/**
 * Drawing task specs: random pipelines of 2-3 operations, and the full list of single-operation
 * specs (difficulty 1 is small enough to enumerate).
 */
import type { Rng } from "../util/rng";
import { opsFrom, opsFromByFamily } from "./families";
import { LETTERS } from "./inputs";
import { type Arg, type Op, type OpCall, SIGNATURE_INFO, type Signature, type TaskSpec } from "./ops";

/**
 * How often each signature is drawn for composed tasks: arrays and strings offer the most
 * operations, so they get most of the suite; k-parameter tasks are a smaller share.
 */
export const SIGNATURE_WEIGHTS: Record<Signature, number> = {
  "(x)": 0.15,
  "(xs)": 0.38,
  "(xs, k)": 0.1,
  "(s)": 0.3,
  "(s, k)": 0.07,
};

/** Draws `items[i]` with probability weight(items[i]) / total. */
export function pickWeighted<T>(rng: Rng, items: readonly T[], weight: (item: T) => number): T {
  const total = items.reduce((a, item) => a + weight(item), 0);
  let r = rng.next() * total;
  for (const item of items) {
    r -= weight(item);
    if (r < 0) return item;
  }
  return items[items.length - 1];
}

/** Letters a task may name: not its parameter's name, so "'k'" and "k" never meet in one task. */
export function letterChoices(param: string | null): string[] {
  return [...LETTERS].filter((c) => c !== param);
}

/**
 * Random arguments for `op`; an argument that may be the parameter k becomes k with probability
 * 1/2 when the task has one. Null if no valid combination turned up.
 */
export function randomArgs(op: Op, rng: Rng, param: string | null): Arg[] | null {
  for (let attempt = 0; attempt < 10; attempt++) {
    const args: Arg[] = op.args.map((spec): Arg => {
      if (spec.type === "char") return { type: "char", value: rng.pick(letterChoices(param)) };
      if (spec.param && param !== null && rng.next() < 0.5) return { type: "param", name: param };
      return { type: "int", value: rng.pick(spec.values) };
    });
    if (op.valid(args)) return args;
  }
  return null;
}

/** Every valid argument list of `op`; with a parameter, only those that use it. */
export function allArgs(op: Op, param: string | null): Arg[][] {
  let lists: Arg[][] = [[]];
  for (const spec of op.args) {
    const choices: Arg[] =
      spec.type === "char"
        ? letterChoices(param).map((value): Arg => ({ type: "char", value }))
        : spec.values.map((value): Arg => ({ type: "int", value }));
    if (spec.type === "int" && spec.param && param !== null) choices.push({ type: "param", name: param });
    lists = lists.flatMap((prefix) => choices.map((arg) => [...prefix, arg]));
  }
  return lists.filter((args) => op.valid(args) && (param === null || args.some((a) => a.type === "param")));
}

/** All single-operation specs of a signature. */
export function enumerateSingleOps(signature: Signature): TaskSpec[] {
  const { kind, param } = SIGNATURE_INFO[signature];
  return opsFrom(kind).flatMap((op) => allArgs(op, param).map((args) => ({ signature, ops: [{ op, args }] })));
}

/**
 * A random pipeline of `length` operations on `signature`, or null when the draw hit a dead end
 * (callers draw again). At each step a family is drawn uniformly among those that can continue
 * the pipeline, then an operation of that family by weight; only the last step may return a
 * boolean. A task with a k parameter must use k somewhere.
 */
export function sampleSpec(rng: Rng, signature: Signature, length: number): TaskSpec | null {
  const { kind: start, param } = SIGNATURE_INFO[signature];
  let kind = start;
  let afterCase = false;
  const ops: OpCall[] = [];
  for (let i = 0; i < length; i++) {
    const last = i === length - 1;
    const previous = i > 0 ? ops[i - 1].op : null;
    const allowed = (op: Op) =>
      (last || op.to !== "bool") &&
      !(op.needsSimple && i > 0) &&
      !(op.lowercaseOnly && afterCase) &&
      op.group !== previous?.group;
    // A family uniformly among those with an allowed operation (families are tried in random
    // order rather than all filtered up front: drawing is the hot loop of pool building).
    let op: Op | null = null;
    const families = [...opsFromByFamily(kind).entries()];
    while (op === null && families.length > 0) {
      const [, members] = families.splice(Math.floor(rng.next() * families.length), 1)[0];
      const candidates = members.filter(allowed);
      if (candidates.length > 0) op = pickWeighted(rng, candidates, (c) => c.weight);
    }
    if (op === null) return null;
    const args = randomArgs(op, rng, param);
    if (!args) return null;
    ops.push({ op, args });
    if (op.family === "case") afterCase = true;
    kind = op.to;
  }
  if (param !== null && !ops.some((c) => c.args.some((a) => a.type === "param"))) {
    // Turn one argument that may be k into k, so k-tasks are not mostly rejected.
    const slots = ops.flatMap((c, i) =>
      c.op.args.flatMap((spec, j) => (spec.type === "int" && spec.param ? [[i, j] as const] : [])),
    );
    if (slots.length === 0) return null;
    const [i, j] = rng.pick(slots);
    ops[i].args[j] = { type: "param", name: param };
  }
  return { signature, ops };
}
