/**
 * One typed run configuration for MURPHY and its GRPO baseline, with defaults sized for a 2-core
 * CPU. Every field is listed once in CONFIG_FIELDS with its meaning, default, accepted values and
 * source (paper, DeepSeekMath GRPO, DAPO, Dr. GRPO, TRL, or "ours" where the kit had to choose);
 * validation, defaults and the printable documentation all come from that table (the generic
 * machinery that reads it: src/util/fields.ts). What each stage of the method takes from a config
 * is stage-options.ts.
 *
 * A config file is JSON holding any subset of the fields (the rest take defaults); keys starting
 * with "_" (e.g. "_comment") are comments. Overrides are "key.path=value" strings, the value
 * parsed as JSON when it parses and taken as a string otherwise:
 *
 *   loadConfig("configs/murphy-mars.json", ["turns=3", "credit.strategy=mers"])
 *
 * Errors name the field, the expected value and where the bad value came from:
 *   config.turns must be an integer >= 1 (got 0) in configs/murphy.json
 */
import * as fs from "node:fs";
import { BOOLEAN, enumOf, FieldTable, integer, type FieldSpec } from "../util/fields";
import type { CreditStrategy } from "./credit";
import type { AdvantageScale, StdKind } from "./advantages";
import type { GroupMode } from "./groups";
import type { AdvantageGroup } from "./pipeline";
import type { LossNormalization } from "./loss";
import { SUITE_NAMES, type SuiteName } from "../tasks/suites";

export interface Config {
  seed: number;
  steps: number;
  tasksPerStep: number;
  /** G. */
  groupSize: number;
  /** S. */
  turns: number;
  /** G_s; `null` in a file means "same as groupSize" and is resolved on load. */
  childrenPerFailed: number;
  reward: { binary: boolean };
  credit: { strategy: CreditStrategy; gamma: number; keepOwn: boolean };
  advantage: { scale: AdvantageScale; eps: number; std: StdKind; group: GroupMode; over: AdvantageGroup };
  intraPrune: { enabled: boolean; zeroVarianceTolerance: number; maxPerGroup: number };
  interPrune: { enabled: boolean; maxSubtrees: number; skipExpansion: boolean };
  sampling: { temperature: number; topK: number; topP: number; maxNewTokens: number };
  loss: { epsLow: number; epsHigh: number; beta: number; updateEpochs: number; normalization: LossNormalization };
  optimizer: { lr: number; warmupSteps: number; beta2: number; clipNorm: number; weightDecay: number };
  eval: { every: number; turns: number; limit: number; split: "train" | "validation" | "test"; probeTasks: number; probeEvery: number };
  checkpointEvery: number;
  microBatchSize: number;
  initCheckpoint: string;
  suite: SuiteName;
  sandbox: { timeoutMs: number };
}

/** Every config field, in file order. The single source of defaults and documentation. */
export const CONFIG_FIELDS: readonly FieldSpec[] = [
  { path: "seed", rule: integer(0), default: 0, source: "ours",
    doc: "Seed of every random stream of the run (task order, sampling, initialisation)." },
  { path: "steps", rule: integer(1), default: 100, source: "ours (CPU-sized)",
    doc: "Number of policy-update steps (one batch of rollout trees each)." },
  { path: "tasksPerStep", rule: integer(1), default: 8, source: "ours (CPU-sized)",
    doc: "Tasks per step; each gets one rollout tree." },
  { path: "groupSize", rule: integer(2), default: 4, source: "GRPO's G; value ours (CPU-sized)",
    doc: "G: first attempts sampled per task, the first sibling group (GRPO's group size)." },
  { path: "turns", rule: integer(1), default: 2, source: "paper's S; default 2 ours",
    doc: "S: most attempts on one branch. 1 = plain GRPO; 2 = one round of feedback and repair." },
  { path: "childrenPerFailed", rule: { kind: "integer", min: 1, nullable: true }, default: null, source: "paper's G_s; default = G ours",
    doc: "G_s: candidates sampled from each failed attempt's feedback. null = same as groupSize." },
  { path: "reward.binary", rule: BOOLEAN, default: false, source: "method.md",
    doc: "false: r = fraction of all tests passed; true: r = 1 only if all tests pass, else 0." },
  { path: "credit.strategy", rule: enumOf("mars", "mers"), default: "mars", source: "paper (MaRS / MeRS); equations ours",
    doc: "How an expanded attempt is credited from its children: max (MaRS) or mean (MeRS) of their R." },
  { path: "credit.gamma", rule: { kind: "number", min: 0, max: 1 }, default: 0.9, source: "ours: validation pilot (configs/experiments/pilot.json, data/results/pilot/)",
    doc: "Discount per turn of delay in R(n) = max(r(n), gamma * AGG R(children)); 1 = none. With 1, MaRS credits a failed first attempt that a repair fixed exactly like a correct one, which flattened 59% of the pilot's turn-1 sibling groups (no gradient there) against 30% at 0.9 and 29% at 0.7; validation Iter-1/2/3 after 150 steps (lr 2e-4): gamma 1 0.505/0.582/0.607, 0.9 0.508/0.586/0.614, 0.7 0.495/0.557/0.582. gamma = 1 stays available (configs/murphy-mars-g1.json)." },
  { path: "credit.keepOwn", rule: BOOLEAN, default: true, source: "ours",
    doc: "true: R(n) = max(r(n), gamma*AGG); false: R(n) = gamma*AGG (an expanded attempt is judged only by its repairs)." },
  { path: "advantage.scale", rule: enumOf("std", "none"), default: "std", source: "DeepSeekMath GRPO (std) / Dr. GRPO (none)",
    doc: "std: A = (R - mean)/(std + eps); none: A = R - mean (Dr. GRPO, no difficulty bias)." },
  { path: "advantage.eps", rule: { kind: "number", min: 0 }, default: 1e-4, source: "TRL GRPOTrainer",
    doc: "Added to the group std before dividing, so near-constant groups stay bounded." },
  { path: "advantage.std", rule: enumOf("population", "sample"), default: "population", source: "ours (TRL: sample)",
    doc: "Which std divides: population (n; same scale for every group size, defined for 1) or sample (n - 1, torch.std)." },
  { path: "advantage.group", rule: enumOf("siblings", "turn"), default: "siblings", source: "ours (method.md: the GRPO reading)",
    doc: "Which candidates share a baseline (and are pruned together by IntraP): siblings (one prompt) or all of a task's candidates at one turn." },
  { path: "advantage.over", rule: enumOf("full-group", "kept"), default: "full-group", source: "ours",
    doc: "Group the advantages of kept candidates are normalised over: the full sibling group, or only its IntraP-kept members." },
  { path: "intraPrune.enabled", rule: BOOLEAN, default: false, source: "paper (IntraP); rule ours",
    doc: "Prune inside sibling groups after the rollouts (zero-variance groups, then the budget B)." },
  { path: "intraPrune.zeroVarianceTolerance", rule: { kind: "number", min: 0 }, default: 1e-6, source: "ours",
    doc: "A group whose propagated rewards span (max - min) at most this carries no signal and is dropped." },
  { path: "intraPrune.maxPerGroup", rule: integer(1), default: 2, source: "ours",
    doc: "B: candidates kept per group, largest |A| first, split ceil(B/2) positive / floor(B/2) negative (prune.ts)." },
  { path: "interPrune.enabled", rule: BOOLEAN, default: false, source: "paper (InterP); rule ours",
    doc: "Prune across turns: keep the subtrees of at most K expanded attempts per parent, ranked by R." },
  { path: "interPrune.maxSubtrees", rule: integer(1), default: 2, source: "ours",
    doc: "K: expanded subtrees kept per parent (sibling group)." },
  { path: "interPrune.skipExpansion", rule: BOOLEAN, default: false, source: "method.md option; ranking ours",
    doc: "Also save the sampling: expand only K failed attempts per group, ranked by their own reward (selectForExpansion)." },
  { path: "sampling.temperature", rule: { kind: "number", min: 0, minExclusive: true }, default: 1, source: "GRPO practice (TRL default 1)",
    doc: "Softmax temperature when sampling candidates." },
  { path: "sampling.topK", rule: integer(0), default: 0, source: "ours",
    doc: "Sample only among the K most likely tokens; 0 = off." },
  { path: "sampling.topP", rule: { kind: "number", min: 0, max: 1, minExclusive: true }, default: 1, source: "ours",
    doc: "Nucleus sampling: the smallest token set with probability >= topP; 1 = off." },
  { path: "sampling.maxNewTokens", rule: integer(1), default: 64, source: "ours (CPU-sized: the longest reference program is 47 tokens)",
    doc: "Most completion tokens per candidate." },
  { path: "loss.epsLow", rule: { kind: "number", min: 0, max: 1, maxExclusive: true }, default: 0.2, source: "PPO / DeepSeekMath GRPO",
    doc: "The ratio is clipped below at 1 - epsLow." },
  { path: "loss.epsHigh", rule: { kind: "number", min: 0 }, default: 0.2, source: "PPO / DeepSeekMath GRPO (DAPO clip-higher: 0.28)",
    doc: "The ratio is clipped above at 1 + epsHigh; > epsLow is DAPO's clip-higher." },
  { path: "loss.beta", rule: { kind: "number", min: 0 }, default: 0, source: "DAPO / Dr. GRPO / TRL (DeepSeekMath: 0.04)",
    doc: "Weight of the k3 KL penalty to the frozen initial model; 0 = off (no reference forward, and advantage-0 completions are not forwarded). A guardrail when a large lr drifts (watch kl/start): 0.01-0.04 is the usual range (DeepSeekMath 0.04); it costs one no-grad forward of the batch per step." },
  { path: "loss.updateEpochs", rule: integer(1), default: 1, source: "DeepSeekMath GRPO's mu (1)",
    doc: "mu: optimisation passes over each step's batch; > 1 makes the ratio and the clip matter." },
  { path: "loss.normalization", rule: enumOf("token", "sequence", "constant"), default: "token", source: "DAPO (token) / DeepSeekMath (sequence) / Dr. GRPO (constant)",
    doc: "How per-token losses are averaged: over all completion tokens; per sequence then over sequences; or / (N * maxNewTokens)." },
  { path: "optimizer.lr", rule: { kind: "number", min: 0, minExclusive: true }, default: 1e-4, source: "ours: validation pilot (configs/experiments/pilot.json, data/results/pilot/)",
    doc: "Adam(W) learning rate. Pilot (compute-matched GRPO, 150 steps, warm-up 10, validation Iter-1 / Iter-3 vs the base's 0.524 / 0.637): 1e-4 0.549 / 0.647; 2e-4 0.524 / 0.594; 3e-4 0.515 / 0.609. Larger steps drift (kl/start 0.009 at 1e-4, 0.019 at 2e-4, 0.029 at 3e-4 after 150 steps) and lose Iter-k: use more steps, not a larger lr." },
  { path: "optimizer.warmupSteps", rule: integer(0), default: 10, source: "ours (GPT/PPO practice; the pilot's setting)",
    doc: "Linear learning-rate warm-up: step k uses lr * min(1, k / warmupSteps); 0 = none. Adam's first steps are sign descent (every weight moves by ~lr), which without warm-up is what made lr 5e-4 lose 9 points of Iter-1 in 20 steps." },
  { path: "optimizer.beta2", rule: { kind: "number", min: 0, max: 1, maxExclusive: true }, default: 0.95, source: "GPT-style training (0.95); Adam 0.999",
    doc: "Adam's second-moment decay. 0.95 adapts the step size to the last ~20 batches; 0.999 averages ~1000 and damps single noisy batches more, but reacts slowly." },
  { path: "optimizer.clipNorm", rule: { kind: "number", min: 0 }, default: 1, source: "TRL (max_grad_norm 1.0)",
    doc: "Global gradient-norm clip; 0 = off." },
  { path: "optimizer.weightDecay", rule: { kind: "number", min: 0 }, default: 0, source: "TRL (0.0)",
    doc: "Decoupled weight decay (AdamW); 0 = plain Adam." },
  { path: "eval.every", rule: integer(0), default: 10, source: "ours",
    doc: "Evaluate every this many steps (and at the end); 0 = only at the end." },
  { path: "eval.turns", rule: integer(1), default: 3, source: "paper (Iter-k up to 5); 3 ours",
    doc: "k of Iter-k pass@1: sequential feedback turns at evaluation." },
  { path: "eval.limit", rule: integer(0), default: 50, source: "ours (CPU-sized)",
    doc: "Most evaluation tasks; 0 = the whole split." },
  { path: "eval.split", rule: enumOf("train", "validation", "test"), default: "validation", source: "ours",
    doc: "Task split evaluated during training (keep test for the final report)." },
  { path: "eval.probeTasks", rule: integer(0), default: 16, source: "ours",
    doc: "kl/start probe set: this many validation tasks (2 completions each from the starting policy, drift.ts); 0 = no kl/start." },
  { path: "eval.probeEvery", rule: integer(1), default: 5, source: "ours",
    doc: "Measure drift (kl/start on the probe set, kl/update on the step's batch) at step 1, every this many steps, and at the end." },
  { path: "microBatchSize", rule: integer(1), default: 16, source: "ours (memory bound)",
    doc: "Completion rows per forward/backward pass (sibling groups share one prompt pass, update.ts); gradients of all micro-batches are summed into one optimizer step per epoch, so this changes memory use, not the update." },
  { path: "checkpointEvery", rule: integer(0), default: 25, source: "ours",
    doc: "Save a checkpoint every this many steps (and at the end); 0 = only at the end." },
  { path: "initCheckpoint", rule: { kind: "string" }, default: "data/checkpoints/base", source: "ours",
    doc: "Checkpoint the policy (and the KL reference) starts from." },
  { path: "suite", rule: enumOf(...SUITE_NAMES), default: "default", source: "ours",
    doc: "Task suite trained and evaluated on: default (data/tasks/) or feedback (data/tasks/feedback/: the description withholds a part that only feedback reveals; start from data/checkpoints/base-feedback)." },
  { path: "sandbox.timeoutMs", rule: integer(1), default: 1000, source: "ours",
    doc: "Wall-clock limit for all tests of one candidate program, in ms." },
];

const TABLE = new FieldTable("config", CONFIG_FIELDS);

/** Rules that tie two fields together (each field alone is checked by the table). */
function checkCombinations(c: Config, at: (path: string) => string): void {
  if (c.interPrune.skipExpansion && !c.interPrune.enabled) {
    throw new Error(`config.interPrune.skipExpansion = true needs config.interPrune.enabled = true (in ${at("interPrune.skipExpansion")})`);
  }
  if (c.intraPrune.enabled && c.intraPrune.maxPerGroup < 2) {
    throw new Error(`config.intraPrune.maxPerGroup must be >= 2 when config.intraPrune.enabled = true (got ${c.intraPrune.maxPerGroup} in ${at("intraPrune.maxPerGroup")}): with B = 1 only a positive advantage is kept, and with advantage.over = "kept" it becomes 0`);
  }
}

/**
 * Build a validated Config from a partial object (e.g. a parsed file) and overrides.
 * `where` names the object's origin in errors.
 */
export function makeConfig(partial: unknown = {}, overrides: readonly string[] = [], where = "the given object"): Config {
  const { value, originOf } = TABLE.resolve(partial, overrides, where);
  const config = value as unknown as Config;
  if ((config.childrenPerFailed as number | null) === null) config.childrenPerFailed = config.groupSize;
  checkCombinations(config, originOf);
  return config;
}

/** The default config (childrenPerFailed resolved to groupSize). */
export function defaultConfig(): Config {
  return makeConfig({}, [], "the defaults");
}

/**
 * Read a JSON config file, apply "key.path=value" overrides, validate. Errors name the file (or
 * the override), the field and the expected value.
 */
export function loadConfig(file: string, overrides: readonly string[] = []): Config {
  if (!fs.existsSync(file)) throw new Error(`config file ${file} not found`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`config file ${file} is not valid JSON (${(e as Error).message})`);
  }
  return makeConfig(parsed, overrides, file);
}

/** The documentation table as text lines, e.g. for `--help` or a notebook cell. */
export function describeConfigFields(): string[] {
  return TABLE.describe();
}
