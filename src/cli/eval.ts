/**
 * `murphy eval --checkpoint <dir> --split <split> --turns k [--samples n] [--temperature t]
 * [--seed s] [--limit m] [--out file.jsonl] [--json]`: the sequential self-correction loop. Prints
 * Iter-1..Iter-k pass@1 and (n > 1) pass@k; writes every attempt as JSONL plus the config that
 * produced it (`<out>.config.json`). With --json the last stdout line is one JSON object.
 */
import * as path from "node:path";
import { intFlag, numberFlag, parse, printJsonLast, UsageError } from "./args";
import { selectBackend, describeBackend } from "../backend";
import { DATA_DIR, ROOT, TASKS_DIR } from "../paths";
import { loadSplit } from "../tasks/load";
import type { Split } from "../tasks/types";
import { SandboxPool } from "../sandbox/pool";
import { loadPolicy } from "../model/store";
import { GptPolicy } from "../model/gpt-policy";
import { attemptProgress, evaluateIterK } from "../eval/iterk";
import { writeFileAtomic, writeJsonl } from "../util/files";
import { Progress } from "../util/progress";

import { EVAL_DEFAULTS } from "../eval/defaults";
import { evalMain, flagValue, withoutFlags } from "./bench";

export { EVAL_DEFAULTS };

export async function main(argv: string[]): Promise<void> {
  // --bench (the paper's Python benchmarks, or the kit's tasks with --policy canonical): cli/bench.ts.
  const bench = flagValue(argv, "bench");
  if (bench !== undefined && !(bench === "kit" && (flagValue(argv, "policy") ?? "kit") === "kit")) return evalMain(argv);
  argv = withoutFlags(argv, ["bench", "policy"]);
  const { values } = parse("eval", argv, {
    checkpoint: { type: "string", default: path.join(DATA_DIR, "checkpoints", "base") },
    split: { type: "string", default: "test" },
    turns: { type: "string" },
    samples: { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    "max-new-tokens": { type: "string" },
    seed: { type: "string" },
    limit: { type: "string" },
    "batch-size": { type: "string" },
    backend: { type: "string" },
    out: { type: "string" },
    json: { type: "boolean", default: false },
  });
  const split = values.split as Split;
  if (!["train", "validation", "test"].includes(split)) throw new UsageError(`murphy eval: --split must be train, validation or test (got "${split}")`);
  const turns = intFlag("eval", "turns", values.turns, EVAL_DEFAULTS.turns, 1);
  const samples = intFlag("eval", "samples", values.samples, EVAL_DEFAULTS.samples, 1);
  const temperature = numberFlag("eval", "temperature", values.temperature, EVAL_DEFAULTS.temperature);
  if (temperature < 0) throw new UsageError(`murphy eval: --temperature must be >= 0 (got ${temperature})`);
  const topK = intFlag("eval", "top-k", values["top-k"], 0, 0) || undefined;
  const topP = numberFlag("eval", "top-p", values["top-p"], 1);
  const maxNewTokens = intFlag("eval", "max-new-tokens", values["max-new-tokens"], EVAL_DEFAULTS.maxNewTokens, 1);
  const seed = intFlag("eval", "seed", values.seed, EVAL_DEFAULTS.seed, 0);
  const limit = intFlag("eval", "limit", values.limit, Number.MAX_SAFE_INTEGER, 1);
  const batchSize = intFlag("eval", "batch-size", values["batch-size"], 64, 1);

  const backend = await selectBackend(values.backend);
  process.stderr.write(`eval: ${describeBackend(backend)}\n`);
  const tasks = loadSplit(TASKS_DIR, split).slice(0, limit);
  const saved = loadPolicy(values.checkpoint);
  const policy = new GptPolicy(saved.model, saved.tokenizer);
  const pool = new SandboxPool();
  const options = { turns, samples, temperature, topK, topP: topP < 1 ? topP : undefined, maxNewTokens, seed, batchSize };
  const started = Date.now();
  const progress = new Progress("eval", tasks.length * samples * turns, { unit: "attempt" });
  try {
    const result = await evaluateIterK(policy, tasks, pool, options, attemptProgress(progress, tasks.length * samples));
    const seconds = (Date.now() - started) / 1000;
    const name = path.basename(path.resolve(values.checkpoint));
    const out = values.out ?? path.join(DATA_DIR, "evals", name, `${split}-k${turns}-n${samples}-t${temperature}-s${seed}${limit < Number.MAX_SAFE_INTEGER ? `-m${limit}` : ""}.jsonl`);
    writeJsonl(out, result.records);
    const summary = {
      checkpoint: path.relative(ROOT, path.resolve(values.checkpoint)),
      split,
      tasks: tasks.length,
      ...options,
      backend: backend.name,
      iter_pass1: result.iterPass1,
      pass_at_k: samples > 1 ? result.passAtK.map((row) => Object.fromEntries(row.map((v, k) => [`pass@${k + 1}`, v]))) : undefined,
      attempts: result.records.length,
      seconds: Math.round(seconds * 10) / 10,
      records: path.relative(ROOT, out),
    };
    writeFileAtomic(out.replace(/\.jsonl$/, "") + ".config.json", JSON.stringify(summary, null, 2) + "\n");
    if (!values.json) {
      process.stdout.write(`${tasks.length} ${split} tasks, ${samples} chain(s) each, up to ${turns} turns, temperature ${temperature}\n`);
      result.iterPass1.forEach((p, i) => process.stdout.write(`  Iter-${i + 1} pass@1  ${p.toFixed(4)}\n`));
      if (samples > 1) {
        const row = result.passAtK[turns - 1];
        process.stdout.write(`  Iter-${turns} ${row.map((v, k) => `pass@${k + 1} ${v.toFixed(4)}`).join("  ")}\n`);
      }
      process.stdout.write(`attempts written to ${path.relative(ROOT, out)}\n`);
    }
    if (values.json) printJsonLast(summary);
  } finally {
    await pool.close();
    saved.model.dispose();
  }
}
