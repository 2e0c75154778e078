/**
 * Splitting the pool into train, validation and test, stratified by family and difficulty so the
 * held-out splits are neither easier nor differently mixed than train. Fingerprints in the pool
 * are already distinct, so the splits are disjoint by behaviour.
 *
 * Items are sorted by stratum (difficulty, then family name), shuffled within each stratum, and
 * the held-out positions are spread evenly over that order (systematic sampling): every stratum
 * gives the held-out splits its share, to within one task.
 */
import type { SuiteSizes } from "../tasks/manifest";
import type { Split, Task } from "../tasks/types";
import type { Rng } from "../util/rng";

export type { SuiteSizes } from "../tasks/manifest";

/** Positions i of n where a systematic sample of size k takes an item. */
function takes(i: number, n: number, k: number): boolean {
  return Math.floor(((i + 1) * k) / n) > Math.floor((i * k) / n);
}

export function assignSplits<T>(
  items: readonly T[],
  stratum: (item: T) => string,
  sizes: SuiteSizes,
  rng: Rng,
): Record<Split, T[]> {
  const total = sizes.train + sizes.validation + sizes.test;
  if (items.length !== total) throw new Error(`assignSplits: ${items.length} items for splits of ${total}`);
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = stratum(item);
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const ordered = [...groups.keys()].sort().flatMap((key) => rng.shuffle(groups.get(key)!));
  const heldOut = sizes.validation + sizes.test;
  const out: Record<Split, T[]> = { train: [], validation: [], test: [] };
  let held = 0;
  ordered.forEach((item, i) => {
    if (!takes(i, total, heldOut)) out.train.push(item);
    else (takes(held++, heldOut, sizes.test) ? out.test : out.validation).push(item);
  });
  return out;
}

/** A generated task suite: its seed, sizes and the tasks of each split. */
export interface Suite {
  seed: number;
  sizes: SuiteSizes;
  train: Task[];
  validation: Task[];
  test: Task[];
}
