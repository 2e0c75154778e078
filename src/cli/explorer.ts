/**
 * `murphy explorer [batch.jsonl ...] [--out build/report/explorer.html]`: build the pruning
 * explorer page (src/explorer/) from recorded batches of rollout trees (default: every
 * data/rollouts/*.jsonl; write your own with `murphy rollouts`). Open the page in a browser; it
 * needs no network. `npm start` builds it too, next to the report.
 */
import * as path from "node:path";
import { parse } from "./args";
import { BUILD_DIR, ROOT } from "../paths";
import { writeExplorerPage } from "../explorer/page";

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parse("explorer", argv, { out: { type: "string", default: path.join(BUILD_DIR, "report", "explorer.html") } });
  const file = writeExplorerPage(path.resolve(values.out as string), positionals.length ? positionals.map((p) => path.resolve(p)) : undefined);
  process.stdout.write(`pruning explorer: ${path.relative(ROOT, file)}\n`);
}
