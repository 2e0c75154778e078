/**
 * Evaluation defaults, shared by `murphy eval`, the base model's card and experiment specs: the
 * sequential self-correction loop over 3 turns, one sample per turn at temperature 0.7, 96 new
 * tokens (twice the longest reference program with the base model's tokenizer), seed 0.
 * Plain data, no TensorFlow.js import, so loading a spec stays cheap.
 */
export const EVAL_DEFAULTS = { turns: 3, samples: 1, temperature: 0.7, maxNewTokens: 96, seed: 0 };
