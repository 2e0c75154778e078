/**
 * Saving and loading a batch of rollout trees as a JSONL file (format in tree-jsonl.ts).
 *
 *   saveTreeBatch("data/rollouts/my-batch.jsonl", { header: { format: TREE_BATCH_FORMAT, version: 1, seed: 1 }, trees });
 *   const { header, trees } = loadTreeBatch("data/rollouts/base-validation.jsonl");
 *
 * Writes are atomic (temp file, then rename).
 */
import * as fs from "node:fs";
import { writeFileAtomic } from "../util/files";
import { formatTreeBatch, parseTreeBatch, type TreeBatch } from "./tree-jsonl";

export function saveTreeBatch(file: string, batch: TreeBatch): void {
  writeFileAtomic(file, formatTreeBatch(batch));
}

export function loadTreeBatch(file: string): TreeBatch {
  if (!fs.existsSync(file)) throw new Error(`${file}: not found (a batch of rollout trees is written by \`murphy rollouts\`)`);
  return parseTreeBatch(fs.readFileSync(file, "utf8"), file);
}
