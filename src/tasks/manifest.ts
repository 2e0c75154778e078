/**
 * data/tasks/manifest.json: how the suite was made (seed, sizes, probe set), what is in it
 * (counts per split, difficulty, family, signature) and a SHA-256 per file, so a test can tell
 * that the committed files are exactly what the generator writes.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { FAMILIES } from "./ops";
import { baseFamilies } from "./families";
import type { SuiteSizes } from "./split";
import type { Split, Task } from "./types";
import { sha256 } from "../util/hash";

export interface ManifestFile {
  file: string;
  split: Split;
  tasks: number;
  bytes: number;
  sha256: string;
}

export interface SplitCounts {
  tasks: number;
  byDifficulty: Record<"1" | "2" | "3", number>;
  /** Per base family; a composed task ("filter+map") counts once for each family in it. */
  byFamily: Record<string, number>;
  bySignature: Record<string, number>;
}

export interface Manifest {
  format: "murphy-tasks";
  version: 1;
  seed: number;
  sizes: SuiteSizes;
  probeSetVersion: number;
  regenerate: string;
  counts: Record<Split, SplitCounts>;
  files: ManifestFile[];
}

export const MANIFEST_FILE = "manifest.json";

export { sha256 };

export function fileSha256(file: string): string {
  return sha256(fs.readFileSync(file));
}

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

/** Reads data/tasks/manifest.json (or the manifest in `dir`). */
export function loadManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file}: file not found (generate the suite with src/tasks/generate.ts)`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}
