/**
 * The task suite, generated deterministically from a seed:
 *   pool (distinct behaviours) -> stratified split -> tests per task -> files.
 *
 *   const suite = generateSuite(1, DEFAULT_SIZES);   // { train, validation, test }
 *   writeSuite("data/tasks", suite);
 *
 * As a script: node --import tsx src/taskgen/generate.ts [--seed 1] [--out data/tasks]
 *   [--train 20000] [--validation 500] [--test 500]
 */
import { parseArgs } from "node:util";
import { Rng } from "../util/rng";
import { buildTask } from "./build";
import { type PoolEntry, buildPool } from "./pool";
import { type Suite, type SuiteSizes, assignSplits } from "./split";
import type { Split, Task } from "../tasks/types";
import { writeSuite } from "./write";

export type { SuiteSizes } from "./split";
export { writeSuite } from "./write";
export type { Suite } from "./split";

export const DEFAULT_SEED = 1;
export const DEFAULT_SIZES: SuiteSizes = { train: 20000, validation: 500, test: 500 };
export const SPLITS: readonly Split[] = ["train", "validation", "test"];


function checkSizes(sizes: SuiteSizes): void {
  for (const split of SPLITS) {
    const n = sizes[split];
    if (!Number.isInteger(n) || n < 0) throw new Error(`task suite: sizes.${split} must be an integer >= 0 (got ${n})`);
  }
  if (sizes.train + sizes.validation + sizes.test === 0) throw new Error("task suite: all sizes are 0");
}

/** Which specs go to which split, in their final order (cheap: no tests are chosen yet). */
export function planSuite(seed: number, sizes: SuiteSizes): Record<Split, PoolEntry[]> {
  checkSizes(sizes);
  const rng = new Rng(`murphy-tasks/${seed}`);
  const pool = buildPool(rng.fork("pool"), sizes.train + sizes.validation + sizes.test);
  const splitRng = rng.fork("split");
  const assigned = assignSplits(pool, (e) => `${e.composed.difficulty}|${e.composed.family}`, sizes, splitRng);
  // Shuffle each split so a reader (or a trainer going in order) sees families mixed.
  return {
    train: splitRng.shuffle(assigned.train),
    validation: splitRng.shuffle(assigned.validation),
    test: splitRng.shuffle(assigned.test),
  };
}

/** A task id: split name and position, e.g. "test-00042". */
export function taskId(split: Split, index: number): string {
  return `${split}-${String(index).padStart(5, "0")}`;
}

/** The finished tasks of one split of a plan (tests chosen, expected values computed). */
export function buildSplit(seed: number, split: Split, entries: readonly PoolEntry[]): Task[] {
  return entries.map((entry, i) => buildTask(entry, taskId(split, i), seed));
}

/** The whole suite. Same seed and sizes, same suite, on any machine. */
export function generateSuite(seed: number = DEFAULT_SEED, sizes: SuiteSizes = DEFAULT_SIZES): Suite {
  const plan = planSuite(seed, sizes);
  return {
    seed,
    sizes: { ...sizes },
    train: buildSplit(seed, "train", plan.train),
    validation: buildSplit(seed, "validation", plan.validation),
    test: buildSplit(seed, "test", plan.test),
  };
}

/** One split of the suite `generateSuite(seed, sizes)` would give, without building the others. */
export function generateSplit(seed: number, sizes: SuiteSizes, split: Split): Task[] {
  return buildSplit(seed, split, planSuite(seed, sizes)[split]);
}

function intOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new Error(`--${name} must be an integer >= 0 (got "${text}")`);
  return n;
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: "string" },
      out: { type: "string", default: "data/tasks" },
      train: { type: "string" },
      validation: { type: "string" },
      test: { type: "string" },
    },
  });
  const seed = intOption("seed", values.seed, DEFAULT_SEED);
  const sizes: SuiteSizes = {
    train: intOption("train", values.train, DEFAULT_SIZES.train),
    validation: intOption("validation", values.validation, DEFAULT_SIZES.validation),
    test: intOption("test", values.test, DEFAULT_SIZES.test),
  };
  const started = Date.now();
  const suite = generateSuite(seed, sizes);
  writeSuite(values.out!, suite);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `wrote ${suite.train.length} train, ${suite.validation.length} validation, ${suite.test.length} test tasks ` +
      `(seed ${seed}) to ${values.out} in ${seconds} s\n`,
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
