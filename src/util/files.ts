/**
 * File helpers shared by every writer in the kit: nothing is ever half-written. Each write goes to
 * a temporary file beside the target and is renamed over it, so a crash leaves either the old
 * file or the new one.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** Write `data` to `file` and fsync it (no rename: callers that need atomicity rename after). */
export function writeFileSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, "w");
  try {
    if (typeof data === "string") fs.writeSync(fd, data);
    else fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write `data` to `file` atomically (temp file in the same folder, fsync, rename). */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSynced(tmp, data);
  fs.renameSync(tmp, file);
}

/** Write records as JSON Lines, atomically. */
export function writeJsonl(file: string, records: readonly unknown[]): void {
  writeFileAtomic(file, records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : ""));
}

/**
 * Append one record to a JSON Lines log. Appends of one short line are atomic enough for logs:
 * a crash can at worst leave a last partial line, which `readJsonl` reports with its line number.
 */
export function appendJsonl(file: string, record: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(record) + "\n");
}

/**
 * Read a JSON Lines file. Every line must parse; the error names the file and line.
 * `validate` may throw a message about one record; it is reported with file and line too.
 */
export function readJsonl<T>(file: string, validate?: (record: unknown, where: string) => T): T[] {
  if (!fs.existsSync(file)) throw new Error(`${file}: file not found`);
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const out: T[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const where = `${file}:${i + 1}`;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message})`);
    }
    out.push(validate ? validate(record, where) : (record as T));
  }
  return out;
}
