/**
 * Choosing a task's test inputs so the tests discriminate: a wrong program that is close to the
 * reference should fail at least one of them.
 *
 * "Close" is taken from the grammar itself: mutants of the task's spec with one constant off by
 * one, k replaced by a constant, another letter, one operation swapped for another of the same
 * type, one operation dropped, or two neighbours exchanged. From edge cases and random inputs,
 * tests are picked greedily, each time the input on which the most surviving mutants disagree
 * with the reference. Visible examples are picked this way from typical inputs; the hidden tests
 * start again from all mutants, so they discriminate on their own; they always include the
 * plainest edge case (0, [], "") when the task is defined there, and the most telling other one.
 */
import type { Rng } from "../util/rng";
import { definedOutput, isTestableValue, render, renderResult } from "./behaviour";
import { opsFrom } from "./families";
import { type HotValues, LETTERS, edgeInputs, randomInput } from "./inputs";
import { type Arg, type OpCall, SIGNATURE_INFO, type TaskSpec, runSpec, specProblem } from "./ops";
import { randomArgs } from "./sample";
import type { Value } from "../tasks/types";

export const HIDDEN_TESTS = 8;
/** Random candidates drawn besides the edge cases: typical ones (examples) and any-length ones. */
const TYPICAL_CANDIDATES = 24;
const OTHER_CANDIDATES = 40;
/** Extra draws when one output dominates the candidates, and how many other-output inputs to find. */
const RARE_SEARCH_DRAWS = 400;
const RARE_WANTED = 8;

/** The integers and letters a spec mentions. */
export function hotValues(spec: TaskSpec): HotValues {
  const ints: number[] = [];
  const letters: string[] = [];
  for (const call of spec.ops) {
    for (const arg of call.args) {
      if (arg.type === "int") ints.push(arg.value);
      if (arg.type === "char") letters.push(arg.value);
    }
  }
  return { ints: [...new Set(ints)], letters: [...new Set(letters)] };
}

function withOp(spec: TaskSpec, i: number, call: OpCall): TaskSpec {
  return { signature: spec.signature, ops: spec.ops.map((c, j) => (j === i ? call : c)) };
}

function withArg(spec: TaskSpec, i: number, j: number, arg: Arg): TaskSpec {
  const call = spec.ops[i];
  return withOp(spec, i, { op: call.op, args: call.args.map((a, m) => (m === j ? arg : a)) });
}

/** Well-formed near misses of `spec` (see the module comment). */
export function mutants(spec: TaskSpec, rng: Rng): TaskSpec[] {
  const param = SIGNATURE_INFO[spec.signature].param;
  const out: TaskSpec[] = [];
  spec.ops.forEach((call, i) => {
    call.args.forEach((arg, j) => {
      if (arg.type === "int") {
        out.push(withArg(spec, i, j, { type: "int", value: arg.value - 1 }));
        out.push(withArg(spec, i, j, { type: "int", value: arg.value + 1 }));
      } else if (arg.type === "param") {
        for (const value of [1, 3]) out.push(withArg(spec, i, j, { type: "int", value }));
      } else {
        for (let n = 0; n < 2; n++) out.push(withArg(spec, i, j, { type: "char", value: rng.pick([...LETTERS]) }));
      }
    });
    const siblings = opsFrom(call.op.from).filter((op) => op.to === call.op.to && op.name !== call.op.name);
    for (let n = 0; n < 3 && siblings.length > 0; n++) {
      const op = rng.pick(siblings);
      const args = randomArgs(op, rng, param);
      if (args) out.push(withOp(spec, i, { op, args }));
    }
    if (spec.ops.length > 1) out.push({ signature: spec.signature, ops: spec.ops.filter((_, j) => j !== i) });
    if (i + 1 < spec.ops.length) {
      const ops = spec.ops.slice();
      [ops[i], ops[i + 1]] = [ops[i + 1], ops[i]];
      out.push({ signature: spec.signature, ops });
    }
  });
  return out.filter((m) => specProblem(m) === null);
}

interface Candidate {
  input: Value[];
  output: string;
  edge: boolean;
  /** The first edge case of the signature: 0, [], "" (with k = 2 for k-tasks). */
  plainest: boolean;
  typical: boolean;
  /** For each mutant: does it disagree with the reference on this input? */
  kills: boolean[];
}

function candidates(spec: TaskSpec, rng: Rng, others: readonly TaskSpec[]): Candidate[] {
  const hot = hotValues(spec);
  const drawn: { input: Value[]; edge: boolean; plainest: boolean; typical: boolean }[] = [
    ...edgeInputs(spec.signature, hot).map((input, i) => ({ input, edge: true, plainest: i === 0, typical: false })),
  ];
  for (let n = 0; n < TYPICAL_CANDIDATES; n++) {
    drawn.push({ input: randomInput(spec.signature, rng, hot, true), edge: false, plainest: false, typical: true });
  }
  for (let n = 0; n < OTHER_CANDIDATES; n++) {
    drawn.push({ input: randomInput(spec.signature, rng, hot, false), edge: false, plainest: false, typical: false });
  }
  const seen = new Set<string>();
  const out: Candidate[] = [];
  const add = (input: Value[], edge: boolean, plainest: boolean, typical: boolean, keep?: (output: string) => boolean) => {
    const key = JSON.stringify(input);
    if (seen.has(key)) return;
    seen.add(key);
    // Only inputs on which the task is defined: the largest element of [] is not asked for.
    const value = definedOutput(spec, input);
    if (!isTestableValue(value)) return;
    const output = render(value);
    if (keep && !keep(output)) return;
    const kills = others.map((m) => renderResult(() => runSpec(m, input)) !== output);
    out.push({ input, output, edge, plainest, typical, kills });
  };
  for (const { input, edge, plainest, typical } of drawn) add(input, edge, plainest, typical);

  // When one answer dominates ("check if it contains 'q'" is mostly false), search further for
  // inputs with the other answers, so the tests can show them.
  const dominant = mostCommonOutput(out);
  if (dominant && dominant.count > 0.75 * out.length) {
    const before = out.length;
    for (let n = 0; n < RARE_SEARCH_DRAWS && out.length - before < RARE_WANTED; n++) {
      const typical = n % 2 === 0;
      add(randomInput(spec.signature, rng, hot, typical), false, false, typical, (o) => o !== dominant.output);
    }
  }
  addTrivialMutants(out);
  return out;
}

function mostCommonOutput(candidates: readonly Candidate[]): { output: string; count: number } | null {
  const frequency = new Map<string, number>();
  for (const c of candidates) frequency.set(c.output, (frequency.get(c.output) ?? 0) + 1);
  let best: { output: string; count: number } | null = null;
  for (const [output, count] of frequency) if (!best || count > best.count) best = { output, count };
  return best;
}

/**
 * Two more near misses that are not pipelines: a program returning a constant (the three
 * outputs most common among the candidates, e.g. false, 0, []) and one returning its input
 * unchanged. Killing them makes tests show varied outputs: a boolean task gets both answers.
 */
function addTrivialMutants(candidates: Candidate[]): void {
  const frequency = new Map<string, number>();
  for (const c of candidates) frequency.set(c.output, (frequency.get(c.output) ?? 0) + 1);
  const common = [...frequency.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 3)
    .map(([output]) => output);
  for (const c of candidates) {
    for (const constant of common) c.kills.push(c.output !== constant);
    c.kills.push(c.output !== render(c.input[0]));
  }
}

/**
 * Greedily picks `count` candidates from `pool`: the most surviving mutants killed first, then a
 * not yet seen output, then chance. Picked candidates leave `pool`; killed mutants leave `alive`.
 */
function pickGreedy(pool: Candidate[], alive: Set<number>, count: number, rng: Rng): Candidate[] {
  const picked: Candidate[] = [];
  const outputs = new Set<string>();
  while (picked.length < count && pool.length > 0) {
    let best = -1;
    let bestScore = -Infinity;
    pool.forEach((c, index) => {
      let killed = 0;
      for (const m of alive) if (c.kills[m]) killed++;
      const score = killed * 10 + (outputs.has(c.output) ? 0 : 5) + rng.next();
      if (score > bestScore) {
        bestScore = score;
        best = index;
      }
    });
    const [chosen] = pool.splice(best, 1);
    picked.push(chosen);
    outputs.add(chosen.output);
    for (const m of [...alive]) if (chosen.kills[m]) alive.delete(m);
  }
  return picked;
}

export interface TestInputs {
  visible: Value[][];
  hidden: Value[][];
  /** Mutants (trivial ones included) no hidden test tells apart from the reference; equivalent ones always survive. */
  survivingMutants: number;
  mutantCount: number;
}

/**
 * Picks 2-3 visible and HIDDEN_TESTS hidden inputs for `spec`, all distinct and all with a JSON
 * expected value. Throws if the task is defined on too few inputs (the pool never lets such a
 * task in).
 */
export function chooseTestInputs(spec: TaskSpec, rng: Rng): TestInputs {
  const others = mutants(spec, rng);
  const all = candidates(spec, rng, others);
  const visibleCount = rng.int(2, 3);
  if (all.length < visibleCount + HIDDEN_TESTS) {
    throw new Error(`only ${all.length} usable test inputs for a task on ${spec.signature}; need ${visibleCount + HIDDEN_TESTS}`);
  }
  // Examples are typical inputs when the task is defined on enough of them.
  const typical = all.filter((c) => c.typical);
  const nonEdge = all.filter((c) => !c.edge);
  const examplePool = typical.length >= visibleCount ? typical : nonEdge.length >= visibleCount ? nonEdge : all.slice();
  const mutantCount = all[0].kills.length;
  const everyMutant = () => new Set(Array.from({ length: mutantCount }, (_, m) => m));
  const visible = pickGreedy(examplePool, everyMutant(), visibleCount, rng);
  // Examples that all show one answer teach little (a boolean task with only "false"): if the
  // typical inputs had no other answer, the last example becomes the best input that does.
  if (new Set(visible.map((c) => c.output)).size === 1) {
    const different = all.filter((c) => c.output !== visible[0].output);
    // Only if one is left for the hidden tests, which matter more: they are the reward.
    if (different.length >= 2) {
      const alive = everyMutant();
      for (const c of visible.slice(0, -1)) for (const m of [...alive]) if (c.kills[m]) alive.delete(m);
      visible[visible.length - 1] = pickGreedy(different, alive, 1, rng)[0];
    }
  }
  const rest = all.filter((c) => !visible.includes(c));

  const alive = everyMutant();
  const hidden: Candidate[] = [];
  // The plainest edge case (0, [], "") whenever the task is defined there, then the edge case
  // that tells most mutants apart.
  const plainest = rest.find((c) => c.plainest);
  if (plainest) hidden.push(...pickGreedy([plainest], alive, 1, rng));
  const edges = rest.filter((c) => c.edge && !hidden.includes(c));
  if (edges.length > 0) hidden.push(...pickGreedy(edges, alive, 1, rng));
  const remaining = rest.filter((c) => !hidden.includes(c));
  hidden.push(...pickGreedy(remaining, alive, HIDDEN_TESTS - hidden.length, rng));
  return {
    visible: visible.map((c) => c.input),
    hidden: hidden.map((c) => c.input),
    survivingMutants: alive.size,
    mutantCount,
  };
}
