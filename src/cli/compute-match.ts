/**
 * `murphy compute-match --metrics <run>/metrics.jsonl [--min-steps 10] [--tasks-per-step n] [--json]`:
 * the group size of compute-matched GRPO for a MURPHY run, from the run's mean sampled tokens per
 * step and mean first-attempt length over all its steps (src/murphy/compute.ts, matchOverRun).
 * Tasks per step come from the run's config.json (murphy train) or cell.json (an experiment
 * cell) beside the metrics, or from --tasks-per-step. With --json the last stdout line is one
 * JSON object.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { intFlag, parse, printJsonLast, UsageError } from "./args";
import { readJsonl } from "../util/files";
import { matchOverRun, MIN_MATCH_STEPS } from "../murphy/compute";

/** The resolved training config stored beside a metrics file, if any: { file, tasksPerStep, turns }. */
function runConfigBeside(metricsFile: string): { file: string; tasksPerStep: number; turns: number } | undefined {
  for (const name of ["config.json", "cell.json"]) {
    const file = path.join(path.dirname(metricsFile), name);
    if (!fs.existsSync(file)) continue;
    let record: { config?: { tasksPerStep?: unknown; turns?: unknown } | null };
    try {
      record = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    const config = record.config;
    if (!config || !Number.isInteger(config.tasksPerStep)) throw new UsageError(`${file}: field "config.tasksPerStep" must be an integer (got ${JSON.stringify(config?.tasksPerStep)}); is it the folder of a training run?`);
    return { file, tasksPerStep: config.tasksPerStep as number, turns: Number(config.turns) };
  }
  return undefined;
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("compute-match", argv, {
    metrics: { type: "string" },
    "min-steps": { type: "string" },
    "tasks-per-step": { type: "string" },
    json: { type: "boolean", default: false },
  });
  if (!values.metrics) throw new UsageError("murphy compute-match: --metrics <run>/metrics.jsonl is required (a MURPHY run of murphy train, or an experiment cell)");
  const file = values.metrics;
  if (!fs.existsSync(file)) throw new UsageError(`murphy compute-match: ${file}: file not found`);
  const minSteps = intFlag("compute-match", "min-steps", values["min-steps"], MIN_MATCH_STEPS, 1);
  const beside = runConfigBeside(file);
  let tasksPerStep: number;
  if (values["tasks-per-step"] !== undefined) tasksPerStep = intFlag("compute-match", "tasks-per-step", values["tasks-per-step"], 0, 1);
  else if (beside) tasksPerStep = beside.tasksPerStep;
  else throw new UsageError(`murphy compute-match: no config.json or cell.json beside ${file} to read tasksPerStep from; give --tasks-per-step n`);

  const metrics = readJsonl<Record<string, number>>(file);
  const match = matchOverRun(metrics, tasksPerStep, minSteps, file);
  const out = process.stdout;
  if (beside && beside.turns === 1) out.write(`note: ${beside.file} is a single-turn run (turns = 1): matching GRPO to it gives about its own group size\n`);
  const gap = (match.grpoTokensPerStep - match.murphyTokensPerStep) / match.murphyTokensPerStep;
  out.write(
    [
      `${file}: ${match.steps} steps`,
      `  mean tokens/sampled per step          ${match.murphyTokensPerStep.toFixed(1)}`,
      `  mean tokens/sampled_turn1_mean        ${match.meanFirstTurnTokens.toFixed(2)}`,
      `  tasks per step                        ${tasksPerStep}${values["tasks-per-step"] === undefined && beside ? ` (${path.basename(beside.file)})` : ""}`,
      `matched GRPO groupSize = round(${match.murphyTokensPerStep.toFixed(1)} / (${tasksPerStep} x ${match.meanFirstTurnTokens.toFixed(2)})) = ${match.groupSize}` +
        ` (it samples about ${match.grpoTokensPerStep.toFixed(1)} tokens per step, ${gap >= 0 ? "+" : ""}${(100 * gap).toFixed(1)}%)`,
      `use it with: --set groupSize=${match.groupSize} (or "groupSize" in configs/grpo-matched.json)`,
    ].join("\n") + "\n",
  );
  if (values.json) printJsonLast({ metrics: file, ...match, relativeDifference: gap });
}
