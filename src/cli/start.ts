/**
 * `murphy start` (`npm start`): the kit's main job, sized for a 2-core CPU.
 *   1. runs the `quick` experiment (configs/experiments/quick.json: base policy, compute-matched
 *      GRPO and MURPHY-MaRS, one seed) into data/results/quick/ (finished cells are kept, so a
 *      second `npm start` only redoes what changed);
 *   2. executes every notebook headlessly (scripts/notebooks.py, the same runner as
 *      `npm run notebooks`) into build/notebooks/;
 *   3. writes build/report/index.html: the quick results with their plots and a link to each
 *      executed notebook, and build/report/explorer.html, the pruning explorer on the recorded
 *      rollout trees of data/rollouts/ (src/explorer/);
 * then prints the summary table and the report's path. Exits non-zero when a cell or a notebook
 * failed (after writing the report, so what worked can still be read).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { intFlag, parse } from "./args";
import { describeBackend, selectBackend } from "../backend";
import { CHECKPOINTS_DIR, ROOT } from "../paths";
import { loadSpec } from "../experiments/spec";
import { runExperiment } from "../experiments/runner";
import { writeReport, type ReportLink } from "../report/report";
import { methodsTable, textTable } from "../report/tables";
import { executedNotebookLinks } from "../notebook/executed";
import { writeExplorerPage } from "../explorer/page";

const BUILD = path.join(ROOT, "build");

export async function main(argv: string[]): Promise<void> {
  const { values } = parse("start", argv, {
    jobs: { type: "string" },
    "skip-notebooks": { type: "boolean", default: false },
  });
  const jobs = intFlag("start", "jobs", values.jobs, 2, 1);
  const log = (line: string) => process.stderr.write(line + "\n");
  if (!fs.existsSync(path.join(CHECKPOINTS_DIR, "base", "model.safetensors"))) {
    throw new Error(`${path.relative(ROOT, path.join(CHECKPOINTS_DIR, "base"))}: the base policy is missing; create it with \`npm run pretrain\` (about 50 minutes here)`);
  }
  log(`start: ${describeBackend(await selectBackend())}`);
  const problems: string[] = [];

  log("start: 1/3 the quick experiment (configs/experiments/quick.json)");
  const run = await runExperiment(loadSpec("quick"), { jobs, log });
  for (const f of run.failed) problems.push(`cell ${f.id} failed (exit ${f.code}; log ${path.relative(ROOT, f.log)})`);

  const links: ReportLink[] = [];
  if (values["skip-notebooks"]) {
    log("start: 2/3 notebooks skipped (--skip-notebooks)");
  } else {
    log("start: 2/3 executing the notebooks (scripts/notebooks.py)");
    const notebooksOut = path.join(BUILD, "notebooks");
    const r = spawnSync("/usr/bin/python3", [path.join(ROOT, "scripts", "notebooks.py"), "--out", notebooksOut], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
    if (r.error) problems.push(`notebooks: could not start /usr/bin/python3 (${r.error.message})`);
    else if (r.status !== 0) problems.push(`notebooks: runner exited with ${r.status} (see the lines above)`);
    links.push(...executedNotebookLinks(notebooksOut, path.join(BUILD, "report")));
  }

  log("start: 3/3 the report and the pruning explorer");
  writeExplorerPage(path.join(BUILD, "report", "explorer.html"));
  links.unshift({ title: "Pruning explorer: credit, IntraP and InterP on recorded rollout trees", href: "explorer.html" });
  const report = writeReport({ experiment: "quick", outDir: path.join(BUILD, "report"), links });
  process.stdout.write(`\nquick: Iter-k pass@1 on ${report.results.spec.eval.split} (first ${report.results.spec.eval.limit || "all"} tasks), one seed\n`);
  process.stdout.write(textTable(methodsTable(report.results)) + "\n");
  for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(`\nreport: ${path.relative(ROOT, report.file)}\npruning explorer: ${path.relative(ROOT, path.join(BUILD, "report", "explorer.html"))}\n`);
  if (problems.length > 0) {
    throw new Error(`start finished with problems:\n  ${problems.join("\n  ")}`);
  }
}
