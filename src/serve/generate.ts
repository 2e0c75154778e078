/**
 * What `murphy serve` does with one request, model side: turn the prompt (a chat conversation, a
 * text, or token ids) into the kit's prompt ids, sample with the kit's sampler, and cut each
 * completion at `<end>` or a stop string.
 *
 * Seeds follow the sampler's contract (../model/sample.ts): a request with P prompts x n samples
 * and seed s is ONE batched call whose row p*n + j draws from `rowStreams(s, P*n)[p*n + j]`.
 * So a completions request holding a batch's prompts with the batch's seed returns exactly what
 * the in-process policy samples for that batch.
 */
import type { GptPolicy } from "../model/gpt-policy";
import { fitPromptText } from "../model/context";
import { buildPromptFromText } from "../model/prompt";
import { parseConversation } from "../policy/chat-format";

export interface GenerateOptions {
  temperature: number;
  topP?: number;
  topK?: number;
  maxNewTokens: number;
  seed: number;
  /** Stop strings: the text ends before the first one found. */
  stop: string[];
}

export interface Generation {
  /** The completion text, without `<end>` and without any stop string. */
  text: string;
  /** Completion ids as sampled (`<end>` included if produced), cut to the tokens wholly before a stop string. */
  tokenIds: number[];
  logprobs: number[];
  /** Each token's text (special ids by name). */
  tokenTexts: string[];
  finishReason: "stop" | "length";
}

/** A client's mistake (HTTP 400), as opposed to a failure of the server. */
export class BadRequest extends Error {}

/** The kit prompt for chat messages, fitted to leave room for `maxNewTokens` (oldest attempts dropped first). */
export function chatPromptIds(policy: GptPolicy, messages: unknown, maxNewTokens: number): { ids: number[]; dropped: number } {
  let parsed;
  try {
    parsed = parseConversation(messages);
  } catch (e) {
    throw new BadRequest((e as Error).message);
  }
  if (maxNewTokens >= policy.blockSize) throw new BadRequest(`max_tokens must be below the model's context length ${policy.blockSize} (got ${maxNewTokens})`);
  try {
    return fitPromptText(policy.tokenizer, parsed.taskText, parsed.history, policy.blockSize - maxNewTokens, "the conversation");
  } catch (e) {
    throw new BadRequest(`${(e as Error).message} (the model's context is ${policy.blockSize} tokens, of which max_tokens ${maxNewTokens} are kept for the answer)`);
  }
}

/** The kit prompt for chat messages, unfitted (what `/tokenize` returns). */
export function chatPromptIdsUnfitted(policy: GptPolicy, messages: unknown, addGenerationPrompt: boolean): number[] {
  let parsed;
  try {
    parsed = parseConversation(messages);
  } catch (e) {
    throw new BadRequest((e as Error).message);
  }
  const ids = buildPromptFromText(policy.tokenizer, parsed.taskText, parsed.history);
  // The prompt ends with `<answer>`, the kit's generation prompt.
  return addGenerationPrompt ? ids : ids.slice(0, -1);
}

/** Check client-given token ids against the vocabulary. */
export function checkIds(policy: GptPolicy, ids: unknown, where: string): number[] {
  if (!Array.isArray(ids) || ids.length === 0) throw new BadRequest(`${where} must be a non-empty list of token ids`);
  const vocab = policy.tokenizer.vocabSize;
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new BadRequest(`${where}[${i}] must be a token id in 0..${vocab - 1} (got ${JSON.stringify(id)})`);
  });
  return ids as number[];
}

/** Sample `n` completions of every prompt in one batched call (row p*n + j = sample j of prompt p). */
export async function generate(policy: GptPolicy, prompts: number[][], n: number, opts: GenerateOptions): Promise<Generation[][]> {
  for (const [p, ids] of prompts.entries()) {
    if (ids.length + opts.maxNewTokens > policy.blockSize) {
      throw new BadRequest(
        `prompt ${p} has ${ids.length} tokens and max_tokens is ${opts.maxNewTokens}: together more than the model's context length ${policy.blockSize}`,
      );
    }
  }
  const rows = prompts.flatMap((ids) => Array.from({ length: n }, () => ids));
  const sampled = await policy.sample(rows, { temperature: opts.temperature, topP: opts.topP, topK: opts.topK, maxNewTokens: opts.maxNewTokens, seed: opts.seed });
  return prompts.map((_, p) =>
    Array.from({ length: n }, (_, j) => finish(policy, sampled.tokens[p * n + j], sampled.logprobs[p * n + j], opts.stop)),
  );
}

/** Cut one completion at `<end>` (kept in the ids, as vLLM keeps EOS) or at the first stop string. */
export function finish(policy: GptPolicy, tokens: number[], logprobs: number[], stop: string[]): Generation {
  const tk = policy.tokenizer;
  const texts = tokens.map((id) => tk.decode([id]));
  const end = tokens.indexOf(tk.end);
  const bodyCount = end >= 0 ? end : tokens.length;
  const text = texts.slice(0, bodyCount).join("");
  let cut = -1;
  for (const s of stop) {
    const at = s ? text.indexOf(s) : -1;
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut >= 0) {
    // Keep the tokens that end at or before the stop string.
    let length = 0;
    let keep = 0;
    while (keep < bodyCount && length + texts[keep].length <= cut) length += texts[keep++].length;
    return { text: text.slice(0, cut), tokenIds: tokens.slice(0, keep), logprobs: logprobs.slice(0, keep), tokenTexts: texts.slice(0, keep), finishReason: "stop" };
  }
  return { text, tokenIds: tokens, logprobs, tokenTexts: texts, finishReason: end >= 0 ? "stop" : "length" };
}
