/**
 * A table of documented fields, and the generic machinery that turns a partial JSON object plus
 * "key.path=value" overrides into a complete, validated object: defaults filled in, unknown keys
 * refused with a did-you-mean, every value checked against its rule, and every error naming the
 * field, the expected value and where the bad value came from:
 *
 *   config.turns must be an integer >= 1 (got 0) in configs/murphy.json
 *
 * The run config's table lives in src/murphy/config.ts; this file knows nothing of its fields.
 * Keys starting with "_" (e.g. "_comment") are comments and are skipped.
 *
 * Why not a schema library (zod): the table is the single place of each field's default, rule,
 * meaning and source, and it prints as documentation (`describeFields`). With zod the rules would
 * live in a schema and the docs and sources beside it, or the schema would be generated from this
 * table and do only what `accepts` does below; its messages would still need rewriting into the
 * form above, with the origin of each value, which zod does not track.
 */

/** What values a field accepts; also renders the "must be ..." part of an error. */
export type FieldRule =
  | { kind: "integer"; min: number; max?: number; nullable?: boolean }
  | { kind: "number"; min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean }
  | { kind: "boolean" }
  | { kind: "enum"; values: readonly string[] }
  | { kind: "string" };

export interface FieldSpec {
  /** Dotted path, e.g. "credit.gamma". */
  path: string;
  rule: FieldRule;
  default: unknown;
  /** What the field means and does. */
  doc: string;
  /** Where the default or the definition comes from. */
  source: string;
}

export const integer = (min: number, max?: number): FieldRule => ({ kind: "integer", min, max });
export const enumOf = (...values: string[]): FieldRule => ({ kind: "enum", values });
export const BOOLEAN: FieldRule = { kind: "boolean" };

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function setPath(target: JsonObject, path: string, value: Json): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(node[part])) node[part] = {};
    node = node[part] as JsonObject;
  }
  node[parts[parts.length - 1]] = value;
}

function getPath(source: JsonObject, path: string): Json | undefined {
  let node: Json | undefined = source;
  for (const part of path.split(".")) node = isObject(node) ? node[part] : undefined;
  return node;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The "must be ..." text of a rule: "an integer >= 1", "one of "mars", "mers"", ... */
export function describeRule(rule: FieldRule): string {
  switch (rule.kind) {
    case "integer": {
      const range = rule.max === undefined ? `>= ${rule.min}` : `in [${rule.min}, ${rule.max}]`;
      return `an integer ${range}${rule.nullable ? " or null" : ""}`;
    }
    case "number": {
      const { min, max } = rule;
      if (min !== undefined && max !== undefined) {
        return `a number in ${rule.minExclusive ? "(" : "["}${min}, ${max}${rule.maxExclusive ? ")" : "]"}`;
      }
      if (min !== undefined) return `a number ${rule.minExclusive ? ">" : ">="} ${min}`;
      if (max !== undefined) return `a number ${rule.maxExclusive ? "<" : "<="} ${max}`;
      return "a finite number";
    }
    case "boolean":
      return "true or false";
    case "enum":
      return `one of ${rule.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "string":
      return "a non-empty string";
  }
}

/** Whether `v` satisfies `rule`. */
export function accepts(rule: FieldRule, v: unknown): boolean {
  switch (rule.kind) {
    case "integer":
      if (v === null) return rule.nullable === true;
      return typeof v === "number" && Number.isInteger(v) && v >= rule.min && (rule.max === undefined || v <= rule.max);
    case "number": {
      if (typeof v !== "number" || !Number.isFinite(v)) return false;
      if (rule.min !== undefined && (rule.minExclusive ? v <= rule.min : v < rule.min)) return false;
      if (rule.max !== undefined && (rule.maxExclusive ? v >= rule.max : v > rule.max)) return false;
      return true;
    }
    case "boolean":
      return typeof v === "boolean";
    case "enum":
      return typeof v === "string" && rule.values.includes(v);
    case "string":
      return typeof v === "string" && v.length > 0;
  }
}

/** Parse one "key.path=value" override into a path and a JSON value (string if not JSON). */
export function parseOverride(text: string): { path: string; value: Json } {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new Error(`--set ${text}: expected key.path=value, e.g. credit.gamma=0.9`);
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  let value: Json;
  try {
    value = JSON.parse(raw) as Json;
  } catch {
    value = raw;
  }
  return { path, value };
}

/** A resolved object and, for every field set explicitly, where its value came from. */
export interface Resolved {
  value: JsonObject;
  /** Where the field's value came from: a file, "--set ...", or "the defaults". */
  originOf: (path: string) => string;
}

/**
 * A table of fields under one name ("config"): errors read `${name}.${path} must be ...`. Object
 * paths ("credit", "loss", ...) are the first segments of dotted field paths.
 */
export class FieldTable {
  private readonly byPath: Map<string, FieldSpec>;
  private readonly groups: Set<string>;

  constructor(readonly name: string, readonly fields: readonly FieldSpec[]) {
    this.byPath = new Map(fields.map((f) => [f.path, f]));
    this.groups = new Set(fields.filter((f) => f.path.includes(".")).map((f) => f.path.split(".")[0]));
  }

  /**
   * Defaults, then `partial` (from `where`), then each override in order; every field checked
   * against its rule. Nullable defaults stay null: resolving them is the caller's business.
   */
  resolve(partial: unknown, overrides: readonly string[], where: string): Resolved {
    if (!isObject(partial)) throw new Error(`${this.name} must be a JSON object (got ${JSON.stringify(partial)}) in ${where}`);
    const value: JsonObject = {};
    for (const f of this.fields) setPath(value, f.path, f.default as Json);
    const origin = new Map<string, string>();
    this.mergeInto(value, partial, origin, where);
    for (const text of overrides) {
      const { path, value: v } = parseOverride(text);
      const source = `--set ${text}`;
      if (!this.byPath.has(path)) {
        if (this.groups.has(path) && isObject(v)) {
          this.mergeInto(value, v, origin, source, path);
          continue;
        }
        throw new Error(`${this.name}.${path} is not a known field${this.didYouMean(path)} in ${source}`);
      }
      setPath(value, path, v);
      origin.set(path, source);
    }
    const originOf = (path: string) => origin.get(path) ?? "the defaults";
    for (const f of this.fields) {
      const got = getPath(value, f.path);
      if (!accepts(f.rule, got)) {
        throw new Error(`${this.name}.${f.path} must be ${describeRule(f.rule)} (got ${JSON.stringify(got)}) in ${originOf(f.path)}`);
      }
    }
    return { value, originOf };
  }

  /** The table as text lines, e.g. for `--help` or a notebook cell. */
  describe(): string[] {
    return this.fields.map((f) => `${f.path} = ${JSON.stringify(f.default)}  (${describeRule(f.rule)}; source: ${f.source})\n    ${f.doc}`);
  }

  /**
   * Copy the fields of `source` onto `target`, recording where each came from. Unknown keys and
   * non-objects where a group is expected are errors.
   */
  private mergeInto(target: JsonObject, source: JsonObject, origin: Map<string, string>, where: string, prefix = ""): void {
    for (const [key, value] of Object.entries(source)) {
      if (key.startsWith("_")) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (this.groups.has(path)) {
        if (!isObject(value)) throw new Error(`${this.name}.${path} must be an object (got ${JSON.stringify(value)}) in ${where}`);
        this.mergeInto(target, value, origin, where, path);
      } else if (this.byPath.has(path)) {
        setPath(target, path, value);
        origin.set(path, where);
      } else {
        throw new Error(`${this.name}.${path} is not a known field${this.didYouMean(path)} in ${where}`);
      }
    }
  }

  /** " (did you mean config.x?)" for the closest known path, or "" when nothing is close. */
  private didYouMean(path: string): string {
    const last = path.split(".").pop()!;
    let best = "";
    let bestScore = Infinity;
    for (const candidate of [...this.byPath.keys(), ...this.groups]) {
      // Compare last segments (catches a right name at the wrong level) and whole paths (typos).
      const score = Math.min(editDistance(last, candidate.split(".").pop()!), editDistance(path, candidate));
      if (score < bestScore) [best, bestScore] = [candidate, score];
    }
    return bestScore <= Math.max(2, Math.floor(last.length / 3)) ? ` (did you mean ${this.name}.${best}?)` : "";
  }
}
