/**
 * The safetensors format (the one Hugging Face uses), so PyTorch or numpy can read the kit's
 * weights: an 8-byte little-endian unsigned header length N, N bytes of JSON header
 * `{"__metadata__": {..strings..}, "<name>": {"dtype": "F32", "shape": [2, 3],
 * "data_offsets": [begin, end]}, ...}` padded with spaces, then the raw little-endian data, the
 * offsets counting from the end of the header. This kit writes and reads F32 and I32.
 */
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { writeFileAtomic } from "../util/files";
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
export function toRaw(tensors: Map<string, tf.Tensor>, where: string): Map<string, RawTensor> {
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
export function toTensors(raw: Map<string, RawTensor>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, t] of raw) out.set(name, tf.tensor(t.data, t.shape, t.dtype));
  return out;
}

/** The whole file as bytes. */
export function readBytes(file: string): Uint8Array {
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
