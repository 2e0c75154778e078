/**
 * `murphy train --config <file> [--set key=value ...] [--seed s] [--out dir] [--resume] [--json]`:
 * a GRPO or MURPHY run from the base checkpoint. Writes `<out>/config.json` (the resolved config
 * and how it ran), `<out>/metrics.jsonl` (one line per step, names in src/murphy/metrics.ts) and
 * `<out>/checkpoint/`. With --json the last stdout line is one JSON object with the final metrics.
 */
import * as path from "node:path";
import { intFlag, parse, printJsonLast, UsageError } from "./args";
import { describeBackend, selectBackend } from "../backend";
import { DATA_DIR, ROOT } from "../paths";
import { suiteDir } from "../tasks/suites";
import { loadSplit } from "../tasks/load";
import { SandboxPool } from "../sandbox/pool";
import { type Config, loadConfig } from "../murphy/config";
import { firstTasks } from "../eval/defaults";
import { train } from "../murphy/trainer";
import { provenance } from "../util/provenance";

/** The tasks evaluated during training: the first `eval.limit` of `eval.split` (0 = the whole split). */
export function evalTasksOf(config: Config) {
  return firstTasks(loadSplit(suiteDir(config.suite), config.eval.split), config.eval.limit);
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("train", argv, {
    config: { type: "string" },
    set: { type: "string", multiple: true, default: [] },
    seed: { type: "string" },
    out: { type: "string" },
    resume: { type: "boolean", default: false },
    backend: { type: "string" },
    json: { type: "boolean", default: false },
  });
  if (!values.config) throw new UsageError("murphy train: --config <file> is required (see configs/)");
  const overrides = [...(values.set as string[])];
  if (values.seed !== undefined) overrides.push(`seed=${intFlag("train", "seed", values.seed, 0, 0)}`);
  const config = loadConfig(values.config, overrides);
  if (!path.isAbsolute(config.initCheckpoint)) config.initCheckpoint = path.join(ROOT, config.initCheckpoint);
  const name = path.basename(values.config).replace(/\.json$/, "");
  const out = values.out ?? path.join(DATA_DIR, "runs", `${name}-s${config.seed}`);
  const backend = await selectBackend(values.backend);
  const log = (line: string) => process.stderr.write(line + "\n");
  log(`train: ${describeBackend(backend)}; writing to ${path.relative(ROOT, out)}`);
  const pool = new SandboxPool({ timeoutMs: config.sandbox.timeoutMs });
  const started = Date.now();
  try {
    const result = await train({
      config,
      out,
      trainTasks: loadSplit(suiteDir(config.suite), "train"),
      evalTasks: evalTasksOf(config),
      probeTasks: loadSplit(suiteDir(config.suite), "validation"),
      runner: pool,
      resume: values.resume,
      meta: { configFile: path.relative(ROOT, path.resolve(values.config)), overrides, backend: backend.name, gitCommit: provenance().gitCommit },
      log,
    });
    const last = result.metrics[result.metrics.length - 1] ?? {};
    printJsonLast({ out: path.relative(ROOT, out), steps: result.step, seconds: Math.round((Date.now() - started) / 1000), backend: backend.name, final: last });
    result.model.dispose();
  } finally {
    await pool.close();
  }
}
