/**
 * `murphy pretrain [--steps n] [--seed s] [--out dir] [--work dir] [--set key=value ...]`
 * (`npm run pretrain`): supervised training of the base policy on the train split, resumable
 * (re-run the same command after an interruption), then the Iter-k evaluation on the test split
 * and a model card (`README.md`) beside the checkpoint.
 *
 * `murphy pretrain --feedback` (`npm run pretrain:feedback`): the feedback suite's second base
 * (FEEDBACK_PRETRAIN: the base trained further on both suites' train splits) to
 * data/checkpoints/base-feedback, evaluated on both suites' test splits. Re-running a finished
 * run only evaluates again and rewrites the model card.
 */
import * as path from "node:path";
import { intFlag, parse, printJsonLast } from "./args";
import { describeBackend, selectBackend } from "../backend";
import { CHECKPOINTS_DIR, DATA_DIR, ROOT, TASKS_DIR } from "../paths";
import { loadSplit } from "../tasks/load";
import { SandboxPool } from "../sandbox/pool";
import { GptPolicy } from "../model/gpt-policy";
import { loadPolicy } from "../model/store";
import { evaluateIterK } from "../eval/iterk";
import { DEFAULT_PRETRAIN, FEEDBACK_PRETRAIN, pretrain, type PretrainConfig } from "../pretrain/pretrain";
import { type FeedbackCardInputs, writeFeedbackModelCard, writeModelCard } from "../pretrain/card";
import { suiteDir } from "../tasks/suites";
import { parseOverride } from "../util/fields";
import { writeJsonl } from "../util/files";
import { Progress } from "../util/progress";
import { EVAL_DEFAULTS } from "./eval";

/** Apply "a.b=value" overrides to a copy of the pretraining config; unknown keys are errors. */
export function applyOverrides(base: PretrainConfig, overrides: readonly string[]): PretrainConfig {
  const config = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  for (const text of overrides) {
    const { path: keyPath, value } = parseOverride(text);
    const keys = keyPath.split(".");
    let node = config;
    for (const k of keys.slice(0, -1)) {
      if (typeof node[k] !== "object" || node[k] === null) throw new Error(`--set ${text}: unknown pretraining field "${keyPath}"`);
      node = node[k] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (!(last in node)) throw new Error(`--set ${text}: unknown pretraining field "${keyPath}" (known: ${Object.keys(node).join(", ")})`);
    if (typeof value !== typeof node[last]) throw new Error(`--set ${text}: "${keyPath}" must be a ${typeof node[last]} (got ${JSON.stringify(value)})`);
    node[last] = value;
  }
  return config as unknown as PretrainConfig;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("pretrain", argv, {
    feedback: { type: "boolean", default: false },
    steps: { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
    work: { type: "string" },
    set: { type: "string", multiple: true, default: [] },
    "eval-limit": { type: "string" },
    "skip-eval": { type: "boolean", default: false },
    backend: { type: "string" },
    json: { type: "boolean", default: false },
  });
  if (values.feedback) return pretrainFeedbackBase(values);
  const out = values.out ?? path.join(CHECKPOINTS_DIR, "base");
  const work = values.work ?? path.join(DATA_DIR, "runs", "pretrain");
  let config = applyOverrides(DEFAULT_PRETRAIN, values.set as string[]);
  config = { ...config, steps: intFlag("pretrain", "steps", values.steps, config.steps, 1), seed: intFlag("pretrain", "seed", values.seed, config.seed, 0) };
  const backend = await selectBackend(values.backend);
  const log = (line: string) => process.stderr.write(line + "\n");
  log(`pretrain: ${describeBackend(backend)}`);
  const tasks = loadSplit(TASKS_DIR, "train");
  const pool = new SandboxPool();
  try {
    const result = await pretrain({
      config,
      tasks,
      runner: pool,
      workDir: work,
      out,
      meta: { backend: backend.name, data: "data/tasks train split" },
      log,
    });
    let evaluation: { iterPass1: number[]; tasks: number; seconds: number } | undefined;
    if (!values["skip-eval"]) {
      const testTasks = loadSplit(TASKS_DIR, "test").slice(0, intFlag("pretrain", "eval-limit", values["eval-limit"], Number.MAX_SAFE_INTEGER, 1));
      const t0 = Date.now();
      const progress = new Progress("eval test", EVAL_DEFAULTS.turns, { unit: "turn", write: log, everyMs: 0 });
      const r = await evaluateIterK(new GptPolicy(result.model, result.tokenizer), testTasks, pool, { ...EVAL_DEFAULTS, topK: undefined, topP: undefined }, (turn, done, total) => {
        if (done === total) progress.update(turn);
      });
      evaluation = { iterPass1: r.iterPass1, tasks: testTasks.length, seconds: (Date.now() - t0) / 1000 };
      writeJsonl(path.join(out, "eval-test.jsonl"), r.records);
    }
    writeModelCard(out, { config, result, backend: backend.name, evaluation, evalOptions: EVAL_DEFAULTS });
    const summary = { out: path.relative(ROOT, out), steps: result.steps, seconds: Math.round(result.seconds), final_loss: result.finalLoss, tokens: result.tokensSeen, iter_pass1: evaluation?.iterPass1, backend: backend.name };
    if (!values.json) process.stdout.write(`base model written to ${summary.out}; Iter-k pass@1 on test: ${evaluation?.iterPass1.map((p) => p.toFixed(3)).join(", ") ?? "not evaluated"}\n`);
    printJsonLast(summary);
  } finally {
    await pool.close();
  }
}

interface PretrainValues {
  steps?: string;
  seed?: string;
  out?: string;
  work?: string;
  set?: string[];
  "eval-limit"?: string;
  "skip-eval"?: boolean;
  backend?: string;
  json?: boolean;
}

/** `murphy pretrain --feedback`: the second base, for the feedback suite (see the module comment). */
async function pretrainFeedbackBase(values: PretrainValues): Promise<void> {
  const out = values.out ?? path.join(CHECKPOINTS_DIR, "base-feedback");
  const work = values.work ?? path.join(DATA_DIR, "runs", "pretrain-feedback");
  let config = applyOverrides(FEEDBACK_PRETRAIN, values.set ?? []);
  config = { ...config, steps: intFlag("pretrain", "steps", values.steps, config.steps, 1), seed: intFlag("pretrain", "seed", values.seed, config.seed, 0) };
  const backend = await selectBackend(values.backend);
  const log = (line: string) => process.stderr.write(line + "\n");
  log(`pretrain: ${describeBackend(backend)}; the feedback suite's second base, from ${config.init}`);
  const pool = new SandboxPool();
  try {
    const result = await pretrain({
      config,
      tasks: loadSplit(TASKS_DIR, "train"),
      feedbackTasks: loadSplit(suiteDir("feedback"), "train"),
      runner: pool,
      workDir: work,
      out,
      meta: { backend: backend.name, data: "data/tasks and data/tasks/feedback train splits", trainedFrom: config.init },
      log,
    });
    const evaluations: FeedbackCardInputs["evaluations"] = [];
    let firstBase: number[] | undefined;
    if (!values["skip-eval"]) {
      const limit = intFlag("pretrain", "eval-limit", values["eval-limit"], Number.MAX_SAFE_INTEGER, 1);
      const evaluate = async (policy: GptPolicy, suite: "default" | "feedback", label: string) => {
        const testTasks = loadSplit(suiteDir(suite), "test").slice(0, limit);
        const t0 = Date.now();
        const progress = new Progress(`eval ${label} on ${suite} test`, EVAL_DEFAULTS.turns, { unit: "turn", write: log, everyMs: 0 });
        const r = await evaluateIterK(policy, testTasks, pool, { ...EVAL_DEFAULTS, topK: undefined, topP: undefined }, (turn, done, total) => {
          if (done === total) progress.update(turn);
        });
        return { suite, iterPass1: r.iterPass1, tasks: testTasks, records: r.records, seconds: (Date.now() - t0) / 1000 };
      };
      const policy = new GptPolicy(result.model, result.tokenizer);
      for (const suite of ["feedback", "default"] as const) {
        const e = await evaluate(policy, suite, "second base");
        evaluations.push(e);
        writeJsonl(path.join(out, `eval-${suite === "default" ? "" : `${suite}-`}test.jsonl`), e.records);
      }
      // The first base on the feedback suite, for comparison (its main-suite numbers are in its card).
      const init = loadPolicy(path.resolve(ROOT, config.init!));
      firstBase = (await evaluate(new GptPolicy(init.model, init.tokenizer), "feedback", "first base")).iterPass1;
      init.model.dispose();
    }
    writeFeedbackModelCard(out, { config, result, backend: backend.name, evaluations, firstBaseFeedback: firstBase, evalOptions: EVAL_DEFAULTS });
    const summary = {
      out: path.relative(ROOT, out), steps: result.steps, seconds: Math.round(result.seconds), cpu_seconds: Math.round(result.cpuSeconds),
      final_loss: result.finalLoss, tokens: result.tokensSeen, backend: backend.name,
      iter_pass1: Object.fromEntries(evaluations.map((e) => [e.suite, e.iterPass1])),
    };
    if (!values.json) process.stdout.write(`second base written to ${summary.out}; Iter-k pass@1 on test: ${evaluations.map((e) => `${e.suite} ${e.iterPass1.map((p) => p.toFixed(3)).join(", ")}`).join("; ") || "not evaluated"}\n`);
    printJsonLast(summary);
  } finally {
    await pool.close();
  }
}
