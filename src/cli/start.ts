/**
 * `murphy start` (`npm start`): the kit's main job at a size that runs in minutes on a 2-core CPU.
 * From the committed base policy, train compute-matched GRPO and MURPHY-MaRS for a few steps each
 * with the same seed, evaluate both (and the base model) with the Iter-k self-correction loop on a
 * slice of the validation split, and write `data/results/quick/` (per-run metrics, summary.csv,
 * summary.json with the config). Prints the summary table last.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { intFlag, parse } from "./args";
import { describeBackend, selectBackend } from "../backend";
import { CHECKPOINTS_DIR, RESULTS_DIR, ROOT, TASKS_DIR } from "../paths";
import { loadSplit } from "../tasks/load";
import { SandboxPool } from "../sandbox/pool";
import { loadConfig } from "../murphy/config";
import { train } from "../murphy/trainer";
import { loadPolicy } from "../model/store";
import { GptPolicy } from "../model/gpt-policy";
import { evaluateIterK } from "../eval/iterk";
import { writeFileAtomic } from "../util/files";
import { EVAL_DEFAULTS } from "./eval";
import { gitCommit } from "./train";

const METHODS = [
  { name: "grpo-matched", config: "configs/grpo-matched.json" },
  { name: "murphy-mars", config: "configs/murphy-mars.json" },
];

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("start", argv, {
    steps: { type: "string" },
    "tasks-per-step": { type: "string" },
    "eval-limit": { type: "string" },
    seed: { type: "string" },
    out: { type: "string", default: path.join(RESULTS_DIR, "quick") },
  });
  const steps = intFlag("start", "steps", values.steps, 3, 1);
  const tasksPerStep = intFlag("start", "tasks-per-step", values["tasks-per-step"], 4, 1);
  const evalLimit = intFlag("start", "eval-limit", values["eval-limit"], 60, 1);
  const seed = intFlag("start", "seed", values.seed, 0, 0);
  const base = path.join(CHECKPOINTS_DIR, "base");
  if (!fs.existsSync(path.join(base, "model.safetensors"))) {
    throw new Error(`${path.relative(ROOT, base)}: the base policy is missing; create it with \`npm run pretrain\` (about 50 minutes here)`);
  }
  const backend = await selectBackend();
  const log = (line: string) => process.stderr.write(line + "\n");
  log(`start: ${describeBackend(backend)}`);
  const trainTasks = loadSplit(TASKS_DIR, "train");
  const evalTasks = loadSplit(TASKS_DIR, "validation").slice(0, evalLimit);
  const pool = new SandboxPool();
  const evalOptions = { ...EVAL_DEFAULTS, seed, topK: undefined, topP: undefined };
  const rows: { method: string; iter: number[]; tokensSampled: number; tokensTrained: number; seconds: number }[] = [];
  const started = Date.now();
  try {
    const basePolicy = loadPolicy(base);
    log("start: evaluating the base policy");
    const baseEval = await evaluateIterK(new GptPolicy(basePolicy.model, basePolicy.tokenizer), evalTasks, pool, evalOptions);
    basePolicy.model.dispose();
    rows.push({ method: "base", iter: baseEval.iterPass1, tokensSampled: 0, tokensTrained: 0, seconds: 0 });
    for (const method of METHODS) {
      const t0 = Date.now();
      const config = loadConfig(path.join(ROOT, method.config), [`steps=${steps}`, `tasksPerStep=${tasksPerStep}`, `seed=${seed}`, "eval.every=0", "checkpointEvery=0"]);
      config.initCheckpoint = base;
      log(`start: training ${method.name} for ${steps} steps`);
      const result = await train({ config, out: path.join(values.out, method.name), trainTasks, evalTasks, runner: pool, log, meta: { backend: backend.name, gitCommit: gitCommit() } });
      const evaluation = await evaluateIterK(new GptPolicy(result.model, result.tokenizer), evalTasks, pool, evalOptions);
      result.model.dispose();
      const sum = (key: string) => result.metrics.reduce((a, m) => a + (m[key] ?? 0), 0);
      rows.push({ method: method.name, iter: evaluation.iterPass1, tokensSampled: sum("tokens/sampled"), tokensTrained: sum("tokens/trained"), seconds: (Date.now() - t0) / 1000 });
    }
  } finally {
    await pool.close();
  }
  const header = ["method", ...rows[0].iter.map((_, i) => `iter${i + 1}_pass1`), "tokens_sampled", "tokens_trained", "seconds"];
  const csv = [header.join(","), ...rows.map((r) => [r.method, ...r.iter.map((p) => p.toFixed(4)), r.tokensSampled, r.tokensTrained, r.seconds.toFixed(1)].join(","))].join("\n") + "\n";
  writeFileAtomic(path.join(values.out, "summary.csv"), csv);
  writeFileAtomic(
    path.join(values.out, "summary.json"),
    JSON.stringify({ steps, tasksPerStep, evalLimit, seed, evalOptions, backend: backend.name, gitCommit: gitCommit(), seconds: (Date.now() - started) / 1000, rows }, null, 2) + "\n",
  );
  const width = Math.max(...rows.map((r) => r.method.length));
  process.stdout.write(`\nquick comparison: ${steps} steps x ${tasksPerStep} tasks from the base policy, Iter-k pass@1 on ${evalLimit} validation tasks (one chain, seed ${seed})\n`);
  process.stdout.write(`${"method".padEnd(width)}  ${rows[0].iter.map((_, i) => `Iter-${i + 1}`).join("  ")}  tokens sampled  tokens trained\n`);
  for (const r of rows) process.stdout.write(`${r.method.padEnd(width)}  ${r.iter.map((p) => p.toFixed(3).padStart(6)).join("  ")}  ${String(r.tokensSampled).padStart(14)}  ${String(r.tokensTrained).padStart(14)}\n`);
  process.stdout.write(`results: ${path.relative(ROOT, values.out)}/summary.csv\n`);
}
