/**
 * A scripted OpenAI-compatible server on 127.0.0.1 for client tests: every request is recorded, and
 * `reply(request)` decides the answer (status, JSON or raw text, headers, a delay), so a test can
 * play a server that rate-limits, fails, hangs, answers garbage or does not know the model.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeRequest {
  method: string;
  path: string;
  body: any;
  headers: http.IncomingHttpHeaders;
  /** 0-based count of requests to this path so far. */
  nth: number;
}

export interface FakeReply {
  status?: number;
  json?: unknown;
  /** Sent as is instead of `json`. */
  raw?: string;
  headers?: Record<string, string>;
  /** Wait before answering (ms). */
  delayMs?: number;
}

export interface FakeServer {
  baseUrl: string;
  requests: FakeRequest[];
  /** Most requests handled at the same time. */
  maxInFlight: number;
  close(): Promise<void>;
}

/** The models list a fake serves by default. */
export const MODELS = (id = "fake-model", maxModelLen?: number) => ({ object: "list", data: [{ id, object: "model", ...(maxModelLen ? { max_model_len: maxModelLen } : {}) }] });

/** A chat answer with `texts` as the n choices (no ids, no log-probs). */
export const chatAnswer = (texts: string[], extra: Record<string, unknown> = {}) => ({
  id: "x",
  object: "chat.completion",
  choices: texts.map((t, index) => ({ index, message: { role: "assistant", content: t }, finish_reason: "stop" })),
  usage: { prompt_tokens: 10, completion_tokens: 5 * texts.length, total_tokens: 10 + 5 * texts.length },
  ...extra,
});

export async function fakeServer(reply: (req: FakeRequest) => FakeReply | Promise<FakeReply>): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const counts = new Map<string, number>();
  let inFlight = 0;
  const state = { maxInFlight: 0 };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", async () => {
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      const text = Buffer.concat(parts).toString("utf8");
      const path = (req.url ?? "/").split("?")[0];
      const nth = counts.get(path) ?? 0;
      counts.set(path, nth + 1);
      const request: FakeRequest = { method: req.method ?? "GET", path, body: text ? JSON.parse(text) : undefined, headers: req.headers, nth };
      requests.push(request);
      const r = await reply(request);
      if (r.delayMs) await new Promise((resolve) => setTimeout(resolve, r.delayMs));
      inFlight--;
      if (res.destroyed) return;
      const data = r.raw ?? JSON.stringify(r.json ?? {});
      res.writeHead(r.status ?? 200, { "content-type": "application/json", ...(r.headers ?? {}) });
      res.end(data);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
