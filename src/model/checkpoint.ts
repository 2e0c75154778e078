/**
 * Checkpoints: one folder per checkpoint, readable by other tools.
 *
 *   <dir>/model.safetensors      the model's weights (safetensors.ts)
 *   <dir>/config.json            the model config
 *   <dir>/tokenizer.json         the tokenizer (Tokenizer.toJSON())
 *   <dir>/<name>.safetensors     optional further tensors, e.g. optimizer.safetensors
 *   <dir>/<name>.json            optional further JSON, e.g. state.json
 *
 * A save never leaves a half-written checkpoint: everything is written into a hidden sibling
 * folder that is then renamed into place.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic, writeFileSynced } from "../util/files";
import { decodeSafetensors, encodeSafetensors, readBytes, toRaw, toTensors, type RawTensor, type StoredDtype } from "./safetensors";

export { encodeSafetensors, decodeSafetensors, readSafetensors, writeSafetensors, type RawTensor, type StoredDtype } from "./safetensors";

export const MODEL_FILE = "model.safetensors";
export const CONFIG_FILE = "config.json";
export const TOKENIZER_FILE = "tokenizer.json";
const RESERVED_NAMES = new Set(["model", "config", "tokenizer"]);
const EXTRA_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export interface CheckpointContents {
  /** The model's weights, by name. */
  tensors: Map<string, tf.Tensor>;
  config: object;
  /** The tokenizer's plain data (Tokenizer.toJSON()). */
  tokenizer: object;
  /** Further tensor files: `{optimizer: ...}` becomes `optimizer.safetensors`. */
  extraTensors?: Record<string, Map<string, tf.Tensor>>;
  /** Further JSON files: `{state: ...}` becomes `state.json`. */
  extraJson?: Record<string, object>;
}

export interface LoadedCheckpoint {
  /** New tf tensors; the caller disposes them. */
  tensors: Map<string, tf.Tensor>;
  config: Record<string, unknown>;
  tokenizer: Record<string, unknown>;
  extraTensors: Record<string, Map<string, tf.Tensor>>;
  extraJson: Record<string, unknown>;
}

/** A tensor a checkpoint must hold, e.g. from the model being loaded into. */
export interface ExpectedTensor {
  name: string;
  shape: number[];
  dtype: StoredDtype;
}

function checkExtraName(kind: string, name: string): void {
  if (!EXTRA_NAME.test(name) || RESERVED_NAMES.has(name)) {
    throw new Error(
      `checkpoint ${kind} name ${JSON.stringify(name)} is not allowed: use letters, digits, "_", "." or "-", ` +
        `and not model, config or tokenizer`,
    );
  }
}

/** fsync a folder so the renames inside it survive a crash (a no-op where folders cannot be opened). */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a folder; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function jsonText(value: object, what: string): string {
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) throw new Error(`checkpoint ${what} is not JSON-serialisable`);
  return text + "\n";
}

/**
 * Save a checkpoint folder. Everything is first written into a hidden sibling folder, which is
 * then renamed to `dir`; an existing checkpoint at `dir` is moved aside first and deleted last.
 * A crash leaves the old or the new checkpoint at `dir`, or (between the two renames) both as
 * hidden siblings, which `loadCheckpoint` then points to.
 */
export function saveCheckpoint(dir: string, contents: CheckpointContents): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const base = path.basename(target);
  const files: [string, string | Uint8Array][] = [
    [MODEL_FILE, encodeSafetensors(toRaw(contents.tensors, `${dir}/${MODEL_FILE}`))],
    [CONFIG_FILE, jsonText(contents.config, "config")],
    [TOKENIZER_FILE, jsonText(contents.tokenizer, "tokenizer")],
  ];
  for (const [name, tensors] of Object.entries(contents.extraTensors ?? {})) {
    checkExtraName("extraTensors", name);
    files.push([`${name}.safetensors`, encodeSafetensors(toRaw(tensors, `${dir}/${name}.safetensors`))]);
  }
  for (const [name, value] of Object.entries(contents.extraJson ?? {})) {
    checkExtraName("extraJson", name);
    files.push([`${name}.json`, jsonText(value, `extraJson.${name}`)]);
  }
  if (fs.existsSync(target) && !fs.statSync(target).isDirectory()) {
    throw new Error(`${dir}: exists and is not a folder; refusing to replace it with a checkpoint`);
  }

  const stamp = `${process.pid}-${Date.now()}`;
  const temporary = path.join(parent, `.${base}.saving-${stamp}`);
  fs.mkdirSync(temporary, { recursive: true });
  try {
    for (const [name, data] of files) writeFileSynced(path.join(temporary, name), data);
    syncFolder(temporary);
  } catch (e) {
    fs.rmSync(temporary, { recursive: true, force: true });
    throw e;
  }
  if (fs.existsSync(target)) {
    const old = path.join(parent, `.${base}.old-${stamp}`);
    fs.renameSync(target, old);
    fs.renameSync(temporary, target);
    syncFolder(parent);
    fs.rmSync(old, { recursive: true, force: true });
  } else {
    fs.renameSync(temporary, target);
    syncFolder(parent);
  }
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

function readJsonObject(file: string): Record<string, unknown> {
  const value = readJson(file);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${file}: must hold a JSON object`);
  return value as Record<string, unknown>;
}

/** Every difference between the tensors of a file and the expected list, as messages. */
function tensorMismatches(file: string, tensors: Map<string, RawTensor>, expected: readonly ExpectedTensor[]): string[] {
  const problems: string[] = [];
  const wanted = new Map<string, ExpectedTensor>();
  for (const e of expected) {
    if (wanted.has(e.name)) throw new Error(`expected tensors list names "${e.name}" twice`);
    wanted.set(e.name, e);
  }
  for (const e of expected) {
    const t = tensors.get(e.name);
    if (!t) {
      problems.push(`missing tensor "${e.name}" (expected shape [${e.shape}] ${e.dtype})`);
      continue;
    }
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      problems.push(`tensor "${e.name}" has shape [${t.shape}], expected [${e.shape}]`);
    }
    if (t.dtype !== e.dtype) problems.push(`tensor "${e.name}" has dtype ${t.dtype}, expected ${e.dtype}`);
  }
  for (const [name, t] of tensors) {
    if (!wanted.has(name)) problems.push(`unexpected tensor "${name}" (shape [${t.shape}] ${t.dtype})`);
  }
  return problems.map((p) => `${file}: ${p}`);
}

/** Where an interrupted save may have left a checkpoint that was meant to be at `dir`. */
function leftovers(dir: string): string[] {
  const parent = path.dirname(path.resolve(dir));
  const base = path.basename(path.resolve(dir));
  if (!fs.existsSync(parent)) return [];
  return fs
    .readdirSync(parent)
    .filter((f) => f.startsWith(`.${base}.saving-`) || f.startsWith(`.${base}.old-`))
    .map((f) => path.join(parent, f));
}

/**
 * Load a checkpoint folder written by `saveCheckpoint`. With `expected`, the model's tensors must
 * match it exactly (names, shapes, dtypes); every difference is listed in the error. Any other
 * `*.safetensors` and `*.json` files come back in `extraTensors` / `extraJson` by base name.
 * Nothing is allocated in tf unless every file reads cleanly.
 */
export function loadCheckpoint(dir: string, opts: { expected?: readonly ExpectedTensor[] } = {}): LoadedCheckpoint {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    const found = leftovers(dir);
    const hint = found.length
      ? `; an interrupted save left ${found.join(", ")} (a ".saving-" folder is complete: rename it to ${dir})`
      : "";
    throw new Error(`${dir}: checkpoint folder not found${hint}`);
  }
  for (const required of [MODEL_FILE, CONFIG_FILE, TOKENIZER_FILE]) {
    if (!fs.existsSync(path.join(dir, required))) {
      throw new Error(`${dir}: missing ${required} (a checkpoint folder holds ${MODEL_FILE}, ${CONFIG_FILE} and ${TOKENIZER_FILE})`);
    }
  }
  const modelFile = path.join(dir, MODEL_FILE);
  const model = decodeSafetensors(readBytes(modelFile), modelFile).tensors;
  if (opts.expected) {
    const problems = tensorMismatches(modelFile, model, opts.expected);
    if (problems.length) throw new Error(problems.join("\n"));
  }
  const config = readJsonObject(path.join(dir, CONFIG_FILE));
  const tokenizer = readJsonObject(path.join(dir, TOKENIZER_FILE));

  const extraRaw: Record<string, Map<string, RawTensor>> = {};
  const extraJson: Record<string, unknown> = {};
  for (const file of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, file);
    if (file.endsWith(".safetensors") && file !== MODEL_FILE) {
      extraRaw[file.slice(0, -".safetensors".length)] = decodeSafetensors(readBytes(full), full).tensors;
    } else if (file.endsWith(".json") && file !== CONFIG_FILE && file !== TOKENIZER_FILE) {
      extraJson[file.slice(0, -".json".length)] = readJson(full);
    }
  }
  const extraTensors: Record<string, Map<string, tf.Tensor>> = {};
  for (const [name, raw] of Object.entries(extraRaw)) extraTensors[name] = toTensors(raw);
  return { tensors: toTensors(model), config, tokenizer, extraTensors, extraJson };
}
