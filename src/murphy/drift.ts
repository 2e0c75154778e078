/**
 * How far training has moved the policy from where it started, on prompts it does not train on:
 * the `kl/start` metric. A fixed probe set (the first `eval.probeTasks` validation tasks, two
 * completions each, sampled once from the starting policy at the sampling temperature) is scored
 * every `eval.probeEvery` steps; KL(start || now) is the k3 estimate over its completion tokens
 * (update.ts klFromSampler). The trainer's own batch cannot show this drift: a large learning rate
 * pushes probability mass onto unrelated prompts, which only held-out prompts reveal
 * (../shared findings: lr 5e-4 moved validation log-probs ~10x more than 1e-4).
 *
 * The probe is saved in the run folder (probe.json) so a resumed run scores the same completions.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Task } from "../tasks/types";
import type { GPT } from "../model/gpt";
import { fitPrompt } from "../model/context";
import type { Policy } from "../model/policy";
import { hashString } from "../util/rng";
import { writeFileAtomic } from "../util/files";
import type { Config } from "./config";
import type { TrainingExample } from "./pipeline";
import { stageOptions } from "./stage-options";
import { klFromSampler } from "./update";

/** Completions per probe task. */
export const PROBE_SAMPLES = 2;

/** Whether step k measures drift (kl/update, kl/start): step 1, every eval.probeEvery steps, the last. */
export function driftStep(config: Config, step: number): boolean {
  return step === 1 || step % config.eval.probeEvery === 0 || step === config.steps;
}

/** Sample the probe set from `policy` (the starting policy): deterministic in the config's seed. */
export async function sampleProbe(policy: Policy, tasks: readonly Task[], config: Config): Promise<TrainingExample[]> {
  const chosen = tasks.slice(0, config.eval.probeTasks);
  const maxPrompt = policy.blockSize - config.sampling.maxNewTokens;
  const prompts = chosen.flatMap((task) => Array.from({ length: PROBE_SAMPLES }, () => ({ task, ids: fitPrompt(policy.tokenizer, task, [], maxPrompt).ids })));
  const sampled = await policy.sample(prompts.map((p) => p.ids), { ...stageOptions(config).sampling, seed: hashString(`${config.seed}/probe`) });
  return prompts.map((p, i) => ({
    taskId: p.task.id,
    nodeId: i,
    turn: 1,
    promptIds: p.ids,
    completionIds: sampled.tokens[i],
    sampledLogprobs: sampled.logprobs[i],
    advantage: 0,
  }));
}

/** The run's probe set: read from `<out>/probe.json`, or sampled from `start()` and saved there. */
export async function loadOrSampleProbe(out: string, start: () => Policy, tasks: readonly Task[], config: Config): Promise<TrainingExample[]> {
  const file = path.join(out, "probe.json");
  if (fs.existsSync(file)) {
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as { examples?: TrainingExample[] };
    if (!Array.isArray(saved.examples)) throw new Error(`${file}: expected {"examples": [...]} (delete it to sample a new probe set)`);
    return saved.examples;
  }
  const examples = await sampleProbe(start(), tasks, config);
  writeFileAtomic(file, JSON.stringify({ note: "kl/start probe: completions sampled from the starting policy (src/murphy/drift.ts)", examples }) + "\n");
  return examples;
}

/**
 * The run's probe set, or none when `eval.probeTasks` is 0 or no probe tasks were given (then the
 * run logs no kl/start). `start` is the starting policy: the model as loaded on a fresh run; a
 * resumed run reads the probe back from `<out>/probe.json`.
 */
export async function openProbe(out: string, start: Policy, tasks: readonly Task[] | undefined, config: Config): Promise<TrainingExample[]> {
  return config.eval.probeTasks > 0 && tasks?.length ? loadOrSampleProbe(out, () => start, tasks, config) : [];
}

/** kl/start at step k: measured on drift steps when there is a probe set, else undefined. */
export function driftAt(step: number, model: GPT, probe: readonly TrainingExample[], pad: number, config: Config): { kl: number; tokens: number } | undefined {
  return probe.length > 0 && driftStep(config, step) ? klFromStart(model, probe, pad, config) : undefined;
}

/** KL(start || model) per completion token on the probe set, and the tokens forwarded to get it. */
export function klFromStart(model: GPT, probe: readonly TrainingExample[], pad: number, config: Config): { kl: number; tokens: number } {
  return klFromSampler(model, probe, pad, stageOptions(config).drift);
}
