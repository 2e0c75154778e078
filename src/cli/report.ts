/**
 * `murphy report <name> [--out dir] [--results dir] [--json]`: print the per-method table of an
 * experiment's results (and its paired comparisons), and write the self-contained HTML report to
 * build/report/<name>/index.html. With --json the last stdout line is one JSON object with the
 * per-method means.
 */
import * as path from "node:path";
import { parse, printJsonLast, UsageError } from "./args";
import { ROOT } from "../paths";
import { writeReport } from "../report/report";
import { comparisonSentence, comparisonsTable, computeTable, methodsTable, secondAttemptsTable, textTable } from "../report/tables";

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parse("report", argv, {
    out: { type: "string" },
    results: { type: "string" },
    json: { type: "boolean", default: false },
  });
  if (positionals.length !== 1) throw new UsageError("murphy report: give one experiment name, e.g. `murphy report headline` (results in data/results/)");
  const report = writeReport({ experiment: positionals[0], outDir: values.out, resultsDir: values.results });
  const { results } = report;
  const { spec } = results;
  const out = process.stdout;
  out.write(`${spec.name}: Iter-k pass@1 on ${spec.eval.split}${spec.eval.limit ? ` (first ${spec.eval.limit} tasks)` : ""}, mean [95% CI] over seeds\n`);
  out.write(textTable(methodsTable(results)) + "\n");
  // On stdout, right under the tokens per step they are about: a reader must not miss them.
  for (const warning of report.computeWarnings) out.write(`warning: ${warning}\n`);
  const comparisons = comparisonsTable(results);
  if (comparisons.numRows() > 0) out.write(`\npaired by seed (method - baseline):\n${textTable(comparisons)}\n`);
  const compute = computeTable(results);
  if (compute.numRows() > 0) out.write(`\ncost per run, paired by seed (method / baseline):\n${textTable(compute)}\n`);
  const second = secondAttemptsTable(results);
  if (second.numRows() > 0) out.write(`\nafter a failed first attempt (temperature ${spec.eval.temperature}, mean [95% CI] over seeds):\n${textTable(second)}\n`);
  const sentence = comparisonSentence(results);
  if (sentence) out.write(`\n${sentence}\n`);
  for (const warning of report.warnings) process.stderr.write(`warning: ${warning}\n`);
  out.write(`\nreport: ${path.relative(ROOT, report.file)}\n`);
  if (values.json) {
    printJsonLast({
      experiment: spec.name,
      report: path.relative(ROOT, report.file),
      split: spec.eval.split,
      seeds: spec.seeds,
      methods: report.means,
      headline: sentence ?? null,
      comparisons: Object.fromEntries(results.comparisons.map((c) => [`${c.method} - ${c.baseline}`, Object.fromEntries(c.difference.map((ci, k) => [`iter${k + 1}_pass1`, ci.mean]))])),
      warnings: report.warnings,
      compute_warnings: report.computeWarnings,
    });
  }
}
