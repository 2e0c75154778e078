/**
 * Records the shape of one real MURPHY policy update, for bench/train.ts's "kit shape": step 1
 * of `configs/murphy-mars.json` (seed 0) from the base checkpoint, exactly as the trainer builds
 * it (src/murphy/step-batch.ts: tasks of the step, rollout tree, credit, advantages, training
 * examples), and writes for each training example, in the trainer's order, its prompt length,
 * its completion length, which distinct prompt it continues (siblings share one) and whether its
 * advantage is non-zero (the update trains only those), to bench/rl-step-shape.json. No update
 * is applied and nothing under data/ is written.
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
import { stepBatch } from "../src/murphy/step-batch";
import { ROOT, TASKS_DIR } from "../src/paths";
import { SandboxPool } from "../src/sandbox/pool";
import { loadSplit } from "../src/tasks/load";
import { writeFileAtomic } from "../src/util/files";

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
  if (saved.optimizer) for (const t of saved.optimizer.values()) t.dispose();
  const pool = new SandboxPool({ timeoutMs: config.sandbox.timeoutMs });
  try {
    const { examples } = await stepBatch(new GptPolicy(saved.model, saved.tokenizer), loadSplit(TASKS_DIR, "train"), pool, config, step);
    const prompts = new Map<string, number>();
    const rows = examples.map((e) => {
      const key = e.promptIds.join(",");
      if (!prompts.has(key)) prompts.set(key, prompts.size);
      return [e.promptIds.length, e.completionIds.length, prompts.get(key)!, e.advantage !== 0 ? 1 : 0];
    });
    const record = {
      _comment:
        "One real MURPHY update, in the trainer's order: per training example [prompt tokens, completion tokens, index of its distinct prompt (siblings share one), 1 if its advantage is non-zero (the update trains only those)]. Written by bench/rl-step-shape.ts; read by bench/workloads.ts.",
      source: { config: configFile, seed: config.seed, step, checkpoint: config.initCheckpoint, backend: backend.name },
      model: saved.model.config,
      microBatchSize: config.microBatchSize,
      temperature: config.sampling.temperature,
      examples: rows,
    };
    const file = path.join(__dirname, "rl-step-shape.json");
    writeFileAtomic(file, JSON.stringify(record) + "\n");
    const totals = rows.map(([p, c]) => p + c);
    console.log(
      JSON.stringify({
        file: path.relative(ROOT, file),
        examples: rows.length,
        trained: rows.filter((r) => r[3]).length,
        prompts: prompts.size,
        minTokens: Math.min(...totals),
        maxTokens: Math.max(...totals),
        meanTokens: Math.round(totals.reduce((a, b) => a + b, 0) / totals.length),
      }),
    );
  } finally {
    saved.model.dispose();
    await pool.close();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
