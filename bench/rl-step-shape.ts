/**
 * Records the shape of one real MURPHY policy update, for bench/train.ts's "kit shape": step 1
 * of `configs/murphy-mars.json` (seed 0) from the base checkpoint, exactly as the trainer runs
 * it (tasks of the step, rollout tree, credit, advantages, training examples), and writes each
 * training example's prompt and completion length, in the trainer's order, to
 * bench/rl-step-shape.json. No update is applied and nothing under data/ is written.
 *
 *   node --no-node-snapshot --import tsx bench/rl-step-shape.ts [--config configs/murphy-mars.json] [--step 1]
 *
 * The last line of stdout is one JSON object: the file written and a summary of the lengths.
 */
import * as path from "node:path";
import { selectBackend } from "../src/backend";
import { loadPolicy } from "../src/model/store";
import { GptPolicy } from "../src/model/gpt-policy";
import { loadConfig } from "../src/murphy/config";
import { scoreTree, trainingExamples } from "../src/murphy/pipeline";
import { rollout } from "../src/murphy/rollout";
import { tasksOfStep } from "../src/murphy/trainer";
import { ROOT, TASKS_DIR } from "../src/paths";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit } from "../src/tasks/load";
import { writeFileAtomic } from "../src/util/files";
import { hashString } from "../src/util/rng";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let configFile = "configs/murphy-mars.json";
  let step = 1;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--config") configFile = argv[++i];
    else if (argv[i] === "--step") step = Number(argv[++i]);
    else throw new Error(`bench/rl-step-shape.ts: unknown argument "${argv[i]}" (expected --config FILE, --step N)`);
  }
  if (!Number.isInteger(step) || step < 1) throw new Error(`bench/rl-step-shape.ts: --step must be a positive integer (got ${step})`);
  const backend = await selectBackend();
  const config = loadConfig(path.join(ROOT, configFile));
  const saved = loadPolicy(path.join(ROOT, config.initCheckpoint));
  const policy = new GptPolicy(saved.model, saved.tokenizer);
  const pool = new SandboxPool({ timeoutMs: config.sandbox.timeoutMs });
  try {
    const sampling = { ...config.sampling, topK: config.sampling.topK || undefined, topP: config.sampling.topP < 1 ? config.sampling.topP : undefined };
    // The same calls, in the same order and with the same seeds, as src/murphy/trainer.ts.
    const { trees } = await rollout(policy, tasksOfStep(loadSplit(TASKS_DIR, "train"), config, step), pool, {
      ...sampling,
      groupSize: config.groupSize,
      turns: config.turns,
      childrenPerFailed: config.childrenPerFailed,
      seed: hashString(`${config.seed}/rollout/${step}`),
      binary: config.reward.binary,
    });
    const examples = trainingExamples(trees.map((t) => scoreTree(t, config)));
    const lengths = examples.map((e) => [e.promptIds.length, e.completionIds.length]);
    const record = {
      _comment: "Prompt and completion lengths (tokens) of every training example of one real MURPHY update, in the trainer's order. Written by bench/rl-step-shape.ts; read by bench/train.ts.",
      source: { config: configFile, seed: config.seed, step, checkpoint: config.initCheckpoint, backend: backend.name },
      model: saved.model.config,
      microBatchSize: config.microBatchSize,
      examples: lengths,
    };
    const file = path.join(__dirname, "rl-step-shape.json");
    writeFileAtomic(file, JSON.stringify(record) + "\n");
    const totals = lengths.map(([p, c]) => p + c);
    console.log(JSON.stringify({ file: path.relative(ROOT, file), examples: lengths.length, minTokens: Math.min(...totals), maxTokens: Math.max(...totals), meanTokens: Math.round(totals.reduce((a, b) => a + b, 0) / totals.length) }));
  } finally {
    saved.model.dispose();
    await pool.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
