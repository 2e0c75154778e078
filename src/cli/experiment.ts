/**
 * `murphy experiment <name> [--jobs n] [--only cell|method,...] [--limit-seeds n] [--dry-run]
 * [--no-reuse] [--out dir] [--runs-dir dir] [--json]`: run the cells of
 * configs/experiments/<name>.json (methods x seeds), each in a child process, at most --jobs at
 * once; finished cells are skipped, and cells equal to a finished cell of another experiment are
 * copied from it (--no-reuse: run them).
 * Writes data/results/<name>/ (cells/, summary.csv, summary-methods.csv, comparisons.csv,
 * comparisons-compute.csv, experiment.json) and prints the per-method table. With --json the last stdout line is one JSON
 * object with the per-method means.
 *
 * `--cell <id>` runs one cell in this process (what the children do).
 */
import * as path from "node:path";
import { intFlag, parse, printJsonLast, UsageError } from "./args";
import { ROOT } from "../paths";
import { cellsOf, loadSpec } from "../experiments/spec";
import { cellPaths } from "../experiments/cell-result";
import { planCells, runExperiment, runsDirOf } from "../experiments/runner";
import { loadResults, resultsDirOf } from "../experiments/results";
import { methodMeans, methodsTable, textTable } from "../report/tables";

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parse("experiment", argv, {
    jobs: { type: "string" },
    only: { type: "string", multiple: true, default: [] },
    "limit-seeds": { type: "string" },
    cell: { type: "string" },
    out: { type: "string" },
    "runs-dir": { type: "string" },
    "dry-run": { type: "boolean", default: false },
    "no-reuse": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  });
  if (positionals.length !== 1) throw new UsageError("murphy experiment: give one experiment name, e.g. `murphy experiment headline` (specs in configs/experiments/)");
  const spec = loadSpec(positionals[0]);
  const resultsDir = path.resolve(values.out ?? resultsDirOf(spec.name));
  const runsDir = path.resolve(values["runs-dir"] ?? runsDirOf(spec.name));
  const log = (line: string) => process.stderr.write(line + "\n");

  if (values.cell !== undefined) {
    const cell = cellsOf(spec).find((c) => c.id === values.cell);
    if (!cell) throw new UsageError(`murphy experiment: --cell ${values.cell}: no such cell in ${spec.file} (cells: ${cellsOf(spec).map((c) => c.id).join(", ")})`);
    // Loaded here only: the parent process never starts TensorFlow.js.
    const { runCell } = await import("../experiments/cell.js");
    const result = await runCell(spec, cell, cellPaths(resultsDir, runsDir, cell.id), log);
    printJsonLast({ cell: result.cell, iterPass1: result.iterPass1, tokensSampled: result.tokensSampled, tokensTrained: result.tokensTrained, wallSeconds: result.wallSeconds });
    return;
  }

  const jobs = intFlag("experiment", "jobs", values.jobs, 1, 1);
  const limitSeeds = values["limit-seeds"] === undefined ? undefined : intFlag("experiment", "limit-seeds", values["limit-seeds"], 1, 1);
  const only = (values.only as string[]).flatMap((o) => o.split(",")).map((o) => o.trim()).filter(Boolean);
  const options = { jobs, only, limitSeeds, resultsDir, runsDir, log, reuse: !values["no-reuse"] };
  if (values["dry-run"]) {
    const { todo, skipped } = planCells(spec, options, resultsDir, runsDir, log);
    process.stdout.write(`experiment ${spec.name}: would run ${todo.map((c) => c.id).join(", ") || "nothing"}; finished: ${skipped.join(", ") || "none"}\n`);
    return;
  }
  const report = await runExperiment(spec, options);
  const results = loadResults(spec.name, resultsDir);
  process.stdout.write(`\n${spec.name}: Iter-k pass@1 on ${spec.eval.split} (mean [95% CI] over seeds)\n`);
  process.stdout.write(textTable(methodsTable(results)) + "\n");
  process.stdout.write(`results: ${path.relative(ROOT, resultsDir) || resultsDir}/\n`);
  if (values.json) printJsonLast({ experiment: spec.name, ran: report.ran, reused: report.reused, skipped: report.skipped, failed: report.failed.map((f) => f.id), methods: methodMeans(results) });
  if (report.failed.length) {
    throw new Error(`${report.failed.length} cell(s) failed: ${report.failed.map((f) => `${f.id} (log ${path.relative(ROOT, f.log)})`).join(", ")}; rerun the same command to retry them`);
  }
}
