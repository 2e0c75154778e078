/** The feedback suite's manifest.json: its shape, shared by the writer and the README builder. */
import type { ManifestFile } from "../manifest";
import type { SuiteSizes } from "../split";
import type { Split } from "../types";
import type { FeedbackFamily } from "./families";

export interface FeedbackSplitCounts {
  tasks: number;
  byFamily: Record<string, number>;
  byDifficulty: Record<"1" | "2" | "3", number>;
  bySignature: Record<string, number>;
}

export interface FeedbackManifest {
  format: "murphy-feedback-tasks";
  version: 1;
  seed: number;
  sizes: SuiteSizes;
  probeSetVersion: number;
  regenerate: string;
  /** Each family: what it withholds, how feedback reveals it, its options and chance level. */
  families: (Pick<FeedbackFamily, "name" | "kind" | "withheld" | "revealedBy" | "options"> & { chance: number })[];
  counts: Record<Split, FeedbackSplitCounts>;
  files: ManifestFile[];
}

