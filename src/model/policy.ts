/**
 * What rollouts and evaluation need from a policy: a tokenizer, a context size, and batched
 * sampling that returns the exact token ids and their log-probs. `GptPolicy` (gpt-policy.ts) is
 * the kit's transformer behind this interface; tests can use a scripted stand-in.
 */
import type { Tokenizer } from "./tokenizer";

export interface SamplingOptions {
  /** Softmax temperature; 0 means greedy (argmax). */
  temperature: number;
  topK?: number;
  topP?: number;
  /** Most tokens sampled per completion (the stop token included). */
  maxNewTokens: number;
}

export interface SampledBatch {
  /** Completion token ids per prompt, exactly as sampled (stop token included if produced). */
  tokens: number[][];
  /** Log-prob of each sampled token under the temperature-scaled policy (before top-k/top-p). */
  logprobs: number[][];
}

export interface Policy {
  readonly tokenizer: Tokenizer;
  /** The model's context length: prompt + completion must fit. */
  readonly blockSize: number;
  /** Sample one completion per prompt; the same seed gives the same completions. */
  sample(prompts: number[][], opts: SamplingOptions & { seed: number }): Promise<SampledBatch>;
}
