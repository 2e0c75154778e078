/**
 * Inputs for tasks, per signature: the fixed probe set that defines a task's behaviour
 * fingerprint, edge cases (empty, zero, negatives) and random inputs. Values stay small so
 * examples and feedback stay short: arrays of length <= 6 with integers in -20..20, strings of
 * <= 8 lowercase letters, k in 0..5.
 */
import { Rng } from "../util/rng";
import { type Signature, range } from "./ops";
import type { Value } from "../tasks/types";

export const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const VOWELS = "aeiou";

/** Constants a task mentions; random inputs use them often so tests exercise them. */
export interface HotValues {
  ints: number[];
  letters: string[];
}

const PROBE_ARRAYS: number[][] = [
  [], [0], [1], [-1], [4], [-6], [2, 2], [3, -3], [1, 2, 3], [3, 2, 1], [0, 0, 5],
  [-5, -4, -3, -2, -1, 0], [0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11], [-20, 20, -13, 13, 7, -7],
  [4, 4, 1, 1, 4], [12, -12, 0, 6, -6, 9], [-9, -8, -10, -11, -15], [15, 18, 16, 17],
  [5, -2, 8, -2, 5, 3],
];

const PROBE_ARRAYS_WITH_K: number[][] = [
  [], [0], [-1], [1, 2, 3], [3, -3], [4, 4, 1, 1, 4], [-5, -4, -3, -2, -1, 0], [0, 1, 2, 3, 4, 5],
  [12, -12, 0, 6, -6, 9], [5, -2, 8, -2, 5, 3], [-20, 20, -13, 13, 7, -7], [2, 9, -7, 5],
];

const PROBE_STRINGS: string[] = [
  "", "a", "e", "z", "ab", "ba", "abc", "cab", "hello", "banana", "racecar", "aeiou", "xyz",
  "mississi", "abcdefgh", "ijklmnop", "qrstuvwx", "yzyzaeio", "noon", "queue", "jazz", "fox",
  "aaaa", "kayak", "bcd", "wvut", "hgfedcba", "zebra", "level", "oui",
];

// Together these hold every letter, so tasks naming different letters get different fingerprints.
const PROBE_STRINGS_WITH_K: string[] = [
  "", "a", "queue", "hello", "banana", "racecar", "abcdefgh", "ijklmnop", "qrstuvwx", "yzaeiou",
];

const K_VALUES = [0, 1, 2, 3, 4, 5];

function randomArray(rng: Rng, length: number, hot: HotValues): number[] {
  return Array.from({ length }, () => randomInt(rng, hot));
}

function randomString(rng: Rng, length: number, hot: HotValues): string {
  let s = "";
  for (let i = 0; i < length; i++) {
    const r = rng.next();
    if (r < 0.3 && hot.letters.length > 0) s += rng.pick(hot.letters);
    else if (r < 0.5) s += rng.pick([...VOWELS]);
    else s += rng.pick([...LETTERS]);
  }
  return s;
}

/** Mostly small numbers, sometimes a mentioned constant or its neighbour, sometimes up to +-20. */
function randomInt(rng: Rng, hot: HotValues): number {
  const r = rng.next();
  if (r < 0.2 && hot.ints.length > 0) return Math.max(-20, Math.min(20, rng.pick(hot.ints) + rng.int(-1, 1)));
  if (r < 0.7) return rng.int(-9, 9);
  return rng.int(-20, 20);
}

function buildProbes(): Record<Signature, Value[][]> {
  // A fixed stream: probes are part of the fingerprint's definition and must never change with
  // the suite's seed. Changing them changes every fingerprint (bump PROBE_SET_VERSION).
  const rng = new Rng("murphy-tasks/probes/v1");
  const none: HotValues = { ints: [], letters: [] };
  const arrays = [...PROBE_ARRAYS];
  for (let i = 0; i < 20; i++) arrays.push(randomArray(rng, rng.int(0, 6), none));
  const strings = [...PROBE_STRINGS];
  for (let i = 0; i < 10; i++) strings.push(randomString(rng, rng.int(0, 8), none));
  return {
    "(x)": range(-20, 20).map((x) => [x]),
    "(xs)": arrays.map((xs) => [xs]),
    "(xs, k)": PROBE_ARRAYS_WITH_K.flatMap((xs) => K_VALUES.map((k) => [xs, k])),
    "(s)": strings.map((s) => [s]),
    "(s, k)": PROBE_STRINGS_WITH_K.flatMap((s) => K_VALUES.map((k) => [s, k])),
  };
}

/** Version of the probe set; fingerprints are only comparable within one version. */
export const PROBE_SET_VERSION = 1;

/** The fixed probe inputs of each signature: a task's fingerprint is its outputs on these. */
export const PROBES: Readonly<Record<Signature, readonly Value[][]>> = buildProbes();

/**
 * Edge cases: empty arrays and strings, zero, negatives, repeats, and the task's constants. The
 * first is the plainest (0, [], ""), which hidden tests include whenever the task is defined on it.
 */
export function edgeInputs(signature: Signature, hot: HotValues): Value[][] {
  const near = hot.ints.flatMap((c) => [c - 1, c, c + 1]).filter((c) => c >= -20 && c <= 20);
  const firstLetter = hot.letters[0] ?? "a";
  switch (signature) {
    case "(x)":
      return [0, 1, -1, 2, -2, 20, -20, ...near].map((x) => [x]);
    case "(xs)":
      return [
        [], [0], [-3], [5], [2, 2, 2], [-1, 0, 1], [-20, 20], [4, -4, 4, -4],
        ...near.map((c) => [c, 1 - c]),
        ...hot.ints.map((c) => [c, c, 1 - c]),
      ].map(
        (xs) => [xs],
      );
    case "(xs, k)":
      return [
        [[], 2], [[], 0], [[1, 2, 3], 0], [[5, -5, 0, 5], 5], [[3, 1, 2], 1], [[7], 3], [[-2, -2, 4], 2],
      ];
    case "(s)":
      return ["", "a", "aa", "xyz", "aeiou", "abba", firstLetter, `${firstLetter}${firstLetter}o`, `b${firstLetter}`].map(
        (s) => [s],
      );
    case "(s, k)":
      return [["", 2], ["abc", 0], ["hello", 5], ["ab", 3], ["racecar", 1], [`${firstLetter}bc`, 2]];
  }
}

/**
 * A random input. `typical` inputs are the kind shown as examples: arrays of 3-6 elements,
 * strings of 3-8 letters; otherwise lengths start at 0.
 */
export function randomInput(signature: Signature, rng: Rng, hot: HotValues, typical: boolean): Value[] {
  const arrayLength = typical ? rng.int(3, 6) : rng.int(0, 6);
  const stringLength = typical ? rng.int(3, 8) : rng.int(0, 8);
  switch (signature) {
    case "(x)":
      return [randomInt(rng, hot)];
    case "(xs)":
      return [randomArray(rng, arrayLength, hot)];
    case "(xs, k)":
      return [randomArray(rng, arrayLength, hot), rng.int(0, 5)];
    case "(s)":
      return [randomString(rng, stringLength, hot)];
    case "(s, k)":
      return [randomString(rng, stringLength, hot), rng.int(0, 5)];
  }
}
