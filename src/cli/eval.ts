/**
 * `murphy eval --checkpoint <dir> [--suite default|feedback] --split <split> --turns k [--samples n]
 * [--temperature t] [--seed s] [--limit m] [--out file.jsonl] [--json]`: the sequential self-correction loop. Prints
 * Iter-1..Iter-k pass@1 and (n > 1) pass@k; writes every attempt as JSONL plus the config that
 * produced it (`<out>.config.json`). With --json the last stdout line is one JSON object.
 * `--policy openai --base-url URL --model NAME ...` evaluates a model behind an OpenAI-compatible
 * server instead of a checkpoint (flags in ./openai-flags.ts).
 */
import * as path from "node:path";
import { intFlag, numberFlag, parse, printJsonLast, UsageError } from "./args";
import { describeBackend } from "../backend";
import { DATA_DIR, ROOT } from "../paths";
import { SUITE_NAMES, isSuiteName, suiteDir } from "../tasks/suites";
import { loadSplit } from "../tasks/load";
import { SandboxPool } from "../sandbox/pool";
import type { Split } from "../tasks/types";
import { openKit } from "../kit";
import { attemptProgress, evaluateIterK } from "../eval/iterk";
import { writeFileAtomic, writeJsonl } from "../util/files";
import type { AnyPolicy } from "../policy/conversation";
import { describeOpenAIPolicy, openAIPolicyFromFlags, policyKind, POLICY_FLAGS } from "./openai-flags";
import { Progress } from "../util/progress";

import { EVAL_DEFAULTS } from "../eval/defaults";
import { evalMain, flagValue, withoutFlags } from "./bench";

export { EVAL_DEFAULTS };

export async function main(argv: string[]): Promise<void> {
  // --bench (the paper's Python benchmarks, or the kit's tasks with --policy canonical): cli/bench.ts.
  const bench = flagValue(argv, "bench");
  if (bench !== undefined) {
    if (!(bench === "kit" && ["kit", "openai"].includes(flagValue(argv, "policy") ?? "kit"))) return evalMain(argv);
    argv = withoutFlags(argv, ["bench"]); // --bench kit --policy kit|openai: the kit's own path below
  }
  const { values } = parse("eval", argv, {
    checkpoint: { type: "string", default: path.join(DATA_DIR, "checkpoints", "base") },
    suite: { type: "string", default: "default" },
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
    ...POLICY_FLAGS,
  });
  const split = values.split as Split;
  if (!["train", "validation", "test"].includes(split)) throw new UsageError(`murphy eval: --split must be train, validation or test (got "${split}")`);
  const suite = values.suite as string;
  if (!isSuiteName(suite)) throw new UsageError(`murphy eval: --suite must be one of ${SUITE_NAMES.join(", ")} (got "${suite}")`);
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

  const served = policyKind("eval", values) === "openai" ? openAIPolicyFromFlags("eval", values) : undefined;
  if (served) await served.check();
  // A served model is evaluated on the kit's tasks with the kit's sandbox; its own checkpoint is not loaded.
  const kit = served ? undefined : await openKit({ checkpoint: values.checkpoint, backend: values.backend });
  const backend = kit?.backend;
  if (backend) process.stderr.write(`eval: ${describeBackend(backend)}\n`);
  const tasks = loadSplit(suiteDir(suite), split).slice(0, limit);
  const policy: AnyPolicy = served ?? kit!.policy;
  const pool = kit?.pool ?? new SandboxPool();
  const options = { turns, samples, temperature, topK, topP: topP < 1 ? topP : undefined, maxNewTokens, seed, batchSize };
  const started = Date.now();
  const progress = new Progress("eval", tasks.length * samples * turns, { unit: "attempt" });
  try {
    const result = await evaluateIterK(policy, tasks, pool, options, attemptProgress(progress, tasks.length * samples));
    const seconds = (Date.now() - started) / 1000;
    const name = served ? served.options.model.replace(/[^A-Za-z0-9._-]+/g, "_") : path.basename(path.resolve(values.checkpoint));
    const out = values.out ?? path.join(DATA_DIR, "evals", name, `${suite === "default" ? "" : `${suite}-`}${split}-k${turns}-n${samples}-t${temperature}-s${seed}${limit < Number.MAX_SAFE_INTEGER ? `-m${limit}` : ""}.jsonl`);
    writeJsonl(out, result.records);
    const summary = {
      ...(served ? describeOpenAIPolicy(served) : { checkpoint: path.relative(ROOT, path.resolve(values.checkpoint)) }),
      ...(suite === "default" ? {} : { suite }),
      split,
      tasks: tasks.length,
      ...options,
      backend: backend?.name ?? "server",
      ...(served ? { http: served.stats } : {}),
      iter_pass1: result.iterPass1,
      pass_at_k: samples > 1 ? result.passAtK.map((row) => Object.fromEntries(row.map((v, k) => [`pass@${k + 1}`, v]))) : undefined,
      attempts: result.records.length,
      seconds: Math.round(seconds * 10) / 10,
      records: path.relative(ROOT, out),
    };
    writeFileAtomic(out.replace(/\.jsonl$/, "") + ".config.json", JSON.stringify(summary, null, 2) + "\n");
    if (!values.json) {
      process.stdout.write(`${tasks.length} ${split} tasks${suite === "default" ? "" : ` of the ${suite} suite`}, ${samples} chain(s) each, up to ${turns} turns, temperature ${temperature}\n`);
      result.iterPass1.forEach((p, i) => process.stdout.write(`  Iter-${i + 1} pass@1  ${p.toFixed(4)}\n`));
      if (samples > 1) {
        const row = result.passAtK[turns - 1];
        process.stdout.write(`  Iter-${turns} ${row.map((v, k) => `pass@${k + 1} ${v.toFixed(4)}`).join("  ")}\n`);
      }
      process.stdout.write(`attempts written to ${path.relative(ROOT, out)}\n`);
    }
    if (values.json) printJsonLast(summary);
  } finally {
    if (kit) await kit.close();
    else await pool.close();
  }
}
