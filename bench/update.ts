/**
 * The policy update on a real batch: today's reference path (every completion forwarded whole,
 * its prompt included, advantage-0 completions too) against the default path (each sibling
 * group's prompt forwarded once, advantage-0 completions skipped, head only at completion
 * positions), side by side in one run, on the same weights.
 *
 * The batch is one real MURPHY step: the base checkpoint, `configs/murphy-mars.json` (8 tasks,
 * G = 4, G_s = 4, S = 2), step 1 of seed 0 (src/murphy/step-batch.ts). Both paths hand their
 * gradients to a GradientCapture optimizer (no weight changes), so every repetition sees the same
 * model; repetitions alternate old/new and the medians are reported.
 *
 *   node --no-node-snapshot --import tsx bench/update.ts [--reps 3] [--config configs/murphy-mars.json] [--step 1]
 *
 * Fields of the last line (one JSON object): `old_tokens_per_s` / `new_tokens_per_s` (completion
 * tokens of the step's batch per second of update: the same numerator for both),
 * `speedup` (old median time / new median time), `max_rel_grad_diff` (max over weights of
 * max|g_old - g_new| / max|g_old|), the losses, and the tokens each path forwarded with gradient.
 * `shared_prompt_only_*`: the shared-prompt layout alone (advantage-0 completions forwarded), so
 * the two sources of the speedup can be told apart: how many completions have A = 0 depends on
 * the credit rule (MaRS with gamma = 1 flattens many groups).
 */
import * as path from "node:path";
import { selectBackend } from "../src/backend";
import { loadConfig } from "../src/murphy/config";
import { stageOptions } from "../src/murphy/stage-options";
import { stepBatch } from "../src/murphy/step-batch";
import { policyUpdate, type UpdateOptions } from "../src/murphy/update";
import { GptPolicy } from "../src/model/gpt-policy";
import { loadPolicy } from "../src/model/store";
import { GradientCapture, maxRelativeGradientDifference } from "../src/model/train";
import { ROOT, TASKS_DIR } from "../src/paths";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit } from "../src/tasks/load";

function parseArgs(argv: string[]) {
  const args = { reps: 3, config: "configs/murphy-mars.json", step: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--reps") args.reps = Number(argv[++i]);
    else if (flag === "--config") args.config = argv[++i];
    else if (flag === "--step") args.step = Number(argv[++i]);
    else throw new Error(`bench/update.ts: unknown argument "${flag}" (expected --reps N, --config FILE, --step K)`);
  }
  if (!Number.isInteger(args.reps) || args.reps < 1) throw new Error(`bench/update.ts: --reps must be a positive integer (got ${args.reps})`);
  return args;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const backend = await selectBackend();
  const config = loadConfig(path.join(ROOT, args.config));
  const { model, tokenizer, optimizer: saved } = loadPolicy(path.join(ROOT, config.initCheckpoint));
  if (saved) for (const t of saved.values()) t.dispose();
  const pool = new SandboxPool({ timeoutMs: config.sandbox.timeoutMs });
  let batch;
  try {
    batch = await stepBatch(new GptPolicy(model, tokenizer), loadSplit(TASKS_DIR, "train"), pool, config, args.step);
  } finally {
    await pool.close();
  }
  const { examples } = batch;
  const completionTokens = examples.reduce((a, e) => a + e.completionIds.length, 0);
  const promptTokens = examples.reduce((a, e) => a + e.promptIds.length, 0);
  const zeroAdvantage = examples.filter((e) => e.advantage === 0).length;
  console.log(`bench:update: ${backend.name}; ${examples.length} completions (${zeroAdvantage} with A = 0), ${completionTokens} completion + ${promptTokens} prompt tokens`);

  const fromConfig = stageOptions(config).update;
  // One epoch, no KL and no clipping: the bench compares the gradients of the batch layouts.
  const base: UpdateOptions = { ...fromConfig, loss: { ...fromConfig.loss, beta: 0 }, updateEpochs: 1, clipNorm: undefined };
  const paths = {
    old: { ...base, layout: "per-sequence", skipZeroAdvantage: false } as UpdateOptions,
    new: { ...base, layout: "shared-prompt", skipZeroAdvantage: true } as UpdateOptions,
    shared: { ...base, layout: "shared-prompt", skipZeroAdvantage: false } as UpdateOptions,
  };
  const capture = { old: new GradientCapture(), new: new GradientCapture(), shared: new GradientCapture() };
  const times: { old: number[]; new: number[]; shared: number[] } = { old: [], new: [], shared: [] };
  const results: Record<string, ReturnType<typeof policyUpdate>> = {};
  for (let rep = 0; rep < args.reps + 1; rep++) {
    for (const which of rep % 2 === 0 ? (["old", "new", "shared"] as const) : (["shared", "new", "old"] as const)) {
      const t0 = process.hrtime.bigint();
      results[which] = policyUpdate(model, capture[which], examples, tokenizer.pad, paths[which]);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (rep > 0) times[which].push(seconds); // repetition 0 warms up both paths
      console.log(`  rep ${rep}${rep === 0 ? " (warm-up)" : ""} ${which}: ${seconds.toFixed(2)} s`);
    }
  }
  const maxRelGradDiff = maxRelativeGradientDifference(capture.old.gradients, capture.new.gradients);
  const sharedRelGradDiff = maxRelativeGradientDifference(capture.old.gradients, capture.shared.gradients);
  const [oldS, newS, sharedS] = [median(times.old), median(times.new), median(times.shared)];
  const out = {
    bench: "update",
    backend: backend.name,
    config: args.config,
    completions: examples.length,
    zero_advantage_completions: zeroAdvantage,
    completion_tokens: completionTokens,
    old_forwarded_grad_tokens: results.old.forwardedGrad,
    new_forwarded_grad_tokens: results.new.forwardedGrad,
    old_seconds: +oldS.toFixed(3),
    new_seconds: +newS.toFixed(3),
    old_tokens_per_s: Math.round(completionTokens / oldS),
    new_tokens_per_s: Math.round(completionTokens / newS),
    speedup: +(oldS / newS).toFixed(2),
    max_rel_grad_diff: Number(maxRelGradDiff.toExponential(2)),
    shared_prompt_only_speedup: +(oldS / sharedS).toFixed(2),
    shared_prompt_only_max_rel_grad_diff: Number(sharedRelGradDiff.toExponential(2)),
    old_loss: results.old.epochs[0].loss,
    new_loss: results.new.epochs[0].loss,
    reps: args.reps,
  };
  for (const c of Object.values(capture)) c.dispose();
  model.dispose();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
