/**
 * The base model's supervised data, built from the train split:
 *   - first attempts:  prompt(task)                               -> reference
 *   - repairs:         prompt(task, wrong attempt + its feedback)  -> reference
 *   - two repairs:     prompt(task, 2 wrong attempts + feedback)   -> reference
 * Wrong attempts are mutations of the reference (mutations.ts) that really fail a visible test in
 * the sandbox; their feedback is the real sandbox feedback, built exactly as rollouts build it. A
 * mutant that passes the visible tests and fails only hidden ones is not repair material: the
 * model could not know it failed (rollouts and Iter-k never repair such an attempt either). So the base
 * model already reads feedback a little, like the paper's instruction-tuned base models.
 *
 * For a feedback-suite task (data/tasks/feedback/) the wrong attempts are first the programs a
 * model writes from the description alone with another value of the withheld part (the task's
 * other `behaviours`), then mutations of such a guess: the repair then has to take the withheld
 * value from the feedback, which is what that suite's second base model learns.
 */
import type { Task } from "../tasks/types";
import type { Rng } from "../util/rng";
import { evaluateProgram, type ProgramRunner } from "../feedback";
import { buildPrompt, completionIds, type Attempt } from "../model/prompt";
import type { Tokenizer } from "../model/tokenizer";
import { mutate } from "./mutations";

/** Failed attempts at one task, each with the feedback the sandbox gave it. */
export interface RepairMaterial {
  taskId: string;
  attempts: Attempt[];
}

/** One training sequence: the prompt (loss mask 0) and the completion (loss mask 1). */
export interface SftExample {
  taskId: string;
  /** How many earlier attempts the prompt carries (0 = first attempt). */
  repairs: number;
  promptIds: number[];
  completionIds: number[];
}

/**
 * For each task, up to `perTask` mutants of its reference that fail at least one visible test,
 * with their real feedback. Programs run `concurrency` at a time through the pool.
 */
export async function buildRepairMaterial(
  tasks: readonly Task[],
  pool: ProgramRunner,
  rng: Rng,
  opts: { perTask?: number; concurrency?: number; onProgress?: (done: number) => void } = {},
): Promise<RepairMaterial[]> {
  const perTask = opts.perTask ?? 2;
  const concurrency = opts.concurrency ?? 64;
  // Draw every mutant first, in task order, so the random stream does not depend on timing.
  const jobs = tasks.map((task) => ({ task, mutants: wrongAttempts(task, rng, perTask + 2) }));
  const out: RepairMaterial[] = new Array(tasks.length);
  let next = 0;
  let done = 0;
  async function worker(): Promise<void> {
    while (next < jobs.length) {
      const { task, mutants } = jobs[next];
      const index = next++;
      const attempts: Attempt[] = [];
      for (const code of mutants) {
        if (attempts.length >= perTask) break;
        const result = await evaluateProgram(pool, task, code);
        if (!result.visiblePassed) attempts.push({ code, feedback: result.feedback });
      }
      out[index] = { taskId: task.id, attempts };
      opts.onProgress?.(++done);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/**
 * Candidate wrong attempts at `task`, to be checked in the sandbox: `count` mutations of the
 * reference; for a feedback-suite task, first its other behaviours (description-only guesses) in
 * random order, then `count` mutations of one of them.
 */
export function wrongAttempts(task: Task, rng: Rng, count: number): string[] {
  if (!task.behaviours) return mutate(task.reference, rng, count).map((m) => m.code);
  const guesses = rng.shuffle(task.behaviours.filter((b) => b !== task.reference));
  return [...guesses, ...mutate(rng.pick(guesses), rng, count).map((m) => m.code)];
}

export interface ExampleMix {
  /** Share of examples that are first attempts; the rest are repairs. */
  firstAttempt: number;
  /** Among repairs, the share that carry two earlier attempts (when the task has two). */
  twoRepairs: number;
}

export const DEFAULT_MIX: ExampleMix = { firstAttempt: 0.5, twoRepairs: 0.3 };

export type ExampleKind = 0 | 1 | 2;

/** How many earlier attempts the examples of one batch carry, drawn according to `mix`. */
export function drawKind(rng: Rng, mix: ExampleMix = DEFAULT_MIX): ExampleKind {
  if (rng.next() < mix.firstAttempt) return 0;
  return rng.next() < mix.twoRepairs ? 2 : 1;
}

/**
 * One supervised example for `task` with `repairs` earlier attempts (fewer if the task has less
 * repair material). Batches draw one kind for all their examples: similar lengths waste less
 * compute on padding.
 */
export function drawExample(tokenizer: Tokenizer, task: Task, material: RepairMaterial | undefined, rng: Rng, repairs: ExampleKind): SftExample {
  const attempts = material?.attempts ?? [];
  const history = rng.shuffle(attempts).slice(0, Math.min(repairs, attempts.length));
  return {
    taskId: task.id,
    repairs: history.length,
    promptIds: buildPrompt(tokenizer, task, history),
    completionIds: completionIds(tokenizer, task.reference),
  };
}

/**
 * A padded batch: `ids[b]` is prompt + completion right-padded with `pad`, `targets[b][t]` is the
 * token at t+1, and `lossMask[b][t]` is 1 where that target is a completion token. Sequences longer
 * than `blockSize + 1` lose the start of their prompt (the completion is always kept whole).
 */
export function collate(
  examples: readonly SftExample[],
  pad: number,
  blockSize: number,
): { ids: number[][]; targets: number[][]; lossMask: number[][]; tokens: number } {
  const seqs = examples.map((e) => {
    let full = [...e.promptIds, ...e.completionIds];
    let promptLength = e.promptIds.length;
    if (full.length > blockSize + 1) {
      const cut = full.length - (blockSize + 1);
      full = full.slice(cut);
      promptLength = Math.max(0, promptLength - cut);
    }
    return { full, promptLength };
  });
  const width = Math.max(...seqs.map((s) => s.full.length)) - 1;
  const ids: number[][] = [];
  const targets: number[][] = [];
  const lossMask: number[][] = [];
  let tokens = 0;
  for (const { full, promptLength } of seqs) {
    const row = new Array(width).fill(pad);
    const target = new Array(width).fill(pad);
    const mask = new Array(width).fill(0);
    for (let t = 0; t < full.length - 1; t++) {
      row[t] = full[t];
      target[t] = full[t + 1];
      // Target t+1 is a completion token when t+1 >= promptLength.
      mask[t] = t + 1 >= promptLength ? 1 : 0;
    }
    tokens += full.length - 1;
    ids.push(row);
    targets.push(target);
    lossMask.push(mask);
  }
  return { ids, targets, lossMask, tokens };
}
