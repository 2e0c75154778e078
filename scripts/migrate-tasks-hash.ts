/**
 * One-off migration: restamp the committed cells' `tasksHash` after its definition changed.
 *
 *   node --import tsx scripts/migrate-tasks-hash.ts [--before <commit>] [--dry-run]
 *
 * A cell's tasksHash used to be the SHA-256 of its suite's manifest.json; it is now the hash of
 * the suite's task files (tasksHash in src/experiments/spec.ts), so that rewriting the manifest
 * (its "regenerate" command names where the generator lives) leaves the cells fresh. For every
 * data/results/<experiment>/cells/<cell>/cell.json this script takes the experiment's suite
 * (configs/experiments/<experiment>.json, field "suite"; else the spec in experiment.json) and
 *
 *   OLD = the manifest hash of that suite at commit `--before` (a commit before the change),
 *   NEW = tasksHash of the suite's folder now.
 *
 * A cell holding OLD is set to NEW when the suite's task files at `--before` and now are the same
 * files, byte for byte (git diff --quiet); a cell already holding NEW is left as it is; any other
 * cell is left alone and listed (it ran on other tasks: rerun it). Each cell.json is rewritten
 * atomically (temp file + rename) with only that field changed. Then each experiment's summary
 * CSVs whose tasks_hash column still shows OLD are written again from experiment.json's spec and
 * finished cells (summaryFiles, as the runner writes them), provided nothing but the hash
 * changes in them; otherwise they are left alone and listed.
 *
 * Running it again does nothing new for cells already restamped, so it can follow every merge of
 * cells made by the older code.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { RESULTS_DIR, ROOT } from "../src/paths";
import { loadSpec, specSuite, tasksHash, type ExperimentSpec } from "../src/experiments/spec";
import { readCellResult, type CellResult } from "../src/experiments/cell-result";
import { type ExperimentRecord, summaryFiles, withSecondAttempts } from "../src/experiments/results";
import { SPLIT_NAMES, splitFiles } from "../src/tasks/load";
import { type SuiteName, suiteDir } from "../src/tasks/suites";
import { sha256 } from "../src/util/hash";
import { writeFileAtomic } from "../src/util/files";

/** The last commit before the generator moved out of src/tasks/ (its manifests still name src/tasks/). */
export const DEFAULT_BEFORE = "5159ff4fa2360656a5c5c72e3073bab581053100";

/** What to do with one cell, given the suite's old (manifest) and new (task files) hashes. */
export type CellDecision =
  | { action: "restamp" }
  | { action: "current" }
  | { action: "leave"; reason: string };

export function decideCell(cellHash: string, suite: { old?: string; now: string; filesUnchanged: boolean; why?: string }): CellDecision {
  if (cellHash === suite.now) return { action: "current" };
  if (suite.old === undefined) return { action: "leave", reason: `tasksHash ${cellHash}: ${suite.why ?? "no manifest at the commit given"}` };
  if (cellHash !== suite.old) return { action: "leave", reason: `tasksHash ${cellHash} is neither the old manifest hash ${suite.old} nor the task hash ${suite.now}: it ran on other tasks` };
  if (!suite.filesUnchanged) return { action: "leave", reason: `the task files changed since the commit given (${suite.why ?? "git diff"}): the cell ran on other tasks` };
  return { action: "restamp" };
}

/**
 * cell.json's text with only the tasksHash value changed, so the file keeps its formatting;
 * throws unless the field occurs once with the value `from`.
 */
export function restampText(text: string, from: string, to: string, file: string): string {
  const field = `"tasksHash": "${from}"`;
  const at = text.indexOf(field);
  if (at < 0 || text.indexOf(field, at + 1) >= 0) throw new Error(`${file}: expected the field "tasksHash" once with the value "${from}"`);
  const out = text.slice(0, at) + `"tasksHash": "${to}"` + text.slice(at + field.length);
  const before = JSON.parse(text) as Record<string, unknown>;
  const after = JSON.parse(out) as Record<string, unknown>;
  if (JSON.stringify({ ...before, tasksHash: to }) !== JSON.stringify(after)) throw new Error(`${file}: restamping changed more than the field "tasksHash"`);
  return out;
}

function git(args: string[]): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync("git", args, { cwd: ROOT, maxBuffer: 1 << 30 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString().trim() };
}

interface SuiteState {
  name: SuiteName;
  dir: string;
  old?: string;
  now: string;
  filesUnchanged: boolean;
  why?: string;
}

/** The suite's hashes before and now, and whether its task files are the same files. */
function suiteState(name: SuiteName, before: string): SuiteState {
  const dir = path.relative(ROOT, suiteDir(name));
  const now = tasksHash(suiteDir(name));
  const shown = git(["show", `${before}:${dir}/manifest.json`]);
  if (shown.code !== 0) return { name, dir, now, filesUnchanged: false, why: `${dir}/manifest.json not at ${before.slice(0, 12)} (${shown.stderr})` };
  const old = sha256(shown.stdout).slice(0, 16);
  const files = SPLIT_NAMES.flatMap((split) => splitFiles(suiteDir(name), split)).map((f) => path.relative(ROOT, f));
  const listed = git(["ls-tree", "--name-only", before, `${dir}/`]);
  const pattern = /^(train|validation|test)(-\d+)?\.jsonl$/;
  const filesBefore = listed.stdout.toString().split("\n").filter((f) => pattern.test(path.basename(f))).sort();
  if (listed.code !== 0 || filesBefore.join(",") !== [...files].sort().join(",")) {
    return { name, dir, old, now, filesUnchanged: false, why: `task files at ${before.slice(0, 12)}: ${filesBefore.join(", ") || "none"}; now: ${files.join(", ")}` };
  }
  const diff = git(["diff", "--quiet", before, "--", ...files]);
  if (diff.code !== 0) return { name, dir, old, now, filesUnchanged: false, why: `git diff ${before.slice(0, 12)} -- ${dir}/*.jsonl ${diff.code === 1 ? "shows changes" : `failed: ${diff.stderr}`}` };
  return { name, dir, old, now, filesUnchanged: true };
}

function readRecord(experimentDir: string): ExperimentRecord | undefined {
  const file = path.join(experimentDir, "experiment.json");
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as ExperimentRecord) : undefined;
}

/** The experiment's suite: its spec in configs/experiments/, else the spec its results recorded. */
function experimentSuite(name: string, record: ExperimentRecord | undefined): SuiteName {
  let spec: ExperimentSpec | undefined;
  try {
    spec = loadSpec(name);
  } catch (e) {
    if (!record) throw new Error(`data/results/${name}: no spec to take the suite from (configs/experiments/${name}.json: ${(e as Error).message}; no experiment.json)`);
    spec = record.spec;
  }
  return specSuite(spec);
}

/** Summary files of the experiment written again when they still show `old`; nothing else may change in them. */
function rewriteSummaries(experimentDir: string, record: ExperimentRecord | undefined, suite: SuiteState, dryRun: boolean): { written: string[]; problem?: string } {
  if (!record || suite.old === undefined) return { written: [] };
  const finished: CellResult[] = [];
  for (const { id, status } of record.cells) {
    if (status !== "finished") continue;
    const result = withSecondAttempts(readCellResult(path.join(experimentDir, "cells", id)), path.join(experimentDir, "cells", id));
    if (!result) return { written: [], problem: `experiment.json lists ${id} as finished but it has no cell.json` };
    // As restamped (with --dry-run the file still holds the old hash).
    finished.push(decideCell(result.tasksHash, suite).action === "restamp" ? { ...result, tasksHash: suite.now } : result);
  }
  const wanted = summaryFiles(record.spec, finished);
  const changes: [string, string][] = [];
  for (const [file, text] of Object.entries(wanted)) {
    const full = path.join(experimentDir, file);
    const current = fs.existsSync(full) ? fs.readFileSync(full, "utf8") : "";
    if (!current.includes(suite.old)) continue;
    if (current.split(suite.old).join(suite.now) !== text) return { written: [], problem: `${file} would change in more than tasks_hash (rerun the experiment's summaries)` };
    changes.push([full, text]);
  }
  if (!dryRun) for (const [full, text] of changes) writeFileAtomic(full, text);
  return { written: changes.map(([full]) => path.relative(ROOT, full)) };
}

function main(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { before: { type: "string", default: DEFAULT_BEFORE }, "dry-run": { type: "boolean", default: false } } });
  const before = values.before!;
  const resolved = git(["rev-parse", "--verify", `${before}^{commit}`]);
  if (resolved.code !== 0) throw new Error(`--before ${before}: not a commit of this repository (${resolved.stderr})`);
  const dryRun = values["dry-run"]!;
  const suites = new Map<SuiteName, SuiteState>();
  const counts = { restamp: 0, current: 0, leave: 0 };
  const left: string[] = [];
  for (const experiment of fs.existsSync(RESULTS_DIR) ? fs.readdirSync(RESULTS_DIR).sort() : []) {
    const experimentDir = path.join(RESULTS_DIR, experiment);
    const cellsDir = path.join(experimentDir, "cells");
    if (!fs.existsSync(cellsDir)) continue;
    const record = readRecord(experimentDir);
    const name = experimentSuite(experiment, record);
    if (!suites.has(name)) suites.set(name, suiteState(name, before));
    const suite = suites.get(name)!;
    const restamped: string[] = [];
    for (const id of fs.readdirSync(cellsDir).sort()) {
      const file = path.join(cellsDir, id, "cell.json");
      if (!fs.existsSync(file)) continue;
      const text = fs.readFileSync(file, "utf8");
      const cellHash = (JSON.parse(text) as CellResult).tasksHash;
      const decision = decideCell(cellHash, suite);
      counts[decision.action]++;
      if (decision.action === "leave") left.push(`${experiment}/${id}: ${decision.reason}`);
      if (decision.action !== "restamp") continue;
      const out = restampText(text, suite.old!, suite.now, path.relative(ROOT, file));
      if (!dryRun) writeFileAtomic(file, out);
      restamped.push(id);
    }
    const summaries = rewriteSummaries(experimentDir, record, suite, dryRun);
    if (summaries.problem) left.push(`${experiment} summaries: ${summaries.problem}`);
    process.stdout.write(
      `${experiment} (suite ${name}): ${restamped.length ? `${dryRun ? "would restamp" : "restamped"} ${restamped.join(", ")}` : "no cell to restamp"}` +
        `${summaries.written.length ? `; summaries ${dryRun ? "to write" : "written"}: ${summaries.written.map((f) => path.basename(f)).join(", ")}` : ""}\n`,
    );
  }
  for (const s of suites.values()) {
    process.stdout.write(`suite ${s.name} (${s.dir}): manifest hash at ${before.slice(0, 12)} ${s.old ?? "none"}, task hash now ${s.now}, task files ${s.filesUnchanged ? "unchanged" : `changed: ${s.why}`}\n`);
  }
  process.stdout.write(`${dryRun ? "would restamp" : "restamped"} ${counts.restamp} cell(s); ${counts.current} already current; ${counts.leave} left alone\n`);
  for (const line of left) process.stdout.write(`  left alone: ${line}\n`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`migrate-tasks-hash: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
