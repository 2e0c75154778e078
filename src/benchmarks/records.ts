/**
 * Reading benchmark files: JSON Lines (optionally gzipped) or a JSON array, with errors that name
 * the file, the record and the field, and what was expected there.
 */
import * as fs from "node:fs";
import * as zlib from "node:zlib";

export type Record = { [field: string]: unknown };

/** Every record of a .jsonl, .jsonl.gz or .json (array) file. */
export function readRecords(file: string): Record[] {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === "ENOENT" ? "file not found" : (e as Error).message}`);
  }
  const text = (file.endsWith(".gz") ? zlib.gunzipSync(bytes) : bytes).toString("utf8");
  if (file.replace(/\.gz$/, "").endsWith(".json")) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(data)) throw new Error(`${file}: expected a JSON array of records`);
    return data.map((r, i) => asRecord(r, `${file}: record ${i}`));
  }
  const records: Record[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    records.push(asRecord(data, `${file}:${i + 1}`));
  });
  return records;
}

function asRecord(data: unknown, where: string): Record {
  if (typeof data !== "object" || data === null || Array.isArray(data)) throw new Error(`${where}: expected a JSON object`);
  return data as Record;
}

/** `record[field]` as a string; `where` names the record in the error. */
export function stringField(record: Record, field: string, where: string, opts: { optional?: boolean; nonEmpty?: boolean } = {}): string {
  const value = record[field];
  if (value === undefined || value === null) {
    if (opts.optional) return "";
    throw new Error(`${where}: field "${field}" is missing (expected a string)`);
  }
  if (typeof value !== "string") throw new Error(`${where}: field "${field}" must be a string (got ${typeof value})`);
  if (opts.nonEmpty && value.trim() === "") throw new Error(`${where}: field "${field}" must not be empty`);
  return value;
}

/** `record[field]` as an array of strings. */
export function stringListField(record: Record, field: string, where: string, opts: { optional?: boolean } = {}): string[] {
  const value = record[field];
  if ((value === undefined || value === null) && opts.optional) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new Error(`${where}: field "${field}" must be an array of strings`);
  }
  return value as string[];
}

/** Python sources from Windows-edited datasets (MBPP) use \r\n; Python accepts both, the kit shows \n. */
export function unixNewlines(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

/** Top-level `def` and `class` names of a Python source. */
export function topLevelDefinitions(source: string): string[] {
  return [...unixNewlines(source).matchAll(/^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]);
}

/** Identifiers that occur in Python sources (a superset of the names they use). */
export function identifiers(...sources: string[]): Set<string> {
  return new Set(sources.flatMap((s) => s.match(/[A-Za-z_]\w*/g) ?? []));
}
