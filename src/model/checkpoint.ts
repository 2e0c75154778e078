/**
 * Checkpoints: one folder per checkpoint, readable by other tools.
 *
 *   <dir>/model.safetensors      the model's weights
 *   <dir>/config.json            the model config
 *   <dir>/tokenizer.json         the tokenizer (Tokenizer.toJSON())
 *   <dir>/<name>.safetensors     optional further tensors, e.g. optimizer.safetensors
 *   <dir>/<name>.json            optional further JSON, e.g. state.json
 *
 * Weights use the safetensors format (the one Hugging Face uses), so PyTorch or numpy can read
 * them: an 8-byte little-endian unsigned header length N, N bytes of JSON header
 * `{"__metadata__": {..strings..}, "<name>": {"dtype": "F32", "shape": [2, 3],
 * "data_offsets": [begin, end]}, ...}` padded with spaces, then the raw little-endian data, the
 * offsets counting from the end of the header. This kit writes and reads F32 and I32.
 *
 * A save never leaves a half-written checkpoint: everything is written into a hidden sibling
 * folder that is then renamed into place.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic, writeFileSynced } from "../util/files";

/** The tensor dtypes this kit stores, with their safetensors names. */
const DTYPES = { float32: "F32", int32: "I32" } as const;
export type StoredDtype = keyof typeof DTYPES;
const FROM_SAFETENSORS: Record<string, StoredDtype> = { F32: "float32", I32: "int32" };
const BYTES_PER_ELEMENT = 4;
/** The safetensors reference implementation refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A tensor as plain data: what a safetensors file holds. */
export interface RawTensor {
  dtype: StoredDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function isShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** Bytes of `data` in little-endian order. */
function littleEndianBytes(data: Float32Array | Int32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i], true);
    else view.setInt32(i * 4, data[i], true);
  }
  return out;
}

/** A typed array read from little-endian bytes (always a copy, so it is 4-byte aligned). */
function fromLittleEndian(bytes: Uint8Array, dtype: StoredDtype): Float32Array | Int32Array {
  const count = bytes.length / BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN_HOST) {
    // A copy into a fresh buffer (Buffer#slice would share the file's pooled memory).
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return dtype === "float32" ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = dtype === "float32" ? new Float32Array(count) : new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = dtype === "float32" ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
  return out;
}

/**
 * The bytes of a safetensors file holding `tensors` (in the given order) and string `metadata`.
 * The header is padded with spaces so the data starts at a multiple of 8 bytes.
 */
export function encodeSafetensors(tensors: Map<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") throw new Error(`safetensors metadata "${key}" must be a string (got ${typeof value})`);
    }
    header[METADATA_KEY] = metadata;
  }
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === "" || name === METADATA_KEY) throw new Error(`safetensors tensor name ${JSON.stringify(name)} is not allowed`);
    if (!(t.dtype in DTYPES)) throw new Error(`tensor "${name}" has dtype ${t.dtype}; only float32 and int32 are stored`);
    if (!isShape(t.shape)) throw new Error(`tensor "${name}" has a bad shape ${JSON.stringify(t.shape)}`);
    const count = elementCount(t.shape);
    if (t.data.length !== count) {
      throw new Error(`tensor "${name}" has shape [${t.shape}] (${count} elements) but ${t.data.length} values`);
    }
    const bytes = count * BYTES_PER_ELEMENT;
    header[name] = { dtype: DTYPES[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerText = JSON.stringify(header);
  headerText += " ".repeat((8 - ((8 + Buffer.byteLength(headerText)) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, "utf8");
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(littleEndianBytes(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

/**
 * Parse the bytes of a safetensors file. Tensors come back in the order of their data.
 * @param where names the file in error messages.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  where: string,
): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) {
    throw new Error(`${where}: file is truncated: ${bytes.length} bytes, fewer than the 8-byte header length`);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(`${where}: bad header: header length ${headerLength} is above the 100 MB limit (not a safetensors file?)`);
  }
  const headerEnd = 8 + Number(headerLength);
  if (headerEnd > bytes.length) {
    throw new Error(`${where}: file is truncated: the header needs ${headerLength} bytes but only ${bytes.length - 8} follow`);
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, Number(headerLength)).toString("utf8"));
  } catch (e) {
    throw new Error(`${where}: bad header: not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new Error(`${where}: bad header: must be a JSON object`);
  }

  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: StoredDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    const bad = (what: string) => new Error(`${where}: bad header: tensor "${name}" ${what}`);
    if (name === METADATA_KEY) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new Error(`${where}: bad header: ${METADATA_KEY} must be an object of strings`);
      }
      for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
        if (typeof text !== "string") throw new Error(`${where}: bad header: ${METADATA_KEY}.${key} must be a string`);
        metadata[key] = text;
      }
      continue;
    }
    if (typeof value !== "object" || value === null) throw bad("must be an object with dtype, shape and data_offsets");
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (typeof dtype !== "string") throw bad(`has no dtype string`);
    const stored = FROM_SAFETENSORS[dtype];
    if (!stored) throw bad(`has dtype ${dtype}; this kit reads F32 and I32`);
    if (!isShape(shape)) throw bad(`has a bad shape ${JSON.stringify(shape)} (expected an array of integers >= 0)`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw bad(`has bad data_offsets ${JSON.stringify(offsets)} (expected [begin, end])`);
    }
    const [begin, end] = offsets as number[];
    const size = elementCount(shape) * BYTES_PER_ELEMENT;
    if (end - begin !== size) {
      throw bad(`has shape [${shape}] ${dtype} (${size} bytes) but data_offsets [${begin}, ${end}] span ${end - begin} bytes`);
    }
    entries.push({ name, dtype: stored, shape, begin, end });
  }

  // The data must be covered exactly: no gaps, no overlaps, nothing after the last tensor.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataLength = bytes.length - headerEnd;
  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor) {
      const what = e.begin > cursor ? `leaves bytes ${cursor}..${e.begin} unused` : `overlaps the tensor before it`;
      throw new Error(`${where}: bad header: tensor "${e.name}" at data_offsets [${e.begin}, ${e.end}] ${what}`);
    }
    if (e.end > dataLength) {
      throw new Error(
        `${where}: file is truncated: tensor "${e.name}" needs data bytes up to ${e.end} but the file has only ${dataLength}`,
      );
    }
    cursor = e.end;
  }
  if (cursor !== dataLength) {
    throw new Error(`${where}: bad file: ${dataLength - cursor} bytes after the last tensor's data`);
  }

  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    const data = fromLittleEndian(bytes.subarray(headerEnd + e.begin, headerEnd + e.end), e.dtype);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** Plain data of tf tensors (reads them synchronously). */
function toRaw(tensors: Map<string, tf.Tensor>, where: string): Map<string, RawTensor> {
  const raw = new Map<string, RawTensor>();
  for (const [name, t] of tensors) {
    if (t.dtype !== "float32" && t.dtype !== "int32") {
      throw new Error(`${where}: tensor "${name}" has dtype ${t.dtype}; checkpoints store float32 (F32) and int32 (I32)`);
    }
    raw.set(name, { dtype: t.dtype, shape: t.shape.slice(), data: t.dataSync() as Float32Array | Int32Array });
  }
  return raw;
}

/** tf tensors of plain data. The caller owns (and disposes) them. */
function toTensors(raw: Map<string, RawTensor>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, t] of raw) out.set(name, tf.tensor(t.data, t.shape, t.dtype));
  return out;
}

function readBytes(file: string): Uint8Array {
  if (!fs.existsSync(file)) throw new Error(`${file}: file not found`);
  return fs.readFileSync(file);
}

/** Write tf tensors (float32 or int32) to a safetensors file, atomically. */
export function writeSafetensors(file: string, tensors: Map<string, tf.Tensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, encodeSafetensors(toRaw(tensors, file), metadata));
}

/** Read a safetensors file into new tf tensors (the caller disposes them). */
export function readSafetensors(file: string): { tensors: Map<string, tf.Tensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = decodeSafetensors(readBytes(file), file);
  return { tensors: toTensors(tensors), metadata };
}

// ---------------------------------------------------------------------------------------------
// Checkpoint folders

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
