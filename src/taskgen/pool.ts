/**
 * The pool: every task of the suite before it is split, as specs with distinct behaviour.
 *
 * A drawn spec joins the pool only if it is a sensible, new function:
 * - short: reference and description within MAX_REFERENCE_CHARS / MAX_DESCRIPTION_CHARS;
 * - defined on most probe inputs (at least half give a short JSON value);
 * - not constant or nearly so, not the identity, and (for k-tasks) depends on k;
 * - minimal: dropping any one operation changes the behaviour ("reverse, then return the sum"
 *   is just "return the sum" and is refused);
 * - new: its fingerprint is not in the pool yet.
 * Difficulty 1 is enumerated completely first, so a composed task never duplicates a
 * single-operation one; then composed tasks are drawn until each difficulty has its quota.
 */
import type { Rng } from "../util/rng";
import {
  MAX_VALUE_CHARS,
  fingerprintFromOutputs,
  isJsonValue,
  renderResult,
  specFingerprint,
} from "./behaviour";
import { PROBES } from "./inputs";
import {
  type Composed,
  SIGNATURES,
  SIGNATURE_INFO,
  type Signature,
  type TaskSpec,
  compose,
  difficultyOf,
  runSpec,
  specProblem,
} from "./ops";
import { SIGNATURE_WEIGHTS, enumerateSingleOps, pickWeighted, sampleSpec } from "./sample";

export const MAX_REFERENCE_CHARS = 80;
export const MAX_DESCRIPTION_CHARS = 100;

/**
 * Target share of each difficulty (1, 2, 3) in the suite. Difficulty 1 has only a few thousand
 * distinct functions, most of them conditionals and letter replacements, so it also has a
 * per-family cap; whatever it cannot fill goes to difficulties 2 and 3 in proportion.
 */
export const DIFFICULTY_SHARES: readonly [number, number, number] = [0.15, 0.4, 0.45];

/** At most this many difficulty-1 tasks per family, so no family dominates the simplest tasks. */
export const LEVEL1_FAMILY_CAP = 200;

/** Each probe's first argument as rendered text, to recognise the identity function. */
const PROBE_FIRST_ARGUMENTS = Object.fromEntries(
  SIGNATURES.map((s) => [s, PROBES[s].map((input) => renderResult(() => input[0]))]),
) as Record<Signature, string[]>;

export interface PoolEntry {
  spec: TaskSpec;
  composed: Composed;
  fingerprint: string;
}

/**
 * The pool entry for `spec`, or null with no reason if it is refused (see the module comment).
 * `seen` holds the fingerprints taken so far.
 */
export function judgeSpec(spec: TaskSpec, seen: ReadonlySet<string>): PoolEntry | null {
  if (specProblem(spec) !== null) return null;
  const composed = compose(spec);
  if (composed.reference.length > MAX_REFERENCE_CHARS || composed.description.length > MAX_DESCRIPTION_CHARS) return null;

  const probes = PROBES[spec.signature];
  const probeTexts = PROBE_FIRST_ARGUMENTS[spec.signature];
  const outputs: string[] = [];
  const distinct = new Set<string>();
  let definedCount = 0;
  let identity = true;
  for (let i = 0; i < probes.length; i++) {
    let stepsDefined = true;
    let value: unknown;
    const text = renderResult(
      () =>
        (value = runSpec(spec, probes[i], (step) => {
          if (!isJsonValue(step)) stepsDefined = false;
        })),
    );
    outputs.push(text);
    // For JSON values the rendering is their JSON text, so its length is the JSON length.
    if (stepsDefined && isJsonValue(value) && text.length <= MAX_VALUE_CHARS) {
      definedCount++;
      distinct.add(text);
      if (text !== probeTexts[i]) identity = false;
    }
  }
  if (definedCount * 2 < probes.length || distinct.size < 2 || identity) return null;
  if (nearlyConstant(spec.signature, outputs, definedCount)) return null;
  if (SIGNATURE_INFO[spec.signature].param !== null && !dependsOnParam(probeTexts, outputs)) return null;

  const fingerprint = fingerprintFromOutputs(spec.signature, outputs);
  if (seen.has(fingerprint)) return null;
  for (let i = 0; i < spec.ops.length && spec.ops.length > 1; i++) {
    const shorter: TaskSpec = { signature: spec.signature, ops: spec.ops.filter((_, j) => j !== i) };
    if (specProblem(shorter) === null && specFingerprint(shorter) === fingerprint) return null;
  }
  return { spec, composed, fingerprint };
}

/**
 * True if one output covers more than 90% of the defined probe outputs on "(x)", whose probes
 * are its whole input range (-20..20), so tests could never show the other answers often
 * enough: "check if equal to 5" is false on 40 of 41 inputs. Other signatures' probes are
 * spread thinner than their tests (which favour the task's constants), so only more than 95%
 * counts there.
 */
function nearlyConstant(signature: Signature, outputs: readonly string[], definedCount: number): boolean {
  const frequency = new Map<string, number>();
  for (const o of outputs) frequency.set(o, (frequency.get(o) ?? 0) + 1);
  const limit = signature === "(x)" ? 0.9 : 0.95;
  for (const [output, count] of frequency) {
    if (!output.startsWith("!") && count > limit * definedCount) return true;
  }
  return false;
}

/** True if some first argument gives different outputs for different k. */
function dependsOnParam(firstArguments: readonly string[], outputs: readonly string[]): boolean {
  const byFirst = new Map<string, string>();
  for (let i = 0; i < firstArguments.length; i++) {
    const key = firstArguments[i];
    const seenOutput = byFirst.get(key);
    if (seenOutput === undefined) byFirst.set(key, outputs[i]);
    else if (seenOutput !== outputs[i]) return true;
  }
  return false;
}

/** A spec as text: signature, operation names and arguments. */
function specKey(spec: TaskSpec): string {
  return `${spec.signature} ${spec.ops.map((c) => `${c.op.name}(${c.args.map((a) => (a.type === "param" ? a.name : a.value)).join(",")})`).join(" ")}`;
}

/** How many tasks of each difficulty a pool of `total` tasks gets (before difficulty 1 runs out). */
export function difficultyQuotas(total: number): [number, number, number] {
  const d1 = Math.round(total * DIFFICULTY_SHARES[0]);
  const d2 = Math.round(total * DIFFICULTY_SHARES[1]);
  return [d1, d2, total - d1 - d2];
}

/**
 * Picks up to `quota` single-operation entries, at most `familyCap` per family, balanced:
 * families take turns, and within a family its operations take turns, so every operation
 * appears at difficulty 1.
 */
function pickBalanced(rng: Rng, entries: PoolEntry[], quota: number, familyCap: number): PoolEntry[] {
  const byFamily = new Map<string, Map<string, PoolEntry[]>>();
  for (const entry of rng.shuffle(entries)) {
    const op = entry.spec.ops[0].op;
    const ops = byFamily.get(op.family) ?? new Map<string, PoolEntry[]>();
    byFamily.set(op.family, ops);
    ops.set(op.name, [...(ops.get(op.name) ?? []), entry]);
  }
  const queues = [...byFamily.keys()].sort().map((family) => {
    const ops = byFamily.get(family)!;
    return { names: [...ops.keys()].sort(), ops, turn: 0, taken: 0 };
  });
  const picked: PoolEntry[] = [];
  while (picked.length < quota) {
    let progressed = false;
    for (const queue of queues) {
      if (picked.length >= quota) break;
      if (queue.taken >= familyCap) continue;
      // The family's next operation that still has entries.
      for (let tries = 0; tries < queue.names.length; tries++) {
        const name = queue.names[queue.turn % queue.names.length];
        queue.turn++;
        const list = queue.ops.get(name)!;
        if (list.length > 0) {
          picked.push(list.shift()!);
          queue.taken++;
          progressed = true;
          break;
        }
      }
    }
    if (!progressed) break;
  }
  return picked;
}

/**
 * Builds a pool of exactly `total` tasks with distinct fingerprints. Deterministic for a given
 * `rng` state. Throws if the grammar cannot supply that many (it supplies far more than 21,000).
 */
export function buildPool(rng: Rng, total: number): PoolEntry[] {
  const seen = new Set<string>();
  const quotas = difficultyQuotas(total);

  const singles: PoolEntry[] = [];
  for (const signature of SIGNATURES) {
    for (const spec of enumerateSingleOps(signature)) {
      const entry = judgeSpec(spec, seen);
      if (!entry) continue;
      seen.add(entry.fingerprint);
      singles.push(entry);
    }
  }
  const level1 = pickBalanced(rng.fork("difficulty-1"), singles, quotas[0], LEVEL1_FAMILY_CAP);
  // What difficulty 1 cannot fill goes to 2 and 3 in proportion.
  const shortfall = quotas[0] - level1.length;
  const extra2 = Math.round((shortfall * DIFFICULTY_SHARES[1]) / (DIFFICULTY_SHARES[1] + DIFFICULTY_SHARES[2]));
  const want = { 2: quotas[1] + extra2, 3: quotas[2] + shortfall - extra2 };
  const composedEntries: Record<2 | 3, PoolEntry[]> = { 2: [], 3: [] };

  const draw = rng.fork("composed");
  const maxAttempts = 200 * total;
  let attempts = 0;
  // Specs already judged, by their words: drawing one again cannot give anything new.
  const judged = new Set<string>();
  while (composedEntries[2].length < want[2] || composedEntries[3].length < want[3]) {
    if (++attempts > maxAttempts) {
      throw new Error(
        `task pool: only ${composedEntries[2].length}/${want[2]} tasks of difficulty 2 and ` +
          `${composedEntries[3].length}/${want[3]} of difficulty 3 after ${maxAttempts} draws; ask for a smaller suite`,
      );
    }
    const signature = pickWeighted(draw, SIGNATURES, (s: Signature) => SIGNATURE_WEIGHTS[s]);
    // Two operations make difficulty 2 (or 3 with a condition), three make 3; once a difficulty
    // is full, draw only what can still be used.
    const full2 = composedEntries[2].length >= want[2];
    const full3 = composedEntries[3].length >= want[3];
    const length = full2 ? 3 : full3 ? 2 : draw.next() < 0.5 ? 2 : 3;
    const spec = sampleSpec(draw, signature, length);
    if (!spec) continue;
    const difficulty = difficultyOf(spec.ops) as 2 | 3;
    if (composedEntries[difficulty].length >= want[difficulty]) continue;
    const key = specKey(spec);
    if (judged.has(key)) continue;
    judged.add(key);
    const entry = judgeSpec(spec, seen);
    if (!entry) continue;
    seen.add(entry.fingerprint);
    composedEntries[difficulty].push(entry);
  }
  return [...level1, ...composedEntries[2], ...composedEntries[3]];
}
