/** The base model's model card: how it was made and how well it does, beside its weights. */
import * as path from "node:path";
import { writeFileAtomic } from "../util/files";
import type { PretrainConfig, PretrainResult } from "./pretrain";

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
