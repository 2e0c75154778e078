/**
 * Start `murphy serve` in a child process and wait until it listens, for notebooks and tests that
 * need a real server on 127.0.0.1 (a separate process, as a real engine would be: its sampling does
 * not block the caller's event loop).
 *
 *   const server = await startServeProcess({ checkpoint: "data/checkpoints/base" });
 *   const policy = new OpenAIPolicy({ baseUrl: server.baseUrl, model: server.model });
 *   ...
 *   await server.stop();
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { ROOT } from "../paths";

export interface ServeProcess {
  /** The API root, e.g. http://127.0.0.1:41233/v1 */
  baseUrl: string;
  /** The model name to ask for. */
  model: string;
  pid: number;
  /** SIGTERM, then wait for the process to exit. */
  stop(): Promise<void>;
}

export interface ServeProcessOptions {
  /** Checkpoint folder (default data/checkpoints/base). */
  checkpoint?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Give up after this long (default 120 s: loading the model takes a few seconds on a busy machine). */
  startTimeoutMs?: number;
}

export function startServeProcess(options: ServeProcessOptions = {}): Promise<ServeProcess> {
  const args = ["--no-node-snapshot", "--import", "tsx", path.join(ROOT, "src", "cli", "main.ts"), "serve", "--quiet", "--port", String(options.port ?? 0)];
  if (options.checkpoint) args.push("--checkpoint", path.resolve(ROOT, options.checkpoint));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  return new Promise<ServeProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`murphy serve did not start within ${(options.startTimeoutMs ?? 120_000) / 1000} s: ${stderr.trim()}`));
    }, options.startTimeoutMs ?? 120_000);
    child.stdout!.on("data", (d) => {
      stdout += d;
      const m = /listening on (\S+) \(model "([^"]+)"/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ baseUrl: m[1], model: m[2], pid: child.pid!, stop });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`murphy serve exited with code ${code} before listening: ${stderr.trim()}`));
    });
  });
}
