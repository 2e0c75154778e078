/** The kit's transformer behind the `Policy` interface used by rollouts and evaluation. */
import type { GPT } from "./gpt";
import type { Policy, SampledBatch, SamplingOptions } from "./policy";
import { sample } from "./sample";
import type { Tokenizer } from "./tokenizer";

export class GptPolicy implements Policy {
  constructor(
    readonly model: GPT,
    readonly tokenizer: Tokenizer,
  ) {}

  get blockSize(): number {
    return this.model.config.blockSize;
  }

  async sample(prompts: number[][], opts: SamplingOptions & { seed: number }): Promise<SampledBatch> {
    const { tokens, logprobs } = sample(this.model, prompts, {
      temperature: opts.temperature,
      topK: opts.topK,
      topP: opts.topP,
      maxNewTokens: opts.maxNewTokens,
      stopToken: this.tokenizer.end,
      seed: opts.seed,
    });
    return { tokens, logprobs };
  }
}
