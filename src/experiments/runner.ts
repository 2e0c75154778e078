/**
 * Run every cell of an experiment, each in its own child process, at most `jobs` at once:
 *
 *   runExperiment(loadSpec("headline"), { jobs: 2 })
 *
 * Finished cells (cell.json present, same inputs) are skipped, so a rerun resumes. A cell whose
 * inputs changed (its config, the base checkpoint or the tasks) is run again. A cell with the
 * same inputs as a finished cell of another experiment is copied from it, not run. Each child's output
 * goes to the parent's log prefixed with the cell id, and to <runs>/<cell>/cell.log. When all
 * cells are done (or failed), the summaries are written from the finished cells.
 *
 * Separate processes because a cell holds a whole TensorFlow.js runtime and sandbox pool: two in
 * parallel use both cores, and one cell crashing cannot take the others down.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { type ChildProcess, spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { DATA_DIR, ROOT } from "../paths";
import { formatDuration } from "../util/progress";
import { type CellResult, cellInputs, cellPaths, copyCell, findEquivalentCell, readCellResult, staleReason } from "./cell-result";
import { type Cell, type ExperimentSpec, cellsOf } from "./spec";
import { type ExperimentRecord, resultsDirOf, writeSummaries } from "./results";

export interface RunOptions {
  /** Cells run in parallel (child processes). */
  jobs?: number;
  /** Run only cells whose id or method name is in this list. */
  only?: string[];
  /**
   * Copy a finished cell with the same inputs from another experiment beside this one (e.g.
   * pruning's "none" = headline's "murphy-mars") instead of running it again. Default true.
   */
  reuse?: boolean;
  /** Use only the first n seeds of the spec. */
  limitSeeds?: number;
  /** data/results/<name>/ by default. */
  resultsDir?: string;
  /** data/runs/experiments/<name>/ by default (checkpoints, logs; not committed). */
  runsDir?: string;
  log?: (line: string) => void;
}

export interface RunReport {
  ran: string[];
  /** Cells copied from an equivalent finished cell of another experiment. */
  reused: string[];
  skipped: string[];
  failed: { id: string; log: string; code: number | null }[];
  record: ExperimentRecord;
}

export function runsDirOf(name: string): string {
  return path.join(DATA_DIR, "runs", "experiments", name);
}

/** The cells to run and the finished ones to skip, given the options. */
export function planCells(spec: ExperimentSpec, options: RunOptions, resultsDir: string, runsDir: string, log: (line: string) => void): { todo: Cell[]; skipped: string[] } {
  let cells = cellsOf(spec, options.limitSeeds);
  if (options.only?.length) {
    const wanted = new Set(options.only);
    const known = new Set(cellsOf(spec).flatMap((c) => [c.id, c.method.name]));
    const unknown = options.only.filter((o) => !known.has(o));
    if (unknown.length) throw new Error(`${spec.file}: --only ${unknown.join(", ")}: no such cell or method (cells: ${cellsOf(spec).map((c) => c.id).join(", ")})`);
    cells = cells.filter((c) => wanted.has(c.id) || wanted.has(c.method.name));
  }
  const todo: Cell[] = [];
  const skipped: string[] = [];
  for (const cell of cells) {
    const finished = readCellResult(cellPaths(resultsDir, runsDir, cell.id).resultDir);
    if (finished) {
      const reason = staleReason(finished, cellInputs(spec, cell));
      if (!reason) {
        skipped.push(cell.id);
        continue;
      }
      log(`experiment ${spec.name}: cell ${cell.id} ran with other inputs (${reason}); running it again`);
    }
    todo.push(cell);
  }
  return { todo, skipped };
}

/** The command that runs one cell in a child process. */
export function cellCommand(spec: ExperimentSpec, cell: Cell, resultsDir: string, runsDir: string): string[] {
  const tsx = pathToFileURL(require.resolve("tsx", { paths: [ROOT] })).href;
  return [
    process.execPath,
    "--no-node-snapshot",
    "--import",
    tsx,
    path.join(ROOT, "src", "cli", "main.ts"),
    "experiment",
    path.resolve(ROOT, spec.file),
    "--cell",
    cell.id,
    "--out",
    resultsDir,
    "--runs-dir",
    runsDir,
  ];
}

/** Children running now, so an interrupted parent can stop them instead of leaving them behind. */
const running = new Set<ChildProcess>();

function stopChildren(signal: NodeJS.Signals): void {
  for (const child of running) child.kill(signal);
  process.stderr.write(`experiment: ${signal}: stopped ${running.size} running cell(s); rerun the same command to resume\n`);
  process.exit(signal === "SIGINT" ? 130 : 143);
}

/** Run one child; its lines go to `log` with a prefix and to the cell's log file. */
function runChild(command: string[], logFile: string, prefix: string, log: (line: string) => void): Promise<number | null> {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const file = fs.openSync(logFile, "a");
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    const forward = (stream: NodeJS.ReadableStream) => {
      let pending = "";
      stream.on("data", (chunk: Buffer) => {
        fs.writeSync(file, chunk);
        pending += chunk.toString();
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) if (line.trim()) log(`${prefix}${line}`);
      });
      stream.on("end", () => {
        if (pending.trim()) log(`${prefix}${pending}`);
      });
    };
    forward(child.stdout!);
    forward(child.stderr!);
    child.on("error", (e) => {
      running.delete(child);
      fs.writeSync(file, `spawn failed: ${e.message}\n`);
      fs.closeSync(file);
      resolve(null);
    });
    child.on("close", (code) => {
      running.delete(child);
      fs.closeSync(file);
      resolve(code);
    });
  });
}

const formatIter = (r: CellResult) => r.iterPass1.map((p, i) => `Iter-${i + 1} ${p.toFixed(3)}`).join("  ");

/** Run the experiment's cells (skipping finished ones), then write its summaries. */
export async function runExperiment(spec: ExperimentSpec, options: RunOptions = {}): Promise<RunReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const resultsDir = options.resultsDir ?? resultsDirOf(spec.name);
  const runsDir = options.runsDir ?? runsDirOf(spec.name);
  const jobs = Math.max(1, options.jobs ?? 1);
  const { todo, skipped } = planCells(spec, options, resultsDir, runsDir, log);
  log(`experiment ${spec.name}: ${todo.length} cell(s) to run, ${skipped.length} finished already${skipped.length ? ` (${skipped.join(", ")})` : ""}; ${Math.min(jobs, todo.length || 1)} at a time`);
  const started = Date.now();
  const ran: string[] = [];
  const reused: string[] = [];
  const failed: RunReport["failed"] = [];
  const durations: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const cell = todo[next++];
      const paths = cellPaths(resultsDir, runsDir, cell.id);
      const logFile = path.join(paths.runDir, "cell.log");
      const t0 = Date.now();
      const equivalent = options.reuse === false ? undefined : findEquivalentCell(path.dirname(resultsDir), cellInputs(spec, cell), paths.resultDir);
      if (equivalent) {
        const copied = copyCell(equivalent, paths.resultDir, spec, cell);
        reused.push(cell.id);
        log(`experiment ${spec.name}: cell ${cell.id} has the inputs of ${copied.copiedFrom} (same config, seed, evaluation, base checkpoint and tasks): copied its results`);
        continue;
      }
      log(`experiment ${spec.name}: cell ${cell.id} started (log ${path.relative(ROOT, logFile)})`);
      const code = await runChild(cellCommand(spec, cell, resultsDir, runsDir), logFile, `[${cell.id}] `, log);
      const seconds = (Date.now() - t0) / 1000;
      const result = code === 0 ? readCellResult(paths.resultDir) : undefined;
      if (!result) {
        failed.push({ id: cell.id, log: logFile, code });
        log(`experiment ${spec.name}: cell ${cell.id} FAILED (exit code ${code}) after ${formatDuration(seconds)}; see ${path.relative(ROOT, logFile)}`);
        continue;
      }
      ran.push(cell.id);
      durations.push(seconds);
      const done = ran.length + reused.length + failed.length;
      const left = todo.length - done;
      const eta = left > 0 ? (left * (durations.reduce((a, b) => a + b, 0) / durations.length)) / jobs : 0;
      log(`experiment ${spec.name}: cell ${cell.id} finished in ${formatDuration(seconds)}: ${formatIter(result)}; ${done}/${todo.length} cells done, elapsed ${formatDuration((Date.now() - started) / 1000)}, ETA ${formatDuration(eta)}`);
    }
  };
  const onSignal = (signal: NodeJS.Signals) => stopChildren(signal);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  const record = writeSummaries(spec, resultsDir, runsDir);
  const finished = record.cells.filter((c) => c.status === "finished").length;
  log(`experiment ${spec.name}: ${finished}/${record.cells.length} cells finished; summaries in ${path.relative(ROOT, resultsDir) || resultsDir}/`);
  return { ran, reused, skipped, failed, record };
}
