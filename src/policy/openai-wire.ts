/**
 * The OpenAI-compatible wire format, as far as the kit uses it: reading choices, token ids and
 * log-probs out of `/v1/chat/completions`, `/v1/completions`, `/v1/models` and `/tokenize`
 * answers. Each reader returns what is wrong with a malformed answer as text (the HTTP client
 * retries it, then reports it with the URL), so no field is ever trusted blindly.
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

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

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
function chatLogprobs(logprobs: unknown, where: string): Parsed<{ logprobs: number[] | null; ids: number[] | null }> {
  if (logprobs === null || logprobs === undefined) return { ok: true, value: { logprobs: null, ids: null } };
  if (!isObject(logprobs) || !Array.isArray(logprobs.content)) return { ok: false, problem: `${where}.logprobs.content must be a list` };
  const values: number[] = [];
  const tokens: unknown[] = [];
  for (const [j, entry] of logprobs.content.entries()) {
    if (!isObject(entry) || typeof entry.logprob !== "number") return { ok: false, problem: `${where}.logprobs.content[${j}].logprob must be a number` };
    values.push(entry.logprob);
    tokens.push(entry.token);
  }
  return { ok: true, value: { logprobs: values, ids: idsFromTokenStrings(tokens) } };
}

/** Log-probs and (if spelled as ids) token ids from a completions choice's `logprobs`. */
function completionLogprobs(logprobs: unknown, where: string): Parsed<{ logprobs: number[] | null; ids: number[] | null }> {
  if (logprobs === null || logprobs === undefined) return { ok: true, value: { logprobs: null, ids: null } };
  if (!isObject(logprobs) || !Array.isArray(logprobs.token_logprobs)) return { ok: false, problem: `${where}.logprobs.token_logprobs must be a list` };
  const values = logprobs.token_logprobs;
  if (!values.every((v) => typeof v === "number")) return { ok: false, problem: `${where}.logprobs.token_logprobs must hold numbers` };
  const ids = Array.isArray(logprobs.tokens) ? idsFromTokenStrings(logprobs.tokens) : null;
  return { ok: true, value: { logprobs: values as number[], ids } };
}

/** Checks shared by both endpoints: a `choices` list of `expected` entries with indices 0..expected-1. */
function orderedChoices(json: unknown, expected: number): Parsed<Record<string, unknown>[]> {
  if (!isObject(json) || !Array.isArray(json.choices)) return { ok: false, problem: `no "choices" list` };
  if (json.choices.length !== expected) return { ok: false, problem: `${json.choices.length} choices, expected ${expected}` };
  const byIndex: Record<string, unknown>[] = new Array(expected);
  for (const [k, c] of json.choices.entries()) {
    if (!isObject(c)) return { ok: false, problem: `choices[${k}] is not an object` };
    const index = c.index ?? k;
    if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= expected || byIndex[index as number]) {
      return { ok: false, problem: `choices[${k}].index must be a distinct integer in 0..${expected - 1} (got ${JSON.stringify(c.index)})` };
    }
    byIndex[index as number] = c;
  }
  return { ok: true, value: byIndex };
}

/** The `n` choices of a `/v1/chat/completions` answer, in index order. */
export function parseChatAnswer(json: unknown, n: number): Parsed<WireChoice[]> {
  const choices = orderedChoices(json, n);
  if (!choices.ok) return choices;
  const rootPrompt = isObject(json) && isIdList(json.prompt_token_ids) ? json.prompt_token_ids : null;
  const out: WireChoice[] = [];
  for (const [i, c] of choices.value.entries()) {
    const where = `choices[${i}]`;
    const message = c.message;
    if (!isObject(message)) return { ok: false, problem: `${where}.message must be an object` };
    if (message.content !== null && message.content !== undefined && typeof message.content !== "string") {
      return { ok: false, problem: `${where}.message.content must be a string or null` };
    }
    const lp = chatLogprobs(c.logprobs, where);
    if (!lp.ok) return lp;
    const completionIds = isIdList(c.token_ids) ? c.token_ids : lp.value.ids;
    out.push({
      text: (message.content as string | null | undefined) ?? "",
      finishReason: typeof c.finish_reason === "string" ? c.finish_reason : null,
      promptIds: isIdList(c.prompt_token_ids) ? c.prompt_token_ids : rootPrompt,
      completionIds,
      logprobs: lp.value.logprobs,
    });
  }
  return { ok: true, value: out };
}

/** The choices of a `/v1/completions` answer for `count` prompts x 1 sample, in index order. */
export function parseCompletionAnswer(json: unknown, count: number): Parsed<WireChoice[]> {
  const choices = orderedChoices(json, count);
  if (!choices.ok) return choices;
  const out: WireChoice[] = [];
  for (const [i, c] of choices.value.entries()) {
    const where = `choices[${i}]`;
    if (typeof c.text !== "string") return { ok: false, problem: `${where}.text must be a string` };
    const lp = completionLogprobs(c.logprobs, where);
    if (!lp.ok) return lp;
    out.push({
      text: c.text,
      finishReason: typeof c.finish_reason === "string" ? c.finish_reason : null,
      promptIds: isIdList(c.prompt_token_ids) ? c.prompt_token_ids : null,
      completionIds: isIdList(c.token_ids) ? c.token_ids : lp.value.ids,
      logprobs: lp.value.logprobs,
    });
  }
  return { ok: true, value: out };
}

/** A `/tokenize` answer (vLLM, `murphy serve`): the ids and, if given, the context length. */
export function parseTokenizeAnswer(json: unknown): Parsed<{ tokens: number[]; maxModelLen: number | null }> {
  if (!isObject(json) || !isIdList(json.tokens)) return { ok: false, problem: `no "tokens" list of token ids` };
  const max = json.max_model_len;
  return { ok: true, value: { tokens: json.tokens, maxModelLen: Number.isInteger(max) && (max as number) > 0 ? (max as number) : null } };
}

/** A `/v1/models` answer: the served model ids and their context lengths where given (vLLM's `max_model_len`). */
export function parseModelsAnswer(json: unknown): Parsed<{ id: string; maxModelLen: number | null }[]> {
  if (!isObject(json) || !Array.isArray(json.data)) return { ok: false, problem: `no "data" list of models` };
  const out: { id: string; maxModelLen: number | null }[] = [];
  for (const [i, m] of json.data.entries()) {
    if (!isObject(m) || typeof m.id !== "string") return { ok: false, problem: `data[${i}].id must be a string` };
    out.push({ id: m.id, maxModelLen: Number.isInteger(m.max_model_len) ? (m.max_model_len as number) : null });
  }
  return { ok: true, value: out };
}

/** The check function the HTTP client takes: the problem text of a failed parse, or null. */
export function problemOf<T>(parse: (json: unknown) => Parsed<T>): (json: unknown) => string | null {
  return (json) => {
    const r = parse(json);
    return r.ok ? null : r.problem;
  };
}

/** The value of a parse the HTTP client has already checked. */
export function value<T>(r: Parsed<T>): T {
  if (!r.ok) throw new Error(`internal: unchecked answer: ${r.problem}`);
  return r.value;
}
