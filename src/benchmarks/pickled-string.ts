/**
 * LiveCodeBench compresses the private tests of code_generation_lite as
 * base64(zlib(pickle(json_text))): a pickled Python string holding JSON. This reads exactly that
 * and nothing else: a pickle stream whose one object is a str. It never executes a pickle (the
 * opcodes that build other objects, call functions or import are refused), so a hostile file
 * cannot run code here.
 */
import * as zlib from "node:zlib";

/** The str inside a pickle stream made by `pickle.dumps(some_str)` (protocols 1-5). */
export function unpickleString(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let value: string | undefined;
  const need = (n: number): void => {
    if (at + n > buffer.length) throw new Error(`pickle ends early (byte ${at}, ${n} more needed)`);
  };
  const length = (size: 1 | 4 | 8): number => {
    need(size);
    const n = size === 1 ? buffer.readUInt8(at) : size === 4 ? buffer.readUInt32LE(at) : Number(buffer.readBigUInt64LE(at));
    at += size;
    return n;
  };
  const text = (n: number): string => {
    need(n);
    const s = buffer.toString("utf8", at, at + n);
    at += n;
    return s;
  };
  while (at < buffer.length) {
    const op = buffer[at++];
    switch (op) {
      case 0x80: // PROTO
        need(1);
        at += 1;
        break;
      case 0x95: // FRAME: the frame's length, then its opcodes inline
        need(8);
        at += 8;
        break;
      case 0x8c: // SHORT_BINUNICODE
      case 0x58: // BINUNICODE ("X")
      case 0x8d: // BINUNICODE8
        if (value !== undefined) throw new Error("pickle holds more than one string");
        value = text(length(op === 0x8c ? 1 : op === 0x58 ? 4 : 8));
        break;
      case 0x94: // MEMOIZE
        break;
      case 0x71: // BINPUT
        need(1);
        at += 1;
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        at += 4;
        break;
      case 0x2e: // STOP
        if (value === undefined) throw new Error("pickle holds no string");
        return value;
      default:
        throw new Error(`unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")} at byte ${at - 1}: expected a pickled str`);
    }
  }
  throw new Error("pickle has no STOP opcode");
}

/** Decodes LiveCodeBench's compressed test field: base64, then zlib, then a pickled str. */
export function decompressTests(field: string): string {
  const compressed = Buffer.from(field, "base64");
  let pickled: Buffer;
  try {
    pickled = zlib.inflateSync(compressed);
  } catch (e) {
    throw new Error(`not base64 of zlib data (${(e as Error).message})`);
  }
  return unpickleString(pickled);
}
