/**
 * The OpenAI-compatible wire format, as far as the kit uses it: reading choices, token ids and
 * log-probs out of `/v1/chat/completions`, `/v1/completions`, `/v1/models` and `/tokenize`
 * answers. Each reader returns what is wrong with a malformed answer as text (the HTTP client
 * retries it, then reports it with the URL), so no field is ever trusted blindly: each reader
 * throws `MalformedAnswer` saying what is wrong.
 *
 * Where exact token ids come from (each optional; absent ones leave `[]`):
 * - `return_token_ids: true` (vLLM >= 0.10.2, SGLang): `prompt_token_ids` at the top of a chat
 *   answer (vLLM) or on each choice (SGLang, and vLLM's completions), and `token_ids` per choice;
 * - vLLM's `--return-tokens-as-token-ids`: log-prob entries whose token reads "token_id:123".
 * Log-probs: chat `choices[i].logprobs.content[j].logprob`; completions
 * `choices[i].logprobs.token_logprobs[j]`.
 */

/** One parsed choice. */
export interface WireChoice {
  /** The answer text ("" when the server sent null content). */
  text: string;
  finishReason: string | null;
  /** The prompt's token ids, if the server returned them. */
  promptIds: number[] | null;
  /** The completion's token ids, if the server returned them. */
  completionIds: number[] | null;
  /** One log-prob per completion token, if the server returned them. */
  logprobs: number[] | null;
}

/** What is wrong with a server's answer (retried by the HTTP client, then reported). */
export class MalformedAnswer extends Error {}

const bad = (problem: string): never => {
  throw new MalformedAnswer(problem);
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const isIdList = (x: unknown): x is number[] => Array.isArray(x) && x.every((v) => Number.isInteger(v) && v >= 0);

/** Token ids from log-prob entries that read "token_id:123" (vLLM --return-tokens-as-token-ids), else null. */
function idsFromTokenStrings(tokens: unknown[]): number[] | null {
  const ids: number[] = [];
  for (const t of tokens) {
    const m = typeof t === "string" ? /^token_id:(\d+)$/.exec(t) : null;
    if (!m) return null;
    ids.push(Number(m[1]));
  }
  return ids;
}

/** Log-probs and (if spelled as ids) token ids from a chat choice's `logprobs`. */
function chatLogprobs(logprobs: unknown, where: string): { logprobs: number[] | null; ids: number[] | null } {
  if (logprobs === null || logprobs === undefined) return { logprobs: null, ids: null };
  if (!isObject(logprobs) || !Array.isArray(logprobs.content)) return bad(`${where}.logprobs.content must be a list`);
  const values: number[] = [];
  const tokens: unknown[] = [];
  for (const [j, entry] of logprobs.content.entries()) {
    if (!isObject(entry) || typeof entry.logprob !== "number") return bad(`${where}.logprobs.content[${j}].logprob must be a number`);
    values.push(entry.logprob);
    tokens.push(entry.token);
  }
  return { logprobs: values, ids: idsFromTokenStrings(tokens) };
}

/** Log-probs and (if spelled as ids) token ids from a completions choice's `logprobs`. */
function completionLogprobs(logprobs: unknown, where: string): { logprobs: number[] | null; ids: number[] | null } {
  if (logprobs === null || logprobs === undefined) return { logprobs: null, ids: null };
  if (!isObject(logprobs) || !Array.isArray(logprobs.token_logprobs)) return bad(`${where}.logprobs.token_logprobs must be a list`);
  const values = logprobs.token_logprobs;
  if (!values.every((v) => typeof v === "number")) return bad(`${where}.logprobs.token_logprobs must hold numbers`);
  const ids = Array.isArray(logprobs.tokens) ? idsFromTokenStrings(logprobs.tokens) : null;
  return { logprobs: values as number[], ids };
}

/** Checks shared by both endpoints: a `choices` list of `expected` entries with indices 0..expected-1. */
function orderedChoices(json: unknown, expected: number): Record<string, unknown>[] {
  if (!isObject(json) || !Array.isArray(json.choices)) return bad(`no "choices" list`);
  if (json.choices.length !== expected) return bad(`${json.choices.length} choices, expected ${expected}`);
  const byIndex: Record<string, unknown>[] = new Array(expected);
  for (const [k, c] of json.choices.entries()) {
    if (!isObject(c)) return bad(`choices[${k}] is not an object`);
    const index = c.index ?? k;
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= expected || byIndex[index as number]) {
      return bad(`choices[${k}].index must be a distinct integer in 0..${expected - 1} (got ${JSON.stringify(c.index)})`);
    }
    byIndex[index as number] = c;
  }
  return byIndex;
}

/** The `n` choices of a `/v1/chat/completions` answer, in index order. */
export function parseChatAnswer(json: unknown, n: number): WireChoice[] {
  const choices = orderedChoices(json, n);
  const rootPrompt = isObject(json) && isIdList(json.prompt_token_ids) ? json.prompt_token_ids : null;
  const out: WireChoice[] = [];
  for (const [i, c] of choices.entries()) {
    const where = `choices[${i}]`;
    const message = c.message;
    if (!isObject(message)) return bad(`${where}.message must be an object`);
    if (message.content !== null && message.content !== undefined && typeof message.content !== "string") {
      return bad(`${where}.message.content must be a string or null`);
    }
    const lp = chatLogprobs(c.logprobs, where);
    const completionIds = isIdList(c.token_ids) ? c.token_ids : lp.ids;
    out.push({
      text: (message.content as string | null | undefined) ?? "",
      finishReason: typeof c.finish_reason === "string" ? c.finish_reason : null,
      promptIds: isIdList(c.prompt_token_ids) ? c.prompt_token_ids : rootPrompt,
      completionIds,
      logprobs: lp.logprobs,
    });
  }
  return out;
}

/** The choices of a `/v1/completions` answer for `count` prompts x 1 sample, in index order. */
export function parseCompletionAnswer(json: unknown, count: number): WireChoice[] {
  const choices = orderedChoices(json, count);
  const out: WireChoice[] = [];
  for (const [i, c] of choices.entries()) {
    const where = `choices[${i}]`;
    if (typeof c.text !== "string") return bad(`${where}.text must be a string`);
    const lp = completionLogprobs(c.logprobs, where);
    out.push({
      text: c.text,
      finishReason: typeof c.finish_reason === "string" ? c.finish_reason : null,
      promptIds: isIdList(c.prompt_token_ids) ? c.prompt_token_ids : null,
      completionIds: isIdList(c.token_ids) ? c.token_ids : lp.ids,
      logprobs: lp.logprobs,
    });
  }
  return out;
}

/** A `/tokenize` answer (vLLM, `murphy serve`): the ids and, if given, the context length. */
export function parseTokenizeAnswer(json: unknown): { tokens: number[]; maxModelLen: number | null } {
  if (!isObject(json) || !isIdList(json.tokens)) return bad(`no "tokens" list of token ids`);
  const max = json.max_model_len;
  return { tokens: json.tokens, maxModelLen: Number.isInteger(max) && (max as number) > 0 ? (max as number) : null };
}

/** A `/v1/models` answer: the served model ids and their context lengths where given (vLLM's `max_model_len`). */
export function parseModelsAnswer(json: unknown): { id: string; maxModelLen: number | null }[] {
  if (!isObject(json) || !Array.isArray(json.data)) return bad(`no "data" list of models`);
  const out: { id: string; maxModelLen: number | null }[] = [];
  for (const [i, m] of json.data.entries()) {
    if (!isObject(m) || typeof m.id !== "string") return bad(`data[${i}].id must be a string`);
    out.push({ id: m.id, maxModelLen: Number.isInteger(m.max_model_len) ? (m.max_model_len as number) : null });
  }
  return out;
}

/** The check function the HTTP client takes: what is wrong with an answer, or null. */
export function problemOf(parse: (json: unknown) => unknown): (json: unknown) => string | null {
  return (json) => {
    try {
      parse(json);
      return null;
    } catch (e) {
      if (e instanceof MalformedAnswer) return e.message;
      throw e;
    }
  };
}
