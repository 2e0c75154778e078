/**
 * The flags that choose a model behind an OpenAI-compatible server, shared by `murphy eval` and
 * `murphy rollout`:
 *
 *   --policy openai --base-url http://127.0.0.1:8000/v1 --model NAME
 *   [--api chat|completions] [--api-key-env OPENAI_API_KEY] [--concurrency 8] [--timeout-s 600]
 *   [--retries 4] [--extra-body '{"chat_template_kwargs": {"enable_thinking": false}}']
 *   [--system TEXT] [--stop TEXT ...] [--no-logprobs] [--openai-strict]
 *
 * The API key is read from the environment variable named by --api-key-env (never a flag, so it
 * stays out of shell history and of the recorded config); local servers need none.
 */
import { intFlag, numberFlag, UsageError } from "./args";
import { OpenAIPolicy, type OpenAIPolicyStats } from "../policy/openai";
import type { PromptStyle } from "../policy/chat-format";
import type { Task } from "../tasks/types";
import { Progress } from "../util/progress";

export const POLICY_FLAGS = {
  policy: { type: "string", default: "kit" },
  "base-url": { type: "string" },
  model: { type: "string" },
  api: { type: "string", default: "chat" },
  "api-key-env": { type: "string", default: "OPENAI_API_KEY" },
  concurrency: { type: "string" },
  "timeout-s": { type: "string" },
  retries: { type: "string" },
  "extra-body": { type: "string" },
  system: { type: "string" },
  stop: { type: "string", multiple: true },
  "no-logprobs": { type: "boolean", default: false },
  "openai-strict": { type: "boolean", default: false },
} as const;

export type PolicyFlagValues = {
  policy?: string;
  "base-url"?: string;
  model?: string;
  api?: string;
  "api-key-env"?: string;
  concurrency?: string;
  "timeout-s"?: string;
  retries?: string;
  "extra-body"?: string;
  system?: string;
  stop?: string[];
  "no-logprobs"?: boolean;
  "openai-strict"?: boolean;
};

/** "kit" (the kit's checkpoint, in-process) or "openai" (a served model). */
export function policyKind(command: string, values: PolicyFlagValues): "kit" | "openai" {
  const kind = values.policy ?? "kit";
  if (kind !== "kit" && kind !== "openai") throw new UsageError(`murphy ${command}: --policy must be kit or openai (got "${kind}")`);
  rejectServerFlags(command, values);
  return kind;
}

/** A usage error when --base-url or --model is given without --policy openai (they would be ignored). */
export function rejectServerFlags(command: string, values: PolicyFlagValues): void {
  if (values.policy === "openai") return;
  for (const flag of ["base-url", "model"] as const) {
    if (values[flag] !== undefined) {
      const other = values.policy === undefined || values.policy === "kit" ? " (the kit's own model comes from --checkpoint)" : ` (--policy is ${values.policy})`;
      throw new UsageError(`murphy ${command}: --${flag} is for --policy openai${other}`);
    }
  }
}

/** A progress line per sampling call of a served model: requests done, rate, tokens/s, ETA. */
export function httpProgress(label: string): (done: number, total: number, stats: OpenAIPolicyStats) => void {
  let progress: Progress | null = null;
  let tokensAtStart = 0;
  let started = 0;
  return (done, total, stats) => {
    // One request per call (completions) says nothing the caller's own progress line does not.
    if (total === 1) return;
    if (!progress || done === 1) {
      progress = new Progress(label, total, { unit: "req", everyMs: 5000 });
      tokensAtStart = stats.completionTokens;
      started = Date.now();
    }
    const seconds = (Date.now() - started) / 1000;
    const tokensPerSecond = seconds > 0 ? (stats.completionTokens - tokensAtStart) / seconds : 0;
    progress.update(done, `${tokensPerSecond.toFixed(0)} tok/s  retries ${stats.retries}`);
  };
}

/**
 * The served-model policy the flags describe; throws a usage error for a missing or bad flag.
 * `style` says how a problem is put to the model (default: the kit's own tasks; `pythonStyle` for
 * a Python benchmark); `log: false` leaves out the progress lines.
 */
export function openAIPolicyFromFlags<T extends { id: string } = Task>(
  command: string,
  values: PolicyFlagValues,
  options: { log?: boolean; style?: (task: T) => PromptStyle<T> } = {},
): OpenAIPolicy<T> {
  const baseUrl = values["base-url"] ?? process.env.OPENAI_BASE_URL;
  if (!baseUrl) throw new UsageError(`murphy ${command}: --policy openai needs --base-url (e.g. http://127.0.0.1:8000/v1) or OPENAI_BASE_URL`);
  if (!values.model) throw new UsageError(`murphy ${command}: --policy openai needs --model (the name the server serves; see <base-url>/models)`);
  const api = values.api ?? "chat";
  if (api !== "chat" && api !== "completions") throw new UsageError(`murphy ${command}: --api must be chat or completions (got "${api}")`);
  let extraBody: Record<string, unknown> | undefined;
  if (values["extra-body"] !== undefined) {
    try {
      extraBody = JSON.parse(values["extra-body"]);
    } catch (e) {
      throw new UsageError(`murphy ${command}: --extra-body must be a JSON object (${(e as Error).message})`);
    }
    if (!extraBody || typeof extraBody !== "object" || Array.isArray(extraBody)) throw new UsageError(`murphy ${command}: --extra-body must be a JSON object`);
  }
  const keyVar = values["api-key-env"] ?? "OPENAI_API_KEY";
  const timeoutS = numberFlag(command, "timeout-s", values["timeout-s"], 600);
  if (timeoutS <= 0) throw new UsageError(`murphy ${command}: --timeout-s must be > 0 (got ${timeoutS})`);
  try {
    return new OpenAIPolicy<T>({
      baseUrl,
      model: values.model,
      api,
      apiKey: process.env[keyVar] || undefined,
      concurrency: intFlag(command, "concurrency", values.concurrency, 8, 1),
      timeoutMs: timeoutS * 1000,
      maxRetries: intFlag(command, "retries", values.retries, 4, 0),
      extraBody,
      system: values.system,
      stop: values.stop?.length ? values.stop : undefined,
      logprobs: !values["no-logprobs"],
      extensions: !values["openai-strict"],
      style: options.style,
      onProgress: options.log !== false ? httpProgress(`${command} http`) : undefined,
    });
  } catch (e) {
    throw new UsageError(`murphy ${command}: ${(e as Error).message}`);
  }
}

/** What a run records about a served model (never the key). */
export function describeOpenAIPolicy<T extends { id: string }>(policy: OpenAIPolicy<T>): Record<string, unknown> {
  const o = policy.options;
  return {
    policy: "openai",
    base_url: policy.http.baseUrl,
    model: o.model,
    api: policy.api,
    max_model_len: policy.maxModelLen,
    ...(o.extraBody ? { extra_body: o.extraBody } : {}),
    ...(o.system ? { system: o.system } : {}),
    ...(o.stop ? { stop: o.stop } : {}),
    logprobs: o.logprobs !== false,
    extensions: o.extensions !== false,
  };
}
