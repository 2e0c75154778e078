/**
 * Opening the kit: the TensorFlow.js backend, a policy checkpoint, the sandbox pool and the task
 * suite, with one `close()` that frees them (the sandbox's worker processes would otherwise keep a
 * notebook kernel or a command busy). The notebooks and the CLI (`murphy eval`, experiment cells)
 * open them here and nowhere else.
 *
 *   const kit = await openKit();
 *   const task = kit.tasks("validation")[0];
 *   ...
 *   await kit.close();
 *
 * Nothing here depends on the model's size or vocabulary: the policy is whatever checkpoint
 * `data/checkpoints/base` (or the given folder) holds.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describeBackend, selectBackend, type BackendChoice } from "./backend";
import { GptPolicy } from "./model/gpt-policy";
import { loadPolicy } from "./model/store";
import { CHECKPOINTS_DIR, ROOT, TASKS_DIR } from "./paths";
import { SandboxPool } from "./sandbox/pool";
import { loadSplit } from "./tasks/load";
import type { Split, Task } from "./tasks/types";

/** The base policy's folder, data/checkpoints/base. */
export const BASE_CHECKPOINT = path.join(CHECKPOINTS_DIR, "base");

export interface OpenedPolicy {
  /** The loaded model + tokenizer behind the sampling interface rollouts and evaluation use. */
  policy: GptPolicy;
  /** The absolute checkpoint folder. */
  checkpoint: string;
  /** What the checkpoint's config.json says besides the model config (how it was trained). */
  meta: Record<string, unknown>;
  /** Dispose the model's tensors. */
  dispose(): void;
}

/**
 * Load a checkpoint as a policy for sampling (its optimizer state, if saved, is freed at once).
 * A relative folder is taken from the project root.
 */
export function openPolicy(checkpoint: string = BASE_CHECKPOINT): OpenedPolicy {
  const dir = path.resolve(ROOT, checkpoint);
  if (!fs.existsSync(path.join(dir, "model.safetensors"))) {
    throw new Error(`${path.relative(ROOT, dir) || dir}: no model.safetensors; create the base policy with \`npm run pretrain\``);
  }
  const saved = loadPolicy(dir);
  if (saved.optimizer) {
    for (const t of saved.optimizer.values()) t.dispose();
  }
  return { policy: new GptPolicy(saved.model, saved.tokenizer), checkpoint: dir, meta: saved.meta, dispose: () => saved.model.dispose() };
}

export interface Kit extends Omit<OpenedPolicy, "dispose"> {
  backend: BackendChoice;
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
  /** Wall-clock limit per program in the sandbox, ms (default: the pool's). */
  timeoutMs?: number;
}

export async function openKit(options: OpenKitOptions = {}): Promise<Kit> {
  const backend = await selectBackend(options.backend);
  const opened = openPolicy(options.checkpoint);
  const pool = new SandboxPool({ poolSize: options.poolSize ?? 2, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
  const cache = new Map<Split, Task[]>();
  return {
    backend,
    policy: opened.policy,
    checkpoint: opened.checkpoint,
    meta: opened.meta,
    pool,
    tasks(split: Split) {
      if (!cache.has(split)) cache.set(split, loadSplit(TASKS_DIR, split));
      return cache.get(split)!;
    },
    async close() {
      opened.dispose();
      await pool.close();
    },
  };
}

/** One line about the kit for the top of a notebook: backend, checkpoint, model size. */
export function describeKit(kit: Kit): string {
  return `${describeBackend(kit.backend)}\npolicy: ${path.relative(ROOT, kit.checkpoint)}: ${kit.policy.model.summary()}`;
}
