/**
 * A policy behind an OpenAI-compatible server (vLLM, SGLang, Ollama, `murphy serve`, a hosted
 * API): the same `ConversationPolicy` as the kit's own model, so `rollout` and `evaluateIterK`
 * run unchanged on it.
 *
 * Two ways to ask (`api`):
 * - "chat" (default, any server): each conversation goes to `/v1/chat/completions` as messages
 *   (./chat-format.ts); conversations that are copies of one another (a GRPO group: G candidates
 *   from one prompt) go as ONE request with `n` = G. Token ids and log-probs are kept where the
 *   server returns them (`logprobs: true`, and vLLM/SGLang's `return_token_ids: true`).
 * - "completions" (vLLM, SGLang, `murphy serve`): the server's own chat template renders each
 *   conversation to token ids (`/tokenize` with the messages); when prompt + `max_tokens` would not
 *   fit the server's context (`max_model_len`), the oldest attempts are dropped, as the kit's
 *   `fitPrompt` does; then every prompt of the batch is sampled in one `/v1/completions` request
 *   with token-id prompts and the batch's seed. The prompt ids are then exact by construction.
 *
 * Seeds: the chat request for the conversations starting at row r of a batch carries the seed
 * hash(seed, r); a completions request carries the batch's seed itself. A server that honours
 * `seed` (vLLM, `murphy serve`) then gives the same answers for the same seed. With `murphy serve`,
 * completions reproduce the in-process samples exactly (the same prompts sampled in one batch with
 * the same seed); chat requests sample each group with its own seed, so they match in-process runs
 * only at temperature 0 (see test/serve-equivalence.test.ts).
 */
import type { Task } from "../tasks/types";
import type { SamplingOptions } from "../model/policy";
import { hashString } from "../util/rng";
import { conversationMessages, extractCode, KIT_STYLE, type ChatMessage, type PromptStyle } from "./chat-format";
import type { Answer, Conversation, ConversationPolicy } from "./conversation";
import { HttpClient, type HttpOptions } from "./http";
import { parseChatAnswer, parseCompletionAnswer, parseModelsAnswer, parseTokenizeAnswer, problemOf, type WireChoice } from "./openai-wire";

export type OpenAIApi = "chat" | "completions";

/** T: the problem type, the kit's `Task` by default; any type with an id works given a `style`. */
export interface OpenAIPolicyOptions<T extends { id: string } = Task> extends HttpOptions {
  /** The model name the server serves (`/v1/models`). */
  model: string;
  /** "chat" (default) or "completions" (token-id prompts; vLLM, SGLang, `murphy serve`). */
  api?: OpenAIApi;
  /** Ask for per-token log-probs (default true). */
  logprobs?: boolean;
  /**
   * Send the vLLM/SGLang extensions `return_token_ids` and `top_k` (default true). Set false for a
   * server that rejects unknown fields (OpenAI's own API does).
   */
  extensions?: boolean;
  /** Stop sequences (`stop`). */
  stop?: string[];
  /** A system message put first in every conversation. */
  system?: string;
  /** Merged into every request body, e.g. `{"chat_template_kwargs": {"enable_thinking": false}}`. */
  extraBody?: Record<string, unknown>;
  /** How a task is put to the model (default: the kit's JavaScript tasks; `pythonStyle` for a Python benchmark). */
  style?: (task: T) => PromptStyle<T>;
  /** Called after every request: requests done / total of the current call, and running totals. */
  onProgress?: (done: number, total: number, stats: OpenAIPolicyStats) => void;
}

/** Running totals over the policy's life (compute accounting for served models). */
export interface OpenAIPolicyStats {
  requests: number;
  answers: number;
  /** `usage.completion_tokens` summed (0 where the server gives no usage). */
  completionTokens: number;
  /** `usage.prompt_tokens` summed. */
  promptTokens: number;
  /** Answers whose finish reason was "length" (cut off by max_tokens). */
  truncated: number;
  /** Tries repeated after 429/5xx/timeouts/malformed answers. */
  retries: number;
}

export class OpenAIPolicy<T extends { id: string } = Task> implements ConversationPolicy<T> {
  readonly http: HttpClient;
  readonly stats: OpenAIPolicyStats = { requests: 0, answers: 0, completionTokens: 0, promptTokens: 0, truncated: 0, retries: 0 };
  /** The server's context length for the model, once known (`/v1/models` or `/tokenize`). */
  maxModelLen: number | null = null;
  private checked: Promise<void> | null = null;
  /** Set once the server has answered a request for n > 1 samples with one (Ollama's OpenAI layer may). */
  private ignoresN = false;

  constructor(readonly options: OpenAIPolicyOptions<T>) {
    if (!options.model) throw new Error(`OpenAIPolicy: a model name is required (what the server at ${options.baseUrl} serves; see its /v1/models)`);
    if (options.api !== undefined && options.api !== "chat" && options.api !== "completions") {
      throw new Error(`OpenAIPolicy: api must be "chat" or "completions" (got "${options.api}")`);
    }
    this.http = new HttpClient(options);
  }

  get api(): OpenAIApi {
    return this.options.api ?? "chat";
  }

  /**
   * Check once that the server answers and serves the model (`GET /v1/models`), and learn its
   * context length. A server without `/v1/models` is let through (the first request will tell).
   */
  check(): Promise<void> {
    this.checked ??= (async () => {
      let listed: { id: string; maxModelLen: number | null }[];
      try {
        listed = parseModelsAnswer(await this.http.get("/models", problemOf(parseModelsAnswer)));
      } catch (e) {
        if ((e as { status?: number }).status === 404) return;
        throw e;
      }
      const mine = listed.find((m) => m.id === this.options.model);
      if (!mine) {
        throw new Error(
          `model "${this.options.model}" is not served at ${this.http.baseUrl}; it serves: ${listed.map((m) => `"${m.id}"`).join(", ") || "nothing"} (pass one of them to --model)`,
        );
      }
      this.maxModelLen = mine.maxModelLen;
    })();
    return this.checked;
  }

  async answer(conversations: readonly Conversation<T>[], opts: SamplingOptions & { seed: number }): Promise<Answer[]> {
    await this.check();
    const answers = this.api === "chat" ? await this.chat(conversations, opts) : await this.completions(conversations, opts);
    this.stats.retries = this.http.retries;
    return answers;
  }

  /**
   * The sampling fields of a request body. Every field the kit samples with is sent, even at its
   * "off" value (top_p 1, top_k -1), so a server's own defaults (vLLM's --generation-config reads
   * the model's generation_config.json) never change the sampling behind the kit's back.
   */
  private samplingBody(opts: SamplingOptions): Record<string, unknown> {
    const body: Record<string, unknown> = { model: this.options.model, temperature: opts.temperature, top_p: opts.topP ?? 1, max_tokens: opts.maxNewTokens };
    if (this.options.extensions !== false) body.top_k = opts.topK || -1;
    if (this.options.stop?.length) body.stop = this.options.stop;
    return body;
  }

  private messages(c: Conversation<T>, history = c.history): ChatMessage[] {
    // Without a style the tasks are the kit's own (T = Task).
    const style = this.options.style ? this.options.style(c.task) : (KIT_STYLE as unknown as PromptStyle<T>);
    return conversationMessages(style, c.task, history, this.options.system);
  }

  private count(json: unknown, choices: WireChoice[]): void {
    this.stats.requests++;
    this.stats.answers += choices.length;
    this.stats.truncated += choices.filter((c) => c.finishReason === "length").length;
    const usage = (json as { usage?: { completion_tokens?: unknown; prompt_tokens?: unknown } }).usage;
    if (typeof usage?.completion_tokens === "number") this.stats.completionTokens += usage.completion_tokens;
    if (typeof usage?.prompt_tokens === "number") this.stats.promptTokens += usage.prompt_tokens;
  }

  private async chat(conversations: readonly Conversation<T>[], opts: SamplingOptions & { seed: number }): Promise<Answer[]> {
    // Runs of identical conversations (a sibling group) become one request with n = run length.
    const runs: { start: number; n: number }[] = [];
    let previousKey = "";
    conversations.forEach((c, i) => {
      const key = `${c.task.id}\u0000${JSON.stringify(c.history)}`;
      if (i > 0 && key === previousKey) runs[runs.length - 1].n++;
      else runs.push({ start: i, n: 1 });
      previousKey = key;
    });
    const answers: Answer[] = new Array(conversations.length);
    let done = 0;
    await Promise.all(
      runs.map(async ({ start, n }) => {
        const messages = this.messages(conversations[start]);
        let choices: WireChoice[];
        if (this.ignoresN && n > 1) {
          choices = (await Promise.all(Array.from({ length: n }, (_, j) => this.chatRequest(messages, start + j, 1, opts)))).flat();
        } else {
          choices = await this.chatRequest(messages, start, n, opts);
          if (choices.length < n) {
            // The server answered n > 1 with one choice (it ignores n): ask for the others one by one.
            if (!this.ignoresN) (this.options.onRetry ?? ((m: string) => process.stderr.write(m + "\n")))(`http: ${this.http.baseUrl} ignores "n"; sending one request per sample`);
            this.ignoresN = true;
            const rest = await Promise.all(Array.from({ length: n - 1 }, (_, j) => this.chatRequest(messages, start + j + 1, 1, opts)));
            choices = [...choices, ...rest.flat()];
          }
        }
        choices.forEach((choice, j) => (answers[start + j] = toAnswer(choice, 0)));
        this.options.onProgress?.(++done, runs.length, this.stats);
      }),
    );
    return answers;
  }

  /**
   * One chat request for `n` samples of `messages`, seeded by the batch row it starts at. Returns
   * n choices, or one if the server ignores `n`.
   */
  private async chatRequest(messages: ChatMessage[], row: number, n: number, opts: SamplingOptions & { seed: number }): Promise<WireChoice[]> {
    const body: Record<string, unknown> = {
      ...this.samplingBody(opts),
      messages,
      n,
      seed: hashString(`${opts.seed}/row${row}`),
      ...(this.options.logprobs !== false ? { logprobs: true } : {}),
      ...(this.options.extensions !== false ? { return_token_ids: true } : {}),
      ...this.options.extraBody,
    };
    const expected = (json: unknown) => (n > 1 && Array.isArray((json as { choices?: unknown })?.choices) && (json as { choices: unknown[] }).choices.length === 1 ? 1 : n);
    const json = await this.http.post("/chat/completions", body, problemOf((j) => parseChatAnswer(j, expected(j))));
    const choices = parseChatAnswer(json, expected(json));
    this.count(json, choices);
    return choices;
  }

  /** The prompt ids of one conversation from the server's chat template, dropping the oldest attempts until it fits. */
  private async promptIds(c: Conversation<T>, maxNewTokens: number): Promise<{ ids: number[]; dropped: number }> {
    for (let dropped = 0; dropped <= c.history.length; dropped++) {
      const json = await this.http.post(
        `${this.http.rootUrl}/tokenize`,
        { model: this.options.model, messages: this.messages(c, c.history.slice(dropped)), add_generation_prompt: true, ...pick(this.options.extraBody, ["chat_template_kwargs"]) },
        problemOf(parseTokenizeAnswer),
      );
      const { tokens, maxModelLen } = parseTokenizeAnswer(json);
      const limit = maxModelLen ?? this.maxModelLen;
      if (limit === null || tokens.length + maxNewTokens <= limit) return { ids: tokens, dropped };
    }
    throw new Error(`task ${c.task.id}: its prompt alone leaves no room for ${maxNewTokens} new tokens in the context of "${this.options.model}" at ${this.http.baseUrl}; lower --max-new-tokens`);
  }

  private async completions(conversations: readonly Conversation<T>[], opts: SamplingOptions & { seed: number }): Promise<Answer[]> {
    const prompts = await Promise.all(conversations.map((c) => this.promptIds(c, opts.maxNewTokens)));
    const body: Record<string, unknown> = {
      ...this.samplingBody(opts),
      prompt: prompts.map((p) => p.ids),
      n: 1,
      seed: opts.seed,
      ...(this.options.logprobs !== false ? { logprobs: 1 } : {}),
      ...(this.options.extensions !== false ? { return_token_ids: true } : {}),
      ...omit(this.options.extraBody, ["chat_template_kwargs"]),
    };
    const json = await this.http.post("/completions", body, problemOf((j) => parseCompletionAnswer(j, prompts.length)));
    const choices = parseCompletionAnswer(json, prompts.length);
    this.count(json, choices);
    this.options.onProgress?.(1, 1, this.stats);
    // The prompt ids are the ones sent, whatever the server echoes.
    return choices.map((choice, i) => toAnswer({ ...choice, promptIds: prompts[i].ids }, prompts[i].dropped));
  }
}

/** An answer from a parsed choice: the program is the last fenced block of the text, or all of it. */
function toAnswer(choice: WireChoice, droppedAttempts: number): Answer {
  // A tree node holds completion ids and their log-probs together or neither (one log-prob per id,
  // as saved trees require): old log-probs are only usable next to the ids they belong to.
  const paired = choice.completionIds !== null && choice.logprobs !== null && choice.completionIds.length === choice.logprobs.length;
  return {
    code: extractCode(choice.text),
    text: choice.text,
    promptIds: choice.promptIds ?? [],
    completionIds: paired ? choice.completionIds! : [],
    sampledLogprobs: paired ? choice.logprobs! : [],
    droppedAttempts,
  };
}

function pick(obj: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj ?? {}).filter(([k]) => keys.includes(k)));
}

function omit(obj: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj ?? {}).filter(([k]) => !keys.includes(k)));
}
