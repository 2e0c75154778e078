/**
 * The paper's numbers (data/paper/) next to the kit's: gains over the base model, the one
 * quantity that is comparable between a 1.7B-7B model on HumanEval/MBPP/LiveCodeBench and the
 * kit's tiny model on its own tasks.
 *
 *   const rows = kitVsPaper(loadResults("headline"), loadPaper());
 *   // { source: "paper", model: "Qwen3-1.7B", method: "MURPHY", gain: 6.7, ... }
 *   // { source: "kit", model: "kit (headline)", method: "MURPHY", kitMethod: "murphy-mars", gain: 3.3, halfWidth: 2.1, ... }
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DATA_DIR, ROOT } from "../paths";
import type { ExperimentResults } from "./results";
import { PAPER_METHODS, type PaperMethod } from "./spec";

export const PAPER_FILE = path.join(DATA_DIR, "paper", "murphy-2511.07833.json");

export interface PaperSource {
  arxiv: string;
  version: string;
  where: string;
}

export interface PaperGain {
  model: string;
  method: PaperMethod;
  /** Percentage points more problems solved than the base model. */
  gain: number;
  unit: string;
  /** The Iter-k the number counts at, null when not known. */
  iteration: number | null;
  source: PaperSource;
}

export interface PaperClaim {
  id: string;
  text: string;
  value: number;
  unit: string;
  baseline: string;
  source: PaperSource;
}

export interface PaperNumbers {
  paper: { arxiv: string; title: string; url: string };
  gainsOverBase: PaperGain[];
  claims: PaperClaim[];
}

/** Read and check data/paper/murphy-2511.07833.json (or another file of the same shape). */
export function loadPaper(file = PAPER_FILE): PaperNumbers {
  const where = path.relative(ROOT, file) || file;
  if (!fs.existsSync(file)) throw new Error(`${where}: not found`);
  let raw: PaperNumbers;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8")) as PaperNumbers;
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  const checkSource = (s: PaperSource | undefined, field: string) => {
    if (!s || typeof s.arxiv !== "string" || typeof s.version !== "string" || typeof s.where !== "string") {
      throw new Error(`${where}: ${field}.source must be {arxiv, version, where} strings (got ${JSON.stringify(s)})`);
    }
  };
  if (!Array.isArray(raw.gainsOverBase)) throw new Error(`${where}: field "gainsOverBase" must be a list`);
  raw.gainsOverBase.forEach((g, i) => {
    const field = `gainsOverBase[${i}]`;
    if (typeof g.model !== "string" || !PAPER_METHODS.includes(g.method)) throw new Error(`${where}: ${field} needs a model and a method in ${PAPER_METHODS.join(", ")} (got ${JSON.stringify(g)})`);
    if (typeof g.gain !== "number" || !Number.isFinite(g.gain)) throw new Error(`${where}: ${field}.gain must be a number (got ${JSON.stringify(g.gain)})`);
    checkSource(g.source, field);
  });
  if (!Array.isArray(raw.claims)) throw new Error(`${where}: field "claims" must be a list`);
  raw.claims.forEach((c, i) => {
    if (typeof c.value !== "number" || typeof c.text !== "string") throw new Error(`${where}: claims[${i}] needs text and a numeric value (got ${JSON.stringify(c)})`);
    checkSource(c.source, `claims[${i}]`);
  });
  return raw;
}

export interface KitVsPaperRow {
  source: "paper" | "kit";
  model: string;
  /** The paper's method name (GRPO or MURPHY). */
  method: PaperMethod;
  /** The kit method standing for it (kit rows only). */
  kitMethod?: string;
  /** Percentage points over the base model. */
  gain: number;
  /** Half-width of the kit's 95% CI in points (NaN for the paper and for one seed). */
  halfWidth: number;
  /** Where the number comes from. */
  where: string;
}

/**
 * Paper rows (figure 1 gains) followed by kit rows: for every method of the experiment with a
 * `paperMethod`, its gain over the base model at the last evaluated Iter-k, in points.
 */
export function kitVsPaper(results: ExperimentResults, paper: PaperNumbers): KitVsPaperRow[] {
  const rows: KitVsPaperRow[] = paper.gainsOverBase.map((g) => ({
    source: "paper",
    model: g.model,
    method: g.method,
    gain: g.gain,
    halfWidth: NaN,
    where: `arXiv ${g.source.arxiv} ${g.source.version}, ${g.source.where}`,
  }));
  for (const method of results.spec.methods) {
    const summary = results.methods.find((m) => m.method === method.name);
    if (!method.paperMethod || !summary?.gainOverBase) continue;
    const k = summary.gainOverBase.length;
    const ci = summary.gainOverBase[k - 1];
    rows.push({
      source: "kit",
      model: `kit (${results.name})`,
      method: method.paperMethod,
      kitMethod: method.name,
      gain: 100 * ci.mean,
      halfWidth: 100 * ci.halfWidth,
      where: `${method.name}, Iter-${k} pass@1 on ${results.spec.eval.split}, ${summary.seeds.length} seed(s), paired by seed`,
    });
  }
  return rows;
}
