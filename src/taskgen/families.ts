/**
 * The task families and the catalogue of every operation, by family. A task of difficulty 1 is
 * one operation; composed tasks chain 2-3 operations and name their family "filter+map" etc.
 */
import { type Family, FAMILIES, type Kind, type Op } from "./ops";
import { ARRAY_OPS } from "./ops-arrays";
import { NUMBER_OPS } from "./ops-numbers";
import { STRING_OPS } from "./ops-strings";

/** What each family covers, with an example clause (used in data/tasks/README.md). */
export const FAMILY_INFO: Record<Family, { covers: string; example: string }> = {
  arith: { covers: "integer arithmetic: add, subtract, multiply, square, absolute value, floor division", example: "multiply by 3" },
  condition: { covers: "conditionals and clamps, on a number or element-wise", example: "add 2 to each even element" },
  map: { covers: "element-wise arithmetic on arrays", example: "add 3 to each element" },
  filter: { covers: "keeping or removing array elements by a predicate, removing duplicates", example: "keep the elements greater than 2" },
  reduce: { covers: "sum, largest, smallest, first and last element", example: "return the sum" },
  count: { covers: "counting elements, distinct elements, letters, vowels, occurrences", example: "count the odd elements" },
  slice: { covers: "first/last n elements or letters, dropping them, even indexes", example: "take the first 3 elements" },
  order: { covers: "reversing and sorting arrays and letters", example: "sort descending" },
  case: { covers: "upper-casing a string, its first/last letter, vowels, a letter, even indexes", example: "capitalize the first letter" },
  chars: { covers: "removing, replacing, doubling, appending letters; repeating; finding a letter", example: "replace every 'a' with 'o'" },
  check: { covers: "boolean tests: parity, comparisons, every/some, contains, starts/ends with, palindrome", example: "check if every element is positive" },
};

export const ALL_OPS: readonly Op[] = [...NUMBER_OPS, ...ARRAY_OPS, ...STRING_OPS];

const BY_NAME = new Map<string, Op>();
for (const op of ALL_OPS) {
  if (BY_NAME.has(op.name)) throw new Error(`duplicate operation name ${op.name}`);
  BY_NAME.set(op.name, op);
}

/** The operation called `name` (throws if there is none). */
export function opByName(name: string): Op {
  const op = BY_NAME.get(name);
  if (!op) throw new Error(`no operation named "${name}"`);
  return op;
}

const FROM_KIND = new Map<Kind, readonly Op[]>();
for (const kind of ["int", "ints", "str", "bool"] as const) FROM_KIND.set(kind, ALL_OPS.filter((op) => op.from === kind));

const FROM_KIND_BY_FAMILY = new Map<Kind, Map<Family, readonly Op[]>>();
for (const [kind, ops] of FROM_KIND) {
  const byFamily = new Map<Family, Op[]>();
  for (const op of ops) byFamily.set(op.family, [...(byFamily.get(op.family) ?? []), op]);
  FROM_KIND_BY_FAMILY.set(kind, byFamily);
}

/** Operations that take a value of `kind`, by family (in FAMILIES order). */
export function opsFromByFamily(kind: Kind): ReadonlyMap<Family, readonly Op[]> {
  return FROM_KIND_BY_FAMILY.get(kind)!;
}

/** Operations that take a value of `kind`. */
export function opsFrom(kind: Kind): readonly Op[] {
  return FROM_KIND.get(kind)!;
}

/** Base families of a (possibly composed) family name: "filter+map" -> ["filter", "map"]. */
export function baseFamilies(family: string): Family[] {
  const parts = family.split("+");
  return parts.filter((p): p is Family => (FAMILIES as readonly string[]).includes(p));
}
