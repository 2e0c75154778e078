/**
 * Writing the suite: JSON Lines, one compact task per line, train sharded into files of
 * TRAIN_SHARD_SIZE tasks (each well under 5 MB), plus manifest.json (src/tasks/manifest.ts) and
 * README.md. Every file is written atomically; shards left over from an earlier, larger suite are
 * removed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../util/files";
import type { Suite } from "./split";
import { PROBE_SET_VERSION } from "./inputs";
import { MANIFEST_FILE, type Manifest, type ManifestFile, type SplitCounts } from "../tasks/manifest";
import type { Split, Task } from "../tasks/types";
import { sha256 } from "../util/hash";
import { baseFamilies } from "./families";
import { FAMILIES } from "./ops";
import { suiteReadme } from "./readme";

export const TRAIN_SHARD_SIZE = 5000;

/** Names of split files: "test.jsonl", or "train-00.jsonl", "train-01.jsonl", ... */
export const SPLIT_FILE_PATTERN = /^(train|validation|test)(-\d+)?\.jsonl$/;

/** The files a suite is written to, with their tasks. */
export function suiteFiles(suite: Suite): { file: string; split: Split; tasks: Task[] }[] {
  const shards: { file: string; split: Split; tasks: Task[] }[] = [];
  const trainShards = Math.max(1, Math.ceil(suite.train.length / TRAIN_SHARD_SIZE));
  for (let i = 0; i < trainShards; i++) {
    const tasks = suite.train.slice(i * TRAIN_SHARD_SIZE, (i + 1) * TRAIN_SHARD_SIZE);
    shards.push({ file: `train-${String(i).padStart(2, "0")}.jsonl`, split: "train", tasks });
  }
  shards.push({ file: "validation.jsonl", split: "validation", tasks: suite.validation });
  shards.push({ file: "test.jsonl", split: "test", tasks: suite.test });
  return shards;
}

/** The text of one JSON Lines file: one compact JSON object per line. */
export function jsonlText(tasks: readonly Task[]): string {
  return tasks.map((t) => JSON.stringify(t)).join("\n") + (tasks.length > 0 ? "\n" : "");
}

/** The manifest's counts of one split. */
export function splitCounts(tasks: readonly Task[]): SplitCounts {
  const byDifficulty = { "1": 0, "2": 0, "3": 0 };
  const byFamily: Record<string, number> = Object.fromEntries(FAMILIES.map((f) => [f, 0]));
  const bySignature: Record<string, number> = {};
  for (const task of tasks) {
    byDifficulty[String(task.difficulty) as "1" | "2" | "3"]++;
    for (const family of new Set(baseFamilies(task.family))) byFamily[family]++;
    bySignature[task.signature] = (bySignature[task.signature] ?? 0) + 1;
  }
  return { tasks: tasks.length, byDifficulty, byFamily, bySignature };
}

/** The command that regenerates a suite. */
export function regenerateCommand(suite: Suite, dir: string): string {
  const { train, validation, test } = suite.sizes;
  return (
    `node --import tsx src/taskgen/generate.ts --seed ${suite.seed} --out ${dir}` +
    ` --train ${train} --validation ${validation} --test ${test}`
  );
}

/** Writes the suite's files, manifest.json and README.md to `dir`; returns the manifest. */
export function writeSuite(dir: string, suite: Suite): Manifest {
  fs.mkdirSync(dir, { recursive: true });
  const files: ManifestFile[] = [];
  const written = new Set<string>();
  for (const shard of suiteFiles(suite)) {
    const text = jsonlText(shard.tasks);
    writeFileAtomic(path.join(dir, shard.file), text);
    written.add(shard.file);
    files.push({
      file: shard.file,
      split: shard.split,
      tasks: shard.tasks.length,
      bytes: Buffer.byteLength(text),
      sha256: sha256(text),
    });
  }
  for (const name of fs.readdirSync(dir)) {
    if (SPLIT_FILE_PATTERN.test(name) && !written.has(name)) fs.rmSync(path.join(dir, name));
  }
  const manifest: Manifest = {
    format: "murphy-tasks",
    version: 1,
    seed: suite.seed,
    sizes: { ...suite.sizes },
    probeSetVersion: PROBE_SET_VERSION,
    regenerate: regenerateCommand(suite, "data/tasks"),
    counts: {
      train: splitCounts(suite.train),
      validation: splitCounts(suite.validation),
      test: splitCounts(suite.test),
    },
    files,
  };
  writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
  writeFileAtomic(path.join(dir, "README.md"), suiteReadme(manifest, suite));
  return manifest;
}
