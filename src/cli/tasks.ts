/**
 * `murphy tasks --split test --limit 3 [--suite default|feedback] [--family f] [--difficulty d]
 * [--json]`: print tasks. A feedback-suite task also shows what its description withholds and
 * how feedback reveals it, as the suite's manifest.json describes its family.
 */
import { intFlag, parse, UsageError } from "./args";
import { loadSplit } from "../tasks/load";
import { SUITE_NAMES, isSuiteName, suiteDir } from "../tasks/suites";
import { type FeedbackFamilyRecord, loadFeedbackManifest } from "../tasks/manifest";
import type { Split, Task } from "../tasks/types";
import { flagValue, tasksMain } from "./bench";

const SPLITS: Split[] = ["train", "validation", "test"];

/** One task as text; a task with a withheld part needs its family from `families` (the feedback suite's manifest). */
export function formatTask(task: Task, families: readonly FeedbackFamilyRecord[] = []): string {
  const example = (t: Task["visible"][number]) => `    f(${t.input.map((v) => JSON.stringify(v)).join(", ")}) = ${JSON.stringify(t.expected)}`;
  if (task.withheld) {
    const family = families.find((f) => f.name === task.family);
    if (!family) throw new Error(`task ${task.id}: family "${task.family}" is not one of the manifest's families (${families.map((f) => f.name).join(", ") || "none given"})`);
    return [
      `${task.id}  [${task.family}, difficulty ${task.difficulty}]`,
      `  ${task.description}`,
      `  signature: ${task.signature}`,
      `  withheld: ${task.withheld}  (${family.kind}: ${family.withheld}; chance 1/${family.options.length})`,
      `  revealed by: ${family.revealedBy}`,
      `  visible tests (the prompt shows the calls only; the expected values reach the model as feedback):`,
      ...task.visible.map(example),
      `  hidden tests: ${task.hidden.length}`,
      `  reference: ${task.reference}`,
      `  description-only programs: ${task.behaviours?.length ?? 0} (one per option; only the reference passes)`,
    ].join("\n");
  }
  return [
    `${task.id}  [${task.family}, difficulty ${task.difficulty}]`,
    `  ${task.description}`,
    `  signature: ${task.signature}`,
    `  visible examples:`,
    ...task.visible.map(example),
    `  hidden tests: ${task.hidden.length}`,
    `  reference: ${task.reference}`,
  ].join("\n");
}

export async function main(argv: string[]): Promise<void> {
  if (flagValue(argv, "bench") !== undefined) return tasksMain(argv); // the Python benchmarks: cli/bench.ts
  const { values } = parse("tasks", argv, {
    split: { type: "string", default: "test" },
    limit: { type: "string" },
    suite: { type: "string", default: "default" },
    family: { type: "string" },
    difficulty: { type: "string" },
    dir: { type: "string" },
    json: { type: "boolean", default: false },
  });
  const split = values.split as Split;
  if (!SPLITS.includes(split)) throw new UsageError(`murphy tasks: --split must be one of ${SPLITS.join(", ")} (got "${split}")`);
  if (!isSuiteName(values.suite as string)) throw new UsageError(`murphy tasks: --suite must be one of ${SUITE_NAMES.join(", ")} (got "${values.suite}")`);
  const limit = intFlag("tasks", "limit", values.limit, 10, 0);
  const dir = (values.dir as string | undefined) ?? suiteDir(values.suite as string);
  let tasks = loadSplit(dir, split);
  if (values.family) tasks = tasks.filter((t) => t.family.split("+").includes(values.family as string) || t.family === values.family);
  if (values.difficulty) tasks = tasks.filter((t) => String(t.difficulty) === values.difficulty);
  const shown = tasks.slice(0, limit);
  if (values.json) {
    for (const t of shown) process.stdout.write(JSON.stringify(t) + "\n");
    return;
  }
  const families = shown.some((t) => t.withheld) ? loadFeedbackManifest(dir).families : [];
  process.stdout.write(shown.map((t) => formatTask(t, families)).join("\n\n") + "\n");
  process.stdout.write(`\n${shown.length} of ${tasks.length} ${split} tasks${values.suite === "default" ? "" : ` of the ${values.suite} suite`} shown\n`);
}
