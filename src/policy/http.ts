/**
 * JSON over HTTP for a model server, with what a real server needs from a client:
 *
 * - bounded concurrency: at most `concurrency` requests in flight (a server queues the rest
 *   anyway; an unbounded client only makes every request time out together);
 * - a timeout per request (AbortSignal), counted as a failed try;
 * - retries with exponential backoff and jitter on 429, 5xx, timeouts, dropped connections and
 *   malformed bodies; a `Retry-After` header (seconds) is honoured;
 * - errors that name the URL and say what to do: nothing listening there, a model the server does
 *   not serve, a request the server refused (its own message quoted).
 *
 * Uses Node's global `fetch`; no dependency.
 */

export interface HttpOptions {
  /** The API root, e.g. "http://127.0.0.1:8000/v1". */
  baseUrl: string;
  /** Sent as "Authorization: Bearer <key>" when set. */
  apiKey?: string;
  /** Most requests in flight at once (default 8). */
  concurrency?: number;
  /** Per-try timeout in ms (default 600 000: a long batch on a big model is slow). */
  timeoutMs?: number;
  /** Tries after the first (default 4). */
  maxRetries?: number;
  /** First backoff in ms, doubled each retry, plus up to 50% jitter (default 500). */
  backoffMs?: number;
  /** Longest single wait in ms (default 30 000). */
  maxBackoffMs?: number;
  /** Reported once per retry (default: a line on stderr). */
  onRetry?: (message: string) => void;
}

/** A request the server answered with an error it will give again (4xx other than 429): no retry. */
export class HttpRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** The server's own error message from an OpenAI-style error body, or the raw text. */
export function serverMessage(body: unknown, text: string): string {
  if (body && typeof body === "object") {
    const err = (body as { error?: unknown; message?: unknown; detail?: unknown }).error ?? body;
    if (typeof err === "string") return err;
    if (err && typeof err === "object") {
      const m = (err as { message?: unknown }).message ?? (err as { detail?: unknown }).detail;
      if (typeof m === "string") return m;
    }
  }
  return text.length > 300 ? text.slice(0, 300) + "..." : text;
}

/** A counting semaphore: `run(fn)` waits for a free slot. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrency must be an integer >= 1 (got ${limit})`);
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Why a fetch threw, in words: connection refused, host not found, timeout, ... */
function networkReason(e: unknown): { text: string; refused: boolean } {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return { text: "timed out", refused: false };
  const code = err?.cause?.code;
  if (code === "ECONNREFUSED") return { text: "connection refused (nothing is listening there)", refused: true };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return { text: `host not found (${code})`, refused: true };
  return { text: code ? `${code}: ${err.cause?.message ?? ""}`.trim() : (err?.cause?.message ?? err?.message ?? String(e)), refused: false };
}

export class HttpClient {
  readonly baseUrl: string;
  /** The server root (baseUrl without a trailing /v1): where vLLM and `murphy serve` keep /tokenize. */
  readonly rootUrl: string;
  private readonly limiter: Limiter;
  /** Tries that failed and were repeated, over the client's life. */
  retries = 0;

  constructor(readonly options: HttpOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new Error(`base URL must be an http(s) URL such as http://127.0.0.1:8000/v1 (got "${options.baseUrl}")`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error(`base URL must start with http:// or https:// (got "${options.baseUrl}")`);
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.rootUrl = this.baseUrl.replace(/\/v1$/, "");
    this.limiter = new Limiter(options.concurrency ?? 8);
  }

  /** POST `body` as JSON to `${baseUrl}${path}` (or an absolute URL) and return the parsed JSON answer. */
  post(path: string, body: unknown, check?: (json: unknown) => string | null): Promise<unknown> {
    return this.request("POST", path, body, check);
  }

  get(path: string, check?: (json: unknown) => string | null): Promise<unknown> {
    return this.request("GET", path, undefined, check);
  }

  /**
   * One request with retries. `check` looks at a parsed 200 answer and returns what is wrong with
   * it (null if nothing): a malformed answer is retried like a 5xx, then reported.
   */
  private request(method: string, path: string, body: unknown, check?: (json: unknown) => string | null): Promise<unknown> {
    const url = /^https?:\/\//.test(path) ? path : `${this.baseUrl}${path}`;
    const o = this.options;
    const maxRetries = o.maxRetries ?? 4;
    const onRetry = o.onRetry ?? ((m: string) => process.stderr.write(m + "\n"));
    return this.limiter.run(async () => {
      let lastProblem = "";
      let tries = 0;
      for (let attempt = 0; attempt <= maxRetries; attempt++) {
        tries++;
        let retryAfterMs: number | undefined;
        try {
          const headers: Record<string, string> = { accept: "application/json" };
          if (body !== undefined) headers["content-type"] = "application/json";
          if (o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;
          const response = await fetch(url, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(o.timeoutMs ?? 600_000),
          });
          const text = await response.text();
          let json: unknown;
          try {
            json = text === "" ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          if (response.ok) {
            const problem = json === undefined ? `the answer is not JSON: ${JSON.stringify(text.slice(0, 200))}` : (check?.(json) ?? null);
            if (problem === null) return json;
            lastProblem = `malformed answer: ${problem}`;
          } else if (response.status === 429 || response.status >= 500) {
            lastProblem = `HTTP ${response.status}: ${serverMessage(json, text)}`;
            const after = Number(response.headers.get("retry-after"));
            if (Number.isFinite(after) && after >= 0) retryAfterMs = after * 1000;
          } else {
            throw new HttpRequestError(`${method} ${url}: HTTP ${response.status}: ${serverMessage(json, text)}`, response.status, json);
          }
        } catch (e) {
          if (e instanceof HttpRequestError) throw e;
          const reason = networkReason(e);
          lastProblem = reason.text;
          // Nothing listening: say so at once rather than after minutes of backoff (one retry
          // covers a server that is just starting).
          if (reason.refused && attempt >= 1) break;
        }
        if (attempt === maxRetries) break;
        this.retries++;
        const backoff = Math.min(o.maxBackoffMs ?? 30_000, (o.backoffMs ?? 500) * 2 ** attempt * (1 + 0.5 * Math.random()));
        const wait = retryAfterMs !== undefined ? Math.min(o.maxBackoffMs ?? 30_000, retryAfterMs) : backoff;
        onRetry(`http: ${method} ${url}: ${lastProblem}; retry ${attempt + 1}/${maxRetries} in ${(wait / 1000).toFixed(1)} s`);
        await sleep(wait);
      }
      const hint = /connection refused|host not found/.test(lastProblem)
        ? ` Is the server running? Start one (e.g. \`npx murphy serve --port 8000\`, or vLLM: see environment.md) or fix --base-url.`
        : "";
      throw new Error(`${method} ${url} failed after ${tries} ${tries === 1 ? "try" : "tries"}: ${lastProblem}.${hint}`);
    });
  }
}
