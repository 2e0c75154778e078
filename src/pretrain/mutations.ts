/**
 * Wrong attempts for the base model's repair data: small edits of a correct program that a
 * beginner might make (an off-by-one constant, a flipped comparison, the wrong method, a typo, a
 * broken bracket). The pretraining set pairs such an attempt and its real sandbox feedback with
 * the reference, so the base model can already use feedback a little and RL has room to improve
 * both first attempts and repairs.
 *
 * Mutations work on the program text. Whether a mutant is really wrong is decided by running it
 * in the sandbox (see dataset.ts), not here.
 */
import type { Rng } from "../util/rng";

export type MutationKind = "constant" | "operator" | "method" | "typo" | "syntax" | "drop_call";

export interface Mutation {
  kind: MutationKind;
  code: string;
}

const OPERATOR_SWAPS: [RegExp, string[]][] = [
  [/<=/g, ["<", ">="]],
  [/>=/g, [">", "<="]],
  [/(?<![<>=!])<(?![=])/g, ["<=", ">"]],
  [/(?<![<>=!-])>(?![=])/g, [">=", "<"]],
  [/===/g, ["!=="]],
  [/!==/g, ["==="]],
  [/(?<![+])\+(?![+=])/g, ["-", "*"]],
  [/(?<![-=(,\s])-(?![-=>])/g, ["+"]],
  [/\*/g, ["+", "-"]],
  [/%/g, ["/"]],
  [/&&/g, ["||"]],
  [/\|\|/g, ["&&"]],
];

const METHOD_SWAPS: [string, string[]][] = [
  [".filter(", [".map(", ".find("]],
  [".map(", [".filter(", ".forEach("]],
  ["toUpperCase", ["toLowerCase"]],
  ["toLowerCase", ["toUpperCase"]],
  ["Math.max", ["Math.min"]],
  ["Math.min", ["Math.max"]],
  [".some(", [".every("]],
  [".every(", [".some("]],
  [".indexOf(", [".lastIndexOf("]],
  [".startsWith(", [".endsWith("]],
  [".endsWith(", [".startsWith("]],
  ["Math.floor", ["Math.ceil", "Math.round"]],
  [".slice(", [".splice("]],
];

/** Replace the `index`-th match of `re` in `text` by `by`. */
function replaceNth(text: string, re: RegExp, index: number, by: string): string {
  let i = 0;
  return text.replace(re, (m) => (i++ === index ? by : m));
}

function countMatches(text: string, re: RegExp): number {
  return (text.match(re) ?? []).length;
}

/** Candidate mutants of one kind (possibly none). */
function mutantsOf(kind: MutationKind, code: string, rng: Rng): string[] {
  switch (kind) {
    case "constant": {
      const re = /(?<![\w.$])\d+(?![\w.])/g;
      const n = countMatches(code, re);
      if (n === 0) return [];
      const at = rng.int(0, n - 1);
      const value = Number([...code.matchAll(re)][at][0]);
      const options = [value + 1, value - 1, value + 2, value === 0 ? 1 : 0, value * 2].filter((v) => v !== value && v >= 0);
      return [replaceNth(code, re, at, String(rng.pick(options)))];
    }
    case "operator": {
      const out: string[] = [];
      for (const [re, swaps] of OPERATOR_SWAPS) {
        const n = countMatches(code, re);
        if (n > 0) out.push(replaceNth(code, re, rng.int(0, n - 1), rng.pick(swaps)));
      }
      return out;
    }
    case "method": {
      const out: string[] = [];
      for (const [from, tos] of METHOD_SWAPS) if (code.includes(from)) out.push(code.replace(from, rng.pick(tos)));
      return out;
    }
    case "typo": {
      const re = /\.([a-zA-Z]{3,})\(/g;
      const names = [...code.matchAll(re)];
      if (names.length === 0) return [];
      const m = rng.pick(names);
      const name = m[1];
      const typo = rng.next() < 0.5 ? name + name[name.length - 1] : name.slice(0, -1);
      return [code.slice(0, m.index) + "." + typo + "(" + code.slice((m.index ?? 0) + m[0].length)];
    }
    case "syntax": {
      const closers = [...code.matchAll(/[)\]]/g)];
      const options: string[] = [];
      if (closers.length) {
        const c = rng.pick(closers);
        options.push(code.slice(0, c.index) + code.slice((c.index ?? 0) + 1));
      }
      if (code.includes("=>")) options.push(code.replace("=>", "="));
      return options;
    }
    case "drop_call": {
      const re = /\.(reverse|sort|filter|map|slice|trim|toUpperCase|toLowerCase)\((?:[^()]|\([^()]*\))*\)/g;
      const calls = [...code.matchAll(re)];
      if (calls.length === 0) return [];
      const c = rng.pick(calls);
      return [code.slice(0, c.index) + code.slice((c.index ?? 0) + c[0].length)];
    }
  }
}

/** How often each kind is tried: mostly semantic bugs, whose feedback shows expected vs got. */
export const MUTATION_WEIGHTS: Record<MutationKind, number> = {
  constant: 4,
  operator: 4,
  method: 3,
  drop_call: 2,
  typo: 1,
  syntax: 1,
};

/**
 * Up to `count` distinct mutants of `code`, different from it. Kinds are drawn by
 * MUTATION_WEIGHTS; a kind that has no site in this program is skipped.
 */
export function mutate(code: string, rng: Rng, count = 1, maxTries = 24): Mutation[] {
  const kinds = Object.entries(MUTATION_WEIGHTS) as [MutationKind, number][];
  const total = kinds.reduce((s, [, w]) => s + w, 0);
  const out: Mutation[] = [];
  const seen = new Set([code]);
  for (let tries = 0; tries < maxTries && out.length < count; tries++) {
    let r = rng.next() * total;
    let kind: MutationKind = kinds[0][0];
    for (const [k, w] of kinds) {
      if ((r -= w) < 0) {
        kind = k;
        break;
      }
    }
    const options = mutantsOf(kind, code, rng);
    if (options.length === 0) continue;
    const mutant = rng.pick(options);
    if (seen.has(mutant)) continue;
    seen.add(mutant);
    out.push({ kind, code: mutant });
  }
  return out;
}
