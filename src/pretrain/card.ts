/** The base model's model card: how it was made and how well it does, beside its weights. */
import * as path from "node:path";
import { writeFileAtomic } from "../util/files";
import type { PretrainConfig, PretrainResult } from "./pretrain";
import type { Task } from "../tasks/types";
import type { AttemptRecord } from "../eval/iterk";

export interface CardInputs {
  config: PretrainConfig;
  result: PretrainResult;
  backend: string;
  evaluation?: { iterPass1: number[]; tasks: number; seconds: number };
  evalOptions: { turns: number; samples: number; temperature: number; maxNewTokens: number; seed: number };
}

/** What the base policy must reach so RL has room to improve first attempts and repairs. */
export const BASE_TARGETS = { iter1Min: 0.15, iter1Max: 0.6, iter3Gain: 0.05 };

export function meetsTargets(iterPass1: readonly number[]): boolean {
  const [first, , third] = iterPass1;
  return first >= BASE_TARGETS.iter1Min && first <= BASE_TARGETS.iter1Max && third !== undefined && third >= first + BASE_TARGETS.iter3Gain;
}

export function writeModelCard(dir: string, x: CardInputs): void {
  const m = x.result.model;
  const lines = [
    "# Base policy model card",
    "",
    "A small decoder-only transformer trained from scratch by `npm run pretrain`",
    "(`src/pretrain/`) on the kit's own task suite. It is the starting point of every GRPO and",
    "MURPHY run (`initCheckpoint` in `configs/`).",
    "",
    "## Model",
    "",
    `- ${m.summary()}`,
    `- config: \`${JSON.stringify(m.config)}\``,
    x.result.tokenizer.pieces.length === 0
      ? "- tokenizer: character level, `tokenizer.json` beside the weights"
      : `- tokenizer: ${x.result.tokenizer.vocabSize} ids: 6 specials, 96 characters and the ${x.result.tokenizer.pieces.length} most frequent chunks of the train split's texts (src/model/tokenizer.ts), \`tokenizer.json\` beside the weights`,
    "",
    "## Data",
    "",
    "The train split of `data/tasks/` (never validation or test). Each example is one of:",
    "- task prompt -> reference solution (first attempt);",
    "- task + a wrong attempt (a mutation of the reference: constant, operator, method, typo,",
    "  syntax, dropped call) + its real sandbox feedback -> reference (repair);",
    "- the same with two wrong attempts (two repairs).",
    `Mix: first attempts ${x.config.mix.firstAttempt}, of repairs ${x.config.mix.twoRepairs} with two attempts; up to ${x.config.repairsPerTask} failing mutants per task.`,
    "",
    "## Training",
    "",
    `- steps: ${x.config.steps}, batch ${x.config.batchSize} sequences, ${x.result.tokensSeen} tokens seen`,
    `- AdamW, lr ${x.config.lr} (warmup ${x.config.warmupSteps}, cosine to ${x.config.minLrFraction}x), weight decay ${x.config.weightDecay}, clip ${x.config.clipNorm}`,
    `- seed ${x.config.seed}; backend ${x.backend}; wall time ${(x.result.seconds / 60).toFixed(1)} min (2-core machine)`,
    `- final training loss (completion tokens): ${x.result.finalLoss.toFixed(4)}`,
    "",
    "## Evaluation",
    "",
  ];
  if (x.evaluation) {
    const e = x.evaluation;
    lines.push(
      `Sequential self-correction on the test split (${e.tasks} tasks; one chain per task, temperature ${x.evalOptions.temperature}, seed ${x.evalOptions.seed}, up to ${x.evalOptions.maxNewTokens} new tokens):`,
      "",
      "| Iter-k | pass@1 |",
      "| --- | --- |",
      ...e.iterPass1.map((p, i) => `| ${i + 1} | ${p.toFixed(4)} |`),
      "",
      `Reproduce: \`npx murphy eval --checkpoint ${path.relative(process.cwd(), dir) || dir} --split test --turns ${x.evalOptions.turns} --temperature ${x.evalOptions.temperature} --seed ${x.evalOptions.seed}\` (same backend for the same numbers).`,
      "Every attempt is in `eval-test.jsonl`.",
      "",
      `Kit targets for the base policy (Iter-1 pass@1 in [${BASE_TARGETS.iter1Min}, ${BASE_TARGETS.iter1Max}], Iter-3 at least ${BASE_TARGETS.iter3Gain} above Iter-1): ${meetsTargets(e.iterPass1) ? "met" : "**NOT met**"}.`,
    );
  } else {
    lines.push("Not evaluated (`--skip-eval`).");
  }
  writeFileAtomic(path.join(dir, "README.md"), lines.join("\n") + "\n");
}

/** One Iter-k evaluation of the second base on a suite's test split. */
export interface SuiteEvaluation {
  suite: "default" | "feedback";
  iterPass1: number[];
  tasks: readonly Task[];
  records: readonly AttemptRecord[];
  seconds: number;
}

export interface FeedbackCardInputs {
  config: PretrainConfig;
  result: PretrainResult;
  backend: string;
  evaluations: SuiteEvaluation[];
  /** The first base's Iter-k pass@1 on the feedback suite's test split, same settings. */
  firstBaseFeedback?: number[];
  evalOptions: { turns: number; samples: number; temperature: number; maxNewTokens: number; seed: number };
}

/**
 * What the second base must reach on the feedback suite's test split: first attempts near
 * chance (they cannot beat it, up to sampling noise) and a clear gain at the second attempt, the
 * one that reads feedback.
 */
export const FEEDBACK_BASE_TARGETS = { iter1AboveChanceMax: 0.05, iter2Gain: 0.1 };

/** The base policy's own numbers on the main test split (data/checkpoints/base/README.md). */
const BASE_MAIN_ITER = [0.532, 0.618, 0.632];

/** Iter-1..k pass@1 of each family: the share of (task, chain) pairs solved within k turns. */
export function iterByFamily(tasks: readonly Task[], records: readonly AttemptRecord[], turns: number): Map<string, number[]> {
  const familyOf = new Map(tasks.map((t) => [t.id, t.family]));
  const solvedAt = new Map<string, number>();
  const chains = new Map<string, Set<string>>();
  for (const r of records) {
    const key = `${r.taskId}#${r.chain}`;
    const family = familyOf.get(r.taskId) ?? "?";
    if (!chains.has(family)) chains.set(family, new Set());
    chains.get(family)!.add(key);
    if (r.solved && !solvedAt.has(key)) solvedAt.set(key, r.turn);
  }
  const out = new Map<string, number[]>();
  for (const [family, keys] of [...chains].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    out.set(family, Array.from({ length: turns }, (_, k) => [...keys].filter((key) => (solvedAt.get(key) ?? Infinity) <= k + 1).length / keys.size));
  }
  return out;
}

export function meetsFeedbackTargets(iterPass1: readonly number[], chance: number): boolean {
  const [first, second] = iterPass1;
  return first <= chance + FEEDBACK_BASE_TARGETS.iter1AboveChanceMax && second !== undefined && second >= first + FEEDBACK_BASE_TARGETS.iter2Gain;
}

export function writeFeedbackModelCard(dir: string, x: FeedbackCardInputs): void {
  const m = x.result.model;
  const c = x.config;
  const rel = path.relative(process.cwd(), dir) || dir;
  const lines = [
    "# Second base policy (feedback suite) model card",
    "",
    `The base policy (\`${c.init}\`) trained further so that it can use feedback that carries`,
    "information its task description withholds: the starting point of the `feedback` experiment",
    "(`configs/experiments/feedback.json`) on the feedback suite (`data/tasks/feedback/`). Made by",
    "`npm run pretrain:feedback` (`murphy pretrain --feedback`, `FEEDBACK_PRETRAIN` in",
    "`src/pretrain/pretrain.ts`). The first base stays as it was; every other experiment uses it.",
    "",
    "## Why a second base",
    "",
    "On the feedback suite a first attempt can only guess the withheld part (its chance level), so",
    "every gain must come from reading feedback. The first base never saw such tasks: prompts that",
    "show inputs without expected values, and feedback whose expected value is the only way to the",
    "answer. Without some ability to use it, no method has a learning signal there. Continuing the",
    "first base (rather than retraining from scratch) keeps its tokenizer and what it already does on",
    "the main suite, within a small budget.",
    "",
    "## Model",
    "",
    `- ${m.summary()}`,
    `- config: \`${JSON.stringify(m.config)}\``,
    `- tokenizer: the first base's (${x.result.tokenizer.vocabSize} ids), \`tokenizer.json\` beside the weights`,
    "",
    "## Data",
    "",
    `Each batch comes from one suite: the feedback suite's train split with probability ${c.feedbackShare}, else the main suite's train split (never validation or test).`,
    `- main suite: as the first base (first attempts; repairs of mutated references with their real sandbox feedback), mix: first attempts ${c.mix.firstAttempt}, of repairs ${c.mix.twoRepairs} with two attempts;`,
    "- feedback suite: first attempts (prompt -> reference; these can only teach the form of a guess),",
    "  and repairs: a description-only guess with another value of the withheld part (or a mutation",
    "  of one) + its real sandbox feedback -> reference. Mix: first attempts " + `${(c.feedbackMix ?? c.mix).firstAttempt}, of repairs ${(c.feedbackMix ?? c.mix).twoRepairs} with two attempts;`,
    `  up to ${c.repairsPerTask} failing attempts per task.`,
    "",
    "## Training",
    "",
    `- continued from \`${c.init}\`: steps ${c.steps}, batch ${c.batchSize} sequences, ${x.result.tokensSeen} tokens seen`,
    `- AdamW, lr ${c.lr} (warmup ${c.warmupSteps}, cosine to ${c.minLrFraction}x), weight decay ${c.weightDecay}, clip ${c.clipNorm}`,
    `- seed ${c.seed}; backend ${x.backend}; ${(x.result.cpuSeconds / 60).toFixed(1)} min of CPU on one core for the training steps, ${(x.result.seconds / 60).toFixed(1)} min wall time (a shared 2-core machine, \`nice -n 10\`)`,
    `- final training loss (completion tokens): ${x.result.finalLoss.toFixed(4)}`,
    "",
    "## Evaluation",
    "",
  ];
  if (x.evaluations.length === 0) lines.push("Not evaluated (`--skip-eval`).");
  for (const e of x.evaluations) {
    const turns = e.iterPass1.length;
    const header = `| Iter-k pass@1 | ${Array.from({ length: turns }, (_, k) => k + 1).join(" | ")} |`;
    const rule = `|---|${"---|".repeat(turns)}`;
    const row = (label: string, values: readonly number[]) => `| ${label} | ${values.map((v) => v.toFixed(4)).join(" | ")} |`;
    const dirFlag = e.suite === "feedback" ? " --suite feedback" : "";
    lines.push(
      `### ${e.suite === "feedback" ? "Feedback suite" : "Main suite"} test split (${e.tasks.length} tasks)`,
      "",
      `One chain per task, temperature ${x.evalOptions.temperature}, seed ${x.evalOptions.seed}, up to ${x.evalOptions.maxNewTokens} new tokens.`,
      "",
      header,
      rule,
      row("second base", e.iterPass1),
    );
    if (e.suite === "feedback" && x.firstBaseFeedback) lines.push(row("first base", x.firstBaseFeedback));
    if (e.suite === "feedback") {
      const chance = e.tasks.reduce((s, t) => s + 1 / (t.behaviours?.length ?? 1), 0) / Math.max(1, e.tasks.length);
      lines.push(`| *by family (second base)* |${" |".repeat(turns)}`);
      for (const [family, values] of iterByFamily(e.tasks, e.records, turns)) {
        const tasks = e.tasks.filter((t) => t.family === family);
        lines.push(row(`${family} (chance ${(1 / (tasks[0]?.behaviours?.length ?? 1)).toFixed(3)}, ${tasks.length} tasks)`, values));
      }
      lines.push(
        "",
        `Chance level of a first attempt (mean over tasks of 1/options): ${chance.toFixed(3)}. Targets: Iter-1 at most chance + ${FEEDBACK_BASE_TARGETS.iter1AboveChanceMax}, Iter-2 at least Iter-1 + ${FEEDBACK_BASE_TARGETS.iter2Gain}: ${meetsFeedbackTargets(e.iterPass1, chance) ? "met" : "**NOT met**"}.`,
      );
    } else {
      lines.push(
        row("first base", BASE_MAIN_ITER.slice(0, turns)),
        "",
        `The first base's targets (Iter-1 pass@1 in [${BASE_TARGETS.iter1Min}, ${BASE_TARGETS.iter1Max}], Iter-3 at least ${BASE_TARGETS.iter3Gain} above Iter-1): ${meetsTargets(e.iterPass1) ? "met" : "**NOT met**"}.`,
      );
    }
    lines.push(
      "",
      `Reproduce: \`npx murphy eval --checkpoint ${rel}${dirFlag} --split test --turns ${x.evalOptions.turns} --temperature ${x.evalOptions.temperature} --seed ${x.evalOptions.seed}\` (same backend for the same numbers).`,
      `Every attempt is in \`eval-${e.suite === "default" ? "" : "feedback-"}test.jsonl\`.`,
      "",
    );
  }
  writeFileAtomic(path.join(dir, "README.md"), lines.join("\n").replace(/\n+$/, "") + "\n");
}
