/**
 * The data half of one RL step, in the method's order: the step's tasks -> rollout trees
 * (sampling, sandbox, feedback) -> credit, pruning, advantages (scoreTree) -> training examples.
 * The trainer calls it once per step; the update benchmark and tests call it to get a real batch.
 */
import type { Task } from "../tasks/types";
import type { ProgramRunner } from "../feedback";
import type { Policy } from "../model/policy";
import { hashString, Rng } from "../util/rng";
import type { Config } from "./config";
import { scoreTree, trainingExamples, type ScoredTree, type TrainingExample } from "./pipeline";
import { rollout, type RolloutCounts } from "./rollout";
import { stageOptions } from "./stage-options";
import type { RolloutTree } from "./tree";

export interface StepBatch {
  tasks: Task[];
  trees: RolloutTree[];
  counts: RolloutCounts;
  scored: ScoredTree[];
  examples: TrainingExample[];
}

/** The tasks of step k: `tasksPerStep` distinct train tasks drawn from (seed, k). */
export function tasksOfStep(tasks: readonly Task[], config: Config, step: number): Task[] {
  const rng = new Rng(`${config.seed}/tasks/${step}`);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(config.tasksPerStep, tasks.length)) chosen.add(rng.int(0, tasks.length - 1));
  return [...chosen].map((i) => tasks[i]);
}

/** Rollout, credit, pruning and advantages of step `step` (1-based); random choices derive from (seed, step). */
export async function stepBatch(policy: Policy, trainTasks: readonly Task[], runner: ProgramRunner, config: Config, step: number): Promise<StepBatch> {
  const options = stageOptions(config);
  const tasks = tasksOfStep(trainTasks, config, step);
  const { trees, counts } = await rollout(policy, tasks, runner, { ...options.rollout, seed: hashString(`${config.seed}/rollout/${step}`) });
  const scored = trees.map((t) => scoreTree(t, options.score));
  return { tasks, trees, counts, scored, examples: trainingExamples(scored) };
}
