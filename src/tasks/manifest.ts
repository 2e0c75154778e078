/**
 * A suite's manifest.json: how the suite was made (seed, sizes, probe set, the command that
 * regenerates it), what is in it (counts per split; the feedback suite also its families) and a
 * SHA-256 per file, so a test can tell that the committed files are exactly what the generator
 * (src/taskgen/) writes. Training reads the task files, not this; `murphy tasks` reads the
 * feedback families from it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sha256 } from "../util/hash";
import type { Split } from "./types";

export const MANIFEST_FILE = "manifest.json";

/** Tasks per split a suite is generated with. */
export interface SuiteSizes {
  train: number;
  validation: number;
  test: number;
}

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

/** data/tasks/manifest.json */
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

/** The feedback suite counts each task once, under its one family. */
export type FeedbackSplitCounts = SplitCounts;

/** One family of the feedback suite as its manifest describes it. */
export interface FeedbackFamilyRecord {
  name: string;
  /** Which kind of withheld specification: "unstated constant", "... choice of behaviour", "... output format". */
  kind: string;
  /** What the description leaves out. */
  withheld: string;
  /** How the feedback of a failing visible test shows it. */
  revealedBy: string;
  /** Every value the withheld part can take, in words. */
  options: string[];
  /** First-attempt pass rate of a program written from the description alone: 1 / options. */
  chance: number;
}

/** data/tasks/feedback/manifest.json */
export interface FeedbackManifest {
  format: "murphy-feedback-tasks";
  version: 1;
  seed: number;
  sizes: SuiteSizes;
  probeSetVersion: number;
  regenerate: string;
  /** Each family: what it withholds, how feedback reveals it, its options and chance level. */
  families: FeedbackFamilyRecord[];
  counts: Record<Split, FeedbackSplitCounts>;
  files: ManifestFile[];
}

export function fileSha256(file: string): string {
  return sha256(fs.readFileSync(file));
}

function readManifest(dir: string): unknown {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) throw new Error(`${file}: file not found (generate the suite with \`npm run tasks:generate\`)`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads data/tasks/manifest.json (or the manifest in `dir`). */
export function loadManifest(dir: string): Manifest {
  return readManifest(dir) as Manifest;
}

/** Reads data/tasks/feedback/manifest.json (or the manifest in `dir`); it must list the families. */
export function loadFeedbackManifest(dir: string): FeedbackManifest {
  const manifest = readManifest(dir) as Partial<FeedbackManifest>;
  if (manifest.format !== "murphy-feedback-tasks" || !Array.isArray(manifest.families)) {
    throw new Error(`${path.join(dir, MANIFEST_FILE)}: field "format" must be "murphy-feedback-tasks", with a list "families" (got format ${JSON.stringify(manifest.format)}): not the feedback suite's manifest`);
  }
  return manifest as FeedbackManifest;
}
