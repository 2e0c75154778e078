/**
 * `murphy serve [--checkpoint data/checkpoints/base] [--port 8000] [--host 127.0.0.1]
 * [--model-name NAME] [--backend b] [--quiet]`: the kit's model behind an OpenAI-compatible API
 * (src/serve/server.ts) until SIGINT/SIGTERM. Prints one line to stdout once it listens:
 * `murphy serve: listening on http://127.0.0.1:8000/v1 (model "base")`; requests are logged to
 * stderr.
 */
import * as path from "node:path";
import { intFlag, parse } from "./args";
import { describeBackend, selectBackend } from "../backend";
import { CHECKPOINTS_DIR } from "../paths";
import { loadPolicy } from "../model/store";
import { GptPolicy } from "../model/gpt-policy";
import { startServer } from "../serve/server";

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("serve", argv, {
    checkpoint: { type: "string", default: path.join(CHECKPOINTS_DIR, "base") },
    port: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    "model-name": { type: "string" },
    backend: { type: "string" },
    quiet: { type: "boolean", default: false },
  });
  const port = intFlag("serve", "port", values.port, 8000, 0);
  const backend = await selectBackend(values.backend);
  process.stderr.write(`serve: ${describeBackend(backend)}\n`);
  const saved = loadPolicy(values.checkpoint);
  if (saved.optimizer) for (const t of saved.optimizer.values()) t.dispose();
  const policy = new GptPolicy(saved.model, saved.tokenizer);
  const modelName = values["model-name"] ?? path.basename(path.resolve(values.checkpoint));
  const server = await startServer({
    policy,
    modelName,
    host: values.host,
    port,
    log: values.quiet ? undefined : (line) => process.stderr.write(line + "\n"),
  });
  process.stdout.write(`murphy serve: listening on ${server.baseUrl} (model "${modelName}", context ${policy.blockSize} tokens)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  saved.model.dispose();
  process.stderr.write("serve: stopped\n");
}
