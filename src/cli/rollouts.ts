/**
 * `murphy rollouts --config <file> [--set k=v ...] [--split validation] [--limit 8]
 * [--difficulty d] [--seed s] [--checkpoint dir] --out <file.jsonl> [--json]`: sample the rollout
 * trees of a few tasks with a checkpoint (the base policy by default) and the config's tree shape
 * and sampling (G, S, G_s, temperature, ...), and save them as a batch (src/murphy/tree-jsonl.ts)
 * whose header records where they came from: the command, the checkpoint and its hash, the git
 * commit, the tasks, the seed and the settings used. Notebooks and the pruning explorer read such
 * a batch instead of sampling again.
 */
import * as path from "node:path";
import { intFlag, parse, printJsonLast, UsageError } from "./args";
import { describeBackend } from "../backend";
import { ROOT } from "../paths";
import { BASE_CHECKPOINT, openKit } from "../kit";
import { loadConfig } from "../murphy/config";
import { rollout } from "../murphy/rollout";
import { stageOptions } from "../murphy/stage-options";
import { saveTreeBatch } from "../murphy/tree-file";
import { TREE_BATCH_FORMAT, TREE_BATCH_VERSION } from "../murphy/tree-jsonl";
import { checkpointHash } from "../experiments/spec";
import { provenance } from "../util/provenance";
import type { Split } from "../tasks/types";

const SPLITS = ["train", "validation", "test"];

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("rollouts", argv, {
    config: { type: "string", default: "configs/murphy-mars.json" },
    set: { type: "string", multiple: true, default: [] },
    split: { type: "string", default: "validation" },
    limit: { type: "string" },
    difficulty: { type: "string" },
    seed: { type: "string" },
    checkpoint: { type: "string", default: BASE_CHECKPOINT },
    backend: { type: "string" },
    out: { type: "string" },
    json: { type: "boolean", default: false },
  });
  if (!values.out) throw new UsageError("murphy rollouts: --out <file.jsonl> is required");
  const split = values.split as Split;
  if (!SPLITS.includes(split)) throw new UsageError(`murphy rollouts: --split must be one of ${SPLITS.join(", ")} (got "${split}")`);
  const limit = intFlag("rollouts", "limit", values.limit, 8, 1);
  const difficulty = values.difficulty === undefined ? undefined : intFlag("rollouts", "difficulty", values.difficulty, 1, 1);
  const overrides = [...(values.set as string[])];
  if (values.seed !== undefined) overrides.push(`seed=${intFlag("rollouts", "seed", values.seed, 0, 0)}`);
  const config = loadConfig(values.config, overrides);

  const kit = await openKit({ checkpoint: values.checkpoint, backend: values.backend, timeoutMs: config.sandbox.timeoutMs });
  try {
    process.stderr.write(`rollouts: ${describeBackend(kit.backend)}\n`);
    const tasks = kit.tasks(split).filter((t) => difficulty === undefined || t.difficulty === difficulty).slice(0, limit);
    if (tasks.length === 0) throw new UsageError(`murphy rollouts: no ${split} task has difficulty ${difficulty}`);
    const started = Date.now();
    const { trees, counts } = await rollout(kit.policy, tasks, kit.pool, { ...stageOptions(config).rollout, seed: config.seed });
    const out = path.resolve(values.out);
    const { gitCommit, gitDirty } = provenance();
    saveTreeBatch(out, {
      header: {
        format: TREE_BATCH_FORMAT,
        version: TREE_BATCH_VERSION,
        command: ["murphy", "rollouts", ...argv].join(" "),
        checkpoint: path.relative(ROOT, kit.checkpoint),
        checkpointHash: checkpointHash(kit.checkpoint),
        gitCommit,
        gitDirty,
        backend: kit.backend.name,
        split,
        taskIds: tasks.map((t) => t.id),
        seed: config.seed,
        groupSize: config.groupSize,
        turns: config.turns,
        childrenPerFailed: config.childrenPerFailed,
        sampling: config.sampling,
        reward: config.reward,
      },
      trees,
    });
    const summary = { out: path.relative(ROOT, out), trees: trees.length, candidates: counts.candidates, sampledTokens: counts.sampledTokens, seconds: Math.round((Date.now() - started) / 100) / 10 };
    if (!values.json) process.stdout.write(`${summary.trees} trees, ${summary.candidates} candidates, ${summary.sampledTokens} completion tokens in ${summary.seconds} s: ${summary.out}\n`);
    if (values.json) printJsonLast(summary);
  } finally {
    await kit.close();
  }
}
