/**
 * Writing the feedback suite: the same JSON Lines files as the kit's suite (write.ts), its own
 * manifest.json (the families with what each withholds, counts, file hashes) and README.md. Every
 * file is written atomically; shards left over from an earlier, larger suite are removed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../../util/files";
import type { Suite } from "../split";
import { PROBE_SET_VERSION } from "../inputs";
import { type FeedbackManifest, type FeedbackSplitCounts, MANIFEST_FILE, type ManifestFile } from "../../tasks/manifest";
import type { Task } from "../../tasks/types";
import { sha256 } from "../../util/hash";
import { SPLIT_FILE_PATTERN, jsonlText, suiteFiles } from "../write";
import { FEEDBACK_FAMILIES, FEEDBACK_FAMILY_NAMES, chanceLevel } from "./families";
import { feedbackReadme } from "./readme";

export type { FeedbackManifest, FeedbackSplitCounts } from "../../tasks/manifest";

export function feedbackSplitCounts(tasks: readonly Task[]): FeedbackSplitCounts {
  const byFamily: Record<string, number> = Object.fromEntries(FEEDBACK_FAMILY_NAMES.map((f) => [f, 0]));
  const byDifficulty = { "1": 0, "2": 0, "3": 0 };
  const bySignature: Record<string, number> = {};
  for (const task of tasks) {
    byFamily[task.family] = (byFamily[task.family] ?? 0) + 1;
    byDifficulty[String(task.difficulty) as "1" | "2" | "3"]++;
    bySignature[task.signature] = (bySignature[task.signature] ?? 0) + 1;
  }
  return { tasks: tasks.length, byFamily, byDifficulty, bySignature };
}

export function feedbackRegenerateCommand(suite: Suite, dir: string): string {
  const { train, validation, test } = suite.sizes;
  return `node --import tsx src/taskgen/feedback/generate.ts --seed ${suite.seed} --out ${dir} --train ${train} --validation ${validation} --test ${test}`;
}

/** Writes the suite's files, manifest.json and README.md to `dir`; returns the manifest. */
export function writeFeedbackSuite(dir: string, suite: Suite): FeedbackManifest {
  fs.mkdirSync(dir, { recursive: true });
  const files: ManifestFile[] = [];
  const written = new Set<string>();
  for (const shard of suiteFiles(suite)) {
    const text = jsonlText(shard.tasks);
    writeFileAtomic(path.join(dir, shard.file), text);
    written.add(shard.file);
    files.push({ file: shard.file, split: shard.split, tasks: shard.tasks.length, bytes: Buffer.byteLength(text), sha256: sha256(text) });
  }
  for (const name of fs.readdirSync(dir)) {
    if (SPLIT_FILE_PATTERN.test(name) && !written.has(name)) fs.rmSync(path.join(dir, name));
  }
  const manifest: FeedbackManifest = {
    format: "murphy-feedback-tasks",
    version: 1,
    seed: suite.seed,
    sizes: { ...suite.sizes },
    probeSetVersion: PROBE_SET_VERSION,
    regenerate: feedbackRegenerateCommand(suite, "data/tasks/feedback"),
    families: FEEDBACK_FAMILY_NAMES.map((name) => {
      const f = FEEDBACK_FAMILIES[name];
      return { name: f.name, kind: f.kind, withheld: f.withheld, revealedBy: f.revealedBy, options: [...f.options], chance: chanceLevel(f) };
    }),
    counts: { train: feedbackSplitCounts(suite.train), validation: feedbackSplitCounts(suite.validation), test: feedbackSplitCounts(suite.test) },
    files,
  };
  writeFileAtomic(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
  writeFileAtomic(path.join(dir, "README.md"), feedbackReadme(manifest, suite));
  return manifest;
}
