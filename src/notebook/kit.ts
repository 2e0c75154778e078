/**
 * What every notebook opens first: the TensorFlow.js backend, the base policy, the sandbox pool and
 * the task suite, in one call, with one `close()` that frees them (the sandbox's worker processes
 * would otherwise keep the kernel busy).
 *
 *   const kit = await openKit();
 *   const task = kit.tasks("validation")[0];
 *   ...
 *   await kit.close();
 *
 * Nothing here depends on the base model's size or vocabulary: the policy is whatever checkpoint
 * `data/checkpoints/base` (or the given folder) holds.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describeBackend, selectBackend, type BackendChoice } from "../backend";
import { GptPolicy } from "../model/gpt-policy";
import { loadPolicy } from "../model/store";
import { CHECKPOINTS_DIR, ROOT, TASKS_DIR } from "../paths";
import { SandboxPool } from "../sandbox/pool";
import { loadSplit } from "../tasks/load";
import type { Split, Task } from "../tasks/types";

export interface Kit {
  backend: BackendChoice;
  /** The loaded policy (model + tokenizer) behind the sampling interface rollouts use. */
  policy: GptPolicy;
  /** The checkpoint folder the policy came from. */
  checkpoint: string;
  /** What the checkpoint's config.json says besides the model config (how it was trained). */
  meta: Record<string, unknown>;
  /** The sandbox: runs candidate programs on tests. */
  pool: SandboxPool;
  /** The tasks of a split (read once, then cached). */
  tasks(split: Split): Task[];
  /** Dispose the model's tensors and stop the sandbox workers. */
  close(): Promise<void>;
}

export interface OpenKitOptions {
  /** Checkpoint folder (default data/checkpoints/base). */
  checkpoint?: string;
  /** Force a backend ("wasm", "cpu", ...); default: the fastest that loads. */
  backend?: string;
  /** Sandbox workers (default 2). */
  poolSize?: number;
}

export async function openKit(options: OpenKitOptions = {}): Promise<Kit> {
  const checkpoint = path.resolve(ROOT, options.checkpoint ?? path.join(CHECKPOINTS_DIR, "base"));
  if (!fs.existsSync(path.join(checkpoint, "model.safetensors"))) {
    throw new Error(`${path.relative(ROOT, checkpoint)}: no model.safetensors; create the base policy with \`npm run pretrain\``);
  }
  const backend = await selectBackend(options.backend);
  const saved = loadPolicy(checkpoint);
  if (saved.optimizer) {
    for (const t of saved.optimizer.values()) t.dispose();
  }
  const policy = new GptPolicy(saved.model, saved.tokenizer);
  const pool = new SandboxPool({ poolSize: options.poolSize ?? 2 });
  const cache = new Map<Split, Task[]>();
  return {
    backend,
    policy,
    checkpoint,
    meta: saved.meta,
    pool,
    tasks(split: Split) {
      if (!cache.has(split)) cache.set(split, loadSplit(TASKS_DIR, split));
      return cache.get(split)!;
    },
    async close() {
      saved.model.dispose();
      await pool.close();
    },
  };
}

/** One line about the kit for the top of a notebook: backend, checkpoint, model size. */
export function describeKit(kit: Kit): string {
  return `${describeBackend(kit.backend)}\npolicy: ${path.relative(ROOT, kit.checkpoint)}: ${kit.policy.model.summary()}`;
}
