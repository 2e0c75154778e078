/**
 * `murphy serve`: the kit's own model behind an OpenAI-compatible HTTP API (node:http, no
 * framework), so the client side (src/policy/openai.ts) is tested end to end against a server that
 * really generates, and a researcher can point any OpenAI client at the kit's model.
 *
 *   GET  /health                 "ok"
 *   GET  /v1/models              the one served model, with `max_model_len` (its context length)
 *   POST /v1/chat/completions    messages -> the kit's prompt (src/policy/chat-format.ts, inverted)
 *   POST /v1/completions         prompt: text, token ids, or a list of either
 *   POST /tokenize               {prompt} or {messages, add_generation_prompt} -> token ids (vLLM's shape)
 *
 * Fields read: model, messages | prompt, n, temperature (default 1), top_p, top_k (vLLM
 * extension; 0 or -1 = off), max_tokens (default 96), seed (default: random), stop, logprobs,
 * return_token_ids (vLLM extension: `prompt_token_ids` and per-choice `token_ids`). Other fields
 * are ignored, as vLLM does. `stream: true` is refused. Requests are sampled one at a time (the
 * model runs on this process's thread); each is one batched sampling call.
 */
import * as http from "node:http";
import { randomInt } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { GptPolicy } from "../model/gpt-policy";
import { EVAL_DEFAULTS } from "../eval/defaults";
import { BadRequest, chatPromptIds, chatPromptIdsUnfitted, checkIds, generate, type Generation, type GenerateOptions } from "./generate";

export interface ServeOptions {
  policy: GptPolicy;
  /** The name clients pass as `model` (default "base"). */
  modelName?: string;
  /** Default 127.0.0.1: the kit's model is not meant to face a network. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** One line per request (default: none). */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** The API root to give clients, e.g. http://127.0.0.1:8000/v1 */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

class NotFound extends Error {}

const MAX_BODY_BYTES = 16 << 20;
const MAX_N = 256;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest(`request body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else parts.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

type Body = Record<string, unknown>;

function int(body: Body, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new BadRequest(`"${name}" must be an integer in ${min}..${max} (got ${JSON.stringify(v)})`);
  return v as number;
}

function num(body: Body, name: string, fallback: number, min: number, max: number): number {
  const v = body[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw new BadRequest(`"${name}" must be a number in [${min}, ${max}] (got ${JSON.stringify(v)})`);
  return v;
}

/** The sampling fields shared by chat and completions. */
function samplingOf(body: Body, blockSize: number): GenerateOptions {
  const stop = body.stop;
  let stops: string[] = [];
  if (typeof stop === "string") stops = [stop];
  else if (Array.isArray(stop) && stop.every((s) => typeof s === "string")) stops = stop as string[];
  else if (stop !== undefined && stop !== null) throw new BadRequest(`"stop" must be a string or a list of strings`);
  const topK = int(body, "top_k", 0, -1);
  const topP = num(body, "top_p", 1, Number.MIN_VALUE, 1);
  return {
    temperature: num(body, "temperature", 1, 0, 100),
    topP: topP < 1 ? topP : undefined,
    topK: topK > 0 ? topK : undefined,
    maxNewTokens: int(body, "max_tokens", EVAL_DEFAULTS.maxNewTokens, 1, blockSize - 1),
    // No seed: a fresh one, as an OpenAI server samples freshly each time.
    seed: int(body, "seed", randomInt(0, 2 ** 31), 0, 2 ** 53),
    stop: stops,
  };
}

function bytesOf(text: string): number[] {
  return [...Buffer.from(text, "utf8")];
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const policy = options.policy;
  const modelName = options.modelName ?? "base";
  const created = Math.floor(Date.now() / 1000);
  const blockSize = policy.blockSize;
  let counter = 0;

  function checkModel(body: Body): void {
    if (body.model !== undefined && body.model !== modelName) throw new NotFound(`The model \`${String(body.model)}\` does not exist. This server serves "${modelName}".`);
  }

  async function chat(body: Body): Promise<{ json: unknown; n: number }> {
    checkModel(body);
    if (body.stream) throw new BadRequest(`"stream": true is not supported by murphy serve`);
    const opts = samplingOf(body, blockSize);
    const n = int(body, "n", 1, 1, MAX_N);
    const prompt = chatPromptIds(policy, body.messages, opts.maxNewTokens);
    const [gens] = await generate(policy, [prompt.ids], n, opts);
    const withIds = body.return_token_ids === true;
    const choices = gens.map((g, index) => ({
      index,
      message: { role: "assistant", content: g.text },
      logprobs: body.logprobs ? { content: g.tokenIds.map((_, t) => ({ token: g.tokenTexts[t], logprob: g.logprobs[t], bytes: bytesOf(g.tokenTexts[t]), top_logprobs: [] })) } : null,
      finish_reason: g.finishReason,
      ...(withIds ? { token_ids: g.tokenIds } : {}),
    }));
    return {
      n,
      json: {
        id: `chatcmpl-${++counter}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: modelName,
        choices,
        usage: usage(prompt.ids.length, gens),
        ...(withIds ? { prompt_token_ids: prompt.ids } : {}),
      },
    };
  }

  async function completions(body: Body): Promise<{ json: unknown; n: number }> {
    checkModel(body);
    if (body.stream) throw new BadRequest(`"stream": true is not supported by murphy serve`);
    const opts = samplingOf(body, blockSize);
    const n = int(body, "n", 1, 1, MAX_N);
    const raw = body.prompt;
    let prompts: number[][];
    if (typeof raw === "string") prompts = [policy.tokenizer.encode(raw)];
    else if (Array.isArray(raw) && raw.length > 0 && raw.every((x) => typeof x === "number")) prompts = [checkIds(policy, raw, "prompt")];
    else if (Array.isArray(raw) && raw.length > 0) {
      prompts = raw.map((x, i) => (typeof x === "string" ? policy.tokenizer.encode(x) : checkIds(policy, x, `prompt[${i}]`)));
    } else throw new BadRequest(`"prompt" must be a text, a list of token ids, or a non-empty list of either`);
    prompts.forEach((p, i) => {
      if (p.length === 0) throw new BadRequest(`prompt ${i} is empty`);
    });
    const gens = await generate(policy, prompts, n, opts);
    const withIds = body.return_token_ids === true;
    const wantLogprobs = body.logprobs !== undefined && body.logprobs !== null && body.logprobs !== false;
    const choices = gens.flatMap((forPrompt, p) =>
      forPrompt.map((g, j) => {
        const offsets: number[] = [];
        let at = 0;
        for (const t of g.tokenTexts) {
          offsets.push(at);
          at += t.length;
        }
        return {
          index: p * n + j,
          text: g.text,
          logprobs: wantLogprobs ? { tokens: g.tokenTexts, token_logprobs: g.logprobs, top_logprobs: g.tokenTexts.map(() => ({})), text_offset: offsets } : null,
          finish_reason: g.finishReason,
          ...(withIds ? { prompt_token_ids: prompts[p], token_ids: g.tokenIds } : {}),
        };
      }),
    );
    return {
      n: prompts.length * n,
      json: {
        id: `cmpl-${++counter}`,
        object: "text_completion",
        created: Math.floor(Date.now() / 1000),
        model: modelName,
        choices,
        usage: usage(prompts.reduce((a, p) => a + p.length * n, 0), gens.flat()),
      },
    };
  }

  function tokenize(body: Body): unknown {
    checkModel(body);
    let tokens: number[];
    if (body.messages !== undefined) tokens = chatPromptIdsUnfitted(policy, body.messages, body.add_generation_prompt !== false);
    else if (typeof body.prompt === "string") tokens = policy.tokenizer.encode(body.prompt);
    else throw new BadRequest(`give "prompt" (a text) or "messages" (a chat)`);
    return { count: tokens.length, max_model_len: blockSize, tokens };
  }

  async function route(method: string, url: string, req: http.IncomingMessage): Promise<{ status: number; json: unknown; note?: string }> {
    const path = url.split("?")[0].replace(/\/+$/, "");
    if (method === "GET" && path === "/health") return { status: 200, json: "ok" };
    if (method === "GET" && path === "/v1/models") {
      return { status: 200, json: { object: "list", data: [{ id: modelName, object: "model", created, owned_by: "murphy", max_model_len: blockSize }] } };
    }
    const posts: Record<string, (b: Body) => Promise<{ json: unknown; n: number }> | unknown> = {
      "/v1/chat/completions": chat,
      "/v1/completions": completions,
      "/tokenize": tokenize,
    };
    const handler = posts[path];
    if (!handler) throw new NotFound(`no route ${method} ${path} (murphy serve has GET /health, GET /v1/models, POST /v1/chat/completions, POST /v1/completions, POST /tokenize)`);
    if (method !== "POST") throw new BadRequest(`${path} takes POST`);
    let body: unknown;
    const text = await readBody(req);
    try {
      body = JSON.parse(text);
    } catch {
      throw new BadRequest(`the request body is not JSON`);
    }
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new BadRequest(`the request body must be a JSON object`);
    const result = await handler(body as Body);
    if (path === "/tokenize") return { status: 200, json: result };
    const r = result as { json: unknown; n: number };
    return { status: 200, json: r.json, note: `${r.n} sample(s)` };
  }

  const server = http.createServer((req, res) => {
    const started = Date.now();
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    route(method, url, req)
      .catch((e: unknown) => {
        const status = e instanceof BadRequest ? 400 : e instanceof NotFound ? 404 : 500;
        const type = status === 400 ? "BadRequestError" : status === 404 ? "NotFoundError" : "InternalServerError";
        return { status, json: { error: { message: (e as Error).message ?? String(e), type, code: status } }, note: undefined };
      })
      .then(({ status, json, note }) => {
        const data = JSON.stringify(json);
        res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
        res.end(data);
        options.log?.(`serve: ${method} ${url} ${status}${note ? ` ${note}` : ""} ${Date.now() - started} ms`);
      });
  });

  // Keep idle connections open longer than clients do: a client that reuses a connection the server
  // is just closing sees ECONNRESET (Node's default keep-alive timeout is 5 s).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8000, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    baseUrl: `http://${host}:${address.port}/v1`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function usage(promptTokens: number, gens: readonly Generation[]): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const completion = gens.reduce((a, g) => a + g.tokenIds.length, 0);
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}
