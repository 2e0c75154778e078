/**
 * Evaluation defaults, shared by `murphy eval`, the base model's card and experiment specs: the
 * sequential self-correction loop over 3 turns, one sample per turn at temperature 0.7, 96 new
 * tokens (twice the longest reference program with the base model's tokenizer), seed 0.
 * Plain data and one helper, no TensorFlow.js import, so loading a spec stays cheap.
 */
export const EVAL_DEFAULTS = { turns: 3, samples: 1, temperature: 0.7, maxNewTokens: 96, seed: 0 };

/**
 * The first `limit` tasks, or all of them when `limit` is 0: how every `limit` setting of the kit
 * reads (`eval.limit` of a training config, `eval.limit` of an experiment spec).
 */
export function firstTasks<T>(tasks: readonly T[], limit: number): T[] {
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be an integer >= 0, 0 = all (got ${limit})`);
  return limit === 0 ? tasks.slice() : tasks.slice(0, limit);
}
