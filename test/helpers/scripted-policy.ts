/**
 * A scripted stand-in for the policy, for tests of rollouts and evaluation that must not depend on
 * what a trained model happens to write: `choose(promptText, row)` returns the program to "sample".
 */
import type { Policy, SampledBatch, SamplingOptions } from "../../src/model/policy";
import { completionIds } from "../../src/model/prompt";
import { Tokenizer } from "../../src/model/tokenizer";

export class ScriptedPolicy implements Policy {
  readonly tokenizer = new Tokenizer();
  readonly blockSize = 640;
  readonly calls: { prompts: string[]; seed: number }[] = [];

  constructor(private readonly choose: (promptText: string, row: number) => string) {}

  async sample(prompts: number[][], opts: SamplingOptions & { seed: number }): Promise<SampledBatch> {
    const texts = prompts.map((p) => this.tokenizer.decode(p));
    this.calls.push({ prompts: texts, seed: opts.seed });
    const tokens = texts.map((t, row) => completionIds(this.tokenizer, this.choose(t, row)).slice(0, opts.maxNewTokens));
    // A recognisable log-prob per position, so tests can check they are carried through unchanged.
    return { tokens, logprobs: tokens.map((ids) => ids.map((_, i) => -0.01 * (i + 1))) };
  }
}
