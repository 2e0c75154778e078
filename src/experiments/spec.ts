/**
 * Experiment specs: `configs/experiments/<name>.json` says which methods to compare, over which
 * seeds, with which shared settings, and how to evaluate. One cell = (method, seed): it trains
 * that method from the base checkpoint (or, for the method "base", trains nothing) and evaluates
 * the final policy with the Iter-k self-correction loop.
 *
 *   {
 *     "name": "headline",                       // must equal the file name
 *     "description": "...",
 *     "baseCheckpoint": "data/checkpoints/base", // optional, this default
 *     "suite": "feedback",                       // optional task suite (src/tasks/suites.ts), default "default"
 *     "seeds": [0, 1, 2],
 *     "set": { "steps": 10, "tasksPerStep": 8 }, // shared config overrides: the ONE place for budgets
 *     "methods": [
 *       { "name": "base" },                      // no config: evaluate the base checkpoint
 *       { "name": "grpo-matched", "config": "configs/grpo-matched.json", "paperMethod": "GRPO" },
 *       { "name": "murphy-s3", "config": "configs/murphy-mars.json", "set": { "turns": 3 } }
 *     ],
 *     "eval": { "split": "test", "turns": 3, "temperature": 0.7, "maxNewTokens": 96, "limit": 100 },
 *     "comparisons": [{ "method": "murphy-mars", "baseline": "grpo-matched" }],
 *     "figures": ["iterk", "learning", "paper"]
 *   }
 *
 * A method's config is resolved as: its config file, then "eval.every=0" (cells evaluate once,
 * at the end, on the spec's split), then the shared `set`, then the method's own `set`, then the
 * spec's suite and the cell's seed. Errors name the file and the field.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROOT } from "../paths";
import { type Config, loadConfig } from "../murphy/config";
import type { Split } from "../tasks/types";
import { SPLIT_NAMES, splitFiles } from "../tasks/load";
import { EVAL_DEFAULTS as MURPHY_EVAL } from "../eval/defaults";
import { sha256 } from "../util/hash";
import { DEFAULT_SUITE, SUITE_NAMES, type SuiteName, isSuiteName } from "../tasks/suites";

export const EXPERIMENTS_DIR = path.join(ROOT, "configs", "experiments");

/** Kinds of figures a report can draw (src/viz/results.ts). */
export const FIGURE_KINDS = ["iterk", "learning", "pruning", "turns", "repair", "paper"] as const;
export type FigureKind = (typeof FIGURE_KINDS)[number];

/** Methods of the paper's figure 1 a kit method can stand for (data/paper/). */
export const PAPER_METHODS = ["GRPO", "MURPHY"] as const;
export type PaperMethod = (typeof PAPER_METHODS)[number];

export interface MethodSpec {
  /** Lower-case letters, digits and "-"; "base" means the untrained base checkpoint. */
  name: string;
  /** Method config file (configs/*.json), relative to the project root; absent for "base". */
  config?: string;
  /** Config overrides of this method only, dotted paths: { "turns": 3, "credit.gamma": 0.9 }. */
  set: Record<string, unknown>;
  /** Which method of the paper's figure 1 this one corresponds to, for kit-vs-paper gains. */
  paperMethod?: PaperMethod;
}

export interface EvalSpec {
  split: Split;
  /** k: the most feedback turns; Iter-1..Iter-k pass@1 are reported. */
  turns: number;
  /** Chains per task (n); Iter-k pass@1 is averaged over them. */
  samples: number;
  temperature: number;
  maxNewTokens: number;
  /** The first `limit` tasks of the split; 0 = all. */
  limit: number;
  /**
   * A second Iter-k evaluation of every cell at this temperature (null = none): the training
   * temperature (sampling.temperature, 1), where RL's sharpening shows fully; at the lower
   * evaluation temperature part of it is already there for the base model.
   */
  trainingTemperature: number | null;
}

export interface Comparison {
  method: string;
  baseline: string;
}

export interface ExperimentSpec {
  name: string;
  description: string;
  baseCheckpoint: string;
  /** The task suite every cell trains and evaluates on; absent means "default" (specSuite). */
  suite?: SuiteName;
  seeds: number[];
  set: Record<string, unknown>;
  methods: MethodSpec[];
  eval: EvalSpec;
  comparisons: Comparison[];
  figures: FigureKind[];
  /** Where the spec was read from (relative to the project root). */
  file: string;
}

/** One unit of work: a method at a seed. */
export interface Cell {
  /** "<method>-s<seed>", also the folder name under cells/. */
  id: string;
  method: MethodSpec;
  seed: number;
}

// As `murphy eval` (src/eval/defaults.ts), on the whole test split.
const EVAL_DEFAULTS: EvalSpec = { split: "test", turns: MURPHY_EVAL.turns, samples: MURPHY_EVAL.samples, temperature: MURPHY_EVAL.temperature, maxNewTokens: MURPHY_EVAL.maxNewTokens, limit: 0, trainingTemperature: null };
const TOP_FIELDS = ["name", "description", "baseCheckpoint", "suite", "seeds", "set", "methods", "eval", "comparisons", "figures"];
const METHOD_FIELDS = ["name", "config", "set", "paperMethod"];
const NAME = /^[a-z0-9][a-z0-9-]*$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The spec file of a name ("headline") or a path ("configs/experiments/headline.json"). */
export function specFile(nameOrFile: string): string {
  if (nameOrFile.endsWith(".json") || nameOrFile.includes("/")) return path.resolve(nameOrFile);
  return path.join(EXPERIMENTS_DIR, `${nameOrFile}.json`);
}

/** Read and validate a spec by name or path. */
export function loadSpec(nameOrFile: string): ExperimentSpec {
  const file = specFile(nameOrFile);
  const where = path.relative(ROOT, file) || file;
  if (!fs.existsSync(file)) {
    const known = fs.existsSync(EXPERIMENTS_DIR) ? fs.readdirSync(EXPERIMENTS_DIR).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)) : [];
    throw new Error(`experiment spec ${where} not found (known experiments: ${known.join(", ") || "none"})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
  }
  const spec = parseSpec(parsed, where);
  const expected = path.basename(file, ".json");
  if (spec.name !== expected) throw new Error(`${where}: field "name" must equal the file name "${expected}" (got "${spec.name}")`);
  return spec;
}

/** Validate a parsed spec object; `where` names it in errors. Method configs are resolved once to catch their errors early. */
export function parseSpec(raw: unknown, where: string): ExperimentSpec {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new Error(`${where}: field "${field}" must be ${expected} (got ${JSON.stringify(got)})`);
  };
  if (!isObject(raw)) fail("(top level)", "a JSON object", raw);
  const r = raw as Json;
  for (const key of Object.keys(r)) {
    if (!key.startsWith("_") && !TOP_FIELDS.includes(key)) fail(key, `absent: unknown field (known: ${TOP_FIELDS.join(", ")})`, r[key]);
  }
  if (typeof r.name !== "string" || !NAME.test(r.name)) fail("name", "lower-case letters, digits and '-'", r.name);
  const description = r.description ?? "";
  if (typeof description !== "string") fail("description", "a string", description);
  const baseCheckpoint = r.baseCheckpoint ?? "data/checkpoints/base";
  if (typeof baseCheckpoint !== "string" || baseCheckpoint === "") fail("baseCheckpoint", "a checkpoint folder", baseCheckpoint);
  if (r.suite !== undefined && (typeof r.suite !== "string" || !isSuiteName(r.suite))) fail("suite", `one of ${SUITE_NAMES.map((n) => `"${n}"`).join(", ")} or absent`, r.suite);
  const seeds = r.seeds;
  if (!Array.isArray(seeds) || seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0) || new Set(seeds).size !== seeds.length) {
    fail("seeds", "a non-empty list of distinct integers >= 0", seeds);
  }
  const set = r.set ?? {};
  if (!isObject(set)) fail("set", 'an object of config overrides, e.g. {"steps": 10}', set);
  if ("seed" in (set as Json)) fail("set.seed", "absent (seeds come from the field \"seeds\")", (set as Json).seed);
  if ("suite" in (set as Json)) fail("set.suite", 'absent (the suite comes from the field "suite")', (set as Json).suite);

  if (!Array.isArray(r.methods) || r.methods.length === 0) fail("methods", "a non-empty list of methods", r.methods);
  const methods: MethodSpec[] = (r.methods as unknown[]).map((m, i) => {
    const field = `methods[${i}]`;
    if (!isObject(m)) return fail(field, "an object {name, config?, set?, paperMethod?}", m);
    for (const key of Object.keys(m)) if (!key.startsWith("_") && !METHOD_FIELDS.includes(key)) fail(`${field}.${key}`, `absent: unknown field (known: ${METHOD_FIELDS.join(", ")})`, m[key]);
    if (typeof m.name !== "string" || !NAME.test(m.name)) fail(`${field}.name`, "lower-case letters, digits and '-'", m.name);
    const method: MethodSpec = { name: m.name as string, set: {} };
    if (m.name === "base") {
      if (m.config !== undefined || m.set !== undefined) fail(`${field}.config`, 'absent for the method "base" (it evaluates the base checkpoint, no training)', m.config ?? m.set);
    } else {
      if (typeof m.config !== "string" || !fs.existsSync(path.resolve(ROOT, m.config))) fail(`${field}.config`, "an existing method config file, e.g. configs/murphy-mars.json", m.config);
      method.config = m.config as string;
      const own = m.set ?? {};
      if (!isObject(own)) fail(`${field}.set`, 'an object of config overrides, e.g. {"turns": 3}', own);
      if ("seed" in (own as Json)) fail(`${field}.set.seed`, 'absent (seeds come from the field "seeds")', (own as Json).seed);
      if ("suite" in (own as Json)) fail(`${field}.set.suite`, 'absent (the suite comes from the field "suite")', (own as Json).suite);
      method.set = own as Json;
    }
    if (m.paperMethod !== undefined) {
      if (!PAPER_METHODS.includes(m.paperMethod as PaperMethod)) fail(`${field}.paperMethod`, `one of ${PAPER_METHODS.join(", ")}`, m.paperMethod);
      method.paperMethod = m.paperMethod as PaperMethod;
    }
    return method;
  });
  const names = methods.map((m) => m.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) fail("methods", "methods with distinct names", duplicate);

  const evalRaw = r.eval ?? {};
  if (!isObject(evalRaw)) fail("eval", "an object {split, turns, samples, temperature, maxNewTokens, limit}", evalRaw);
  const e = { ...EVAL_DEFAULTS, ...(evalRaw as Json) } as Json;
  for (const key of Object.keys(evalRaw as Json)) if (!(key in EVAL_DEFAULTS)) fail(`eval.${key}`, `absent: unknown field (known: ${Object.keys(EVAL_DEFAULTS).join(", ")})`, e[key]);
  if (!["train", "validation", "test"].includes(e.split as string)) fail("eval.split", '"train", "validation" or "test"', e.split);
  const positiveInt = (key: string, min: number) => {
    if (!Number.isInteger(e[key]) || (e[key] as number) < min) fail(`eval.${key}`, `an integer >= ${min}`, e[key]);
  };
  positiveInt("turns", 1);
  positiveInt("samples", 1);
  positiveInt("maxNewTokens", 1);
  positiveInt("limit", 0);
  if (typeof e.temperature !== "number" || !(e.temperature >= 0)) fail("eval.temperature", "a number >= 0", e.temperature);
  if (e.trainingTemperature !== null && (typeof e.trainingTemperature !== "number" || !(e.trainingTemperature > 0))) {
    fail("eval.trainingTemperature", "null or a number > 0", e.trainingTemperature);
  }

  const comparisons = r.comparisons ?? [];
  if (!Array.isArray(comparisons)) fail("comparisons", "a list of {method, baseline}", comparisons);
  (comparisons as unknown[]).forEach((c, i) => {
    if (!isObject(c) || !names.includes(c.method as string) || !names.includes(c.baseline as string) || c.method === c.baseline) {
      fail(`comparisons[${i}]`, `{method, baseline}: two different method names of this spec (${names.join(", ")})`, c);
    }
  });
  const figures = r.figures ?? ["iterk", "learning"];
  if (!Array.isArray(figures) || !figures.every((f) => FIGURE_KINDS.includes(f as FigureKind))) fail("figures", `a list of ${FIGURE_KINDS.join(", ")}`, figures);
  if ((figures as string[]).includes("paper") && !names.includes("base")) fail("figures", 'without "paper" unless a method "base" exists (gains are over the base model)', figures);

  const spec: ExperimentSpec = {
    name: r.name as string,
    description: description as string,
    baseCheckpoint: baseCheckpoint as string,
    // Only when given, so the resolved specs of experiments made before suites existed stay as they were.
    ...(r.suite !== undefined ? { suite: r.suite as SuiteName } : {}),
    seeds: seeds as number[],
    set: set as Json,
    methods,
    eval: e as unknown as EvalSpec,
    comparisons: (comparisons as Comparison[]).map((c) => ({ method: c.method, baseline: c.baseline })),
    figures: figures as FigureKind[],
    file: where,
  };
  for (const method of methods) if (method.config) resolveConfig(spec, method, spec.seeds[0]);
  return spec;
}

/** Override strings ("key.path=<json>") from a `set` object. */
export function overridesOf(set: Record<string, unknown>): string[] {
  return Object.entries(set).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
}

/**
 * The resolved training config of a method at a seed (null for "base"). `initCheckpoint` stays
 * the spec's relative path, so the config (and its hash) is the same on every machine.
 */
export function resolveConfig(spec: ExperimentSpec, method: MethodSpec, seed: number): Config | null {
  if (!method.config) return null;
  try {
    const config = loadConfig(path.resolve(ROOT, method.config), ["eval.every=0", ...overridesOf(spec.set), ...overridesOf(method.set), `suite=${specSuite(spec)}`, `seed=${seed}`]);
    config.initCheckpoint = spec.baseCheckpoint;
    return config;
  } catch (e) {
    throw new Error(`${spec.file}: method "${method.name}": ${(e as Error).message}`);
  }
}

/** The suite of an experiment: its field "suite", else the main suite. */
export function specSuite(spec: Pick<ExperimentSpec, "suite">): SuiteName {
  return spec.suite ?? DEFAULT_SUITE;
}

/** A config as results record it: `suite` only when it is not the default. */
export type RecordedConfig = Omit<Config, "suite"> & { suite?: SuiteName };

/**
 * A resolved config as results record and hash it. Fields added to the config after results
 * were committed are left out while they hold their default, so those results (their
 * cell.json and config hash) stay valid: today only `suite`.
 */
export function recordedConfig(config: Config | null): RecordedConfig | null {
  if (!config || config.suite !== DEFAULT_SUITE) return config;
  const { suite: _, ...rest } = config;
  return rest;
}

/** The cells of a spec: methods in spec order, each over its seeds (the first `limitSeeds` only, if given). */
export function cellsOf(spec: ExperimentSpec, limitSeeds?: number): Cell[] {
  const seeds = limitSeeds === undefined ? spec.seeds : spec.seeds.slice(0, limitSeeds);
  return spec.methods.flatMap((method) => seeds.map((seed) => ({ id: `${method.name}-s${seed}`, method, seed })));
}

/** JSON with object keys sorted at every level: equal values give equal text. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (isObject(value)) {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export { sha256 };

/**
 * Hash of everything that defines a cell's numbers apart from the base weights and the tasks
 * (hashed separately): seed, resolved training config (null for "base"), evaluation settings.
 * Not the method's name: two cells with equal hashes (e.g. pruning's "none" and headline's
 * "murphy-mars") compute the same numbers, so the runner copies one instead of running both.
 */
export function cellConfigHash(spec: ExperimentSpec, cell: Cell): string {
  const training = recordedConfig(resolveConfig(spec, cell.method, cell.seed));
  // The suite counts for "base" too (it has no training config), but only when not the default.
  const suite = specSuite(spec) === DEFAULT_SUITE ? {} : { suite: specSuite(spec) };
  return sha256(stableJson({ seed: cell.seed, baseCheckpoint: spec.baseCheckpoint, training, eval: spec.eval, ...suite })).slice(0, 16);
}

/** Hash of the base checkpoint's weights and tokenizer (a new base model makes old cells stale). */
export function checkpointHash(dir: string): string {
  const hash = crypto.createHash("sha256");
  for (const file of ["model.safetensors", "tokenizer.json"]) {
    const full = path.join(dir, file);
    if (!fs.existsSync(full)) throw new Error(`${path.relative(ROOT, full) || full}: not found (the base checkpoint of the experiment; create it with \`npm run pretrain\`)`);
    hash.update(fs.readFileSync(full));
  }
  return hash.digest("hex").slice(0, 16);
}

/**
 * Hash of a task suite's tasks: exactly the files `loadSplit` reads from `tasksDir`, nothing
 * else. For each split in load order (train, validation, test) and each of its files in load
 * order (splitFiles: "test.jsonl", or the shards "train-00.jsonl", "train-01.jsonl", ...), the
 * line "<split> <file name> <bytes>" and then the file's bytes go into one SHA-256; the hash is
 * its first 16 hex digits. manifest.json, README.md and subfolders (data/tasks/feedback/ is a
 * suite of its own) are left out: they describe the tasks, so rewriting them (e.g. the
 * manifest's "regenerate" command after the generator moved) keeps cells fresh, while a changed,
 * added or removed task file makes every cell of the suite stale.
 *
 * Cells written before this definition hold the hash of manifest.json instead;
 * scripts/migrate-tasks-hash.ts restamps those whose task files are unchanged.
 */
export function tasksHash(tasksDir: string): string {
  const hash = crypto.createHash("sha256");
  for (const split of SPLIT_NAMES) {
    for (const file of splitFiles(tasksDir, split)) {
      const bytes = fs.readFileSync(file);
      hash.update(`${split} ${path.basename(file)} ${bytes.length}\n`);
      hash.update(bytes);
    }
  }
  return hash.digest("hex").slice(0, 16);
}
