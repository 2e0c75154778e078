/**
 * Test inputs for a group of feedback-suite tasks (one description, one task per option of the
 * withheld part). The inputs are chosen once per group, from a stream that depends on the
 * description and never on the option, so the visible inputs cannot hint at the option.
 *
 * Every VISIBLE input must
 * - tell all options apart (their outputs are pairwise different), so any one program matches
 *   the expected value of at most one task of the group, and a wrong option fails every visible
 *   test: the feedback always has a failing case to show;
 * - be short: its arguments and every option's output render in at most MAX_SHOWN_CHARS
 *   characters, so the 100-character feedback line always shows the input and the expected
 *   value whole (src/feedback.ts shortens only fields longer than what is left for each, which
 *   is never below MAX_SHOWN_CHARS; test/feedback-suite.test.ts checks it);
 * - for the first one, meet the family's `firstVisible` condition (the offset family's 0).
 * Hidden inputs only need every option defined there; they are picked greedily to tell the task
 * apart from near misses of its visible operations, as the kit's other tests are (testcases.ts).
 */
import type { Rng } from "../../util/rng";
import { definedOutput, isTestableValue, render } from "../behaviour";
import { edgeInputs, randomInput } from "../inputs";
import { type TaskSpec, runSpec } from "../ops";
import { hotValues, mutants } from "../testcases";
import type { Value } from "../../tasks/types";
import type { FeedbackFamily } from "./families";

export const FEEDBACK_VISIBLE_TESTS = 3;
export const FEEDBACK_HIDDEN_TESTS = 8;
/** Longest rendering of a visible test's arguments, and of any option's output on it. */
export const MAX_SHOWN_CHARS = 20;

const TYPICAL_CANDIDATES = 40;
const OTHER_CANDIDATES = 40;

/** One description's tasks before tests: the visible prefix and one full spec per option. */
export interface GroupSpecs {
  family: FeedbackFamily;
  /** The visible operations before the hidden step, as a spec (null when there are none). */
  prefix: TaskSpec | null;
  /** One spec per option of the withheld part, in the family's option order. */
  variants: TaskSpec[];
}

interface Candidate {
  input: Value[];
  /** The value that reaches the hidden step. */
  before: unknown;
  /** Each option's output, rendered; null where some option is undefined. */
  outputs: string[] | null;
  distinguishing: boolean;
  short: boolean;
  typical: boolean;
  plainest: boolean;
  kills: boolean[];
}

function prefixOutput(group: GroupSpecs, input: readonly Value[]): unknown {
  return group.prefix ? runSpec(group.prefix, input) : input[0];
}

/** More inputs where the offset family's 0 can reach the hidden step: zeros put into lists. */
function zeroVariants(input: Value[], rng: Rng): Value[][] {
  const [first, ...rest] = input;
  if (!Array.isArray(first)) return [];
  const xs = first as number[];
  const out: Value[][] = [];
  if (xs.length > 0) out.push([[0, ...xs.slice(1)], ...rest]);
  if (xs.length < 6) {
    const at = rng.int(0, xs.length);
    out.push([[...xs.slice(0, at), 0, ...xs.slice(at)], ...rest]);
  }
  // Zero as the largest element (survives "sort descending", "keep the negative elements"...).
  out.push([xs.map((v) => -Math.abs(v)).concat(xs.length < 6 ? [0] : []).slice(0, 6), ...rest]);
  return out;
}

function drawInputs(group: GroupSpecs, rng: Rng): { input: Value[]; typical: boolean; plainest: boolean }[] {
  const signature = group.variants[0].signature;
  const hot = group.prefix ? hotValues(group.prefix) : { ints: [], letters: [] };
  const drawn = edgeInputs(signature, hot).map((input, i) => ({ input, typical: false, plainest: i === 0 }));
  const wantsZero = group.family.firstVisible !== undefined;
  for (let n = 0; n < TYPICAL_CANDIDATES; n++) {
    const input = randomInput(signature, rng, hot, true);
    drawn.push({ input, typical: true, plainest: false });
    if (wantsZero) for (const z of zeroVariants(input, rng)) drawn.push({ input: z, typical: true, plainest: false });
  }
  if (wantsZero && signature === "(x)") for (let x = -20; x <= 20; x++) drawn.push({ input: [x], typical: true, plainest: false });
  for (let n = 0; n < OTHER_CANDIDATES; n++) drawn.push({ input: randomInput(signature, rng, hot, false), typical: false, plainest: false });
  return drawn;
}

function candidatesOf(group: GroupSpecs, rng: Rng): Candidate[] {
  const reference = group.variants[0];
  // Near misses of the visible operations, each followed by the hidden step of option 0.
  const nearMisses = group.prefix
    ? mutants(group.prefix, rng).map((m): TaskSpec => ({ signature: reference.signature, ops: [...m.ops, reference.ops[reference.ops.length - 1]] }))
    : [];
  const seen = new Map<string, Candidate>();
  const out: Candidate[] = [];
  for (const { input, typical, plainest } of drawInputs(group, rng)) {
    const key = JSON.stringify(input);
    const earlier = seen.get(key);
    if (earlier) {
      // An edge case drawn again as a typical input may be an example too (0 for "(x)").
      earlier.typical ||= typical;
      continue;
    }
    const values = group.variants.map((spec) => definedOutput(spec, input));
    const defined = values.every((v) => v !== undefined && isTestableValue(v));
    const outputs = defined ? values.map((v) => render(v)) : null;
    // For JSON values render() is the text the prompt and the feedback show (model/prompt.ts).
    const shown = defined ? values.map((v) => render(v).length) : [];
    const candidate: Candidate = {
      input,
      before: defined ? prefixOutput(group, input) : undefined,
      outputs,
      distinguishing: outputs !== null && new Set(outputs).size === outputs.length,
      short: defined && input.map((v) => render(v)).join(",").length <= MAX_SHOWN_CHARS && shown.every((n) => n <= MAX_SHOWN_CHARS),
      typical,
      plainest,
      kills: outputs === null ? [] : nearMisses.map((m) => render(definedOutput(m, input)) !== outputs[0]),
    };
    seen.set(key, candidate);
    out.push(candidate);
  }
  return out.filter((c) => c.outputs !== null);
}

/** Picks up to `count` of `pool` greedily: most near misses killed, then a new output, then chance. */
function pickGreedy(pool: Candidate[], alive: Set<number>, count: number, rng: Rng, bonus: (c: Candidate) => number = () => 0): Candidate[] {
  const picked: Candidate[] = [];
  const outputs = new Set<string>();
  const left = pool.slice();
  while (picked.length < count && left.length > 0) {
    let best = 0;
    let bestScore = -Infinity;
    left.forEach((c, i) => {
      let killed = 0;
      for (const m of alive) if (c.kills[m]) killed++;
      const score = killed * 10 + (outputs.has(c.outputs![0]) ? 0 : 5) + bonus(c) + rng.next();
      if (score > bestScore) [best, bestScore] = [i, score];
    });
    const [chosen] = left.splice(best, 1);
    picked.push(chosen);
    outputs.add(chosen.outputs![0]);
    for (const m of [...alive]) if (chosen.kills[m]) alive.delete(m);
  }
  return picked;
}

/**
 * FEEDBACK_VISIBLE_TESTS visible and FEEDBACK_HIDDEN_TESTS hidden inputs for a group, or null when
 * the group cannot have them (the pool then drops the description).
 */
export function chooseGroupInputs(group: GroupSpecs, rng: Rng): { visible: Value[][]; hidden: Value[][] } | null {
  const all = candidatesOf(group, rng);
  const showable = all.filter((c) => c.distinguishing && c.short);
  const typical = showable.filter((c) => c.typical);
  const examples = typical.length >= FEEDBACK_VISIBLE_TESTS ? typical : showable;
  const firstOk = (c: Candidate) => group.family.firstVisible?.(c.before) ?? true;
  const mutantCount = all[0]?.kills.length ?? 0;
  const alive = new Set(Array.from({ length: mutantCount }, (_, m) => m));
  const first = pickGreedy(examples.filter(firstOk), alive, 1, rng);
  if (first.length === 0) return null;
  const rest = pickGreedy(examples.filter((c) => c !== first[0]), alive, FEEDBACK_VISIBLE_TESTS - 1, rng);
  const visible = [...first, ...rest];
  if (visible.length < FEEDBACK_VISIBLE_TESTS) return null;

  const remaining = all.filter((c) => !visible.includes(c));
  const hiddenAlive = new Set(Array.from({ length: mutantCount }, (_, m) => m));
  const hidden: Candidate[] = [];
  // The plainest edge case (0, [], "") whenever every option is defined there, as in the kit.
  const plainest = remaining.find((c) => c.plainest);
  if (plainest) hidden.push(...pickGreedy([plainest], hiddenAlive, 1, rng));
  // Inputs that tell the options apart also make the reward tell them apart.
  hidden.push(...pickGreedy(remaining.filter((c) => !hidden.includes(c)), hiddenAlive, FEEDBACK_HIDDEN_TESTS - hidden.length, rng, (c) => (c.distinguishing ? 3 : 0)));
  if (hidden.length < FEEDBACK_HIDDEN_TESTS) return null;
  return { visible: visible.map((c) => c.input), hidden: hidden.map((c) => c.input) };
}
