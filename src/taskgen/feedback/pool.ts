/**
 * The feedback suite's pool: groups of tasks, one group per description (a visible prefix of 0-2
 * kit operations, then the family's hidden step), one task per option of the withheld part.
 *
 * A group joins only if
 * - its visible prefix is a sensible task of the kit on its own (judgeSpec in ../pool.ts: defined
 *   on most inputs, not constant, not the identity, minimal);
 * - every option makes a well-formed, short task, and all of them behave differently from each
 *   other and from every task already in the suite (fingerprints on the kit's probe inputs), so
 *   groups, and the splits made of whole groups, are disjoint by behaviour and by description;
 * - it has visible inputs that tell every option apart and hidden inputs (tests.ts).
 */
import { Rng } from "../../util/rng";
import { specFingerprint } from "../behaviour";
import { MAX_DESCRIPTION_CHARS, MAX_REFERENCE_CHARS, judgeSpec } from "../pool";
import { type Composed, type OpCall, SIGNATURE_INFO, type Signature, type TaskSpec, compose, specProblem } from "../ops";
import { opsFrom } from "../families";
import { enumerateSingleOps, randomArgs } from "../sample";
import type { Value } from "../../tasks/types";
import type { FeedbackFamily } from "./families";
import { type GroupSpecs, chooseGroupInputs } from "./tests";

export interface FeedbackGroup extends GroupSpecs {
  signature: Signature;
  description: string;
  /** 1 + the number of visible operations. */
  difficulty: 1 | 2 | 3;
  /** Per option, in the family's option order. */
  composed: Composed[];
  fingerprints: string[];
  inputs: { visible: Value[][]; hidden: Value[][] };
}

/** Share of descriptions with two visible operations while one-operation ones last. */
const TWO_OPERATION_SHARE = 0.25;

const NO_FINGERPRINTS: ReadonlySet<string> = new Set();

/** The group for `prefix` followed by the family's hidden step, or null if it is refused. */
export function judgeGroup(family: FeedbackFamily, signature: Signature, prefix: readonly OpCall[], seen: ReadonlySet<string>, seed: number): FeedbackGroup | null {
  const kind = family.inputs[signature];
  if (kind === undefined) return null;
  let prefixSpec: TaskSpec | null = null;
  if (prefix.length === 0) {
    if (SIGNATURE_INFO[signature].kind !== kind) return null;
  } else {
    prefixSpec = { signature, ops: prefix.slice() };
    if (specProblem(prefixSpec) !== null || prefix[prefix.length - 1].op.to !== kind) return null;
    if (judgeSpec(prefixSpec, NO_FINGERPRINTS) === null) return null;
  }
  const variants = family.options.map((_, option): TaskSpec => ({ signature, ops: [...prefix, { op: family.step(kind, option), args: [] }] }));
  if (variants.some((v) => specProblem(v) !== null)) return null;
  const composed = variants.map(compose);
  if (composed.some((c) => c.reference.length > MAX_REFERENCE_CHARS || c.description.length > MAX_DESCRIPTION_CHARS)) return null;
  const fingerprints = variants.map(specFingerprint);
  if (new Set(fingerprints).size !== fingerprints.length || fingerprints.some((f) => seen.has(f))) return null;
  const description = composed[0].description;
  // The inputs' stream depends on the description only, never on an option.
  const inputs = chooseGroupInputs({ family, prefix: prefixSpec, variants }, new Rng(`murphy-feedback-tasks/${seed}/tests/${signature}/${description}`));
  if (!inputs) return null;
  return { family, prefix: prefixSpec, variants, signature, description, difficulty: (1 + prefix.length) as 1 | 2 | 3, composed, fingerprints, inputs };
}

/**
 * One random two-operation prefix ending in the kind the family's hidden step takes, or null: a
 * first operation on the signature's input, then one from its result to that kind, each with
 * random arguments (the kit's sampler, sample.ts, would mostly end elsewhere).
 */
function drawTwoOperations(family: FeedbackFamily, rng: Rng): { signature: Signature; prefix: OpCall[] } | null {
  const signatures = Object.keys(family.inputs) as Signature[];
  const signature = rng.pick(signatures);
  const target = family.inputs[signature]!;
  const firsts = opsFrom(SIGNATURE_INFO[signature].kind).filter((op) => op.to !== "bool" && opsFrom(op.to).some((next) => next.to === target));
  if (firsts.length === 0) return null;
  const first = rng.pick(firsts);
  const second = rng.pick(opsFrom(first.to).filter((op) => op.to === target));
  const firstArgs = randomArgs(first, rng, null);
  const secondArgs = randomArgs(second, rng, null);
  if (!firstArgs || !secondArgs) return null;
  return { signature, prefix: [{ op: first, args: firstArgs }, { op: second, args: secondArgs }] };
}

/**
 * `count` groups of `family` with fingerprints not in `seen` (which this adds to): the
 * descriptions without visible operations first, then one-operation prefixes in random order,
 * with two-operation ones mixed in (TWO_OPERATION_SHARE) and taking over when those run out.
 */
export function buildFamilyPool(family: FeedbackFamily, count: number, seen: Set<string>, rng: Rng, seed: number): FeedbackGroup[] {
  const signatures = Object.keys(family.inputs) as Signature[];
  // Signatures take turns in random order, so one with many operations ("(x)": 900) does not
  // crowd out the others.
  const bySignature = signatures.map((signature) =>
    rng.shuffle(enumerateSingleOps(signature).filter((spec) => spec.ops[0].op.to === family.inputs[signature]).map((spec) => ({ signature, prefix: spec.ops }))),
  );
  const singles: { signature: Signature; prefix: OpCall[] }[] = [];
  for (let left = bySignature.filter((l) => l.length > 0); left.length > 0; left = left.filter((l) => l.length > 0)) {
    singles.push(rng.pick(left).shift()!);
  }
  const queue: { signature: Signature; prefix: OpCall[] }[] = signatures.map((signature) => ({ signature, prefix: [] }));
  const groups: FeedbackGroup[] = [];
  const judged = new Set<string>();
  let draws = 0;
  const maxDraws = 400 * count;
  while (groups.length < count) {
    if (++draws > maxDraws) throw new Error(`feedback suite: only ${groups.length}/${count} groups of family ${family.name} after ${maxDraws} draws; ask for a smaller suite`);
    let next = queue.shift();
    if (!next) next = (singles.length > 0 && rng.next() >= TWO_OPERATION_SHARE ? singles.shift() : drawTwoOperations(family, rng)) ?? undefined;
    if (!next) continue;
    const key = `${next.signature} ${next.prefix.map((c) => `${c.op.name}(${c.args.map((a) => (a.type === "param" ? a.name : a.value)).join(",")})`).join(" ")}`;
    if (judged.has(key)) continue;
    judged.add(key);
    const group = judgeGroup(family, next.signature, next.prefix, seen, seed);
    if (!group) continue;
    for (const f of group.fingerprints) seen.add(f);
    groups.push(group);
  }
  return groups;
}
