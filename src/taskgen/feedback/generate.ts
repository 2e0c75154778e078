/**
 * The feedback suite (data/tasks/feedback/), generated deterministically from a seed:
 *   per family: pool of groups -> stratified split of whole groups -> one task per option -> files.
 *
 *   const suite = generateFeedbackSuite(1, FEEDBACK_SIZES);   // { train, validation, test }
 *   writeFeedbackSuite("data/tasks/feedback", suite);
 *
 * Each family gets an equal share of every split. A split holds whole groups, so every description in
 * it appears once with each option of its withheld part, and no description (nor behaviour) is in
 * two splits.
 *
 * As a script: node --import tsx src/taskgen/feedback/generate.ts [--seed 1] [--out data/tasks/feedback]
 *   [--train 3600] [--validation 240] [--test 360]
 */
import { parseArgs } from "node:util";
import { Rng } from "../../util/rng";
import { compileReference, copyInput, isTestableValue, render, renderResult } from "../behaviour";
import type { Suite } from "../split";
import { runSpec } from "../ops";
import { type SuiteSizes, assignSplits } from "../split";
import type { Split, Task, TestCase, Value } from "../../tasks/types";
import { FEEDBACK_FAMILIES, FEEDBACK_FAMILY_NAMES, type FeedbackFamily } from "./families";
import { type FeedbackGroup, buildFamilyPool } from "./pool";
import { writeFeedbackSuite } from "./write";

export const FEEDBACK_SEED = 1;
export const FEEDBACK_SIZES: SuiteSizes = { train: 3600, validation: 240, test: 360 };
const SPLITS: readonly Split[] = ["train", "validation", "test"];

/** Every split size must share out evenly: an equal share per family, in whole groups of every family. */
export const SIZE_UNIT = FEEDBACK_FAMILY_NAMES.length * lcm(FEEDBACK_FAMILY_NAMES.map((f) => FEEDBACK_FAMILIES[f].options.length));

function lcm(ns: readonly number[]): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return ns.reduce((a, b) => (a * b) / gcd(a, b), 1);
}

function checkSizes(sizes: SuiteSizes): void {
  for (const split of SPLITS) {
    const n = sizes[split];
    if (!Number.isInteger(n) || n < 0 || n % SIZE_UNIT !== 0) {
      throw new Error(`feedback suite: sizes.${split} must be a multiple of ${SIZE_UNIT} (${FEEDBACK_FAMILY_NAMES.length} families, whole groups of each; got ${n})`);
    }
  }
}

/** Groups of each split, per family, in their final order (no tasks built yet). */
export function planFeedbackSuite(seed: number, sizes: SuiteSizes): Record<Split, FeedbackGroup[]> {
  checkSizes(sizes);
  const rng = new Rng(`murphy-feedback-tasks/${seed}`);
  const seen = new Set<string>();
  const plan: Record<Split, FeedbackGroup[]> = { train: [], validation: [], test: [] };
  for (const name of FEEDBACK_FAMILY_NAMES) {
    const family = FEEDBACK_FAMILIES[name];
    const per = family.options.length * FEEDBACK_FAMILY_NAMES.length;
    const groupSizes: SuiteSizes = { train: sizes.train / per, validation: sizes.validation / per, test: sizes.test / per };
    const pool = buildFamilyPool(family, groupSizes.train + groupSizes.validation + groupSizes.test, seen, rng.fork(`pool/${name}`), seed);
    const assigned = assignSplits(pool, (g) => `${g.difficulty}|${g.signature}`, groupSizes, rng.fork(`split/${name}`));
    for (const split of SPLITS) plan[split].push(...assigned[split]);
  }
  return plan;
}

/** The task of `group` whose withheld part takes option `option`. */
export function buildFeedbackTask(group: FeedbackGroup, option: number, id: string): Task {
  const family: FeedbackFamily = group.family;
  const spec = group.variants[option];
  const { reference } = group.composed[option];
  const program = compileReference(reference);
  const testCase = (input: Value[]): TestCase => {
    const expected = program(...copyInput(input));
    if (!isTestableValue(expected)) throw new Error(`task ${id}: ${reference} returns ${render(expected)} on ${JSON.stringify(input)}, not a short JSON value`);
    const byOperations = renderResult(() => runSpec(spec, input));
    if (render(expected) !== byOperations) throw new Error(`task ${id}: ${reference} returns ${render(expected)} on ${JSON.stringify(input)}, its operations ${byOperations}`);
    return { input, expected };
  };
  return {
    id,
    family: family.name,
    difficulty: group.difficulty,
    description: group.description,
    signature: group.signature,
    visible: group.inputs.visible.map(testCase),
    hidden: group.inputs.hidden.map(testCase),
    reference,
    promptShows: "inputs",
    withheld: `${family.label} = ${family.options[option]}`,
    behaviours: group.composed.map((c) => c.reference),
  };
}

/** The tasks of one split: every option of every group, shuffled, with ids "<split>-00042". */
export function buildFeedbackSplit(seed: number, split: Split, groups: readonly FeedbackGroup[]): Task[] {
  const items = groups.flatMap((group) => group.family.options.map((_, option) => ({ group, option })));
  const order = new Rng(`murphy-feedback-tasks/${seed}/order/${split}`).shuffle(items);
  return order.map(({ group, option }, i) => buildFeedbackTask(group, option, `${split}-${String(i).padStart(5, "0")}`));
}

export function generateFeedbackSuite(seed: number = FEEDBACK_SEED, sizes: SuiteSizes = FEEDBACK_SIZES): Suite {
  const plan = planFeedbackSuite(seed, sizes);
  return {
    seed,
    sizes: { ...sizes },
    train: buildFeedbackSplit(seed, "train", plan.train),
    validation: buildFeedbackSplit(seed, "validation", plan.validation),
    test: buildFeedbackSplit(seed, "test", plan.test),
  };
}

function intOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new Error(`--${name} must be an integer >= 0 (got "${text}")`);
  return Number(text);
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: "string" },
      out: { type: "string", default: "data/tasks/feedback" },
      train: { type: "string" },
      validation: { type: "string" },
      test: { type: "string" },
    },
  });
  const seed = intOption("seed", values.seed, FEEDBACK_SEED);
  const sizes: SuiteSizes = {
    train: intOption("train", values.train, FEEDBACK_SIZES.train),
    validation: intOption("validation", values.validation, FEEDBACK_SIZES.validation),
    test: intOption("test", values.test, FEEDBACK_SIZES.test),
  };
  const started = Date.now();
  const suite = generateFeedbackSuite(seed, sizes);
  writeFeedbackSuite(values.out!, suite);
  process.stdout.write(
    `wrote ${suite.train.length} train, ${suite.validation.length} validation, ${suite.test.length} test feedback tasks ` +
      `(seed ${seed}) to ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
}
