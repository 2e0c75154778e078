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
 */
import * as path from "node:path";
import { intFlag, parse, printJsonLast, UsageError } from "./args";
import { describeBackend, selectBackend } from "../backend";
import { CHECKPOINTS_DIR, ROOT, TASKS_DIR } from "../paths";
import { loadSplit } from "../tasks/load";
import type { Split, Task } from "../tasks/types";
import { SandboxPool } from "../sandbox/pool";
import { loadPolicy } from "../model/store";
import { GptPolicy } from "../model/gpt-policy";
import { loadConfig } from "../murphy/config";
import { rollout } from "../murphy/rollout";
import { stageOptions } from "../murphy/stage-options";
import { scoreTree } from "../murphy/pipeline";
import { treeMetrics } from "../murphy/metrics";
import { saveTreeBatch } from "../murphy/tree-file";
import { TREE_BATCH_FORMAT, TREE_BATCH_VERSION } from "../murphy/tree-jsonl";
import { exportExamples } from "../murphy/training-export";
import type { AnyPolicy } from "../policy/conversation";
import { writeFileAtomic, writeJsonl } from "../util/files";
import { provenance } from "../util/provenance";
import { describeOpenAIPolicy, openAIPolicyFromFlags, policyKind, POLICY_FLAGS } from "./openai-flags";

const SPLITS = ["train", "validation", "test"];

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("rollout", argv, {
    config: { type: "string", default: "configs/murphy-mars.json" },
    set: { type: "string", multiple: true, default: [] },
    split: { type: "string", default: "train" },
    limit: { type: "string" },
    seed: { type: "string" },
    checkpoint: { type: "string", default: path.join(CHECKPOINTS_DIR, "base") },
    backend: { type: "string" },
    out: { type: "string" },
    json: { type: "boolean", default: false },
    ...POLICY_FLAGS,
  });
  if (!values.out) throw new UsageError("murphy rollout: --out DIR is required (trees.jsonl, scored.jsonl, examples.jsonl and rollout.json go there)");
  const split = values.split as Split;
  if (!SPLITS.includes(split)) throw new UsageError(`murphy rollout: --split must be one of ${SPLITS.join(", ")} (got "${split}")`);
  const overrides = [...(values.set as string[])];
  if (values.seed !== undefined) overrides.push(`seed=${intFlag("rollout", "seed", values.seed, 0, 0)}`);
  const config = loadConfig(values.config, overrides);
  const limit = intFlag("rollout", "limit", values.limit, config.tasksPerStep, 1);

  const served = policyKind("rollout", values) === "openai" ? openAIPolicyFromFlags("rollout", values) : undefined;
  if (served) await served.check();
  const backend = served ? undefined : await selectBackend(values.backend);
  if (backend) process.stderr.write(`rollout: ${describeBackend(backend)}\n`);
  const saved = served ? undefined : loadPolicy(values.checkpoint);
  if (saved?.optimizer) for (const t of saved.optimizer.values()) t.dispose();
  const policy: AnyPolicy = served ?? new GptPolicy(saved!.model, saved!.tokenizer);
  const tasks: Task[] = loadSplit(TASKS_DIR, split).slice(0, limit);
  const pool = new SandboxPool({ timeoutMs: config.sandbox.timeoutMs });
  const out = path.resolve(values.out);
  const started = Date.now();
  try {
    const options = stageOptions(config);
    const shape = { groupSize: config.groupSize, turns: config.turns, childrenPerFailed: config.childrenPerFailed };
    const { trees, counts } = await rollout(policy, tasks, pool, { ...options.rollout, seed: config.seed });
    const scored = trees.map((t) => scoreTree(t, options.score));
    const examples = exportExamples(scored, new Map(tasks.map((t) => [t.id, t])), { system: served?.options.system });
    const policyInfo = served ? describeOpenAIPolicy(served) : { policy: "kit", checkpoint: path.relative(ROOT, path.resolve(values.checkpoint)), backend: backend!.name };
    const { gitCommit, gitDirty } = provenance();
    saveTreeBatch(path.join(out, "trees.jsonl"), {
      header: {
        format: TREE_BATCH_FORMAT,
        version: TREE_BATCH_VERSION,
        command: ["murphy", "rollout", ...argv].join(" "),
        ...policyInfo,
        gitCommit,
        gitDirty,
        split,
        taskIds: tasks.map((t) => t.id),
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
      split,
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
    await pool.close();
    saved?.model.dispose();
  }
}
