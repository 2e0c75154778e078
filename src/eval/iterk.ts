/**
 * The sequential self-correction evaluation (the paper's "Iter-k"): for each task, run n
 * independent chains; in each chain the policy writes one program per turn, the program runs in
 * the sandbox, and a failed program's feedback goes into the next turn's prompt, up to k turns.
 *
 * Whether a chain goes on follows the visible tests alone, as in deployment: a chain stops at its
 * first program that passes every VISIBLE test (the model believes it is done). The verdict uses
 * every test: the chain counts as solved at that turn only if the program also passes every
 * hidden test; a program that passes the visible tests but fails hidden ones ends its chain
 * unsolved. (A program that passes every test also passes the visible ones, so a solved chain
 * always stops.)
 */
import type { Task } from "../tasks/types";
import type { Outcome } from "../sandbox/types";
import type { ProgramRunner } from "../feedback";
import type { Attempt } from "../model/prompt";
import { attemptBatch, type AttemptSource, type ScoredAttempt } from "../attempts";
import type { SamplingOptions } from "../model/policy";
import type { AnyPolicy } from "../policy/conversation";
import { hashString } from "../util/rng";
import { iterPassRates } from "./passk";
import type { Progress } from "../util/progress";

export interface IterKOptions extends SamplingOptions {
  /** k: the most turns per chain. */
  turns: number;
  /** n: independent chains per task. */
  samples: number;
  seed: number;
  /** Prompts sampled together in one call. */
  batchSize?: number;
  /** Binary rewards (only affects the recorded reward, not "solved"). */
  binary?: boolean;
}

/** One attempt of one chain, as written to the eval JSONL. */
export interface AttemptRecord {
  taskId: string;
  chain: number;
  turn: number;
  code: string;
  reward: number;
  outcome: Outcome;
  /** Passed every test, visible and hidden: the verdict. */
  solved: boolean;
  /** Passed every visible test: the chain stopped here (solved or not). */
  visiblePassed: boolean;
  feedback: string;
  promptTokens: number;
  completionTokens: number;
  /** Earlier attempts left out of the prompt because the context was full. */
  droppedAttempts: number;
  /** The whole answer, when it was more than the program (a chat model's prose and code fences). */
  answer?: string;
}

export interface IterKResult {
  records: AttemptRecord[];
  /** solvedAtTurn[task][chain]: 1-based turn of the chain's full pass, 0 if never. */
  solvedAtTurn: number[][];
  /** Iter-1..Iter-k pass@1. */
  iterPass1: number[];
  /** passAtK[j][k-1]: pass@k at Iter-(j+1), by the unbiased estimator over the n chains. */
  passAtK: number[][];
}

interface Chain<T> {
  task: T;
  taskIndex: number;
  chain: number;
  history: Attempt[];
}

// Where a turn's attempts come from (a policy on the kit's tasks, a reference program, a model on a
// Python benchmark): src/attempts.ts; re-exported here, where the loop that first needed them lives.
export type { AttemptSource, ScoredAttempt };

export type IterKLoopOptions = Pick<IterKOptions, "turns" | "samples" | "seed" | "batchSize">;

/**
 * An `onProgress` for evaluateIterK that reports attempts done to `progress` (whose total is
 * chains x turns): every turn counts all `chains` attempts once it is over, the current one by
 * its share done.
 */
export function attemptProgress(progress: Progress, chains: number): (turn: number, done: number, total: number) => void {
  return (turn, done, total) => {
    progress.update(Math.min(progress.total, (turn - 1) * chains + Math.round((done / total) * chains)), `turn ${turn}`);
  };
}

export async function evaluateIterK(
  policy: AnyPolicy,
  tasks: readonly Task[],
  runner: ProgramRunner,
  opts: IterKOptions,
  onProgress?: (turn: number, done: number, total: number) => void,
): Promise<IterKResult> {
  return iterK(tasks, (batch, seed) => attemptBatch(policy, runner, batch, opts, seed), opts, onProgress);
}

/** The Iter-k loop over any tasks with an id, with attempts from `attempt` (see AttemptSource). */
export async function iterK<T extends { id: string }>(
  tasks: readonly T[],
  attempt: AttemptSource<T>,
  opts: IterKLoopOptions,
  onProgress?: (turn: number, done: number, total: number) => void,
): Promise<IterKResult> {
  const batchSize = opts.batchSize ?? 64;
  const solvedAtTurn = tasks.map(() => new Array(opts.samples).fill(0));
  const records: AttemptRecord[] = [];
  let active: Chain<T>[] = [];
  tasks.forEach((task, taskIndex) => {
    for (let chain = 0; chain < opts.samples; chain++) active.push({ task, taskIndex, chain, history: [] });
  });

  for (let turn = 1; turn <= opts.turns && active.length > 0; turn++) {
    const next: Chain<T>[] = [];
    for (let start = 0; start < active.length; start += batchSize) {
      const batch = active.slice(start, start + batchSize);
      const attempts = await attempt(batch, hashString(`${opts.seed}/iterk/turn${turn}/batch${start}`));
      batch.forEach((c, i) => {
        const { evaluation: result, code } = attempts[i];
        const text = attempts[i].text;
        const answer = text !== undefined && text !== code ? { answer: text } : {};
        const solved = result.solved;
        records.push({
          taskId: c.task.id,
          chain: c.chain,
          turn,
          code,
          reward: result.reward,
          outcome: result.outcome,
          solved,
          visiblePassed: result.visiblePassed,
          feedback: result.feedback,
          promptTokens: attempts[i].promptIds.length,
          completionTokens: attempts[i].completionIds.length,
          droppedAttempts: attempts[i].droppedAttempts,
          ...answer,
        });
        if (solved) solvedAtTurn[c.taskIndex][c.chain] = turn;
        // The chain goes on only where the model can see a failure: a visible test failed.
        if (!result.visiblePassed) next.push({ ...c, history: [...c.history, { code, feedback: result.feedback, ...answer }] });
      });
      onProgress?.(turn, Math.min(start + batchSize, active.length), active.length);
    }
    active = next;
  }
  const { iterPass1, passAtK } = iterPassRates(solvedAtTurn, opts.turns);
  return { records, solvedAtTurn, iterPass1, passAtK };
}
