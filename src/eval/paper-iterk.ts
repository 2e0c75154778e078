/**
 * The paper's Iter-k numbers per benchmark (data/paper/murphy-2511.07833.json, field `iterK`), so an
 * evaluation on HumanEval, MBPP or LiveCodeBench can be printed beside what the paper reports for
 * it. Only what is known, each entry with its source: today two gains on LiveCodeBench subsets at
 * Iter-5 and nothing absolute (the file's comment says why).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_DIR, ROOT } from "../paths";

export const PAPER_NUMBERS_FILE = path.join(DATA_DIR, "paper", "murphy-2511.07833.json");

export interface PaperIterKEntry {
  /** A difficulty subset ("medium", "hard"), or null for the whole benchmark. */
  subset: string | null;
  /** k of Iter-k. */
  iteration: number;
  method: string;
  /** The model, or null where the source does not say. */
  model: string | null;
  /** "gain": points over `over`; "pass@1": absolute Iter-k pass@1. */
  quantity: "gain" | "pass@1";
  value: number;
  unit: string;
  /** What a gain is measured against. */
  over: string;
  /** The matching entry of `claims`, if any. */
  claim?: string;
  source: { arxiv: string; version: string; where: string };
}

export interface PaperBenchmarkIterK {
  known: PaperIterKEntry[];
  note: string;
}

/** Every benchmark's known Iter-k numbers, checked; errors name the file, benchmark and entry. */
export function loadPaperIterK(file = PAPER_NUMBERS_FILE): Record<string, PaperBenchmarkIterK> {
  const where = path.relative(ROOT, file) || file;
  if (!fs.existsSync(file)) throw new Error(`${where}: not found`);
  const raw = JSON.parse(fs.readFileSync(file, "utf8")) as { iterK?: { benchmarks?: Record<string, PaperBenchmarkIterK> } };
  const benchmarks = raw.iterK?.benchmarks;
  if (!benchmarks || typeof benchmarks !== "object") throw new Error(`${where}: field "iterK.benchmarks" must be an object of benchmarks`);
  for (const [name, b] of Object.entries(benchmarks)) {
    const at = `${where}: iterK.benchmarks.${name}`;
    if (!Array.isArray(b.known) || typeof b.note !== "string") throw new Error(`${at} needs "known" (a list) and "note" (a string)`);
    b.known.forEach((e, i) => {
      const entry = `${at}.known[${i}]`;
      if (!Number.isInteger(e.iteration) || e.iteration < 1) throw new Error(`${entry}.iteration must be an integer >= 1 (got ${JSON.stringify(e.iteration)})`);
      if (e.quantity !== "gain" && e.quantity !== "pass@1") throw new Error(`${entry}.quantity must be "gain" or "pass@1" (got ${JSON.stringify(e.quantity)})`);
      if (typeof e.value !== "number" || !Number.isFinite(e.value)) throw new Error(`${entry}.value must be a number (got ${JSON.stringify(e.value)})`);
      const s = e.source;
      if (!s || typeof s.arxiv !== "string" || typeof s.version !== "string" || typeof s.where !== "string") {
        throw new Error(`${entry}.source must be {arxiv, version, where} strings: every number needs its source`);
      }
    });
  }
  return benchmarks;
}

/** The known Iter-k numbers of one benchmark ("humaneval", "mbpp", "livecodebench"), or null if the file has none for it. */
export function paperIterKFor(benchmark: string, file = PAPER_NUMBERS_FILE): PaperBenchmarkIterK | null {
  return loadPaperIterK(file)[benchmark] ?? null;
}
