/**
 * `murphy rollout [--policy kit|openai ...] [--config configs/murphy-mars.json] [--set k=v ...]
 * [--split train] [--limit n] [--seed s] [--checkpoint dir] --out DIR [--json]`: grow the MURPHY
 * rollout trees of some tasks with a policy (the kit's checkpoint, or a model behind an
 * OpenAI-compatible server: flags in ./openai-flags.ts), score them as the trainer would (credit,
 * pruning, advantages under the config), and write to DIR:
 *
 *   trees.jsonl     the trees, in the kit's tree-batch format (src/murphy/tree-jsonl.ts: a header
 *                   with the provenance, then one tree per line); notebooks 03-05 and 08 open it
 *   scored.jsonl    per tree: R, advantages (null where pruned), the pruning reason of every node
 *   examples.jsonl  the trainable examples for an external trainer (docs/training-export.md)
 *   rollout.json    what ran: policy, config, tasks, counts, tree metrics, HTTP statistics
 *
 * The tree shape and sampling come from the config (G = groupSize, S = turns, G_s =
 * childrenPerFailed, sampling.*); e.g. `--set sampling.maxNewTokens=2048` for a real model.
 *
 * `--bench humaneval|mbpp|... --policy openai` grows the trees on a Python benchmark's problems
 * instead (`--split`, `--file`, `--visible`, `--references` as for `murphy eval --bench`), each
 * program run in the Python sandbox (`--timeout-ms`, 10000 per program): rewards and the verdict
 * count the benchmark's hidden tests, feedback and expansion its visible ones. The trees' header
 * then names the benchmark (`bench`).
 */
import * as path from "node:path";
import { intFlag, parse, printJsonLast, UsageError } from "./args";
import { describeBackend, selectBackend } from "../backend";
import { CHECKPOINTS_DIR, ROOT, TASKS_DIR } from "../paths";
import { loadSplit } from "../tasks/load";
import type { Split, Task } from "../tasks/types";
import { SandboxPool } from "../sandbox/pool";
import { PythonSandbox } from "../pysandbox/pool";
import { loadPolicy } from "../model/store";
import { GptPolicy } from "../model/gpt-policy";
import { loadConfig, type Config } from "../murphy/config";
import { growTrees, rollout, type RolloutCounts, type TreeShape } from "../murphy/rollout";
import { stageOptions } from "../murphy/stage-options";
import { scoreTree, type ScoredTree } from "../murphy/pipeline";
import type { RolloutTree } from "../murphy/tree";
import type { BenchmarkName, BenchProblem } from "../benchmarks/types";
import type { SamplingOptions } from "../model/policy";
import type { OpenAIPolicy } from "../policy/openai";
import { conversationSource } from "../benchmarks/attempt-sources";
import { pythonStyle } from "../policy/chat-format";
import { treeMetrics } from "../murphy/metrics";
import { saveTreeBatch } from "../murphy/tree-file";
import { TREE_BATCH_FORMAT, TREE_BATCH_VERSION } from "../murphy/tree-jsonl";
import { exportExamples, type ExportedExample } from "../murphy/training-export";
import type { AnyPolicy } from "../policy/conversation";
import { writeFileAtomic, writeJsonl } from "../util/files";
import { provenance } from "../util/provenance";
import { describeOpenAIPolicy, openAIPolicyFromFlags, policyKind, POLICY_FLAGS } from "./openai-flags";
import { checkBench, DATA_OPTIONS, loadProblems } from "./bench";

const SPLITS = ["train", "validation", "test"];

/** Trees grown, with the ids of their problems and their trainable examples (the prompt style differs). */
interface Grown {
  trees: RolloutTree[];
  counts: RolloutCounts;
  taskIds: string[];
  examples(scored: readonly ScoredTree[]): ExportedExample[];
}

/** The trees of the kit's own tasks, each program run in the kit's JavaScript sandbox. */
async function growOnKitTasks(policy: AnyPolicy, tasks: Task[], config: Config, sampling: SamplingOptions, shape: TreeShape, system?: string): Promise<Grown> {
  const pool = new SandboxPool({ timeoutMs: config.sandbox.timeoutMs });
  try {
    const byId = new Map(tasks.map((t) => [t.id, t]));
    return {
      ...(await rollout(policy, tasks, pool, { ...sampling, ...shape, binary: config.reward.binary })),
      taskIds: tasks.map((t) => t.id),
      examples: (scored) => exportExamples(scored, byId, { system }),
    };
  } finally {
    await pool.close();
  }
}

/** The trees of a Python benchmark's problems from a served model, each program run in the Python sandbox. */
async function growOnBenchmark(policy: OpenAIPolicy<BenchProblem>, problems: BenchProblem[], config: Config, sampling: SamplingOptions, shape: TreeShape, timeoutMs: number): Promise<Grown> {
  const sandbox = new PythonSandbox({ timeoutMs });
  try {
    const byId = new Map(problems.map((p) => [p.id, p]));
    const source = conversationSource(policy, sandbox, sampling, { binary: config.reward.binary });
    return {
      ...(await growTrees(problems, source, shape)),
      taskIds: problems.map((p) => p.id),
      examples: (scored) => exportExamples(scored, byId, { style: pythonStyle, system: policy.options.system }),
    };
  } finally {
    await sandbox.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("rollout", argv, {
    ...DATA_OPTIONS,
    config: { type: "string", default: "configs/murphy-mars.json" },
    set: { type: "string", multiple: true, default: [] },
    seed: { type: "string" },
    checkpoint: { type: "string", default: path.join(CHECKPOINTS_DIR, "base") },
    backend: { type: "string" },
    out: { type: "string" },
    "timeout-ms": { type: "string" },
    ...POLICY_FLAGS,
  });
  if (!values.out) throw new UsageError("murphy rollout: --out DIR is required (trees.jsonl, scored.jsonl, examples.jsonl and rollout.json go there)");
  const kind = policyKind("rollout", values);
  // --bench kit is the kit's own tasks, as without --bench.
  const bench = values.bench === undefined || checkBench("rollout", values.bench) === "kit" ? undefined : (checkBench("rollout", values.bench) as BenchmarkName);
  if (bench && kind !== "openai") {
    throw new UsageError(`murphy rollout: --bench ${bench} needs --policy openai --base-url URL --model NAME (a model that writes Python; the kit's own model writes JavaScript)`);
  }
  const split = values.split ?? (bench ? undefined : "train");
  if (!bench && !SPLITS.includes(split as string)) throw new UsageError(`murphy rollout: --split must be one of ${SPLITS.join(", ")} (got "${split}")`);
  if (!bench && values["timeout-ms"] !== undefined) throw new UsageError("murphy rollout: --timeout-ms is for --bench (the kit's sandbox takes the config's sandbox.timeoutMs: --set sandbox.timeoutMs=...)");
  const timeoutMs = intFlag("rollout", "timeout-ms", values["timeout-ms"], 10_000, 1);
  const overrides = [...(values.set as string[])];
  if (values.seed !== undefined) overrides.push(`seed=${intFlag("rollout", "seed", values.seed, 0, 0)}`);
  const config = loadConfig(values.config, overrides);
  const limit = intFlag("rollout", "limit", values.limit, config.tasksPerStep, 1);
  const problems = bench ? (loadProblems("rollout", values) as BenchProblem[]).slice(0, limit) : undefined;

  // Python problems are put to a served model verbatim (pythonStyle); the kit's tasks in the kit's style.
  const servedBench = bench ? openAIPolicyFromFlags<BenchProblem>("rollout", values, { style: pythonStyle }) : undefined;
  const servedKit = !bench && kind === "openai" ? openAIPolicyFromFlags("rollout", values) : undefined;
  const served = servedBench ?? servedKit;
  if (served) await served.check();
  const backend = served ? undefined : await selectBackend(values.backend);
  if (backend) process.stderr.write(`rollout: ${describeBackend(backend)}\n`);
  const saved = served ? undefined : loadPolicy(values.checkpoint);
  if (saved?.optimizer) for (const t of saved.optimizer.values()) t.dispose();
  const out = path.resolve(values.out);
  const started = Date.now();
  try {
    const options = stageOptions(config);
    const shape = { groupSize: config.groupSize, turns: config.turns, childrenPerFailed: config.childrenPerFailed };
    const sampling = options.sampling;
    const treeShape: TreeShape = { ...shape, seed: config.seed, maxExpandedPerGroup: options.rollout.maxExpandedPerGroup };
    const grown = servedBench
      ? await growOnBenchmark(servedBench, problems!, config, sampling, treeShape, timeoutMs)
      : await growOnKitTasks(servedKit ?? new GptPolicy(saved!.model, saved!.tokenizer), loadSplit(TASKS_DIR, split as Split).slice(0, limit), config, sampling, treeShape, servedKit?.options.system);
    const { trees, counts } = grown;
    const scored = trees.map((t) => scoreTree(t, options.score));
    const examples = grown.examples(scored);
    const policyInfo = servedBench ? describeOpenAIPolicy(servedBench) : servedKit ? describeOpenAIPolicy(servedKit) : { policy: "kit", checkpoint: path.relative(ROOT, path.resolve(values.checkpoint)), backend: backend!.name };
    const { gitCommit, gitDirty } = provenance();
    saveTreeBatch(path.join(out, "trees.jsonl"), {
      header: {
        format: TREE_BATCH_FORMAT,
        version: TREE_BATCH_VERSION,
        command: ["murphy", "rollout", ...argv].join(" "),
        ...policyInfo,
        gitCommit,
        gitDirty,
        ...(bench ? { bench, ...pick(values, ["file", "visible", "references"]) } : {}),
        ...(split !== undefined ? { split } : {}),
        taskIds: grown.taskIds,
        seed: config.seed,
        ...shape,
        sampling: config.sampling,
        reward: config.reward,
      },
      trees,
    });
    writeJsonl(
      path.join(out, "scored.jsonl"),
      scored.map((s) => ({
        taskId: s.tree.taskId,
        propagatedRewards: s.propagatedRewards,
        fullGroupAdvantages: s.fullGroupAdvantages,
        advantages: s.advantages.map((a) => (Number.isFinite(a) ? a : null)),
        reasons: s.reasons,
        kept: s.kept,
      })),
    );
    writeJsonl(path.join(out, "examples.jsonl"), examples);
    const metrics = treeMetrics(scored, options.metrics);
    const summary = {
      out: path.relative(ROOT, out),
      ...policyInfo,
      ...(bench ? { bench } : {}),
      ...(split !== undefined ? { split } : {}),
      trees: trees.length,
      candidates: counts.candidates,
      examples: examples.length,
      examples_with_token_ids: examples.filter((e) => e.completion_ids.length > 0).length,
      sampled_tokens: counts.sampledTokens,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      metrics,
      ...(served ? { http: served.stats } : {}),
    };
    writeFileAtomic(path.join(out, "rollout.json"), JSON.stringify({ ...summary, config }, null, 2) + "\n");
    if (!values.json) {
      process.stdout.write(
        `${trees.length} trees, ${counts.candidates} candidates, ${examples.length} trainable examples (${summary.examples_with_token_ids} with token ids) in ${summary.seconds} s: ${summary.out}/\n`,
      );
    }
    if (values.json) printJsonLast(summary);
  } finally {
    saved?.model.dispose();
  }
}

/** The flags among `names` that were given, as header fields (where the problems came from). */
function pick(values: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.filter((n) => values[n] !== undefined).map((n) => [n, values[n]]));
}
