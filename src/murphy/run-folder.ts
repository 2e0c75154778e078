/**
 * A training run's folder and the bookkeeping that lets a run stop and go on:
 *
 *   config.json    the resolved config and how the run was started (backend, git commit, ...)
 *   metrics.jsonl  one line per finished step (names in metrics.ts)
 *   checkpoint/    weights, optimizer state and the last finished step, every `checkpointEvery`
 *                  steps and after the last step of this process
 *
 * A fresh run starts from the init checkpoint's weights only (its optimizer state, if any, is
 * dropped). A resumed run (resume = true and a checkpoint in the folder) continues after the
 * checkpoint's step with the optimizer state restored, and drops the metric lines of steps past
 * it: those steps run again and, their random choices deriving from (seed, step) alone, log the
 * same numbers.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { GPT } from "../model/gpt";
import { loadPolicy, resumeFrom, savePolicy } from "../model/store";
import type { Tokenizer } from "../model/tokenizer";
import type { AdamW } from "../model/train";
import { appendJsonl, writeFileAtomic } from "../util/files";
import type { Config } from "./config";

export interface RunFolderOptions {
  config: Config;
  /** The folder: config.json, metrics.jsonl, checkpoint/. */
  out: string;
  /** Continue from out/checkpoint if it exists. */
  resume?: boolean;
  /** Stop after this many steps of this process (to simulate an interruption in tests). */
  stopAfterSteps?: number;
  /** Extra facts recorded in out/config.json and the checkpoint (backend, git commit, ...). */
  meta?: Record<string, unknown>;
  log: (line: string) => void;
}

export interface RunFolder {
  model: GPT;
  tokenizer: Tokenizer;
  /** Steps finished before this process started (0 on a fresh run). */
  startStep: number;
  /** The last step this process runs: config.steps, or earlier with stopAfterSteps. */
  lastStep: number;
  /** Metrics of every finished step, including those before a resume. */
  history: Record<string, number>[];
  /** Append one step's metrics to metrics.jsonl and the history. */
  record(metrics: Record<string, number>): void;
  /** Save the checkpoint after `step` when it is due: every `checkpointEvery` steps and at lastStep. */
  checkpointIfDue(step: number): Promise<void>;
}

type Metrics = Record<string, number>;

/** Open `options.out` for a fresh or a resumed run; `optimizer`'s state is restored on resume. */
export async function openRunFolder(options: RunFolderOptions, optimizer: AdamW): Promise<RunFolder> {
  const { config, out, log } = options;
  const checkpointDir = path.join(out, "checkpoint");
  const metricsFile = path.join(out, "metrics.jsonl");
  const resuming = options.resume === true && fs.existsSync(path.join(checkpointDir, "model.safetensors"));

  let model: GPT, tokenizer: Tokenizer;
  let startStep = 0;
  const history: Metrics[] = [];
  if (resuming) {
    const loaded = await resumeFrom<{ step: number; config: Config }>(checkpointDir, optimizer, config, "use another --out or drop --resume");
    ({ model, tokenizer } = loaded);
    startStep = loaded.state.step;
    // Metrics past the checkpoint came from steps that will now run again: drop them.
    const kept = fs.existsSync(metricsFile)
      ? fs.readFileSync(metricsFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Metrics).filter((m) => m.step <= startStep)
      : [];
    writeFileAtomic(metricsFile, kept.map((m) => JSON.stringify(m) + "\n").join(""));
    history.push(...kept);
    log(`train: resumed from ${checkpointDir} after step ${startStep}`);
  } else {
    const saved = loadPolicy(config.initCheckpoint);
    if (saved.optimizer) tf.dispose([...saved.optimizer.values()]);
    ({ model, tokenizer } = saved);
    fs.mkdirSync(out, { recursive: true });
    fs.rmSync(metricsFile, { force: true });
  }
  writeFileAtomic(path.join(out, "config.json"), JSON.stringify({ config, meta: options.meta ?? {} }, null, 2) + "\n");

  const lastStep = Math.min(config.steps, startStep + (options.stopAfterSteps ?? Infinity));
  return {
    model,
    tokenizer,
    startStep,
    lastStep,
    history,
    record(metrics) {
      appendJsonl(metricsFile, metrics);
      history.push(metrics);
    },
    async checkpointIfDue(step) {
      if (!((config.checkpointEvery > 0 && step % config.checkpointEvery === 0) || step === lastStep)) return;
      const meta = { trainedFrom: config.initCheckpoint, ...(options.meta ?? {}) };
      await savePolicy(checkpointDir, model, tokenizer, { optimizer, state: { step, config }, meta });
    },
  };
}
